#include "services/auth/auth_service.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "base/digest.h"
#include "base/ids.h"
#include "base/log.h"
#include "services/auth/totp.h"

namespace veza::auth {
namespace {

constexpr std::string_view kBadCredentials = "wrong login or password";
constexpr std::string_view kBadRefresh = "refresh token is invalid or expired";


std::string NewRefreshToken() {
  unsigned char bytes[32];  // 256 bits
  RAND_bytes(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}


constexpr std::string_view kWrongPassword = "the password is wrong";
constexpr std::string_view kBadMfaToken = "the sign-in challenge is invalid or expired";
constexpr std::string_view kWrongCode = "the code is wrong";
constexpr std::chrono::minutes kMfaTtl{5};
constexpr std::string_view kTotpIssuer = "Veza";

std::string MfaKey(std::string_view token_hash) { return "auth:mfa:" + std::string(token_hash); }
std::string MfaFailKey(std::string_view token_hash) { return "auth:mfa-fail:" + std::string(token_hash); }
std::string MfaDoneKey(std::string_view token_hash) { return "auth:mfa-done:" + std::string(token_hash); }
// Wrong second factors per user. Unlike the failed-login count, a right password does not
// reset it, so knowing the password never buys more code guesses.
std::string SecondFactorFailKey(std::string_view user_id) { return "auth:rl:2fa-fail:" + std::string(user_id); }

bool IsTotpCodeShape(std::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Recovery codes as typed: letters, digits, dashes and spaces, at most 32 bytes.
bool IsRecoveryCodeShape(std::string_view code) {
  if (code.empty() || code.size() > 32) return false;
  for (char c : code) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

// Decodes UTF-8 strictly (no overlong forms, surrogates or values past U+10FFFF) and calls
// cp(code_point) for each; false on the first invalid sequence or when cp returns false.
template <class Fn>
bool ForEachCodePoint(std::string_view s, Fn cp) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t v;
    std::size_t n;
    if (c < 0x80) { v = c; n = 1; }
    else if (c >= 0xC2 && c <= 0xDF) { v = c & 0x1F; n = 2; }
    else if (c >= 0xE0 && c <= 0xEF) { v = c & 0x0F; n = 3; }
    else if (c >= 0xF0 && c <= 0xF4) { v = c & 0x07; n = 4; }
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      v = (v << 6) | (cc & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF)) {
      return false;
    }
    if (!cp(v)) return false;
    i += n;
  }
  return true;
}

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }
// Bidi embeddings, overrides and isolates: they let a name display as something else.
bool IsBidiControl(char32_t c) { return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069); }

Status ValidateText(std::string_view field, std::string_view text, std::size_t min_cp, std::size_t max_cp,
                    bool allow_newlines) {
  std::size_t count = 0;
  bool blank = true;
  bool bad_char = false;
  bool valid = ForEachCodePoint(text, [&](char32_t c) {
    ++count;
    if (IsBidiControl(c) || (IsControl(c) && !(allow_newlines && (c == '\n' || c == '\t')))) {
      bad_char = true;
      return false;
    }
    if (c != ' ' && c != '\n' && c != '\t' && c != 0x3000 && c != 0xA0) blank = false;
    return true;
  });
  if (bad_char) return InvalidArgument(std::string(field) + " must not hold control or bidi-override characters");
  if (!valid) return InvalidArgument(std::string(field) + " must be valid UTF-8");
  if (count > max_cp) {
    return InvalidArgument(std::string(field) + " must be at most " + std::to_string(max_cp) + " characters");
  }
  if (min_cp > 0 && (count < min_cp || blank)) return InvalidArgument(std::string(field) + " must not be blank");
  return Ok();
}

std::string LinksJson(const std::vector<std::string>& links) {
  boost::json::array a;
  for (const std::string& l : links) a.emplace_back(l);
  return boost::json::serialize(a);
}

std::vector<std::string> ParseLinks(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;  // written only by LinksJson; treat damage as no links
  for (const auto& e : v.as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

}  // namespace

Status ValidateDisplayName(std::string_view name) { return ValidateText("display_name", name, 1, 50, false); }
Status ValidateBio(std::string_view bio) { return ValidateText("bio", bio, 0, 1000, true); }

Status ValidateLinks(const std::vector<std::string>& links) {
  if (links.size() > 5) return InvalidArgument("links may hold at most 5 URLs");
  constexpr std::string_view kScheme = "https://";
  for (const std::string& l : links) {
    if (l.size() > 200) return InvalidArgument("each link must be at most 200 bytes");
    if (l.size() <= kScheme.size() || l.compare(0, kScheme.size(), kScheme) != 0) {
      return InvalidArgument("each link must be an https:// URL");
    }
    for (unsigned char c : l) {
      if (c <= 0x20 || c >= 0x7F) return InvalidArgument("links must be printable ASCII without spaces (use punycode and percent-encoding)");
    }
    std::string_view rest = std::string_view(l).substr(kScheme.size());
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty() || authority.find('@') != std::string_view::npos || authority.front() == ':' ||
        authority.front() == '.') {
      return InvalidArgument("each link needs a host (and no user name)");
    }
  }
  return Ok();
}

