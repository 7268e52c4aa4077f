#pragma once
// Accounts and sessions: register, log in, rotate refresh tokens, log out, and authenticate
// access tokens. Blocking (argon2id, database): call it from the worker pool.
//
// Sessions: each login opens a session row; its refresh tokens form a family in refresh_tokens
// (only SHA-256 hashes are stored). Every refresh spends the presented token and issues a new
// one. Presenting a spent token again means it was stolen or replayed: the whole session is
// revoked and a security event is logged (RFC 9700 section 4.14.2). Revocations and suspensions
// are written to the Cache so every node rejects the session's access tokens at once, before
// they expire.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ports/cache.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "services/auth/jwt.h"
#include "services/auth/password.h"
#include "services/auth/secret_box.h"
#include "services/auth/signing_keys.h"
#include "services/auth/user_repository.h"

namespace veza::auth {

struct AuthOptions {
  PasswordParams password;
  JwtOptions jwt{"veza", "veza-api", std::chrono::seconds(900), std::chrono::seconds(30)};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  int max_failed_logins_per_hour = 100;  // per account
  int max_logins_per_minute_per_ip = 30;
  // 32-byte key sealing TOTP secrets at rest (secret_box.h); empty: one generated on first start
  // and kept in the database (instance_settings 'auth.data_key'), which guards nothing against a
  // leak of the whole database, so production sets it (--data-key-file).
  std::string data_key;
  std::vector<std::string> previous_data_keys;  // still open old secrets until resealed
};

struct ClientInfo {
  std::string ip;
  std::string device;  // User-Agent, truncated
};

struct TokenPair {
  std::string access_token;
  std::int64_t access_expires_at = 0;  // Unix seconds
  std::string refresh_token;
  std::int64_t refresh_expires_at = 0;
  std::string session_id;
};

struct SignedIn {
  User user;
  TokenPair tokens;
};

// What a correct password earns: either a session, or (when the account has confirmed TOTP) a
// second-step challenge to complete with CompleteLogin.
struct LoginOutcome {
  std::optional<SignedIn> signed_in;
  std::string mfa_token;  // set instead of signed_in: opaque, single-use, 5 minutes
};

// POST /auth/2fa/totp: shown once. recovery_codes are stored only hashed.
struct TotpEnrolment {
  std::string secret_base32;
  std::string otpauth_uri;
  std::vector<std::string> recovery_codes;
};

enum class SecondFactor { kTotpCode, kRecoveryCode };

struct Principal {
  std::string user_id;
  std::string session_id;
  Role role = Role::kUser;
};

// An account with its profile links (kept as a JSON text column beside the user row).
struct Account {
  User user;
  std::vector<std::string> links;
  std::string avatar_hash;  // empty: no avatar (avatar_service.h)
};

// PATCH /users/me: a field left out stays as it is.
struct ProfileChanges {
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
  std::optional<std::vector<std::string>> links;
};

struct SessionInfo {
  std::string id;
  std::string device;
  std::string ip;
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;  // last login or refresh, not every request
  bool current = false;
};

// Told, after the fact, that sessions of a user ended (logout, revocation, password change,
// account deletion, suspension). veza serve publishes it on kSessionsEndedSubject so open chat
// sockets on every node re-check their session at once rather than at their next heartbeat.
using SessionsEndedSink = std::function<void(std::string_view user_id)>;
inline constexpr std::string_view kSessionsEndedSubject = "auth.sessions.ended";  // payload: the user id

class AuthService {
 public:
  AuthService(Database& db, Cache& cache, const Clock& clock, AuthOptions options);
  void SetSessionsEndedSink(SessionsEndedSink sink) { sessions_ended_ = std::move(sink); }

  // Checks the password settings and loads the signing keys from the database (creating the
  // first one if there is none). Call once before serving.
  Status Start();
  const KeyRing& keys() const { return keys_; }

  Result<SignedIn> Register(std::string_view username, std::string_view email,
                            std::string_view password, const ClientInfo& client);
  // login is a username or an email. Every failure says the same thing, whether or not the
  // account exists, and takes about as long. With confirmed TOTP a right password yields only an
  // mfa_token (and does not reset the account's failed-login count; CompleteLogin does).
  Result<LoginOutcome> Login(std::string_view login, std::string_view password, const ClientInfo& client);
  // The second step: a TOTP code (a step at or below the last accepted one is a replay) or an
  // unused recovery code (spent here). A wrong code is kUnauthenticated and counts against the
  // token (invalidated after kMaxMfaFailures) and the account's failed-login budget. An unknown,
  // expired or spent token is kUnauthenticated.
  Result<SignedIn> CompleteLogin(std::string_view mfa_token, SecondFactor kind, std::string_view code,
                                 const ClientInfo& client);

