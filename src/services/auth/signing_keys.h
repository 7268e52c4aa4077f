#pragma once
// Ed25519 signing keys for access tokens (RFC 8037 "EdDSA" JWS) and the key ring that rotates
// them. Keys are identified by their RFC 7638 JWK thumbprint, so a kid is derived from the key
// itself and two nodes that load the same PEM agree on it without extra configuration.
//
// Rotation (RFC 8725 §3.9 wants keys that can be replaced without downtime):
//   1. ring.AddVerificationKey(next)   optional: publish `next` in the JWKS before using it, so
//                                      verifiers that fetch the JWKS know it in advance;
//   2. ring.Rotate(next)               `next` signs from now on; the old active key stays as a
//                                      verify-only key, so tokens it signed keep working;
//   3. ring.Remove(old_kid)            once every token the old key signed has expired
//                                      (access-token ttl + leeway after step 2).
#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza::auth {

// base64url without padding (RFC 7515 §2, RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
// Strict inverse of Base64UrlEncode: rejects '=', whitespace, characters outside the url-safe
// alphabet, impossible lengths and non-zero trailing bits. The last rule makes the encoding
// canonical, so a token cannot be re-spelled into a second string that verifies (which would
// defeat de-duplication by token string and confuse logs).
std::optional<std::string> Base64UrlDecode(std::string_view text);

// RFC 7638 thumbprint of an Ed25519 OKP JWK: base64url(SHA-256 of
// {"crv":"Ed25519","kty":"OKP","x":"<base64url(public_key)>"}) with the members in that order.
std::string Ed25519JwkThumbprint(std::string_view raw_public_key);

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// One Ed25519 key: a full key pair, or a public key only (verify-only, e.g. imported from a
// JWK). Immutable after construction, so one instance may be used from many threads at once
// (OpenSSL 3 allows concurrent use of an EVP_PKEY that is not being modified).
class SigningKey {
 public:
  static constexpr std::size_t kPublicKeySize = 32;
  static constexpr std::size_t kPrivateKeySize = 32;
  static constexpr std::size_t kSignatureSize = 64;

  // A fresh key pair from the OpenSSL CSPRNG.
  static Result<SigningKey> Generate();
  // A PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") Ed25519 private key. Encrypted PEM is refused
  // rather than prompting for a passphrase on the terminal.
  static Result<SigningKey> FromPrivateKeyPem(std::string_view pem);
  // The raw 32-byte RFC 8032 private key (the JWK "d" member, decoded).
  static Result<SigningKey> FromPrivateKeyBytes(std::string_view raw_private_key);
  // A public OKP/Ed25519 JWK; the result can verify but not sign. A JWK carrying "d" is refused:
  // it means a private key was pasted where a public one belongs.
  static Result<SigningKey> FromPublicJwk(std::string_view jwk_json);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey() = default;

  // RFC 7638 thumbprint of the public key.
  const std::string& kid() const { return kid_; }
  // Raw 32-byte public key.
  const std::string& public_key() const { return public_key_; }
  bool can_sign() const { return has_private_; }

  // Unencrypted PKCS#8 PEM. It is a secret: callers keep it off logs and disks they do not
  // control (the intermediate OpenSSL buffer is in secure memory and wiped on free).
  Result<std::string> PrivateKeyPem() const;
  // {"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}; never "d".
  boost::json::object PublicJwkObject() const;
  std::string PublicJwk() const;

  // Raw 64-byte Ed25519 signature of `message` (deterministic, RFC 8032 PureEdDSA).
  Result<std::string> Sign(std::string_view message) const;
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  SigningKey(EvpPkeyPtr pkey, std::string public_key, bool has_private);
  static Result<SigningKey> FromPkey(EvpPkeyPtr pkey, bool has_private);

  EvpPkeyPtr pkey_;
  std::string public_key_;
  std::string kid_;
  bool has_private_ = false;
};

// The active signing key plus older verify-only keys. Sign and Verify take a shared lock only
// long enough to copy a shared_ptr, so a rotation never waits for a signature and a key that
// is removed mid-verification stays alive until that verification returns.
class KeyRing {
 public:
  KeyRing() = default;
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // Makes `key` the active signing key; the previous active key stays for verification.
  // A key already in the ring (same kid) is replaced and promoted. Fails if `key` cannot sign.
  Status Rotate(SigningKey key);
  // Adds a key that only verifies. No-op if a key with the same kid is already there.
  Status AddVerificationKey(SigningKey key);
  // Drops a key; its tokens stop verifying at once. The active key cannot be removed
  // (rotate first), so the ring never silently loses the ability to sign.
  Status Remove(std::string_view kid);

  // nullptr when no key has been made active yet.
  std::shared_ptr<const SigningKey> ActiveKey() const;
  // nullptr when `kid` is unknown.
  std::shared_ptr<const SigningKey> Find(std::string_view kid) const;
  // Active first, then the others newest first.
  std::vector<std::string> Kids() const;
  std::size_t size() const;

  // The public JWK Set ({"keys":[...]}) of every key in the ring, for /.well-known/jwks.json.
  std::string Jwks() const;

 private:
  mutable std::shared_mutex mu_;
  std::shared_ptr<const SigningKey> active_;               // guarded by mu_
  std::vector<std::shared_ptr<const SigningKey>> keys_;    // guarded by mu_; active first
};

}  // namespace veza::auth