std::string RevokedSessionKey(std::string_view sid) { return "auth:revoked-session:" + std::string(sid); }
std::string SuspendedUserKey(std::string_view uid) { return "auth:suspended-user:" + std::string(uid); }

Status ValidateUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 30) return InvalidArgument("username must be 3 to 30 characters");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(u.front())) return InvalidArgument("username must start with a letter or digit");
  for (char c : u) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') {
      return InvalidArgument("username may hold only letters, digits, '_', '.' and '-'");
    }
  }
  return Ok();
}

Status ValidateEmail(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) return InvalidArgument("email must be 3 to 254 characters");
  auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at == e.size() - 1 || e.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgument("email must look like name@example.com");
  }
  for (unsigned char c : e) {
    if (c <= 0x20 || c == 0x7f) return InvalidArgument("email must not hold spaces or control characters");
  }
  if (e.substr(at + 1).find('.') == std::string_view::npos) return InvalidArgument("email domain needs a dot");
  return Ok();
}

AuthService::AuthService(Database& db, Cache& cache, const Clock& clock, AuthOptions options)
    : db_(db), cache_(cache), clock_(clock), options_(std::move(options)), users_(db) {}

std::int64_t AuthService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Status AuthService::Start() {
  VEZA_TRY(ValidatePasswordParams(options_.password));
  // A real hash with the current parameters, so an unknown login costs what a known one does.
  VEZA_ASSIGN_OR_RETURN(dummy_hash_, HashPassword("veza-dummy-password-for-timing", options_.password));
  VEZA_TRY(LoadSigningKeys());
  VEZA_TRY(LoadDataKey());
  return ResealTotpSecrets();
}

Status AuthService::LoadDataKey() {
  constexpr std::string_view kSetting = "auth.data_key";
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT value FROM instance_settings WHERE key = $1", {SqlText(kSetting)}));
  std::optional<std::string> stored;
  if (!r.rows.empty()) {
    stored = Base64UrlDecode(r.rows[0].Text(0));
    if (!stored) return Internal("instance setting auth.data_key is damaged");
  }
  std::vector<std::string> previous = options_.previous_data_keys;
  std::string key = options_.data_key;
  if (key.empty()) {
    if (!stored) {
      // Nodes starting together: the first insert wins and everyone reads it back.
      VEZA_TRY(db_.Query("INSERT INTO instance_settings (key, value, updated_at) VALUES ($1, $2, $3) "
                         "ON CONFLICT (key) DO NOTHING",
                         {SqlText(kSetting), SqlText(Base64UrlEncode(SecretBox::NewKey())), SqlText(std::to_string(NowMs()))}));
      VEZA_ASSIGN_OR_RETURN(r, db_.Query("SELECT value FROM instance_settings WHERE key = $1", {SqlText(kSetting)}));
      if (r.rows.empty()) return Internal("no data key after bootstrap");
      stored = Base64UrlDecode(r.rows[0].Text(0));
      if (!stored) return Internal("instance setting auth.data_key is damaged");
    }
    key = *stored;
  } else if (stored) {
    // Moving from the generated key to a configured one: the old one still opens until resealed.
    previous.push_back(*stored);
  }
  VEZA_ASSIGN_OR_RETURN(SecretBox box, SecretBox::Create(std::move(key), std::move(previous)));
  box_ = std::move(box);
  return Ok();
}

Status AuthService::ResealTotpSecrets() {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT user_id, secret FROM user_totp"));
  int resealed = 0;
  for (const Row& row : r.rows) {
    std::string user_id = row.Text(0), stored = row.Text(1);
    if (!box_->NeedsReseal(stored)) continue;
    auto plain = box_->Open(stored, user_id);
    if (!plain.ok()) {
      log::Error("security: a TOTP secret cannot be opened with the configured data keys", {{"user_id", user_id}});
      continue;
    }
    // Conditional on the old text, so a concurrent enrolment or another node's reseal wins.
    VEZA_ASSIGN_OR_RETURN(QueryResult done, db_.Query("UPDATE user_totp SET secret = $3 WHERE user_id = $1 AND secret = $2",
                                                      {SqlText(user_id), SqlText(stored), SqlText(box_->Seal(*plain, user_id))}));
    resealed += static_cast<int>(done.affected_rows);
  }
  if (resealed > 0) log::Info("TOTP secrets resealed under the current data key", {{"count", resealed}, {"key_id", box_->key_id()}});
  return Ok();
}

Result<std::string> AuthService::OpenTotpSecret(const std::string& user_id, std::string_view stored) {
  auto base32 = box_->Open(stored, user_id);
  if (!base32.ok()) {
    log::Error("security: unreadable TOTP secret", {{"user_id", user_id}, {"error", base32.error().message}});
    return base32.take_error();
  }
  return Base32Decode(*base32);
}

