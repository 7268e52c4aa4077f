#include "services/auth/signing_keys.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <mutex>
#include <utility>

namespace veza::auth {
namespace {

constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kBase64UrlAlphabet[i])] = i;
  return table;
}
constexpr auto kDecodeTable = MakeDecodeTable();

// PEM files worth loading are a few hundred bytes; the cap keeps the int conversion for
// BIO_new_mem_buf safe and refuses obviously wrong input early.
constexpr std::size_t kMaxPemSize = 64 * 1024;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// OpenSSL leaves failure details in a per-thread queue. Left there, they can be mistaken for
// the cause of a later, unrelated failure on the same thread (a TLS read, say), so every
// failure path drains the queue before returning.
Error CryptoError(ErrorCode code, std::string message) {
  ERR_clear_error();
  return Error{code, std::move(message)};
}

// Refuses to prompt: a passphrase-protected PEM must be decrypted by whoever provisions it.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
    out.push_back(kBase64UrlAlphabet[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = byte(i) << 16;
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  const std::size_t rem = text.size() % 4;
  if (rem == 1) return std::nullopt;  // 6 bits cannot encode a byte
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits (4 for rem == 2, 2 for rem == 3) are padding and must be zero.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Ed25519JwkThumbprint(std::string_view raw_public_key) {
  // RFC 7638 §3.2: required members only, lexicographic order, no whitespace. All values are
  // plain ASCII without characters needing escapes, so the string can be built directly.
  std::string canonical = R"({"crv":"Ed25519","kty":"OKP","x":")";
  canonical += Base64UrlEncode(raw_public_key);
  canonical += "\"}";
  return Base64UrlEncode(Sha256(canonical));
}

void EvpPkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

// ---- SigningKey ---------------------------------------------------------------------------

SigningKey::SigningKey(EvpPkeyPtr pkey, std::string public_key, bool has_private)
    : pkey_(std::move(pkey)),
      public_key_(std::move(public_key)),
      kid_(Ed25519JwkThumbprint(public_key_)),
      has_private_(has_private) {}

Result<SigningKey> SigningKey::FromPkey(EvpPkeyPtr pkey, bool has_private) {
  if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return CryptoError(ErrorCode::kInvalidArgument, "not an Ed25519 key");
  }
  std::string pub(kPublicKeySize, '\0');
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(pub.data()), &len) != 1 ||
      len != kPublicKeySize) {
    return CryptoError(ErrorCode::kInternal, "cannot read the Ed25519 public key");
  }
  return SigningKey(std::move(pkey), std::move(pub), has_private);
}

Result<SigningKey> SigningKey::Generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return CryptoError(ErrorCode::kInternal, "Ed25519 key generation failed");
  }
  return FromPkey(EvpPkeyPtr(raw), /*has_private=*/true);
}

Result<SigningKey> SigningKey::FromPrivateKeyPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemSize) {
    return InvalidArgument("Ed25519 private key PEM: empty or too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return CryptoError(ErrorCode::kInternal, "out of memory");
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!pkey) {
    return CryptoError(ErrorCode::kInvalidArgument,
                       "Ed25519 private key PEM: not an unencrypted PKCS#8 private key");
  }
  return FromPkey(std::move(pkey), /*has_private=*/true);
}

Result<SigningKey> SigningKey::FromPrivateKeyBytes(std::string_view raw_private_key) {
  if (raw_private_key.size() != kPrivateKeySize) {
    return InvalidArgument("Ed25519 private key must be 32 bytes");
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_private_key.data()),
      raw_private_key.size()));
  if (!pkey) return CryptoError(ErrorCode::kInvalidArgument, "invalid Ed25519 private key");
  return FromPkey(std::move(pkey), /*has_private=*/true);
}

Result<SigningKey> SigningKey::FromPublicJwk(std::string_view jwk_json) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(jwk_json, ec);
  const boost::json::object* jwk = ec ? nullptr : v.if_object();
  if (jwk == nullptr) return InvalidArgument("JWK: not a JSON object");
  auto member = [&](std::string_view name) -> const boost::json::string* {
    const boost::json::value* m = jwk->if_contains(name);
    return m ? m->if_string() : nullptr;
  };
  const auto* kty = member("kty");
  const auto* crv = member("crv");
  if (kty == nullptr || *kty != "OKP" || crv == nullptr || *crv != "Ed25519") {
    return InvalidArgument("JWK: not an OKP Ed25519 key");
  }
  if (jwk->contains("d")) return InvalidArgument("JWK: private key given where a public key belongs");
  if (const auto* alg = jwk->if_contains("alg"); alg && !(alg->is_string() && alg->get_string() == "EdDSA")) {
    return InvalidArgument("JWK: alg must be EdDSA");
  }
  if (const auto* use = jwk->if_contains("use"); use && !(use->is_string() && use->get_string() == "sig")) {
    return InvalidArgument("JWK: use must be sig");
  }
  const auto* x = member("x");
  std::optional<std::string> pub = x ? Base64UrlDecode(*x) : std::nullopt;
  if (!pub || pub->size() != kPublicKeySize) return InvalidArgument("JWK: x must be a 32-byte base64url value");
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub->data()), pub->size()));
  if (!pkey) return CryptoError(ErrorCode::kInvalidArgument, "JWK: invalid Ed25519 public key");
  auto key = FromPkey(std::move(pkey), /*has_private=*/false);
  if (!key.ok()) return key;
  // A JWK that names a kid must name this key's; otherwise tokens would be looked up under a
  // kid that does not belong to the key that verifies them.
  if (const auto* kid = jwk->if_contains("kid"); kid && !(kid->is_string() && kid->get_string() == key->kid())) {
    return InvalidArgument("JWK: kid is not the RFC 7638 thumbprint of the key");
  }
  return key;
}

