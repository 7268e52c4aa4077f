// Sign-in with an outside OpenID Connect provider over real HTTP: the real binary against a real
// provider (npm oauth2-mock-server, tests/tools/oidc-provider.mjs) that signs RS256 ID tokens
// and checks PKCE. The test plays the browser: it follows each redirect by hand.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>

#include "api_test.h"
#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

struct Url {
  unsigned short port = 0;
  std::string target;  // path and query
};

// http://127.0.0.1:PORT/path?query -> {PORT, /path?query}
Url SplitUrl(const std::string& url) {
  Url out;
  std::size_t host = url.find("://");
  std::size_t colon = url.find(':', host + 3);
  std::size_t slash = url.find('/', host + 3);
  if (host == std::string::npos || colon == std::string::npos || slash == std::string::npos)
    return out;
  out.port = static_cast<unsigned short>(std::stoi(url.substr(colon + 1, slash - colon - 1)));
  out.target = url.substr(slash);
  return out;
}

std::string QueryValue(const std::string& url, const std::string& name) {
  std::size_t q = url.find('?');
  if (q == std::string::npos) return "";
  std::string query = url.substr(q + 1);
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(pos, end - pos);
    if (pair.compare(0, name.size() + 1, name + "=") == 0) return pair.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

std::string ReplaceQueryValue(const std::string& url, const std::string& name,
                              const std::string& value) {
  std::string old = name + "=" + QueryValue(url, name);
  std::string out = url;
  out.replace(out.find(old), old.size(), name + "=" + value);
  return out;
}

class OAuthTest : public test::ApiTest {
 protected:
  void SetUp() override {
    provider_ = std::make_unique<test::VezaProcess>(
        "/usr/bin/node",
        std::vector<std::string>{VEZA_SOURCE_DIR "/tests/tools/oidc-provider.mjs", "0"});
    ASSERT_TRUE(provider_->Start()) << provider_->Log();
    port_ = test::FreeLoopbackPort();
    ApiTest::SetUp();
  }
  std::vector<std::string> ExtraServeArgs() const override {
    std::string issuer = "http://127.0.0.1:" + std::to_string(provider_->port());
    return {
        "--listen",
        "127.0.0.1:" + std::to_string(port_),
        "--public-url",
        PublicUrl(),
        "--oauth-provider",
        "name=mock,issuer=" + issuer + ",client_id=veza-test,client_secret=not-a-real-secret-42"};
  }
  std::string PublicUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  struct Attempt {
    std::string authorization_url;
    std::string binding;  // the __Host-veza_oauth cookie
  };
  // GET /start as a browser would: a 302 to the provider and the binding cookie.
  Attempt Start(const std::string& provider = "mock") {
    auto r = test::Get(veza_->port(), "/api/v1/auth/oauth/" + provider + "/start");
    EXPECT_EQ(r.status, 302) << r.body;
    return {r.Header("location"), r.Cookie("__Host-veza_oauth")};
  }
  // The provider's authorize endpoint (signs in at once) -> the callback URL it redirects to.
  std::string Authorize(const std::string& authorization_url, const std::string& extra = "") {
    Url u = SplitUrl(authorization_url + extra);
    auto r = test::Get(u.port, u.target);
    EXPECT_EQ(r.status, 302) << r.body;
    return r.Header("location");
  }
  HttpResponse Callback(const std::string& callback_url, const std::string& binding,
                        bool json = true,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    Url u = SplitUrl(callback_url);
    EXPECT_EQ(u.port, port_) << callback_url;
    if (!binding.empty()) headers.emplace_back("Cookie", "__Host-veza_oauth=" + binding);
    if (json) headers.emplace_back("Accept", "application/json");
    return test::Get(veza_->port(), u.target, headers);
  }
  // A whole sign-in as `sub` with `email`; returns the callback's answer.
  HttpResponse SignIn(const std::string& sub, const std::string& email,
                      const std::string& behaviour = "") {
    Attempt a = Start();
    std::string extra = "&mock_sub=" + sub + "&mock_email=" + email;
    if (!behaviour.empty()) extra += "&mock_behaviour=" + behaviour;
    return Callback(Authorize(a.authorization_url, extra), a.binding);
  }
  json::object Register(const std::string& name) {
    auto r =
        Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                          R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object() : json::object{};
  }
  HttpResponse Identities(const std::string& bearer) {
    return test::Get(veza_->port(), "/api/v1/auth/identities",
                     {{"Authorization", "Bearer " + bearer}});
  }

  std::unique_ptr<test::VezaProcess> provider_;
  unsigned short port_ = 0;
};

TEST_F(OAuthTest, NewIdentityMakesAnAccountAndSignsItInAgainLater) {
  auto providers = test::Get(veza_->port(), "/api/v1/auth/oauth/providers");
  ASSERT_EQ(providers.status, 200);
  EXPECT_NE(providers.body.find("\"mock\""), std::string::npos);

  auto start = test::Get(veza_->port(), "/api/v1/auth/oauth/mock/start");
  ASSERT_EQ(start.status, 302) << start.body;
  std::string url = start.Header("location");
  EXPECT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(provider_->port()) + "/authorize?", 0),
            0u)
      << url;
  EXPECT_EQ(QueryValue(url, "response_type"), "code");
  EXPECT_EQ(QueryValue(url, "client_id"), "veza-test");
  EXPECT_EQ(QueryValue(url, "code_challenge_method"), "S256");
  EXPECT_EQ(QueryValue(url, "code_challenge").size(), 43u);
  EXPECT_GE(QueryValue(url, "state").size(), 43u);
  EXPECT_GE(QueryValue(url, "nonce").size(), 43u);
  std::string redirect =
      QueryValue(url, "redirect_uri");  // '/' and ':' may stay unencoded in a query
  EXPECT_TRUE(redirect == PublicUrl() + "/api/v1/auth/oauth/mock/callback" ||
              redirect.find("%2Fapi%2Fv1%2Fauth%2Foauth%2Fmock%2Fcallback") != std::string::npos)
      << url;
  std::string cookie = start.SetCookie("__Host-veza_oauth");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(start.body.find("not-a-real-secret"), std::string::npos);

  auto first = Callback(Authorize(url, "&mock_sub=carol-1&mock_email=carol@example.com"),
                        start.Cookie("__Host-veza_oauth"));
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Header("cache-control"), "no-store");
  json::object signed_in = json::parse(first.body).as_object();
  const json::object& user = signed_in.at("user").as_object();
  EXPECT_EQ(Str(user, "username"), "carol-1");
  EXPECT_EQ(Str(user, "email"), "carol@example.com");
  EXPECT_TRUE(user.at("email_verified").as_bool());
  std::string access = Str(signed_in, "access_token");
  EXPECT_EQ(
      test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access}}).status,
      200);
  auto ids = Identities(access);
  ASSERT_EQ(ids.status, 200) << ids.body;
  auto list = json::parse(ids.body).as_object().at("identities").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(Str(list[0].as_object(), "provider"), "mock");

  auto again = SignIn("carol-1", "carol@example.com");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(json::parse(again.body).as_object().at("user").as_object(), "id"), Str(user, "id"));
  EXPECT_EQ(veza_->Log().find("not-a-real-secret"), std::string::npos)
      << "the client secret reached the log";
}

