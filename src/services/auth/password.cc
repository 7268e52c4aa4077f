#include "services/auth/password.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "services/auth/common_passwords.h"

namespace veza::auth {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// What we accept when reading a stored hash. We write 16/32; libargon2 needs a salt of 8 or
// more; a tag under 16 bytes is too easy to collide with, so a hash edited down to one is
// treated as tampered.
constexpr std::size_t kMinSaltBytes = 8;
constexpr std::size_t kMaxSaltBytes = 64;
constexpr std::size_t kMinHashBytes = 16;
constexpr std::size_t kMaxHashBytes = 64;

constexpr std::size_t kMinPasswordChars = 12;
constexpr std::size_t kMaxPasswordChars = 128;

// Overwrites a buffer that held (part of) a password when it goes out of scope, so copies we
// make do not linger in freed heap memory. The buffers are reserved up front and never grow,
// so no unwiped copy is left behind by a reallocation.
template <class Container>
class WipeOnExit {
 public:
  explicit WipeOnExit(Container& c) : c_(c) {}
  ~WipeOnExit() {
    if (!c_.empty()) OPENSSL_cleanse(c_.data(), c_.size() * sizeof(c_[0]));
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Container& c_;
};

// --- PHC strings -----------------------------------------------------------------------------

struct PhcInfo {
  std::uint32_t memory_kib = 0;
  std::uint32_t iterations = 0;
  std::uint32_t parallelism = 0;
  std::size_t salt_bytes = 0;
  std::size_t hash_bytes = 0;
};

// A decimal without sign or leading zeros that fits in 32 bits.
bool ParseU32(std::string_view s, std::uint32_t* out) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > UINT32_MAX) return false;
  *out = static_cast<std::uint32_t>(v);
  return true;
}

// Byte length of unpadded standard base64 text (the PHC alphabet), or 0 if it is not that.
std::size_t B64DecodedLength(std::string_view s) {
  if (s.empty() || s.size() % 4 == 1) return 0;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return 0;
  }
  return s.size() * 3 / 4;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// Parses exactly `$argon2id$v=19$m=M,t=T,p=P$SALT$HASH` and enforces the ceilings before
// libargon2 ever sees the string: it would happily allocate whatever `m` says.
Result<PhcInfo> ParsePhc(std::string_view phc) {
  auto malformed = [] { return InvalidArgument("malformed password hash"); };
  if (phc.size() > 512) return malformed();
  // Split on '$': "", alg, version, params, salt, hash.
  std::array<std::string_view, 6> parts;
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= phc.size(); ++i) {
    if (i == phc.size() || phc[i] == '$') {
      if (n == parts.size()) return malformed();
      parts[n++] = phc.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != parts.size() || !parts[0].empty()) return malformed();
  if (parts[1] != "argon2id") {
    return InvalidArgument("unsupported password hash algorithm (argon2id required)");
  }
  if (parts[2] != "v=19") return InvalidArgument("unsupported argon2 version (19 required)");

  PhcInfo info;
  std::string_view params = parts[3];
  std::size_t c1 = params.find(',');
  std::size_t c2 = c1 == std::string_view::npos ? c1 : params.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return malformed();
  std::string_view m = params.substr(0, c1);
  std::string_view t = params.substr(c1 + 1, c2 - c1 - 1);
  std::string_view p = params.substr(c2 + 1);
  if (!ConsumePrefix(&m, "m=") || !ConsumePrefix(&t, "t=") || !ConsumePrefix(&p, "p=") ||
      !ParseU32(m, &info.memory_kib) || !ParseU32(t, &info.iterations) ||
      !ParseU32(p, &info.parallelism)) {
    return malformed();
  }
  if (info.iterations < 1 || info.iterations > kMaxPasswordIterations || info.parallelism < 1 ||
      info.parallelism > kMaxPasswordParallelism || info.memory_kib > kMaxPasswordMemoryKib ||
      info.memory_kib < 8 * info.parallelism) {
    return InvalidArgument("password hash parameters out of the accepted range");
  }
  info.salt_bytes = B64DecodedLength(parts[4]);
  info.hash_bytes = B64DecodedLength(parts[5]);
  if (info.salt_bytes < kMinSaltBytes || info.salt_bytes > kMaxSaltBytes ||
      info.hash_bytes < kMinHashBytes || info.hash_bytes > kMaxHashBytes) {
    return malformed();
  }
  return info;
}

