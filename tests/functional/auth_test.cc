// Accounts and sessions over real HTTP against the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    veza_ = std::make_unique<test::VezaProcess>(
        VEZA_BINARY, std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--no-access-log"},
        std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }

  HttpResponse Post(const std::string& target, const std::string& body, const std::string& bearer = "") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {"POST", target, body, headers});
  }
  HttpResponse GetMe(const std::string& bearer) {
    return test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + bearer}});
  }
  json::object Register(const std::string& name) {
    auto r = Post("/api/v1/auth/register",
                  R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object() : json::object{};
  }
  static std::string Str(const json::object& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  static void ExpectProblem(const HttpResponse& r, int status, const std::string& detail_part = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << r.body;
    if (!detail_part.empty()) EXPECT_NE(r.body.find(detail_part), std::string::npos) << r.body;
  }

  test::TempDir dir_;
  std::unique_ptr<test::VezaProcess> veza_;
};

TEST_F(AuthTest, RegisterLoginMeRefreshLogout) {
  json::object reg = Register("alice");
  std::string access = Str(reg, "access_token");
  ASSERT_FALSE(access.empty());
  EXPECT_EQ(Str(reg.at("user").as_object(), "username"), "alice");

  auto me = GetMe(access);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Header("cache-control"), "private, no-store");
  EXPECT_EQ(Str(json::parse(me.body).as_object(), "email"), "alice@example.com");

  auto login = Post("/api/v1/auth/login", R"({"login":"ALICE@example.com","password":"violet kettle 93 drums"})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.Header("cache-control"), "no-store");
  json::object session = json::parse(login.body).as_object();

  auto refreshed = Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(session, "refresh_token") + "\"}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  json::object next = json::parse(refreshed.body).as_object();
  EXPECT_NE(Str(next, "refresh_token"), Str(session, "refresh_token"));
  EXPECT_EQ(GetMe(Str(next, "access_token")).status, 200);

  ASSERT_EQ(Post("/api/v1/auth/logout", "", Str(next, "access_token")).status, 204);
  ExpectProblem(GetMe(Str(next, "access_token")), 401);  // revoked at once, not at expiry
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(next, "refresh_token") + "\"}"), 401);
  EXPECT_EQ(GetMe(access).status, 200);  // the registration's session is another one
}

TEST_F(AuthTest, ReusingASpentRefreshTokenRevokesTheWholeSession) {
  json::object reg = Register("bob");
  std::string first = Str(reg, "refresh_token");
  auto second = json::parse(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + first + "\"}").body).as_object();
  std::string live_access = Str(second, "access_token");
  ASSERT_EQ(GetMe(live_access).status, 200);

  // An attacker replays the first (spent) token: refused, and the family dies with it.
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + first + "\"}"), 401);
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(second, "refresh_token") + "\"}"), 401);
  ExpectProblem(GetMe(live_access), 401);
  EXPECT_NE(veza_->Log().find("security: refresh token reused"), std::string::npos);
}

TEST_F(AuthTest, LogoutEverywhereEndsEverySession) {
  json::object reg = Register("carol");
  auto login = json::parse(Post("/api/v1/auth/login", R"({"login":"carol","password":"violet kettle 93 drums"})").body).as_object();
  ASSERT_EQ(Post("/api/v1/auth/logout-all", "", Str(login, "access_token")).status, 204);
  ExpectProblem(GetMe(Str(reg, "access_token")), 401);
  ExpectProblem(GetMe(Str(login, "access_token")), 401);
}

TEST_F(AuthTest, LoginFailuresAreGenericAndPasswordsAreHashedWithArgon2id) {
  Register("dave");
  auto wrong = Post("/api/v1/auth/login", R"({"login":"dave","password":"not the right password"})");
  auto unknown = Post("/api/v1/auth/login", R"({"login":"nobody-here","password":"not the right password"})");
  ExpectProblem(wrong, 401);
  ExpectProblem(unknown, 401);
  EXPECT_EQ(json::parse(wrong.body).at("detail"), json::parse(unknown.body).at("detail"));
  EXPECT_EQ(wrong.Header("www-authenticate"), "Bearer realm=\"veza\"");
  // The stored hash is a PHC string, never the password.
  std::string db = (dir_.path() / "data" / "veza.db").string();
  std::string out = (dir_.path() / "hash.txt").string();
  ASSERT_EQ(std::system(("sqlite3 " + db + " \"SELECT password_hash FROM users WHERE username='dave'\" > " + out).c_str()), 0);
  std::ifstream in(out);
  std::string hash;
  std::getline(in, hash);
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
}

