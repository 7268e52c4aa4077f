#include "services/auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/auth/signing_keys.h"
#include "test_support.h"

namespace veza::auth {
namespace {
namespace json = boost::json;

// RFC 8037 Appendix A.
constexpr std::string_view kRfcD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr std::string_view kRfcX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr std::string_view kRfcThumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
constexpr std::string_view kRfcSigningInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
// As printed in RFC 8037 A.4 (also what `openssl pkeyutl -sign -rawin` gives for this key).
constexpr std::string_view kRfcSignature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

std::string Unb64(std::string_view text) {
  std::optional<std::string> bytes = Base64UrlDecode(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or("");
}

SigningKey NewKey() {
  Result<SigningKey> key = SigningKey::Generate();
  EXPECT_OK(key);
  return std::move(key).value();
}

// A compact JWS over arbitrary header and payload text, so tests can build tokens that are
// correctly signed yet wrong in exactly one respect.
std::string SignCompact(const SigningKey& key, std::string_view header_json, std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  Result<std::string> signature = key.Sign(input);
  EXPECT_OK(signature);
  return input + "." + Base64UrlEncode(signature.ok() ? *signature : "");
}

AccessClaims Claims(std::string sub, std::string role = "", std::int64_t iat = 0, std::int64_t exp = 0) {
  AccessClaims claims;
  claims.sub = std::move(sub);
  claims.role = std::move(role);
  claims.iat = iat;
  claims.exp = exp;
  return claims;
}

std::string HeaderKid(std::string_view token) {
  json::error_code ec;
  json::value header = json::parse(Unb64(token.substr(0, token.find('.'))), ec);
  const json::value* kid = ec ? nullptr : header.as_object().if_contains("kid");
  return kid && kid->is_string() ? std::string(kid->get_string()) : "";
}

std::string HmacSha256(std::string_view secret, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// ---- RFC 8037 vectors -----------------------------------------------------------------------

TEST(JwtRfc8037Test, PublicKeyDerivedFromPrivateKey) {
  Result<SigningKey> key = SigningKey::FromPrivateKeyBytes(Unb64(kRfcD));
  ASSERT_OK(key);
  EXPECT_TRUE(key->can_sign());
  EXPECT_EQ(Base64UrlEncode(key->public_key()), kRfcX);
}

TEST(JwtRfc8037Test, JwkThumbprintIsKid) {
  EXPECT_EQ(Ed25519JwkThumbprint(Unb64(kRfcX)), kRfcThumbprint);
  Result<SigningKey> key = SigningKey::FromPrivateKeyBytes(Unb64(kRfcD));
  ASSERT_OK(key);
  EXPECT_EQ(key->kid(), kRfcThumbprint);
}

TEST(JwtRfc8037Test, SignatureMatchesByteForByte) {
  EXPECT_EQ(Base64UrlEncode(R"({"alg":"EdDSA"})"), "eyJhbGciOiJFZERTQSJ9");
  EXPECT_EQ(Base64UrlEncode("Example of Ed25519 signing"), "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
  Result<SigningKey> key = SigningKey::FromPrivateKeyBytes(Unb64(kRfcD));
  ASSERT_OK(key);
  Result<std::string> signature = key->Sign(kRfcSigningInput);
  ASSERT_OK(signature);
  EXPECT_EQ(Base64UrlEncode(*signature), kRfcSignature);
}

TEST(JwtRfc8037Test, PublicJwkVerifiesVector) {
  Result<SigningKey> key =
      SigningKey::FromPublicJwk(std::string(R"({"kty":"OKP","crv":"Ed25519","x":")") + std::string(kRfcX) + "\"}");
  ASSERT_OK(key);
  EXPECT_FALSE(key->can_sign());
  EXPECT_EQ(key->kid(), kRfcThumbprint);
  EXPECT_TRUE(key->Verify(kRfcSigningInput, Unb64(kRfcSignature)));
  std::string altered(kRfcSigningInput);
  altered.back() = 'h';
  EXPECT_FALSE(key->Verify(altered, Unb64(kRfcSignature)));
  EXPECT_FALSE(key->Verify(kRfcSigningInput, Unb64(kRfcSignature).substr(1)));
}

// ---- base64url --------------------------------------------------------------------------------

TEST(JwtBase64UrlTest, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    EXPECT_EQ(Base64UrlDecode(encoded), std::optional<std::string>(plain));
  }
}

TEST(JwtBase64UrlTest, RoundTripsEveryLength) {
  std::mt19937 rng(7);
  for (std::size_t len = 0; len < 100; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), std::optional<std::string>(bytes));
  }
}

TEST(JwtBase64UrlTest, RejectsNonCanonicalInput) {
  for (std::string_view bad : {"Zg==", "Zm8=", "Z", "Zm9vY", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n", "Zh", "Zm9",
                               "Zm9v\xc3\xa9"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)).has_value());
}

// ---- SigningKey -------------------------------------------------------------------------------

TEST(JwtSigningKeyTest, GeneratedKeysSignAndVerify) {
  SigningKey a = NewKey();
  SigningKey b = NewKey();
  EXPECT_NE(a.kid(), b.kid());
  EXPECT_EQ(a.kid(), Ed25519JwkThumbprint(a.public_key()));
  EXPECT_EQ(a.public_key().size(), SigningKey::kPublicKeySize);
  Result<std::string> sig = a.Sign("message");
  ASSERT_OK(sig);
  EXPECT_EQ(sig->size(), SigningKey::kSignatureSize);
  EXPECT_TRUE(a.Verify("message", *sig));
  EXPECT_FALSE(a.Verify("messagf", *sig));
  EXPECT_FALSE(b.Verify("message", *sig));
}

TEST(JwtSigningKeyTest, PrivateKeyPemRoundTrip) {
  SigningKey key = NewKey();
  Result<std::string> pem = key.PrivateKeyPem();
  ASSERT_OK(pem);
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  Result<SigningKey> loaded = SigningKey::FromPrivateKeyPem(*pem);
  ASSERT_OK(loaded);
  EXPECT_TRUE(loaded->can_sign());
  EXPECT_EQ(loaded->kid(), key.kid());
  EXPECT_EQ(loaded->public_key(), key.public_key());
  // Ed25519 is deterministic: same key, same message, same signature.
  Result<std::string> s1 = key.Sign("m");
  Result<std::string> s2 = loaded->Sign("m");
  ASSERT_OK(s1);
  ASSERT_OK(s2);
  EXPECT_EQ(*s1, *s2);
}

TEST(JwtSigningKeyTest, RefusesEncryptedForeignAndGarbagePem) {
  SigningKey key = NewKey();
  Result<std::string> pem = key.PrivateKeyPem();
  ASSERT_OK(pem);

  // The same key, passphrase-protected: refused without prompting on the terminal.
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr),
                                                           EVP_PKEY_free);
  ASSERT_NE(pkey, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  char pass[] = "correct horse";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), pkey.get(), EVP_aes_256_cbc(), pass, sizeof pass - 1, nullptr,
                                          nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  std::string encrypted(data, static_cast<std::size_t>(len));
  ASSERT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  EXPECT_FALSE(SigningKey::FromPrivateKeyPem(encrypted).ok());

  // A P-256 key is a valid PKCS#8 key of the wrong type.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                         EVP_PKEY_free);
  ASSERT_NE(ec, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> ec_out(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(ec_out.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  len = BIO_get_mem_data(ec_out.get(), &data);
  Result<SigningKey> wrong_type = SigningKey::FromPrivateKeyPem(std::string(data, static_cast<std::size_t>(len)));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, ErrorCode::kInvalidArgument);

  EXPECT_FALSE(SigningKey::FromPrivateKeyPem("").ok());
  EXPECT_FALSE(SigningKey::FromPrivateKeyPem("hello").ok());
  EXPECT_FALSE(SigningKey::FromPrivateKeyPem(pem->substr(0, pem->size() / 2)).ok());
  EXPECT_FALSE(SigningKey::FromPrivateKeyBytes("short").ok());
}

TEST(JwtSigningKeyTest, PublicJwkRoundTripIsVerifyOnly) {
  SigningKey key = NewKey();
  json::error_code ec;
  json::value jwk = json::parse(key.PublicJwk(), ec);
  ASSERT_FALSE(ec);
  const json::object& obj = jwk.as_object();
  EXPECT_EQ(obj.size(), 6u);
  auto member = [&](const char* name) -> std::string {
    const json::value* v = obj.if_contains(name);
    return v && v->is_string() ? std::string(v->get_string()) : "<missing>";
  };
  EXPECT_EQ(member("kty"), "OKP");
  EXPECT_EQ(member("crv"), "Ed25519");
  EXPECT_EQ(member("alg"), "EdDSA");
  EXPECT_EQ(member("use"), "sig");
  EXPECT_EQ(member("kid"), key.kid());
  EXPECT_EQ(Unb64(member("x")), key.public_key());
  EXPECT_FALSE(obj.contains("d"));

  Result<SigningKey> pub = SigningKey::FromPublicJwk(key.PublicJwk());
  ASSERT_OK(pub);
  EXPECT_FALSE(pub->can_sign());
  EXPECT_EQ(pub->kid(), key.kid());
  EXPECT_FALSE(pub->Sign("m").ok());
  EXPECT_FALSE(pub->PrivateKeyPem().ok());
  Result<std::string> sig = key.Sign("m");
  ASSERT_OK(sig);
  EXPECT_TRUE(pub->Verify("m", *sig));
}

TEST(JwtSigningKeyTest, PublicJwkRejectsWrongKeys) {
  const std::string x(kRfcX);
  for (const std::string& bad : std::vector<std::string>{
           "not json",
           "[]",
           R"({"kty":"EC","crv":"Ed25519","x":")" + x + "\"}",
           R"({"kty":"OKP","crv":"X25519","x":")" + x + "\"}",
           R"({"kty":"OKP","crv":"Ed25519"})",
           R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})",
           R"({"kty":"OKP","crv":"Ed25519","x":")" + x + "=\"}",
           R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","d":")" + std::string(kRfcD) + "\"}",
           R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","alg":"RS256"})",
           R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","use":"enc"})",
           R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","kid":"someone-else"})",
       }) {
    EXPECT_FALSE(SigningKey::FromPublicJwk(bad).ok()) << bad;
  }
  EXPECT_OK(SigningKey::FromPublicJwk(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","kid":")" +
                                      std::string(kRfcThumbprint) + "\"}"));
}

