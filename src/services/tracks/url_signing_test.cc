#include "services/tracks/url_signing.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <vector>

namespace veza::tracks {
namespace {

constexpr std::string_view kTrack = "0192f3a4-5b6c-7d8e-9f00-112233445566";

TEST(StreamTokens, IssuedTokensVerifyUntilTheyExpire) {
  StreamTokens tokens("k1");
  std::string owner = tokens.Issue(kTrack, TokenScope::kOwner, 2000);
  std::string listener = tokens.Issue(kTrack, TokenScope::kListener, 2000);
  EXPECT_EQ(*tokens.Verify(kTrack, owner, 1999), TokenScope::kOwner);
  EXPECT_EQ(*tokens.Verify(kTrack, listener, 1999), TokenScope::kListener);
  EXPECT_FALSE(tokens.Verify(kTrack, owner, 2000).ok());
  EXPECT_EQ(tokens.Verify(kTrack, owner, 2001).error().code, ErrorCode::kPermissionDenied);
}

TEST(StreamTokens, TamperedForeignOrMalformedTokensAreRefused) {
  StreamTokens tokens("k1");
  std::string t = tokens.Issue(kTrack, TokenScope::kListener, 2000);
  EXPECT_FALSE(tokens.Verify("0192f3a4-5b6c-7d8e-9f00-000000000000", t, 1).ok());  // other track
  EXPECT_FALSE(StreamTokens("k2").Verify(kTrack, t, 1).ok());                      // other secret
  std::string later = t;
  later.replace(1, 4, "9999");  // extend the expiry
  EXPECT_FALSE(tokens.Verify(kTrack, later, 1).ok());
  std::string promoted = t;
  promoted[0] = 'o';  // listener to owner
  EXPECT_FALSE(tokens.Verify(kTrack, promoted, 1).ok());
  for (std::string bad : std::vector<std::string>{"", "o", "o.", "x2000.ab", "o2000", "o-5.ab",
                                                  "o20x0." + t.substr(6)}) {
    EXPECT_FALSE(tokens.Verify(kTrack, bad, 1).ok()) << bad;
  }
}

std::string NewRsaKeyPem(EVP_PKEY** out) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  *out = key;
  return pem;
}

std::string Param(const std::string& url, const std::string& name) {
  auto pos = url.find(name + "=");
  if (pos == std::string::npos) return "";
  auto end = url.find('&', pos);
  return url.substr(pos + name.size() + 1,
                    end == std::string::npos ? std::string::npos : end - pos - name.size() - 1);
}

TEST(CloudFrontSigner, SignsTheCannedPolicyWithRsaSha1InCloudFrontBase64) {
  EVP_PKEY* key = nullptr;
  std::string pem = NewRsaKeyPem(&key);
  auto signer =
      CloudFrontSigner::Create("https://d111111abcdef8.cloudfront.net/", "K2JCJMDEHXQW5F", pem);
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  auto url = (*signer)->SignedUrl("tracks/abc/stream.m4a", 1767225600);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->substr(0, url->find('?')),
            "https://d111111abcdef8.cloudfront.net/tracks/abc/stream.m4a");
  EXPECT_EQ(Param(*url, "Expires"), "1767225600");
  EXPECT_EQ(Param(*url, "Key-Pair-Id"), "K2JCJMDEHXQW5F");
  std::string sig = Param(*url, "Signature");
  EXPECT_EQ(sig.find_first_of("+=/"), std::string::npos);

  // Undo CloudFront's substitutions and check the signature over the policy it rebuilds.
  for (char& c : sig) c = c == '-' ? '+' : c == '_' ? '=' : c == '~' ? '/' : c;
  std::string raw(sig.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                          reinterpret_cast<const unsigned char*>(sig.data()),
                          static_cast<int>(sig.size()));
  ASSERT_GT(n, 0);
  raw.resize(256);  // 2048-bit RSA signature; DecodeBlock counts padding as zero bytes
  std::string policy = CloudFrontSigner::CannedPolicy(
      "https://d111111abcdef8.cloudfront.net/tracks/abc/stream.m4a", 1767225600);
  EXPECT_EQ(
      policy,
      R"({"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/tracks/abc/stream.m4a",)"
      R"("Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]})");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha1(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                             reinterpret_cast<const unsigned char*>(policy.data()), policy.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
}

TEST(CloudFrontSigner, UrlSafeBase64UsesCloudFrontsCharacters) {
  EXPECT_EQ(CloudFrontSigner::UrlSafeBase64("\xfb\xff\xbf"), "-~-~");
  EXPECT_EQ(CloudFrontSigner::UrlSafeBase64("a"), "YQ__");
}

TEST(CloudFrontSigner, RefusesBadSettings) {
  EXPECT_FALSE(CloudFrontSigner::Create("ftp://x", "K", "").ok());
  EXPECT_FALSE(CloudFrontSigner::Create("https://x", "", "").ok());
  EXPECT_FALSE(CloudFrontSigner::Create("https://x", "K", "not a key").ok());
}

}  // namespace
}  // namespace veza::tracks