Status AuthService::LoadSigningKeys() {
  VEZA_ASSIGN_OR_RETURN(QueryResult rows,
                        db_.Query("SELECT kid, private_key_pem FROM signing_keys ORDER BY created_at DESC, kid"));
  if (rows.rows.empty()) {
    VEZA_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate());
    VEZA_ASSIGN_OR_RETURN(std::string pem, key.PrivateKeyPem());
    // Nodes starting together must agree on one first key: the node whose marker row goes in
    // stores its key in the same transaction; the others wait on the marker's unique key until
    // that commits, insert nothing, and read the winner's key below.
    bool created = false;
    VEZA_TRY(db_.Transaction([&](SqlSession& tx) -> Status {
      VEZA_ASSIGN_OR_RETURN(QueryResult marker, tx.Query(
          "INSERT INTO instance_settings (key, value, updated_at) VALUES ('auth.first_signing_key', $1, $2) "
          "ON CONFLICT (key) DO NOTHING",
          {SqlText(key.kid()), SqlText(std::to_string(NowMs()))}));
      if (marker.affected_rows != 1) return Ok();
      VEZA_TRY(tx.Query("INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES ($1, $2, $3)",
                        {SqlText(key.kid()), SqlText(pem), SqlInt(NowMs())}));
      created = true;
      return Ok();
    }));
    if (created) log::Info("created the first access-token signing key", {{"kid", key.kid()}});
    VEZA_ASSIGN_OR_RETURN(rows, db_.Query("SELECT kid, private_key_pem FROM signing_keys ORDER BY created_at DESC, kid"));
    if (rows.rows.empty()) return Internal("no signing key after bootstrap");
  }
  // Oldest first, so the newest ends up active.
  for (auto it = rows.rows.rbegin(); it != rows.rows.rend(); ++it) {
    VEZA_ASSIGN_OR_RETURN(SigningKey key, SigningKey::FromPrivateKeyPem(it->Text(1)));
    VEZA_TRY(keys_.Rotate(std::move(key)));
  }
  return Ok();
}

Status AuthService::CheckRate(const std::string& key, int limit, std::chrono::seconds window) {
  auto n = cache_.Increment(key, 1, window);
  if (!n.ok()) {
    // The cache being down must not lock everyone out; it is reported by /readyz.
    log::Warn("rate limit unavailable", {{"error", n.error().message}});
    return Ok();
  }
  if (*n > limit) return Error{ErrorCode::kRateLimited, "too many attempts; try again later"};
  return Ok();
}

Result<SignedIn> AuthService::Register(std::string_view username, std::string_view email,
                                       std::string_view password, const ClientInfo& client) {
  VEZA_TRY(ValidateUsername(username));
  VEZA_TRY(ValidateEmail(email));
  VEZA_TRY(CheckPasswordPolicy(password, username, email));
  VEZA_TRY(CheckRate("auth:rl:register:" + client.ip, options_.max_logins_per_minute_per_ip, std::chrono::seconds(60)));
  VEZA_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, options_.password));
  VEZA_ASSIGN_OR_RETURN(User user, users_.Create({std::string(username), std::string(email), hash, std::string(username)}, NowMs()));
  log::Info("account created", {{"user_id", user.id}});
  VEZA_ASSIGN_OR_RETURN(TokenPair tokens, OpenSession(user, client));
  return SignedIn{std::move(user), std::move(tokens)};
}

Result<LoginOutcome> AuthService::Login(std::string_view login, std::string_view password, const ClientInfo& client) {
  if (login.empty() || login.size() > 254 || password.size() > kMaxPasswordBytes) {
    return Error{ErrorCode::kUnauthenticated, std::string(kBadCredentials)};
  }
  VEZA_TRY(CheckRate("auth:rl:login-ip:" + client.ip, options_.max_logins_per_minute_per_ip, std::chrono::seconds(60)));
  std::string account_key = "auth:rl:login-fail:" + FoldKey(login);
  // Failed attempts per account, whoever makes them: a cap of max_failed_logins_per_hour.
  if (auto failures = cache_.Get(account_key); failures.ok() && failures->has_value()) {
    std::int64_t count = 0;
    std::from_chars((**failures).data(), (**failures).data() + (**failures).size(), count);
    if (count >= options_.max_failed_logins_per_hour) {
      return Error{ErrorCode::kRateLimited, "too many failed logins for this account; try again later"};
    }
  }
  auto user = users_.FindByLogin(login);
  if (!user.ok() && user.error().code != ErrorCode::kNotFound) return user.take_error();
  const std::string& stored = user.ok() && user->password_hash ? *user->password_hash : dummy_hash_;
  auto verified = VerifyPassword(password, stored);
  if (!verified.ok()) {
    // A stored hash we cannot read must look like any failed login from outside.
    log::Error("security: unreadable password hash", {{"user_id", user.ok() ? user->id : std::string()},
                                                      {"error", verified.error().message}});
  }
  bool matches = verified.ok() && verified.value();
  if (!user.ok() || !user->password_hash || !matches) {
    (void)cache_.Increment(account_key, 1, std::chrono::hours(1));
    return Error{ErrorCode::kUnauthenticated, std::string(kBadCredentials)};
  }
  if (user->suspended) return Error{ErrorCode::kPermissionDenied, "this account is suspended"};
  if (NeedsRehash(*user->password_hash, options_.password)) {
    // Settings rose since this hash was made: upgrade it now that we hold the password.
    auto upgraded = HashPassword(password, options_.password);
    if (upgraded.ok()) (void)users_.SetPasswordHash(user->id, *upgraded, NowMs());
  }
  VEZA_ASSIGN_OR_RETURN(QueryResult totp, db_.Query(
      "SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", {SqlText(user->id)}));
  if (!totp.rows.empty()) {
    // The failure count stays: otherwise every right password would buy fresh code guesses.
    std::string token = NewRefreshToken();  // 256 random bits
    VEZA_TRY(cache_.Set(MfaKey(Sha256Hex(token)), user->id, kMfaTtl));
    LoginOutcome out;
    out.mfa_token = std::move(token);
    return out;
  }
  (void)cache_.Delete(account_key);
  VEZA_ASSIGN_OR_RETURN(TokenPair tokens, OpenSession(*user, client));
  LoginOutcome out;
  out.signed_in = SignedIn{std::move(user).value(), std::move(tokens)};
  return out;
}