TEST_F(AuthTest, RegistrationRejectsBadInputWithProblems) {
  Register("erin");
  struct Case {
    std::string body;
    int status;
    std::string detail;
  };
  std::vector<Case> cases = {
      {"{", 400, "malformed JSON"},
      {"[]", 400, "JSON object"},
      {R"({"username":"x1","email":"x1@example.com","password":"violet kettle 93 drums"})", 400, "username"},
      {R"({"username":"frank","email":"not-an-email","password":"violet kettle 93 drums"})", 400, "email"},
      {R"({"username":"frank","email":"frank@example.com"})", 400, "missing field 'password'"},
      {R"({"username":"frank","email":"frank@example.com","password":"violet kettle 93 drums","admin":true})", 400, "unknown field 'admin'"},
      {R"({"username":5,"email":"frank@example.com","password":"violet kettle 93 drums"})", 400, "must be a string"},
      {R"({"username":")" + std::string(100, 'f') + R"(","email":"frank@example.com","password":"violet kettle 93 drums"})", 400, "longer than"},
      {R"({"username":"frank","email":"frank@example.com","password":"short"})", 400, "12"},
      {R"({"username":"frank","email":"frank@example.com","password":"password1234"})", 400, ""},
      {R"({"username":"frank\u0000x","email":"frank@example.com","password":"violet kettle 93 drums"})", 400, "username"},
      {R"({"username":"ERIN","email":"other@example.com","password":"violet kettle 93 drums"})", 409, "username"},
      {R"({"username":"frank","email":"Erin@Example.com","password":"violet kettle 93 drums"})", 409, "email"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 80));
    ExpectProblem(Post("/api/v1/auth/register", c.body), c.status, c.detail);
  }
  auto wrong_type = Http("127.0.0.1", veza_->port(), {"POST", "/api/v1/auth/register", "username=x", {{"Content-Type", "application/x-www-form-urlencoded"}}});
  ExpectProblem(wrong_type, 415);
  EXPECT_EQ(test::Get(veza_->port(), "/healthz").status, 200);
}

TEST_F(AuthTest, ProtectedRoutesRejectMissingMalformedAndForgedTokens) {
  json::object reg = Register("gina");
  std::string token = Str(reg, "access_token");
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/me"), 401);
  ExpectProblem(GetMe("garbage"), 401);
  ExpectProblem(GetMe(""), 401);
  std::string tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  ExpectProblem(GetMe(tampered), 401);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Basic Z2luYTpwdw=="}}), 401);
  ExpectProblem(Post("/api/v1/auth/logout", "", "garbage"), 401);
  auto jwks = test::Get(veza_->port(), "/api/v1/auth/jwks.json");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_EQ(json::parse(jwks.body).at("keys").as_array().size(), 1u);
}

TEST_F(AuthTest, TokensSurviveARestartBecauseKeysLiveInTheDatabase) {
  json::object reg = Register("hank");
  ASSERT_EQ(veza_->Stop(SIGTERM), 0);
  veza_ = std::make_unique<test::VezaProcess>(
      VEZA_BINARY, std::vector<std::string>{"serve", "--listen", "127.0.0.1:0"}, std::vector<std::string>{}, dir_.path());
  ASSERT_TRUE(veza_->Start()) << veza_->Log();
  EXPECT_EQ(GetMe(Str(reg, "access_token")).status, 200);
}

}  // namespace
}  // namespace veza

namespace veza {
namespace {

// Two nodes sharing PostgreSQL and Redis: a logout on one is refused at once on the other.
TEST(AuthTwoNodes, RevocationOnOneNodeIsRefusedOnTheOther) {
  std::string pg = test::Env("VEZA_TEST_POSTGRES_URL"), redis = test::Env("VEZA_TEST_REDIS_URL");
  ASSERT_FALSE(pg.empty() || redis.empty()) << "run under scripts/test-services (make test)";
  // A database of its own, so parallel tests do not share accounts.
  std::string db_name = "veza_auth_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("psql -q '" + pg + "' -c 'DROP DATABASE IF EXISTS " + db_name + "' -c 'CREATE DATABASE " + db_name + "' >/dev/null").c_str()), 0);
  std::string url = pg.substr(0, pg.rfind('/') + 1) + db_name;
  test::TempDir dir;
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--database", url, "--cache", redis, "--no-access-log"};
  // Both start on an empty database at once: they must agree on one signing key.
  test::VezaProcess a(VEZA_BINARY, args, {}, dir.path());
  test::VezaProcess b(VEZA_BINARY, args, {}, dir.path());
  bool b_started = false;
  std::thread start_b([&] { b_started = b.Start(); });
  bool a_started = a.Start();
  start_b.join();
  ASSERT_TRUE(a_started) << a.Log();
  ASSERT_TRUE(b_started) << b.Log();

  auto reg = Http("127.0.0.1", a.port(), {"POST", "/api/v1/auth/register",
                                          R"({"username":"nina","email":"nina@example.com","password":"violet kettle 93 drums"})",
                                          {{"Content-Type", "application/json"}}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  std::string token(json::parse(reg.body).at("access_token").as_string());
  auto me_on_b = [&] { return test::Get(b.port(), "/api/v1/users/me", {{"Authorization", "Bearer " + token}}).status; };
  EXPECT_EQ(me_on_b(), 200);  // B verifies A's token: the signing keys are shared
  auto out = Http("127.0.0.1", a.port(), {"POST", "/api/v1/auth/logout", "", {{"Authorization", "Bearer " + token}}});
  ASSERT_EQ(out.status, 204);
  EXPECT_EQ(me_on_b(), 401);
  a.Stop(SIGTERM);
  b.Stop(SIGTERM);
  std::system(("psql -q '" + pg + "' -c 'DROP DATABASE IF EXISTS " + db_name + " WITH (FORCE)' >/dev/null").c_str());
}

}  // namespace
}  // namespace veza
