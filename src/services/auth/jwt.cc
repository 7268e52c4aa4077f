#include "services/auth/jwt.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>
#include <exception>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "base/log.h"

namespace veza::auth {
namespace json = boost::json;

namespace {

// ---- strict JSON ----------------------------------------------------------------------------

// A Boost.JSON SAX handler that builds the same value as json::parse but fails on a repeated
// member name. json::parse silently keeps the last duplicate, while another JSON library
// (a gateway, a log pipeline, an auditor's script) may keep the first; RFC 8725 §3.1 and
// RFC 7515 §5.2 ask us to refuse such input so everyone sees the same claims.
class StrictJsonHandler {
 public:
  // Limits checked by basic_parser itself. Our headers and payloads have < 10 members.
  static constexpr std::size_t max_object_size = 64;
  static constexpr std::size_t max_array_size = 64;
  static constexpr std::size_t max_key_size = 256;
  static constexpr std::size_t max_string_size = kMaxAccessTokenSize;

  StrictJsonHandler() { st.reset(); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    keys_.pop_back();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    // Names are compared after unescaping, so {"a":1,"\u0061":2} is a duplicate too.
    const bool inserted = keys_.back().insert(std::move(key_)).second;
    key_.clear();
    if (!inserted) {
      ec = json::make_error_code(json::error::syntax);
      return false;
    }
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value_stack st;

 private:
  std::vector<std::set<std::string, std::less<>>> keys_;
  std::string key_;
};

// Parses standard JSON (no comments, no trailing commas, valid UTF-8, nesting <= 8, nothing
// after the value) into an object; nullopt for anything else.
std::optional<json::object> ParseStrictObject(std::string_view text) {
  try {  // value_stack allocates and may throw std::bad_alloc; errors here are values
    json::parse_options opt;
    opt.max_depth = 8;
    json::basic_parser<StrictJsonHandler> parser(opt);
    json::error_code ec;
    const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
    if (ec || n != text.size() || !parser.done()) return std::nullopt;
    json::value v = parser.handler().st.release();
    if (json::object* obj = v.if_object()) return std::move(*obj);
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---- helpers ------------------------------------------------------------------------------

const json::string* StringMember(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  return v ? v->if_string() : nullptr;
}

// NumericDate as an integer. Doubles are refused: we never issue them, and accepting them
// would bring rounding questions into an expiry check.
std::optional<std::int64_t> IntegerMember(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (const std::int64_t* i = v->if_int64()) return *i;
  if (const std::uint64_t* u = v->if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
  }
  return std::nullopt;
}

std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

bool AudienceMatches(const json::value& aud, std::string_view audience) {
  if (const json::string* s = aud.if_string()) return *s == audience;
  const json::array* list = aud.if_array();
  if (list == nullptr || list->empty()) return false;
  bool found = false;
  for (const json::value& entry : *list) {
    const json::string* s = entry.if_string();
    if (s == nullptr) return false;  // a malformed aud array is not "close enough"
    if (*s == audience) found = true;
  }
  return found;
}

Result<std::string> RandomJti() {
  unsigned char bytes[16];  // 128 bits: collisions are not a concern for revocation lists
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    ERR_clear_error();
    return Internal("random generator failed");
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Error Reject(JwtRejection reason, JwtRejection* why) {
  if (why != nullptr) *why = reason;
  log::Debug("access token rejected", {{"reason", JwtRejectionName(reason)}});
  // One message for every reason: which check failed is an oracle for an attacker.
  return Error{ErrorCode::kUnauthenticated, "invalid or expired access token"};
}

}  // namespace

std::optional<json::object> ParseStrictJsonObject(std::string_view text) { return ParseStrictObject(text); }

std::string_view JwtRejectionName(JwtRejection reason) {
  switch (reason) {
    case JwtRejection::kNone: return "none";
    case JwtRejection::kMalformed: return "malformed";
    case JwtRejection::kAlgorithm: return "algorithm";
    case JwtRejection::kType: return "type";
    case JwtRejection::kForbiddenHeader: return "forbidden_header";
    case JwtRejection::kUnknownKey: return "unknown_key";
    case JwtRejection::kSignature: return "signature";
    case JwtRejection::kIssuer: return "issuer";
    case JwtRejection::kAudience: return "audience";
    case JwtRejection::kExpired: return "expired";
    case JwtRejection::kNotYetValid: return "not_yet_valid";
    case JwtRejection::kClaims: return "claims";
  }
  return "unknown";
}

Result<IssuedAccessToken> IssueAccessToken(const KeyRing& ring, const JwtOptions& options, AccessClaims claims,
                                           std::int64_t now_unix) {
  if (claims.sub.empty()) return InvalidArgument("access token: sub is required");
  if (options.issuer.empty() || options.audience.empty()) {
    return InvalidArgument("access token: issuer and audience must be configured");
  }
  if (options.ttl.count() <= 0) return InvalidArgument("access token: ttl must be positive");
  if (claims.iat == 0) claims.iat = now_unix;
  if (claims.exp == 0) claims.exp = SaturatingAdd(claims.iat, options.ttl.count());
  if (claims.exp <= claims.iat) return InvalidArgument("access token: exp must be after iat");
  if (claims.jti.empty()) {
    VEZA_ASSIGN_OR_RETURN(claims.jti, RandomJti());
  }

  // Copy the key out of the ring so a concurrent rotation neither blocks on nor frees it.
  const std::shared_ptr<const SigningKey> key = ring.ActiveKey();
  if (!key) return Internal("access token: no active signing key");

  json::object header;
  header["alg"] = kAccessTokenAlg;
  header["typ"] = kAccessTokenType;
  header["kid"] = key->kid();

  json::object payload;
  payload["iss"] = options.issuer;
  payload["aud"] = options.audience;
  payload["sub"] = claims.sub;
  payload["iat"] = claims.iat;
  payload["exp"] = claims.exp;
  payload["jti"] = claims.jti;
  if (!claims.role.empty()) payload["role"] = claims.role;
  if (!claims.sid.empty()) payload["sid"] = claims.sid;

  std::string token = Base64UrlEncode(json::serialize(header));
  token += '.';
  token += Base64UrlEncode(json::serialize(payload));
  VEZA_ASSIGN_OR_RETURN(std::string signature, key->Sign(token));
  token += '.';
  token += Base64UrlEncode(signature);
  if (token.size() > kMaxAccessTokenSize) {
    // We would refuse our own token; better to fail at issue time with a clear cause.
    return InvalidArgument("access token: claims too large");
  }
  return IssuedAccessToken{std::move(token), std::move(claims)};
}

Result<std::string> SignAccessToken(const KeyRing& ring, const JwtOptions& options, AccessClaims claims) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  VEZA_ASSIGN_OR_RETURN(IssuedAccessToken issued, IssueAccessToken(ring, options, std::move(claims), now));
  return std::move(issued.token);
}

Result<AccessClaims> VerifyAccessToken(const KeyRing& ring, const JwtOptions& options, std::string_view token,
                                       std::int64_t now_unix, JwtRejection* why) {
  if (why != nullptr) *why = JwtRejection::kNone;

  // 1. Shape: size, exactly three non-empty parts (JWE's five parts and unsecured two-part
  //    forms included in "not three").
  if (token.empty() || token.size() > kMaxAccessTokenSize) return Reject(JwtRejection::kMalformed, why);
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject(JwtRejection::kMalformed, why);
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return Reject(JwtRejection::kMalformed, why);
  }

  // 2. Header: decoded and checked before any key is touched.
  const std::optional<std::string> header_json = Base64UrlDecode(header_b64);
  if (!header_json) return Reject(JwtRejection::kMalformed, why);
  const std::optional<json::object> header = ParseStrictObject(*header_json);
  if (!header) return Reject(JwtRejection::kMalformed, why);

  const json::string* alg = StringMember(*header, "alg");
  if (alg == nullptr || *alg != kAccessTokenAlg) return Reject(JwtRejection::kAlgorithm, why);
  // RFC 9068 §4: "at+jwt", or the full media type "application/at+jwt".
  const json::string* typ = StringMember(*header, "typ");
  if (typ == nullptr || (*typ != kAccessTokenType && *typ != "application/at+jwt")) {
    return Reject(JwtRejection::kType, why);
  }
  // We understand no extensions (so "crit" must be refused, RFC 7515 §4.1.11), and keys come
  // only from our ring: a token that points at its own key is an attack, not a hint.
  for (std::string_view name : {"crit", "jku", "jwk", "x5u", "x5c"}) {
    if (header->contains(name)) return Reject(JwtRejection::kForbiddenHeader, why);
  }
  const json::string* kid = StringMember(*header, "kid");
  if (kid == nullptr) return Reject(JwtRejection::kUnknownKey, why);
  const std::shared_ptr<const SigningKey> key = ring.Find(std::string_view(*kid));
  if (!key) return Reject(JwtRejection::kUnknownKey, why);

  // 3. Signature over the exact bytes received; the payload is parsed only once it is
  //    authentic, so unauthenticated input never reaches the claims parser.
  const std::optional<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature || signature->size() != SigningKey::kSignatureSize) return Reject(JwtRejection::kMalformed, why);
  if (!key->Verify(token.substr(0, dot2), *signature)) return Reject(JwtRejection::kSignature, why);