// ---- access tokens ----------------------------------------------------------------------------

class JwtVerifyTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kNow = 1'700'000'000;

  JwtVerifyTest() {
    options_.issuer = "https://veza.test";
    options_.audience = "veza-api";
    EXPECT_OK(ring_.Rotate(NewKey()));
    key_ = ring_.ActiveKey();
  }

  json::object Header() const { return {{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", key_->kid()}}; }
  json::object Payload() const {
    return {{"iss", options_.issuer}, {"aud", options_.audience}, {"sub", "user-1"}, {"iat", kNow},
            {"exp", kNow + 900},      {"jti", "jti-1"},           {"role", "user"},  {"sid", "session-1"}};
  }
  std::string Craft(const json::object& header, const json::object& payload) const {
    return SignCompact(*key_, json::serialize(header), json::serialize(payload));
  }
  std::string CraftPayload(const json::object& payload) const { return Craft(Header(), payload); }
  std::string CraftHeader(const json::object& header) const { return Craft(header, Payload()); }

  // The rejection reason, after checking that the failure looks the same as every other one.
  JwtRejection Why(std::string_view token, std::int64_t now = kNow) const {
    JwtRejection why = JwtRejection::kNone;
    Result<AccessClaims> claims = VerifyAccessToken(ring_, options_, token, now, &why);
    if (claims.ok()) {
      EXPECT_EQ(why, JwtRejection::kNone);
      return JwtRejection::kNone;
    }
    EXPECT_EQ(claims.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(claims.error().message, "invalid or expired access token");
    EXPECT_NE(why, JwtRejection::kNone);
    return why;
  }

  KeyRing ring_;
  JwtOptions options_;
  std::shared_ptr<const SigningKey> key_;
};

TEST_F(JwtVerifyTest, RoundTrip) {
  AccessClaims in = Claims("user-42", "moderator");
  in.sid = "session-9";
  Result<IssuedAccessToken> issued = IssueAccessToken(ring_, options_, in, kNow);
  ASSERT_OK(issued);
  EXPECT_EQ(issued->claims.iat, kNow);
  EXPECT_EQ(issued->claims.exp, kNow + 900);
  EXPECT_EQ(issued->claims.jti.size(), 22u);  // 128 bits, base64url

  Result<AccessClaims> out = VerifyAccessToken(ring_, options_, issued->token, kNow + 10);
  ASSERT_OK(out);
  EXPECT_EQ(out->sub, "user-42");
  EXPECT_EQ(out->role, "moderator");
  EXPECT_EQ(out->sid, "session-9");
  EXPECT_EQ(out->jti, issued->claims.jti);
  EXPECT_EQ(out->iat, kNow);
  EXPECT_EQ(out->exp, kNow + 900);

  // The header is exactly what RFC 9068 asks for, and the payload carries every claim.
  const std::string_view token = issued->token;
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  EXPECT_EQ(Unb64(token.substr(0, dot1)), R"({"alg":"EdDSA","typ":"at+jwt","kid":")" + key_->kid() + "\"}");
  json::error_code ec;
  json::value payload = json::parse(Unb64(token.substr(dot1 + 1, dot2 - dot1 - 1)), ec);
  ASSERT_FALSE(ec);
  for (const char* claim : {"iss", "aud", "sub", "iat", "exp", "jti", "role", "sid"}) {
    EXPECT_TRUE(payload.as_object().contains(claim)) << claim;
  }

  Result<IssuedAccessToken> second = IssueAccessToken(ring_, options_, in, kNow);
  ASSERT_OK(second);
  EXPECT_NE(second->claims.jti, issued->claims.jti);
}

TEST_F(JwtVerifyTest, SignAccessTokenUsesTheSystemClock) {
  Result<std::string> token = SignAccessToken(ring_, options_, Claims("u"));
  ASSERT_OK(token);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_OK(VerifyAccessToken(ring_, options_, *token, now));
  EXPECT_FALSE(VerifyAccessToken(ring_, options_, *token, now + 900 + 31).ok());
}

TEST_F(JwtVerifyTest, SigningRefusesBadInput) {
  Result<IssuedAccessToken> no_sub = IssueAccessToken(ring_, options_, AccessClaims{}, kNow);
  ASSERT_FALSE(no_sub.ok());
  EXPECT_EQ(no_sub.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(IssueAccessToken(ring_, options_, Claims("u", "", kNow, kNow), kNow).ok());
  JwtOptions no_issuer = options_;
  no_issuer.issuer.clear();
  EXPECT_FALSE(IssueAccessToken(ring_, no_issuer, Claims("u"), kNow).ok());
  Result<IssuedAccessToken> huge =
      IssueAccessToken(ring_, options_, Claims(std::string(4000, 'u')), kNow);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JwtVerifyTest, CraftedBaselineVerifies) {
  // The control for every crafted-token test below: unchanged, it is accepted.
  EXPECT_EQ(Why(Craft(Header(), Payload())), JwtRejection::kNone);
  json::object header = Header();
  header["typ"] = "application/at+jwt";  // RFC 9068 §4 allows the full media type
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kNone);
  json::object payload = Payload();
  payload.erase("role");
  payload.erase("sid");
  payload["ext"] = json::object{{"a", 1}};
  payload["ext2"] = json::object{{"a", 2}};  // the same name in different objects is fine
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kNone);
}

TEST_F(JwtVerifyTest, ExpiryHonoursLeewayExactly) {
  Result<IssuedAccessToken> issued = IssueAccessToken(ring_, options_, Claims("u"), kNow);
  ASSERT_OK(issued);
  const std::int64_t exp = issued->claims.exp;
  EXPECT_EQ(Why(issued->token, exp + 29), JwtRejection::kNone);
  EXPECT_EQ(Why(issued->token, exp + 30), JwtRejection::kExpired);
  EXPECT_EQ(Why(issued->token, exp + 86400), JwtRejection::kExpired);

  json::object payload = Payload();
  payload["exp"] = kNow - 3600;
  payload["iat"] = kNow - 7200;
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kExpired);
}

