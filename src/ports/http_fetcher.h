#pragma once
// HttpFetcher port: one outbound HTTP(S) request with a bounded answer, for talking to other
// services (OAuth/OpenID Connect providers today). libcurl in production
// (src/backends/http_curl). Calls block: run them on the worker pool.
//
// Rules every backend keeps:
// - Only http:// and https:// URLs; redirects are not followed (a provider that redirects a
//   token request is misconfigured, and following would send credentials elsewhere).
// - HTTPS verifies the peer certificate and host name against the system trust store.
// - An answer larger than max_response_bytes fails with kPayloadTooLarge before it is all read;
//   connect and total timeouts end with kUnavailable. Any HTTP status is a successful fetch:
//   the caller judges it.
// - Errors and logs never hold request headers or bodies (they carry client secrets and codes).
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace veza {

struct FetchRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t max_response_bytes = 1 << 20;
  std::chrono::milliseconds timeout{10'000};
};

struct FetchResponse {
  int status = 0;
  std::string content_type;  // as sent, parameters included
  std::string body;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  virtual Result<FetchResponse> Fetch(const FetchRequest& request) = 0;
};

}  // namespace veza