  // 4. Claims.
  const std::optional<std::string> payload_json = Base64UrlDecode(payload_b64);
  if (!payload_json) return Reject(JwtRejection::kMalformed, why);
  const std::optional<json::object> payload = ParseStrictObject(*payload_json);
  if (!payload) return Reject(JwtRejection::kMalformed, why);

  const json::string* iss = StringMember(*payload, "iss");
  if (options.issuer.empty() || iss == nullptr || *iss != options.issuer) return Reject(JwtRejection::kIssuer, why);
  const json::value* aud = payload->if_contains("aud");
  if (options.audience.empty() || aud == nullptr || !AudienceMatches(*aud, options.audience)) {
    return Reject(JwtRejection::kAudience, why);
  }

  const std::optional<std::int64_t> exp = IntegerMember(*payload, "exp");
  const std::optional<std::int64_t> iat = IntegerMember(*payload, "iat");
  if (!exp || !iat) return Reject(JwtRejection::kClaims, why);
  const std::int64_t leeway = std::max<std::int64_t>(0, options.leeway.count());
  // RFC 7519 §4.1.4: reject at or after exp; the leeway extends that by the allowed skew.
  if (SaturatingAdd(*exp, leeway) <= now_unix) return Reject(JwtRejection::kExpired, why);
  if (*iat > SaturatingAdd(now_unix, leeway)) return Reject(JwtRejection::kNotYetValid, why);
  if (payload->contains("nbf")) {
    const std::optional<std::int64_t> nbf = IntegerMember(*payload, "nbf");
    if (!nbf) return Reject(JwtRejection::kClaims, why);
    if (*nbf > SaturatingAdd(now_unix, leeway)) return Reject(JwtRejection::kNotYetValid, why);
  }
  if (*exp <= *iat) return Reject(JwtRejection::kClaims, why);

  AccessClaims claims;
  claims.iat = *iat;
  claims.exp = *exp;
  const json::string* sub = StringMember(*payload, "sub");
  const json::string* jti = StringMember(*payload, "jti");
  // jti is required: a token without one could not be put on the revocation list.
  if (sub == nullptr || sub->empty() || jti == nullptr || jti->empty()) return Reject(JwtRejection::kClaims, why);
  claims.sub.assign(sub->data(), sub->size());
  claims.jti.assign(jti->data(), jti->size());
  // Optional, but a present claim of the wrong type is an error, not "absent".
  for (auto [name, out] : {std::pair{"role", &claims.role}, std::pair{"sid", &claims.sid}}) {
    if (const json::value* v = payload->if_contains(name)) {
      const json::string* s = v->if_string();
      if (s == nullptr) return Reject(JwtRejection::kClaims, why);
      out->assign(s->data(), s->size());
    }
  }
  return claims;
}

}  // namespace veza::auth