TEST_F(JwtVerifyTest, NotYetValidBeyondLeeway) {
  Result<IssuedAccessToken> issued = IssueAccessToken(ring_, options_, Claims("u"), kNow);
  ASSERT_OK(issued);
  EXPECT_EQ(Why(issued->token, kNow - 30), JwtRejection::kNone);
  EXPECT_EQ(Why(issued->token, kNow - 31), JwtRejection::kNotYetValid);

  json::object payload = Payload();
  payload["nbf"] = kNow + 600;
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kNotYetValid);
  payload["nbf"] = kNow - 1;
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kNone);
  payload["nbf"] = "soon";
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kClaims);
}

TEST_F(JwtVerifyTest, WrongAudienceOrIssuer) {
  Result<IssuedAccessToken> issued = IssueAccessToken(ring_, options_, Claims("u"), kNow);
  ASSERT_OK(issued);
  JwtOptions other = options_;
  other.audience = "veza-admin";
  JwtRejection why = JwtRejection::kNone;
  EXPECT_FALSE(VerifyAccessToken(ring_, other, issued->token, kNow, &why).ok());
  EXPECT_EQ(why, JwtRejection::kAudience);
  other = options_;
  other.issuer = "https://evil.test";
  EXPECT_FALSE(VerifyAccessToken(ring_, other, issued->token, kNow, &why).ok());
  EXPECT_EQ(why, JwtRejection::kIssuer);

  json::object payload = Payload();
  payload["iss"] = "https://veza.test/";  // near misses are misses
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kIssuer);
  payload = Payload();
  payload.erase("iss");
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kIssuer);

  payload = Payload();
  payload["aud"] = json::array{"other", "veza-api"};
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kNone);
  payload["aud"] = json::array{"other", "veza-apis"};
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kAudience);
  payload["aud"] = json::array{};
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kAudience);
  payload["aud"] = json::array{"veza-api", 7};
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kAudience);
  payload["aud"] = 7;
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kAudience);
  payload.erase("aud");
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kAudience);
}

