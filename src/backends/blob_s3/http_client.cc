#include "backends/blob_s3/http_client.h"

#include <openssl/err.h>
#include <poll.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <type_traits>

#include "base/log.h"

namespace veza::s3 {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Parser = http::response_parser<http::buffer_body>;

namespace {

// One Read() never allocates more than this, whatever the caller asks for.
constexpr std::size_t kMaxReadChunk = 4 << 20;

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string Endpoint::HostHeader() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  if (!default_port) out += ":" + port;
  return out;
}

std::string Endpoint::ToString() const { return (tls ? "https://" : "http://") + HostHeader(); }

// One keep-alive connection; used by one thread at a time.
class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  virtual beast::error_code Open(const Endpoint& endpoint, std::string* step) = 0;
  virtual beast::error_code Write(http::request<http::string_body>& request) = 0;
  virtual beast::error_code ReadHeader(Parser& parser) = 0;
  virtual beast::error_code ReadSome(Parser& parser) = 0;
  // True when the idle connection cannot carry another request: the server closed it (EOF is
  // readable), sent something unexpected, or bytes are left over from the last response.
  virtual bool Unusable() = 0;
};

namespace {

template <class Stream>
class BeastConnection final : public HttpConnection {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... Args>
  explicit BeastConnection(HttpTimeouts timeouts, Args&... args)
      : timeouts_(timeouts), stream_(ioc_, args...) {}

  beast::error_code Open(const Endpoint& endpoint, std::string* step) override {
    *step = "resolve";
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type results;
    beast::error_code ec = Run([&](auto done) {
      resolver.async_resolve(
          endpoint.host, endpoint.port,
          [&results, done](beast::error_code e, tcp::resolver::results_type r) mutable {
            results = std::move(r);
            done(e);
          });
    });
    if (ec) return ec;
    *step = "connect";
    Lowest().expires_after(timeouts_.connect);
    ec = Run([&](auto done) { Lowest().async_connect(results, std::move(done)); });
    if (ec) return ec;
    // Header and body go out in one gathered write, but small requests must not wait for
    // delayed ACKs either.
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      *step = "tls handshake";
      // SNI takes names only, never addresses (RFC 6066).
      if (!IsIpLiteral(endpoint.host) &&
          !SSL_set_tlsext_host_name(stream_.native_handle(), endpoint.host.c_str())) {
        return beast::error_code(static_cast<int>(::ERR_get_error()),
                                 net::error::get_ssl_category());
      }
      stream_.set_verify_mode(ssl::verify_peer);
      stream_.set_verify_callback(ssl::host_name_verification(endpoint.host));
      Lowest().expires_after(timeouts_.io);
      ec = Run(
          [&](auto done) { stream_.async_handshake(ssl::stream_base::client, std::move(done)); });
      if (ec) return ec;
    }
    return {};
  }

  beast::error_code Write(http::request<http::string_body>& request) override {
    Lowest().expires_after(timeouts_.io);
    return Run([&](auto done) { http::async_write(stream_, request, std::move(done)); });
  }

  beast::error_code ReadHeader(Parser& parser) override {
    Lowest().expires_after(timeouts_.io);
    return Run(
        [&](auto done) { http::async_read_header(stream_, buffer_, parser, std::move(done)); });
  }

  beast::error_code ReadSome(Parser& parser) override {
    Lowest().expires_after(timeouts_.io);
    beast::error_code ec =
        Run([&](auto done) { http::async_read_some(stream_, buffer_, parser, std::move(done)); });
    if (ec == http::error::need_buffer) ec = {};  // the caller's buffer is full: not an error
    return ec;
  }

