#include "services/auth/email_service.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/digest.h"
#include "base/log.h"
#include "services/auth/auth_service.h"
#include "services/auth/signing_keys.h"

namespace veza::auth {
namespace {

constexpr std::string_view kBadToken = "the token is invalid, expired or already used";
constexpr std::size_t kTokenChars = 43;  // base64url of 32 bytes



bool WellFormedToken(std::string_view token) {
  if (token.size() != kTokenChars) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

EmailService::EmailService(Database& db, Cache& cache, Mailer& mailer, const Clock& clock, EmailOptions options)
    : db_(db), cache_(cache), mailer_(mailer), clock_(clock), options_(std::move(options)), users_(db) {}

std::int64_t EmailService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Status EmailService::CheckRate(const std::string& key, int limit) {
  auto n = cache_.Increment(key, 1, std::chrono::hours(1));
  if (!n.ok()) {
    // The cache being down must not stop recovery; it is reported by /readyz.
    log::Warn("rate limit unavailable", {{"error", n.error().message}});
    return Ok();
  }
  if (*n > limit) return Error{ErrorCode::kRateLimited, "too many requests; try again later"};
  return Ok();
}

Result<std::string> EmailService::IssueToken(const User& user, std::string_view purpose, std::chrono::seconds ttl) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("random generator failed");
  std::string token = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  std::int64_t now_ms = NowMs();
  VEZA_TRY(db_.Query(
      "INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {SqlText(Sha256Hex(token)), SqlText(user.id), SqlText(purpose), SqlText(user.email), SqlInt(now_ms),
       SqlInt(now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count())}));
  return token;
}

Status EmailService::RequestVerification(std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(User user, users_.FindById(user_id));
  if (user.email_verified) return Conflict("the email address is verified already");
  VEZA_TRY(CheckRate("auth:rl:verify-mail:" + user.id, options_.max_verify_requests_per_hour));
  VEZA_ASSIGN_OR_RETURN(std::string token, IssueToken(user, "verify", options_.verify_ttl));
  MailMessage m;
  m.to = user.email;
  m.subject = "Confirm your email address for Veza";
  m.text_body = "Hello " + user.username + ",\n\nConfirm that " + user.email +
                " is your address by opening this link within 24 hours:\n\n" + options_.public_url +
                "/verify-email?token=" + token + "\n\nIf you did not ask for this, ignore this message.\n";
  Status sent = mailer_.Send(m);
  if (!sent.ok()) {
    log::Warn("verification mail not sent", {{"user_id", user.id}, {"error", sent.error().message}});
    return Unavailable("the mail could not be sent; try again later");
  }
  return Ok();
}

Status EmailService::VerifyEmail(std::string_view token) {
  if (!WellFormedToken(token)) return InvalidArgument(std::string(kBadToken));
  std::string hash = Sha256Hex(token);
  std::int64_t now_ms = NowMs();
  std::string user_id;
  Status st = db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(
        QueryResult spent,
        tx.Query("UPDATE email_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'verify' "
                 "AND used_at IS NULL AND expires_at > $2 RETURNING user_id, email",
                 {SqlText(hash), SqlInt(now_ms)}));
    if (spent.rows.empty()) return InvalidArgument(std::string(kBadToken));
    user_id = spent.rows[0].Text(0);
    // Only the address the token was sent to is verified, and only while the account has it.
    VEZA_ASSIGN_OR_RETURN(
        QueryResult updated,
        tx.Query("UPDATE users SET email_verified = $3, updated_at = $4 WHERE id = $1 AND email_key = $2",
                 {SqlText(user_id), SqlText(FoldKey(spent.rows[0].Text(1))), SqlInt(1), SqlInt(now_ms)}));
    if (updated.affected_rows != 1) return InvalidArgument(std::string(kBadToken));
    return Ok();
  });
  if (st.ok()) log::Info("email verified", {{"user_id", user_id}});
  return st;
}

