#include "services/auth/secret_box.h"

#include <sodium.h>

#include "base/digest.h"
#include "services/auth/signing_keys.h"

namespace veza::auth {

namespace {
constexpr std::string_view kPrefix = "v1.";
}

std::string SecretBox::KeyId(std::string_view key) { return Sha256Hex(key).substr(0, 16); }

std::string SecretBox::NewKey() {
  if (sodium_init() < 0) return {};
  std::string key(kKeySize, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

Result<SecretBox> SecretBox::Create(std::string primary_key,
                                    std::vector<std::string> previous_keys) {
  if (sodium_init() < 0) return Internal("libsodium could not start");
  SecretBox box;
  previous_keys.insert(previous_keys.begin(), std::move(primary_key));
  for (std::string& k : previous_keys) {
    if (k.size() != kKeySize)
      return InvalidArgument("a data key must be 32 bytes (base64 of 32 random bytes)");
    box.keys_.push_back({KeyId(k), std::move(k)});
  }
  box.key_id_ = box.keys_[0].id;
  return box;
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view ad) const {
  const Key& key = keys_[0];
  std::string out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);  // 192 bits: random is safe
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce,
      reinterpret_cast<const unsigned char*>(key.bytes.data()));
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len);
  return std::string(kPrefix) + key.id + "." + Base64UrlEncode(out);
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view ad) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return std::string(sealed);  // stored in clear
  std::string_view rest = sealed.substr(kPrefix.size());
  std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return Internal("unreadable sealed secret");
  std::string_view id = rest.substr(0, dot);
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == id) key = &k;
  }
  if (key == nullptr)
    return Internal("a secret is sealed under a data key this node does not have");
  auto raw = Base64UrlDecode(rest.substr(dot + 1));
  constexpr std::size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (!raw || raw->size() < kOverhead) return Internal("unreadable sealed secret");
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
  std::string plain(raw->size() - kOverhead, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
          nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          raw->size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
          reinterpret_cast<const unsigned char*>(key->bytes.data())) != 0) {
    return Internal("a sealed secret does not authenticate");
  }
  plain.resize(len);
  return plain;
}

bool SecretBox::NeedsReseal(std::string_view sealed) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return true;
  std::string_view rest = sealed.substr(kPrefix.size());
  return rest.substr(0, rest.find('.')) != keys_[0].id;
}

}  // namespace veza::auth
