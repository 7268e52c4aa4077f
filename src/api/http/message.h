#pragma once
// What a handler sees and returns. Handlers parse, call one service, encode (ARCHITECTURE.md).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/basic_file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/http/ranged_file.h"
#include "base/result.h"

namespace veza::http {

namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using StringResponse = bhttp::response<bhttp::string_body>;
using FileBody = bhttp::basic_file_body<RangedFile>;
using FileResponse = bhttp::response<FileBody>;
using Response = std::variant<StringResponse, FileResponse>;

// Path parameters, in pattern order; inline storage so matching a route does not allocate.
using PathParams = boost::container::small_vector<std::pair<std::string_view, std::string_view>, 4>;

// The body of a request to a streaming route (RouteOptions::streams_body), read as it arrives
// instead of being collected in memory first. Only the request's handler may use it, and only
// while the handler runs; a body left unread closes the connection after the response.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The declared Content-Length; nullopt for a chunked body.
  virtual std::optional<std::uint64_t> ContentLength() const = 0;
  // Reads up to buffer.size() body bytes; 0 at the end of the body. Errors: kPayloadTooLarge
  // past the route's limit, kInvalidArgument for a malformed (chunked) body, kTimeout when the
  // client sends nothing for the body timeout, kUnavailable when the client went away.
  virtual boost::asio::awaitable<Result<std::size_t>> ReadSome(std::span<char> buffer) = 0;
  virtual std::uint64_t BytesRead() const = 0;
};

// A WebSocket connection after the upgrade (RFC 6455: veza answers the handshake, the HTTP
// core does the framing itself, websocket_frame.h). Used from the connection's executor only.
// One Read at a time; writes are queued in order and may come from several coroutines.
class WebSocket {
 public:
  // A text message framed once for the wire; the same bytes can be queued on any number of
  // sockets (a room's fan-out) without a copy per recipient.
  using Frame = std::shared_ptr<const std::string>;
  static Frame EncodeText(std::string_view text);

  virtual ~WebSocket() = default;
  // The connection's executor: every call below is made on it.
  virtual boost::asio::any_io_executor Executor() const = 0;
  // One whole message. Errors: kUnavailable when the peer closed or went away, or broke the
  // protocol (closed with 1002, or 1007 for text that is not UTF-8); kPayloadTooLarge for a
  // message over the route's limit (the caller closes with 1009); kTimeout when nothing (not
  // even a pong) came for the idle timeout. Pings are answered with pongs here.
  virtual boost::asio::awaitable<Result<std::string>> Read() = 0;
  // For a session that holds no coroutine while the socket idles: `ready` runs on the
  // connection's executor once the socket is readable, closed or past its idle deadline
  // (plain TCP waits with a completion handler and no buffer; over TLS it runs at once), and
  // then ReadReady tells which. The wait counts as a Read in progress for Close.
  virtual void WhenReadable(std::function<void()> ready) = 0;
  // Like Read, but gives no message instead of waiting when no whole one has arrived (the
  // control frames that did are answered). Over TLS it waits, as Read does.
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> ReadReady() = 0;
  virtual bool LastReadWasBinary() const = 0;
  virtual boost::asio::awaitable<Status> Write(std::string_view text) = 0;  // one text message
  virtual boost::asio::awaitable<Status> Ping() = 0;

  // Queues a frame without writing it.
  virtual void Enqueue(Frame frame) = 0;
  // Writes what is queued as far as the socket takes it now, several frames per system call,
  // without waiting; true when nothing is left queued. Never writes while Flush is writing.
  virtual bool TryFlush() = 0;
  // Writes everything queued, waiting for the socket when it is full.
  virtual boost::asio::awaitable<Status> Flush() = 0;
  virtual std::size_t Queued() const = 0;       // frames
  virtual std::size_t QueuedBytes() const = 0;  // their bytes not written yet
  // Forgets the queued frames not started yet (a frame partly written is finished first).
  virtual void DropQueued() = 0;