TEST_F(JwtVerifyTest, TypMustBeAtJwt) {
  json::object header = Header();
  header["typ"] = "JWT";
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kType);
  header["typ"] = "at+jwt ";
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kType);
  header["typ"] = json::array{"at+jwt"};
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kType);
  header.erase("typ");
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kType);
}

TEST_F(JwtVerifyTest, AlgNoneRejected) {
  json::object header = Header();
  header["alg"] = "none";
  const std::string unsecured =
      Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(Payload())) + ".";
  EXPECT_EQ(Why(unsecured), JwtRejection::kMalformed);
  // Even with a (valid EdDSA) signature attached, "none" is not on the allowlist.
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kAlgorithm);
  for (const char* alg : {"None", "NONE", "eddsa", "EdDSA ", "Ed25519", "ES256", "RS256", "PS256", "HS512", ""}) {
    header["alg"] = alg;
    EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kAlgorithm) << alg;
  }
  header["alg"] = json::array{"EdDSA"};
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kAlgorithm);
  header.erase("alg");
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kAlgorithm);
}

TEST_F(JwtVerifyTest, Hs256WithPublicKeyAsSecretRejected) {
  // The classic confusion: a verifier that picks the algorithm from the header would check an
  // HMAC keyed with the (public!) verification key. Try every form the public key takes.
  json::object header = Header();
  header["alg"] = "HS256";
  const std::string input =
      Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(Payload()));
  for (const std::string& secret :
       {key_->public_key(), Base64UrlEncode(key_->public_key()), key_->PublicJwk(), ring_.Jwks()}) {
    const std::string token = input + "." + Base64UrlEncode(HmacSha256(secret, input));
    EXPECT_EQ(Why(token), JwtRejection::kAlgorithm);
  }
}

