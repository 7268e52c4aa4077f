#include "services/auth/oidc.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "services/auth/oauth_service.h"
#include "services/auth/signing_keys.h"

namespace veza::auth {
namespace {

namespace json = boost::json;

// A provider's key pair and JWKS, and tokens signed the way a provider signs them.
class TestProvider {
 public:
  explicit TestProvider(const char* type) : type_(type) {
    EVP_PKEY* key = std::string(type) == "RSA"
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    key_.reset(key);
    json::object jwk{{"kid", "k1"}, {"use", "sig"}};
    if (std::string(type) == "RSA") {
      jwk["kty"] = "RSA";
      jwk["n"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_N));
      jwk["e"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_RSA_E));
    } else {
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_X, 32));
      jwk["y"] = Base64UrlEncode(BnParam(OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    }
    jwks_ = json::object{{"keys", json::array{jwk}}};
  }

  std::string Sign(const json::object& header, const json::object& claims) const {
    std::string input =
        Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get());
    std::size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (type_ == "EC") {  // DER -> r||s
      const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      std::string raw(64, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(raw.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
      ECDSA_SIG_free(s);
      sig = raw;
    }
    return input + "." + Base64UrlEncode(sig);
  }
  std::string Alg() const { return type_ == "RSA" ? "RS256" : "ES256"; }
  const json::object& jwks() const { return jwks_; }

 private:
  std::string BnParam(const char* name, int pad = 0) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::string out(pad ? pad : BN_num_bytes(bn), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
  }
  std::string type_;
  EvpPkeyPtr key_;
  json::object jwks_;
};

constexpr std::int64_t kNow = 1'800'000'000;

json::object GoodClaims() {
  return {{"iss", "https://idp.example"},
          {"aud", "veza"},
          {"sub", "user-1"},
          {"exp", kNow + 300},
          {"iat", kNow - 5},
          {"nonce", "n-123"},
          {"email", "a@example.com"}};
}
IdTokenExpectations Expect() { return {"https://idp.example", "veza", "n-123", kNow, 60}; }

class OidcIdToken : public ::testing::TestWithParam<const char*> {};

TEST_P(OidcIdToken, AGoodTokenVerifiesAndEveryBrokenRuleIsNamed) {
  TestProvider p(GetParam());
  json::object header{{"alg", p.Alg()}, {"kid", "k1"}, {"typ", "JWT"}};
  auto ok = VerifyIdToken(p.Sign(header, GoodClaims()), p.jwks(), Expect());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->at("email").as_string(), "a@example.com");

  auto why = [&](json::object h, json::object c) {
    IdTokenRejection reason = IdTokenRejection::kNone;
    EXPECT_FALSE(VerifyIdToken(p.Sign(h, c), p.jwks(), Expect(), &reason).ok());
    return reason;
  };
  json::object c = GoodClaims();
  c["nonce"] = "other";
  EXPECT_EQ(why(header, c), IdTokenRejection::kNonce);
  c = GoodClaims();
  c.erase("nonce");
  EXPECT_EQ(why(header, c), IdTokenRejection::kNonce);
  c = GoodClaims();
  c["aud"] = "someone-else";
  EXPECT_EQ(why(header, c), IdTokenRejection::kAudience);
  c["aud"] = json::array{"veza", "other"};  // several audiences need azp naming us
  EXPECT_EQ(why(header, c), IdTokenRejection::kAudience);
  c["azp"] = "veza";
  EXPECT_TRUE(VerifyIdToken(p.Sign(header, c), p.jwks(), Expect()).ok());
  c = GoodClaims();
  c["iss"] = "https://idp.example/";
  EXPECT_EQ(why(header, c), IdTokenRejection::kIssuer);
  c = GoodClaims();
  c["exp"] = kNow - 61;
  EXPECT_EQ(why(header, c), IdTokenRejection::kExpired);
  c = GoodClaims();
  c["iat"] = kNow + 3600;
  EXPECT_EQ(why(header, c), IdTokenRejection::kExpired);
  c = GoodClaims();
  c.erase("sub");
  EXPECT_EQ(why(header, c), IdTokenRejection::kClaims);

  json::object h = header;
  h["kid"] = "k2";
  EXPECT_EQ(why(h, GoodClaims()), IdTokenRejection::kUnknownKey);
  h = header;
  h["jku"] = "https://evil.example/jwks";
  EXPECT_EQ(why(h, GoodClaims()), IdTokenRejection::kForbiddenHeader);
  for (const char* alg : {"none", "HS256", "RS512", "EdDSA"}) {
    h = header;
    h["alg"] = alg;
    EXPECT_EQ(why(h, GoodClaims()), IdTokenRejection::kAlgorithm) << alg;
  }
  // The other family's algorithm with this key type finds no key.
  h = header;
  h["alg"] = p.Alg() == "RS256" ? "ES256" : "RS256";
  EXPECT_EQ(why(h, GoodClaims()), IdTokenRejection::kUnknownKey);

