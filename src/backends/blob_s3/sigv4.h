#pragma once
// AWS Signature Version 4: the canonical request, the string to sign, the signing key and the
// two ways to carry the result (an Authorization header, or presigned query parameters).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// Paths are signed the S3 way: the decoded path is URI-encoded once and never normalized
// ("//" and "." segments are kept). That is also what every non-normalizing vector of AWS's
// generic test suite expects, so sigv4_test.cc checks both.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace veza::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Presigned URLs may live at most this long (an AWS limit).
inline constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};

std::string HexEncode(std::string_view bytes);
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
// RFC 3986 percent-encoding as AWS defines it: A-Z a-z 0-9 - . _ ~ stay, every other byte
// becomes %XX (uppercase); '/' stays too unless encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash);

// "20150830T123600Z" (ISO 8601 basic, UTC).
std::string FormatAmzDate(std::chrono::system_clock::time_point t);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary (STS) credentials
};

// Name/value pairs, decoded (not percent-encoded). Order does not matter for signing, except
// that repeated header names keep their order when joined.
using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;        // "GET"
  std::string path = "/";    // decoded, starting with '/'
  Pairs query;               // decoded query parameters
  Pairs headers;             // every header to sign; must include host
  std::string payload_hash;  // hex SHA-256 of the body, or kUnsignedPayload
};

struct CanonicalRequest {
  std::string text;
  std::string signed_headers;  // "host;x-amz-date"
};

// The query string in canonical form (keys and values encoded, sorted): also what a client
// sends on the wire, so the bytes sent are the bytes signed.
std::string CanonicalQueryString(const Pairs& query);
CanonicalRequest BuildCanonicalRequest(const Request& request);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

class Signer {
 public:
  Signer(Credentials credentials, std::string region, std::string service);

  // "20150830/us-east-1/service/aws4_request" for amz_date "20150830T123600Z".
  std::string Scope(std::string_view amz_date) const;
  // Hex signature of a canonical request made at amz_date.
  std::string Sign(std::string_view amz_date, std::string_view canonical_request) const;
  // The Authorization header value. The request's headers must already hold x-amz-date (with
  // this amz_date) and, for temporary credentials, x-amz-security-token.
  std::string Authorization(const Request& request, std::string_view amz_date) const;
  // Query authentication: the complete query string (the request's own parameters plus the
  // X-Amz-* ones, encoded, canonical order, X-Amz-Signature last) to put after '?'. Only the
  // host header is signed and the payload is UNSIGNED-PAYLOAD, as S3 expects for presigned GETs.
  std::string PresignQuery(std::string_view method, std::string_view path, const Pairs& query,
                           std::string_view host, std::string_view amz_date,
                           std::chrono::seconds expires) const;

  const Credentials& credentials() const { return credentials_; }
  const std::string& region() const { return region_; }

 private:
  std::string SigningKey(std::string_view date) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
};

}  // namespace veza::sigv4
