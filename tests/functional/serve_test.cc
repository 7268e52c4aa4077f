// The real `veza` binary over real HTTP: startup, configuration, operational endpoints, errors,
// shutdown, and recovery when a backend server goes away and comes back.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <fstream>
#include <mutex>
#include <map>
#include <atomic>
#include <thread>

#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

using namespace std::chrono_literals;
using test::Env;
using test::Get;
using test::Http;
using test::TempDir;
using test::VezaProcess;

std::vector<std::string> ServeArgs(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--shutdown-grace", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string RequireEnv(const char* name) {
  std::string v = Env(name);
  if (v.empty()) ADD_FAILURE() << name << " is not set: run the tests under scripts/test-services (make test)";
  return v;
}

// Runs a command and returns its exit status.
int Shell(const std::string& cmd) { return WEXITSTATUS(std::system((cmd + " >/dev/null 2>&1").c_str())); }


bool WaitForStatus(unsigned short port, const std::string& target, int status, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Get(port, target).status == status) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST(Serve, EmbeddedDefaultsAreHealthyAndReady) {
  TempDir dir;
  VezaProcess veza(VEZA_BINARY, ServeArgs(), {}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  EXPECT_EQ(Get(veza.port(), "/healthz").status, 200);
  auto ready = Get(veza.port(), "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body;
  auto checks = boost::json::parse(ready.body).at("checks").as_object();
  for (const char* name : {"database", "blobs", "bus", "cache"}) {
    EXPECT_TRUE(checks.at(name).at("ok").as_bool()) << name;
  }
  // The embedded defaults live under ./data of the working directory.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "veza.db"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "data" / "blobs"));

  auto version = Get(veza.port(), "/api/v1/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(boost::json::parse(version.body).at("name").as_string(), "veza");

  auto metrics = Get(veza.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(veza_http_requests_total{route="/healthz",method="GET",status="200"} 1)"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes"), std::string::npos);

  EXPECT_EQ(veza.Stop(SIGTERM), 0);
  EXPECT_NE(veza.Log().find(R"("msg":"stopped")"), std::string::npos);
  // Logs are JSON lines, one per request among them, with no secrets.
  EXPECT_NE(veza.Log().find(R"("msg":"request")"), std::string::npos);
}

TEST(Serve, BadRequestsGetProblemJsonAndTheServerKeepsServing) {
  TempDir dir;
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--max-body", "1024"}), {}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  auto port = veza.port();

  auto not_found = Get(port, "/api/v1/does-not-exist");
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.Header("content-type"), "application/problem+json");
  auto problem = boost::json::parse(not_found.body).as_object();
  EXPECT_EQ(problem.at("status").as_int64(), 404);
  EXPECT_EQ(problem.at("request_id").as_string(), not_found.Header("x-request-id"));

  auto wrong_method = Http("127.0.0.1", port, {"DELETE", "/healthz", "", {}});
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("allow"), "GET, HEAD");
  EXPECT_EQ(wrong_method.Header("content-type"), "application/problem+json");

  auto too_big = Http("127.0.0.1", port, {"POST", "/api/v1/version", std::string(5000, 'x'), {{"Content-Type", "application/json"}}});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.Header("content-type"), "application/problem+json");

  auto garbage = test::SendRaw(port, {"\x16\x03\x01 not http at all\r\n\r\n"}, 0ms, 3s);
  EXPECT_NE(garbage.received.find("400"), std::string::npos);

  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_EQ(veza.Stop(SIGINT), 0);
}

TEST(Serve, ServesTheWebAppWithSpaFallback) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "web");
  std::ofstream(dir.path() / "web" / "index.html") << "<html>veza app</html>";
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--web-root", (dir.path() / "web").string()}), {}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  EXPECT_EQ(Get(veza.port(), "/").body, "<html>veza app</html>");
  EXPECT_EQ(Get(veza.port(), "/settings/profile").body, "<html>veza app</html>");
  EXPECT_EQ(Get(veza.port(), "/api/v1/nope").status, 404);
}

