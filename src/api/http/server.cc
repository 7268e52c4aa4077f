#include "api/http/server.h"

#include <sys/sendfile.h>

#include <csignal>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/container/static_vector.hpp>
#include <boost/intrusive/list.hpp>
#include <mutex>
#include <random>

#include "api/http/websocket_frame.h"
#include "base/log.h"

namespace veza::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// HSTS only over TLS (RFC 6797 §7.2: ignored, and misleading, over plain HTTP); a year, as the
// preload list asks. The header line as sent, "Strict-Transport-Security: " included.
constexpr std::string_view kHsts = "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n";

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

// Every X-Forwarded-For field of the request, joined by commas in the order received.
std::string ForwardedFor(const Request& req) {
  std::string joined;
  auto [first, last] = req.equal_range("X-Forwarded-For");
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) joined += ',';
    joined += it->value();
  }
  return joined;
}

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// Timeouts are deadlines checked by one watchdog per server instead of a timer per socket
// operation: re-arming a timer (cancel + post + re-queue) on every read and write cost more
// than parsing a small request (docs/benchmarks.md).
struct Connection : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>> {
  virtual ~Connection() = default;
  std::atomic<bool> idle{true};
  std::atomic<std::int64_t> deadline{0};  // steady_clock ticks; 0: none

  // Both post to the connection's executor; safe from any thread while it is registered.
  virtual void Close() = 0;   // closes the socket (stop)
  virtual void Cancel() = 0;  // cancels pending operations if the deadline is still past (timeout)

  void ExpiresAfter(std::chrono::milliseconds timeout) {
    deadline.store((std::chrono::steady_clock::now() + timeout).time_since_epoch().count(),
                   std::memory_order_relaxed);
  }
  void ExpiresAt(std::chrono::steady_clock::time_point at) {
    deadline.store(at.time_since_epoch().count(), std::memory_order_relaxed);
  }
  void NoDeadline() { deadline.store(0, std::memory_order_relaxed); }
  bool Expired() const {
    auto d = deadline.load(std::memory_order_relaxed);
    return d != 0 && d <= std::chrono::steady_clock::now().time_since_epoch().count();
  }
};

// A connection and its stream in one allocation.
template <class Stream>
struct StreamConnection final : Connection, std::enable_shared_from_this<StreamConnection<Stream>> {
  template <class... Args>
  explicit StreamConnection(Args&&... args) : stream(std::forward<Args>(args)...) {}
  Stream stream;

  void Close() override {
    asio::post(stream.get_executor(), [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) {
        beast::error_code ec;
        beast::get_lowest_layer(self->stream).close(ec);
      }
    });
  }
  void Cancel() override {
    asio::post(stream.get_executor(), [weak = this->weak_from_this()] {
      auto self = weak.lock();
      if (!self || !self->Expired()) return;  // moved on since the watchdog looked
      beast::error_code ec;
      beast::get_lowest_layer(self->stream).cancel(ec);
    });
  }
};

template <class Stream>
asio::awaitable<beast::error_code> ReadMore(Stream& stream, beast::flat_buffer& buffer) {
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
  buffer.commit(n);
  co_return ec;
}

// A streaming route's body, parsed straight into the handler's buffer (Beast's buffer_body).
template <class Stream>
class StreamingBody final : public BodyReader {
 public:
  StreamingBody(Stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& parser,
                Connection& conn, std::chrono::milliseconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), conn_(conn), timeout_(timeout) {}

  std::optional<std::uint64_t> ContentLength() const override {
    auto len = parser_.content_length();
    return len ? std::optional<std::uint64_t>(*len) : std::nullopt;
  }
  std::uint64_t BytesRead() const override { return read_; }
  bool Done() const { return parser_.is_done(); }

  asio::awaitable<Result<std::size_t>> ReadSome(std::span<char> out) override {
    if (out.empty()) co_return InvalidArgument("ReadSome needs a non-empty buffer");
    for (;;) {
      if (parser_.is_done()) co_return std::size_t{0};
      std::size_t used = 0;
      if (buffer_.size() > 0) {
        auto& body = parser_.get().body();
        body.data = out.data();
        body.size = out.size();
        body.more = true;
        beast::error_code ec;
        used = parser_.put(buffer_.data(), ec);
        buffer_.consume(used);
        std::size_t got = out.size() - body.size;
        if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more) ec = {};
        if (ec == bhttp::error::body_limit) co_return Error{ErrorCode::kPayloadTooLarge, "request body too large"};
        if (ec) co_return InvalidArgument("malformed HTTP body: " + ec.message());
        if (got > 0) {
          read_ += got;
          co_return got;
        }
        if (parser_.is_done()) co_return std::size_t{0};
      }
      if (used > 0) continue;  // consumed framing (a chunk header) only
      conn_.ExpiresAfter(timeout_);
      beast::error_code ec = co_await ReadMore(stream_, buffer_);
      conn_.NoDeadline();
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
        co_return Timeout("the client sent no body bytes for " + std::to_string(timeout_.count()) + " ms");
      }
      if (ec) co_return Unavailable("the client closed the connection during the body");
    }
  }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  Connection& conn_;
  std::chrono::milliseconds timeout_;
  std::uint64_t read_ = 0;
};

