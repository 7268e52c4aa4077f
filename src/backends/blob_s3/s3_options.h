#pragma once
// The s3:// URL, parsed into the options of the S3 blob store.
//
//   s3://[ACCESS_KEY_ID:SECRET@]bucket[?endpoint=URL][&region=R][&path_style=true|false]
//        [&part_size=BYTES]
//
// - endpoint: scheme, host and port of an S3-compatible service ("http://127.0.0.1:9000");
//   default https://s3.<region>.amazonaws.com.
// - region: default us-east-1. It is part of every signature, so it must match the bucket's.
// - path_style: address the bucket as endpoint/bucket/key (default when an endpoint is given:
//   MinIO, s3rver, Ceph) or as bucket.endpoint/key (default for AWS).
// - part_size: bytes buffered per multipart part and the size from which uploads switch to
//   multipart (default 8 MiB, 5 MiB..5 GiB; K/M/G suffixes are binary).
// - list_page_size: keys asked for per ListObjectsV2 request (default and maximum 1000; some
//   S3-compatible services want fewer, and tests use it to exercise continuation tokens).
// - credentials: the URL's userinfo (percent-encode '/' in the secret as %2F), else the
//   environment's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "backends/blob_s3/http_client.h"
#include "backends/blob_s3/sigv4.h"
#include "base/result.h"

namespace veza::s3 {

inline constexpr std::size_t kDefaultPartSize = 8u << 20;
inline constexpr std::size_t kMinPartSize = 5u << 20;              // an S3 rule
inline constexpr std::size_t kMaxPartSize = std::size_t{5} << 30;  // an S3 rule

struct S3Options {
  std::string bucket;
  std::string region = "us-east-1";
  Endpoint endpoint;  // the service, without the bucket
  bool path_style = true;
  std::size_t part_size = kDefaultPartSize;
  std::size_t list_page_size = 1000;
  sigv4::Credentials credentials;
};

// Reads an environment variable; nullopt when unset. Injected so tests need not touch the
// process environment.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup ProcessEnv();

// kInvalidArgument with a message that never contains the secret.
Result<S3Options> ParseS3Url(std::string_view url, const EnvLookup& env);
Result<Endpoint> ParseEndpoint(std::string_view url);

}  // namespace veza::s3
