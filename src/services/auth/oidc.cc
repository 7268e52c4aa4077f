#include "services/auth/oidc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <boost/json/array.hpp>
#include <memory>
#include <optional>

#include "base/log.h"
#include "services/auth/jwt.h"

namespace veza::auth {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxIdTokenSize = 16 * 1024;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

std::optional<std::string> B64Member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return Base64UrlDecode(std::string_view(v->as_string().data(), v->as_string().size()));
}

std::string StringOr(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<EvpPkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("JWK is not a usable public key");
  }
  return EvpPkeyPtr(key);
}

Error Reject(IdTokenRejection reason, IdTokenRejection* why) {
  if (why != nullptr) *why = reason;
  log::Info("security: ID token rejected", {{"reason", IdTokenRejectionName(reason)}});
  return Error{ErrorCode::kUnauthenticated, "the identity provider's answer could not be verified"};
}

bool VerifySignature(EVP_PKEY* key, std::string_view alg, std::string_view signing_input,
                     std::string_view sig) {
  std::string der;
  if (alg == "ES256") {
    // JWS carries r||s (RFC 7518 section 3.4); OpenSSL wants a DER ECDSA-Sig-Value.
    if (sig.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> s(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* ss = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (!s || !r || !ss || ECDSA_SIG_set0(s.get(), r, ss) != 1) {
      BN_free(r);
      BN_free(ss);
      return false;
    }
    unsigned char* out = nullptr;
    int n = i2d_ECDSA_SIG(s.get(), &out);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::optional<std::int64_t> IntClaim(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ull << 62))
    return static_cast<std::int64_t>(v->as_uint64());
  return std::nullopt;
}

}  // namespace

std::string_view IdTokenRejectionName(IdTokenRejection reason) {
  switch (reason) {
    case IdTokenRejection::kNone:
      return "none";
    case IdTokenRejection::kMalformed:
      return "malformed";
    case IdTokenRejection::kAlgorithm:
      return "algorithm";
    case IdTokenRejection::kForbiddenHeader:
      return "forbidden_header";
    case IdTokenRejection::kUnknownKey:
      return "unknown_key";
    case IdTokenRejection::kSignature:
      return "signature";
    case IdTokenRejection::kIssuer:
      return "issuer";
    case IdTokenRejection::kAudience:
      return "audience";
    case IdTokenRejection::kExpired:
      return "expired";
    case IdTokenRejection::kNonce:
      return "nonce";
    case IdTokenRejection::kClaims:
      return "claims";
  }
  return "unknown";
}

Result<EvpPkeyPtr> PublicKeyFromJwk(const json::object& jwk) {
  std::string kty = StringOr(jwk, "kty");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld) return Internal("out of memory");
  if (kty == "RSA") {
    auto n = B64Member(jwk, "n");
    auto e = B64Member(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) return InvalidArgument("RSA JWK needs n and e");
    std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(
        reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
    std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(
        reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
    if (!bn_n || !bn_e || BN_num_bits(bn_n.get()) < 2048)
      return InvalidArgument("RSA JWK must have at least 2048 bits");
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return Internal("out of memory");
    }
    return FromData("RSA", bld.get());
  }
  if (kty == "EC") {
    auto x = B64Member(jwk, "x");
    auto y = B64Member(jwk, "y");
    if (StringOr(jwk, "crv") != "P-256" || !x || !y || x->size() != 32 || y->size() != 32) {
      return InvalidArgument("EC JWK must be P-256 with 32-byte x and y");
    }
    std::string point = "\x04" + *x + *y;
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return Internal("out of memory");
    }
    return FromData("EC", bld.get());
  }
  return InvalidArgument("unsupported JWK key type");
}