  // Sends a close frame (RFC 6455 code, reason up to 123 bytes) and waits for the peer's (a
  // Read in progress gets it instead).
  virtual boost::asio::awaitable<void> Close(std::uint16_t code, std::string_view reason) = 0;
};

// Starts a session on an upgraded connection and returns; the session goes on in whatever it
// started (coroutines, completion handlers). The connection stays open while anything holds
// the WebSocket and closes when the last holder lets go, so an idle session need hold no
// coroutine at all: its pending waits hold it (docs/architecture.md, WebSocket routes). Over TLS the
// connection ends without a TLS close_notify (the WebSocket close handshake comes first).
using WebSocketSession = std::function<void(std::shared_ptr<WebSocket>)>;

// Handed to a WebSocket route's handler for an upgrade request. The handler checks the request
// (authentication, origin) and either returns an error response, or calls Accept, which sends
// 101 and keeps a copy of session; the handler's return value is then ignored. The session
// starts once the handler and the HTTP request's coroutines have returned (so an open WebSocket
// holds none of them): a session must own what it uses, never refer to the handler's locals.
class WebSocketUpgrade {
 public:
  virtual ~WebSocketUpgrade() = default;
  // Keep session in a named local: GCC 12 destroys some temporaries inside a co_await
  // expression twice.
  virtual boost::asio::awaitable<void> Accept(const WebSocketSession& session) = 0;
};

struct RequestContext {
  Request& request;
  std::string_view path;   // target before '?', still percent-encoded
  std::string_view query;  // after '?', without it
  std::string request_id;
  std::string remote_address;
  std::string_view route;  // the matched pattern ("/api/v1/users/{id}"), for metrics and logs
  PathParams params;
  BodyReader* body = nullptr;  // set only for streaming routes
  WebSocketUpgrade* websocket = nullptr;  // set only for WebSocket routes (always an upgrade)

  std::string_view Param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return {};
  }
};

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

struct RouteOptions {
  // The handler reads the body itself through RequestContext::body (uploads); the server does
  // not collect it, and the server-wide body limit gives way to max_body_bytes.
  bool streams_body = false;
  std::uint64_t max_body_bytes = 0;  // streaming routes only; 0: the server-wide limit
  // A WebSocket route (GET): requests that are not upgrades get 426 without the handler.
  bool websocket = false;
  std::size_t max_message_bytes = 64 * 1024;           // WebSocket routes: larger → close 1009
  std::chrono::milliseconds idle_timeout{60'000};      // WebSocket routes: nothing read → kTimeout
};

// RFC 9457 problem+json for an error; `type` is a stable URI naming the error code.
StringResponse Problem(const Error& error, const RequestContext& ctx);
StringResponse Problem(const Error& error, unsigned version, bool keep_alive,
                       std::string_view instance, std::string_view request_id);
StringResponse Json(bhttp::status status, const boost::json::value& body, const Request& req);
StringResponse Text(bhttp::status status, std::string body, std::string_view content_type,
                    const Request& req);

// Parses the request body as a JSON value: 415 unless the content type is JSON, 400 with the
// byte offset when malformed or nested deeper than 32 levels.
Result<boost::json::value> ParseJsonBody(const RequestContext& ctx);

// The request body as an object holding exactly the named string fields, each present and at
// most max bytes: anything else (unknown, missing, wrong type, too long) is a 400 naming the field.
struct JsonField {
  std::string_view name;
  std::size_t max;
};
Result<std::vector<std::string>> ParseStringFields(const RequestContext& ctx,
                                                   std::initializer_list<JsonField> fields);

// A problem for an authentication failure, with WWW-Authenticate on 401 (RFC 6750).
StringResponse AuthProblem(const Error& error, const RequestContext& ctx);

// Status, headers and body size of either response kind.
unsigned StatusOf(const Response& r);
std::uint64_t BodySizeOf(const Response& r);
template <class Fn>
void ForHeaders(Response& r, Fn&& fn) {
  std::visit([&](auto& m) { fn(m); }, r);
}

}  // namespace veza::http
