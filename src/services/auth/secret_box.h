#pragma once
// Secrets at rest (TOTP secrets today): XChaCha20-Poly1305 (libsodium's IETF AEAD) under a
// 256-bit data key, with associated data binding each ciphertext to its row (the user id), so
// a sealed secret copied onto another account does not open.
//
// Sealed text: "v1.<key id>.<base64url(24-byte nonce || ciphertext || 16-byte tag)>", where
// the key id is the first 16 hex digits of SHA-256(key). Rotation: the newest key seals; older
// keys given as previous keys still open, and NeedsReseal tells which rows to re-seal (the auth
// service does it at startup), after which an old key can be dropped. Text without the "v1."
// prefix is a secret stored in clear by an older version; it opens as itself and needs
// resealing.
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza::auth {

class SecretBox {
 public:
  static constexpr std::size_t kKeySize = 32;

  // kInvalidArgument unless every key is kKeySize bytes.
  static Result<SecretBox> Create(std::string primary_key,
                                  std::vector<std::string> previous_keys = {});
  static std::string NewKey();  // 32 random bytes

  std::string Seal(std::string_view plaintext, std::string_view associated_data) const;
  // kInternal when the text names an unknown key or does not authenticate (tampered, wrong
  // row); never says more.
  Result<std::string> Open(std::string_view sealed, std::string_view associated_data) const;
  // True for clear text and for text sealed under a previous key.
  bool NeedsReseal(std::string_view sealed) const;
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key {
    std::string id;
    std::string bytes;
  };
  static std::string KeyId(std::string_view key);
  std::vector<Key> keys_;  // [0] seals
  std::string key_id_;
};

}  // namespace veza::auth