TEST(Serve, EnvironmentAndConfigFileAreRead) {
  TempDir dir;
  std::ofstream(dir.path() / "veza.toml") << "database = \"sqlite://./from-config.db\"\nlog-level = \"warn\"\n";
  // VEZA_LISTEN from the environment, the database from the config file.
  VezaProcess veza(VEZA_BINARY, {"serve", "--config", "veza.toml"},
                   {"VEZA_LISTEN=127.0.0.1:0"}, dir.path());
  // At warn level the "listening" line is not logged, so wait for the database file instead.
  veza.Start(3s);
  for (int i = 0; i < 100 && !std::filesystem::exists(dir.path() / "from-config.db"); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "from-config.db")) << veza.Log();
  EXPECT_EQ(veza.Log().find(R"("level":"info")"), std::string::npos) << veza.Log();
  veza.Stop(SIGTERM);
}

TEST(Serve, StartupFailsFastWithAClearMessage) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"--database", "mysql://x"}, "unknown URL scheme"},
      {{"--cache", "memcached://x"}, "unknown URL scheme"},
      {{"--database", "postgres://veza:hunter2@127.0.0.1:1/veza"}, "127.0.0.1:1"},
      {{"--cache", "redis://127.0.0.1:1"}, "127.0.0.1:1"},
      {{"--bus", "nats://127.0.0.1:1"}, "127.0.0.1:1"},
      {{"--blobs", "s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1"}, "127.0.0.1:1"},
  };
  for (const auto& c : cases) {
    VezaProcess veza(VEZA_BINARY, ServeArgs(c.args), {"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y"}, dir.path());
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(veza.Start(15s));
    EXPECT_EQ(veza.Wait(15s), 1) << c.args[1];
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
    std::string log = veza.Log();
    EXPECT_NE(log.find("startup failed"), std::string::npos) << log;
    EXPECT_NE(log.find(c.expect), std::string::npos) << log;
    EXPECT_EQ(log.find("hunter2"), std::string::npos) << "password leaked: " << log;
  }
}

TEST(Serve, FlagErrorsExitTwoAndHelpExitsZero) {
  TempDir dir;
  VezaProcess bad_role(VEZA_BINARY, ServeArgs({"--roles", "http,dj"}), {}, dir.path());
  EXPECT_FALSE(bad_role.Start(5s));
  EXPECT_EQ(bad_role.Wait(5s), 2);
  EXPECT_NE(bad_role.Log().find("unknown role 'dj'"), std::string::npos);

  VezaProcess bad_flag(VEZA_BINARY, {"serve", "--no-such-flag"}, {}, dir.path());
  bad_flag.Start(2s);
  EXPECT_EQ(bad_flag.Wait(5s), 2);

  VezaProcess help(VEZA_BINARY, {"--help"}, {}, dir.path());
  help.Start(2s);
  EXPECT_EQ(help.Wait(5s), 0);
  EXPECT_NE(help.Log().find("serve"), std::string::npos);
  EXPECT_NE(help.Log().find("migrate"), std::string::npos);

  VezaProcess version(VEZA_BINARY, {"version"}, {}, dir.path());
  version.Start(2s);
  EXPECT_EQ(version.Wait(5s), 0);
  EXPECT_EQ(version.Log().rfind("veza ", 0), 0u);
}

TEST(Serve, RolesFlagIsAccepted) {
  TempDir dir;
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--roles", "http,media"}), {}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  auto version = boost::json::parse(Get(veza.port(), "/api/v1/version").body);
  EXPECT_EQ(version.at("roles").as_string(), "http,media");
}

