#pragma once
// Sign-in with outside accounts: OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256
// only), `state` and, for OpenID Connect providers, `nonce` and a verified ID token (oidc.h).
// Blocking (database, calls to the provider): run it on the worker pool.
//
// One attempt: Start makes state, PKCE verifier, nonce and a browser binding (a random value
// the transport puts in a cookie); only hashes of state and binding are kept, in the Cache, for
// kAttemptTtl. Finish takes the attempt by its state exactly once (a replay or a second tab is
// refused), checks the browser presents the same binding (so an attacker cannot make a victim's
// browser finish the attacker's sign-in: login CSRF), exchanges the code with the verifier, and
// learns who the user is from the ID token (OIDC) or the provider's user API (GitHub,
// Discord, plain OAuth 2.0).
//
// Accounts: an identity (provider, subject) already linked signs its user in. A new identity
// creates a new account, unless an account already holds the same email: then the answer is
// kConflict, and the owner may link the provider after signing in (StartLink); accounts are
// never joined silently by email, since a provider's "verified" email is only as good as the
// provider.
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ports/cache.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/http_fetcher.h"
#include "services/auth/auth_service.h"

namespace veza::auth {

enum class OAuthKind { kOidc, kGitHub, kDiscord, kOAuth2 };

struct OAuthProvider {
  std::string name;  // the URL segment: 1..32 of [a-z0-9-]
  OAuthKind kind = OAuthKind::kOidc;
  std::string issuer;  // OIDC: exact "iss"; discovery at issuer + /.well-known/openid-configuration
  std::string client_id;
  std::string client_secret;           // never logged
  std::string authorization_endpoint;  // empty: from discovery
  std::string token_endpoint;
  std::string userinfo_endpoint;
  std::string jwks_uri;
  std::string scopes;           // space-separated
  bool secret_in_body = false;  // client_secret_post instead of HTTP Basic (RFC 6749 2.3.1)
};

// One --oauth-provider setting: comma-separated key=value pairs, e.g.
//   "preset=google,client_id=ID,client_secret_file=/run/secrets/google"
//   "name=corp,issuer=https://login.corp.example,client_id=veza,client_secret=S"
// Keys: name, preset (google, github, discord), issuer, client_id, client_secret,
// client_secret_file, authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri,
// scopes (space-separated), token_auth (basic or post). Endpoints must be https:// except on
// loopback hosts. Error messages never repeat the secret.
Result<OAuthProvider> ParseOAuthProvider(std::string_view spec);

struct OAuthOptions {
  std::vector<OAuthProvider> providers;
  // Callbacks are {public_url}/api/v1/auth/oauth/{name}/callback: register exactly that with
  // the provider.
  std::string public_url;
};

struct OAuthStart {
  std::string authorization_url;
  std::string browser_binding;  // goes into a cookie, comes back with the callback
};

struct OAuthCallback {
  std::string state;
  std::string code;
  std::string error;            // the provider's error code, when it sent one instead of a code
  std::string browser_binding;  // from the cookie; empty when there was none
};

// What Finish did: signed in (or asked for the second factor), or linked to the caller's
// account.
struct OAuthOutcome {
  std::optional<LoginOutcome> login;
  bool linked = false;
  bool created = false;  // a new account was made
};

struct LinkedIdentity {
  std::string id;
  std::string provider;
  std::string email;
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;
};

class OAuthService {
 public:
  static constexpr std::chrono::minutes kAttemptTtl{10};

  OAuthService(Database& db, Cache& cache, HttpFetcher& http, const Clock& clock, AuthService& auth,
               OAuthOptions options);

  std::vector<std::string> ProviderNames() const;
  // kNotFound for a provider not configured.
  Result<OAuthStart> Start(std::string_view provider);
  // The same for a signed-in user adding a provider to the account.
  Result<OAuthStart> StartLink(const Principal& who, std::string_view provider);
  Result<OAuthOutcome> Finish(std::string_view provider, const OAuthCallback& callback,
                              const ClientInfo& client);

  Result<std::vector<LinkedIdentity>> ListIdentities(const Principal& who);
  // kNotFound unless it is one of who's; kConflict when it is the account's last way to sign
  // in (no password and no other identity).
  Status Unlink(const Principal& who, std::string_view identity_id);

 private:
  struct Identity {
    std::string subject;
    std::string email;
    bool email_verified = false;
    std::string username_hint;
    std::string display_name;
  };
  struct Endpoints {
    std::string authorization, token, userinfo, jwks;
  };
  const OAuthProvider* Find(std::string_view name) const;
  Result<Endpoints> EndpointsOf(const OAuthProvider& p);
  Result<boost::json::object> Jwks(const OAuthProvider& p, const Endpoints& e, bool refresh);
  Result<OAuthStart> Begin(const OAuthProvider& p, std::string_view link_user_id);
  Result<boost::json::object> ExchangeCode(const OAuthProvider& p, const Endpoints& e,
                                           std::string_view code, std::string_view verifier);
  Result<Identity> IdentityFromIdToken(const OAuthProvider& p, const Endpoints& e,
                                       std::string_view id_token, std::string_view nonce);
  Result<Identity> IdentityFromUserApi(const OAuthProvider& p, const Endpoints& e,
                                       std::string_view access_token);
  Result<boost::json::value> GetJson(const std::string& url, std::string_view access_token);
  Result<User> CreateAccount(const OAuthProvider& p, const Identity& id);
  std::string RedirectUri(const OAuthProvider& p) const;
  std::int64_t NowMs() const;

  Database& db_;
  Cache& cache_;
  HttpFetcher& http_;
  const Clock& clock_;
  AuthService& auth_;
  OAuthOptions options_;
  UserRepository users_;
  std::mutex mu_;  // guards the two caches below
  std::map<std::string, Endpoints> discovered_;
  std::map<std::string, std::pair<boost::json::object, std::int64_t>>
      jwks_;  // with fetch time (ms)
};

}  // namespace veza::auth