TEST_F(JwtVerifyTest, EverySingleCharacterTamperRejected) {
  Result<IssuedAccessToken> issued =
      IssueAccessToken(ring_, options_, Claims("u", "user"), kNow);
  ASSERT_OK(issued);
  const std::string& token = issued->token;
  ASSERT_EQ(Why(token), JwtRejection::kNone);
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = token[i] == 'A' ? 'B' : 'A';
    EXPECT_NE(Why(tampered), JwtRejection::kNone) << "position " << i;
  }
  // A meaningful edit of the payload, re-encoded cleanly, keeping the original signature.
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  std::string payload = Unb64(std::string_view(token).substr(dot1 + 1, dot2 - dot1 - 1));
  const std::size_t role = payload.find(R"("role":"user")");
  ASSERT_NE(role, std::string::npos);
  payload.replace(role, 13, R"("role":"admin")");
  const std::string escalated = token.substr(0, dot1 + 1) + Base64UrlEncode(payload) + token.substr(dot2);
  EXPECT_EQ(Why(escalated), JwtRejection::kSignature);
  // A signature from the right key over different content.
  const std::string other = Craft(Header(), Payload());
  EXPECT_EQ(Why(token.substr(0, dot2) + other.substr(other.rfind('.'))), JwtRejection::kSignature);
}

TEST_F(JwtVerifyTest, UnknownOrMissingKidRejected) {
  SigningKey stranger = NewKey();
  json::object header = Header();
  header["kid"] = stranger.kid();
  EXPECT_EQ(Why(SignCompact(stranger, json::serialize(header), json::serialize(Payload()))),
            JwtRejection::kUnknownKey);
  // A stranger's signature under our kid.
  EXPECT_EQ(Why(SignCompact(stranger, json::serialize(Header()), json::serialize(Payload()))),
            JwtRejection::kSignature);
  header["kid"] = 1;
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kUnknownKey);
  header.erase("kid");
  EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kUnknownKey);
}

TEST_F(JwtVerifyTest, KeyReferencingAndCritHeadersRejected) {
  // Embedded-key attack (CVE-2018-0114 style): the attacker signs with their own key and
  // ships its public half in "jwk".
  SigningKey attacker = NewKey();
  json::object header = Header();
  header["jwk"] = attacker.PublicJwkObject();
  EXPECT_EQ(Why(SignCompact(attacker, json::serialize(header), json::serialize(Payload()))),
            JwtRejection::kForbiddenHeader);
  header["kid"] = attacker.kid();
  EXPECT_EQ(Why(SignCompact(attacker, json::serialize(header), json::serialize(Payload()))),
            JwtRejection::kForbiddenHeader);

  const std::pair<const char*, json::value> forbidden[] = {
      {"crit", json::array{"exp"}},
      {"jku", "https://evil.test/jwks.json"},
      {"x5u", "https://evil.test/cert.pem"},
      {"x5c", json::array{"MIIB"}},
  };
  for (const auto& [name, value] : forbidden) {
    header = Header();
    header[name] = value;
    EXPECT_EQ(Why(CraftHeader(header)), JwtRejection::kForbiddenHeader) << name;
  }
}