  std::string token = p.Sign(header, GoodClaims());
  std::string tampered = token;
  tampered[token.find('.') + 5] = tampered[token.find('.') + 5] == 'A' ? 'B' : 'A';
  IdTokenRejection reason = IdTokenRejection::kNone;
  EXPECT_FALSE(VerifyIdToken(tampered, p.jwks(), Expect(), &reason).ok());
  EXPECT_TRUE(reason == IdTokenRejection::kSignature || reason == IdTokenRejection::kMalformed);
  for (std::string bad : {std::string(""), std::string("a.b"), std::string("a.b.c.d"), token + "=",
                          std::string(20000, 'a')}) {
    EXPECT_FALSE(VerifyIdToken(bad, p.jwks(), Expect()).ok());
  }
  // Verification failures never say which rule broke.
  auto e = VerifyIdToken(tampered, p.jwks(), Expect());
  EXPECT_EQ(e.error().code, ErrorCode::kUnauthenticated);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OidcIdToken, ::testing::Values("RSA", "EC"));

TEST(OidcJwk, SmallRsaKeysAndOtherKeyTypesAreRefused) {
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &n);
  std::string nb(BN_num_bytes(n), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
  BN_free(n);
  EVP_PKEY_free(small);
  EXPECT_FALSE(PublicKeyFromJwk({{"kty", "RSA"}, {"n", Base64UrlEncode(nb)}, {"e", "AQAB"}}).ok());
  EXPECT_FALSE(PublicKeyFromJwk({{"kty", "oct"}, {"k", "c2VjcmV0"}}).ok());
  EXPECT_FALSE(PublicKeyFromJwk({{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}}).ok());
}

TEST(Pkce, VerifierAndS256ChallengeFollowRfc7636) {
  // RFC 7636 appendix B.
  EXPECT_EQ(PkceS256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  std::string v = NewPkceVerifier();
  EXPECT_EQ(v.size(), 43u);
  EXPECT_NE(v, NewPkceVerifier());
}

TEST(ParseOAuthProvider, PresetsIssuersAndEndpoints) {
  auto google = ParseOAuthProvider("preset=google,client_id=abc,client_secret=s");
  ASSERT_TRUE(google.ok()) << google.error().message;
  EXPECT_EQ(google->name, "google");
  EXPECT_EQ(google->kind, OAuthKind::kOidc);
  EXPECT_EQ(google->issuer, "https://accounts.google.com");
  EXPECT_NE(google->scopes.find("openid"), std::string::npos);

  auto github = ParseOAuthProvider("preset=github,name=gh,client_id=abc,client_secret=s");
  ASSERT_TRUE(github.ok());
  EXPECT_EQ(github->name, "gh");
  EXPECT_EQ(github->kind, OAuthKind::kGitHub);
  EXPECT_TRUE(github->secret_in_body);
  EXPECT_EQ(github->token_endpoint, "https://github.com/login/oauth/access_token");

  auto discord = ParseOAuthProvider("preset=discord,client_id=abc,client_secret=s");
  ASSERT_TRUE(discord.ok());
  EXPECT_EQ(discord->kind, OAuthKind::kDiscord);

  auto corp = ParseOAuthProvider(
      "name=corp,issuer=https://login.corp.example,client_id=veza,client_secret=s,scopes=email");
  ASSERT_TRUE(corp.ok());
  EXPECT_EQ(corp->scopes, "openid email");

  auto local = ParseOAuthProvider("name=dev,issuer=http://127.0.0.1:9000,client_id=veza");
  EXPECT_TRUE(local.ok()) << "http:// is fine on loopback";

  auto plain = ParseOAuthProvider(
      "name=forge,authorization_endpoint=https://f.example/auth,token_endpoint=https://f.example/"
      "token,"
      "userinfo_endpoint=https://f.example/me,client_id=veza,client_secret=s,token_auth=post");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->kind, OAuthKind::kOAuth2);
  EXPECT_TRUE(plain->secret_in_body);
}

TEST(ParseOAuthProvider, BadSettingsAreRefusedWithoutEchoingTheSecret) {
  for (const char* spec :
       {"preset=google", "preset=nope,client_id=a",
        "name=Bad_Name,issuer=https://x.example,client_id=a",
        "name=x,issuer=http://idp.example,client_id=a", "name=x,client_id=a",
        "preset=google,client_id=a,colour=blue", "preset=google,client_id=a,token_auth=magic",
        "preset=google,client_id=a,client_secret=s,client_secret_file=/nope",
        "preset=google,client_id=a,client_secret_file=/does/not/exist", "garbage"}) {
    auto r = ParseOAuthProvider(spec);
    EXPECT_FALSE(r.ok()) << spec;
  }
  auto r = ParseOAuthProvider(
      "name=x,issuer=http://idp.example,client_id=a,client_secret=hunter2-secret");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace veza::auth
