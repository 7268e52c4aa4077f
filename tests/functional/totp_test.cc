// Two-factor authentication (TOTP, RFC 6238, and recovery codes) over real HTTP against the
// real binary. The test computes codes itself (HMAC-SHA1, 6 digits, 30 s) from the base32
// secret the server hands out, independently of the server's implementation.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <signal.h>
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

std::string Base32DecodeForTest(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto v = kAlphabet.find(c);
    if (v == std::string::npos) return "";
    buffer = (buffer << 5) | static_cast<unsigned>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// RFC 6238 with HMAC-SHA1, T0 = 0, 30-second steps, 6 digits (RFC 4226 dynamic truncation).
std::string TotpForTest(const std::string& base32_secret, std::int64_t unix_time) {
  std::string key = Base32DecodeForTest(base32_secret);
  std::uint64_t counter = static_cast<std::uint64_t>(unix_time / 30);
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xFF);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, sizeof msg, mac, &mac_len);
  int offset = mac[mac_len - 1] & 0x0F;
  std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7F) << 24) |
                      (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                      (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06u", bin % 1000000u);
  return buf;
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Starts at the beginning of a 30-second step when the current one is about to end, so a test
// that reasons about "this step" and "the next step" is not split by a step boundary.
void AwayFromStepEnd() {
  while (Now() % 30 > 22) std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

class TotpTest : public test::ApiTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseKind() const override { return GetParam(); }

  static json::object Obj(const HttpResponse& r) {
    auto v = json::parse(r.body);
    return v.is_object() ? v.as_object() : json::object{};
  }
  // Registers name and returns its access token.
  std::string Register(const std::string& name) {
    auto r = Send("POST", "/api/v1/auth/register",
                  R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":")" + kPassword +
                      "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(Obj(r), "access_token") : "";
  }
  HttpResponse Login(const std::string& name, const std::string& password = kPassword) {
    return Send("POST", "/api/v1/auth/login", R"({"login":")" + name + R"(","password":")" + password + "\"}");
  }
  // Logs in with the right password and returns the mfa_token of the challenge.
  std::string Challenge(const std::string& name) {
    auto r = Login(name);
    EXPECT_EQ(r.status, 200) << r.body;
    json::object o = Obj(r);
    EXPECT_EQ(o.if_contains("mfa_required") ? o.at("mfa_required") : json::value(), json::value(true)) << r.body;
    EXPECT_EQ(o.if_contains("access_token"), nullptr) << r.body;
    EXPECT_EQ(o.if_contains("refresh_token"), nullptr) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    return Str(o, "mfa_token");
  }
  HttpResponse SecondStep(const std::string& token, const std::string& field, const std::string& code) {
    return Send("POST", "/api/v1/auth/login/2fa",
                R"({"mfa_token":")" + token + R"(",")" + field + R"(":")" + code + "\"}");
  }
  struct Enrolment {
    std::string secret;
    std::string uri;
    std::vector<std::string> recovery_codes;
  };
  Enrolment Enrol(const std::string& access) {
    auto r = Send("POST", "/api/v1/auth/2fa/totp", R"({"password":")" + std::string(kPassword) + "\"}", access);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    Enrolment e;
    if (r.status != 200) return e;
    json::object o = Obj(r);
    e.secret = Str(o, "secret");
    e.uri = Str(o, "otpauth_uri");
    for (const auto& c : o.at("recovery_codes").as_array()) e.recovery_codes.emplace_back(c.as_string());
    return e;
  }
  int Confirm(const std::string& access, const std::string& code) {
    return Send("POST", "/api/v1/auth/2fa/totp/confirm", R"({"code":")" + code + "\"}", access).status;
  }
};