Result<json::object> VerifyIdToken(std::string_view token, const json::object& jwks,
                                   const IdTokenExpectations& expect, IdTokenRejection* why) {
  if (why != nullptr) *why = IdTokenRejection::kNone;
  if (token.empty() || token.size() > kMaxIdTokenSize)
    return Reject(IdTokenRejection::kMalformed, why);
  std::size_t d1 = token.find('.');
  std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Reject(IdTokenRejection::kMalformed, why);
  }
  auto header_text = Base64UrlDecode(token.substr(0, d1));
  auto payload_text = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = Base64UrlDecode(token.substr(d2 + 1));
  if (!header_text || !payload_text || !signature) return Reject(IdTokenRejection::kMalformed, why);
  auto header = ParseStrictJsonObject(*header_text);
  auto claims = ParseStrictJsonObject(*payload_text);
  if (!header || !claims) return Reject(IdTokenRejection::kMalformed, why);

  std::string alg = StringOr(*header, "alg");
  if (alg != "RS256" && alg != "ES256") return Reject(IdTokenRejection::kAlgorithm, why);
  for (const char* name : {"crit", "jku", "jwk", "x5u", "x5c"}) {
    if (header->contains(name)) return Reject(IdTokenRejection::kForbiddenHeader, why);
  }
  std::string kid = StringOr(*header, "kid");
  std::string want_kty = alg == "RS256" ? "RSA" : "EC";
  const json::object* chosen = nullptr;
  int candidates = 0;
  if (const json::value* keys = jwks.if_contains("keys"); keys && keys->is_array()) {
    for (const json::value& k : keys->as_array()) {
      const json::object* jwk = k.if_object();
      if (jwk == nullptr || StringOr(*jwk, "kty") != want_kty) continue;
      std::string use = StringOr(*jwk, "use");
      if (!use.empty() && use != "sig") continue;
      std::string key_alg = StringOr(*jwk, "alg");
      if (!key_alg.empty() && key_alg != alg) continue;
      if (!kid.empty()) {
        if (StringOr(*jwk, "kid") == kid) chosen = jwk;
      } else {
        chosen = jwk;
        ++candidates;
      }
    }
  }
  // Without a kid only an unambiguous key will do.
  if (chosen == nullptr || (kid.empty() && candidates != 1))
    return Reject(IdTokenRejection::kUnknownKey, why);
  auto key = PublicKeyFromJwk(*chosen);
  if (!key.ok()) return Reject(IdTokenRejection::kUnknownKey, why);
  if (!VerifySignature(key->get(), alg, token.substr(0, d2), *signature)) {
    return Reject(IdTokenRejection::kSignature, why);
  }

  if (StringOr(*claims, "iss") != expect.issuer) return Reject(IdTokenRejection::kIssuer, why);
  const json::value* aud = claims->if_contains("aud");
  bool aud_ok = false;
  bool several = false;
  if (aud && aud->is_string()) {
    aud_ok = aud->as_string() == expect.client_id;
  } else if (aud && aud->is_array()) {
    for (const json::value& a : aud->as_array()) {
      if (a.is_string() && a.as_string() == expect.client_id) aud_ok = true;
    }
    several = aud->as_array().size() > 1;
  }
  if (aud_ok && several && StringOr(*claims, "azp") != expect.client_id) aud_ok = false;
  if (!aud_ok) return Reject(IdTokenRejection::kAudience, why);
  auto exp = IntClaim(*claims, "exp");
  auto iat = IntClaim(*claims, "iat");
  if (!exp || !iat || StringOr(*claims, "sub").empty() || StringOr(*claims, "sub").size() > 255) {
    return Reject(IdTokenRejection::kClaims, why);
  }
  if (*exp <= expect.now_unix - expect.leeway_seconds)
    return Reject(IdTokenRejection::kExpired, why);
  if (*iat > expect.now_unix + expect.leeway_seconds)
    return Reject(IdTokenRejection::kExpired, why);
  if (auto nbf = IntClaim(*claims, "nbf"); nbf && *nbf > expect.now_unix + expect.leeway_seconds) {
    return Reject(IdTokenRejection::kExpired, why);
  }
  std::string nonce = StringOr(*claims, "nonce");
  if (expect.nonce.empty() || nonce.size() != expect.nonce.size() ||
      CRYPTO_memcmp(nonce.data(), expect.nonce.data(), nonce.size()) != 0) {
    return Reject(IdTokenRejection::kNonce, why);
  }
  return std::move(*claims);
}

std::string NewPkceVerifier() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string PkceS256Challenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace veza::auth