TEST_F(OAuthTest, StateIsSingleUseAndBoundToTheBrowserThatStartedIt) {
  Attempt a = Start();
  std::string callback = Authorize(a.authorization_url, "&mock_sub=dave");
  // Another browser (no cookie, or its own cookie) cannot finish this attempt, and trying
  // spends it.
  ExpectProblem(Callback(callback, ""), 403, "another browser");
  Attempt b = Start();
  std::string callback_b = Authorize(b.authorization_url, "&mock_sub=dave");
  ExpectProblem(Callback(callback_b, a.binding), 403);
  ExpectProblem(Callback(callback_b, b.binding), 400, "start again");

  Attempt c = Start();
  std::string callback_c =
      Authorize(c.authorization_url, "&mock_sub=dave&mock_email=dave@example.com");
  ASSERT_EQ(Callback(callback_c, c.binding).status, 201);
  ExpectProblem(Callback(callback_c, c.binding), 400, "start again");  // replayed

  ExpectProblem(Callback(ReplaceQueryValue(callback_c, "state", "made-up-state"), c.binding), 400);
  auto no_state =
      test::Get(veza_->port(), "/api/v1/auth/oauth/mock/callback?code=abc",
                {{"Cookie", "__Host-veza_oauth=" + c.binding}, {"Accept", "application/json"}});
  ExpectProblem(no_state, 400);
}

