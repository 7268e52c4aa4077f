#include "services/tracks/url_signing.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <charconv>

namespace veza::tracks {
namespace {

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

char ScopeChar(TokenScope s) { return s == TokenScope::kOwner ? 'o' : 'l'; }

}  // namespace

std::string StreamTokens::Mac(std::string_view track_id, char scope,
                              std::string_view expires) const {
  std::string message = std::string(track_id) + "|" + scope + "|" + std::string(expires);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return Hex(mac, len);
}

std::string StreamTokens::Issue(std::string_view track_id, TokenScope scope,
                                std::int64_t expires_unix) const {
  std::string expires = std::to_string(expires_unix);
  char s = ScopeChar(scope);
  return std::string(1, s) + expires + "." + Mac(track_id, s, expires);
}

Result<TokenScope> StreamTokens::Verify(std::string_view track_id, std::string_view token,
                                        std::int64_t now_unix) const {
  Error denied{ErrorCode::kPermissionDenied, "the stream link is invalid or expired"};
  if (token.size() < 3 || token.size() > 100 || (token[0] != 'o' && token[0] != 'l')) return denied;
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return denied;
  std::string_view expires = token.substr(1, dot - 1), mac = token.substr(dot + 1);
  std::int64_t when = 0;
  auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), when);
  if (ec != std::errc() || end != expires.data() + expires.size() || expires.empty()) return denied;
  std::string expected = Mac(track_id, token[0], expires);
  if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0)
    return denied;
  if (when <= now_unix) return denied;
  return token[0] == 'o' ? TokenScope::kOwner : TokenScope::kListener;
}

Result<std::string> LoadOrCreateStreamSecret(Database& db) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("random generator failed");
  VEZA_TRY(db.Query(
      "INSERT INTO instance_settings (key, value, updated_at) VALUES ('stream_url_secret', $1, $2) "
      "ON CONFLICT (key) DO NOTHING",
      {SqlText(Hex(bytes, sizeof bytes)), SqlText("created")}));
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db.Query("SELECT value FROM instance_settings WHERE key = 'stream_url_secret'"));
  if (r.rows.empty()) return Internal("stream URL secret missing");
  return r.rows[0].Text(0);
}

struct CloudFrontSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

CloudFrontSigner::~CloudFrontSigner() = default;

Result<std::unique_ptr<CloudFrontSigner>> CloudFrontSigner::Create(
    std::string base_url, std::string key_pair_id, std::string_view private_key_pem) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  if (base_url.rfind("https://", 0) != 0 && base_url.rfind("http://", 0) != 0) {
    return InvalidArgument("--cdn-base-url must be an http(s) URL");
  }
  if (key_pair_id.empty()) return InvalidArgument("--cdn-key-pair-id is empty");
  BIO* bio = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (pkey == nullptr || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return InvalidArgument("--cdn-private-key-file does not hold an RSA private key in PEM");
  }
  std::unique_ptr<CloudFrontSigner> s(new CloudFrontSigner());
  s->base_url_ = std::move(base_url);
  s->key_pair_id_ = std::move(key_pair_id);
  s->key_ = std::make_unique<Key>();
  s->key_->pkey = pkey;
  return s;
}

std::string CloudFrontSigner::CannedPolicy(std::string_view url, std::int64_t expires_unix) {
  return R"({"Statement":[{"Resource":")" + std::string(url) +
         R"(","Condition":{"DateLessThan":{"AWS:EpochTime":)" + std::to_string(expires_unix) +
         "}}}]}";
}

std::string CloudFrontSigner::UrlSafeBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) {
    if (c == '+')
      c = '-';
    else if (c == '=')
      c = '_';
    else if (c == '/')
      c = '~';
  }
  return out;
}

Result<std::string> CloudFrontSigner::SignedUrl(std::string_view path,
                                                std::int64_t expires_unix) const {
  std::string url = base_url_ + "/" + std::string(path);
  std::string policy = CannedPolicy(url, expires_unix);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string signature;
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha1(), nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(policy.data()),
                     policy.size()) == 1;
  if (ok) {
    signature.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &len,
                        reinterpret_cast<const unsigned char*>(policy.data()), policy.size()) == 1;
    signature.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("CloudFront signing failed");
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "Expires=" + std::to_string(expires_unix) + "&Signature=" + UrlSafeBase64(signature) +
         "&Key-Pair-Id=" + key_pair_id_;
}

}  // namespace veza::tracks