Status EmailService::ForgotPassword(std::string_view email, std::string_view client_ip) {
  VEZA_TRY(CheckRate("auth:rl:forgot-ip:" + std::string(client_ip), options_.max_forgot_per_hour_per_ip));
  VEZA_TRY(CheckRate("auth:rl:forgot-email:" + FoldKey(email), options_.max_forgot_per_hour_per_email));
  auto user = users_.FindByEmail(email);
  if (!user.ok()) {
    if (user.error().code != ErrorCode::kNotFound) {
      log::Warn("password reset lookup failed", {{"error", user.error().message}});
    }
    return Ok();
  }
  if (user->suspended) return Ok();
  auto token = IssueToken(*user, "reset", options_.reset_ttl);
  if (!token.ok()) {
    log::Warn("password reset token not issued", {{"user_id", user->id}, {"error", token.error().message}});
    return Ok();
  }
  MailMessage m;
  m.to = user->email;
  m.subject = "Reset your Veza password";
  m.text_body = "Hello " + user->username + ",\n\nSomeone asked to reset the password of your Veza account. " +
                "To choose a new password, open this link within 1 hour:\n\n" + options_.public_url +
                "/reset-password?token=" + *token +
                "\n\nIf it was not you, ignore this message: your password stays as it is.\n";
  Status sent = mailer_.Send(m);
  if (!sent.ok()) {
    log::Warn("password reset mail not sent", {{"user_id", user->id}, {"error", sent.error().message}});
  }
  return Ok();
}

Status EmailService::ResetPassword(std::string_view token, std::string_view new_password) {
  if (!WellFormedToken(token)) return InvalidArgument(std::string(kBadToken));
  std::string hash = Sha256Hex(token);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult found,
      db_.Query("SELECT user_id FROM email_tokens WHERE token_hash = $1 AND purpose = 'reset' "
                "AND used_at IS NULL AND expires_at > $2",
                {SqlText(hash), SqlInt(NowMs())}));
  if (found.rows.empty()) return InvalidArgument(std::string(kBadToken));
  auto user = users_.FindById(found.rows[0].Text(0));
  if (!user.ok()) return InvalidArgument(std::string(kBadToken));
  VEZA_TRY(CheckPasswordPolicy(new_password, user->username, user->email));
  VEZA_ASSIGN_OR_RETURN(std::string phc, HashPassword(new_password, options_.password));

  std::int64_t now_ms = NowMs();
  std::vector<std::string> sessions;
  VEZA_TRY(db_.Transaction([&](SqlSession& tx) -> Status {
    // Spend the token now: of two concurrent resets with one token, only one gets here.
    VEZA_ASSIGN_OR_RETURN(
        QueryResult spent,
        tx.Query("UPDATE email_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'reset' "
                 "AND used_at IS NULL AND expires_at > $2",
                 {SqlText(hash), SqlInt(now_ms)}));
    if (spent.affected_rows != 1) return InvalidArgument(std::string(kBadToken));
    VEZA_TRY(tx.Query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                      {SqlText(user->id), SqlText(phc), SqlInt(now_ms)}));
    VEZA_TRY(tx.Query("UPDATE email_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = 'reset' "
                      "AND used_at IS NULL",
                      {SqlText(user->id), SqlInt(now_ms)}));
    VEZA_ASSIGN_OR_RETURN(QueryResult live,
                          tx.Query("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                                   {SqlText(user->id)}));
    for (const Row& r : live.rows) sessions.push_back(r.Text(0));
    VEZA_TRY(tx.Query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                      {SqlText(user->id), SqlInt(now_ms)}));
    return Ok();
  }));
  for (const std::string& sid : sessions) {
    Status st = cache_.Set(RevokedSessionKey(sid), "1", options_.revocation_ttl);
    if (!st.ok()) log::Warn("session revocation not cached", {{"session_id", sid}, {"error", st.error().message}});
  }
  log::Info("password reset", {{"user_id", user->id}, {"sessions_revoked", static_cast<std::int64_t>(sessions.size())}});
  return Ok();
}

}  // namespace veza::auth
