// Refresh tokens in __Host- cookies for web clients, with CSRF protection, next to the body
// tokens API clients keep using. Over real HTTP against the real binary.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api_test.h"
#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class WebSessionTest : public test::ApiTest {
 protected:
  void SetUp() override {
    port_ = test::FreeLoopbackPort();
    ApiTest::SetUp();
  }
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--listen", "127.0.0.1:" + std::to_string(port_), "--public-url", PublicUrl()};
  }
  std::string PublicUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  HttpResponse CookieLogin(const std::string& name) {
    Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                      R"(@example.com","password":"violet kettle 93 drums"})");
    return Http("127.0.0.1", veza_->port(),
                {"POST",
                 "/api/v1/auth/login",
                 R"({"login":")" + name + R"(","password":"violet kettle 93 drums"})",
                 {{"Content-Type", "application/json"}, {"X-Veza-Session", "cookie"}}});
  }
  HttpResponse CookieRefresh(const std::string& refresh,
                             std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("Cookie", "__Host-veza_csrf=x; __Host-veza_refresh=" + refresh);
    return Http("127.0.0.1", veza_->port(), {"POST", "/api/v1/auth/refresh", "", headers});
  }

  unsigned short port_ = 0;
};

TEST_F(WebSessionTest, CookieLoginKeepsTheRefreshTokenAwayFromScript) {
  auto r = CookieLogin("alice");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = json::parse(r.body).as_object();
  EXPECT_FALSE(body.contains("refresh_token")) << r.body;
  EXPECT_FALSE(Str(body, "access_token").empty());
  std::string refresh = r.SetCookie("__Host-veza_refresh");
  for (const char* attribute : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age="}) {
    EXPECT_NE(refresh.find(attribute), std::string::npos) << attribute << " missing: " << refresh;
  }
  EXPECT_EQ(refresh.find("Domain"), std::string::npos) << "__Host- cookies must not name a domain";
  std::string csrf = r.SetCookie("__Host-veza_csrf");
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos)
      << "the app's script must read the CSRF token";
  EXPECT_NE(csrf.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(Str(body, "csrf_token"), r.Cookie("__Host-veza_csrf"));
}

TEST_F(WebSessionTest, RefreshWithTheCookieRotatesItAndNeedsTheCsrfToken) {
  auto login = CookieLogin("bob");
  std::string refresh = login.Cookie("__Host-veza_refresh");
  std::string csrf = login.Cookie("__Host-veza_csrf");
  ASSERT_FALSE(refresh.empty());

  ExpectProblem(CookieRefresh(refresh, {}), 403, "X-CSRF-Token");
  ExpectProblem(CookieRefresh(refresh, {{"X-CSRF-Token", "wrong"}}), 403);
  ExpectProblem(CookieRefresh(refresh, {{"X-CSRF-Token", csrf}, {"Sec-Fetch-Site", "cross-site"}}),
                403);
  ExpectProblem(
      CookieRefresh(refresh, {{"X-CSRF-Token", csrf}, {"Origin", "https://evil.example"}}), 403);
  // A CSRF token made for another refresh token does not fit this one.
  auto other = CookieLogin("carol");
  ExpectProblem(CookieRefresh(refresh, {{"X-CSRF-Token", other.Cookie("__Host-veza_csrf")}}), 403);

  auto ok = CookieRefresh(
      refresh,
      {{"X-CSRF-Token", csrf}, {"Origin", PublicUrl()}, {"Sec-Fetch-Site", "same-origin"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  json::object body = json::parse(ok.body).as_object();
  EXPECT_FALSE(body.contains("refresh_token"));
  std::string next = ok.Cookie("__Host-veza_refresh");
  EXPECT_FALSE(next.empty());
  EXPECT_NE(next, refresh);
  EXPECT_EQ(Str(body, "csrf_token"), ok.Cookie("__Host-veza_csrf"));

  // The spent cookie replayed (with its matching CSRF token) revokes the session and clears the
  // cookies.
  auto replay = CookieRefresh(refresh, {{"X-CSRF-Token", csrf}});
  ExpectProblem(replay, 401);
  EXPECT_NE(replay.SetCookie("__Host-veza_refresh").find("Max-Age=0"), std::string::npos);
  ExpectProblem(CookieRefresh(next, {{"X-CSRF-Token", ok.Cookie("__Host-veza_csrf")}}), 401);
}

TEST_F(WebSessionTest, ApiClientsKeepTheTokenInTheBodyAndNoCookies) {
  auto reg =
      Post("/api/v1/auth/register",
           R"({"username":"dave","email":"dave@example.com","password":"violet kettle 93 drums"})");
  ASSERT_EQ(reg.status, 201);
  EXPECT_TRUE(reg.set_cookies.empty());
  json::object body = json::parse(reg.body).as_object();
  ASSERT_FALSE(Str(body, "refresh_token").empty());
  auto refreshed =
      Post("/api/v1/auth/refresh", R"({"refresh_token":")" + Str(body, "refresh_token") + "\"}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_TRUE(refreshed.set_cookies.empty());
  // A body always wins over a cookie, so an API client is never subject to the CSRF rules.
  auto both =
      Http("127.0.0.1", veza_->port(),
           {"POST",
            "/api/v1/auth/refresh",
            R"({"refresh_token":")" +
                Str(json::parse(refreshed.body).as_object(), "refresh_token") + "\"}",
            {{"Content-Type", "application/json"}, {"Cookie", "__Host-veza_refresh=garbage"}}});
  EXPECT_EQ(both.status, 200) << both.body;
}

TEST_F(WebSessionTest, LogoutClearsTheCookies) {
  auto login = CookieLogin("erin");
  std::string access = Str(json::parse(login.body).as_object(), "access_token");
  auto out = Post("/api/v1/auth/logout", "", access);
  ASSERT_EQ(out.status, 204);
  EXPECT_NE(out.SetCookie("__Host-veza_refresh").find("Max-Age=0"), std::string::npos);
  EXPECT_NE(out.SetCookie("__Host-veza_csrf").find("Max-Age=0"), std::string::npos);
  ExpectProblem(CookieRefresh(login.Cookie("__Host-veza_refresh"),
                              {{"X-CSRF-Token", login.Cookie("__Host-veza_csrf")}}),
                401);
}

TEST_F(WebSessionTest, MalformedCookieRefreshesAreProblems) {
  ExpectProblem(CookieRefresh(std::string(300, 'a'), {{"X-CSRF-Token", "x"}}), 401);
  ExpectProblem(CookieRefresh("", {}),
                415);  // no cookie value and no body: an API call without its body
  auto empty = Http("127.0.0.1", veza_->port(), {"POST", "/api/v1/auth/refresh", "", {}});
  EXPECT_GE(empty.status, 400);
}

}  // namespace
}  // namespace veza
