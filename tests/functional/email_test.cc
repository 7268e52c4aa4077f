// Email verification and password reset over real HTTP against the real binary, with the
// default outbox:// mailer: tokens are read back from the outbox table with the database's CLI,
// on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <stdio.h>

#include <boost/json/parse.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "api_test.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

constexpr const char* kPassword = "violet kettle 93 drums";
constexpr const char* kNewPassword = "amber lantern 47 cellos";

class EmailTest : public test::ApiTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseKind() const override { return GetParam(); }
  std::vector<std::string> ExtraServeArgs() const override { return {"--public-url", "https://veza.example/"}; }

  int OutboxCount(const std::string& to) {
    return std::stoi(Sql("SELECT COUNT(*) FROM outbox WHERE to_address = '" + to + "'"));
  }
  // The token in the newest mail to `to` whose link goes to `page`.
  std::string TokenFromOutbox(const std::string& to, const std::string& page) {
    std::string body = Sql("SELECT body FROM outbox WHERE to_address = '" + to + "' ORDER BY created_at DESC, id DESC LIMIT 1");
    std::string link = "https://veza.example/" + page + "?token=";
    auto pos = body.find(link);
    if (pos == std::string::npos) {
      ADD_FAILURE() << "no " << page << " link in: " << body;
      return "";
    }
    return body.substr(pos + link.size(), 43);
  }
  json::object Register(const std::string& name) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":")" + kPassword + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object() : json::object{};
  }
  int LoginStatus(const std::string& login, const std::string& password) {
    return Post("/api/v1/auth/login", R"({"login":")" + login + R"(","password":")" + password + "\"}").status;
  }
  bool EmailVerified(const std::string& access) {
    auto me = test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access}});
    EXPECT_EQ(me.status, 200) << me.body;
    auto o = json::parse(me.body).as_object();
    return o.contains("email_verified") && o.at("email_verified").as_bool();
  }

};

TEST_P(EmailTest, VerifyEmailWithTheMailedTokenOnce) {
  auto reg = Register("vera");
  std::string access = Str(reg, "access_token");
  ExpectProblem(Post("/api/v1/auth/email/verify/request", ""), 401);
  auto sent = Post("/api/v1/auth/email/verify/request", "", access);
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_NE(veza_->Log().find("mail queued in outbox"), std::string::npos);
  std::string token = TokenFromOutbox("vera@example.com", "verify-email");
  ASSERT_EQ(token.size(), 43u);
  // Only the hash is stored.
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM email_tokens WHERE token_hash = '" + token + "'"), "0\n");
  // The log never holds the token.
  EXPECT_EQ(veza_->Log().find(token), std::string::npos);
  EXPECT_FALSE(EmailVerified(access));

  ASSERT_EQ(Post("/api/v1/auth/email/verify", R"({"token":")" + token + "\"}").status, 204);
  EXPECT_TRUE(EmailVerified(access));
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":")" + token + "\"}"), 400);  // spent
  ExpectProblem(Post("/api/v1/auth/email/verify/request", "", access), 409);            // verified already
}

TEST_P(EmailTest, VerifyTokenForAnOldAddressOrExpiredFails) {
  auto reg = Register("walt");
  std::string access = Str(reg, "access_token");
  ASSERT_EQ(Post("/api/v1/auth/email/verify/request", "", access).status, 202);
  std::string old_token = TokenFromOutbox("walt@example.com", "verify-email");
  auto changed = Post("/api/v1/auth/change-email", R"({"password":")" + std::string(kPassword) +
                                                       R"(","email":"walt2@example.com"})", access);
  ASSERT_EQ(changed.status, 200) << changed.body;
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":")" + old_token + "\"}"), 400);
  EXPECT_FALSE(EmailVerified(access));

  ASSERT_EQ(Post("/api/v1/auth/email/verify/request", "", access).status, 202);
  std::string token = TokenFromOutbox("walt2@example.com", "verify-email");
  Sql("UPDATE email_tokens SET expires_at = 1 WHERE purpose = 'verify'");
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":")" + token + "\"}"), 400);
  EXPECT_FALSE(EmailVerified(access));
}

