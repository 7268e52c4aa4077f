#include "services/auth/oauth_service.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

#include "base/digest.h"
#include "base/ids.h"
#include "base/log.h"
#include "services/auth/jwt.h"
#include "services/auth/oidc.h"

namespace veza::auth {
namespace json = boost::json;

namespace {

constexpr std::string_view kBadAttempt =
    "the sign-in attempt is invalid, used or expired; start again";
constexpr std::string_view kUnverifiable = "the identity provider's answer could not be verified";
constexpr std::chrono::seconds kJwksMinRefresh{60};

std::string AttemptKey(std::string_view state_hash) {
  return "auth:oauth:" + std::string(state_hash);
}
std::string AttemptDoneKey(std::string_view state_hash) {
  return "auth:oauth-done:" + std::string(state_hash);
}

std::string RandomToken() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Form(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

std::string Base64(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(v >> k) & 63]);
  }
  if (i < s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string StringOr(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return "";
}

bool BoolOr(const json::object& o, std::string_view name, bool fallback) {
  const json::value* v = o.if_contains(name);
  if (v && v->is_bool()) return v->as_bool();
  if (v && v->is_string()) return v->as_string() == "true";  // some providers send strings
  return fallback;
}

// https:// everywhere, http:// only for loopback hosts (development and tests).
Status CheckEndpoint(std::string_view key, std::string_view url) {
  if (url.empty()) return Ok();
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return InvalidArgument("--oauth-provider: " + std::string(key) + " is not a URL");
  std::string host(parsed->host());
  if (parsed->scheme() == "https" && !host.empty()) return Ok();
  if (parsed->scheme() == "http" && (host == "127.0.0.1" || host == "localhost" || host == "[::1]"))
    return Ok();
  return InvalidArgument("--oauth-provider: " + std::string(key) + " must be an https:// URL");
}

bool IsProviderName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A username from what the provider offers: allowed characters only, 3..30, starting with a
// letter or digit.
std::string UsernameFrom(std::string_view hint) {
  std::string out;
  for (char c : hint) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (ok) out.push_back(c);
    if (out.size() == 24) break;  // room for a "-1234" suffix
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
  while (out.size() < 3) out += "user";
  return out.substr(0, 24);
}

}  // namespace

Result<OAuthProvider> ParseOAuthProvider(std::string_view spec) {
  OAuthProvider p;
  std::string preset, secret_file, token_auth;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view pair = spec.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      return InvalidArgument("--oauth-provider: expected key=value, got '" +
                             std::string(pair.substr(0, 40)) + "'");
    std::string_view key = pair.substr(0, eq);
    std::string value(pair.substr(eq + 1));
    if (key == "name")
      p.name = value;
    else if (key == "preset")
      preset = value;
    else if (key == "issuer")
      p.issuer = value;
    else if (key == "client_id")
      p.client_id = value;
    else if (key == "client_secret")
      p.client_secret = value;
    else if (key == "client_secret_file")
      secret_file = value;
    else if (key == "authorization_endpoint")
      p.authorization_endpoint = value;
    else if (key == "token_endpoint")
      p.token_endpoint = value;
    else if (key == "userinfo_endpoint")
      p.userinfo_endpoint = value;
    else if (key == "jwks_uri")
      p.jwks_uri = value;
    else if (key == "scopes")
      p.scopes = value;
    else if (key == "token_auth")
      token_auth = value;
    else
      return InvalidArgument("--oauth-provider: unknown key '" + std::string(key.substr(0, 40)) +
                             "'");
  }
  if (preset == "google") {
    p.kind = OAuthKind::kOidc;
    if (p.issuer.empty()) p.issuer = "https://accounts.google.com";
    if (p.scopes.empty()) p.scopes = "openid email profile";
  } else if (preset == "github") {
    p.kind = OAuthKind::kGitHub;
    if (p.authorization_endpoint.empty())
      p.authorization_endpoint = "https://github.com/login/oauth/authorize";
    if (p.token_endpoint.empty()) p.token_endpoint = "https://github.com/login/oauth/access_token";
    if (p.userinfo_endpoint.empty()) p.userinfo_endpoint = "https://api.github.com/user";
    if (p.scopes.empty()) p.scopes = "read:user user:email";
    p.secret_in_body = true;
  } else if (preset == "discord") {
    p.kind = OAuthKind::kDiscord;
    if (p.authorization_endpoint.empty())
      p.authorization_endpoint = "https://discord.com/oauth2/authorize";
    if (p.token_endpoint.empty()) p.token_endpoint = "https://discord.com/api/oauth2/token";
    if (p.userinfo_endpoint.empty()) p.userinfo_endpoint = "https://discord.com/api/users/@me";
    if (p.scopes.empty()) p.scopes = "identify email";
  } else if (!preset.empty()) {
    return InvalidArgument("--oauth-provider: unknown preset '" + preset.substr(0, 40) +
                           "' (google, github, discord)");
  } else if (!p.issuer.empty()) {
    p.kind = OAuthKind::kOidc;
    if (p.scopes.empty()) p.scopes = "openid email profile";
  } else {
    p.kind = OAuthKind::kOAuth2;
    if (p.authorization_endpoint.empty() || p.token_endpoint.empty() ||
        p.userinfo_endpoint.empty()) {
      return InvalidArgument(
          "--oauth-provider: give issuer (OpenID Connect), a preset, or authorization_endpoint, "
          "token_endpoint and userinfo_endpoint");
    }
  }
  if (p.name.empty()) p.name = preset;
  if (!IsProviderName(p.name))
    return InvalidArgument("--oauth-provider: name must be 1-32 of a-z, 0-9 and '-'");
  if (token_auth == "post")
    p.secret_in_body = true;
  else if (token_auth == "basic")
    p.secret_in_body = false;
  else if (!token_auth.empty())
    return InvalidArgument("--oauth-provider " + p.name + ": token_auth is basic or post");
  if (!secret_file.empty()) {
    if (!p.client_secret.empty())
      return InvalidArgument("--oauth-provider " + p.name +
                             ": give client_secret or client_secret_file, not both");
    std::ifstream in(secret_file);
    if (!in)
      return InvalidArgument("--oauth-provider " + p.name + ": cannot read client_secret_file");
    std::stringstream ss;
    ss << in.rdbuf();
    p.client_secret = ss.str();
    while (!p.client_secret.empty() &&
           (p.client_secret.back() == '\n' || p.client_secret.back() == '\r'))
      p.client_secret.pop_back();
  }
  if (p.client_id.empty())
    return InvalidArgument("--oauth-provider " + p.name + ": client_id is required");
  for (auto [key, url] : {std::pair<std::string_view, std::string_view>{"issuer", p.issuer},
                          {"authorization_endpoint", p.authorization_endpoint},
                          {"token_endpoint", p.token_endpoint},
                          {"userinfo_endpoint", p.userinfo_endpoint},
                          {"jwks_uri", p.jwks_uri}}) {
    VEZA_TRY(CheckEndpoint(key, url));
  }
  if (p.kind == OAuthKind::kOidc && p.scopes.find("openid") == std::string::npos)
    p.scopes = "openid " + p.scopes;
  return p;
}