TEST_P(TotpTest, EnrolConfirmLoginReplayRecoveryCodesAndDisable) {
  AwayFromStepEnd();
  std::string access = Register("tessa");
  Enrolment e = Enrol(access);
  ASSERT_EQ(e.recovery_codes.size(), 10u);
  ASSERT_EQ(Base32DecodeForTest(e.secret).size(), 20u) << e.secret;
  EXPECT_EQ(e.uri.rfind("otpauth://totp/Veza:tessa?secret=" + e.secret, 0), 0u) << e.uri;
  // Not enabled before confirmation: login still signs in with the password alone.
  EXPECT_NE(Str(Obj(Login("tessa")), "access_token"), "");
  // Only hashes are stored.
  EXPECT_EQ(Sql("SELECT count(*) FROM totp_recovery_codes WHERE code_hash = '" + e.recovery_codes[0] + "'"), "0\n");
  EXPECT_EQ(Sql("SELECT count(*) FROM totp_recovery_codes"), "10\n");

  std::int64_t t = Now();
  std::string wrong = "000000";
  while (wrong == TotpForTest(e.secret, t - 30) || wrong == TotpForTest(e.secret, t) ||
         wrong == TotpForTest(e.secret, t + 30) || wrong == TotpForTest(e.secret, t + 60)) {
    wrong[0]++;
  }
  EXPECT_EQ(Confirm(access, wrong), 403);
  ASSERT_EQ(Confirm(access, TotpForTest(e.secret, t)), 204);
  ExpectProblem(Send("POST", "/api/v1/auth/2fa/totp", R"({"password":")" + std::string(kPassword) + "\"}", access), 409);

  // The password alone no longer signs in; the code of the next step does (window +-1).
  std::string token = Challenge("tessa");
  ASSERT_FALSE(token.empty());
  std::string next = TotpForTest(e.secret, t + 30);
  auto done = SecondStep(token, "code", next);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.Header("cache-control"), "no-store");
  json::object signed_in = Obj(done);
  EXPECT_EQ(Str(signed_in.at("user").as_object(), "username"), "tessa");
  std::string access2 = Str(signed_in, "access_token");
  EXPECT_EQ(test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access2}}).status, 200);
  // The mfa_token is single-use.
  ExpectProblem(SecondStep(token, "recovery_code", e.recovery_codes[5]), 401);

  // The same code again (and the confirmation's step) is a replay.
  std::string token2 = Challenge("tessa");
  ExpectProblem(SecondStep(token2, "code", next), 401);
  ExpectProblem(SecondStep(token2, "code", TotpForTest(e.secret, t)), 401);
  // A recovery code works once (typed in upper case with spaces, too).
  std::string typed = e.recovery_codes[0];
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_EQ(SecondStep(token2, "recovery_code", typed).status, 200);
  std::string token3 = Challenge("tessa");
  ExpectProblem(SecondStep(token3, "recovery_code", e.recovery_codes[0]), 401);
  ASSERT_EQ(SecondStep(token3, "recovery_code", e.recovery_codes[1]).status, 200);

  // Five wrong codes invalidate the challenge: even a right code fails after them.
  std::string token4 = Challenge("tessa");
  for (int i = 0; i < 5; ++i) ExpectProblem(SecondStep(token4, "code", wrong), 401);
  ExpectProblem(SecondStep(token4, "recovery_code", e.recovery_codes[2]), 401);
  EXPECT_NE(veza_->Log().find("security: wrong second factor"), std::string::npos);

  // Disabling needs the password and a code.
  ExpectProblem(Send("DELETE", "/api/v1/auth/2fa/totp",
                     R"({"password":"not the password at all","code":")" + e.recovery_codes[2] + "\"}", access2),
                403);
  ExpectProblem(Send("DELETE", "/api/v1/auth/2fa/totp", R"({"password":")" + std::string(kPassword) + R"(","code":")" +
                                                            wrong + "\"}", access2),
                403);
  auto disabled = Send("DELETE", "/api/v1/auth/2fa/totp",
                       R"({"password":")" + std::string(kPassword) + R"(","code":")" + e.recovery_codes[2] + "\"}", access2);
  EXPECT_EQ(disabled.status, 204) << disabled.body;
  auto plain = Login("tessa");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_NE(Str(Obj(plain), "access_token"), "");
  EXPECT_EQ(Sql("SELECT count(*) FROM totp_recovery_codes"), "0\n");
  EXPECT_EQ(Sql("SELECT count(*) FROM user_totp"), "0\n");
}