Result<std::string> SigningKey::PrivateKeyPem() const {
  if (!has_private_) return InvalidArgument("verify-only key has no private part");
  // A secure-memory BIO: its buffer is cleansed when freed, so the PEM does not linger in the
  // heap beyond the std::string handed to the caller.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return CryptoError(ErrorCode::kInternal, "cannot encode the private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return CryptoError(ErrorCode::kInternal, "cannot encode the private key");
  return std::string(data, static_cast<std::size_t>(len));
}

boost::json::object SigningKey::PublicJwkObject() const {
  boost::json::object jwk;
  jwk["kty"] = "OKP";
  jwk["crv"] = "Ed25519";
  jwk["x"] = Base64UrlEncode(public_key_);
  jwk["kid"] = kid_;
  jwk["alg"] = "EdDSA";
  jwk["use"] = "sig";
  return jwk;
}

std::string SigningKey::PublicJwk() const { return boost::json::serialize(PublicJwkObject()); }

Result<std::string> SigningKey::Sign(std::string_view message) const {
  if (!has_private_) return InvalidArgument("verify-only key cannot sign");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(kSignatureSize, '\0');
  std::size_t sig_len = sig.size();
  // Ed25519 is PureEdDSA: no separate digest (md = NULL) and one-shot EVP_DigestSign only.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      sig_len != kSignatureSize) {
    return CryptoError(ErrorCode::kInternal, "Ed25519 signing failed");
  }
  return sig;
}

bool SigningKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kSignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// ---- KeyRing ------------------------------------------------------------------------------

Status KeyRing::Rotate(SigningKey key) {
  if (!key.can_sign()) return InvalidArgument("the active key must have a private part");
  auto shared = std::make_shared<const SigningKey>(std::move(key));
  std::unique_lock lock(mu_);
  std::erase_if(keys_, [&](const auto& k) { return k->kid() == shared->kid(); });
  keys_.insert(keys_.begin(), shared);
  active_ = std::move(shared);
  return Ok();
}

Status KeyRing::AddVerificationKey(SigningKey key) {
  auto shared = std::make_shared<const SigningKey>(std::move(key));
  std::unique_lock lock(mu_);
  for (const auto& k : keys_) {
    if (k->kid() == shared->kid()) return Ok();
  }
  // After the active key, before older ones: "newest first" among verify-only keys.
  keys_.insert(active_ ? keys_.begin() + 1 : keys_.begin(), std::move(shared));
  return Ok();
}

Status KeyRing::Remove(std::string_view kid) {
  std::unique_lock lock(mu_);
  if (active_ && active_->kid() == kid) {
    return InvalidArgument("cannot remove the active signing key; rotate first");
  }
  const auto removed = std::erase_if(keys_, [&](const auto& k) { return k->kid() == kid; });
  if (removed == 0) return NotFound("no such key");
  return Ok();
}

std::shared_ptr<const SigningKey> KeyRing::ActiveKey() const {
  std::shared_lock lock(mu_);
  return active_;
}

std::shared_ptr<const SigningKey> KeyRing::Find(std::string_view kid) const {
  std::shared_lock lock(mu_);
  for (const auto& k : keys_) {
    if (k->kid() == kid) return k;
  }
  return nullptr;
}

std::vector<std::string> KeyRing::Kids() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> kids;
  kids.reserve(keys_.size());
  for (const auto& k : keys_) kids.push_back(k->kid());
  return kids;
}

std::size_t KeyRing::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

std::string KeyRing::Jwks() const {
  std::vector<std::shared_ptr<const SigningKey>> snapshot;
  {
    std::shared_lock lock(mu_);
    snapshot = keys_;
  }
  boost::json::array keys;
  keys.reserve(snapshot.size());
  for (const auto& k : snapshot) keys.emplace_back(k->PublicJwkObject());
  boost::json::object jwks;
  jwks["keys"] = std::move(keys);
  return boost::json::serialize(jwks);
}

}  // namespace veza::auth
