#pragma once
// OpenID Connect ID tokens from outside providers (OpenID Connect Core 1.0 section 3.1.3.7),
// verified as RFC 8725 asks:
//   - alg is allowlisted (RS256, ES256); "none", HMAC and everything else are refused, so a
//     provider's public key can never be used as an HMAC secret;
//   - the key comes from the provider's JWKS by kid (or the only signing key of a matching type
//     when the token names none); keys in the token ("jwk", "jku", "x5u", "x5c") and "crit"
//     are refused; RSA keys must have at least 2048 bits;
//   - iss equals the configured issuer exactly, aud holds the client id (and azp names it when
//     aud lists other parties too), exp is in the future and iat present (with leeway), and the
//     nonce equals the one stored for this sign-in.
// Everything here is pure and cheap; fetching the JWKS is the caller's job.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "services/auth/signing_keys.h"

namespace veza::auth {

enum class IdTokenRejection {
  kNone,
  kMalformed,
  kAlgorithm,
  kForbiddenHeader,
  kUnknownKey,  // no key in the JWKS for this kid: the caller may refresh the JWKS once
  kSignature,
  kIssuer,
  kAudience,
  kExpired,
  kNonce,
  kClaims,
};
std::string_view IdTokenRejectionName(IdTokenRejection reason);

struct IdTokenExpectations {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::int64_t now_unix = 0;
  std::int64_t leeway_seconds = 60;
};

// The token's claims once every check passed; kUnauthenticated otherwise, with the reason in
// *why.
Result<boost::json::object> VerifyIdToken(std::string_view token, const boost::json::object& jwks,
                                          const IdTokenExpectations& expect,
                                          IdTokenRejection* why = nullptr);

// A public key from one JWK: RSA ("n", "e"; at least 2048 bits) or EC P-256 ("crv" "P-256",
// "x", "y"). kInvalidArgument for anything else.
Result<EvpPkeyPtr> PublicKeyFromJwk(const boost::json::object& jwk);

// PKCE (RFC 7636): a 43-character verifier of 256 random bits and its S256 challenge.
std::string NewPkceVerifier();
std::string PkceS256Challenge(std::string_view verifier);

}  // namespace veza::auth