Result<LoginOutcome> AuthService::SignInWithIdentity(std::string_view user_id, const ClientInfo& client) {
  VEZA_ASSIGN_OR_RETURN(User user, users_.FindById(user_id));
  if (user.suspended) return Error{ErrorCode::kPermissionDenied, "this account is suspended"};
  VEZA_ASSIGN_OR_RETURN(QueryResult totp, db_.Query(
      "SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", {SqlText(user.id)}));
  LoginOutcome out;
  if (!totp.rows.empty()) {
    // The provider stands in for the password only; the second factor is still ours to ask.
    out.mfa_token = NewRefreshToken();
    VEZA_TRY(cache_.Set(MfaKey(Sha256Hex(out.mfa_token)), user.id, kMfaTtl));
    return out;
  }
  VEZA_ASSIGN_OR_RETURN(TokenPair tokens, OpenSession(user, client));
  out.signed_in = SignedIn{std::move(user), std::move(tokens)};
  return out;
}

Status AuthService::CheckAccountBudget(const std::string& account_key) {
  if (auto failures = cache_.Get(account_key); failures.ok() && failures->has_value()) {
    std::int64_t count = 0;
    std::from_chars((**failures).data(), (**failures).data() + (**failures).size(), count);
    if (count >= options_.max_failed_logins_per_hour) {
      return Error{ErrorCode::kRateLimited, "too many failed logins for this account; try again later"};
    }
  }
  return Ok();
}

Result<bool> AuthService::SpendSecondFactor(const std::string& user_id, SecondFactor kind, std::string_view code) {
  if (kind == SecondFactor::kRecoveryCode) {
    if (!IsRecoveryCodeShape(code)) return false;
    // Spent by a conditional UPDATE, so two requests racing with one code cannot both win.
    VEZA_ASSIGN_OR_RETURN(QueryResult spent, db_.Query(
        "UPDATE totp_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL "
        "AND EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)",
        {SqlText(user_id), SqlText(HashRecoveryCode(code, user_id)), SqlInt(NowMs())}));
    if (spent.affected_rows == 1) log::Info("security: recovery code used", {{"user_id", user_id}});
    return spent.affected_rows == 1;
  }
  if (!IsTotpCodeShape(code)) return false;
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT secret, last_step FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", {SqlText(user_id)}));
  if (r.rows.empty()) return false;
  auto secret = OpenTotpSecret(user_id, r.rows[0].Text(0));
  if (!secret.ok()) return false;
  std::int64_t step = 0;
  if (!VerifyTotp(*secret, code, NowMs() / 1000, 1, &step)) return false;
  if (step <= r.rows[0].Int(1)) return false;  // replayed
  // Conditional: of two requests racing with codes of one step, only one moves last_step.
  VEZA_ASSIGN_OR_RETURN(QueryResult moved, db_.Query(
      "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2 AND confirmed_at IS NOT NULL",
      {SqlText(user_id), SqlInt(step)}));
  return moved.affected_rows == 1;
}

