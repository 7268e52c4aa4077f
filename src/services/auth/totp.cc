#include "services/auth/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace veza::auth {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kMinVerifySecretBytes = 16;  // RFC 4226 section 4: at least 128 bits
constexpr int kMaxWindow = 10;

// 32 symbols, so one random byte & 31 picks one uniformly. Digits 0/1 and letters l/o are left
// out because they are easily confused with each other when read off paper.
constexpr std::string_view kRecoveryAlphabet = "23456789abcdefghijkmnpqrstuvwxyz";
static_assert(kRecoveryAlphabet.size() == 32);
constexpr int kRecoveryGroups = 3;
constexpr int kRecoveryGroupLen = 4;

const EVP_MD* Digest(TotpHash alg) {
  switch (alg) {
    case TotpHash::kSha256:
      return EVP_sha256();
    case TotpHash::kSha512:
      return EVP_sha512();
    case TotpHash::kSha1:
      break;
  }
  return EVP_sha1();
}

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// RFC 3986 unreserved characters pass; every other byte becomes %XX.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xF];
  }
  return out;
}

std::string NormalizeRecoveryCode(std::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c);
  }
  return out;
}

}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  // Tolerate RFC 4648 padding only in its exact form: a multiple of 8 characters with the
  // number of '=' that the last quantum implies.
  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    if (text.size() % 8 != 0 || (pad != 1 && pad != 3 && pad != 4 && pad != 6)) {
      return InvalidArgument("base32: bad padding");
    }
    text.remove_suffix(pad);
  }
  // 1, 3 or 6 characters in the last group encode no whole byte.
  std::size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) return InvalidArgument("base32: impossible length");
  if (pad > 0 && rem + pad != 8) return InvalidArgument("base32: bad padding");

  std::string out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base32Value(c);
    if (v < 0) return InvalidArgument("base32: invalid character");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return InvalidArgument("base32: non-zero trailing bits");
  return out;
}

std::string_view TotpHashName(TotpHash alg) {
  switch (alg) {
    case TotpHash::kSha256:
      return "SHA256";
    case TotpHash::kSha512:
      return "SHA512";
    case TotpHash::kSha1:
      break;
  }
  return "SHA1";
}

std::string NewTotpSecret() {
  std::string secret(20, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    // RAND_bytes only fails when the OS entropy source is gone; a predictable secret would be
    // worse than stopping, and there is no error value to carry it in this signature.
    std::abort();
  }
  return secret;
}

std::string HotpCode(std::string_view secret, std::uint64_t counter, int digits, TotpHash alg) {
  if (digits < 6 || digits > 10) return {};
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i, counter >>= 8) msg[i] = static_cast<unsigned char>(counter & 0xFF);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  static const char kEmpty = 0;
  const void* key = secret.empty() ? &kEmpty : secret.data();
  if (HMAC(Digest(alg), key, static_cast<int>(secret.size()), msg, sizeof msg, mac, &mac_len) ==
      nullptr) {
    return {};
  }
  // Dynamic truncation, RFC 4226 section 5.3.
  unsigned offset = mac[mac_len - 1] & 0x0F;
  std::uint64_t bin = (static_cast<std::uint64_t>(mac[offset] & 0x7F) << 24) |
                      (static_cast<std::uint64_t>(mac[offset + 1]) << 16) |
                      (static_cast<std::uint64_t>(mac[offset + 2]) << 8) |
                      static_cast<std::uint64_t>(mac[offset + 3]);
  OPENSSL_cleanse(mac, sizeof mac);
  std::uint64_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::uint64_t value = bin % mod;
  std::string code(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value /= 10) code[i] = static_cast<char>('0' + value % 10);
  return code;
}

std::string TotpCode(std::string_view secret, std::int64_t unix_time, int digits, int period,
                     TotpHash alg) {
  if (unix_time < 0 || period < 1) return {};
  return HotpCode(secret, static_cast<std::uint64_t>(unix_time / period), digits, alg);
}

bool VerifyTotp(std::string_view secret, std::string_view code, std::int64_t unix_time, int window,
                std::int64_t* matched_step, int digits, int period, TotpHash alg) {
  if (secret.size() < kMinVerifySecretBytes || unix_time < 0 || period < 1) return false;
  if (digits < 6 || digits > 10 || code.size() != static_cast<std::size_t>(digits)) return false;
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  window = std::clamp(window, 0, kMaxWindow);
  const std::int64_t now_step = unix_time / period;
  bool matched = false;
  std::int64_t best = 0;
  // Nearest steps first, so that on a (one in a million) collision the step reported is the
  // most plausible one. All candidates are computed and compared regardless.
  for (int d = 0; d <= 2 * window; ++d) {
    std::int64_t offset = (d % 2 == 0) ? d / 2 : -(d + 1) / 2;
    std::int64_t step = now_step + offset;
    if (step < 0) continue;
    std::string candidate = HotpCode(secret, static_cast<std::uint64_t>(step), digits, alg);
    bool eq = candidate.size() == code.size() &&
              CRYPTO_memcmp(candidate.data(), code.data(), code.size()) == 0;
    if (eq && !matched) {
      matched = true;
      best = step;
    }
  }
  if (matched && matched_step != nullptr) *matched_step = best;
  return matched;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret,
                       int digits, int period, TotpHash alg) {
  std::string uri = "otpauth://totp/";
  if (!issuer.empty()) {
    uri += PercentEncode(issuer);
    uri += ':';
  }
  uri += PercentEncode(account);
  uri += "?secret=";
  uri += Base32Encode(secret);
  if (!issuer.empty()) {
    uri += "&issuer=";
    uri += PercentEncode(issuer);
  }
  uri += "&algorithm=";
  uri += TotpHashName(alg);
  uri += "&digits=" + std::to_string(digits);
  uri += "&period=" + std::to_string(period);
  return uri;
}

std::vector<std::string> NewRecoveryCodes(int n) {
  n = std::clamp(n, 0, 100);
  std::vector<std::string> codes;
  codes.reserve(static_cast<std::size_t>(n));
  std::array<unsigned char, kRecoveryGroups * kRecoveryGroupLen> random;
  for (int i = 0; i < n; ++i) {
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) std::abort();  // see above
    std::string code;
    for (std::size_t k = 0; k < random.size(); ++k) {
      if (k > 0 && k % kRecoveryGroupLen == 0) code.push_back('-');
      code.push_back(kRecoveryAlphabet[random[k] & 31]);
    }
    codes.push_back(std::move(code));
  }
  OPENSSL_cleanse(random.data(), random.size());
  return codes;
}

std::string HashRecoveryCode(std::string_view code, std::string_view salt) {
  std::string normalized = NormalizeRecoveryCode(code);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (salt.empty()) {
    SHA256(reinterpret_cast<const unsigned char*>(normalized.data()), normalized.size(), digest);
    len = SHA256_DIGEST_LENGTH;
  } else {
    HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
         reinterpret_cast<const unsigned char*>(normalized.data()), normalized.size(), digest,
         &len);
  }
  OPENSSL_cleanse(normalized.data(), normalized.size());
  return Hex(digest, len);
}

bool RecoveryCodeMatches(std::string_view code, std::string_view stored_hash,
                         std::string_view salt) {
  std::string computed = HashRecoveryCode(code, salt);
  // The length of a hex SHA-256 is public; only the content is compared in constant time.
  return computed.size() == stored_hash.size() &&
         CRYPTO_memcmp(computed.data(), stored_hash.data(), computed.size()) == 0;
}

}  // namespace veza::auth