TEST_P(EmailTest, PasswordResetChangesThePasswordAndEndsEverySession) {
  auto reg = Register("rita");
  std::string access = Str(reg, "access_token");
  std::string refresh = Str(reg, "refresh_token");
  auto forgot = Post("/api/v1/auth/password/forgot", R"({"email":"RITA@example.com"})");
  ASSERT_EQ(forgot.status, 202) << forgot.body;
  std::string token = TokenFromOutbox("rita@example.com", "reset-password");
  ASSERT_EQ(token.size(), 43u);
  EXPECT_EQ(veza_->Log().find(token), std::string::npos);

  // Policy first: the token survives a refused password.
  ExpectProblem(Post("/api/v1/auth/password/reset", R"({"token":")" + token + R"(","new_password":"short"})"), 400);
  auto reset = Post("/api/v1/auth/password/reset",
                    R"({"token":")" + token + R"(","new_password":")" + kNewPassword + "\"}");
  ASSERT_EQ(reset.status, 204) << reset.body;

  EXPECT_EQ(LoginStatus("rita", kPassword), 401);
  EXPECT_EQ(LoginStatus("rita", kNewPassword), 200);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access}}), 401);
  ExpectProblem(Post("/api/v1/auth/refresh", R"({"refresh_token":")" + refresh + "\"}"), 401);
  // Single use.
  ExpectProblem(Post("/api/v1/auth/password/reset",
                     R"({"token":")" + token + R"(","new_password":"another fine 88 password"})"), 400);
}

TEST_P(EmailTest, ResetSpendsEveryOtherResetTokenAndExpiredTokensFail) {
  Register("otto");
  ASSERT_EQ(Post("/api/v1/auth/password/forgot", R"({"email":"otto@example.com"})").status, 202);
  std::string first = TokenFromOutbox("otto@example.com", "reset-password");
  ASSERT_EQ(Post("/api/v1/auth/password/forgot", R"({"email":"otto@example.com"})").status, 202);
  std::string second = TokenFromOutbox("otto@example.com", "reset-password");
  ASSERT_NE(first, second);
  ASSERT_EQ(Post("/api/v1/auth/password/reset",
                 R"({"token":")" + second + R"(","new_password":")" + kNewPassword + "\"}").status, 204);
  ExpectProblem(Post("/api/v1/auth/password/reset",
                     R"({"token":")" + first + R"(","new_password":"another fine 88 password"})"), 400);

  ASSERT_EQ(Post("/api/v1/auth/password/forgot", R"({"email":"otto@example.com"})").status, 202);
  std::string third = TokenFromOutbox("otto@example.com", "reset-password");
  Sql("UPDATE email_tokens SET expires_at = 1 WHERE purpose = 'reset' AND used_at IS NULL");
  ExpectProblem(Post("/api/v1/auth/password/reset",
                     R"({"token":")" + third + R"(","new_password":"another fine 88 password"})"), 400);
  EXPECT_EQ(LoginStatus("otto", kNewPassword), 200);
}

TEST_P(EmailTest, ForgotAnswersTheSameForUnknownAddressesAndSendsNothing) {
  Register("uma");
  auto known = Post("/api/v1/auth/password/forgot", R"({"email":"uma@example.com"})");
  auto unknown = Post("/api/v1/auth/password/forgot", R"({"email":"nobody@example.com"})");
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(known.body, unknown.body);
  EXPECT_EQ(OutboxCount("uma@example.com"), 1);
  EXPECT_EQ(OutboxCount("nobody@example.com"), 0);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM outbox"), "1\n");
}

TEST_P(EmailTest, ForgotIsRateLimitedPerAddress) {
  int last = 0;
  for (int i = 0; i < 6; ++i) last = Post("/api/v1/auth/password/forgot", R"({"email":"flood@example.com"})").status;
  ExpectProblem(Post("/api/v1/auth/password/forgot", R"({"email":"flood@example.com"})"), 429);
  EXPECT_EQ(last, 429);
  EXPECT_EQ(Post("/api/v1/auth/password/forgot", R"({"email":"other@example.com"})").status, 202);
}

