#pragma once
// Second factor: TOTP (RFC 6238, on HOTP of RFC 4226), the otpauth:// URI that authenticator
// apps scan, base32 (RFC 4648) for the secret in that URI, and single-use recovery codes.
//
// Secrets are raw bytes everywhere in this API (NewTotpSecret, TotpCode, VerifyTotp,
// OtpauthUri); base32 is only the transport form inside the URI. The caller stores the secret
// (encrypted at rest is better) and the last accepted time step, and rejects a step at or below
// the last one, so a code cannot be replayed within its window (RFC 6238 section 5.2).
// Everything here is cheap and non-blocking.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza::auth {

// RFC 4648 base32, upper-case alphabet, no '=' padding on output (as otpauth URIs want).
std::string Base32Encode(std::string_view bytes);
// Case-insensitive. Unpadded input is the norm; correct '=' padding is tolerated. Rejects
// characters outside the alphabet, impossible lengths and non-zero trailing bits (so every
// secret has exactly one text form): kInvalidArgument.
Result<std::string> Base32Decode(std::string_view text);

// The HMAC of RFC 6238 section 1.2. The URI advertises it; SHA1 is what every app supports.
enum class TotpHash { kSha1, kSha256, kSha512 };
std::string_view TotpHashName(TotpHash alg);  // "SHA1", "SHA256", "SHA512"

// 20 random bytes (160 bits, RFC 4226 section 4's recommendation) from OpenSSL RAND_bytes.
std::string NewTotpSecret();

// HOTP (RFC 4226): the `digits`-digit code for `counter`, zero-padded. `digits` must be 6..10
// (the truncated value has 31 bits); otherwise returns "" (which no code equals).
std::string HotpCode(std::string_view secret, std::uint64_t counter, int digits = 6,
                     TotpHash alg = TotpHash::kSha1);

// TOTP (RFC 6238): HOTP of the time step floor(unix_time / period), T0 = 0. Returns "" for a
// negative time, a period < 1 or bad `digits`.
std::string TotpCode(std::string_view secret, std::int64_t unix_time, int digits = 6,
                     int period = 30, TotpHash alg = TotpHash::kSha1);

// True when `code` equals the TOTP of the current step or one of the `window` steps either side
// (clock drift; window is clamped to 0..10). Every candidate is computed and compared with
// CRYPTO_memcmp whatever matched, so timing does not tell how close a guess was. On success
// `*matched_step` gets the time step that matched (the one nearest now if several do); the
// caller must reject steps it already accepted. A code that is not exactly `digits` ASCII
// digits, or a secret shorter than 16 bytes (e.g. missing), never verifies.
bool VerifyTotp(std::string_view secret, std::string_view code, std::int64_t unix_time,
                int window = 1, std::int64_t* matched_step = nullptr, int digits = 6,
                int period = 30, TotpHash alg = TotpHash::kSha1);

// otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
// (Google Authenticator's Key URI Format). Issuer and account are percent-encoded byte by byte
// (everything but RFC 3986 unreserved characters, so a space is %20 and a colon inside either
// is %3A); the separating colon stays literal. `secret` is raw bytes, base32-encoded here.
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret,
                       int digits = 6, int period = 30, TotpHash alg = TotpHash::kSha1);

// Recovery codes ----------------------------------------------------------------------------
// `n` codes (clamped to 0..100) like "7kq2-mx9d-hw4p": 12 characters from a 32-letter alphabet
// without look-alikes (no 0/o, 1/l), 60 bits each from RAND_bytes. Show them once, store only
// HashRecoveryCode() of each, delete a hash once it has been used.
std::vector<std::string> NewRecoveryCodes(int n = 10);

// Hex SHA-256 of the normalized code (ASCII lower-case, dashes and spaces removed, so the user
// may type "7KQ2 MX9D HW4P"). A fast hash is fine here, unlike for passwords: the codes are
// random with 60 bits of entropy, single-use and rate-limited, so there is no dictionary to
// try and 2^60 guesses per code is out of reach. With a non-empty `salt` (use the user id) it is
// HMAC-SHA256 keyed by the salt instead, so one stolen table cannot be attacked for all users'
// codes at once; pass the same salt to RecoveryCodeMatches.
std::string HashRecoveryCode(std::string_view code, std::string_view salt = {});

// Constant-time (CRYPTO_memcmp) comparison of HashRecoveryCode(code, salt) with `stored_hash`.
bool RecoveryCodeMatches(std::string_view code, std::string_view stored_hash,
                         std::string_view salt = {});

}  // namespace veza::auth
