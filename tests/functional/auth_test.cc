// Accounts and sessions over real HTTP against the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "http_client.h"
#include "api_test.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class AuthTest : public test::ApiTest {
 protected:

  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& bearer = "", const std::string& user_agent = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!user_agent.empty()) headers.emplace_back("User-Agent", user_agent);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers});
  }
  json::object Login(const std::string& login, const std::string& password = "violet kettle 93 drums",
                     const std::string& user_agent = "") {
    auto r = Send("POST", "/api/v1/auth/login", R"({"login":")" + login + R"(","password":")" + password + "\"}", "",
                  user_agent);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
  }
  int LoginStatus(const std::string& login, const std::string& password) {
    return Send("POST", "/api/v1/auth/login", R"({"login":")" + login + R"(","password":")" + password + "\"}").status;
  }
  void Sql(const std::string& statement) {
    std::string db = (dir_.path() / "data" / "veza.db").string();
    ASSERT_EQ(std::system(("sqlite3 " + db + " \"" + statement + "\"").c_str()), 0);
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

};

// Sign-ups per client address are capped (--auth-attempts-per-minute). Behind a trusted proxy
// the address is the one it forwards; from any other peer X-Forwarded-For is ignored, so it
// cannot be used to dodge the cap.
class AuthAddressLimitTest : public AuthTest {
 protected:
  int RegisterFrom(const std::string& name, const std::string& forwarded_for) {
    auto r = Http("127.0.0.1", veza_->port(),
                  {"POST", "/api/v1/auth/register",
                   R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":"violet kettle 93 drums"})",
                   {{"Content-Type", "application/json"}, {"X-Forwarded-For", forwarded_for}}});
    if (r.status == 429) {
      EXPECT_EQ(r.Header("content-type"), "application/problem+json");
      EXPECT_NE(r.body.find("rate_limited"), std::string::npos) << r.body;
    }
    return r.status;
  }
};

class AuthBehindTrustedProxyTest : public AuthAddressLimitTest {
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--trusted-proxies", "127.0.0.1", "--auth-attempts-per-minute", "3"};
  }
};

TEST_F(AuthBehindTrustedProxyTest, EachForwardedClientHasItsOwnSignUpLimit) {
  EXPECT_EQ(RegisterFrom("alpha1", "203.0.113.1"), 201);
  EXPECT_EQ(RegisterFrom("alpha2", "198.51.100.9, 203.0.113.1"), 201);  // the client's own claim is not believed
  EXPECT_EQ(RegisterFrom("alpha3", "203.0.113.1"), 201);
  EXPECT_EQ(RegisterFrom("alpha4", "203.0.113.1"), 429);
  EXPECT_EQ(RegisterFrom("beta1", "203.0.113.2"), 201);
  EXPECT_EQ(RegisterFrom("beta2", "[2001:db8::2]:4711"), 201);
}

class AuthWithoutTrustedProxyTest : public AuthAddressLimitTest {
  std::vector<std::string> ExtraServeArgs() const override { return {"--auth-attempts-per-minute", "3"}; }
};

TEST_F(AuthWithoutTrustedProxyTest, ForwardedForFromAnUntrustedPeerIsIgnored) {
  EXPECT_EQ(RegisterFrom("gamma1", "203.0.113.1"), 201);
  EXPECT_EQ(RegisterFrom("gamma2", "203.0.113.2"), 201);
  EXPECT_EQ(RegisterFrom("gamma3", "203.0.113.3"), 201);
  EXPECT_EQ(RegisterFrom("gamma4", "203.0.113.4"), 429);
}

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