TEST_P(EmailTest, MalformedInputIsAProblem) {
  for (std::string target : {"/api/v1/auth/email/verify", "/api/v1/auth/password/forgot",
                                    "/api/v1/auth/password/reset"}) {
    ExpectProblem(Post(target, "{"), 400);
    ExpectProblem(Post(target, "[]"), 400);
    ExpectProblem(Post(target, R"({"extra":"x"})"), 400);
  }
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":42})"), 400);
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":"not-a-token"})"), 400);
  ExpectProblem(Post("/api/v1/auth/email/verify", R"({"token":")" + std::string(200, 'a') + "\"}"), 400);
  ExpectProblem(Post("/api/v1/auth/password/forgot", R"({"email":")" + std::string(300, 'a') + "\"}"), 400);
  ExpectProblem(Post("/api/v1/auth/password/reset", R"({"token":")" + std::string(43, 'A') + "\"}"), 400);
  ExpectProblem(Post("/api/v1/auth/password/reset",
                     R"({"token":")" + std::string(43, 'A') + R"(","new_password":")" + kNewPassword + "\"}"), 400);
}

// The flows run on both databases: the SQL of the email service is portable.
INSTANTIATE_TEST_SUITE_P(Databases, EmailTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(EmailStartup, UnreachableSmtpServerStopsStartup) {
  test::TempDir dir;
  test::VezaProcess veza(VEZA_BINARY,
                         {"serve", "--listen", "127.0.0.1:0", "--mail", "smtp://127.0.0.1:1?from=noreply@veza.test"},
                         {}, dir.path());
  EXPECT_FALSE(veza.Start());
  EXPECT_EQ(veza.Wait(std::chrono::seconds(20)), 1);
  EXPECT_NE(veza.Log().find("--mail smtp://127.0.0.1:1"), std::string::npos) << veza.Log();
}

TEST(EmailStartup, MailGoesOutThroughSmtpWhenConfigured) {
  std::string url = test::Env("VEZA_TEST_SMTP_URL");
  std::string maildir = test::Env("VEZA_TEST_SMTP_MAILDIR");
  ASSERT_FALSE(url.empty()) << "run under scripts/test-services, which starts the test SMTP server";
  test::TempDir dir;
  test::VezaProcess veza(VEZA_BINARY, {"serve", "--listen", "127.0.0.1:0", "--no-access-log"},
                         {"VEZA_MAIL=" + url}, dir.path());
  ASSERT_TRUE(veza.Start()) << veza.Log();
  std::string name = "s" + std::to_string(::getpid()) + std::to_string(veza.port());
  std::string email = name + "@example.com";
  auto r = Http("127.0.0.1", veza.port(),
                {"POST", "/api/v1/auth/password/forgot", R"({"email":")" + email + "\"}",
                 {{"Content-Type", "application/json"}}});
  ASSERT_EQ(r.status, 202);  // no account: nothing is sent
  r = Http("127.0.0.1", veza.port(),
           {"POST", "/api/v1/auth/register",
            R"({"username":")" + name + R"(","email":")" + email + R"(","password":")" + kPassword + "\"}",
            {{"Content-Type", "application/json"}}});
  ASSERT_EQ(r.status, 201) << r.body;
  r = Http("127.0.0.1", veza.port(),
           {"POST", "/api/v1/auth/password/forgot", R"({"email":")" + email + "\"}",
            {{"Content-Type", "application/json"}}});
  ASSERT_EQ(r.status, 202);
  bool found = false;
  for (int i = 0; i < 100 && !found; ++i) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(maildir, ec)) {
      std::ifstream in(entry.path());
      std::string first;
      std::getline(in, first);
      if (first.find(email) == std::string::npos) continue;
      std::stringstream rest;
      rest << in.rdbuf();
      EXPECT_NE(rest.str().find("http://localhost:8080/reset-password?token="), std::string::npos) << rest.str();
      found = true;
    }
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(found) << "no mail to " << email << " in " << maildir;
}

}  // namespace
}  // namespace veza