OAuthService::OAuthService(Database& db, Cache& cache, HttpFetcher& http, const Clock& clock,
                           AuthService& auth, OAuthOptions options)
    : db_(db),
      cache_(cache),
      http_(http),
      clock_(clock),
      auth_(auth),
      options_(std::move(options)),
      users_(db) {}

std::int64_t OAuthService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

std::vector<std::string> OAuthService::ProviderNames() const {
  std::vector<std::string> out;
  for (const auto& p : options_.providers) out.push_back(p.name);
  return out;
}

const OAuthProvider* OAuthService::Find(std::string_view name) const {
  for (const auto& p : options_.providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string OAuthService::RedirectUri(const OAuthProvider& p) const {
  return options_.public_url + "/api/v1/auth/oauth/" + p.name + "/callback";
}

Result<json::value> OAuthService::GetJson(const std::string& url, std::string_view access_token) {
  FetchRequest req;
  req.url = url;
  req.headers.emplace_back("Accept", "application/json");
  if (!access_token.empty())
    req.headers.emplace_back("Authorization", "Bearer " + std::string(access_token));
  VEZA_ASSIGN_OR_RETURN(FetchResponse res, http_.Fetch(req));
  if (res.status != 200) {
    log::Warn("oauth: provider answered with an error", {{"status", res.status}});
    return Unavailable("the identity provider is not answering properly; try again later");
  }
  json::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (ec) return Unavailable("the identity provider sent something that is not JSON");
  return v;
}

Result<OAuthService::Endpoints> OAuthService::EndpointsOf(const OAuthProvider& p) {
  Endpoints e{p.authorization_endpoint, p.token_endpoint, p.userinfo_endpoint, p.jwks_uri};
  bool complete = !e.authorization.empty() && !e.token.empty() &&
                  (p.kind != OAuthKind::kOidc || !e.jwks.empty());
  if (complete) return e;
  {
    std::lock_guard lock(mu_);
    if (auto it = discovered_.find(p.name); it != discovered_.end()) return it->second;
  }
  // OpenID Connect Discovery 1.0 section 4: the document must name the same issuer.
  std::string issuer = p.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  VEZA_ASSIGN_OR_RETURN(json::value doc, GetJson(issuer + "/.well-known/openid-configuration", ""));
  if (!doc.is_object() || StringOr(doc.as_object(), "issuer") != p.issuer) {
    log::Error("oauth: discovery document names another issuer", {{"provider", p.name}});
    return Unavailable("the identity provider is misconfigured");
  }
  const json::object& d = doc.as_object();
  if (e.authorization.empty()) e.authorization = StringOr(d, "authorization_endpoint");
  if (e.token.empty()) e.token = StringOr(d, "token_endpoint");
  if (e.userinfo.empty()) e.userinfo = StringOr(d, "userinfo_endpoint");
  if (e.jwks.empty()) e.jwks = StringOr(d, "jwks_uri");
  for (auto [key, url] :
       {std::pair<std::string_view, std::string_view>{"authorization_endpoint", e.authorization},
        {"token_endpoint", e.token},
        {"jwks_uri", e.jwks}}) {
    if (url.empty() || !CheckEndpoint(key, url).ok()) {
      log::Error("oauth: discovery document lacks a usable endpoint",
                 {{"provider", p.name}, {"endpoint", key}});
      return Unavailable("the identity provider is misconfigured");
    }
  }
  std::lock_guard lock(mu_);
  discovered_[p.name] = e;
  return e;
}

Result<json::object> OAuthService::Jwks(const OAuthProvider& p, const Endpoints& e, bool refresh) {
  std::int64_t now = NowMs();
  {
    std::lock_guard lock(mu_);
    auto it = jwks_.find(p.name);
    if (it != jwks_.end()) {
      bool may_refresh =
          now - it->second.second >= std::chrono::milliseconds(kJwksMinRefresh).count();
      if (!refresh || !may_refresh) return it->second.first;
    }
  }
  VEZA_ASSIGN_OR_RETURN(json::value doc, GetJson(e.jwks, ""));
  if (!doc.is_object()) return Unavailable("the identity provider's keys are unreadable");
  std::lock_guard lock(mu_);
  jwks_[p.name] = {doc.as_object(), now};
  return doc.as_object();
}

Result<OAuthStart> OAuthService::Start(std::string_view provider) {
  const OAuthProvider* p = Find(provider);
  if (p == nullptr) return NotFound("no such sign-in provider");
  return Begin(*p, "");
}

Result<OAuthStart> OAuthService::StartLink(const Principal& who, std::string_view provider) {
  const OAuthProvider* p = Find(provider);
  if (p == nullptr) return NotFound("no such sign-in provider");
  return Begin(*p, who.user_id);
}

Result<OAuthStart> OAuthService::Begin(const OAuthProvider& p, std::string_view link_user_id) {
  VEZA_ASSIGN_OR_RETURN(Endpoints e, EndpointsOf(p));
  std::string state = RandomToken();
  std::string verifier = NewPkceVerifier();
  std::string nonce = RandomToken();
  OAuthStart out;
  out.browser_binding = RandomToken();
  json::object attempt{{"provider", p.name},
                       {"verifier", verifier},
                       {"nonce", nonce},
                       {"binding", Sha256Hex(out.browser_binding)},
                       {"link_user_id", link_user_id}};
  VEZA_TRY(cache_.Set(AttemptKey(Sha256Hex(state)), json::serialize(attempt), kAttemptTtl));
  boost::urls::url url;
  auto parsed = boost::urls::parse_absolute_uri(e.authorization);
  if (!parsed) return Unavailable("the identity provider is misconfigured");
  url = *parsed;
  auto params = url.params();
  params.append({"response_type", "code"});
  params.append({"client_id", p.client_id});
  params.append({"redirect_uri", RedirectUri(p)});
  params.append({"scope", p.scopes});
  params.append({"state", state});
  params.append({"code_challenge", PkceS256Challenge(verifier)});
  params.append({"code_challenge_method", "S256"});
  if (p.kind == OAuthKind::kOidc) params.append({"nonce", nonce});
  out.authorization_url = std::string(url.buffer());
  return out;
}

Result<json::object> OAuthService::ExchangeCode(const OAuthProvider& p, const Endpoints& e,
                                                std::string_view code, std::string_view verifier) {
  FetchRequest req;
  req.method = "POST";
  req.url = e.token;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  std::string redirect = RedirectUri(p);
  req.body = Form({{"grant_type", "authorization_code"},
                   {"code", code},
                   {"redirect_uri", redirect},
                   {"code_verifier", verifier}});
  if (p.secret_in_body) {
    req.body += "&" + Form({{"client_id", p.client_id}, {"client_secret", p.client_secret}});
  } else {
    // RFC 6749 section 2.3.1: both parts form-urlencoded before they are joined.
    req.headers.emplace_back("Authorization", "Basic " + Base64(PercentEncode(p.client_id) + ":" +
                                                                PercentEncode(p.client_secret)));
    req.body += "&" + Form({{"client_id", p.client_id}});
  }
  VEZA_ASSIGN_OR_RETURN(FetchResponse res, http_.Fetch(req));
  json::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (res.status >= 400 && res.status < 500) {
    std::string error = !ec && v.is_object() ? StringOr(v.as_object(), "error") : "";
    log::Warn("oauth: the provider refused the code",
              {{"provider", p.name}, {"status", res.status}, {"error", error.substr(0, 64)}});
    return Error{ErrorCode::kUnauthenticated,
                 "the identity provider refused the sign-in; start again"};
  }
  if (res.status != 200 || ec || !v.is_object()) {
    log::Warn("oauth: bad token endpoint answer", {{"provider", p.name}, {"status", res.status}});
    return Unavailable("the identity provider is not answering properly; try again later");
  }
  // GitHub answers errors with 200 and an "error" member.
  if (v.as_object().contains("error")) {
    log::Warn("oauth: the provider refused the code",
              {{"provider", p.name}, {"error", StringOr(v.as_object(), "error").substr(0, 64)}});
    return Error{ErrorCode::kUnauthenticated,
                 "the identity provider refused the sign-in; start again"};
  }
  return std::move(v.as_object());
}

Result<OAuthService::Identity> OAuthService::IdentityFromIdToken(const OAuthProvider& p,
                                                                 const Endpoints& e,
                                                                 std::string_view id_token,
                                                                 std::string_view nonce) {
  IdTokenExpectations expect{p.issuer, p.client_id, std::string(nonce), NowMs() / 1000, 60};
  VEZA_ASSIGN_OR_RETURN(json::object keys, Jwks(p, e, false));
  IdTokenRejection why = IdTokenRejection::kNone;
  auto claims = VerifyIdToken(id_token, keys, expect, &why);
  if (!claims.ok() && why == IdTokenRejection::kUnknownKey) {
    // The provider may have rotated its keys since we fetched them.
    VEZA_ASSIGN_OR_RETURN(keys, Jwks(p, e, true));
    claims = VerifyIdToken(id_token, keys, expect, &why);
  }
  if (!claims.ok()) {
    log::Warn("security: ID token refused",
              {{"provider", p.name}, {"reason", IdTokenRejectionName(why)}});
    return claims.take_error();
  }
  Identity id;
  id.subject = StringOr(*claims, "sub");
  id.email = StringOr(*claims, "email");
  id.email_verified = BoolOr(*claims, "email_verified", false);
  id.username_hint = StringOr(*claims, "preferred_username");
  id.display_name = StringOr(*claims, "name");
  return id;
}

Result<OAuthService::Identity> OAuthService::IdentityFromUserApi(const OAuthProvider& p,
                                                                 const Endpoints& e,
                                                                 std::string_view access_token) {
  if (e.userinfo.empty()) return Unavailable("the identity provider is misconfigured");
  VEZA_ASSIGN_OR_RETURN(json::value v, GetJson(e.userinfo, access_token));
  if (!v.is_object()) return Unavailable("the identity provider sent an unreadable profile");
  const json::object& o = v.as_object();
  Identity id;
  switch (p.kind) {
    case OAuthKind::kGitHub: {
      id.subject = StringOr(o, "id");  // numeric and stable; the login can be renamed
      id.username_hint = StringOr(o, "login");
      id.display_name = StringOr(o, "name");
      // The profile email is optional and unverified: ask for the primary verified one.
      // GitHub's API root is configurable (GitHub Enterprise, tests): emails sit under /user.
      auto emails = GetJson(e.userinfo + "/emails", access_token);
      if (emails.ok() && emails->is_array()) {
        for (const json::value& entry : emails->as_array()) {
          const json::object* m = entry.if_object();
          if (m && BoolOr(*m, "primary", false) && BoolOr(*m, "verified", false)) {
            id.email = StringOr(*m, "email");
            id.email_verified = true;
          }
        }
      }
      break;
    }
    case OAuthKind::kDiscord:
      id.subject = StringOr(o, "id");
      id.username_hint = StringOr(o, "username");
      id.display_name = StringOr(o, "global_name");
      id.email = StringOr(o, "email");
      id.email_verified = BoolOr(o, "verified", false);
      break;
    default:
      id.subject = StringOr(o, "sub");
      if (id.subject.empty()) id.subject = StringOr(o, "id");
      id.email = StringOr(o, "email");
      id.email_verified = BoolOr(o, "email_verified", false);
      id.username_hint = StringOr(o, "preferred_username");
      id.display_name = StringOr(o, "name");
  }
  if (id.subject.empty() || id.subject.size() > 255)
    return Unavailable("the identity provider sent no user id");
  return id;
}

Result<User> OAuthService::CreateAccount(const OAuthProvider& p, const Identity& id) {
  std::string hint =
      !id.username_hint.empty() ? id.username_hint : id.email.substr(0, id.email.find('@'));
  std::string base = UsernameFrom(hint);
  std::string display = id.display_name;
  if (!ValidateDisplayName(display).ok()) display = base;
  for (int attempt = 0; attempt < 6; ++attempt) {
    std::string username = base;
    if (attempt > 0) {
      unsigned char r[2];
      RAND_bytes(r, sizeof r);
      username += "-" + std::to_string(1000 + (r[0] << 8 | r[1]) % 9000);
    }
    auto created = users_.Create({username, id.email, std::nullopt, display}, NowMs());
    if (created.ok()) {
      if (id.email_verified) {
        VEZA_TRY(users_.SetEmailVerified(created->id, true, NowMs()));
        created->email_verified = true;
      }
      log::Info("account created", {{"user_id", created->id}, {"provider", p.name}});
      return created;
    }
    if (created.error().code != ErrorCode::kConflict) return created.take_error();
    if (created.error().message.find("email") != std::string::npos) {
      return Conflict("an account already uses this email; sign in to it and link " + p.name +
                      " from its settings");
    }
  }
  return Conflict("could not find a free username; try again");
}

Result<OAuthOutcome> OAuthService::Finish(std::string_view provider, const OAuthCallback& cb,
                                          const ClientInfo& client) {
  const OAuthProvider* p = Find(provider);
  if (p == nullptr) return NotFound("no such sign-in provider");
  if (cb.state.empty() || cb.state.size() > 128) return InvalidArgument(std::string(kBadAttempt));
  std::string state_hash = Sha256Hex(cb.state);
  VEZA_ASSIGN_OR_RETURN(std::optional<std::string> stored, cache_.Get(AttemptKey(state_hash)));
  if (!stored) return InvalidArgument(std::string(kBadAttempt));
  // Single use even when two callbacks race: only the first claim goes on.
  VEZA_ASSIGN_OR_RETURN(bool first,
                        cache_.SetIfAbsent(AttemptDoneKey(state_hash), "1", kAttemptTtl));
  (void)cache_.Delete(AttemptKey(state_hash));
  if (!first) return InvalidArgument(std::string(kBadAttempt));
  auto attempt = ParseStrictJsonObject(*stored);
  if (!attempt || StringOr(*attempt, "provider") != p->name)
    return InvalidArgument(std::string(kBadAttempt));
  std::string binding = StringOr(*attempt, "binding");
  std::string presented =
      cb.browser_binding.empty() ? std::string() : Sha256Hex(cb.browser_binding);
  if (presented.size() != binding.size() ||
      CRYPTO_memcmp(presented.data(), binding.data(), binding.size()) != 0) {
    log::Warn("security: OAuth callback from another browser",
              {{"provider", p->name}, {"ip", client.ip}});
    return Error{ErrorCode::kPermissionDenied,
                 "this sign-in was started in another browser; start again"};
  }
  if (!cb.error.empty()) {
    std::string safe;
    for (char c : cb.error.substr(0, 64)) {
      if ((c >= 'a' && c <= 'z') || c == '_') safe.push_back(c);
    }
    return Error{ErrorCode::kUnauthenticated,
                 "the identity provider did not sign you in (" + safe + ")"};
  }
  if (cb.code.empty() || cb.code.size() > 2048)
    return InvalidArgument("the callback carries no code");

  VEZA_ASSIGN_OR_RETURN(Endpoints e, EndpointsOf(*p));
  VEZA_ASSIGN_OR_RETURN(json::object tokens,
                        ExchangeCode(*p, e, cb.code, StringOr(*attempt, "verifier")));
  Identity id;
  if (p->kind == OAuthKind::kOidc) {
    std::string id_token = StringOr(tokens, "id_token");
    if (id_token.empty()) {
      log::Warn("security: OIDC token answer without an ID token", {{"provider", p->name}});
      return Error{ErrorCode::kUnauthenticated, std::string(kUnverifiable)};
    }
    VEZA_ASSIGN_OR_RETURN(id, IdentityFromIdToken(*p, e, id_token, StringOr(*attempt, "nonce")));
  } else {
    std::string access = StringOr(tokens, "access_token");
    if (access.empty()) return Error{ErrorCode::kUnauthenticated, std::string(kUnverifiable)};
    VEZA_ASSIGN_OR_RETURN(id, IdentityFromUserApi(*p, e, access));
  }

  std::int64_t now = NowMs();
  VEZA_ASSIGN_OR_RETURN(
      QueryResult linked,
      db_.Query("SELECT user_id FROM user_identities WHERE provider = $1 AND subject = $2",
                {SqlText(p->name), SqlText(id.subject)}));
  std::string link_user_id = StringOr(*attempt, "link_user_id");
  OAuthOutcome out;
  if (!link_user_id.empty()) {
    if (!linked.rows.empty()) {
      if (linked.rows[0].Text(0) == link_user_id) {
        out.linked = true;
        return out;
      }
      return Conflict("this " + p->name + " account is already linked to another Veza account");
    }
    VEZA_TRY(
        db_.Query("INSERT INTO user_identities (id, user_id, provider, subject, email, created_at, "
                  "last_used_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $6)",
                  {SqlText(NewId()), SqlText(link_user_id), SqlText(p->name), SqlText(id.subject),
                   SqlText(id.email.substr(0, 254)), SqlInt(now)}));
    log::Info("security: identity linked", {{"user_id", link_user_id}, {"provider", p->name}});
    out.linked = true;
    return out;
  }
  std::string user_id;
  if (!linked.rows.empty()) {
    user_id = linked.rows[0].Text(0);
    VEZA_TRY(db_.Query(
        "UPDATE user_identities SET last_used_at = $3 WHERE provider = $1 AND subject = $2",
        {SqlText(p->name), SqlText(id.subject), SqlInt(now)}));
  } else {
    if (ValidateEmail(id.email).ok() == false) {
      return Error{ErrorCode::kUnprocessable,
                   p->name + " did not share an email address; Veza needs one to make an account"};
    }
    VEZA_ASSIGN_OR_RETURN(User created, CreateAccount(*p, id));
    user_id = created.id;
    out.created = true;
    VEZA_TRY(
        db_.Query("INSERT INTO user_identities (id, user_id, provider, subject, email, created_at, "
                  "last_used_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $6)",
                  {SqlText(NewId()), SqlText(user_id), SqlText(p->name), SqlText(id.subject),
                   SqlText(id.email.substr(0, 254)), SqlInt(now)}));
  }
  VEZA_ASSIGN_OR_RETURN(LoginOutcome login, auth_.SignInWithIdentity(user_id, client));
  out.login = std::move(login);
  return out;
}

Result<std::vector<LinkedIdentity>> OAuthService::ListIdentities(const Principal& who) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT id, provider, email, created_at, last_used_at FROM "
                                  "user_identities WHERE user_id = $1 "
                                  "ORDER BY created_at, id",
                                  {SqlText(who.user_id)}));
  std::vector<LinkedIdentity> out;
  for (const Row& row : r.rows)
    out.push_back({row.Text(0), row.Text(1), row.Text(2), row.Int(3), row.Int(4)});
  return out;
}

Status OAuthService::Unlink(const Principal& who, std::string_view identity_id) {
  if (!IsUuid(identity_id)) return NotFound("no such linked identity");
  return db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult mine,
                          tx.Query("SELECT id FROM user_identities WHERE id = $1 AND user_id = $2",
                                   {SqlText(identity_id), SqlText(who.user_id)}));
    if (mine.rows.empty()) return NotFound("no such linked identity");
    VEZA_ASSIGN_OR_RETURN(
        QueryResult ways,
        tx.Query("SELECT (SELECT COUNT(*) FROM user_identities WHERE user_id = $1), "
                 "(SELECT COUNT(*) FROM users WHERE id = $1 AND password_hash IS NOT NULL)",
                 {SqlText(who.user_id)}));
    if (ways.rows[0].Int(0) <= 1 && ways.rows[0].Int(1) == 0) {
      return Conflict("this is the account's only way to sign in; set a password first");
    }
    VEZA_TRY(tx.Query("DELETE FROM user_identities WHERE id = $1", {SqlText(identity_id)}));
    log::Info("security: identity unlinked", {{"user_id", who.user_id}});
    return Ok();
  });
}

}  // namespace veza::auth
