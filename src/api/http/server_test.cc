// The HTTP core over real sockets: an in-process server with test routes.
#include "api/http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <array>
#include <fstream>
#include <future>
#include <thread>

#include "http_client.h"
#include "veza_process.h"

namespace veza::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using veza::test::Get;
using veza::test::Http;
using veza::test::SendRaw;

// Answers one message of the echo sessions below: "close" closes; a read error closes with its
// code. False when the session is over.
asio::awaitable<bool> EchoOne(WebSocket& ws, const Result<std::string>& m) {
  if (!m.ok()) {
    if (m.error().code == ErrorCode::kTimeout) co_await ws.Close(1001, "idle");
    if (m.error().code == ErrorCode::kPayloadTooLarge) co_await ws.Close(1009, "too big");
    co_return false;
  }
  if (*m == "close") {
    co_await ws.Close(1000, "bye");
    co_return false;
  }
  std::string reply = (ws.LastReadWasBinary() ? "binary:" : "echo:") + *m;
  co_return (co_await ws.Write(reply)).ok();
}

// WebSocket echo with Read.
asio::awaitable<void> Echo(std::shared_ptr<WebSocket> ws) {
  for (;;) {
    auto m = co_await ws->Read();
    if (!co_await EchoOne(*ws, m)) co_return;
  }
}

// The same echo waiting with WhenReadable and reading with ReadReady, as the chat socket does
// (which holds no coroutine while idle; here the wait is turned back into a coroutine's).
asio::awaitable<void> EchoWhenReadable(std::shared_ptr<WebSocket> ws) {
  asio::steady_timer readable(ws->Executor(), asio::steady_timer::time_point::max());
  for (;;) {
    bool ready = false;
    ws->WhenReadable([&] {
      ready = true;
      readable.cancel();
    });
    while (!ready) co_await readable.async_wait(asio::as_tuple(asio::use_awaitable));
    for (;;) {
      auto m = co_await ws->ReadReady();
      if (m.ok() && !*m) break;  // nothing more now: wait again
      Result<std::string> message = m.ok() ? Result<std::string>(std::move(**m)) : Result<std::string>(m.error());
      if (!co_await EchoOne(*ws, message)) co_return;
    }
  }
}

// A WebSocket route whose session runs `echo`; the ticket query is the "authentication".
using EchoSession = asio::awaitable<void> (*)(std::shared_ptr<WebSocket>);
void AddEchoRoute(Router& router, const char* path, EchoSession echo) {
  router.Add(
      bhttp::verb::get, path,
      [echo](RequestContext& ctx) -> asio::awaitable<Response> {
        if (ctx.query != "ticket=good") co_return Problem(Error{ErrorCode::kUnauthenticated, "bad ticket"}, ctx);
        const WebSocketSession session = [echo](std::shared_ptr<WebSocket> ws) {
          auto executor = ws->Executor();
          asio::co_spawn(executor, echo(std::move(ws)), asio::detached);
        };
        co_await ctx.websocket->Accept(session);
        co_return Text(bhttp::status::ok, "ignored", "text/plain", ctx.request);
      },
      RouteOptions{.websocket = true, .max_message_bytes = 1024, .idle_timeout = 400ms});
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    router_.Add(bhttp::verb::post, "/echo", [](RequestContext& ctx) -> asio::awaitable<Response> {
      auto body = ParseJsonBody(ctx);
      if (!body.ok()) co_return Problem(body.error(), ctx);
      co_return Json(bhttp::status::ok, body.value(), ctx.request);
    });
    router_.Add(bhttp::verb::get, "/items/{id}", [](RequestContext& ctx) -> asio::awaitable<Response> {
      co_return Text(bhttp::status::ok, std::string(ctx.Param("id")), "text/plain", ctx.request);
    });
    router_.Add(bhttp::verb::delete_, "/items/{id}", [](RequestContext& ctx) -> asio::awaitable<Response> {
      co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
    });
    router_.Add(bhttp::verb::get, "/slow", [](RequestContext& ctx) -> asio::awaitable<Response> {
      asio::steady_timer timer(co_await asio::this_coro::executor, 400ms);
      co_await timer.async_wait(asio::use_awaitable);
      co_return Text(bhttp::status::ok, "slow done", "text/plain", ctx.request);
    });
    // Streams its body: answers "<bytes> <sum of bytes mod 2^32>", or the reader's error.
    router_.Add(
        bhttp::verb::post, "/upload",
        [](RequestContext& ctx) -> asio::awaitable<Response> {
          std::array<char, 4096> buf;
          std::uint32_t sum = 0;
          std::uint64_t total = 0;
          for (;;) {
            auto n = co_await ctx.body->ReadSome(buf);
            if (!n.ok()) {
              co_return Text(bhttp::status::ok, std::string(ErrorCodeName(n.error().code)), "text/plain",
                             ctx.request);
            }
            if (*n == 0) break;
            for (std::size_t i = 0; i < *n; ++i) sum += static_cast<unsigned char>(buf[i]);
            total += *n;
          }
          if (total != ctx.body->BytesRead()) co_return Text(bhttp::status::ok, "count mismatch", "text/plain", ctx.request);
          co_return Text(bhttp::status::ok, std::to_string(total) + " " + std::to_string(sum), "text/plain",
                         ctx.request);
        },
        RouteOptions{.streams_body = true, .max_body_bytes = 8 << 20});
    // A streaming route that answers without reading its body.
    router_.Add(
        bhttp::verb::put, "/upload",
        [](RequestContext& ctx) -> asio::awaitable<Response> {
          co_return Text(bhttp::status::conflict, "refused", "text/plain", ctx.request);
        },
        RouteOptions{.streams_body = true, .max_body_bytes = 8 << 20});
    // WebSocket echoes; "close" ends a session.
    AddEchoRoute(router_, "/ws", Echo);
    AddEchoRoute(router_, "/ws-ready", EchoWhenReadable);
    router_.Add(bhttp::verb::get, "/throws", [](RequestContext&) -> asio::awaitable<Response> {
      throw std::runtime_error("boom");
      co_return StringResponse{};
    });
  }

  ~HttpServerTest() override { StopServer(); }

  void StartServer(HttpServerOptions options = {}, const StaticFiles* files = nullptr) {
    options.listen = {"127.0.0.1:0"};
    options.access_log = false;
    options.io_threads = 2;  // the two threads below
    server_ = std::make_unique<HttpServer>(ioc_, options, router_, metrics_, files);
    auto bound = server_->Listen();
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    port_ = bound.value()[0].port();
    server_->Start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void StopServer(std::chrono::milliseconds grace = 1s) {
    if (!server_) return;
    std::promise<void> stopped;
    server_->Stop(grace, [&] { stopped.set_value(); });
    stopped.get_future().wait_for(10s);
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    server_.reset();
  }

  static boost::json::object ParseProblem(const test::HttpResponse& r) {
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    auto v = boost::json::parse(r.body);
    auto& o = v.as_object();
    EXPECT_EQ(o.at("status").as_int64(), r.status);
    EXPECT_TRUE(o.contains("type"));
    EXPECT_TRUE(o.contains("title"));
    EXPECT_TRUE(o.contains("detail"));
    return o;
  }

  asio::io_context ioc_;
  Router router_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
};