TEST_F(JwtVerifyTest, DuplicateMemberNamesRejected) {
  const std::string kid = key_->kid();
  const std::string payload = json::serialize(Payload());
  // Boost.JSON alone would keep the last "alg"; another parser may keep the first.
  EXPECT_EQ(Why(SignCompact(*key_, R"({"alg":"none","alg":"EdDSA","typ":"at+jwt","kid":")" + kid + "\"}", payload)),
            JwtRejection::kMalformed);
  const std::string header = json::serialize(Header());
  std::string dup = payload;
  dup.insert(1, R"("sub":"admin",)");
  EXPECT_EQ(Why(SignCompact(*key_, header, dup)), JwtRejection::kMalformed);
  dup = payload;
  dup.insert(1, R"("\u0073ub":"admin",)");  // the same name once unescaped
  EXPECT_EQ(Why(SignCompact(*key_, header, dup)), JwtRejection::kMalformed);
  dup = payload;
  dup.insert(1, R"("ext":{"a":1,"a":2},)");
  EXPECT_EQ(Why(SignCompact(*key_, header, dup)), JwtRejection::kMalformed);
}

TEST_F(JwtVerifyTest, ClaimTypesChecked) {
  struct Case {
    const char* name;
    json::value value;  // null here means "remove the claim"
  };
  const Case cases[] = {
      {"exp", "1700000900"}, {"exp", 1.7000009e9}, {"exp", nullptr},   {"exp", true},
      {"iat", nullptr},      {"iat", "1700000000"}, {"sub", ""},        {"sub", 42},
      {"sub", nullptr},      {"jti", nullptr},      {"jti", ""},        {"jti", json::array{"x"}},
      {"role", 3},           {"sid", false},        {"role", json::object{}},
  };
  for (const Case& c : cases) {
    json::object payload = Payload();
    if (c.value.is_null()) {
      payload.erase(c.name);
    } else {
      payload[c.name] = c.value;
    }
    EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kClaims) << c.name << "=" << json::serialize(c.value);
  }
  json::object payload = Payload();
  payload["sid"] = nullptr;  // present but null is not "absent"
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kClaims);
  payload = Payload();
  payload["exp"] = kNow;  // exp <= iat
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kClaims);
  payload = Payload();
  payload["exp"] = json::value(std::uint64_t{18446744073709551615u});
  EXPECT_EQ(Why(CraftPayload(payload)), JwtRejection::kClaims);
}

TEST_F(JwtVerifyTest, MalformedTokensRejectedWithoutCrashing) {
  Result<IssuedAccessToken> issued = IssueAccessToken(ring_, options_, Claims("u"), kNow);
  ASSERT_OK(issued);
  const std::string& good = issued->token;
  const std::size_t dot1 = good.find('.');
  const std::size_t dot2 = good.find('.', dot1 + 1);
  const std::string h = good.substr(0, dot1);
  const std::string p = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = good.substr(dot2 + 1);

  const std::string bad[] = {
      "",
      ".",
      "..",
      "...",
      h + "." + p,
      h + "." + p + "." + s + "." + s,
      h + "." + p + "." + s + ".",
      "." + p + "." + s,
      h + ".." + s,
      h + "." + p + ".",
      h + "=." + p + "." + s,
      h + "." + p + "." + s + "==",
      h + "." + p + "." + s + "=",
      h + "." + p + "+." + s,
      h + "." + p + "." + s.substr(0, s.size() - 1) + "/",
      h + "." + p + "." + s + "\n",
      " " + good,
      "Bearer " + good,
      h + "." + p + "." + s.substr(0, 40),
      std::string(good).insert(dot1, "\xc3\xa9"),
      std::string(good).replace(3, 1, std::string(1, '\0')),
      Base64UrlEncode("hello") + "." + p + "." + s,
      Base64UrlEncode("[]") + "." + p + "." + s,
      Base64UrlEncode("null") + "." + p + "." + s,
      Base64UrlEncode("\"EdDSA\"") + "." + p + "." + s,
      Base64UrlEncode(R"({"alg":"EdDSA","typ":"at+jwt"} x)") + "." + p + "." + s,
      Base64UrlEncode(R"({"alg":"EdDSA",})") + "." + p + "." + s,
      Base64UrlEncode(R"({"alg":"EdDSA"/*c*/})") + "." + p + "." + s,
      Base64UrlEncode(std::string(100, '[')) + "." + p + "." + s,
      Base64UrlEncode(R"({"alg":"EdDSA","typ":"at+jwt","kid":"\xff"})") + "." + p + "." + s,
  };
  for (const std::string& token : bad) {
    EXPECT_NE(Why(token), JwtRejection::kNone) << token;
  }
  // Correctly signed, but the payload is not a JSON object.
  for (const char* payload : {"[]", "\"sub\"", "{", "", "{\"sub\":\"u\"} {}"}) {
    EXPECT_EQ(Why(SignCompact(*key_, json::serialize(Header()), payload)), JwtRejection::kMalformed) << payload;
  }
}

