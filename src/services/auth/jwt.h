#pragma once
// Access tokens: JWS compact serialization, EdDSA/Ed25519 (RFC 8037), typed "at+jwt"
// (RFC 9068), verified the way RFC 8725 asks:
//   - the algorithm is allowlisted (only "EdDSA"); the key comes from our own ring by kid,
//     never from the token ("jku", "jwk", "x5u", "x5c" are refused, as is "crit");
//   - explicit typing: typ must be "at+jwt", so an ID token or any other JWT signed by the
//     same key cannot be replayed as an access token;
//   - iss, aud, exp, iat (and nbf if present) are all checked, with a small clock leeway;
//   - the input is parsed strictly: size cap, canonical base64url without padding, JSON with
//     no duplicate member names (a verifier and a logger must not disagree on a claim).
// Every rejection is the same kUnauthenticated error with a generic message, so a client
// learns nothing about which check failed; the reason is available to the caller and to the
// debug log.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <optional>

#include "base/result.h"
#include "services/auth/signing_keys.h"

namespace veza::auth {

// Standard JSON (no comments, valid UTF-8, nesting <= 8, nothing after the value, no repeated
// member name) holding an object; nullopt for anything else. Used for every JWT part and for
// answers from OAuth providers.
std::optional<boost::json::object> ParseStrictJsonObject(std::string_view text);

// Tokens we issue are ~400 bytes; anything much larger is not ours and is refused before any
// decoding or JSON parsing.
inline constexpr std::size_t kMaxAccessTokenSize = 4096;
inline constexpr std::string_view kAccessTokenType = "at+jwt";
inline constexpr std::string_view kAccessTokenAlg = "EdDSA";

struct AccessClaims {
  std::string sub;   // user id; required
  std::string role;  // "user", "moderator", ...; empty when absent from a verified token
  std::string jti;   // unique token id for revocation lists; generated when empty on signing
  std::string sid;   // session id; empty when absent from a verified token
  std::int64_t iat = 0;  // NumericDate (seconds since the epoch); 0 on signing means "now"
  std::int64_t exp = 0;  // NumericDate; 0 on signing means iat + ttl
};

struct JwtOptions {
  std::string issuer;
  std::string audience;
  std::chrono::seconds ttl{900};
  // Tolerated clock skew between the node that signed and the one that verifies.
  std::chrono::seconds leeway{30};
};

// Why a token was refused. Never sent to clients; for logs, metrics and tests.
enum class JwtRejection {
  kNone,
  kMalformed,      // size, part count, base64url, JSON syntax or shape, duplicate names
  kAlgorithm,      // alg missing or not "EdDSA"
  kType,           // typ missing or not "at+jwt"
  kForbiddenHeader,// crit, jku, jwk, x5u, x5c
  kUnknownKey,     // kid missing or not in the ring
  kSignature,      // signature does not verify
  kIssuer,
  kAudience,
  kExpired,        // exp <= now - leeway
  kNotYetValid,    // iat or nbf > now + leeway
  kClaims,         // a required claim is missing, empty or of the wrong type
};
std::string_view JwtRejectionName(JwtRejection reason);

struct IssuedAccessToken {
  std::string token;
  AccessClaims claims;  // as signed, with iat, exp and jti filled in
};

// Signs an access token with the ring's active key. `now_unix` (seconds) fills iat when it is
// 0; exp defaults to iat + ttl. Fails with kInvalidArgument for an empty sub, issuer or
// audience, or exp <= iat; with kInternal when the ring has no active key.
Result<IssuedAccessToken> IssueAccessToken(const KeyRing& ring, const JwtOptions& options,
                                           AccessClaims claims, std::int64_t now_unix);
// As IssueAccessToken with the system clock, returning only the token.
Result<std::string> SignAccessToken(const KeyRing& ring, const JwtOptions& options, AccessClaims claims);

// Verifies `token` (without any "Bearer " prefix) at `now_unix` and returns its claims. Every
// failure is ErrorCode::kUnauthenticated with the same message; `why`, when given, receives
// the reason.
Result<AccessClaims> VerifyAccessToken(const KeyRing& ring, const JwtOptions& options, std::string_view token,
                                       std::int64_t now_unix, JwtRejection* why = nullptr);

}  // namespace veza::auth
