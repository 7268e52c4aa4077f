// HttpClient against a tiny scripted HTTP server on loopback: keep-alive reuse, the retry when
// a pooled connection turns out dead, timeouts, and connections abandoned mid-body.
#include "backends/blob_s3/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace veza::s3 {
namespace {

// Reads requests on each accepted connection and lets a script decide, per request, what to
// send back. Plain POSIX sockets, so the server shares no code with the client under test.
class ScriptedServer {
 public:
  enum class Action { kRespond, kCloseWithoutReply, kHang };
  struct Request {
    int connection = 0;  // 1-based accept order
    int index = 0;       // 1-based request number on that connection
    std::string head;    // request line and headers
    std::string body;
  };
  using Script = std::function<Action(const Request&, std::string* response)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }

  Endpoint endpoint() const { return Endpoint{false, "127.0.0.1", std::to_string(port_)}; }
  int accepted() const { return accepted_.load(); }

  static std::string Ok(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           std::string(body);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      if (stopping_) {
        ::close(fd);
        return;
      }
      int number = ++accepted_;
      std::lock_guard lock(mu_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd, number] { Serve(fd, number); });
    }
  }

  void Serve(int fd, int connection) {
    std::string buffer;
    char chunk[65536];
    for (int index = 1;; ++index) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      Request request;
      request.connection = connection;
      request.index = index;
      request.head = buffer.substr(0, head_end);
      std::size_t length = 0;
      if (auto pos = request.head.find("Content-Length: "); pos != std::string::npos) {
        length = std::stoul(request.head.substr(pos + 16));
      }
      buffer.erase(0, head_end + 4);
      while (buffer.size() < length) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      request.body = buffer.substr(0, length);
      buffer.erase(0, length);
      std::string response;
      Action action = script_(request, &response);
      if (action == Action::kCloseWithoutReply) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      if (action == Action::kHang) {
        while (::read(fd, chunk, sizeof chunk) > 0) {
        }
        return;
      }
      std::string_view out = response;
      while (!out.empty()) {
        ssize_t n = ::write(fd, out.data(), out.size());
        if (n <= 0) return;
        out.remove_prefix(static_cast<std::size_t>(n));
      }
    }
  }

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> workers_;
};

http::request<http::string_body> Get(std::string target) {
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "test");
  return request;
}