// A WebSocket over the connection's own stream (by reference). Beast answers the handshake;
// the framing is ours (websocket_frame.h) so that frames encoded once can be shared by many
// sockets, several queued frames go out in one gathered write, and a write is tried at once
// without waiting. The idle timeout is the connection's deadline, pushed forward by every frame
// read, pongs included. An idle socket holds no read buffer: on plain TCP it waits for
// readability with a zero-byte wait and only then reads.
template <class Stream>
class WebSocketImpl final : public WebSocket, public std::enable_shared_from_this<WebSocketImpl<Stream>> {
 public:
  static constexpr bool kPlainTcp = std::is_same_v<Stream, tcp::socket>;

  WebSocketImpl(Stream& stream, Connection& conn, const RouteOptions& route)
      : stream_(stream), conn_(conn), idle_(route.idle_timeout), parser_(route.max_message_bytes),
        flushed_(stream.get_executor(), asio::steady_timer::time_point::max()) {}

  // What keeps the connection open, registered and counted (Impl::Session hands it over):
  // released with the WebSocket.
  void Adopt(std::shared_ptr<void> lease) { lease_ = std::move(lease); }

  asio::any_io_executor Executor() const override { return stream_.get_executor(); }

  // Sends the 101 (the request was checked by Serve). bytes_after_request: what the client sent
  // after the upgrade request (its first frames).
  asio::awaitable<beast::error_code> AcceptUpgrade(std::string_view accept, std::string_view bytes_after_request) {
    conn_.ExpiresAfter(idle_);
    std::string response = ws::HandshakeResponse(accept);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(response), kTuple);
    (void)n;
    in_.assign(bytes_after_request);
    unparsed_ = !in_.empty();
    co_return ec;
  }

  asio::awaitable<Result<std::string>> Read() override {
    reading_ = true;
    auto result = co_await ReadMessage(true);
    reading_ = false;
    if (!result.ok()) co_return result.take_error();
    co_return std::move(**result);
  }

  void WhenReadable(std::function<void()> ready) override {
    reading_ = true;
    if (unparsed_) {  // frames came with the upgrade request: the socket may never signal them
      asio::post(stream_.get_executor(), std::move(ready));
      return;
    }
    if constexpr (kPlainTcp) {
      if (!close_queued_) conn_.ExpiresAfter(idle_);
      stream_.async_wait(tcp::socket::wait_read,
                         [self = this->shared_from_this(), ready = std::move(ready)](const beast::error_code& ec) {
                           self->wait_error_ = ec;
                           ready();
                         });
    } else {
      asio::post(stream_.get_executor(), std::move(ready));
    }
  }

  asio::awaitable<Result<std::optional<std::string>>> ReadReady() override {
    reading_ = true;
    auto result = co_await ReadMessage(!kPlainTcp);
    reading_ = false;
    co_return result;
  }
  bool LastReadWasBinary() const override { return binary_; }

  asio::awaitable<Status> Write(std::string_view text) override {
    Enqueue(EncodeText(text));
    co_return co_await Flush();
  }

  asio::awaitable<Status> Ping() override {
    static const Frame ping = std::make_shared<const std::string>(ws::EncodeFrame(ws::Opcode::kPing, {}));
    Enqueue(ping);
    co_return co_await Flush();
  }

  void Enqueue(Frame frame) override {
    if (close_queued_ || write_failed_) return;  // nothing may follow a close frame
    queued_bytes_ += frame->size();
    out_.push_back(std::move(frame));
  }

  bool TryFlush() override {
    if (write_failed_) return true;
    if (writing_) return Queued() == 0;
    if constexpr (kPlainTcp) {
      while (Queued() > 0) {
        Gather buffers;
        GatherQueued(buffers);
        beast::error_code ec;
        std::size_t n = stream_.write_some(buffers, ec);  // the socket is non-blocking
        if (ec == asio::error::would_block || ec == asio::error::try_again) return false;
        if (ec) {
          Failed();
          return true;
        }
        Advance(n);
      }
    }
    return Queued() == 0;
  }

  asio::awaitable<Status> Flush() override {
    while (writing_) {
      auto [ignored] = co_await flushed_.async_wait(kTuple);  // another coroutine's Flush finishes
      (void)ignored;
    }
    if (TryFlush() && !write_failed_) co_return Ok();
    if (write_failed_) co_return Unavailable("write failed");
    writing_ = true;
    while (Queued() > 0) {
      Gather buffers;
      GatherQueued(buffers);
      auto [ec, n] = co_await stream_.async_write_some(buffers, kTuple);
      if (ec) {
        Failed();
        break;
      }
      Advance(n);
    }
    writing_ = false;
    flushed_.cancel();
    if (write_failed_) co_return Unavailable("write failed");
    co_return Ok();
  }

  std::size_t Queued() const override { return out_.size() - out_head_; }
  std::size_t QueuedBytes() const override { return queued_bytes_; }

  void DropQueued() override {
    if (writing_) return;  // the frames in flight are being read by the kernel right now
    std::size_t keep = out_offset_ > 0 ? out_head_ + 1 : out_head_;
    out_.resize(std::max(keep, out_head_));
    queued_bytes_ = out_head_ < out_.size() ? out_[out_head_]->size() - out_offset_ : 0;
    Advance(0);
  }

  asio::awaitable<void> Close(std::uint16_t code, std::string_view reason) override {
    if (!close_queued_ && !write_failed_) {
      Enqueue(std::make_shared<const std::string>(ws::EncodeClose(code, reason)));
      close_queued_ = true;
      conn_.ExpiresAfter(std::chrono::seconds(5));
      auto sent = co_await Flush();
      if (!sent.ok()) co_return;
    }
    // The peer answers with its close frame; a Read in progress gets it, else read it here.
    if (peer_closed_ || reading_ || write_failed_) co_return;
    conn_.ExpiresAfter(std::chrono::seconds(5));
    reading_ = true;
    if (parser_.failed()) {
      co_await DiscardUntilThePeerCloses();
    } else {
      for (;;) {
        auto r = co_await ReadMessage(true);
        if (!r.ok()) break;
      }
    }
    reading_ = false;
  }

 private:
  using Gather = boost::container::static_vector<asio::const_buffer, 64>;

  void GatherQueued(Gather& buffers) const {
    for (std::size_t i = out_head_; i < out_.size() && buffers.size() < buffers.capacity(); ++i) {
      const std::string& f = *out_[i];
      std::size_t skip = i == out_head_ ? out_offset_ : 0;
      buffers.emplace_back(f.data() + skip, f.size() - skip);
    }
  }

  void Advance(std::size_t n) {
    queued_bytes_ -= n;
    while (n > 0 && out_head_ < out_.size()) {
      std::size_t left = out_[out_head_]->size() - out_offset_;
      if (n < left) {
        out_offset_ += n;
        return;
      }
      n -= left;
      out_[out_head_].reset();
      ++out_head_;
      out_offset_ = 0;
    }
    if (out_head_ == out_.size()) {
      out_.clear();
      out_head_ = 0;
      if (out_.capacity() > 64) out_.shrink_to_fit();  // a burst's queue is not kept while idle
    }
  }

  void Failed() {
    write_failed_ = true;
    queued_bytes_ = 0;
    out_.clear();
    out_head_ = 0;
    out_offset_ = 0;
  }

  // Answers a ping or the peer's close; the reader never waits for a write in progress (the
  // writer's loop picks the frame up) unless the socket is full.
  asio::awaitable<void> SendControl(Frame frame, bool is_close) {
    Enqueue(std::move(frame));
    if (is_close) close_queued_ = true;
    if (!writing_ && !TryFlush()) {
      auto st = co_await Flush();
      (void)st;
    }
  }

  // The next whole message; without `wait`, none when the socket has nothing more to read now.
  asio::awaitable<Result<std::optional<std::string>>> ReadMessage(bool wait) {
    unparsed_ = false;
    if (wait_error_) {  // WhenReadable's wait ended without the socket becoming readable
      beast::error_code ec = std::exchange(wait_error_, {});
      if (ec == asio::error::operation_aborted) {
        co_return Timeout("no frame for " + std::to_string(idle_.count()) + " ms");
      }
      co_return Unavailable(ec.message());
    }
    for (;;) {
      std::size_t consumed = 0;
      std::string_view pending(in_.data() + in_pos_, in_.size() - in_pos_);
      auto kind = parser_.Parse(pending, consumed);
      in_pos_ += consumed;
      switch (kind) {
        case ws::FrameParser::Kind::kText:
        case ws::FrameParser::Kind::kBinary: {
          binary_ = kind == ws::FrameParser::Kind::kBinary;
          std::string message = std::move(parser_.message());
          parser_.message() = std::string();
          co_return std::optional<std::string>(std::move(message));
        }
        case ws::FrameParser::Kind::kPing: {
          if (!close_queued_) conn_.ExpiresAfter(idle_);
          auto pong = std::make_shared<const std::string>(ws::EncodeFrame(ws::Opcode::kPong, parser_.control()));
          co_await SendControl(std::move(pong), false);
          continue;
        }
        case ws::FrameParser::Kind::kPong:
          if (!close_queued_) conn_.ExpiresAfter(idle_);
          continue;
        case ws::FrameParser::Kind::kClose: {
          peer_closed_ = true;
          if (!close_queued_) {
            const std::uint16_t code = parser_.close_code() == 1005 ? ws::kCloseNormal : parser_.close_code();
            auto reply = std::make_shared<const std::string>(ws::EncodeClose(code, {}));
            co_await SendControl(std::move(reply), true);
          }
          co_return Unavailable("closed by the peer");
        }
        case ws::FrameParser::Kind::kFail: {
          if (parser_.close_code() == ws::kCloseTooBig) {
            co_return Error{ErrorCode::kPayloadTooLarge, "message larger than the route's limit"};
          }
          std::string why = parser_.error();
          co_await Close(parser_.close_code(), why);
          co_return Unavailable("protocol error: " + why);
        }
        case ws::FrameParser::Kind::kNeedMore:
          if (consumed > 0) continue;  // a fragment was taken in; the message goes on
          break;
      }
      if (peer_closed_ || write_failed_) co_return Unavailable("closed");
      if (!close_queued_) conn_.ExpiresAfter(idle_);
      beast::error_code ec = co_await ReadMore(pending.empty() ? 0 : parser_.WantBytes(pending), wait);
      if (ec == asio::error::would_block) co_return std::optional<std::string>();
      if (ec == asio::error::operation_aborted) {
        co_return Timeout("no frame for " + std::to_string(idle_.count()) + " ms");
      }
      if (ec) co_return Unavailable(ec == asio::error::eof ? "the peer went away" : ec.message());
    }
  }

  // After a protocol failure nothing more can be parsed, yet the peer may still be sending (the
  // rest of an oversized message). Closing with those bytes unread makes the kernel answer with
  // a reset, which can destroy our close frame before the peer reads it; so they are read and
  // dropped until the peer closes, the deadline passes or kDiscardLimit bytes went by.
  asio::awaitable<void> DiscardUntilThePeerCloses() {
    // Our FIN first (RFC 6455 7.1.1: the server closes the TCP connection first); a client
    // that waits for it before closing its side would otherwise keep us here until the deadline.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    std::size_t discarded = 0;
    while (discarded < kDiscardLimit) {
      discarded += in_.size() - in_pos_;
      in_.clear();
      in_pos_ = 0;
      if (co_await ReadMore(0, true)) break;
    }
  }

  // Reads at least one more byte into in_; want: the bytes the parser needs in all (0: unknown).
  // Without `wait` (plain TCP), would_block when the socket has nothing to read now.
  asio::awaitable<beast::error_code> ReadMore(std::size_t want, bool wait) {
    if (in_pos_ == in_.size()) {
      // Nothing pending: give the buffer back while the socket idles.
      std::string().swap(in_);
      in_pos_ = 0;
      if constexpr (kPlainTcp) {
        if (wait) {
          auto [ec] = co_await stream_.async_wait(tcp::socket::wait_read, kTuple);
          if (ec) co_return ec;
        }
      }
    } else if (in_pos_ > 0) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    const std::size_t have = in_.size();
    const std::size_t room = std::max<std::size_t>(want > have ? want - have : 0, kReadPiece);
    in_.resize(have + room);
    for (;;) {
      beast::error_code ec;
      std::size_t n = 0;
      if constexpr (kPlainTcp) {
        n = stream_.read_some(asio::buffer(in_.data() + have, room), ec);
        if ((ec == asio::error::would_block || ec == asio::error::try_again) && !wait) {
          if (have == 0) {
            std::string().swap(in_);  // an idle socket holds no buffer
          } else {
            in_.resize(have);
          }
          co_return asio::error::would_block;
        }
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          auto [wec] = co_await stream_.async_wait(tcp::socket::wait_read, kTuple);
          if (wec) ec = wec;
          else continue;
        }
      } else {
        auto [rec, got] = co_await stream_.async_read_some(asio::buffer(in_.data() + have, room), kTuple);
        ec = rec;
        n = got;
      }
      in_.resize(have + n);
      co_return ec;
    }
  }

  static constexpr std::size_t kReadPiece = 2048;
  static constexpr std::size_t kDiscardLimit = 1 << 20;

  std::shared_ptr<void> lease_;  // first: destroyed last, after everything that uses the stream
  Stream& stream_;
  Connection& conn_;
  std::chrono::milliseconds idle_;
  ws::FrameParser parser_;
  std::string in_;  // bytes read and not parsed yet, from in_pos_
  std::size_t in_pos_ = 0;
  std::vector<Frame> out_;  // frames to write, from out_head_ (its first out_offset_ bytes written)
  std::size_t out_head_ = 0;
  std::size_t out_offset_ = 0;
  std::size_t queued_bytes_ = 0;  // of out_, from out_head_ and out_offset_
  asio::steady_timer flushed_;  // cancelled when a Flush ends, for a Flush waiting on it
  bool writing_ = false;
  bool reading_ = false;  // a Read, ReadReady or WhenReadable is in progress
  beast::error_code wait_error_;  // how WhenReadable's wait ended, when not readable
  bool unparsed_ = false;         // in_ holds bytes no ReadMessage has looked at yet
  bool write_failed_ = false;
  bool close_queued_ = false;
  bool peer_closed_ = false;
  bool binary_ = false;
};