// --roles decide the routes: `http` the REST API, `ws` the chat socket; every node keeps the
// system routes so it can be watched and balanced.
TEST(Serve, RolesSplitTheRoutes) {
  struct Case {
    std::string roles;
    int api, ws;  // GET /api/v1/tracks, GET /ws without an upgrade (400: the route is there)
  };
  for (const Case& c : {Case{"http,ws", 200, 400}, Case{"http", 200, 404}, Case{"ws", 404, 400},
                        Case{"media", 404, 404}}) {
    TempDir dir;
    VezaProcess veza(VEZA_BINARY, ServeArgs({"--roles", c.roles}), {}, dir.path());
    ASSERT_TRUE(veza.Start()) << c.roles << ": " << veza.Log();
    EXPECT_EQ(Get(veza.port(), "/api/v1/tracks").status, c.api) << c.roles;
    EXPECT_EQ(Get(veza.port(), "/ws").status, c.ws) << c.roles;
    EXPECT_EQ(Get(veza.port(), "/healthz").status, 200) << c.roles;
    EXPECT_EQ(Get(veza.port(), "/readyz").status, 200) << c.roles;
    EXPECT_EQ(Get(veza.port(), "/metrics").status, 200) << c.roles;
    auto version = boost::json::parse(Get(veza.port(), "/api/v1/version").body);
    EXPECT_EQ(version.at("roles").as_string(), c.roles);
    EXPECT_EQ(veza.Stop(SIGTERM), 0) << c.roles;
  }
}

TEST(Migrate, AppliesOnceAndRecordsVersions) {
  TempDir dir;
  VezaProcess first(VEZA_BINARY, {"migrate"}, {}, dir.path());
  first.Start(1s);
  EXPECT_EQ(first.Wait(20s), 0) << first.Log();
  EXPECT_NE(first.Log().find(R"("versions":[1)"), std::string::npos) << first.Log();
  VezaProcess second(VEZA_BINARY, {"migrate"}, {}, dir.path());
  second.Start(1s);
  EXPECT_EQ(second.Wait(20s), 0);
  EXPECT_NE(second.Log().find(R"("versions":[])"), std::string::npos) << second.Log();
}

// The production backends: PostgreSQL, S3, NATS and Redis from scripts/test-services.
TEST(ServeWithServers, AllServerBackendsReady) {
  std::string pg = RequireEnv("VEZA_TEST_POSTGRES_URL"), s3 = RequireEnv("VEZA_TEST_S3_URL"),
              nats = RequireEnv("VEZA_TEST_NATS_URL"), redis = RequireEnv("VEZA_TEST_REDIS_URL");
  TempDir dir;
  VezaProcess veza(VEZA_BINARY,
                   ServeArgs({"--database", pg, "--blobs", s3, "--bus", nats, "--cache", redis}),
                   {"AWS_ACCESS_KEY_ID=" + Env("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=" + Env("AWS_SECRET_ACCESS_KEY")},
                   dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  auto ready = Get(veza.port(), "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(veza.Stop(SIGTERM), 0);
}

// A private PostgreSQL and Redis that this test alone stops and starts.
class BackendOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_bin_ = RequireEnv("VEZA_TEST_PG_BIN");
    if (pg_bin_.empty()) GTEST_FAIL();
    pg_port_ = test::FreeLoopbackPort();
    redis_port_ = test::FreeLoopbackPort();
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    pg_data_ = (dir_.path() / "pg").string();
    std::filesystem::create_directories(pg_data_);
    ASSERT_EQ(Shell("chown postgres:postgres " + pg_data_), 0);
    ASSERT_EQ(Shell("runuser -u postgres -- " + pg_bin_ + "/initdb -D " + pg_data_ + " -U postgres -A trust --no-locale"), 0);
    StartPostgres();
    StartRedis();
  }
  void TearDown() override {
    Shell(PgCtl() + " -m immediate stop");
    Shell("redis-cli -p " + std::to_string(redis_port_) + " shutdown nosave");
  }
  std::string PgCtl() { return "runuser -u postgres -- " + pg_bin_ + "/pg_ctl -D " + pg_data_; }
  void StartPostgres() {
    ASSERT_EQ(Shell(PgCtl() + " -l " + pg_data_ + "/log -w -o '-p " + std::to_string(pg_port_) + " -k " + pg_data_ +
                  " -c listen_addresses=127.0.0.1 -c fsync=off' start"), 0);
  }
  void StopPostgres() { ASSERT_EQ(Shell(PgCtl() + " -m fast -w stop"), 0); }
  void StartRedis() {
    ASSERT_EQ(Shell("redis-server --port " + std::to_string(redis_port_) + " --bind 127.0.0.1 --save '' --daemonize yes --dir " +
                  dir_.path().string() + " --logfile " + (dir_.path() / "redis.log").string()), 0);
    for (int i = 0; i < 50 && Shell("redis-cli -p " + std::to_string(redis_port_) + " ping") != 0; ++i) std::this_thread::sleep_for(50ms);
  }
  void StopRedis() { Shell("redis-cli -p " + std::to_string(redis_port_) + " shutdown nosave"); }

  TempDir dir_;
  std::string pg_bin_, pg_data_;
  unsigned short pg_port_ = 0, redis_port_ = 0;
};

TEST_F(BackendOutage, ReadyzFollowsPostgresAndRedisWithoutRestart) {
  TempDir work;
  std::string pg_url = "postgres://postgres@127.0.0.1:" + std::to_string(pg_port_) + "/postgres";
  std::string redis_url = "redis://127.0.0.1:" + std::to_string(redis_port_);
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--database", pg_url, "--cache", redis_url}), {}, work.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  ASSERT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 5s));

  StopPostgres();
  ASSERT_TRUE(WaitForStatus(veza.port(), "/readyz", 503, 10s));
  auto down = Get(veza.port(), "/readyz");
  auto checks = boost::json::parse(down.body).at("checks");
  EXPECT_FALSE(checks.at("database").at("ok").as_bool());
  EXPECT_TRUE(checks.at("cache").at("ok").as_bool());
  EXPECT_EQ(Get(veza.port(), "/healthz").status, 200);  // alive, just not ready

  StartPostgres();
  EXPECT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 15s)) << Get(veza.port(), "/readyz").body;

  StopRedis();
  ASSERT_TRUE(WaitForStatus(veza.port(), "/readyz", 503, 10s));
  EXPECT_FALSE(boost::json::parse(Get(veza.port(), "/readyz").body).at("checks").at("cache").at("ok").as_bool());
  StartRedis();
  EXPECT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 15s)) << Get(veza.port(), "/readyz").body;
  EXPECT_EQ(veza.Stop(SIGTERM), 0);
}

