#pragma once
// Email verification and password reset by single-use, expiring tokens sent through the
// Mailer port. Blocking (database, mail, argon2id): call it from the worker pool.
//
// Tokens are 256-bit random values (base64url, 43 characters); only their SHA-256 is stored, in
// email_tokens. A token works once and before it expires (verify: 24 h, reset: 1 h). Every
// failure to redeem one (unknown, expired, spent, for another purpose, or a verify token for an
// address the account no longer has) answers the same kInvalidArgument, so the answer tells an
// attacker nothing. ForgotPassword answers the same whether or not the account exists.
#include <chrono>
#include <string>
#include <string_view>

#include "ports/cache.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/mailer.h"
#include "services/auth/password.h"
#include "services/auth/user_repository.h"

namespace veza::auth {

struct EmailOptions {
  std::string public_url = "http://localhost:8080";  // links: <public_url>/verify-email?token=...
  std::chrono::seconds verify_ttl{24 * 3600};
  std::chrono::seconds reset_ttl{3600};
  PasswordParams password;
  // How long a revoked session's access tokens may still be presented (access ttl + leeway).
  std::chrono::seconds revocation_ttl{930};
  int max_forgot_per_hour_per_ip = 20;
  int max_forgot_per_hour_per_email = 5;
  int max_verify_requests_per_hour = 5;  // per account
};

class EmailService {
 public:
  EmailService(Database& db, Cache& cache, Mailer& mailer, const Clock& clock, EmailOptions options);

  // Mails a verification link to the account's current address. kConflict when it is verified
  // already; kRateLimited past the hourly limit; kUnavailable when the mail cannot be sent.
  Status RequestVerification(std::string_view user_id);
  // Redeems a verify token: marks the address verified if it is still the account's address.
  Status VerifyEmail(std::string_view token);
  // Mails a reset link when an account has this address; Ok either way (mail failures are only
  // logged) so the answer reveals nothing. kRateLimited past the per-IP or per-address limits,
  // which count every request, known address or not.
  Status ForgotPassword(std::string_view email, std::string_view client_ip);
  // Redeems a reset token: checks the password policy, stores the new argon2id hash, spends
  // this and every other reset token of the account and revokes all its sessions (database and
  // cache, so access tokens stop at once).
  Status ResetPassword(std::string_view token, std::string_view new_password);

 private:
  Result<std::string> IssueToken(const User& user, std::string_view purpose, std::chrono::seconds ttl);
  Status CheckRate(const std::string& key, int limit);
  std::int64_t NowMs() const;

  Database& db_;
  Cache& cache_;
  Mailer& mailer_;
  const Clock& clock_;
  EmailOptions options_;
  UserRepository users_;
};

}  // namespace veza::auth
