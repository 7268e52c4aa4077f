#pragma once
// A small blocking HTTP/1.1 client for S3, on Boost.Beast: http:// and https:// (OpenSSL,
// peer verified against the system CAs, SNI), keep-alive connections reused through a pool,
// a connect timeout and a per-operation IO timeout. Blocking because the BlobStore port runs on
// worker threads; each connection owns a private io_context and runs Beast's asynchronous
// operations to completion on the calling thread, which is how the timeouts are enforced
// (Beast's synchronous calls have none).
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace boost::asio::ssl {
class context;
}

namespace veza::s3 {

namespace http = boost::beast::http;

struct Endpoint {
  bool tls = false;
  std::string host;  // name or address, IPv6 without brackets
  std::string port;  // always set: "80", "443" or explicit

  // host[:port] as the Host header wants it (port omitted when it is the scheme's default).
  std::string HostHeader() const;
  // "https://host:port" for messages.
  std::string ToString() const;
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds io{30000};
};

class HttpClient;
class HttpConnection;

// A response whose header has been read. The body is streamed; a response read to its end
// gives its connection back to the pool, one dropped early closes it.
class HttpResponse {
 public:
  ~HttpResponse();
  HttpResponse(const HttpResponse&) = delete;
  HttpResponse& operator=(const HttpResponse&) = delete;

  unsigned status() const;
  // Empty when absent.
  std::string_view Header(std::string_view name) const;
  std::optional<std::uint64_t> ContentLength() const;
  bool Done() const;
  // Up to max body bytes (at least one unless the body is complete); "" at the end.
  Result<std::string> ReadSome(std::size_t max);
  // The rest of the body; kInternal beyond limit bytes.
  Result<std::string> ReadAll(std::size_t limit);

 private:
  friend class HttpClient;
  struct Impl;
  explicit HttpResponse(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class HttpClient {
 public:
  HttpClient(Endpoint endpoint, HttpTimeouts timeouts, std::size_t max_idle = 16);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request (body complete in memory, Content-Length set by the caller's
  // prepare_payload()) and reads the response header. When a pooled keep-alive connection turns
  // out to have been closed by the server (idle timeout), the request is sent again on a new
  // connection; S3 requests are idempotent, so that is safe. Transport failures: kUnavailable.
  Result<std::unique_ptr<HttpResponse>> Send(http::request<http::string_body>& request,
                                             bool head_request);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  friend class HttpResponse;
  Result<std::unique_ptr<HttpConnection>> Connect();
  std::unique_ptr<HttpConnection> TakeIdle();
  void ReturnIdle(std::unique_ptr<HttpConnection> connection);
  void DropIdle();

  Endpoint endpoint_;
  HttpTimeouts timeouts_;
  std::size_t max_idle_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpConnection>> idle_;  // guarded by mu_
};

}  // namespace veza::s3