Result<SignedIn> AuthService::CompleteLogin(std::string_view mfa_token, SecondFactor kind, std::string_view code,
                                            const ClientInfo& client) {
  if (mfa_token.empty() || mfa_token.size() > 128) return Error{ErrorCode::kUnauthenticated, std::string(kBadMfaToken)};
  VEZA_TRY(CheckRate("auth:rl:login-ip:" + client.ip, options_.max_logins_per_minute_per_ip, std::chrono::seconds(60)));
  std::string token_hash = Sha256Hex(mfa_token);
  VEZA_ASSIGN_OR_RETURN(std::optional<std::string> user_id, cache_.Get(MfaKey(token_hash)));
  if (!user_id) return Error{ErrorCode::kUnauthenticated, std::string(kBadMfaToken)};
  auto user = users_.FindById(*user_id);
  if (!user.ok()) {
    if (user.error().code == ErrorCode::kNotFound) return Error{ErrorCode::kUnauthenticated, std::string(kBadMfaToken)};
    return user.take_error();
  }
  if (user->suspended) return Error{ErrorCode::kPermissionDenied, "this account is suspended"};
  std::string account_key = "auth:rl:login-fail:" + FoldKey(user->username);
  VEZA_TRY(CheckAccountBudget(account_key));
  VEZA_TRY(CheckAccountBudget(SecondFactorFailKey(user->id)));
  VEZA_ASSIGN_OR_RETURN(bool right, SpendSecondFactor(user->id, kind, code));
  if (!right) {
    (void)cache_.Increment(account_key, 1, std::chrono::hours(1));
    (void)cache_.Increment(SecondFactorFailKey(user->id), 1, std::chrono::hours(1));
    auto failures = cache_.Increment(MfaFailKey(token_hash), 1, kMfaTtl);
    if (!failures.ok() || *failures >= kMaxMfaFailures) (void)cache_.Delete(MfaKey(token_hash));
    log::Warn("security: wrong second factor", {{"user_id", user->id}, {"ip", client.ip}});
    return Error{ErrorCode::kUnauthenticated, std::string(kWrongCode)};
  }
  // Single use even when two right codes race: only the first claim opens a session.
  VEZA_ASSIGN_OR_RETURN(bool first, cache_.SetIfAbsent(MfaDoneKey(token_hash), "1", kMfaTtl));
  (void)cache_.Delete(MfaKey(token_hash));
  if (!first) return Error{ErrorCode::kUnauthenticated, std::string(kBadMfaToken)};
  (void)cache_.Delete(MfaFailKey(token_hash));
  (void)cache_.Delete(account_key);
  (void)cache_.Delete(SecondFactorFailKey(user->id));
  VEZA_ASSIGN_OR_RETURN(TokenPair tokens, OpenSession(*user, client));
  return SignedIn{std::move(user).value(), std::move(tokens)};
}

Result<TotpEnrolment> AuthService::StartTotp(const Principal& who, std::string_view password) {
  VEZA_ASSIGN_OR_RETURN(User user, Reauthenticate(who, password));
  TotpEnrolment out;
  std::string secret = NewTotpSecret();
  out.secret_base32 = Base32Encode(secret);
  out.otpauth_uri = OtpauthUri(kTotpIssuer, user.username, secret);
  out.recovery_codes = NewRecoveryCodes(10);
  std::int64_t now_ms = NowMs();
  VEZA_TRY(db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult enabled, tx.Query(
        "SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", {SqlText(user.id)}));
    if (!enabled.rows.empty()) return Conflict("two-factor authentication is already enabled");
    VEZA_TRY(tx.Query("DELETE FROM user_totp WHERE user_id = $1", {SqlText(user.id)}));
    VEZA_TRY(tx.Query("DELETE FROM totp_recovery_codes WHERE user_id = $1", {SqlText(user.id)}));
    // A concurrent enrolment that got here first makes this fail on the primary key.
    VEZA_TRY(tx.Query("INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, created_at) "
                      "VALUES ($1, $2, NULL, -1, $3)",
                      {SqlText(user.id), SqlText(box_->Seal(out.secret_base32, user.id)), SqlInt(now_ms)}));
    for (const std::string& code : out.recovery_codes) {
      VEZA_TRY(tx.Query("INSERT INTO totp_recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
                        {SqlText(user.id), SqlText(HashRecoveryCode(code, user.id))}));
    }
    return Ok();
  }));
  log::Info("security: TOTP enrolment started", {{"user_id", user.id}});
  return out;
}

Status AuthService::ConfirmTotp(const Principal& who, std::string_view code) {
  if (!IsTotpCodeShape(code)) return InvalidArgument("code must be 6 digits");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT secret, confirmed_at FROM user_totp WHERE user_id = $1", {SqlText(who.user_id)}));
  if (r.rows.empty()) return Conflict("no two-factor enrolment is pending; start one first");
  if (!r.rows[0].IsNull(1)) return Conflict("two-factor authentication is already enabled");
  std::string stored = r.rows[0].Text(0);
  auto secret = OpenTotpSecret(who.user_id, stored);
  if (!secret.ok()) return Internal("unreadable TOTP secret");
  std::int64_t step = 0;
  if (!VerifyTotp(*secret, code, NowMs() / 1000, 1, &step)) {
    log::Warn("security: wrong TOTP confirmation code", {{"user_id", who.user_id}});
    return Error{ErrorCode::kPermissionDenied, std::string(kWrongCode)};
  }
  // Only the enrolment whose secret was checked, and only once.
  VEZA_ASSIGN_OR_RETURN(QueryResult done, db_.Query(
      "UPDATE user_totp SET confirmed_at = $3, last_step = $4 WHERE user_id = $1 AND secret = $2 "
      "AND confirmed_at IS NULL",
      {SqlText(who.user_id), SqlText(stored), SqlInt(NowMs()), SqlInt(step)}));
  if (done.affected_rows != 1) return Conflict("the enrolment changed; start again");
  log::Info("security: TOTP enabled", {{"user_id", who.user_id}});
  return Ok();
}