constexpr const char* kPassword = "violet kettle 93 drums";

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_F(AuthTest, ProfileUpdatesShowOnMeAndOnThePublicProfile) {
  json::object reg = Register("ivy");
  std::string token = Str(reg, "access_token");
  std::string fifty_emoji = Repeat("\xF0\x9F\x8E\xB8", 50);  // 50 guitars: 50 code points, 200 bytes
  auto r = Send("PATCH", "/api/v1/users/me",
                R"({"display_name":")" + fifty_emoji + R"(","bio":"Synths\nand \u00e9t\u00e9 drums","links":["https://ivy.example.com/music","https://example.org"]})",
                token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "private, no-store");
  json::object me = json::parse(r.body).as_object();
  EXPECT_EQ(Str(me, "display_name"), fifty_emoji);
  EXPECT_EQ(Str(me, "bio"), "Synths\nand \xC3\xA9t\xC3\xA9 drums");
  EXPECT_EQ(me.at("links"), json::parse(R"(["https://ivy.example.com/music","https://example.org"])"));
  EXPECT_EQ(Str(me, "email"), "ivy@example.com");

  // A field left out stays; an empty links array clears the list.
  r = Send("PATCH", "/api/v1/users/me", R"({"bio":"","links":[]})", token);
  ASSERT_EQ(r.status, 200) << r.body;
  me = json::parse(r.body).as_object();
  EXPECT_EQ(Str(me, "display_name"), fifty_emoji);
  EXPECT_EQ(Str(me, "bio"), "");
  EXPECT_TRUE(me.at("links").as_array().empty());
  ASSERT_EQ(Send("PATCH", "/api/v1/users/me", R"({"links":["https://ivy.example.com"]})", token).status, 200);
  auto got = json::parse(GetMe(token).body).as_object();
  EXPECT_EQ(got.at("links"), json::parse(R"(["https://ivy.example.com"])"));
  EXPECT_EQ(Send("PATCH", "/api/v1/users/me", "{}", token).status, 200);

  // The public profile: anyone may read it; never the email, role or flags.
  auto pub = test::Get(veza_->port(), "/api/v1/users/IVY");
  ASSERT_EQ(pub.status, 200) << pub.body;
  json::object p = json::parse(pub.body).as_object();
  EXPECT_EQ(Str(p, "username"), "ivy");
  EXPECT_EQ(Str(p, "id"), Str(got, "id"));
  EXPECT_EQ(Str(p, "display_name"), fifty_emoji);
  EXPECT_EQ(p.at("links"), json::parse(R"(["https://ivy.example.com"])"));
  for (const char* hidden : {"email", "role", "email_verified", "suspended", "password_hash"}) {
    EXPECT_FALSE(p.contains(hidden)) << hidden;
  }
  EXPECT_EQ(pub.body.find("ivy@example.com"), std::string::npos);

  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/nobody-here"), 404);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/%2e%2e"), 404);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/" + std::string(200, 'a')), 404);
  // A suspended account looks exactly like an unknown one.
  Sql("UPDATE users SET suspended = 1 WHERE username = 'ivy'");
  auto suspended = test::Get(veza_->port(), "/api/v1/users/ivy");
  auto unknown = test::Get(veza_->port(), "/api/v1/users/nobody-here");
  ExpectProblem(suspended, 404);
  EXPECT_EQ(json::parse(suspended.body).at("detail"), json::parse(unknown.body).at("detail"));
}

TEST_F(AuthTest, ProfileUpdateRejectsBadInputWithProblems) {
  json::object reg = Register("jack");
  std::string token = Str(reg, "access_token");
  struct Case {
    std::string body;
    std::string detail;
  };
  std::vector<Case> cases = {
      {"{", "malformed JSON"},
      {"[]", "JSON object"},
      {R"({"display_name":"Jack","admin":true})", "unknown field 'admin'"},
      {R"({"role":"admin"})", "unknown field 'role'"},
      {R"({"display_name":5})", "must be a string"},
      {R"({"display_name":null})", "must be a string"},
      {R"({"bio":["x"]})", "must be a string"},
      {R"({"links":"https://example.com"})", "array of strings"},
      {R"({"links":[5]})", "array of strings"},
      {R"({"links":{"a":"https://example.com"}})", "array of strings"},
      {R"({"display_name":")" + Repeat("\xF0\x9F\x8E\xB8", 51) + R"("})", "display_name"},
      {R"({"display_name":")" + std::string(51, 'j') + R"("})", "at most 50"},
      {R"({"display_name":""})", "blank"},
      {R"({"display_name":"   "})", "blank"},
      {R"({"display_name":"Jack\u0000"})", "control"},
      {R"({"display_name":"Jack\nJack"})", "control"},
      {R"({"display_name":"\u202egnp.exe"})", "bidi"},
      {R"({"display_name":"\udc00"})", ""},
      {R"({"display_name":"a\ud83d"})", ""},
      {R"({"display_name":"a\ud83dxyz"})", ""},
      {R"({"bio":")" + std::string(1001, 'b') + R"("})", "at most 1000"},
      {R"({"bio":")" + std::string(4001, 'b') + R"("})", "longer than"},
      {R"({"links":["https://a.example","https://b.example","https://c.example","https://d.example","https://e.example","https://f.example"]})", "5"},
      {R"({"links":["http://example.com"]})", "https"},
      {R"j({"links":["javascript:alert(1)"]})j", "https"},
      {R"({"links":["https://"]})", "https"},
      {R"({"links":["https:///path"]})", "host"},
      {R"({"links":["https://user@evil.example"]})", "host"},
      {R"({"links":["https://example.com/a b"]})", "printable"},
      {R"({"links":["https://example.com/)" + std::string(190, 'x') + R"("]})", "200"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 80));
    ExpectProblem(Send("PATCH", "/api/v1/users/me", c.body, token), 400, c.detail);
  }
  // Raw invalid UTF-8 bytes never reach the database either.
  ExpectProblem(Send("PATCH", "/api/v1/users/me", "{\"display_name\":\"a\xC0\xAF\"}", token), 400);
  ExpectProblem(Send("PATCH", "/api/v1/users/me", "{\"bio\":\"\xED\xA0\x80\"}", token), 400);
  // Nothing above changed the account.
  json::object me = json::parse(GetMe(token).body).as_object();
  EXPECT_EQ(Str(me, "display_name"), "jack");
  EXPECT_EQ(Str(me, "bio"), "");
  EXPECT_TRUE(me.at("links").as_array().empty());

  ExpectProblem(Send("PATCH", "/api/v1/users/me", R"({"bio":"x"})"), 401);
  ExpectProblem(Send("PATCH", "/api/v1/users/me", R"({"bio":"x"})", "garbage"), 401);
  auto form = Http("127.0.0.1", veza_->port(), {"PATCH", "/api/v1/users/me", "bio=x",
                                                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", "Bearer " + token}}});
  ExpectProblem(form, 415);
  EXPECT_EQ(test::Get(veza_->port(), "/healthz").status, 200);
}

TEST_F(AuthTest, ChangePasswordKeepsThisSessionAndEndsTheOthers) {
  json::object reg = Register("kate");
  std::string here = Str(reg, "access_token");
  json::object other = Login("kate");
  std::string there = Str(other, "access_token");
  ASSERT_EQ(GetMe(there).status, 200);
  const std::string path = "/api/v1/auth/change-password";
  const std::string next = "amber lantern 47 bass";

  ExpectProblem(Send("POST", path, R"({"current_password":"not my password at all","new_password":")" + next + "\"}", here), 403);
  EXPECT_NE(veza_->Log().find("security: re-authentication failed"), std::string::npos);
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":"short"})", here), 400, "12");
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":"kate kate kate kate"})", here), 400);
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + "\"}", here), 400, "missing field 'new_password'");
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":")" + next + R"(","x":1})", here), 400, "unknown field 'x'");
  ExpectProblem(Send("POST", path, R"({"current_password":1,"new_password":")" + next + "\"}", here), 400, "must be a string");
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(2000, 'p') + R"(","new_password":")" + next + "\"}", here), 400, "longer than");
  ExpectProblem(Send("POST", path, "{", here), 400, "malformed JSON");
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":")" + next + "\"}"), 401);
  ExpectProblem(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":")" + next + "\"}", "garbage"), 401);
  // None of the failures changed anything.
  EXPECT_EQ(GetMe(there).status, 200);
  EXPECT_EQ(LoginStatus("kate", kPassword), 200);

  ASSERT_EQ(Send("POST", path, R"({"current_password":")" + std::string(kPassword) + R"(","new_password":")" + next + "\"}", here).status, 204);
  EXPECT_EQ(GetMe(here).status, 200);  // this session stays
  ExpectProblem(GetMe(there), 401);    // the other one ends at once
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(other, "refresh_token") + "\"}"), 401);
  EXPECT_EQ(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(reg, "refresh_token") + "\"}").status, 200);
  EXPECT_EQ(LoginStatus("kate", kPassword), 401);
  EXPECT_EQ(LoginStatus("kate", next), 200);
}

