#pragma once
// A blocking WebSocket chat client for tests against the real binary (docs/websocket.md): one
// socket, frames as JSON objects.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace veza::test {

class ChatClient {
 public:
  // A small receive buffer makes a client that stops reading back up the server quickly.
  void SetReceiveBuffer(int bytes) {
    ws_.next_layer().open(boost::asio::ip::tcp::v4());
    ws_.next_layer().set_option(boost::asio::socket_base::receive_buffer_size(bytes));
  }
  // Presence frames come whenever anyone joins or leaves; tests about something else skip them.
  void SkipPresence(bool skip) { skip_presence_ = skip; }

  // read_timeout > 0: a read waits that long at most (then the socket is closed and the read
  // fails with timed_out), so a missing frame fails the test instead of hanging it.
  boost::system::error_code Connect(unsigned short port, const std::string& ticket,
                                    std::chrono::seconds read_timeout = std::chrono::seconds(0)) {
    read_timeout_ = read_timeout;
    boost::system::error_code ec;
    ws_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) ws_.handshake(response_, "127.0.0.1", "/ws?ticket=" + ticket, ec);
    if (!ec) ws_.text(true);
    ws_.control_callback([this](boost::beast::websocket::frame_type kind, boost::beast::string_view) {
      if (kind == boost::beast::websocket::frame_type::ping) ++pings_;
    });
    return ec;
  }

  void SendRaw(const std::string& text) { ws_.write(boost::asio::buffer(text)); }
  void Send(const boost::json::object& frame) { SendRaw(boost::json::serialize(frame)); }

  // The next frame (any type but skipped presence), or nullopt after a close, an error or the
  // read timeout.
  std::optional<boost::json::object> Next() {
    for (;;) {
      boost::beast::flat_buffer b;
      boost::system::error_code ec = Read(b);
      if (ec) {
        last_error_ = ec;
        return std::nullopt;
      }
      auto frame = boost::json::parse(boost::beast::buffers_to_string(b.data())).as_object();
      if (!skip_presence_ || frame.at("type").as_string() != "presence") return frame;
    }
  }
  // Skips up to max_skipped frames of other types (a busy room sends many) until one of this
  // type comes; the skipped frames are kept in skipped().
  std::optional<boost::json::object> NextOfType(const std::string& type, int max_skipped = 50) {
    for (int i = 0; i <= max_skipped; ++i) {
      auto f = Next();
      if (!f) return std::nullopt;
      if (f->at("type").as_string() == type) return f;
      skipped_.push_back(std::move(*f));
    }
    return std::nullopt;
  }

  const std::vector<boost::json::object>& skipped() const { return skipped_; }
  // Server pings seen so far: the first comes with the first heartbeat.
  int pings() const { return pings_; }
  int response_status() const { return response_.result_int(); }
  boost::beast::websocket::close_reason close_reason() const { return ws_.reason(); }
  boost::system::error_code last_error() const { return last_error_; }

 private:
  boost::system::error_code Read(boost::beast::flat_buffer& b) {
    boost::system::error_code ec;
    if (read_timeout_.count() == 0) {
      ws_.read(b, ec);
      return ec;
    }
    bool done = false;
    ws_.async_read(b, [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(read_timeout_);
    if (!done) {
      boost::system::error_code ignored;
      ws_.next_layer().close(ignored);  // the read ends with operation_aborted
      ioc_.restart();
      ioc_.run();
      ec = boost::asio::error::timed_out;
    }
    return ec;
  }

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_{ioc_};
  boost::beast::websocket::response_type response_;
  boost::system::error_code last_error_;
  std::vector<boost::json::object> skipped_;
  bool skip_presence_ = false;
  std::chrono::seconds read_timeout_{0};
  int pings_ = 0;
};

}  // namespace veza::test
