#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace veza::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

HttpResponse Http(const std::string& host, unsigned short port, const HttpRequestSpec& spec,
                  std::chrono::milliseconds timeout) {
  HttpResponse out;
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(asio::ip::make_address(host), port), ec);
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(spec.method), spec.target, 11};
  if (req.method() == bhttp::verb::unknown) req.method_string(spec.method);
  req.set(bhttp::field::host, host + ":" + std::to_string(port));
  bool has_length = false;
  for (const auto& [k, v] : spec.headers) {
    req.set(k, v);
    if (beast::iequals(k, "content-length") || beast::iequals(k, "transfer-encoding")) has_length = true;
  }
  req.body() = spec.body;
  if (!has_length && (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH")) {
    req.prepare_payload();
  }
  req.keep_alive(false);
  // Write without expect-continue handling: tests that need it send raw bytes.
  bhttp::write(stream.socket(), req, ec);
  if (ec && ec != asio::error::connection_reset && ec != asio::error::broken_pipe) {
    out.error = "write: " + ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 31);
  if (spec.method == "HEAD") parser.skip(true);
  stream.expires_after(timeout);
  bhttp::read(stream, buffer, parser, ec);
  if (ec && !parser.is_header_done()) {
    out.error = "read: " + ec.message();
    return out;
  }
  auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
    if (name == "set-cookie") out.set_cookies.emplace_back(field.value());
  }
  out.body = res.body();
  return out;
}

RawExchange SendRaw(unsigned short port, const std::vector<std::string>& pieces,
                    std::chrono::milliseconds pause_between, std::chrono::milliseconds timeout) {
  RawExchange out;
  auto start = std::chrono::steady_clock::now();
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return out;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    asio::write(socket, asio::buffer(pieces[i]), ec);
    if (ec) break;
    if (i + 1 < pieces.size()) std::this_thread::sleep_for(pause_between);
  }
  // Read until the server closes or the deadline passes.
  socket.non_blocking(true);
  char buf[65536];
  while (std::chrono::steady_clock::now() - start < timeout) {
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) {
      out.closed_by_server = true;
      break;
    }
    out.received.append(buf, n);
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace veza::test