Status AuthService::DisableTotp(const Principal& who, std::string_view password, std::string_view code) {
  VEZA_ASSIGN_OR_RETURN(User user, Reauthenticate(who, password));
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", {SqlText(user.id)}));
  if (r.rows.empty()) return Conflict("two-factor authentication is not enabled");
  std::string account_key = "auth:rl:login-fail:" + FoldKey(user.username);
  VEZA_TRY(CheckAccountBudget(account_key));
  VEZA_TRY(CheckAccountBudget(SecondFactorFailKey(user.id)));
  SecondFactor kind = IsTotpCodeShape(code) ? SecondFactor::kTotpCode : SecondFactor::kRecoveryCode;
  VEZA_ASSIGN_OR_RETURN(bool right, SpendSecondFactor(user.id, kind, code));
  if (!right) {
    (void)cache_.Increment(account_key, 1, std::chrono::hours(1));
    (void)cache_.Increment(SecondFactorFailKey(user.id), 1, std::chrono::hours(1));
    log::Warn("security: wrong second factor", {{"user_id", user.id}, {"session_id", who.session_id}});
    return Error{ErrorCode::kPermissionDenied, std::string(kWrongCode)};
  }
  VEZA_TRY(db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("DELETE FROM totp_recovery_codes WHERE user_id = $1", {SqlText(user.id)}));
    VEZA_TRY(tx.Query("DELETE FROM user_totp WHERE user_id = $1", {SqlText(user.id)}));
    return Ok();
  }));
  (void)cache_.Delete(SecondFactorFailKey(user.id));
  log::Info("security: TOTP disabled", {{"user_id", user.id}, {"session_id", who.session_id}});
  return Ok();
}

Result<TokenPair> AuthService::OpenSession(const User& user, const ClientInfo& client) {
  TokenPair tokens;
  std::string session_id = NewId();
  Status st = db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO sessions (id, user_id, device, ip, created_at, last_used_at) "
                      "VALUES ($1, $2, $3, $4, $5, $5)",
                      {SqlText(session_id), SqlText(user.id), SqlText(client.device.substr(0, 200)),
                       SqlText(client.ip.substr(0, 64)), SqlInt(NowMs())}));
    VEZA_ASSIGN_OR_RETURN(tokens, IssueTokens(user, session_id, tx));
    return Ok();
  });
  if (!st.ok()) return st.take_error();
  return tokens;
}

Result<TokenPair> AuthService::IssueTokens(const User& user, const std::string& session_id, SqlSession& tx) {
  std::int64_t now_ms = NowMs();
  TokenPair t;
  t.session_id = session_id;
  t.refresh_token = NewRefreshToken();
  t.refresh_expires_at = now_ms / 1000 + options_.refresh_ttl.count();
  VEZA_TRY(tx.Query("INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                    {SqlText(Sha256Hex(t.refresh_token)), SqlText(session_id), SqlInt(now_ms), SqlInt(t.refresh_expires_at * 1000)}));
  AccessClaims claims;
  claims.sub = user.id;
  claims.role = std::string(RoleName(user.role));
  claims.sid = session_id;
  VEZA_ASSIGN_OR_RETURN(IssuedAccessToken access, IssueAccessToken(keys_, options_.jwt, claims, now_ms / 1000));
  t.access_token = std::move(access.token);
  t.access_expires_at = access.claims.exp;
  return t;
}

Result<TokenPair> AuthService::Refresh(std::string_view refresh_token, const ClientInfo& client) {
  if (refresh_token.empty() || refresh_token.size() > 128) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
  std::string hash = Sha256Hex(refresh_token);
  std::int64_t now_ms = NowMs();
  std::optional<std::string> reused_session;
  TokenPair tokens;
  Status st = db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult r, tx.Query(
        "SELECT rt.session_id, rt.used_at, rt.expires_at, s.revoked_at, s.user_id FROM refresh_tokens rt "
        "JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = $1",
        {SqlText(hash)}));
    if (r.rows.empty()) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
    const Row& row = r.rows[0];
    std::string session_id = row.Text(0);
    if (!row.IsNull(3)) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
    if (!row.IsNull(1)) {
      // A spent token came back: commit the revocation, then refuse.
      VEZA_TRY(tx.Query("UPDATE sessions SET revoked_at = $2 WHERE id = $1", {SqlText(session_id), SqlInt(now_ms)}));
      reused_session = session_id;
      return Ok();
    }
    if (row.Int(2) <= now_ms) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
    VEZA_ASSIGN_OR_RETURN(QueryResult spent, tx.Query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL", {SqlText(hash), SqlInt(now_ms)}));
    if (spent.affected_rows != 1) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
    VEZA_TRY(tx.Query("UPDATE sessions SET last_used_at = $2, ip = $3 WHERE id = $1",
                      {SqlText(session_id), SqlInt(now_ms), SqlText(client.ip.substr(0, 64))}));
    VEZA_ASSIGN_OR_RETURN(QueryResult u, tx.Query("SELECT suspended, role FROM users WHERE id = $1", {SqlText(row.Text(4))}));
    if (u.rows.empty() || u.rows[0].Int(0) != 0) return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
    const QueryResult& role = u;
    User user;
    user.id = row.Text(4);
    user.role = ParseRole(role.rows[0].Text(1)).value_or(Role::kUser);
    VEZA_ASSIGN_OR_RETURN(tokens, IssueTokens(user, session_id, tx));
    return Ok();
  });
  if (!st.ok()) return st.take_error();
  if (reused_session) {
    log::Warn("security: refresh token reused; session revoked", {{"session_id", *reused_session}, {"ip", client.ip}});
    (void)cache_.Set(RevokedSessionKey(*reused_session), "1", options_.jwt.ttl + options_.jwt.leeway);
    return Error{ErrorCode::kUnauthenticated, std::string(kBadRefresh)};
  }
  return tokens;
}