// An accepted upgrade: the WebSocket (the 101 already sent) and the session to start on it. The
// session starts after the HTTP request's coroutines have returned (Impl::Session), so an open
// WebSocket keeps none of their frames, parser or request fields.
template <class Stream>
struct UpgradedConnection {
  std::shared_ptr<WebSocketImpl<Stream>> ws;
  WebSocketSession session;
};

template <class Stream>
class WebSocketUpgradeImpl final : public WebSocketUpgrade {
 public:
  WebSocketUpgradeImpl(Stream& stream, Connection& conn, std::string accept, const RouteOptions& route,
                       beast::flat_buffer& buffer)
      : stream_(stream), conn_(conn), accept_(std::move(accept)), route_(route), buffer_(buffer) {}

  asio::awaitable<void> Accept(const WebSocketSession& session) override {
    accepted_ = true;
    auto ws = std::make_shared<WebSocketImpl<Stream>>(stream_, conn_, route_);
    std::string_view after(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    auto ec = co_await ws->AcceptUpgrade(accept_, after);
    if (ec) co_return;
    upgraded_ = UpgradedConnection<Stream>{std::move(ws), session};
  }
  bool accepted() const { return accepted_; }
  // The WebSocket to run, unless the handshake failed.
  std::optional<UpgradedConnection<Stream>> Take() { return std::move(upgraded_); }

 private:
  Stream& stream_;
  Connection& conn_;
  std::string accept_;  // Sec-WebSocket-Accept
  const RouteOptions& route_;
  beast::flat_buffer& buffer_;
  bool accepted_ = false;
  std::optional<UpgradedConnection<Stream>> upgraded_;
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
  // Registered connections; each is owned by its Session and unlinked (under conns_mu) before
  // it is destroyed, so holding the lock makes a pointer here safe to use.
  boost::intrusive::list<Connection, boost::intrusive::constant_time_size<false>> conns;

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
    asio::co_spawn(ioc, Watchdog(shared_from_this()), asio::detached);
  }