TEST(HttpClient, StreamsBodyAndReusesTheConnection) {
  ScriptedServer server([](const ScriptedServer::Request& r, std::string* response) {
    *response =
        ScriptedServer::Ok(r.head.substr(0, r.head.find(' ')) + " body " + std::to_string(r.index));
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  for (int i = 1; i <= 3; ++i) {
    auto request = Get("/x");
    auto response = client.Send(request, false);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ((*response)->status(), 200u);
    EXPECT_EQ((*response)->ContentLength().value_or(0), 10u);
    auto first = (*response)->ReadSome(4);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(*first, "GET ");
    auto rest = (*response)->ReadAll(1000);
    ASSERT_TRUE(rest.ok());
    EXPECT_EQ(*rest, "body " + std::to_string(i));
    EXPECT_TRUE((*response)->Done());
  }
  EXPECT_EQ(server.accepted(), 1) << "keep-alive connection reused";
}

TEST(HttpClient, HeadResponsesHaveNoBody) {
  ScriptedServer server([](const ScriptedServer::Request&, std::string* response) {
    *response = "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nETag: \"e\"\r\n\r\n";
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  for (int i = 0; i < 2; ++i) {
    http::request<http::string_body> request{http::verb::head, "/k", 11};
    auto response = client.Send(request, true);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ((*response)->ContentLength().value_or(0), 12345u);
    EXPECT_EQ((*response)->Header("etag"), "\"e\"");
    EXPECT_TRUE((*response)->Done());
  }
  EXPECT_EQ(server.accepted(), 1);
}

// The race keep-alive clients must survive: the server closes an idle connection just as the
// client sends on it. The request goes again on a new connection.
TEST(HttpClient, RetriesOnANewConnectionWhenAPooledOneDies) {
  ScriptedServer server([](const ScriptedServer::Request& r, std::string* response) {
    if (r.connection == 1 && r.index == 2) return ScriptedServer::Action::kCloseWithoutReply;
    *response = ScriptedServer::Ok("conn " + std::to_string(r.connection) + " body " + r.body);
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  for (const char* body : {"one", "two"}) {
    http::request<http::string_body> request{http::verb::put, "/k", 11};
    request.body() = body;
    request.prepare_payload();
    auto response = client.Send(request, false);
    ASSERT_TRUE(response.ok()) << response.error().message;
    auto text = (*response)->ReadAll(1000);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text,
              std::string(body == std::string("one") ? "conn 1" : "conn 2") + " body " + body);
  }
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClient, ResponseDroppedMidBodyIsNotReused) {
  ScriptedServer server([](const ScriptedServer::Request& r, std::string* response) {
    *response =
        ScriptedServer::Ok(r.head.find("/big") != std::string::npos ? std::string(1 << 20, 'b')
                                                                    : std::string("small"));
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  {
    auto request = Get("/big");
    auto response = client.Send(request, false);
    ASSERT_TRUE(response.ok());
    auto some = (*response)->ReadSome(10);
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(*some, "bbbbbbbbbb");
  }
  auto request = Get("/small");
  auto response = client.Send(request, false);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(*(*response)->ReadAll(100), "small");
  EXPECT_EQ(server.accepted(), 2) << "the half-read connection was closed, not pooled";
}

TEST(HttpClient, ReadAllEnforcesItsLimit) {
  ScriptedServer server([](const ScriptedServer::Request&, std::string* response) {
    *response = ScriptedServer::Ok(std::string(5000, 'z'));
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  auto request = Get("/");
  auto response = client.Send(request, false);
  ASSERT_TRUE(response.ok());
  auto body = (*response)->ReadAll(100);
  ASSERT_FALSE(body.ok());
}

TEST(HttpClient, ConnectionRefusedIsUnavailableAndNamesTheEndpoint) {
  HttpClient client(Endpoint{false, "127.0.0.1", "1"}, HttpTimeouts{});
  auto request = Get("/");
  auto response = client.Send(request, false);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("http://127.0.0.1:1"), std::string::npos)
      << response.error().message;
}

TEST(HttpClient, SilentServerTimesOut) {
  ScriptedServer server(
      [](const ScriptedServer::Request&, std::string*) { return ScriptedServer::Action::kHang; });
  HttpClient client(server.endpoint(),
                    HttpTimeouts{std::chrono::milliseconds(1000), std::chrono::milliseconds(300)});
  auto start = std::chrono::steady_clock::now();
  auto request = Get("/");
  auto response = client.Send(request, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos)
      << response.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpClient, ChunkedBodiesAreDecoded) {
  ScriptedServer server([](const ScriptedServer::Request&, std::string* response) {
    *response =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
        "world\r\n0\r\n\r\n";
    return ScriptedServer::Action::kRespond;
  });
  HttpClient client(server.endpoint(), HttpTimeouts{});
  for (int i = 0; i < 2; ++i) {
    auto request = Get("/");
    auto response = client.Send(request, false);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(*(*response)->ReadAll(100), "hello world");
  }
  EXPECT_EQ(server.accepted(), 1);
}

// https:// against `openssl s_server` with a throw-away self-signed certificate for
// "localhost": untrusted it must fail, trusted (SSL_CERT_FILE, which OpenSSL's default verify
// paths honor) it must work, and the name must match the one connected to.
class HttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
    dir_ = std::filesystem::temp_directory_path() / ("veza-tls-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        (dir_ / "k.pem").string() + " -out " + (dir_ / "c.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    port_ = FreePort();
    std::string accept = "127.0.0.1:" + std::to_string(port_);
    std::string cert = (dir_ / "c.pem").string(), key = (dir_ / "k.pem").string();
    const char* argv[] = {"openssl", "s_server",   "-quiet", "-www",      "-accept", accept.c_str(),
                          "-cert",   cert.c_str(), "-key",   key.c_str(), nullptr};
    ASSERT_EQ(::posix_spawnp(&pid_, "openssl", nullptr, nullptr, const_cast<char**>(argv), environ),
              0);
    for (int i = 0; i < 100 && !Listening(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(Listening());
  }
  void TearDown() override {
    ::unsetenv("SSL_CERT_FILE");
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }
  bool Listening() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }
  Result<unsigned> GetStatus(const std::string& host) {
    HttpClient client(Endpoint{true, host, std::to_string(port_)}, HttpTimeouts{});
    auto request = Get("/");
    auto response = client.Send(request, false);
    if (!response.ok()) return response.take_error();
    return (*response)->status();
  }

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(HttpClientTlsTest, VerifiesThePeer) {
  auto untrusted = GetStatus("localhost");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(untrusted.error().message.find("certificate verify failed"), std::string::npos)
      << untrusted.error().message;

  ::setenv("SSL_CERT_FILE", (dir_ / "c.pem").c_str(), 1);
  auto trusted = GetStatus("localhost");
  ASSERT_TRUE(trusted.ok()) << trusted.error().message;
  EXPECT_EQ(*trusted, 200u);

  auto wrong_name = GetStatus("127.0.0.1");  // the certificate names localhost only
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_NE(wrong_name.error().message.find("certificate verify failed"), std::string::npos)
      << wrong_name.error().message;
}

TEST(Endpoint, HostHeaderOmitsDefaultPorts) {
  EXPECT_EQ((Endpoint{true, "s3.amazonaws.com", "443"}.HostHeader()), "s3.amazonaws.com");
  EXPECT_EQ((Endpoint{false, "h", "80"}.HostHeader()), "h");
  EXPECT_EQ((Endpoint{false, "h", "443"}.HostHeader()), "h:443");
  EXPECT_EQ((Endpoint{true, "::1", "9000"}.HostHeader()), "[::1]:9000");
  EXPECT_EQ((Endpoint{true, "::1", "9000"}.ToString()), "https://[::1]:9000");
}

}  // namespace
}  // namespace veza::s3