TEST_P(TotpTest, DisableWithACurrentCodeAndReEnrol) {
  AwayFromStepEnd();
  std::string access = Register("ulric");
  Enrolment first = Enrol(access);
  // A new enrolment replaces an unconfirmed one: the first secret no longer confirms.
  Enrolment e = Enrol(access);
  ASSERT_NE(first.secret, e.secret);
  std::int64_t t = Now();
  if (TotpForTest(first.secret, t) != TotpForTest(e.secret, t)) {
    EXPECT_EQ(Confirm(access, TotpForTest(first.secret, t)), 403);
  }
  ASSERT_EQ(Confirm(access, TotpForTest(e.secret, t)), 204);
  ExpectProblem(Send("POST", "/api/v1/auth/2fa/totp/confirm", R"({"code":")" + TotpForTest(e.secret, t) + "\"}", access),
                409);
  // The confirmation's code cannot disable (replay); the next step's can.
  ExpectProblem(Send("DELETE", "/api/v1/auth/2fa/totp",
                     R"({"password":")" + std::string(kPassword) + R"(","code":")" + TotpForTest(e.secret, t) + "\"}",
                     access),
                403);
  EXPECT_EQ(Send("DELETE", "/api/v1/auth/2fa/totp",
                 R"({"password":")" + std::string(kPassword) + R"(","code":")" + TotpForTest(e.secret, t + 30) + "\"}",
                 access)
                .status,
            204);
  ExpectProblem(Send("DELETE", "/api/v1/auth/2fa/totp",
                     R"({"password":")" + std::string(kPassword) + R"(","code":"123456"})", access),
                409);
  EXPECT_NE(Str(Obj(Login("ulric")), "access_token"), "");
  // And it can be enabled again.
  Enrolment again = Enrol(access);
  EXPECT_EQ(again.recovery_codes.size(), 10u);
}

TEST_P(TotpTest, MalformedInputIsAProblem) {
  std::string access = Register("vera");
  const std::string enrol = "/api/v1/auth/2fa/totp";
  const std::string confirm = "/api/v1/auth/2fa/totp/confirm";
  const std::string second = "/api/v1/auth/login/2fa";
  std::string pw = R"({"password":")" + std::string(kPassword) + "\"}";

  // No bearer, or a bad one.
  ExpectProblem(Send("POST", enrol, pw), 401);
  ExpectProblem(Send("POST", confirm, R"({"code":"123456"})"), 401);
  ExpectProblem(Send("DELETE", enrol, R"({"password":"x","code":"123456"})"), 401);
  ExpectProblem(Send("POST", enrol, pw, "garbage"), 401);

  // Enrolment.
  ExpectProblem(Send("POST", enrol, "{}", access), 400, "missing field 'password'");
  ExpectProblem(Send("POST", enrol, "{", access), 400);
  ExpectProblem(Send("POST", enrol, R"({"password":")" + std::string(kPassword) + R"(","x":1})", access), 400,
                "unknown field 'x'");
  ExpectProblem(Send("POST", enrol, R"({"password":"wrong password here"})", access), 403);
  ExpectProblem(Send("POST", confirm, R"({"code":"123456"})", access), 409);  // nothing pending
  ExpectProblem(Send("DELETE", enrol, R"({"password":")" + std::string(kPassword) + R"(","code":"123456"})", access),
                409);  // not enabled
  Enrol(access);

  // Confirmation.
  for (const std::string& body : {std::string(R"({"code":"12a456"})"), std::string(R"({"code":"1234567"})"),
                                  std::string(R"({"code":"12345"})"), std::string(R"({"code":123456})"),
                                  std::string(R"({"code":")" + std::string(100, '1') + "\"}"), std::string("{}"),
                                  std::string(R"({"code":"123456","extra":true})"), std::string("[]")}) {
    SCOPED_TRACE(body);
    ExpectProblem(Send("POST", confirm, body, access), 400);
  }

  // Disable.
  ExpectProblem(Send("DELETE", enrol, pw, access), 400, "missing field 'code'");
  ExpectProblem(Send("DELETE", enrol, R"({"password":")" + std::string(kPassword) + R"(","code":""})", access), 400);

  // The second login step.
  for (const std::string& body :
       {std::string("{}"), std::string(R"({"code":"123456"})"), std::string(R"({"mfa_token":"abc"})"),
        std::string(R"({"mfa_token":"abc","code":"123456","recovery_code":"abcd-efgh-jkmn"})"),
        std::string(R"({"mfa_token":"abc","code":"12345a"})"), std::string(R"({"mfa_token":"abc","code":"1234567"})"),
        std::string(R"({"mfa_token":"abc","code":123456})"), std::string(R"({"mfa_token":"abc","code":"123456","x":1})"),
        std::string(R"({"mfa_token":")" + std::string(200, 'a') + R"(","code":"123456"})"),
        std::string(R"({"mfa_token":"abc","recovery_code":")" + std::string(100, 'a') + "\"}"), std::string("{")}) {
    SCOPED_TRACE(body);
    ExpectProblem(Send("POST", second, body), 400);
  }
  ExpectProblem(Send("POST", second, R"({"mfa_token":"no-such-token","code":"123456"})"), 401);
  ExpectProblem(Send("POST", second, R"({"mfa_token":"","code":"123456"})"), 401);
  EXPECT_EQ(test::Get(veza_->port(), "/healthz").status, 200);
}