Status CheckCeilings(const PasswordParams& p) {
  if (p.iterations < 1 || p.iterations > kMaxPasswordIterations || p.parallelism < 1 ||
      p.parallelism > kMaxPasswordParallelism || p.memory_kib > kMaxPasswordMemoryKib ||
      p.memory_kib < 8 * p.parallelism) {
    return InvalidArgument("argon2 parameters out of the accepted range");
  }
  return Ok();
}

// --- policy helpers --------------------------------------------------------------------------

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool DecodeUtf8(std::string_view s, std::vector<char32_t>* out) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t cp;
    char32_t min;
    if (b0 < 0x80) {
      out->push_back(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte first, or 0xF8..0xFF
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out->push_back(cp);
    i += len;
  }
  return true;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }
bool IsAsciiLetter(char c) { return c >= 'a' && c <= 'z'; }  // after lower-casing
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
// Bytes of non-ASCII characters count as letters: they are part of a word, not padding.
bool IsWordByte(char c) { return IsAsciiLetter(c) || static_cast<unsigned char>(c) >= 0x80; }

std::size_t CountCodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string LowerAscii(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = AsciiLower(c);
  return r;
}

// Undoes the usual l33t substitutions so "p@ssw0rd" is found as "password". '1' stands for
// either 'i' or 'l', hence the parameter.
void Unleet(std::string_view in, char one, std::string* out) {
  static constexpr std::string_view kFrom = "0134@5$78!";
  static constexpr std::string_view kTo = "o?eaasstbi";  // '?' is replaced by `one`
  out->clear();
  for (char c : in) {
    std::size_t k = kFrom.find(c);
    out->push_back(k == std::string_view::npos ? c : (kTo[k] == '?' ? one : kTo[k]));
  }
}

// Common-password check on `lower` and on every version of it with digits/symbols removed
// from its ends (only the leading and trailing runs of non-letters, so "Monkey2024!" and
// "!!dragon99" are caught but a passphrase is not cut up), each also with l33t undone.
// Returns 0 (not common), 1 (exactly a listed password), 2 (a listed one padded or l33ted).
int CommonPasswordMatch(std::string_view lower, std::string* scratch) {
  if (IsCommonPassword(lower)) return 1;
  std::size_t lead = 0;
  while (lead < lower.size() && !IsWordByte(lower[lead])) ++lead;
  if (lead == lower.size()) return 0;  // no letters at all: left to the structural checks
  std::size_t trail = 0;
  while (!IsWordByte(lower[lower.size() - 1 - trail])) ++trail;
  for (std::size_t i = 0; i <= lead; ++i) {
    for (std::size_t j = 0; j <= trail; ++j) {
      std::string_view sub = lower.substr(i, lower.size() - i - j);
      if (sub.size() < 4) continue;  // "abc" + random digits is weak but not a listed word
      if (IsCommonPassword(sub)) return 2;
      Unleet(sub, 'i', scratch);
      if (IsCommonPassword(*scratch)) return 2;
      Unleet(sub, 'l', scratch);
      if (IsCommonPassword(*scratch)) return 2;
    }
  }
  return 0;
}

// The smallest period of `s` if it is a whole repetition of a shorter unit, else s.size().
std::size_t SmallestPeriod(std::u32string_view s) {
  for (std::size_t p = 1; p <= s.size() / 2; ++p) {
    if (s.size() % p != 0) continue;
    bool periodic = true;
    for (std::size_t i = p; i < s.size() && periodic; ++i) periodic = s[i] == s[i - p];
    if (periodic) return p;
  }
  return s.size();
}

// "abcdef...", "9876543210...", "acegik...": a constant step of 1 or 2 through the digits or
// the letters (wrapping, so "789012345678" counts).
bool IsSimpleSequence(std::u32string_view s) {
  if (s.size() < 3) return false;
  auto in_class = [&](auto pred) {
    for (char32_t c : s) {
      if (!pred(c)) return false;
    }
    return true;
  };
  int modulus;
  char32_t base;
  if (in_class([](char32_t c) { return c >= '0' && c <= '9'; })) {
    modulus = 10, base = '0';
  } else if (in_class([](char32_t c) { return c >= 'a' && c <= 'z'; })) {
    modulus = 26, base = 'a';
  } else {
    return false;
  }
  int step = ((static_cast<int>(s[1] - base) - static_cast<int>(s[0] - base)) + modulus) % modulus;
  if (step != 1 && step != 2 && step != modulus - 1 && step != modulus - 2) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    int d =
        ((static_cast<int>(s[i] - base) - static_cast<int>(s[i - 1] - base)) + modulus) % modulus;
    if (d != step) return false;
  }
  return true;
}