TEST_F(HttpServerTest, EchoesJsonAndSetsRequestId) {
  StartServer();
  auto r = Http("127.0.0.1", port_, {"POST", "/echo", R"({"a":[1,2,{"b":"ü"}]})", {{"Content-Type", "application/json"}}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(boost::json::parse(r.body), boost::json::parse(R"({"a":[1,2,{"b":"ü"}]})"));
  EXPECT_EQ(r.Header("x-request-id").size(), 16u);
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
}

TEST_F(HttpServerTest, MalformedJsonIs400ProblemAndServerKeepsServing) {
  StartServer();
  for (const char* bad : {"{", "{\"a\":}", "[1,2", "nul", "{\"a\":1}}"}) {
    auto r = Http("127.0.0.1", port_, {"POST", "/echo", bad, {{"Content-Type", "application/json"}}});
    ASSERT_EQ(r.status, 400) << bad;
    auto p = ParseProblem(r);
    EXPECT_NE(std::string(p.at("detail").as_string()).find("malformed JSON"), std::string::npos);
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_EQ(Http("127.0.0.1", port_, {"POST", "/echo", deep, {{"Content-Type", "application/json"}}}).status, 400);
  EXPECT_EQ(Get(port_, "/items/1").status, 200);
}

TEST_F(HttpServerTest, NonJsonContentTypeIs415) {
  StartServer();
  auto r = Http("127.0.0.1", port_, {"POST", "/echo", "{}", {{"Content-Type", "text/plain"}}});
  EXPECT_EQ(r.status, 415);
  ParseProblem(r);
  EXPECT_EQ(Http("127.0.0.1", port_, {"POST", "/echo", "{}", {{"Content-Type", "application/json; charset=utf-8"}}}).status, 200);
}

TEST_F(HttpServerTest, OversizedBodiesAre413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  std::string big(4096, 'x');
  auto r = Http("127.0.0.1", port_, {"POST", "/echo", big, {{"Content-Type", "application/json"}}});
  EXPECT_EQ(r.status, 413);
  ParseProblem(r);
  // Chunked: the limit trips while reading.
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  auto raw = SendRaw(port_, {chunked}, 0ms, 5s);
  EXPECT_NE(raw.received.find("HTTP/1.1 413"), std::string::npos) << raw.received;
  EXPECT_EQ(Get(port_, "/items/2").status, 200);
}

TEST_F(HttpServerTest, HugeHeaderIsRejected) {
  HttpServerOptions options;
  options.max_header_bytes = 2048;
  StartServer(options);
  auto r = Get(port_, "/items/1", {{"X-Filler", std::string(8000, 'a')}});
  EXPECT_EQ(r.status, 413);
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  StartServer();
  auto nf = Get(port_, "/api/v1/nothing");
  EXPECT_EQ(nf.status, 404);
  ParseProblem(nf);
  auto na = Http("127.0.0.1", port_, {"PUT", "/items/3", "", {}});
  EXPECT_EQ(na.status, 405);
  ParseProblem(na);
  EXPECT_NE(na.Header("allow").find("DELETE"), std::string::npos);
  EXPECT_NE(na.Header("allow").find("GET"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestLineIs400) {
  StartServer();
  auto raw = SendRaw(port_, {"GARBAGE\r\n\r\n"}, 0ms, 5s);
  EXPECT_NE(raw.received.find("HTTP/1.1 400"), std::string::npos) << raw.received;
  EXPECT_NE(raw.received.find("application/problem+json"), std::string::npos);
  auto raw2 = SendRaw(port_, {"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n"}, 0ms, 5s);
  EXPECT_NE(raw2.received.find("HTTP/1.1 400"), std::string::npos) << raw2.received;
  EXPECT_EQ(Get(port_, "/items/1").status, 200);
}

TEST_F(HttpServerTest, ClientRequestIdIsKeptWhenSafeAndReplacedOtherwise) {
  StartServer();
  EXPECT_EQ(Get(port_, "/items/1", {{"X-Request-Id", "abc-123.x_y"}}).Header("x-request-id"), "abc-123.x_y");
  auto replaced = Get(port_, "/items/1", {{"X-Request-Id", "bad id\"<script>"}});
  EXPECT_EQ(replaced.Header("x-request-id").size(), 16u);
  EXPECT_EQ(Get(port_, "/items/1", {{"X-Request-Id", std::string(500, 'a')}}).Header("x-request-id").size(), 16u);
}

TEST_F(HttpServerTest, HeadAnswersHeadersOnly) {
  StartServer();
  auto r = Http("127.0.0.1", port_, {"HEAD", "/items/12345", "", {}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "5");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServerKeepsServing) {
  StartServer();
  auto r = Get(port_, "/throws");
  EXPECT_EQ(r.status, 500);
  auto p = ParseProblem(r);
  EXPECT_EQ(std::string(p.at("detail").as_string()), "internal error");  // no internals leaked
  EXPECT_EQ(Get(port_, "/items/1").status, 200);
}

TEST_F(HttpServerTest, PipelinedRequestsOnOneConnection) {
  StartServer();
  auto raw = SendRaw(port_,
                     {"GET /items/a HTTP/1.1\r\nHost: x\r\n\r\nGET /items/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
                     0ms, 5s);
  auto first = raw.received.find("\r\n\r\na");
  auto second = raw.received.find("\r\n\r\nb");
  EXPECT_NE(first, std::string::npos) << raw.received;
  EXPECT_NE(second, std::string::npos) << raw.received;
  EXPECT_LT(first, second);
  EXPECT_TRUE(raw.closed_by_server);
}

TEST_F(HttpServerTest, SlowHeadersAreCutAtTheHeaderTimeout) {
  HttpServerOptions options;
  options.header_timeout = 800ms;
  StartServer(options);
  // One header byte every 100 ms would keep a per-read timeout alive forever.
  std::vector<std::string> drip = {"GET /items/1 HTTP/1.1\r\n"};
  for (int i = 0; i < 60; ++i) drip.push_back("X");
  auto raw = SendRaw(port_, drip, 100ms, 10s);
  EXPECT_TRUE(raw.closed_by_server);
  EXPECT_EQ(raw.received.find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  StartServer(options);
  auto raw = SendRaw(port_, {"GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"}, 0ms, 5s);
  EXPECT_NE(raw.received.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_TRUE(raw.closed_by_server);
}

TEST_F(HttpServerTest, CorsPreflightAndActualRequests) {
  HttpServerOptions options;
  options.cors.allowed_origins = {"https://app.example"};
  StartServer(options);
  auto pre = Http("127.0.0.1", port_, {"OPTIONS", "/echo", "", {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(pre.Header("access-control-allow-methods").find("POST"), std::string::npos);

  auto denied = Http("127.0.0.1", port_, {"OPTIONS", "/echo", "", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}}});
  EXPECT_EQ(denied.status, 204);
  EXPECT_EQ(denied.Header("access-control-allow-origin"), "");

  auto actual = Get(port_, "/items/1", {{"Origin", "https://app.example"}});
  EXPECT_EQ(actual.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(actual.Header("vary"), "Origin");
  EXPECT_EQ(Get(port_, "/items/1", {{"Origin", "https://evil.example"}}).Header("access-control-allow-origin"), "");
}

TEST_F(HttpServerTest, MetricsCountRequestsByRoutePatternAndStatus) {
  StartServer();
  Get(port_, "/items/1");
  Get(port_, "/items/2");
  Get(port_, "/nope");
  // The server records a request just after writing its response: allow it a moment.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = metrics_.Render();
    if (text.find("status=\"404\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(text.find(R"(veza_http_requests_total{route="/items/{id}",method="GET",status="200"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(veza_http_requests_total{route="unmatched",method="GET",status="404"} 1)"), std::string::npos);
  EXPECT_NE(text.find("veza_http_request_duration_seconds_bucket{route=\"/items/{id}\""), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequests) {
  StartServer();
  auto slow = std::async(std::launch::async, [&] { return Get(port_, "/slow"); });
  std::this_thread::sleep_for(100ms);  // let the request reach the handler
  std::promise<void> stopped;
  server_->Stop(5s, [&] { stopped.set_value(); });
  auto r = slow.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(stopped.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(Get(port_, "/items/1").status, 0);  // no longer accepting
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  server_.reset();
}

TEST_F(HttpServerTest, GracePeriodBoundsTheStop) {
  StartServer();
  // A client that sent half a request keeps its connection busy; Stop must not wait forever.
  std::thread hog([&] { SendRaw(port_, {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"}, 0ms, 3s); });
  std::this_thread::sleep_for(100ms);
  std::promise<void> stopped;
  auto start = std::chrono::steady_clock::now();
  server_->Stop(300ms, [&] { stopped.set_value(); });
  EXPECT_EQ(stopped.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  hog.join();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  server_.reset();
}

class StaticFilesServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    auto root = dir_.path();
    std::filesystem::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<!doctype html><title>veza</title>";
    std::ofstream(root / "assets" / "app.js") << "console.log('full');";
    std::ofstream(root / "assets" / "app.js.gz") << "GZIPPED";
    std::ofstream(root / "data.bin") << "0123456789";
    files_ = std::make_unique<StaticFiles>(root);
    StartServer({}, files_.get());
  }
  void TearDown() override { StopServer(); }
  veza::test::TempDir dir_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesServerTest, ServesWithETagAndConditionalGet) {
  auto r = Get(port_, "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>veza</title>");
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  std::string etag = r.Header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = Get(port_, "/index.html", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
}

TEST_F(StaticFilesServerTest, RangesAndUnsatisfiableRanges) {
  auto r = Get(port_, "/data.bin", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "2345");
  EXPECT_EQ(r.Header("content-range"), "bytes 2-5/10");
  EXPECT_EQ(Get(port_, "/data.bin", {{"Range", "bytes=-3"}}).body, "789");
  EXPECT_EQ(Get(port_, "/data.bin", {{"Range", "bytes=7-"}}).body, "789");
  auto bad = Get(port_, "/data.bin", {{"Range", "bytes=50-"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.Header("content-range"), "bytes */10");
  // If-Range with a stale validator: the whole file.
  auto stale = Get(port_, "/data.bin", {{"Range", "bytes=2-5"}, {"If-Range", "\"old\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, "0123456789");
}

TEST_F(StaticFilesServerTest, BigFilesArriveWholeAndClientsLeavingMidFileHarmNobody) {
  // Far more than a socket buffer: the kernel's sendfile has to wait for the reader many times.
  std::string big(24 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  std::ofstream(dir_.path() / "big.bin", std::ios::binary) << big;
  auto whole = Get(port_, "/big.bin");
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == big) << "got " << whole.body.size() << " bytes";
  auto part = Get(port_, "/big.bin", {{"Range", "bytes=10000000-10999999"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_TRUE(part.body == big.substr(10000000, 1000000));
  // Clients that read a little and hang up: each write to them fails (EPIPE, a reset), and
  // that must end only their connection (a SIGPIPE would end the process).
  asio::io_context client;
  for (int i = 0; i < 5; ++i) {
    asio::ip::tcp::socket sock(client);
    sock.connect({asio::ip::make_address("127.0.0.1"), port_});
    asio::write(sock, asio::buffer(std::string("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::array<char, 4096> some{};
    asio::read(sock, asio::buffer(some));
    sock.set_option(asio::socket_base::linger(true, 0));  // close with a reset
    sock.close();
  }
  std::this_thread::sleep_for(200ms);
  auto after = Get(port_, "/data.bin");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "0123456789");
}

TEST_F(StaticFilesServerTest, PrecompressedVariantAndImmutableAssets) {
  auto gz = Get(port_, "/assets/app.js", {{"Accept-Encoding", "gzip, deflate"}});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, "GZIPPED");
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  EXPECT_EQ(gz.Header("vary"), "Accept-Encoding");
  EXPECT_NE(gz.Header("cache-control").find("immutable"), std::string::npos);
  auto plain = Get(port_, "/assets/app.js");
  EXPECT_EQ(plain.body, "console.log('full');");
  EXPECT_EQ(plain.Header("content-encoding"), "");
  EXPECT_NE(gz.Header("etag"), plain.Header("etag"));
}

TEST_F(StaticFilesServerTest, SpaFallbackTraversalAndMissingAssets) {
  auto app_route = Get(port_, "/tracks/42");
  EXPECT_EQ(app_route.status, 200);
  EXPECT_EQ(app_route.body, "<!doctype html><title>veza</title>");
  EXPECT_EQ(Get(port_, "/assets/missing.js").status, 404);
  EXPECT_EQ(Get(port_, "/api/v1/unknown").status, 404);  // the API never falls back to the app
  auto traversal = Get(port_, "/%2e%2e/%2e%2e/etc/passwd");
  EXPECT_EQ(traversal.status, 400);
  EXPECT_EQ(traversal.body.find("root:"), std::string::npos);
}

// TLS: a self-signed certificate made with the openssl CLI.
class TlsServerTest : public HttpServerTest {
 protected:
  bool MakeCert(const std::string& name, const std::string& cn) {
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" +
                      cn + " -keyout " + (dir_.path() / (name + ".key")).string() + " -out " +
                      (dir_.path() / (name + ".crt")).string() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }
  std::string FetchSubject() {
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream(ioc, ctx);
    boost::beast::get_lowest_layer(stream).connect({asio::ip::make_address("127.0.0.1"), port_});
    stream.handshake(asio::ssl::stream_base::client);
    X509* cert = SSL_get_peer_certificate(stream.native_handle());
    char buf[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
    X509_free(cert);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/items/tls", 11};
    req.set(bhttp::field::host, "localhost");
    bhttp::write(stream, req);
    boost::beast::flat_buffer b;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, b, res);
    return std::string(buf) + "|" + res.body();
  }
  void TearDown() override { StopServer(); }
  veza::test::TempDir dir_;
};

TEST_F(TlsServerTest, ServesHttpsAndReloadsTheCertificate) {
  ASSERT_TRUE(MakeCert("a", "first.test"));
  ASSERT_TRUE(MakeCert("b", "second.test"));
  std::filesystem::copy_file(dir_.path() / "a.crt", dir_.path() / "live.crt");
  std::filesystem::copy_file(dir_.path() / "a.key", dir_.path() / "live.key");
  HttpServerOptions options;
  options.tls = TlsOptions{(dir_.path() / "live.crt").string(), (dir_.path() / "live.key").string()};
  StartServer(options);
  EXPECT_EQ(FetchSubject(), "/CN=first.test|tls");

  std::filesystem::copy_file(dir_.path() / "b.crt", dir_.path() / "live.crt", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_.path() / "b.key", dir_.path() / "live.key", std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  EXPECT_EQ(FetchSubject(), "/CN=second.test|tls");

  std::ofstream(dir_.path() / "live.key") << "not a key";
  EXPECT_FALSE(server_->ReloadTls().ok());
  EXPECT_EQ(FetchSubject(), "/CN=second.test|tls");  // the old certificate stays
}

// Issue 9: the web app's security headers, the API's, and HSTS only over TLS.
TEST_F(StaticFilesServerTest, WebAppCarriesSecurityHeaders) {
  auto page = Get(port_, "/tracks/42");
  ASSERT_EQ(page.status, 200);
  std::string csp = page.Header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src 'self' 'unsafe-inline'"), std::string::npos) << csp;
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(page.Header("referrer-policy"), "strict-origin-when-cross-origin");
  EXPECT_EQ(page.Header("strict-transport-security"), "");  // plain HTTP
  auto asset = Get(port_, "/assets/app.js");
  EXPECT_EQ(asset.Header("x-content-type-options"), "nosniff");
  EXPECT_NE(asset.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  auto api = Get(port_, "/api/v1/unknown");
  EXPECT_EQ(api.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(api.Header("referrer-policy"), "no-referrer");
}

TEST_F(HttpServerTest, ApiAnswersCarrySecurityHeadersWithoutHsts) {
  StartServer();
  auto r = Get(port_, "/items/7");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("strict-transport-security"), "");
}

TEST_F(TlsServerTest, HstsOnlyOverTls) {
  ASSERT_TRUE(MakeCert("live", "hsts.test"));
  HttpServerOptions options;
  options.tls = TlsOptions{(dir_.path() / "live.crt").string(), (dir_.path() / "live.key").string()};
  StartServer(options);
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream(ioc, ctx);
  boost::beast::get_lowest_layer(stream).connect({asio::ip::make_address("127.0.0.1"), port_});
  stream.handshake(asio::ssl::stream_base::client);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/items/hsts", 11};
  req.set(bhttp::field::host, "localhost");
  bhttp::write(stream, req);
  boost::beast::flat_buffer b;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, b, res);
  EXPECT_EQ(res["Strict-Transport-Security"], "max-age=31536000; includeSubDomains");
  EXPECT_EQ(res["Content-Security-Policy"], "default-src 'none'; frame-ancestors 'none'");
}

TEST(HttpServerListen, ReportsAddressInUseClearly) {
  asio::io_context ioc;
  Router router;
  Metrics metrics;
  HttpServerOptions a;
  a.listen = {"127.0.0.1:0"};
  HttpServer first(ioc, a, router, metrics, nullptr);
  auto bound = first.Listen();
  ASSERT_TRUE(bound.ok());
  HttpServerOptions b;
  b.listen = {"127.0.0.1:" + std::to_string(bound.value()[0].port())};
  HttpServer second(ioc, b, router, metrics, nullptr);
  auto clash = second.Listen();
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos);
  HttpServerOptions c;
  c.listen = {"localhost:80"};
  HttpServer third(ioc, c, router, metrics, nullptr);
  EXPECT_FALSE(third.Listen().ok());
}

}  // namespace
}  // namespace veza::http

namespace veza::http {
namespace {

std::string PatternBytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

std::string SumOf(const std::string& s) {
  std::uint32_t sum = 0;
  for (unsigned char c : s) sum += c;
  return std::to_string(s.size()) + " " + std::to_string(sum);
}

TEST_F(HttpServerTest, StreamingRouteReadsBodiesPastTheServerWideLimit) {
  StartServer();  // server-wide body limit: 1 MiB
  std::string big = PatternBytes(5 << 20);
  auto r = Http("127.0.0.1", port_, {"POST", "/upload", big, {{"Content-Type", "application/octet-stream"}}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, SumOf(big));
  // The same body to an ordinary route is still 413.
  EXPECT_EQ(Http("127.0.0.1", port_, {"POST", "/echo", big, {{"Content-Type", "application/json"}}}).status, 413);
}

TEST_F(HttpServerTest, StreamingRouteReadsChunkedBodiesAndKeepsTheConnection) {
  StartServer();
  std::string chunked =
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "GET /items/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto x = test::SendRaw(port_, {chunked}, 0ms, 5s);
  EXPECT_NE(x.received.find(SumOf("hello world")), std::string::npos) << x.received;
  EXPECT_NE(x.received.find("after"), std::string::npos) << "pipelined request after a streamed body";
}

TEST_F(HttpServerTest, StreamingRouteEnforcesItsOwnLimit) {
  StartServer();
  // Declared too large: refused before any body byte is read.
  auto early = test::SendRaw(
      port_, {"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n"}, 0ms, 5s);
  EXPECT_NE(early.received.find("413"), std::string::npos) << early.received;
  EXPECT_TRUE(early.closed_by_server);
  // Chunked past the limit: the handler's reader reports it.
  std::string chunk(1 << 20, 'a');
  std::string body;
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 9; ++i) body += size_line + chunk + "\r\n";
  body += "0\r\n\r\n";
  auto late = test::SendRaw(port_, {"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body},
                            0ms, 10s);
  EXPECT_NE(late.received.find(std::string(ErrorCodeName(ErrorCode::kPayloadTooLarge))), std::string::npos);
}

TEST_F(HttpServerTest, StreamingBodyLeftUnreadClosesTheConnectionAfterTheAnswer) {
  StartServer();
  auto x = test::SendRaw(port_,
                         {"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                              std::string(1000, 'b')},
                         0ms, 5s);
  EXPECT_NE(x.received.find("409"), std::string::npos) << x.received;
  EXPECT_NE(x.received.find("Connection: close"), std::string::npos) << x.received;
  EXPECT_TRUE(x.closed_by_server);
}

TEST_F(HttpServerTest, StalledStreamingBodyTimesOutInTheHandler) {
  HttpServerOptions options;
  options.body_timeout = 300ms;
  StartServer(options);
  auto x = test::SendRaw(port_, {"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"},
                         0ms, 5s);
  EXPECT_NE(x.received.find(std::string(ErrorCodeName(ErrorCode::kTimeout))), std::string::npos) << x.received;
  EXPECT_TRUE(x.closed_by_server);
}

}  // namespace
}  // namespace veza::http

namespace veza::http {
namespace {

namespace websocket = boost::beast::websocket;

struct WsClient {
  asio::io_context ioc;
  websocket::stream<asio::ip::tcp::socket> ws{ioc};
  websocket::response_type response;

  boost::system::error_code Connect(unsigned short port, const std::string& target) {
    boost::system::error_code ec;
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) ws.handshake(response, "127.0.0.1", target, ec);
    return ec;
  }
  std::string Read(boost::system::error_code& ec) {
    boost::beast::flat_buffer b;
    ws.read(b, ec);
    return boost::beast::buffers_to_string(b.data());
  }
};

TEST_F(HttpServerTest, WebSocketEchoesTextAndBinaryAndClosesCleanly) {
  StartServer();
  WsClient c;
  ASSERT_FALSE(c.Connect(port_, "/ws?ticket=good"));
  EXPECT_EQ(c.response.result_int(), 101);
  boost::system::error_code ec;
  c.ws.text(true);
  c.ws.write(asio::buffer(std::string("hello")));
  EXPECT_EQ(c.Read(ec), "echo:hello");
  c.ws.binary(true);
  c.ws.write(asio::buffer(std::string("\x01\x02", 2)));
  EXPECT_EQ(c.Read(ec), std::string("binary:\x01\x02", 9));
  c.ws.text(true);
  c.ws.write(asio::buffer(std::string("close")));
  c.Read(ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(c.ws.reason().code, 1000);
  // The server keeps serving plain HTTP.
  EXPECT_EQ(Get(port_, "/items/1").status, 200);
}

TEST_F(HttpServerTest, WebSocketRefusedUpgradeIsAnHttpProblem) {
  StartServer();
  WsClient c;
  auto ec = c.Connect(port_, "/ws?ticket=bad");
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(c.response.result_int(), 401);
  // A plain GET to a WebSocket route is a 400 problem, not the handler.
  auto r = Get(port_, "/ws?ticket=good");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("WebSocket upgrade"), std::string::npos);
}

// The opening handshake (RFC 6455 section 4.2) is checked before the handler runs: another
// version or a key that is not base64 of 16 bytes is a 400 problem naming version 13.
TEST_F(HttpServerTest, WebSocketBadHandshakesAreProblemsAndAGoodOneIsAnsweredPerTheRfc) {
  StartServer();
  auto upgrade = [&](const std::string& version, const std::string& key) {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), port_});
    std::string request = "GET /ws?ticket=good HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string head;
    char c;
    boost::system::error_code ec;
    while (head.find("\r\n\r\n") == std::string::npos && asio::read(socket, asio::buffer(&c, 1), ec) == 1) head += c;
    return head;
  };
  std::string good = upgrade("13", "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(good.rfind("HTTP/1.1 101", 0), 0u) << good;
  EXPECT_NE(good.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << good;
  for (auto [version, key] : std::vector<std::pair<std::string, std::string>>{
           {"8", "dGhlIHNhbXBsZSBub25jZQ=="}, {"13", "short"}, {"13", "dGhlIHNhbXBsZSBub25jZQ"},
           {"13", "dGhlIHNhbXBsZSBub2!jZQ=="}}) {
    std::string head = upgrade(version, key);
    EXPECT_EQ(head.rfind("HTTP/1.1 400", 0), 0u) << version << " " << key << ": " << head;
    EXPECT_NE(head.find("application/problem+json"), std::string::npos) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Version: 13"), std::string::npos) << head;
  }
}

TEST_F(HttpServerTest, WebSocketOversizedMessageClosesWith1009) {
  StartServer();
  WsClient c;
  ASSERT_FALSE(c.Connect(port_, "/ws?ticket=good"));
  c.ws.write(asio::buffer(std::string(2000, 'x')));
  boost::system::error_code ec;
  c.Read(ec);
  // The close frame arrives; the client's own teardown may then find the socket already gone.
  EXPECT_TRUE(ec == websocket::error::closed || ec == asio::error::not_connected) << ec.message();
  EXPECT_EQ(c.ws.reason().code, 1009);
  EXPECT_EQ(Get(port_, "/items/2").status, 200);
}

TEST_F(HttpServerTest, WebSocketIdlePeerIsClosedAfterTheIdleTimeout) {
  StartServer();
  WsClient c;
  ASSERT_FALSE(c.Connect(port_, "/ws?ticket=good"));
  boost::system::error_code ec;
  c.Read(ec);  // nothing sent: the server gives up after 400 ms
  EXPECT_TRUE(ec == websocket::error::closed || ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}


// A client that writes frames by hand: what a well-behaved library never sends (unmasked
// frames, bad UTF-8, reserved bits), and exact interleavings (a ping between fragments).
struct RawWsClient {
  asio::io_context ioc;
  asio::ip::tcp::socket socket{ioc};

  // Sends the upgrade request followed by first_frames in the same write; true on 101.
  bool Connect(unsigned short port, const std::string& first_frames = {}, const std::string& path = "/ws") {
    boost::system::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    std::string request =
        "GET " + path + "?ticket=good HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + first_frames;
    asio::write(socket, asio::buffer(request), ec);
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && asio::read(socket, asio::buffer(&c, 1), ec) == 1) head += c;
    return head.rfind("HTTP/1.1 101", 0) == 0;
  }
  static std::string Frame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
    std::string out(1, static_cast<char>(first_byte));
    const std::uint8_t mask_bit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
      out += static_cast<char>(mask_bit | payload.size());
    } else {
      out += static_cast<char>(mask_bit | 126);
      out += static_cast<char>(payload.size() >> 8);
      out += static_cast<char>(payload.size() & 0xFF);
    }
    const char key[4] = {0x0f, 0x5a, 0x3c, 0x71};
    if (masked) out.append(key, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) out += masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i];
    return out;
  }
  void Send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  struct Received {
    int opcode = -1;  // -1: the connection ended
    std::string payload;
    std::uint16_t CloseCode() const {
      return payload.size() >= 2 ? static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                              static_cast<unsigned char>(payload[1]))
                                 : 0;
    }
  };
  // The next frame is a close frame with this code.
  void ExpectClose(std::uint16_t code) {
    auto close = Next();
    EXPECT_EQ(close.opcode, 0x8);
    EXPECT_EQ(close.CloseCode(), code);
  }
  // The next server frame (servers never mask).
  Received Next() {
    Received r;
    boost::system::error_code ec;
    unsigned char h[2];
    if (asio::read(socket, asio::buffer(h), ec) != 2) return r;
    EXPECT_EQ(h[1] & 0x80, 0) << "a server frame was masked";
    EXPECT_TRUE(h[0] & 0x80) << "the server fragmented a frame";
    std::size_t len = h[1] & 0x7F;
    if (len == 126) {
      unsigned char e[2];
      asio::read(socket, asio::buffer(e), ec);
      len = (std::size_t{e[0]} << 8) | e[1];
    }
    r.payload.resize(len);
    if (len > 0 && asio::read(socket, asio::buffer(r.payload), ec) != len) return r;
    r.opcode = h[0] & 0x0F;
    return r;
  }
};

TEST_F(HttpServerTest, WebSocketReassemblesFragmentsAndAnswersAPingBetweenThem) {
  StartServer();
  RawWsClient c;
  // The first frames travel with the upgrade request: the server must not lose them.
  ASSERT_TRUE(c.Connect(port_, RawWsClient::Frame(0x01, "hel")));
  c.Send(RawWsClient::Frame(0x89, "are you there") + RawWsClient::Frame(0x00, "lo ") +
         RawWsClient::Frame(0x80, "w\xc3\xb6rld"));
  auto pong = c.Next();
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "are you there");
  auto echo = c.Next();
  EXPECT_EQ(echo.opcode, 0x1);
  EXPECT_EQ(echo.payload, "echo:hello w\xc3\xb6rld");
  // A pong from the client (unsolicited) is allowed and ignored.
  c.Send(RawWsClient::Frame(0x8A, "") + RawWsClient::Frame(0x81, "again"));
  EXPECT_EQ(c.Next().payload, "echo:again");
}

// The session of /ws-ready holds no coroutine between frames (WhenReadable, ReadReady): the
// frames that came with the upgrade request, a ping between fragments, several frames in one
// segment, the idle timeout and an oversized message behave as with Read.
TEST_F(HttpServerTest, WebSocketReadyReadsWhatCameWithTheUpgradeAndAnswersPings) {
  StartServer();
  RawWsClient c;
  ASSERT_TRUE(c.Connect(port_, RawWsClient::Frame(0x81, "first") + RawWsClient::Frame(0x01, "hel"), "/ws-ready"));
  EXPECT_EQ(c.Next().payload, "echo:first");
  c.Send(RawWsClient::Frame(0x89, "are you there") + RawWsClient::Frame(0x00, "lo ") +
         RawWsClient::Frame(0x80, "w\xc3\xb6rld") + RawWsClient::Frame(0x82, "\x01"));
  auto pong = c.Next();
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "are you there");
  EXPECT_EQ(c.Next().payload, "echo:hello w\xc3\xb6rld");
  EXPECT_EQ(c.Next().payload, "binary:\x01");
  // Half a frame, then the rest later: the half waits in the buffer.
  std::string again = RawWsClient::Frame(0x81, "again");
  c.Send(again.substr(0, 3));
  std::this_thread::sleep_for(50ms);
  c.Send(again.substr(3));
  EXPECT_EQ(c.Next().payload, "echo:again");
  c.Send(RawWsClient::Frame(0x81, "close"));
  c.ExpectClose(1000);
}

TEST_F(HttpServerTest, WebSocketReadyClosesAnIdlePeerAndAnOversizedMessage) {
  StartServer();
  RawWsClient idle;
  ASSERT_TRUE(idle.Connect(port_, {}, "/ws-ready"));
  idle.ExpectClose(1001);  // nothing sent: the server gives up after 400 ms
  RawWsClient big;
  ASSERT_TRUE(big.Connect(port_, {}, "/ws-ready"));
  big.Send(RawWsClient::Frame(0x81, std::string(2000, 'x')));
  big.ExpectClose(1009);
  EXPECT_EQ(Get(port_, "/items/3").status, 200);
}

TEST_F(HttpServerTest, WebSocketClientCloseIsAnsweredWithItsCode) {
  StartServer();
  RawWsClient c;
  ASSERT_TRUE(c.Connect(port_));
  c.Send(RawWsClient::Frame(0x88, std::string("\x0f\xa0", 2) + "leaving"));
  c.ExpectClose(4000);
  EXPECT_EQ(c.Next().opcode, -1);  // then the server closes the connection
}

TEST_F(HttpServerTest, WebSocketProtocolErrorsCloseWith1002) {
  StartServer();
  for (const std::string& bad : {RawWsClient::Frame(0x81, "unmasked", /*masked=*/false),
                                 RawWsClient::Frame(0xC1, "rsv1 set"), RawWsClient::Frame(0x80, "stray continuation"),
                                 RawWsClient::Frame(0x83, "reserved opcode"),
                                 RawWsClient::Frame(0x09, "fragmented ping")}) {
    RawWsClient c;
    ASSERT_TRUE(c.Connect(port_));
    c.Send(bad);
    c.ExpectClose(1002);
  }
  EXPECT_EQ(Get(port_, "/items/3").status, 200);
}

TEST_F(HttpServerTest, WebSocketInvalidUtf8TextClosesWith1007) {
  StartServer();
  RawWsClient c;
  ASSERT_TRUE(c.Connect(port_));
  c.Send(RawWsClient::Frame(0x81, "fine"));
  EXPECT_EQ(c.Next().payload, "echo:fine");
  c.Send(RawWsClient::Frame(0x81, "bad \xed\xa0\x80 surrogate"));
  c.ExpectClose(1007);
}

TEST_F(HttpServerTest, WebSocketFragmentsOverTheLimitCloseWith1009) {
  StartServer();
  RawWsClient c;
  ASSERT_TRUE(c.Connect(port_));
  c.Send(RawWsClient::Frame(0x01, std::string(600, 'a')) + RawWsClient::Frame(0x80, std::string(600, 'b')));
  c.ExpectClose(1009);
}

TEST_F(HttpServerTest, WebSocketBeastClientFragmentsAndPings) {
  StartServer();
  WsClient c;
  ASSERT_FALSE(c.Connect(port_, "/ws?ticket=good"));
  std::string pongs;
  c.ws.control_callback([&](websocket::frame_type kind, boost::beast::string_view payload) {
    if (kind == websocket::frame_type::pong) pongs += std::string(payload);
  });
  c.ws.text(true);
  c.ws.write_some(false, asio::buffer(std::string("frag")));
  c.ws.write_some(true, asio::buffer(std::string("mented")));
  c.ws.ping("p1");
  boost::system::error_code ec;
  EXPECT_EQ(c.Read(ec), "echo:fragmented");
  c.ws.write(asio::buffer(std::string("after the ping")));
  EXPECT_EQ(c.Read(ec), "echo:after the ping");
  EXPECT_EQ(pongs, "p1");
  c.ws.close(websocket::close_code::normal, ec);
  EXPECT_FALSE(ec) << ec.message();
}

}  // namespace
}  // namespace veza::http