// The flows run on both databases: the SQL of the auth service is portable.
INSTANTIATE_TEST_SUITE_P(Databases, TotpTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza

namespace veza {
namespace {

// TOTP secrets at rest: sealed with XChaCha20-Poly1305; secrets stored in clear by older
// versions, and secrets sealed under a replaced key, are resealed at startup.
class TotpAtRestTest : public TotpTest {
 protected:
  std::string DatabaseKind() const override { return "sqlite"; }
  void Restart(std::vector<std::string> extra = {}) {
    ASSERT_EQ(veza_->Stop(SIGTERM), 0);
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--no-access-log"};
    for (auto& a : extra) args.push_back(a);
    veza_ = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }
  std::string StoredSecret() {
    std::string s = Sql("SELECT secret FROM user_totp");
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  static std::string KeyIdOf(const std::string& sealed) { return sealed.substr(3, sealed.find('.', 3) - 3); }
  // Forgets the last accepted step (replay protection is not what is tested here) and signs in
  // with the current code, which only works if the server can open the stored secret.
  void ExpectCodeSignsIn(const std::string& name, const std::string& secret) {
    Sql("UPDATE user_totp SET last_step = -1");
    std::string token = Challenge(name);
    auto done = SecondStep(token, "code", TotpForTest(secret, Now()));
    EXPECT_EQ(done.status, 200) << done.body;
  }
};

TEST_F(TotpAtRestTest, SecretsAreSealedAndResealedWhenClearOrUnderAnOldKey) {
  AwayFromStepEnd();
  std::int64_t t = Now();
  std::string access = Register("sam");
  Enrolment e = Enrol(access);
  ASSERT_EQ(Confirm(access, TotpForTest(e.secret, t)), 204);
  std::string sealed = StoredSecret();
  EXPECT_EQ(sealed.rfind("v1.", 0), 0u) << sealed;
  EXPECT_EQ(sealed.find(e.secret), std::string::npos);

  // A row as an older version left it: the secret in clear. The next start reseals it.
  Sql("UPDATE user_totp SET secret = '" + e.secret + "'");
  Restart();
  std::string resealed = StoredSecret();
  EXPECT_EQ(resealed.rfind("v1.", 0), 0u) << resealed;
  EXPECT_EQ(KeyIdOf(resealed), KeyIdOf(sealed)) << "the generated key is kept in the database";
  ExpectCodeSignsIn("sam", e.secret);

  // Moving to a configured key: the generated one still opens old rows, which are resealed.
  std::string key_file = (dir_.path() / "data.key").string();
  std::ofstream(key_file) << "q3vJ0aG3mXv6b5S9d2Lw8YkTqR1nZ4cE7uH0pA6sF2M=\n";
  Restart({"--data-key-file", key_file});
  std::string rotated = StoredSecret();
  EXPECT_NE(KeyIdOf(rotated), KeyIdOf(sealed)) << rotated;
  ExpectCodeSignsIn("sam", e.secret);

  // A key that is not 32 bytes of base64 stops startup with exit status 2.
  ASSERT_EQ(veza_->Stop(SIGTERM), 0);
  test::VezaProcess bad(VEZA_BINARY, {"serve", "--listen", "127.0.0.1:0", "--data-key", "c2hvcnQ="}, {}, dir_.path());
  EXPECT_FALSE(bad.Start());
  EXPECT_EQ(bad.Wait(std::chrono::seconds(10)), 2);
}

}  // namespace
}  // namespace veza