  bool Unusable() override {
    if (buffer_.size() != 0) return true;
    pollfd p{Lowest().socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // Starts one asynchronous operation and runs this connection's io_context until it (and the
  // stream's timeout timer, which it cancels) completes.
  template <class Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = net::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  HttpTimeouts timeouts_;
  net::io_context ioc_{1};
  Stream stream_;
  beast::flat_buffer buffer_;
};

using PlainConnection = BeastConnection<beast::tcp_stream>;
using TlsConnection = BeastConnection<beast::ssl_stream<beast::tcp_stream>>;

std::string Describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

}  // namespace

// --- HttpResponse ----------------------------------------------------------------------------

struct HttpResponse::Impl {
  HttpClient* client = nullptr;
  std::unique_ptr<HttpConnection> connection;
  Parser parser;
  bool broken = false;
};

HttpResponse::HttpResponse(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpResponse::~HttpResponse() {
  if (impl_->connection && !impl_->broken && impl_->parser.is_done() &&
      impl_->parser.get().keep_alive()) {
    impl_->client->ReturnIdle(std::move(impl_->connection));
  }
}

unsigned HttpResponse::status() const { return impl_->parser.get().result_int(); }

std::string_view HttpResponse::Header(std::string_view name) const {
  const auto& fields = impl_->parser.get().base();
  auto it = fields.find(name);
  return it == fields.end() ? std::string_view() : std::string_view(it->value());
}

std::optional<std::uint64_t> HttpResponse::ContentLength() const {
  auto length = impl_->parser.content_length();
  if (!length) return std::nullopt;
  return *length;
}

bool HttpResponse::Done() const { return impl_->parser.is_done(); }

Result<std::string> HttpResponse::ReadSome(std::size_t max) {
  if (impl_->broken) return Unavailable("http: the response was cut short earlier");
  if (impl_->parser.is_done() || max == 0) return std::string();
  std::string out(std::min(max, kMaxReadChunk), '\0');
  std::size_t got = 0;
  // A read may parse only framing (chunk sizes) and deliver no body bytes; keep going.
  while (got == 0 && !impl_->parser.is_done()) {
    auto& body = impl_->parser.get().body();
    body.data = out.data();
    body.size = out.size();
    beast::error_code ec = impl_->connection->ReadSome(impl_->parser);
    if (ec) {
      impl_->broken = true;
      return Unavailable("http: reading the response body from " +
                         impl_->client->endpoint().ToString() + ": " + Describe(ec));
    }
    got = out.size() - impl_->parser.get().body().size;
  }
  out.resize(got);
  return out;
}

Result<std::string> HttpResponse::ReadAll(std::size_t limit) {
  std::string out;
  for (;;) {
    VEZA_ASSIGN_OR_RETURN(std::string chunk, ReadSome(64 << 10));
    if (chunk.empty()) return out;
    out += chunk;
    if (out.size() > limit) {
      impl_->broken = true;  // the rest is not read: the connection cannot be reused
      return Internal("http: response body larger than " + std::to_string(limit) + " bytes");
    }
  }
}

// --- HttpClient ------------------------------------------------------------------------------

HttpClient::HttpClient(Endpoint endpoint, HttpTimeouts timeouts, std::size_t max_idle)
    : endpoint_(std::move(endpoint)), timeouts_(timeouts), max_idle_(max_idle) {
  if (endpoint_.tls) {
    tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    tls_->set_default_verify_paths();
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  }
}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpConnection>> HttpClient::Connect() {
  std::unique_ptr<HttpConnection> connection;
  if (tls_) {
    connection = std::make_unique<TlsConnection>(timeouts_, *tls_);
  } else {
    connection = std::make_unique<PlainConnection>(timeouts_);
  }
  std::string step;
  beast::error_code ec = connection->Open(endpoint_, &step);
  if (ec) return Unavailable(step + " " + endpoint_.ToString() + ": " + Describe(ec));
  return connection;
}

std::unique_ptr<HttpConnection> HttpClient::TakeIdle() {
  for (;;) {
    std::unique_ptr<HttpConnection> connection;
    {
      std::lock_guard lock(mu_);
      if (idle_.empty()) return nullptr;
      // Most recently used first: the least likely to have been closed by the server.
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    if (!connection->Unusable()) return connection;
  }
}

void HttpClient::ReturnIdle(std::unique_ptr<HttpConnection> connection) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

void HttpClient::DropIdle() {
  std::vector<std::unique_ptr<HttpConnection>> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(idle_);
}

Result<std::unique_ptr<HttpResponse>> HttpClient::Send(http::request<http::string_body>& request,
                                                       bool head_request) {
  for (bool allow_reuse = true;; allow_reuse = false) {
    std::unique_ptr<HttpConnection> connection = allow_reuse ? TakeIdle() : nullptr;
    bool reused = connection != nullptr;
    if (!reused) {
      VEZA_ASSIGN_OR_RETURN(connection, Connect());
    }
    auto impl = std::make_unique<HttpResponse::Impl>();
    impl->client = this;
    impl->parser.header_limit(64 << 10);
    impl->parser.body_limit(boost::none);  // objects are streamed; callers bound what they keep
    if (head_request) impl->parser.skip(true);
    const char* step = "send to";
    beast::error_code ec = connection->Write(request);
    if (!ec) {
      step = "read reply from";
      ec = connection->ReadHeader(impl->parser);
    }
    if (!ec) {
      impl->connection = std::move(connection);
      return std::unique_ptr<HttpResponse>(new HttpResponse(std::move(impl)));
    }
    // A pooled connection the server closed while idle fails at once; its siblings are likely
    // just as stale, so go again, once, on a fresh connection. A timeout is not that case.
    if (reused && ec != beast::error::timeout) {
      log::Debug("http: pooled connection failed, retrying on a new one",
                 {{"endpoint", endpoint_.ToString()}, {"error", ec.message()}});
      DropIdle();
      continue;
    }
    return Unavailable(std::string("http: ") + step + " " + endpoint_.ToString() + ": " +
                       Describe(ec));
  }
}

}  // namespace veza::s3