Status AuthService::RevokeSessions(std::string_view user_id, const std::vector<std::string>& session_ids) {
  std::int64_t now_ms = NowMs();
  for (const std::string& sid : session_ids) {
    VEZA_TRY(db_.Query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                       {SqlText(sid), SqlInt(now_ms)}));
    // Access tokens of the session live at most ttl + leeway: remember the revocation that long.
    VEZA_TRY(cache_.Set(RevokedSessionKey(sid), "1", options_.jwt.ttl + options_.jwt.leeway));
  }
  if (sessions_ended_ && !session_ids.empty()) sessions_ended_(user_id);
  return Ok();
}

Status AuthService::Logout(const Principal& who) { return RevokeSessions(who.user_id, {who.session_id}); }

Status AuthService::LogoutEverywhere(const Principal& who) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                                                 {SqlText(who.user_id)}));
  std::vector<std::string> ids;
  for (const Row& row : r.rows) ids.push_back(row.Text(0));
  return RevokeSessions(who.user_id, ids);
}

Result<Principal> AuthService::Authenticate(std::string_view access_token) {
  auto claims = VerifyAccessToken(keys_, options_.jwt, access_token, NowMs() / 1000);
  if (!claims.ok()) return claims.take_error();  // the reason is logged at debug level
  if (claims->sid.empty()) return Error{ErrorCode::kUnauthenticated, "access token has no session"};
  // Revocation and suspension must bite at once on every node: both live in the shared cache.
  for (const std::string& key : {RevokedSessionKey(claims->sid), SuspendedUserKey(claims->sub)}) {
    auto hit = cache_.Get(key);
    if (!hit.ok()) return Error{ErrorCode::kUnavailable, "cannot check the session right now"};
    if (hit->has_value()) return Error{ErrorCode::kUnauthenticated, "session revoked"};
  }
  Principal p;
  p.user_id = claims->sub;
  p.session_id = claims->sid;
  p.role = ParseRole(claims->role).value_or(Role::kUser);
  return p;
}

Result<User> AuthService::Me(const Principal& who) { return users_.FindById(who.user_id); }

Result<Account> AuthService::LoadAccount(User user) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT links, avatar_hash FROM users WHERE id = $1", {SqlText(user.id)}));
  if (r.rows.empty()) return NotFound("no such user");
  Account a{std::move(user), ParseLinks(r.rows[0].Text(0)), ""};
  if (!r.rows[0].IsNull(1)) a.avatar_hash = r.rows[0].Text(1);
  return a;
}

Result<Account> AuthService::MyAccount(const Principal& who) {
  VEZA_ASSIGN_OR_RETURN(User user, users_.FindById(who.user_id));
  return LoadAccount(std::move(user));
}

Result<Account> AuthService::UpdateProfile(const Principal& who, const ProfileChanges& changes) {
  if (changes.display_name) VEZA_TRY(ValidateDisplayName(*changes.display_name));
  if (changes.bio) VEZA_TRY(ValidateBio(*changes.bio));
  if (changes.links) VEZA_TRY(ValidateLinks(*changes.links));
  std::int64_t now_ms = NowMs();
  VEZA_TRY(users_.UpdateProfile(who.user_id, {changes.display_name, changes.bio}, now_ms));
  if (changes.links) {
    VEZA_TRY(db_.Query("UPDATE users SET links = $2, updated_at = $3 WHERE id = $1",
                       {SqlText(who.user_id), SqlText(LinksJson(*changes.links)), SqlInt(now_ms)}));
  }
  return MyAccount(who);
}

Result<Account> AuthService::PublicProfile(std::string_view username) {
  if (!ValidateUsername(username).ok()) return NotFound("no such user");
  VEZA_ASSIGN_OR_RETURN(User user, users_.FindByUsername(username));
  if (user.suspended) return NotFound("no such user");  // the same answer as for no account
  return LoadAccount(std::move(user));
}