TEST_F(AuthTest, ChangeEmailReauthenticatesAndUnverifies) {
  json::object reg = Register("liam");
  Register("mona");
  std::string token = Str(reg, "access_token");
  const std::string path = "/api/v1/auth/change-email";
  Sql("UPDATE users SET email_verified = 1 WHERE username = 'liam'");

  ExpectProblem(Send("POST", path, R"({"password":"not my password at all","email":"liam2@example.com"})", token), 403);
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"not-an-email"})", token), 400, "email");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"a b@example.com"})", token), 400, "email");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":")" + std::string(250, 'l') + R"(@example.com"})", token), 400, "longer than");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"MONA@example.com"})", token), 409, "email");
  ExpectProblem(Send("POST", path, R"({"email":"liam2@example.com"})", token), 400, "missing field 'password'");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"liam2@example.com","email_verified":true})", token), 400, "unknown field");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":["liam2@example.com"]})", token), 400, "must be a string");
  ExpectProblem(Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"liam2@example.com"})"), 401);
  EXPECT_EQ(Str(json::parse(GetMe(token).body).as_object(), "email"), "liam@example.com");

  auto r = Send("POST", path, R"({"password":")" + std::string(kPassword) + R"(","email":"Liam.New@example.com"})", token);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object me = json::parse(r.body).as_object();
  EXPECT_EQ(Str(me, "email"), "Liam.New@example.com");
  EXPECT_EQ(me.at("email_verified"), false);
  EXPECT_EQ(LoginStatus("liam.new@example.com", kPassword), 200);
  EXPECT_EQ(LoginStatus("liam@example.com", kPassword), 401);
  // The old address is free again.
  EXPECT_EQ(Post("/api/v1/auth/register", R"({"username":"liam2","email":"liam@example.com","password":"violet kettle 93 drums"})").status, 201);
}