TEST_F(OAuthTest, IdTokensThatFailAnyCheckAreRefusedAndMakeNoAccount) {
  for (const char* behaviour : {"wrong_nonce", "wrong_audience", "wrong_issuer", "expired",
                                "bad_signature", "no_id_token"}) {
    SCOPED_TRACE(behaviour);
    auto r = SignIn("erin", "erin@example.com", behaviour);
    ExpectProblem(r, 401, "could not be verified");
  }
  // None of them made the account: the first good sign-in does.
  EXPECT_EQ(SignIn("erin", "erin@example.com").status, 201);
}

TEST_F(OAuthTest, ProviderErrorIsRefused) {
  auto r = SignIn("frank", "frank@example.com", "provider_error");
  ExpectProblem(r, 401, "access_denied");
}

TEST_F(OAuthTest, PkceVerifierIsChecked) {
  // A code issued for another challenge (an intercepted code) cannot be redeemed with this
  // attempt's verifier: the provider refuses the exchange.
  Attempt a = Start();
  std::string tampered =
      ReplaceQueryValue(a.authorization_url, "code_challenge", std::string(43, 'A'));
  ExpectProblem(Callback(Authorize(tampered, "&mock_sub=gina"), a.binding), 401, "refused");
}

TEST_F(OAuthTest, ExistingEmailIsLinkedOnlyByItsOwnerAfterSigningIn) {
  json::object bob = Register("bob");
  ExpectProblem(SignIn("bob-at-mock", "bob@example.com"), 409, "link");

  // Bob, signed in, links the provider himself.
  auto link = Post("/api/v1/auth/oauth/mock/link", "", Str(bob, "access_token"));
  ASSERT_EQ(link.status, 200) << link.body;
  std::string url = Str(json::parse(link.body).as_object(), "authorization_url");
  auto linked = Callback(Authorize(url, "&mock_sub=bob-at-mock&mock_email=bob@example.com"),
                         link.Cookie("__Host-veza_oauth"));
  ASSERT_EQ(linked.status, 200) << linked.body;
  EXPECT_NE(linked.body.find("\"linked\":true"), std::string::npos);

  auto signed_in = SignIn("bob-at-mock", "bob@example.com");
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  EXPECT_EQ(Str(json::parse(signed_in.body).as_object().at("user").as_object(), "username"), "bob");

  // The identity cannot be linked to a second account.
  json::object eve = Register("eve");
  auto steal = Post("/api/v1/auth/oauth/mock/link", "", Str(eve, "access_token"));
  std::string steal_url = Str(json::parse(steal.body).as_object(), "authorization_url");
  ExpectProblem(
      Callback(Authorize(steal_url, "&mock_sub=bob-at-mock"), steal.Cookie("__Host-veza_oauth")),
      409);

  // Only the owner unlinks it; bob keeps his password, so unlinking is allowed.
  auto ids = json::parse(Identities(Str(bob, "access_token")).body)
                 .as_object()
                 .at("identities")
                 .as_array();
  ASSERT_EQ(ids.size(), 1u);
  std::string id = Str(ids[0].as_object(), "id");
  ExpectProblem(Send("DELETE", "/api/v1/auth/identities/" + id, "", Str(eve, "access_token")), 404);
  EXPECT_EQ(Send("DELETE", "/api/v1/auth/identities/" + id, "", Str(bob, "access_token")).status,
            204);
  EXPECT_EQ(json::parse(Identities(Str(bob, "access_token")).body)
                .as_object()
                .at("identities")
                .as_array()
                .size(),
            0u);
}