  // Deadlines are checked this often: a timeout fires up to one tick late.
  std::chrono::milliseconds WatchdogTick() const {
    auto shortest = std::min({options.header_timeout, options.body_timeout, options.idle_timeout,
                              options.write_timeout});
    return std::clamp(shortest / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
  }

  static asio::awaitable<void> Watchdog(std::shared_ptr<Impl> self) {
    asio::steady_timer timer(self->ioc);
    const auto tick = self->WatchdogTick();
    for (;;) {
      timer.expires_after(tick);
      auto [ec] = co_await timer.async_wait(kTuple);
      if (ec) co_return;
      std::lock_guard lock(self->conns_mu);
      if (self->stopping && self->conns.empty()) co_return;
      // An expired deadline stays set, so an operation started after a cancel is cancelled on
      // the next tick too; the connection's code sets a new deadline (or none) when it moves on.
      for (Connection& conn : self->conns) {
        if (conn.Expired()) conn.Cancel();
      }
    }
  }

  static asio::awaitable<void> Accept(std::shared_ptr<Impl> self, tcp::acceptor* acceptor) {
    for (;;) {
      // One IO thread needs no strand per connection; several do.
      asio::any_io_executor executor = self->options.io_threads == 1
                                           ? asio::any_io_executor(self->ioc.get_executor())
                                           : asio::any_io_executor(asio::make_strand(self->ioc));
      tcp::endpoint peer;  // filled by accept() itself: no getpeername per connection
      auto [ec, socket] = co_await acceptor->async_accept(executor, peer, kTuple);
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
      asio::co_spawn(socket_executor, self->Session(self, std::move(socket), peer), asio::detached);
    }
  }

  asio::awaitable<void> Session(std::shared_ptr<Impl> self, tcp::socket socket, tcp::endpoint peer) {
    metrics.ConnectionOpened();
    std::string remote = FormatAddress(peer.address());
    // Only a trusted proxy's requests are read for X-Forwarded-For; decided once per connection.
    std::optional<asio::ip::address> proxy;
    if (options.trusted_proxies.Contains(peer.address())) proxy = peer.address();
    std::shared_ptr<asio::ssl::context> ctx;
    if (options.tls) {
      std::lock_guard lock(tls_mu);
      ctx = tls_ctx;
    }
    try {
      if (ctx) {
        auto conn = std::make_shared<StreamConnection<beast::ssl_stream<tcp::socket>>>(std::move(socket), *ctx);
        auto registration = Register(*conn);
        conn->ExpiresAfter(options.header_timeout);
        auto [ec] = co_await conn->stream.async_handshake(asio::ssl::stream_base::server, kTuple);
        if (!ec) {
          auto upgraded = co_await Serve(conn->stream, *conn, remote, proxy);
          if (upgraded) {
            co_await StartUpgraded(std::move(*upgraded), self, conn, std::move(registration));
            co_return;  // the WebSocket owns the connection now, and counts it closed
          }
          conn->ExpiresAfter(2s);
          co_await conn->stream.async_shutdown(kTuple);
        }
      } else {
        auto conn = std::make_shared<StreamConnection<tcp::socket>>(std::move(socket));
        beast::error_code ignored;
        conn->stream.non_blocking(true, ignored);  // lets Write try a direct send first
        auto registration = Register(*conn);
        auto upgraded = co_await Serve(conn->stream, *conn, remote, proxy);
        if (upgraded) {
          co_await StartUpgraded(std::move(*upgraded), self, conn, std::move(registration));
          co_return;  // the WebSocket owns the connection now, and counts it closed
        }
        // The socket's destructor closes it; a shutdown(SHUT_WR) first would add a syscall and
        // nothing else, as nothing is read after the last response.
      }
    } catch (const std::exception& e) {
      log::Error("connection failed", {{"error", e.what()}, {"remote", remote}});
    }
    metrics.ConnectionClosed();
  }

  // Unregisters on every way out of Session, exceptions included: a destroyed connection must
  // never stay linked. Moved into the Lease of an upgraded connection.
  struct Registration {
    Impl* impl;
    Connection* conn;
    Registration(Impl& i, Connection& c) : impl(&i), conn(&c) {}
    Registration(Registration&& other) noexcept
        : impl(std::exchange(other.impl, nullptr)), conn(std::exchange(other.conn, nullptr)) {}
    Registration& operator=(Registration&&) = delete;
    ~Registration() {
      if (!impl) return;
      std::lock_guard lock(impl->conns_mu);
      impl->conns.erase(impl->conns.iterator_to(*conn));
    }
  };

  [[nodiscard]] Registration Register(Connection& conn) {
    std::lock_guard lock(conns_mu);
    conns.push_back(conn);
    return Registration{*this, conn};
  }

  // An upgraded connection, kept by its WebSocket: when the last holder of the WebSocket lets
  // go, the connection is unregistered, counted closed and its stream closed.
  struct Lease {
    std::shared_ptr<Impl> server;
    std::shared_ptr<Connection> conn;
    Registration registration;  // last: unlinked before conn goes
    ~Lease() { server->metrics.ConnectionClosed(); }
  };

  // Hands the connection to its WebSocket and starts the session; a session that throws while
  // starting gets its connection closed with 1011.
  template <class Stream>
  asio::awaitable<void> StartUpgraded(UpgradedConnection<Stream> upgraded, std::shared_ptr<Impl> self,
                                      std::shared_ptr<Connection> conn, Registration registration) {
    upgraded.ws->Adopt(std::make_shared<Lease>(std::move(self), std::move(conn), std::move(registration)));
    bool threw = false;
    try {
      upgraded.session(upgraded.ws);
    } catch (const std::exception& e) {
      log::Error("websocket session threw", {{"error", e.what()}});
      threw = true;
    }
    if (threw) co_await upgraded.ws->Close(1011, "internal error");
  }

  // String responses (every API answer) are serialized by hand into one buffer and sent with one
  // call, tried at once without waiting on plain TCP: Beast's general serializer and a posted
  // write cost about half of a small request's CPU (docs/benchmarks.md).
  // `out` is the connection's reused buffer; the request id and nosniff lines are written here
  // rather than added to the message's fields (each field is an allocation).
  template <class Stream>
  asio::awaitable<beast::error_code> Write(Stream& stream, Connection& conn, StringResponse& msg, bool head_only,
                                           std::string_view request_id, std::string& out) {
    out.clear();
    out.reserve(256 + msg.body().size());
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
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\nX-Content-Type-Options: nosniff\r\n";
    if (msg.find("Content-Security-Policy") == msg.end()) {  // the web app sets its own
      out += "Content-Security-Policy: ";
      out += kApiContentSecurityPolicy;
      out += "\r\nReferrer-Policy: ";
      out += kApiReferrerPolicy;
      out += "\r\n";
    }
    if constexpr (!std::is_same_v<Stream, tcp::socket>) out += kHsts;
    out += "\r\n";
    if (!head_only) out += msg.body();
    std::size_t sent = 0;
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      beast::error_code ec;
      sent = stream.write_some(asio::buffer(out), ec);  // the socket is non-blocking
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        sent = 0;
      } else if (ec) {
        co_return ec;
      }
      if (sent == out.size()) co_return beast::error_code{};
    }
    conn.ExpiresAfter(options.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out.data() + sent, out.size() - sent), kTuple);
    conn.NoDeadline();
    co_return ec;
  }

  // File responses can be large and slow clients legitimate: the write timeout bounds each
  // step of progress, not the whole transfer.
  template <class Stream, class Message>
  asio::awaitable<beast::error_code> Write(Stream& stream, Connection& conn, Message& msg, bool head_only,
                                           std::string_view request_id, std::string&) {
    msg.set("X-Request-Id", request_id);
    msg.set("X-Content-Type-Options", "nosniff");
    if (msg.find("Content-Security-Policy") == msg.end()) {
      msg.set("Content-Security-Policy", kApiContentSecurityPolicy);
      msg.set("Referrer-Policy", kApiReferrerPolicy);
    }
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      msg.set("Strict-Transport-Security", kHsts.substr(27, kHsts.size() - 29));
    }
    bhttp::serializer<false, typename Message::body_type> sr{msg};
    beast::error_code ec;
    while (!ec && !sr.is_header_done()) {
      conn.ExpiresAfter(options.write_timeout);
      auto [wec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
      ec = wec;
    }
    if (!ec && !head_only) {
      if constexpr (std::is_same_v<typename Message::body_type, FileBody>) {
        ec = co_await SendFile(stream, conn, msg.body().file());
      } else {
        while (!ec && !sr.is_done()) {
          conn.ExpiresAfter(options.write_timeout);
          auto [wec, n] = co_await bhttp::async_write_some(stream, sr, kTuple);
          ec = wec;
        }
      }
    }
    conn.NoDeadline();
    co_return ec;
  }

  // Beast's file body reads 4 KiB at a time, one write per read. Over plain TCP the kernel
  // sends from the page cache itself (sendfile(2), as nginx does: no copy through user space);
  // over TLS the bytes must pass through the encryption, in 256 KiB pread + write pieces.
  template <class Stream>
  asio::awaitable<beast::error_code> SendFile(Stream& stream, Connection& conn, RangedFile& file) {
    beast::error_code ec;
    std::uint64_t remaining = file.size(ec);
    if (ec) co_return ec;
    std::uint64_t offset = file.Offset();
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      stream.native_non_blocking(true, ec);
      if (ec) co_return ec;
      while (remaining > 0) {
        off_t at = static_cast<off_t>(offset);
        ssize_t n = ::sendfile(stream.native_handle(), file.native_handle(), &at,
                               static_cast<std::size_t>(std::min<std::uint64_t>(remaining, 1u << 30)));
        if (n > 0) {
          offset += static_cast<std::uint64_t>(n);
          remaining -= static_cast<std::uint64_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {  // the socket's buffer is full
          conn.ExpiresAfter(options.write_timeout);
          auto [wec] = co_await stream.async_wait(tcp::socket::wait_write, kTuple);
          if (wec) co_return wec;
          continue;
        }
        // 0: the file shrank under us; the response cannot be completed.
        co_return beast::error_code(n < 0 ? errno : EIO, boost::system::system_category());
      }
      co_return ec;
    }
    constexpr std::size_t kPiece = 256 * 1024;
    std::unique_ptr<char[]> buffer(new char[std::min<std::uint64_t>(kPiece, std::max<std::uint64_t>(remaining, 1))]);
    std::size_t capacity = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, std::max<std::uint64_t>(remaining, 1)));
    while (remaining > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, capacity));
      ssize_t n = ::pread(file.native_handle(), buffer.get(), want, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // the file shrank under us or cannot be read: the response cannot be completed
        co_return beast::error_code(n < 0 ? errno : EIO, boost::system::system_category());
      }
      conn.ExpiresAfter(options.write_timeout);
      auto [wec, written] = co_await asio::async_write(stream, asio::buffer(buffer.get(), static_cast<std::size_t>(n)), kTuple);
      if (wec) co_return wec;
      offset += static_cast<std::uint64_t>(n);
      remaining -= static_cast<std::uint64_t>(n);
    }
    co_return ec;
  }

  template <class Stream>
  asio::awaitable<void> WriteEarlyError(Stream& stream, Connection& conn, const Error& error, unsigned version,
                                        std::string_view target, std::string_view remote,
                                        std::chrono::steady_clock::time_point started) {
    std::string id = NewRequestId();
    StringResponse res = Problem(error, version ? version : 11, false, "", id);
    std::string out;
    co_await Write(stream, conn, res, false, id, out);
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

  Error BodyTooLarge(std::uint64_t limit) const {
    return Error{ErrorCode::kPayloadTooLarge, "request body exceeds " + std::to_string(limit) + " bytes"};
  }

  // Requests are parsed from the connection's buffer with Parser::put, reading from the socket
  // only when the buffer runs dry: no composed operation (and no posted completion) per request.
  // Ends when the connection is done with HTTP: closed, or upgraded (returned to run outside).
  template <class Stream>
  asio::awaitable<std::optional<UpgradedConnection<Stream>>> Serve(Stream& stream, Connection& conn,
                                                           const std::string& peer_address,
                                                           const std::optional<asio::ip::address>& proxy) {
    beast::flat_buffer buffer;
    std::string out;  // response bytes, reused across the connection's requests
    bool first = true;
    for (;;) {
      conn.idle = true;
      if (stopping) co_return std::nullopt;
      if (buffer.size() == 0) {
        // Waiting for the next request is bounded by the idle timeout; once its first byte is
        // here, the whole header must arrive within the header timeout.
        conn.ExpiresAfter(first ? options.header_timeout : options.idle_timeout);
        if (co_await ReadMore(stream, buffer)) co_return std::nullopt;
      }
      conn.idle = false;
      first = false;
      auto started = std::chrono::steady_clock::now();
      conn.ExpiresAt(started + options.header_timeout);

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(boost::none);  // checked below, once the route (and its limit) is known
      parser.eager(false);
      for (;;) {
        beast::error_code ec;
        if (buffer.size() > 0) buffer.consume(parser.put(buffer.data(), ec));
        if (!ec && parser.is_header_done()) break;
        if (ec && ec != bhttp::error::need_more) {
          if (ec == bhttp::error::header_limit) {
            co_await WriteEarlyError(stream, conn, Error{ErrorCode::kPayloadTooLarge, "request header too large"},
                                     11, "", peer_address, started);
          } else if (IsParseError(ec)) {
            co_await WriteEarlyError(stream, conn, InvalidArgument("malformed HTTP request: " + ec.message()), 11,
                                     "", peer_address, started);
          }
          co_return std::nullopt;
        }
        if (co_await ReadMore(stream, buffer)) co_return std::nullopt;  // timeouts and resets just close
      }
      auto& header = parser.get();
      std::string_view full_target = header.target();
      std::string target(full_target.substr(0, full_target.find('?')));
      Router::Match match = router.Find(header.method(), target);
      bool streaming = match.handler && match.options->streams_body;
      std::uint64_t body_limit = options.max_body_bytes;
      if (streaming && match.options->max_body_bytes) body_limit = match.options->max_body_bytes;
      if (auto len = parser.content_length(); len && *len > body_limit) {
        co_await WriteEarlyError(stream, conn, BodyTooLarge(body_limit), header.version(), target, peer_address, started);
        co_return std::nullopt;  // the unread body makes the connection unusable
      }
      parser.body_limit(body_limit);
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        conn.ExpiresAfter(options.write_timeout);
        auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
        if (cec) co_return std::nullopt;
      }

      std::optional<bhttp::request_parser<bhttp::buffer_body>> body_parser;
      std::optional<StreamingBody<Stream>> body_reader;
      Request streamed_request;  // a streaming route's header (its body is read by the handler)
      if (streaming) {
        body_parser.emplace(std::move(parser));
        streamed_request.base() = std::move(body_parser->get().base());
        body_reader.emplace(stream, buffer, *body_parser, conn, options.body_timeout);
      } else {
        conn.ExpiresAt(started + options.header_timeout + options.body_timeout);
        parser.eager(true);
        while (!parser.is_done()) {
          beast::error_code ec;
          if (buffer.size() > 0) buffer.consume(parser.put(buffer.data(), ec));
          if (ec == bhttp::error::body_limit) {
            co_await WriteEarlyError(stream, conn, BodyTooLarge(body_limit), header.version(), target, peer_address,
                                     started);
            co_return std::nullopt;
          }
          if (ec && ec != bhttp::error::need_more) {
            if (IsParseError(ec)) {
              co_await WriteEarlyError(stream, conn, InvalidArgument("malformed HTTP body: " + ec.message()),
                                       header.version(), target, peer_address, started);
            }
            co_return std::nullopt;
          }
          if (parser.is_done()) break;
          if (co_await ReadMore(stream, buffer)) co_return std::nullopt;
        }
      }
      Request& req = streaming ? streamed_request : parser.get();
      std::string forwarded_client;
      if (proxy) forwarded_client = options.trusted_proxies.ClientAddress(*proxy, ForwardedFor(req));
      const std::string& remote = proxy ? forwarded_client : peer_address;
      conn.NoDeadline();  // handlers bound their own work

      metrics.RequestStarted();
      std::string request_id(req["X-Request-Id"]);
      if (!ValidRequestId(request_id)) request_id = NewRequestId();
      std::string_view route;
      std::optional<WebSocketUpgradeImpl<Stream>> upgrade;
      bool websocket_route = match.handler && match.options->websocket;
      Response res;
      std::optional<Error> refused_upgrade;
      if (websocket_route) {
        if (!websocket::is_upgrade(req)) {
          refused_upgrade = InvalidArgument("this endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)");
        } else if (req["Sec-WebSocket-Version"] != "13") {
          refused_upgrade = InvalidArgument("only WebSocket version 13 is spoken (Sec-WebSocket-Version: 13)");
        } else if (std::string accept = ws::HandshakeAccept(req["Sec-WebSocket-Key"]); accept.empty()) {
          refused_upgrade = InvalidArgument("Sec-WebSocket-Key must be base64 of 16 bytes");
        } else {
          upgrade.emplace(stream, conn, std::move(accept), *match.options, buffer);
        }
      }
      if (refused_upgrade) {
        route = match.pattern;
        auto problem = Problem(*refused_upgrade, req.version(), req.keep_alive(), target, request_id);
        problem.set("Sec-WebSocket-Version", "13");
        res = std::move(problem);
      } else {
        res = co_await Handle(req, match, body_reader ? &*body_reader : nullptr, upgrade ? &*upgrade : nullptr,
                              request_id, remote, route);
      }
      if (upgrade && upgrade->accepted()) {
        metrics.RequestFinished();
        Finish(route, "GET", target, 101, 0, request_id, remote, started);
        co_return upgrade->Take();  // nothing more of HTTP on this connection
      }
      // A streamed body the handler left unread cannot be skipped safely: close after answering.
      bool keep_alive = req.keep_alive() && !stopping && !(body_reader && !body_reader->Done());
      ForHeaders(res, [&](auto& h) {
        cors.Decorate(req, h);
        h.keep_alive(keep_alive);
      });
      unsigned status = StatusOf(res);
      std::uint64_t bytes = req.method() == bhttp::verb::head ? 0 : BodySizeOf(res);
      beast::error_code wec = co_await std::visit(
          [&](auto& msg) { return Write(stream, conn, msg, req.method() == bhttp::verb::head, request_id, out); },
          res);
      metrics.RequestFinished();
      Finish(route, bhttp::to_string(req.method()), target, status, bytes, request_id, remote, started);
      if (wec || !keep_alive) co_return std::nullopt;
    }
  }

  asio::awaitable<Response> Handle(Request& req, Router::Match& match, BodyReader* body,
                                   WebSocketUpgrade* upgrade, const std::string& request_id,
                                   const std::string& remote, std::string_view& route) {
    std::string_view target = req.target();
    auto q = target.find('?');
    RequestContext ctx{req,
                       target.substr(0, q),
                       q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                       request_id,
                       remote,
                       {},
                       {},
                       body,
                       upgrade};
    if (ctx.path.empty() || ctx.path.front() != '/') {
      route = "-";
      co_return Problem(InvalidArgument("request target must be an absolute path"), ctx);
    }
    if (cors.IsPreflight(req)) {
      route = "preflight";
      co_return cors.Preflight(req);
    }
    if (match.handler) {
      route = match.pattern;
      ctx.route = match.pattern;
      ctx.params = std::move(match.params);  // views into Serve's `target`, alive for the request
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
    for (Connection& conn : conns) {
      if (!only_idle || conn.idle) conn.Close();
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
    : impl_(std::make_shared<Impl>(ioc, std::move(options), router, metrics, static_files)) {
  // sendfile(2) has no MSG_NOSIGNAL: a client that goes away mid-file would otherwise kill the
  // process with SIGPIPE instead of failing that one write with EPIPE.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
}

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