TEST_F(AuthTest, DeletingTheAccountEndsEverythingAndFreesTheName) {
  json::object reg = Register("nora");
  std::string token = Str(reg, "access_token");
  json::object other = Login("nora");
  json::object bystander = Register("olaf");

  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":"not my password at all"})", token), 403);
  ExpectProblem(Send("DELETE", "/api/v1/users/me", "", token), 415);  // no JSON body at all
  ExpectProblem(Send("DELETE", "/api/v1/users/me", "{", token), 400, "malformed JSON");
  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":5})", token), 400, "must be a string");
  ExpectProblem(Send("DELETE", "/api/v1/users/me", "{}", token), 400, "missing field 'password'");
  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":")" + std::string(kPassword) + R"(","now":true})", token), 400, "unknown field");
  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":")" + std::string(kPassword) + "\"}"), 401);
  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":")" + std::string(kPassword) + "\"}", "garbage"), 401);
  // Another user's password and token delete only that user (here: nobody, the password is wrong).
  ExpectProblem(Send("DELETE", "/api/v1/users/me", R"({"password":")" + std::string(kPassword) + "x\"}", Str(bystander, "access_token")), 403);
  ASSERT_EQ(GetMe(token).status, 200);

  ASSERT_EQ(Send("DELETE", "/api/v1/users/me", R"({"password":")" + std::string(kPassword) + "\"}", token).status, 204);
  ExpectProblem(GetMe(token), 401);
  ExpectProblem(GetMe(Str(other, "access_token")), 401);
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(other, "refresh_token") + "\"}"), 401);
  EXPECT_EQ(LoginStatus("nora", kPassword), 401);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/nora"), 404);
  EXPECT_EQ(GetMe(Str(bystander, "access_token")).status, 200);
  // The username and email are free to register again: a new account with a new id.
  json::object again = Register("nora");
  EXPECT_NE(Str(again.at("user").as_object(), "id"), Str(reg.at("user").as_object(), "id"));
  ExpectProblem(GetMe(token), 401);
  EXPECT_EQ(GetMe(Str(again, "access_token")).status, 200);
}