TEST_F(JwtVerifyTest, OversizedTokenRejectedEvenWhenValidlySigned) {
  json::object payload = Payload();
  payload["pad"] = std::string(2600, 'x');
  const std::string large = CraftPayload(payload);
  ASSERT_LT(large.size(), kMaxAccessTokenSize);
  EXPECT_EQ(Why(large), JwtRejection::kNone);
  payload["pad"] = std::string(3200, 'x');
  const std::string too_large = CraftPayload(payload);
  ASSERT_GT(too_large.size(), kMaxAccessTokenSize);
  EXPECT_EQ(Why(too_large), JwtRejection::kMalformed);
  EXPECT_EQ(Why(std::string(1 << 20, 'A')), JwtRejection::kMalformed);
}

TEST_F(JwtVerifyTest, RandomGarbageNeverVerifies) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"";
  std::mt19937 rng(12345);
  const std::string good = *SignAccessToken(ring_, options_, Claims("u"));
  for (int i = 0; i < 20000; ++i) {
    std::string token;
    if (i % 2 == 0) {
      token.resize(rng() % 300);
      for (char& c : token) c = kChars[rng() % (sizeof kChars - 1)];
    } else {  // mutate a real token: truncate, splice or overwrite a few bytes
      token = good.substr(0, rng() % (good.size() + 1));
      for (int k = rng() % 4; k > 0 && !token.empty(); --k) token[rng() % token.size()] = static_cast<char>(rng());
    }
    EXPECT_NE(Why(token), JwtRejection::kNone) << token;
  }
}

// ---- KeyRing ----------------------------------------------------------------------------------

JwtOptions TestOptions() {
  JwtOptions options;
  options.issuer = "https://veza.test";
  options.audience = "veza-api";
  return options;
}

TEST(KeyRingTest, EmptyRingNeitherSignsNorVerifies) {
  KeyRing ring;
  EXPECT_EQ(ring.ActiveKey(), nullptr);
  Result<std::string> token = SignAccessToken(ring, TestOptions(), Claims("u"));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, ErrorCode::kInternal);

  KeyRing other;
  ASSERT_OK(other.Rotate(NewKey()));
  Result<IssuedAccessToken> issued = IssueAccessToken(other, TestOptions(), Claims("u"), 100);
  ASSERT_OK(issued);
  JwtRejection why = JwtRejection::kNone;
  EXPECT_FALSE(VerifyAccessToken(ring, TestOptions(), issued->token, 100, &why).ok());
  EXPECT_EQ(why, JwtRejection::kUnknownKey);
}

TEST(KeyRingTest, OldKeyVerifiesUntilDropped) {
  KeyRing ring;
  const JwtOptions options = TestOptions();
  ASSERT_OK(ring.Rotate(NewKey()));
  const std::string old_kid = ring.ActiveKey()->kid();
  Result<IssuedAccessToken> old_token = IssueAccessToken(ring, options, Claims("u"), 1000);
  ASSERT_OK(old_token);

  ASSERT_OK(ring.Rotate(NewKey()));
  const std::string new_kid = ring.ActiveKey()->kid();
  ASSERT_NE(new_kid, old_kid);
  EXPECT_EQ(ring.Kids(), (std::vector<std::string>{new_kid, old_kid}));
  Result<IssuedAccessToken> new_token = IssueAccessToken(ring, options, Claims("u"), 1000);
  ASSERT_OK(new_token);
  EXPECT_EQ(HeaderKid(old_token->token), old_kid);
  EXPECT_EQ(HeaderKid(new_token->token), new_kid);
  EXPECT_OK(VerifyAccessToken(ring, options, old_token->token, 1000));
  EXPECT_OK(VerifyAccessToken(ring, options, new_token->token, 1000));

  // The active key cannot be dropped; the old one can.
  Status remove_active = ring.Remove(new_kid);
  ASSERT_FALSE(remove_active.ok());
  EXPECT_EQ(remove_active.error().code, ErrorCode::kInvalidArgument);
  ASSERT_OK(ring.Remove(old_kid));
  Status again = ring.Remove(old_kid);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);

  JwtRejection why = JwtRejection::kNone;
  EXPECT_FALSE(VerifyAccessToken(ring, options, old_token->token, 1000, &why).ok());
  EXPECT_EQ(why, JwtRejection::kUnknownKey);
  EXPECT_OK(VerifyAccessToken(ring, options, new_token->token, 1000));
}

