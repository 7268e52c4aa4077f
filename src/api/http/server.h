#pragma once
// The HTTP/1.1 server: Beast with C++20 coroutines, one strand per connection on a shared
// io_context run by a few IO threads. Owns the connection lifecycle: limits, timeouts
// (slowloris-safe: the header deadline covers the whole header), keep-alive, request ids,
// access logs, metrics, CORS, optional TLS with reload, graceful stop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http/cors.h"
#include "api/http/metrics.h"
#include "api/http/router.h"
#include "api/http/static_files.h"
#include "api/http/trusted_proxies.h"
#include "base/result.h"

namespace veza::http {

struct TlsOptions {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

struct HttpServerOptions {
  std::vector<std::string> listen = {"127.0.0.1:8080"};  // "host:port"; port 0 picks one
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers
  std::chrono::milliseconds body_timeout{60'000};    // whole body
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{60'000};   // whole response
  std::size_t max_connections = 10'000;
  // Threads running the io_context. Exactly 1 lets connections skip their strand; anything else
  // (0: unknown) gives each connection one.
  int io_threads = 0;
  bool access_log = true;
  CorsOptions cors;
  std::optional<TlsOptions> tls;
  // Peers whose X-Forwarded-For names the client (docs/configuration.md, --trusted-proxies).
  TrustedProxies trusted_proxies;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, HttpServerOptions options, const Router& router,
             Metrics& metrics, const StaticFiles* static_files);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every listen address (and loads TLS files); fails with a clear message.
  Result<std::vector<boost::asio::ip::tcp::endpoint>> Listen();
  // Starts accepting on the io_context.
  void Start();
  // Stops accepting and closes idle connections at once; requests in flight may finish within
  // grace, then everything is closed. on_stopped runs when no connection is left.
  void Stop(std::chrono::milliseconds grace, std::function<void()> on_stopped);
  // Re-reads the certificate and key; new connections use them, a failure keeps the old ones.
  Status ReloadTls();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace veza::http
