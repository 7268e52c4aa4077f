// Contract tests of the Mailer port, run against every backend: "outbox" (a fresh SQLite
// database with the migrations applied) and "smtp" (the test SMTP server, tests/tools/
// smtp-sink.js, named by VEZA_TEST_SMTP_URL and writing each message into
// VEZA_TEST_SMTP_MAILDIR; run under scripts/test-services). Every test mails fresh addresses,
// so runs in parallel do not see each other's messages.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "backends/mailer_outbox/outbox_mailer.h"
#include "backends/mailer_smtp/smtp_mailer.h"
#include "ports/mailer.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

using namespace std::chrono_literals;

const char* kNeedServices =
    "VEZA_TEST_SMTP_URL is not set: run the contract tests under `scripts/test-services run -- "
    "<command>`, which starts the test SMTP server and exports it";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

class MailerContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "outbox") {
      db_ = std::make_unique<test::TestDatabase>("sqlite");
      ASSERT_TRUE(db_->ok());
      auto applied = ApplyMigrations(db_->db(), EmbeddedMigrations("sqlite"));
      ASSERT_TRUE(applied.ok()) << applied.error().message;
      auto m = OpenOutboxMailer("outbox://", db_->db());
      ASSERT_TRUE(m.ok()) << m.error().message;
      mailer_ = std::move(m).value();
    } else {
      std::string url = Env("VEZA_TEST_SMTP_URL");
      ASSERT_FALSE(url.empty()) << kNeedServices;
      auto m = OpenSmtpMailer(url);
      ASSERT_TRUE(m.ok()) << m.error().message;
      mailer_ = std::move(m).value();
    }
  }

  std::string Address() { return test::RandomToken() + "@example.com"; }

  // The delivered message for `to` as {subject or header text, body}, or nullopt after `wait`.
  std::optional<std::pair<std::string, std::string>> Delivered(const std::string& to,
                                                               std::chrono::milliseconds wait = 5s) {
    if (GetParam() == "outbox") {
      auto r = db_->db().Query("SELECT subject, body FROM outbox WHERE to_address = $1", {SqlValue{to}});
      if (!r.ok() || r->rows.size() != 1) return std::nullopt;
      return std::make_pair(r->rows[0].Text(0), r->rows[0].Text(1));
    }
    std::filesystem::path dir = Env("VEZA_TEST_SMTP_MAILDIR");
    for (auto deadline = std::chrono::steady_clock::now() + wait; std::chrono::steady_clock::now() < deadline;) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().filename().string().starts_with(".")) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string raw = ss.str();
        if (!raw.starts_with("X-Envelope-To: " + to + "\r\n")) continue;
        auto split = raw.find("\r\n\r\n");
        if (split == std::string::npos) return std::nullopt;
        return std::make_pair(raw.substr(0, split), raw.substr(split + 4));
      }
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }

  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<Mailer> mailer_;
};

TEST_P(MailerContractTest, PingSucceeds) { EXPECT_TRUE(mailer_->Ping().ok()); }

TEST_P(MailerContractTest, SendDeliversSubjectAndBody) {
  std::string to = Address();
  ASSERT_TRUE(mailer_->Send({to, "Reset your password", "Hello,\n\nopen https://veza.test/x?token=abc\n"}).ok());
  auto got = Delivered(to);
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->first.find("Reset your password"), std::string::npos) << got->first;
  EXPECT_NE(got->second.find("https://veza.test/x?token=abc"), std::string::npos) << got->second;
}

TEST_P(MailerContractTest, BodyWithDotLinesAndUnicodeArrivesIntact) {
  std::string to = Address();
  std::string body = "first\n.\n..two dots\nnaïve café ♫\nlast";
  ASSERT_TRUE(mailer_->Send({to, "Grüße", body}).ok());
  auto got = Delivered(to);
  ASSERT_TRUE(got.has_value());
  std::string delivered = got->second;
  // SMTP carries CRLF line ends; the outbox keeps the text as given.
  for (std::size_t p; (p = delivered.find("\r\n")) != std::string::npos;) delivered.replace(p, 2, "\n");
  while (!delivered.empty() && delivered.back() == '\n') delivered.pop_back();
  EXPECT_EQ(delivered, body);
}

TEST_P(MailerContractTest, RefusesHeaderInjectionAndBadAddresses) {
  std::string to = Address();
  for (const MailMessage& m : {MailMessage{to + "\r\nBcc: victim@example.com", "s", "b"},
                               MailMessage{to, "hi\r\nBcc: victim@example.com", "b"},
                               MailMessage{"no-at-sign", "s", "b"},
                               MailMessage{"a@b@c", "s", "b"},
                               MailMessage{"Name <" + to + ">", "s", "b"},
                               MailMessage{to + ",other@example.com", "s", "b"},
                               MailMessage{"", "s", "b"}}) {
    Status st = mailer_->Send(m);
    ASSERT_FALSE(st.ok()) << m.to << " / " << m.subject;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(Delivered(to, 500ms).has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, MailerContractTest, testing::Values("outbox", "smtp"),
                         [](const auto& info) { return info.param; });

// SMTP-only behaviour.
TEST(SmtpMailer, UnreachableServerFailsAtOpenWithUnavailable) {
  auto start = std::chrono::steady_clock::now();
  auto m = OpenSmtpMailer("smtp://127.0.0.1:1?from=noreply@veza.test");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(m.error().message.find("127.0.0.1"), std::string::npos) << m.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(SmtpMailer, BadUrlsAreRefused) {
  for (const char* url : {"smtp://127.0.0.1:25", "smtp://127.0.0.1:25?from=nobody",
                          "smtp://127.0.0.1:25?from=a@b.c&starttls=maybe", "smtp://127.0.0.1:25?from=a@b.c&x=1",
                          "smtp:///?from=a@b.c"}) {
    auto m = OpenSmtpMailer(url);
    ASSERT_FALSE(m.ok()) << url;
    EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(SmtpMailer, RecipientRefusedByTheServerIsAnError) {
  std::string url = Env("VEZA_TEST_SMTP_URL");
  ASSERT_FALSE(url.empty()) << kNeedServices;
  auto m = OpenSmtpMailer(url);
  ASSERT_TRUE(m.ok()) << m.error().message;
  Status st = (*m)->Send({"someone@rejected.invalid", "s", "b"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << st.error().message;
}

TEST(OutboxMailer, TakesNoOptions) {
  test::TestDatabase db("sqlite");
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE(OpenOutboxMailer("outbox://somewhere", db.db()).ok());
}

}  // namespace
}  // namespace veza
