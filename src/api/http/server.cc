#include "api/http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <random>
#include <unordered_map>

#include "base/log.h"

namespace veza::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  std::uint64_t v = rng();
  for (char& c : id) {
    c = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

struct Connection {
  std::atomic<bool> idle{true};
  std::function<void()> close;  // posts a close to the connection's strand
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  asio::io_context& ioc;
  HttpServerOptions options;
  const Router& router;
  Metrics& metrics;
  const StaticFiles* static_files;
  Cors cors;

  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::atomic<bool> stopping{false};

  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls_ctx;

  std::mutex conns_mu;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns;

  Impl(asio::io_context& io, HttpServerOptions opts, const Router& r, Metrics& m, const StaticFiles* s)
      : ioc(io), options(std::move(opts)), router(r), metrics(m), static_files(s), cors(options.cors) {}

  Result<std::shared_ptr<asio::ssl::context>> LoadTls() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    beast::error_code ec;
    ctx->use_certificate_chain_file(options.tls->cert_file, ec);
    if (ec) return Error{ErrorCode::kInvalidArgument, "TLS certificate " + options.tls->cert_file + ": " + ec.message()};
    ctx->use_private_key_file(options.tls->key_file, asio::ssl::context::pem, ec);
    if (ec) return Error{ErrorCode::kInvalidArgument, "TLS key " + options.tls->key_file + ": " + ec.message()};
    return ctx;
  }

  Result<std::vector<tcp::endpoint>> Listen() {
    if (options.tls) {
      VEZA_ASSIGN_OR_RETURN(auto ctx, LoadTls());
      std::lock_guard lock(tls_mu);
      tls_ctx = std::move(ctx);
    }
    std::vector<tcp::endpoint> bound;
    for (const std::string& addr : options.listen) {
      auto colon = addr.rfind(':');
      if (colon == std::string::npos) return InvalidArgument("listen address must be host:port: " + addr);
      std::string host = addr.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      if (host.empty()) host = "0.0.0.0";
      beast::error_code ec;
      auto ip = asio::ip::make_address(host, ec);
      if (ec) return InvalidArgument("listen address needs a numeric IP: " + addr);
      unsigned long port = std::strtoul(addr.c_str() + colon + 1, nullptr, 10);
      if (port > 65535) return InvalidArgument("bad port in " + addr);
      auto acceptor = std::make_unique<tcp::acceptor>(ioc);
      tcp::endpoint ep{ip, static_cast<unsigned short>(port)};
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return Unavailable("cannot listen on " + addr + ": " + ec.message());
      bound.push_back(acceptor->local_endpoint());
      acceptors.push_back(std::move(acceptor));
    }
    return bound;
  }

  void Start() {
    for (auto& acceptor : acceptors) {
      asio::co_spawn(ioc, Accept(shared_from_this(), acceptor.get()), asio::detached);
    }
  }

  static asio::awaitable<void> Accept(std::shared_ptr<Impl> self, tcp::acceptor* acceptor) {
    for (;;) {
      // One IO thread needs no strand per connection; several do.
      asio::any_io_executor executor = self->options.io_threads == 1
                                           ? asio::any_io_executor(self->ioc.get_executor())
                                           : asio::any_io_executor(asio::make_strand(self->ioc));
      auto [ec, socket] = co_await acceptor->async_accept(executor, kTuple);
      if (ec) {
        if (self->stopping || ec == asio::error::operation_aborted) co_return;
        // EMFILE and friends: back off briefly instead of spinning.
        log::Warn("accept failed", {{"error", ec.message()}});
        asio::steady_timer t(self->ioc, 50ms);
        co_await t.async_wait(kTuple);
        continue;
      }
      if (self->metrics.OpenConnections() >= static_cast<std::int64_t>(self->options.max_connections)) {
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto socket_executor = socket.get_executor();
      asio::co_spawn(socket_executor, self->Session(self, std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Session(std::shared_ptr<Impl> self, tcp::socket socket) {
    metrics.ConnectionOpened();
    std::string remote;
    {
      beast::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    std::shared_ptr<asio::ssl::context> ctx;
    if (options.tls) {
      std::lock_guard lock(tls_mu);
      ctx = tls_ctx;
    }
    try {
      if (ctx) {
        auto stream = std::make_shared<beast::ssl_stream<beast::tcp_stream>>(std::move(socket), *ctx);
        auto conn = Register(stream);
        beast::get_lowest_layer(*stream).expires_after(options.header_timeout);
        auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::server, kTuple);
        if (!ec) {
          co_await Serve(*stream, *conn, remote);
          beast::get_lowest_layer(*stream).expires_after(2s);
          co_await stream->async_shutdown(kTuple);
        }
        Unregister(conn.get());
      } else {
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        beast::error_code ignored;
        stream->socket().non_blocking(true, ignored);  // lets Write try a direct send first
        auto conn = Register(stream);
        co_await Serve(*stream, *conn, remote);
        beast::error_code ec;
        stream->socket().shutdown(tcp::socket::shutdown_send, ec);
        Unregister(conn.get());
      }
    } catch (const std::exception& e) {
      log::Error("connection failed", {{"error", e.what()}, {"remote", remote}});
    }
    metrics.ConnectionClosed();
  }

  template <class Stream>
  std::shared_ptr<Connection> Register(const std::shared_ptr<Stream>& stream) {
    auto conn = std::make_shared<Connection>();
    std::weak_ptr<Stream> weak = stream;
    auto executor = stream->get_executor();
    conn->close = [weak, executor] {
      asio::post(executor, [weak] {
        if (auto s = weak.lock()) {
          beast::error_code ec;
          beast::get_lowest_layer(*s).socket().close(ec);
        }
      });
    };
    std::lock_guard lock(conns_mu);
    conns.emplace(conn.get(), conn);
    return conn;
  }

  void Unregister(Connection* conn) {
    std::lock_guard lock(conns_mu);
    conns.erase(conn);
  }

  // String responses (every API answer) are serialized by hand into one buffer and sent with one
  // call, tried at once without waiting on plain TCP: Beast's general serializer and a posted
  // write cost about half of a small request's CPU (docs/benchmarks.md).
  template <class Stream>
  asio::awaitable<beast::error_code> Write(Stream& stream, StringResponse& msg, bool head_only) {
    std::string out;
    out.reserve(192 + msg.body().size());
    out += msg.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(msg.result_int());
    out += ' ';
    out += msg.reason();
    out += "\r\n";
    for (const auto& field : msg.base()) {
      out += field.name_string();
      out += ": ";
      out += field.value();
      out += "\r\n";
    }
    out += "\r\n";
    if (!head_only) out += msg.body();
    std::size_t sent = 0;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ec;
      sent = stream.socket().write_some(asio::buffer(out), ec);  // the socket is non-blocking
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        sent = 0;
      } else if (ec) {
        co_return ec;
      }
      if (sent == out.size()) co_return beast::error_code{};
    }
    beast::get_lowest_layer(stream).expires_after(options.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out.data() + sent, out.size() - sent), kTuple);
    co_return ec;
  }

  template <class Stream, class Message>
  asio::awaitable<beast::error_code> Write(Stream& stream, Message& msg, bool head_only) {
    beast::get_lowest_layer(stream).expires_after(options.write_timeout);
    if (head_only) {
      bhttp::serializer<false, typename Message::body_type> sr{msg};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
      co_return ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, msg, kTuple);
    co_return ec;
  }

  template <class Stream>
  asio::awaitable<void> WriteEarlyError(Stream& stream, const Error& error, unsigned version,
                                        std::string_view target, std::string_view remote,
                                        std::chrono::steady_clock::time_point started) {
    std::string id = NewRequestId();
    StringResponse res = Problem(error, version ? version : 11, false, "", id);
    res.set("X-Request-Id", id);
    co_await Write(stream, res, false);
    Finish("-", "-", target, res.result_int(), res.body().size(), id, remote, started);
  }

  void Finish(std::string_view route, std::string_view method, std::string_view path, unsigned status,
              std::uint64_t bytes, std::string_view request_id, std::string_view remote,
              std::chrono::steady_clock::time_point started) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.ObserveRequest(route, method, status, seconds);
    if (options.access_log) {
      log::Info("request", {{"request_id", request_id},
                            {"remote", remote},
                            {"method", method},
                            {"path", path},
                            {"route", route},
                            {"status", status},
                            {"bytes", bytes},
                            {"duration_ms", seconds * 1000.0}});
    }
  }

  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, Connection& conn, const std::string& remote) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      conn.idle = true;
      if (stopping) co_return;
      if (buffer.size() == 0) {
        // Waiting for the next request is bounded by the idle timeout; once its first byte is
        // here, the whole header must arrive within the header timeout.
        tcp_layer.expires_after(first ? options.header_timeout : options.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (ec) co_return;
        buffer.commit(n);
      }
      conn.idle = false;
      first = false;
      auto started = std::chrono::steady_clock::now();

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      tcp_layer.expires_after(options.header_timeout);
      auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (hec) {
        if (hec == bhttp::error::body_limit) {  // Content-Length over the limit, seen in the header
          co_await WriteEarlyError(stream,
                                   Error{ErrorCode::kPayloadTooLarge,
                                         "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes"},
                                   11, "", remote, started);
        } else if (hec == bhttp::error::header_limit) {
          co_await WriteEarlyError(stream, Error{ErrorCode::kPayloadTooLarge, "request header too large"},
                                   11, "", remote, started);
        } else if (IsParseError(hec)) {
          co_await WriteEarlyError(stream, InvalidArgument("malformed HTTP request: " + hec.message()),
                                   11, "", remote, started);
        }
        co_return;  // timeouts and resets just close
      }
      auto& header = parser.get();
      std::string target(header.target().substr(0, header.target().find('?')));
      if (auto len = parser.content_length(); len && *len > options.max_body_bytes) {
        co_await WriteEarlyError(stream,
                                 Error{ErrorCode::kPayloadTooLarge,
                                       "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes"},
                                 header.version(), target, remote, started);
        co_return;  // the unread body makes the connection unusable
      }
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
        auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
        if (cec) co_return;
      }
      if (!parser.is_done()) {
        tcp_layer.expires_after(options.body_timeout);
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec == bhttp::error::body_limit) {
          co_await WriteEarlyError(stream,
                                   Error{ErrorCode::kPayloadTooLarge,
                                         "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes"},
                                   header.version(), target, remote, started);
          co_return;
        }
        if (bec) {
          if (IsParseError(bec)) {
            co_await WriteEarlyError(stream, InvalidArgument("malformed HTTP body: " + bec.message()),
                                     header.version(), target, remote, started);
          }
          co_return;
        }
      }

      Request req = parser.release();
      metrics.RequestStarted();
      std::string request_id(req["X-Request-Id"]);
      if (!ValidRequestId(request_id)) request_id = NewRequestId();
      std::string_view route;
      Response res = co_await Handle(req, request_id, remote, route);
      bool keep_alive = req.keep_alive() && !stopping;
      ForHeaders(res, [&](auto& h) {
        h.set("X-Request-Id", request_id);
        h.set("X-Content-Type-Options", "nosniff");
        cors.Decorate(req, h);
        h.keep_alive(keep_alive);
      });
      unsigned status = StatusOf(res);
      std::uint64_t bytes = req.method() == bhttp::verb::head ? 0 : BodySizeOf(res);
      beast::error_code wec = co_await std::visit(
          [&](auto& msg) { return Write(stream, msg, req.method() == bhttp::verb::head); }, res);
      metrics.RequestFinished();
      Finish(route, bhttp::to_string(req.method()), target, status, bytes, request_id, remote, started);
      if (wec || !keep_alive) co_return;
    }
  }

  asio::awaitable<Response> Handle(Request& req, const std::string& request_id,
                                   const std::string& remote, std::string_view& route) {
    std::string_view target = req.target();
    auto q = target.find('?');
    RequestContext ctx{req,
                       target.substr(0, q),
                       q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                       request_id,
                       remote,
                       {},
                       {}};
    if (ctx.path.empty() || ctx.path.front() != '/') {
      route = "-";
      co_return Problem(InvalidArgument("request target must be an absolute path"), ctx);
    }
    if (cors.IsPreflight(req)) {
      route = "preflight";
      co_return cors.Preflight(req);
    }
    Router::Match match = router.Find(req.method(), ctx.path);
    if (match.handler) {
      route = match.pattern;
      ctx.route = match.pattern;
      ctx.params = std::move(match.params);
      try {
        co_return co_await (*match.handler)(ctx);
      } catch (const std::exception& e) {
        log::Error("handler threw", {{"route", route}, {"request_id", request_id}, {"error", e.what()}});
        co_return Problem(Internal("internal error"), ctx);
      }
    }
    if (!match.allow.empty()) {
      route = match.pattern;
      StringResponse res = Problem(Error{ErrorCode::kMethodNotAllowed,
                                         std::string(bhttp::to_string(req.method())) + " is not allowed here"},
                                   ctx);
      res.set(bhttp::field::allow, match.allow);
      co_return res;
    }
    bool is_read = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    if (is_read && static_files && ctx.path.rfind("/api/", 0) != 0) {
      if (auto res = static_files->Serve(ctx)) {
        route = "static";
        co_return std::move(*res);
      }
    }
    route = "unmatched";
    co_return Problem(NotFound("no route for " + std::string(ctx.path)), ctx);
  }

  void Stop(std::chrono::milliseconds grace, std::function<void()> on_stopped) {
    stopping = true;
    // Drain is spawned first: its pending work keeps io_context::run() from returning between
    // the acceptors closing and the drain starting.
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::co_spawn(ioc, Drain(shared_from_this(), deadline, std::move(on_stopped)), asio::detached);
    for (auto& acceptor : acceptors) {
      asio::post(acceptor->get_executor(), [a = acceptor.get()] {
        beast::error_code ec;
        a->close(ec);
      });
    }
    CloseConnections(/*only_idle=*/true);
  }

  void CloseConnections(bool only_idle) {
    std::lock_guard lock(conns_mu);
    for (auto& [ptr, conn] : conns) {
      if (!only_idle || conn->idle) conn->close();
    }
  }

  static asio::awaitable<void> Drain(std::shared_ptr<Impl> self,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::function<void()> on_stopped) {
    asio::steady_timer timer(self->ioc);
    bool forced = false;
    for (;;) {
      {
        std::lock_guard lock(self->conns_mu);
        if (self->conns.empty()) break;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline && !forced) {
        log::Warn("shutdown grace period over; closing busy connections");
        self->CloseConnections(false);
        forced = true;
        deadline = now + 2s;
      } else if (now >= deadline) {
        break;  // connections stuck even after close: give up waiting
      }
      // Idle connections that went idle after Stop() are closed on the next pass.
      self->CloseConnections(true);
      timer.expires_after(20ms);
      co_await timer.async_wait(kTuple);
    }
    on_stopped();
  }
};

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions options, const Router& router,
                       Metrics& metrics, const StaticFiles* static_files)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), router, metrics, static_files)) {}

HttpServer::~HttpServer() = default;

Result<std::vector<tcp::endpoint>> HttpServer::Listen() { return impl_->Listen(); }
void HttpServer::Start() { impl_->Start(); }
void HttpServer::Stop(std::chrono::milliseconds grace, std::function<void()> on_stopped) {
  impl_->Stop(grace, std::move(on_stopped));
}

Status HttpServer::ReloadTls() {
  if (!impl_->options.tls) return InvalidArgument("TLS is not configured");
  VEZA_ASSIGN_OR_RETURN(auto ctx, impl_->LoadTls());
  std::lock_guard lock(impl_->tls_mu);
  impl_->tls_ctx = std::move(ctx);
  return Ok();
}

}  // namespace veza::http