TEST_F(AuthTest, SessionsAreListedAndRevokedOnlyByTheirOwner) {
  json::object reg = Register("pia");
  json::object phone = Login("pia", kPassword, "PiaPhone/1.0");
  json::object laptop = Login("pia", kPassword, "PiaLaptop/2.0");
  json::object stranger = Register("quinn");

  auto list = Send("GET", "/api/v1/auth/sessions", "", Str(laptop, "access_token"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Header("cache-control"), "private, no-store");
  json::array sessions = json::parse(list.body).at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 3u);
  // Newest first; the caller's own session is marked.
  EXPECT_EQ(Str(sessions[0].as_object(), "id"), Str(laptop, "session_id"));
  EXPECT_EQ(Str(sessions[0].as_object(), "device"), "PiaLaptop/2.0");
  EXPECT_EQ(sessions[0].at("current"), true);
  EXPECT_EQ(Str(sessions[1].as_object(), "id"), Str(phone, "session_id"));
  EXPECT_EQ(sessions[1].at("current"), false);
  EXPECT_EQ(Str(sessions[2].as_object(), "id"), Str(reg, "session_id"));
  EXPECT_EQ(Str(sessions[0].as_object(), "ip"), "127.0.0.1");
  EXPECT_GT(sessions[0].at("created_at").as_int64(), 0);
  EXPECT_GE(sessions[0].at("last_used_at").as_int64(), sessions[0].at("created_at").as_int64());
  for (const auto& s : sessions) EXPECT_EQ(s.as_object().size(), 6u);

  // Another user cannot see or touch these sessions: 404, as for an id that does not exist.
  auto stranger_list = json::parse(Send("GET", "/api/v1/auth/sessions", "", Str(stranger, "access_token")).body);
  EXPECT_EQ(stranger_list.at("sessions").as_array().size(), 1u);
  auto theirs = Send("DELETE", "/api/v1/auth/sessions/" + Str(phone, "session_id"), "", Str(stranger, "access_token"));
  auto missing = Send("DELETE", "/api/v1/auth/sessions/01890000-0000-7000-8000-000000000000", "", Str(stranger, "access_token"));
  ExpectProblem(theirs, 404);
  ExpectProblem(missing, 404);
  EXPECT_EQ(json::parse(theirs.body).at("detail"), json::parse(missing.body).at("detail"));
  EXPECT_EQ(GetMe(Str(phone, "access_token")).status, 200);
  ExpectProblem(Send("DELETE", "/api/v1/auth/sessions/not-a-uuid", "", Str(laptop, "access_token")), 404);
  ExpectProblem(Send("DELETE", "/api/v1/auth/sessions/%27%20OR%201%3D1", "", Str(laptop, "access_token")), 404);
  ExpectProblem(Send("DELETE", "/api/v1/auth/sessions/" + Str(phone, "session_id"), ""), 401);
  ExpectProblem(Send("DELETE", "/api/v1/auth/sessions/" + Str(phone, "session_id"), "", "garbage"), 401);
  ExpectProblem(Send("GET", "/api/v1/auth/sessions", ""), 401);
  ExpectProblem(Send("GET", "/api/v1/auth/sessions", "", "garbage"), 401);

  // The owner revokes the phone: its tokens stop at once, the others go on.
  ASSERT_EQ(Send("DELETE", "/api/v1/auth/sessions/" + Str(phone, "session_id"), "", Str(laptop, "access_token")).status, 204);
  ExpectProblem(GetMe(Str(phone, "access_token")), 401);
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(phone, "refresh_token") + "\"}"), 401);
  EXPECT_EQ(GetMe(Str(laptop, "access_token")).status, 200);
  EXPECT_EQ(GetMe(Str(reg, "access_token")).status, 200);
  ExpectProblem(Send("DELETE", "/api/v1/auth/sessions/" + Str(phone, "session_id"), "", Str(laptop, "access_token")), 404);
  sessions = json::parse(Send("GET", "/api/v1/auth/sessions", "", Str(laptop, "access_token")).body).at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 2u);
  for (const auto& s : sessions) EXPECT_NE(Str(s.as_object(), "id"), Str(phone, "session_id"));
  // Revoking one's own current session signs it out, like logout.
  ASSERT_EQ(Send("DELETE", "/api/v1/auth/sessions/" + Str(laptop, "session_id"), "", Str(laptop, "access_token")).status, 204);
  ExpectProblem(GetMe(Str(laptop, "access_token")), 401);
  EXPECT_EQ(GetMe(Str(stranger, "access_token")).status, 200);
}

TEST_F(AuthTest, WrongReauthenticationPasswordsCountAsFailedLogins) {
  json::object reg = Register("rosa");
  std::string token = Str(reg, "access_token");
  // A stolen access token buys no extra password guesses: wrong re-authentications spend the
  // account's hourly failed-login budget (100), and then the login form refuses too.
  const std::string wrong = R"({"current_password":"wrong wrong wrong","new_password":"amber lantern 47 bass"})";
  for (int i = 0; i < 100; ++i) {
    auto r = Send("POST", "/api/v1/auth/change-password", wrong, token);
    ASSERT_EQ(r.status, 403) << i << r.body;
  }
  ExpectProblem(Send("POST", "/api/v1/auth/change-password", wrong, token), 429);
  ExpectProblem(Send("POST", "/api/v1/auth/change-password",
                     R"({"current_password":")" + std::string(kPassword) + R"(","new_password":"amber lantern 47 bass"})", token), 429);
  EXPECT_EQ(LoginStatus("rosa", kPassword), 429);
  EXPECT_EQ(GetMe(token).status, 200);  // the session itself is untouched
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