TEST_F(OAuthTest, TheOnlyWayToSignInCannotBeUnlinked) {
  auto r = SignIn("hank", "hank@example.com");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string access = Str(json::parse(r.body).as_object(), "access_token");
  auto ids = json::parse(Identities(access).body).as_object().at("identities").as_array();
  ASSERT_EQ(ids.size(), 1u);
  ExpectProblem(
      Send("DELETE", "/api/v1/auth/identities/" + Str(ids[0].as_object(), "id"), "", access), 409);
}

TEST_F(OAuthTest, BrowserModeRedirectsToTheAppWithSessionCookies) {
  Attempt a = Start();
  auto r = Callback(Authorize(a.authorization_url, "&mock_sub=ivy&mock_email=ivy@example.com"),
                    a.binding, false);
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), PublicUrl() + "/");
  std::string refresh = r.SetCookie("__Host-veza_refresh");
  EXPECT_NE(refresh.find("HttpOnly"), std::string::npos) << refresh;
  EXPECT_NE(refresh.find("SameSite=Strict"), std::string::npos) << refresh;
  EXPECT_NE(r.SetCookie("__Host-veza_oauth").find("Max-Age=0"), std::string::npos);

  // The app trades the cookie for an access token, echoing the CSRF cookie in the header.
  auto refreshed = Http("127.0.0.1", veza_->port(),
                        {"POST",
                         "/api/v1/auth/refresh",
                         "",
                         {{"Cookie", "__Host-veza_refresh=" + r.Cookie("__Host-veza_refresh")},
                          {"X-CSRF-Token", r.Cookie("__Host-veza_csrf")},
                          {"Origin", PublicUrl()}}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_FALSE(Str(json::parse(refreshed.body).as_object(), "access_token").empty());
}

TEST_F(OAuthTest, BadRequestsAreProblems) {
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/oauth/nope/start"), 404);
  ExpectProblem(Post("/api/v1/auth/oauth/nope/link", ""), 401);
  ExpectProblem(Post("/api/v1/auth/oauth/mock/link", "", "not-a-token"), 401);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/identities"), 401);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/oauth/mock/callback?state=x&code=y&extra=1"),
                400, "extra");
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/oauth/mock/callback?state=%zz"), 400);
  ExpectProblem(
      test::Get(veza_->port(), "/api/v1/auth/oauth/mock/callback?state=" + std::string(200, 'a')),
      400);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/oauth/mock/callback?state=a&state=b"), 400);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/auth/oauth/nope/callback?state=a&code=b"), 404);
  json::object kim = Register("kim");
  ExpectProblem(Send("DELETE", "/api/v1/auth/identities/not-a-uuid", "", Str(kim, "access_token")),
                404);
  ExpectProblem(
      Send("DELETE", "/api/v1/auth/identities/0191d1f0-0000-7000-8000-000000000000", "", ""), 401);
}