Result<User> AuthService::Reauthenticate(const Principal& who, std::string_view password) {
  VEZA_ASSIGN_OR_RETURN(User user, users_.FindById(who.user_id));
  if (user.suspended) return Error{ErrorCode::kUnauthenticated, "session revoked"};
  // The same per-account budget as logins by username: guessing through a stolen access token
  // is no cheaper than guessing at the login form.
  std::string account_key = "auth:rl:login-fail:" + FoldKey(user.username);
  if (auto failures = cache_.Get(account_key); failures.ok() && failures->has_value()) {
    std::int64_t count = 0;
    std::from_chars((**failures).data(), (**failures).data() + (**failures).size(), count);
    if (count >= options_.max_failed_logins_per_hour) {
      return Error{ErrorCode::kRateLimited, "too many failed password attempts for this account; try again later"};
    }
  }
  bool matches = false;
  if (user.password_hash && password.size() <= kMaxPasswordBytes) {
    auto verified = VerifyPassword(password, *user.password_hash);
    if (!verified.ok()) {
      log::Error("security: unreadable password hash", {{"user_id", user.id}, {"error", verified.error().message}});
    }
    matches = verified.ok() && verified.value();
  }
  if (!matches) {
    (void)cache_.Increment(account_key, 1, std::chrono::hours(1));
    log::Warn("security: re-authentication failed", {{"user_id", user.id}, {"session_id", who.session_id}});
    return Error{ErrorCode::kPermissionDenied, std::string(kWrongPassword)};
  }
  (void)cache_.Delete(account_key);
  return user;
}

Status AuthService::ChangePassword(const Principal& who, std::string_view current_password,
                                   std::string_view new_password) {
  VEZA_ASSIGN_OR_RETURN(User user, Reauthenticate(who, current_password));
  VEZA_TRY(CheckPasswordPolicy(new_password, user.username, user.email));
  VEZA_ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password, options_.password));
  VEZA_TRY(users_.SetPasswordHash(user.id, hash, NowMs()));
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2",
      {SqlText(user.id), SqlText(who.session_id)}));
  std::vector<std::string> others;
  for (const Row& row : r.rows) others.push_back(row.Text(0));
  VEZA_TRY(RevokeSessions(user.id, others));
  log::Info("security: password changed; other sessions revoked",
            {{"user_id", user.id}, {"revoked_sessions", std::to_string(others.size())}});
  return Ok();
}

Result<Account> AuthService::ChangeEmail(const Principal& who, std::string_view password, std::string_view email) {
  VEZA_TRY(ValidateEmail(email));
  VEZA_ASSIGN_OR_RETURN(User user, Reauthenticate(who, password));
  VEZA_ASSIGN_OR_RETURN(QueryResult taken, db_.Query("SELECT id FROM users WHERE email_key = $1 AND id <> $2",
                                                     {SqlText(FoldKey(email)), SqlText(user.id)}));
  if (!taken.rows.empty()) return Conflict("email is already taken");
  // A concurrent change to the same address still fails on the UNIQUE constraint (kConflict).
  VEZA_TRY(users_.SetEmail(user.id, email, NowMs()));
  log::Info("security: email changed", {{"user_id", user.id}});
  return MyAccount(who);
}

Status AuthService::DeleteAccount(const Principal& who, std::string_view password) {
  VEZA_ASSIGN_OR_RETURN(User user, Reauthenticate(who, password));
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                                                 {SqlText(user.id)}));
  // Revoked in the cache before the rows go, so no access token of the account outlives it.
  for (const Row& row : r.rows) {
    VEZA_TRY(cache_.Set(RevokedSessionKey(row.Text(0)), "1", options_.jwt.ttl + options_.jwt.leeway));
  }
  VEZA_TRY(cache_.Set(RevokedSessionKey(who.session_id), "1", options_.jwt.ttl + options_.jwt.leeway));
  VEZA_TRY(users_.Delete(user.id));  // sessions and refresh tokens cascade
  if (sessions_ended_) sessions_ended_(user.id);
  log::Info("account deleted", {{"user_id", user.id}});
  return Ok();
}

Result<std::vector<SessionInfo>> AuthService::ListSessions(const Principal& who) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT s.id, s.device, s.ip, s.created_at, s.last_used_at FROM sessions s "
      "WHERE s.user_id = $1 AND s.revoked_at IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens rt "
      "WHERE rt.session_id = s.id AND rt.used_at IS NULL AND rt.expires_at > $2) "
      "ORDER BY s.created_at DESC, s.id DESC LIMIT 100",
      {SqlText(who.user_id), SqlInt(NowMs())}));
  std::vector<SessionInfo> out;
  for (const Row& row : r.rows) {
    SessionInfo s{row.Text(0), row.Text(1), row.Text(2), row.Int(3), row.Int(4), false};
    s.current = s.id == who.session_id;
    out.push_back(std::move(s));
  }
  return out;
}

Status AuthService::RevokeSession(const Principal& who, std::string_view session_id) {
  // Another user's session answers exactly like one that does not exist.
  if (!IsUuid(session_id)) return NotFound("no such session");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(
      "SELECT id FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
      {SqlText(session_id), SqlText(who.user_id)}));
  if (r.rows.empty()) return NotFound("no such session");
  return RevokeSessions(who.user_id, {std::string(session_id)});
}

}  // namespace veza::auth