// Runs across common keyboard layouts, rows and columns. A password that is a stretch of one
// of these, forwards or backwards, is a keyboard walk.
constexpr std::string_view kKeyboardWalks[] = {
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1234567890qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",  // QWERTZ
    "azertyuiopqsdfghjklmwxcvbn",  // AZERTY
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1b2c3d4e5f6g7h8i9j0",
    "1a2b3c4d5e6f7g8h9i0j",
    "147258369147258369",  // numeric keypad columns
    "741852963741852963",
    "789456123789456123",
    "159753159753",
};

bool IsKeyboardWalk(std::string_view lower) {
  std::string reversed(lower.rbegin(), lower.rend());
  WipeOnExit wipe(reversed);
  for (std::string_view walk : kKeyboardWalks) {
    if (walk.find(lower) != std::string_view::npos ||
        walk.find(reversed) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::u32string ToU32(std::string_view ascii_or_utf8) {
  std::vector<char32_t> cps;
  DecodeUtf8(ascii_or_utf8, &cps);  // input already validated by the caller
  std::u32string r(cps.begin(), cps.end());
  if (!cps.empty()) OPENSSL_cleanse(cps.data(), cps.size() * sizeof(char32_t));
  return r;
}

// Structural weakness of one candidate (the whole password, or it with padding removed).
// Returns an error message, or empty when none applies.
std::string_view StructuralWeakness(std::string_view lower, std::string* scratch) {
  std::u32string cps = ToU32(lower);
  WipeOnExit wipe(cps);
  if (cps.empty()) return {};
  std::size_t period = SmallestPeriod(cps);
  if (period == 1) return "password must not be a single repeated character";
  if (period <= 4 && period < cps.size()) {
    return "password must not be a short repeated pattern";
  }
  if (IsSimpleSequence(cps)) return "password must not be a simple sequence";
  if (IsKeyboardWalk(lower)) return "password must not be a keyboard pattern";
  if (period < cps.size()) {
    // "monkeymonkey", "Dragon1Dragon1": a repeated common password. The unit is a whole
    // number of code points, so cutting the UTF-8 string at its byte length is safe.
    std::size_t unit_bytes = 0;
    for (std::size_t starts = 0; unit_bytes < lower.size(); ++unit_bytes) {
      bool lead_byte = (static_cast<unsigned char>(lower[unit_bytes]) & 0xC0) != 0x80;
      if (lead_byte && starts++ == period) break;
    }
    if (CommonPasswordMatch(lower.substr(0, unit_bytes), scratch) != 0) {
      return "password must not be a common password repeated";
    }
  }
  return {};
}

}  // namespace

Status ValidatePasswordParams(const PasswordParams& params) {
  const PasswordParams floor;
  if (params.memory_kib < floor.memory_kib || params.iterations < floor.iterations ||
      params.parallelism < floor.parallelism) {
    return InvalidArgument("argon2id parameters are below the OWASP minimum (m=19456, t=2, p=1)");
  }
  return CheckCeilings(params);
}

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  VEZA_TRY(CheckCeilings(params));
  if (password.size() > kMaxPasswordBytes) return InvalidArgument("password is too long");

  std::array<unsigned char, kSaltBytes> salt;
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Internal("random number generator failed");
  }
  std::size_t encoded_len = argon2_encodedlen(
      params.iterations, params.memory_kib, params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(encoded_len, '\0');  // includes room for the terminating NUL
  int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                 password.data(), password.size(), salt.data(), salt.size(),
                                 kHashBytes, encoded.data(), encoded.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  if (rc != ARGON2_OK) {
    return Internal(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  }
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

Result<bool> VerifyPassword(std::string_view password, std::string_view phc) {
  VEZA_TRY(ParsePhc(phc));
  // Nothing HashPassword produced can match an over-long password; don't spend time on it.
  if (password.size() > kMaxPasswordBytes) return false;
  std::string encoded(phc);  // libargon2 wants a NUL-terminated string
  int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
  switch (rc) {
    case ARGON2_OK:
      return true;
    case ARGON2_VERIFY_MISMATCH:
      return false;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
      return Internal(std::string("argon2id verification failed: ") + argon2_error_message(rc));
    default:  // ARGON2_DECODING_FAIL and friends: the string passed our parse but not argon2's
      return InvalidArgument("malformed password hash");
  }
}

bool NeedsRehash(std::string_view phc, const PasswordParams& current) {
  Result<PhcInfo> info = ParsePhc(phc);
  if (!info.ok()) return true;
  return info->memory_kib < current.memory_kib || info->iterations < current.iterations ||
         info->parallelism < current.parallelism || info->salt_bytes < kSaltBytes ||
         info->hash_bytes < kHashBytes;
}

Status CheckPasswordPolicy(std::string_view password, std::string_view username,
                           std::string_view email) {
  // Longer than 128 code points can ever be in UTF-8: no need to look further.
  if (password.size() > 4 * kMaxPasswordChars) {
    return InvalidArgument("password must be at most 128 characters");
  }
  std::vector<char32_t> cps;
  cps.reserve(password.size());
  WipeOnExit wipe_cps(cps);
  if (!DecodeUtf8(password, &cps)) return InvalidArgument("password must be valid UTF-8");
  for (char32_t c : cps) {
    // C0, DEL and C1 controls: invisible, often mangled by input methods and terminals, and
    // NUL would cut the password short in any C string API along the way.
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
      return InvalidArgument("password must not contain control characters");
    }
  }
  if (cps.size() < kMinPasswordChars) {
    return InvalidArgument("password must be at least 12 characters");
  }
  if (cps.size() > kMaxPasswordChars) {
    return InvalidArgument("password must be at most 128 characters");
  }

  std::string lower;
  lower.reserve(password.size());
  WipeOnExit wipe_lower(lower);
  for (char c : password) lower.push_back(AsciiLower(c));

  // Username and email are ASCII-folded only: the domain restricts usernames to ASCII, and
  // a non-ASCII match is still caught when the case is the same.
  std::string user = LowerAscii(username);
  if (CountCodePoints(user) >= 3 && lower.find(user) != std::string::npos) {
    return InvalidArgument("password must not contain the username");
  }
  std::string_view local = email.substr(0, std::min(email.rfind('@'), email.size()));
  std::string local_lower = LowerAscii(local);
  std::string_view local_base = std::string_view(local_lower).substr(0, local_lower.find('+'));
  for (std::string_view part : {std::string_view(local_lower), local_base}) {
    if (CountCodePoints(part) >= 3 && lower.find(part) != std::string::npos) {
      return InvalidArgument("password must not contain the name part of the email address");
    }
  }

  std::string scratch;
  scratch.reserve(password.size());
  WipeOnExit wipe_scratch(scratch);

  // Structural checks on the whole password, on it without symbols at the ends ("123456789012!")
  // and on its letter core when that is long ("abcdefghijk1").
  std::string_view whole = lower;
  std::size_t a = 0, b = whole.size();
  auto is_alnum = [](char c) { return IsWordByte(c) || IsAsciiDigit(c); };
  while (a < b && !is_alnum(whole[a])) ++a;
  while (b > a && !is_alnum(whole[b - 1])) --b;
  std::string_view trimmed = whole.substr(a, b - a);
  while (a < b && !IsWordByte(whole[a])) ++a;
  while (b > a && !IsWordByte(whole[b - 1])) --b;
  std::string_view core = whole.substr(a, b - a);
  for (std::string_view candidate : {whole, trimmed, core}) {
    if (candidate.size() < (candidate == whole ? 1u : 8u)) continue;
    std::string_view why = StructuralWeakness(candidate, &scratch);
    if (!why.empty()) return InvalidArgument(std::string(why));
  }

  switch (CommonPasswordMatch(lower, &scratch)) {
    case 1:
      return InvalidArgument("password is too common");
    case 2:
      return InvalidArgument(
          "password is too common: a well-known password with digits or symbols added or "
          "letters swapped for look-alikes");
    default:
      break;
  }
  return Ok();
}

}  // namespace veza::auth