  // TOTP enrolment (RFC 6238). Start re-authenticates with the password, replaces any
  // unconfirmed enrolment (kConflict when TOTP is already enabled) and makes ten recovery codes.
  Result<TotpEnrolment> StartTotp(const Principal& who, std::string_view password);
  // Enables TOTP with the first code (window +-1). kPermissionDenied on a wrong code, kConflict
  // when no enrolment is pending.
  Status ConfirmTotp(const Principal& who, std::string_view code);
  // Disables TOTP and deletes the recovery codes: needs the password and a current code or an
  // unused recovery code (kPermissionDenied otherwise; counted as failed logins). kConflict when
  // TOTP is not enabled.
  Status DisableTotp(const Principal& who, std::string_view password, std::string_view code);
  static constexpr int kMaxMfaFailures = 5;  // wrong codes per mfa_token
  // Sign-in vouched for by an outside identity provider (oauth_service.h): a session, or the
  // TOTP challenge when the account has a second factor. kPermissionDenied when suspended.
  Result<LoginOutcome> SignInWithIdentity(std::string_view user_id, const ClientInfo& client);
  Result<TokenPair> Refresh(std::string_view refresh_token, const ClientInfo& client);
  Status Logout(const Principal& who);
  Status LogoutEverywhere(const Principal& who);
  // Verifies an access token and that its session is live and its user not suspended.
  Result<Principal> Authenticate(std::string_view access_token);
  Result<User> Me(const Principal& who);

  // Accounts. Every call acts on who's own account only. Re-authentication (current password)
  // failures answer kPermissionDenied and count as failed logins of the account.
  Result<Account> MyAccount(const Principal& who);
  Result<Account> UpdateProfile(const Principal& who, const ProfileChanges& changes);
  // A public profile; kNotFound for unknown and suspended accounts alike.
  Result<Account> PublicProfile(std::string_view username);
  // Revokes every other session of the user; the calling session stays signed in.
  Status ChangePassword(const Principal& who, std::string_view current_password,
                        std::string_view new_password);
  // The new address is unverified. kConflict when another account holds it.
  Result<Account> ChangeEmail(const Principal& who, std::string_view password, std::string_view email);
  // Deletes the account with its sessions and tokens; every one of its sessions is revoked in
  // the cache first so its access tokens stop at once.
  Status DeleteAccount(const Principal& who, std::string_view password);

  // Sessions: the live ones (not revoked, holding an unexpired refresh token), newest first,
  // at most 100.
  Result<std::vector<SessionInfo>> ListSessions(const Principal& who);
  // kNotFound unless session_id is a live session of who's.
  Status RevokeSession(const Principal& who, std::string_view session_id);

 private:
  Status LoadSigningKeys();
  // Opens the SecretBox and reseals TOTP secrets stored in clear or under a previous key.
  Status LoadDataKey();
  Status ResealTotpSecrets();
  Result<std::string> OpenTotpSecret(const std::string& user_id, std::string_view stored);
  Result<TokenPair> OpenSession(const User& user, const ClientInfo& client);
  Result<TokenPair> IssueTokens(const User& user, const std::string& session_id, SqlSession& tx);
  Status RevokeSessions(std::string_view user_id, const std::vector<std::string>& session_ids);
  Status CheckRate(const std::string& key, int limit, std::chrono::seconds window);
  // Loads who's account and checks password against it (re-authentication).
  Result<User> Reauthenticate(const Principal& who, std::string_view password);
  Result<Account> LoadAccount(User user);
  Status CheckAccountBudget(const std::string& account_key);
  // Checks a TOTP code (spending its step) or a recovery code (spending it) of user_id's
  // confirmed TOTP; false when wrong, malformed, replayed or when TOTP is not enabled.
  Result<bool> SpendSecondFactor(const std::string& user_id, SecondFactor kind, std::string_view code);
  std::int64_t NowMs() const;

  Database& db_;
  Cache& cache_;
  const Clock& clock_;
  AuthOptions options_;
  UserRepository users_;
  KeyRing keys_;
  std::optional<SecretBox> box_;
  std::string dummy_hash_;  // verified against when the account does not exist
  SessionsEndedSink sessions_ended_;
};

// Cache keys checked by Authenticate on every request. Set them (with a ttl of at least the
// access-token lifetime plus leeway) to make a session's or a user's tokens stop at once.
std::string RevokedSessionKey(std::string_view session_id);
std::string SuspendedUserKey(std::string_view user_id);

// Usernames: 3..30 of [A-Za-z0-9_.-], starting with a letter or digit. Emails: one '@',
// 3..254 bytes, no spaces or control characters.
Status ValidateUsername(std::string_view username);
Status ValidateEmail(std::string_view email);
// Profile fields: display name 1..50 code points, not blank; bio 0..1000 code points; both
// valid UTF-8 without control characters (the bio may hold newlines and tabs) or bidi
// overrides. Links: at most 5 https URLs with a host, each at most 200 printable ASCII bytes.
Status ValidateDisplayName(std::string_view name);
Status ValidateBio(std::string_view bio);
Status ValidateLinks(const std::vector<std::string>& links);

}  // namespace veza::auth