TEST(KeyRingTest, PrePublishedKeyIsPromotedOnRotate) {
  KeyRing ring;
  ASSERT_OK(ring.Rotate(NewKey()));
  SigningKey next = NewKey();
  Result<std::string> next_pem = next.PrivateKeyPem();
  ASSERT_OK(next_pem);
  Result<SigningKey> next_public = SigningKey::FromPublicJwk(next.PublicJwk());
  ASSERT_OK(next_public);

  // A verify-only key can be published but never made the signer.
  Result<SigningKey> next_public_copy = SigningKey::FromPublicJwk(next.PublicJwk());
  ASSERT_OK(next_public_copy);
  EXPECT_FALSE(ring.Rotate(std::move(next_public_copy).value()).ok());

  ASSERT_OK(ring.AddVerificationKey(std::move(next_public).value()));
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_NE(ring.ActiveKey()->kid(), next.kid());
  EXPECT_NE(ring.Jwks().find(next.kid()), std::string::npos);

  Result<SigningKey> reloaded = SigningKey::FromPrivateKeyPem(*next_pem);
  ASSERT_OK(reloaded);
  ASSERT_OK(ring.Rotate(std::move(reloaded).value()));
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.ActiveKey()->kid(), next.kid());
  EXPECT_TRUE(ring.ActiveKey()->can_sign());
  EXPECT_OK(SignAccessToken(ring, TestOptions(), Claims("u")));
}

TEST(KeyRingTest, JwksListsEveryKeyWithoutPrivateParts) {
  KeyRing ring;
  for (int i = 0; i < 3; ++i) ASSERT_OK(ring.Rotate(NewKey()));
  const std::string jwks = ring.Jwks();
  json::error_code ec;
  json::value parsed = json::parse(jwks, ec);
  ASSERT_FALSE(ec) << jwks;
  const json::array& keys = parsed.at("keys").as_array();
  ASSERT_EQ(keys.size(), 3u);
  std::vector<std::string> kids;
  for (const json::value& jwk : keys) {
    kids.emplace_back(jwk.at("kid").as_string());
    EXPECT_FALSE(jwk.as_object().contains("d"));
    Result<SigningKey> key = SigningKey::FromPublicJwk(json::serialize(jwk));
    ASSERT_OK(key);
    EXPECT_EQ(key->kid(), kids.back());
    EXPECT_EQ(ring.Find(kids.back())->public_key(), key->public_key());
  }
  EXPECT_EQ(kids, ring.Kids());
  EXPECT_EQ(KeyRing().Jwks(), R"({"keys":[]})");
}

TEST(KeyRingTest, ConcurrentSignVerifyWithRotation) {
  KeyRing ring;
  const JwtOptions options = TestOptions();
  ASSERT_OK(ring.Rotate(NewKey()));
  const std::string first_kid = ring.ActiveKey()->kid();
  constexpr int kThreads = 8;
  constexpr int kIterations = 200;
  std::atomic<int> signed_count{0};
  std::atomic<int> failures{0};
  std::atomic<int> ready{0};
  std::atomic<bool> rotated{false};
  std::vector<std::set<std::string>> kids_seen(kThreads);

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string first_token;
      for (int i = 0; i < kIterations; ++i) {
        // Every thread has signed with the first key before the rotation may happen, keeps
        // working while it happens, and waits for it half-way so it also signs with the second.
        if (i == kIterations / 4) ++ready;
        if (i == kIterations / 2) {
          while (!rotated.load()) std::this_thread::yield();
        }
        const std::string sub = "user-" + std::to_string(t) + "-" + std::to_string(i);
        Result<IssuedAccessToken> issued = IssueAccessToken(ring, options, Claims(sub), 5000);
        if (!issued.ok()) {
          ++failures;
          continue;
        }
        ++signed_count;
        if (first_token.empty()) first_token = issued->token;
        Result<AccessClaims> claims = VerifyAccessToken(ring, options, issued->token, 5000);
        if (!claims.ok() || claims->sub != sub) ++failures;
        kids_seen[t].insert(HeaderKid(issued->token));
      }
      // Tokens from before the rotation still verify after it.
      if (!VerifyAccessToken(ring, options, first_token, 5000).ok()) ++failures;
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  ASSERT_OK(ring.Rotate(NewKey()));
  (void)ring.Jwks();  // readers of the JWKS run alongside too
  rotated.store(true);
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(signed_count.load(), kThreads * kIterations);
  EXPECT_EQ(ring.size(), 2u);
  for (const auto& seen : kids_seen) EXPECT_EQ(seen.size(), 2u);  // signed with the old and the new key
  EXPECT_NE(ring.ActiveKey()->kid(), first_kid);
}

}  // namespace
}  // namespace veza::auth