// The github and discord presets against local servers shaped like those services (their user
// APIs, not OpenID Connect): tests/tools/social-oauth-provider.mjs.
class OAuthPresetTest : public OAuthTest {
 protected:
  void SetUp() override {
    provider_ = std::make_unique<test::VezaProcess>(
        "/usr/bin/node",
        std::vector<std::string>{VEZA_SOURCE_DIR "/tests/tools/social-oauth-provider.mjs", "0"});
    ASSERT_TRUE(provider_->Start()) << provider_->Log();
    port_ = test::FreeLoopbackPort();
    ApiTest::SetUp();
  }
  std::vector<std::string> ExtraServeArgs() const override {
    std::string base = "http://127.0.0.1:" + std::to_string(provider_->port());
    std::string client = ",client_id=veza-test,client_secret=not-a-real-secret-42";
    return {"--listen",
            "127.0.0.1:" + std::to_string(port_),
            "--public-url",
            PublicUrl(),
            "--oauth-provider",
            "name=gh,preset=github,authorization_endpoint=" + base +
                "/login/oauth/authorize,token_endpoint=" + base +
                "/login/oauth/access_token,userinfo_endpoint=" + base + "/user" + client,
            "--oauth-provider",
            "name=dc,preset=discord,authorization_endpoint=" + base +
                "/oauth2/authorize,token_endpoint=" + base +
                "/api/oauth2/token,userinfo_endpoint=" + base + "/api/users/@me" + client};
  }
  HttpResponse SignInWith(const std::string& provider, const std::string& extra) {
    Attempt a = Start(provider);
    return Callback(Authorize(a.authorization_url, extra), a.binding);
  }
};

TEST_F(OAuthPresetTest, GitHubSignInUsesTheNumericIdAndThePrimaryVerifiedEmail) {
  Attempt a = Start("gh");
  EXPECT_EQ(QueryValue(a.authorization_url, "code_challenge_method"), "S256");
  std::string scope = QueryValue(a.authorization_url, "scope");
  EXPECT_TRUE(scope == "read:user%20user:email" || scope == "read%3Auser%20user%3Aemail") << scope;
  auto first = Callback(
      Authorize(a.authorization_url, "&mock_id=583231&mock_login=octocat&mock_email=octo@example.com"),
      a.binding);
  ASSERT_EQ(first.status, 201) << first.body << veza_->Log();
  json::object user = json::parse(first.body).as_object().at("user").as_object();
  EXPECT_EQ(Str(user, "username"), "octocat");
  EXPECT_EQ(Str(user, "email"), "octo@example.com");  // the primary one, not the other verified
  EXPECT_TRUE(user.at("email_verified").as_bool());
  // The login can be renamed on GitHub; the numeric id is the identity.
  auto renamed = SignInWith("gh", "&mock_id=583231&mock_login=octo-renamed&mock_email=octo@example.com");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Str(json::parse(renamed.body).as_object().at("user").as_object(), "id"),
            Str(user, "id"));
  // An unverified primary email is no email at all: no account is made on it.
  ExpectProblem(
      SignInWith("gh", "&mock_id=99&mock_login=nova&mock_email=nova@example.com&mock_verified=false"),
      422, "did not share an email");
  EXPECT_EQ(veza_->Log().find("not-a-real-secret"), std::string::npos);
}

TEST_F(OAuthPresetTest, DiscordSignInUsesTheSnowflakeAndItsVerifiedFlag) {
  auto first = SignInWith("dc", "&mock_id=80351110224678912&mock_login=nelly&mock_email=nelly@example.com&mock_name=Nelly");
  ASSERT_EQ(first.status, 201) << first.body << veza_->Log();
  json::object user = json::parse(first.body).as_object().at("user").as_object();
  EXPECT_EQ(Str(user, "username"), "nelly");
  EXPECT_EQ(Str(user, "email"), "nelly@example.com");
  EXPECT_TRUE(user.at("email_verified").as_bool());
  std::string access = Str(json::parse(first.body).as_object(), "access_token");
  auto ids = Identities(access);
  ASSERT_EQ(ids.status, 200) << ids.body;
  auto list = json::parse(ids.body).as_object().at("identities").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(Str(list[0].as_object(), "provider"), "dc");
  // The same Discord user again: the same account.
  auto again = SignInWith("dc", "&mock_id=80351110224678912&mock_login=nelly&mock_email=nelly@example.com");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(json::parse(again.body).as_object().at("user").as_object(), "id"), Str(user, "id"));
}

}  // namespace
}  // namespace veza