// Clients keep calling while PostgreSQL, then Redis, is stopped and started again: every answer
// is a success or a 503 problem+json (never a 500, a hang or a dropped connection), the server
// keeps answering /healthz, and what was acknowledged before or between outages is still there.
TEST_F(BackendOutage, ApiAnswers503ProblemsUnderLoadAndLosesNothingAcknowledged) {
  TempDir work;
  std::string pg_url = "postgres://postgres@127.0.0.1:" + std::to_string(pg_port_) + "/postgres";
  std::string redis_url = "redis://127.0.0.1:" + std::to_string(redis_port_);
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--database", pg_url, "--cache", redis_url, "--roles", "http,ws",
                                               // The load signs up from one address far faster than people do.
                                               "--auth-attempts-per-minute", "1000000"}),
                   {}, work.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  ASSERT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 5s));
  const std::string password = "violet kettle 93 drums";
  auto post = [&](const std::string& target, const std::string& body) {
    return Http("127.0.0.1", veza.port(), {"POST", target, body, {{"Content-Type", "application/json"}}});
  };
  auto register_user = [&](const std::string& name) {
    return post("/api/v1/auth/register",
                R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":")" + password + R"("})");
  };
  ASSERT_EQ(register_user("before").status, 201);

  // Load: registrations and logins from two threads; each accepted registration is remembered.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::map<int, int> statuses;
  std::vector<std::string> bad;  // answers that are neither a success nor a 503 problem
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::string name = "load" + std::to_string(t) + "x" + std::to_string(i);
        auto reg = register_user(name);
        auto login = post("/api/v1/auth/login", R"({"login":"before","password":")" + password + R"("})");
        std::lock_guard lock(mu);
        for (const auto* r : {&reg, &login}) {
          ++statuses[r->status];
          bool ok = r->status == 200 || r->status == 201;
          bool problem503 = r->status == 503 && r->Header("content-type") == "application/problem+json";
          if (!ok && !problem503) bad.push_back(std::to_string(r->status) + " " + r->error + " " + r->body.substr(0, 200));
        }
        if (reg.status == 201) acknowledged.push_back(name);
      }
    });
  }
  auto statuses_now = [&] {
    std::lock_guard lock(mu);
    return statuses;
  };
  auto wait_for = [&](int status, std::chrono::seconds within) {
    int seen = statuses_now()[status];
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (statuses_now()[status] > seen) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };

  ASSERT_TRUE(wait_for(201, 10s));
  StopPostgres();
  EXPECT_TRUE(wait_for(503, 15s)) << "no 503 while PostgreSQL was down";
  EXPECT_EQ(Get(veza.port(), "/healthz").status, 200);
  StartPostgres();
  EXPECT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 15s));
  EXPECT_TRUE(wait_for(201, 15s)) << "registrations did not come back after PostgreSQL did";

  StopRedis();
  ASSERT_TRUE(WaitForStatus(veza.port(), "/readyz", 503, 10s));
  std::this_thread::sleep_for(1s);  // the load runs against a missing cache for a while
  EXPECT_EQ(Get(veza.port(), "/healthz").status, 200);
  StartRedis();
  EXPECT_TRUE(WaitForStatus(veza.port(), "/readyz", 200, 15s));
  EXPECT_TRUE(wait_for(200, 15s)) << "logins did not come back after Redis did";
  stop = true;
  for (auto& t : load) t.join();

  EXPECT_TRUE(bad.empty()) << bad.size() << " bad answers, first: " << bad.front();
  // Every registration that was answered 201 can sign in: nothing acknowledged was lost.
  ASSERT_FALSE(acknowledged.empty());
  for (const std::string& name : acknowledged) {
    auto login = post("/api/v1/auth/login", R"({"login":")" + name + R"(","password":")" + password + R"("})");
    EXPECT_EQ(login.status, 200) << name << ": " << login.body;
  }
  EXPECT_EQ(veza.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace veza

namespace veza {
namespace {

TEST(SetRole, MakesTheFirstAdminFromTheCommandLine) {
  TempDir dir;
  VezaProcess veza(VEZA_BINARY, ServeArgs({"--no-access-log"}), {}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  auto reg = Http("127.0.0.1", veza.port(), {"POST", "/api/v1/auth/register",
                                             R"({"username":"root1","email":"root1@example.com","password":"violet kettle 93 drums"})",
                                             {{"Content-Type", "application/json"}}});
  ASSERT_EQ(reg.status, 201) << reg.body;

  VezaProcess set_role(VEZA_BINARY, {"set-role", "root1", "admin"}, {}, dir.path());
  set_role.Start(1s);
  EXPECT_EQ(set_role.Wait(20s), 0) << set_role.Log();
  VezaProcess unknown(VEZA_BINARY, {"set-role", "nobody", "admin"}, {}, dir.path());
  unknown.Start(1s);
  EXPECT_EQ(unknown.Wait(20s), 1);
  EXPECT_NE(unknown.Log().find("no account named nobody"), std::string::npos);
  VezaProcess bad_role(VEZA_BINARY, {"set-role", "root1", "overlord"}, {}, dir.path());
  bad_role.Start(1s);
  EXPECT_EQ(bad_role.Wait(20s), 2);

  auto login = Http("127.0.0.1", veza.port(), {"POST", "/api/v1/auth/login",
                                               R"({"login":"root1","password":"violet kettle 93 drums"})",
                                               {{"Content-Type", "application/json"}}});
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(boost::json::parse(login.body).at("user").at("role").as_string(), "admin");

  // The change is in the audit log, with the command line as its actor.
  std::string out = (dir.path() / "audit.txt").string();
  std::string query = "sqlite3 " + (dir.path() / "data" / "veza.db").string() +
                      " \"SELECT actor_id || ' ' || action FROM audit_log\" > " + out;
  ASSERT_EQ(std::system(query.c_str()), 0);
  std::string line;
  std::getline(std::ifstream(out) >> std::ws, line);
  EXPECT_EQ(line, "cli user.role.change");
}

}  // namespace
}  // namespace veza
