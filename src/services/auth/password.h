#pragma once
// Password hashing (argon2id, libargon2) and the password policy of Veza accounts.
//
// Stored form: a PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>`, so the
// parameters travel with each hash and can be raised later: NeedsRehash() tells the login code
// to re-hash with the current settings after a successful VerifyPassword().
//
// COST: HashPassword and VerifyPassword are slow on purpose (about 20-50 ms of CPU and 19 MiB of
// memory each with the defaults). They block: the HTTP layer must run them on the bounded worker
// pool (base/blocking.h), never on an IO thread, and rate-limit login attempts before calling.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace veza::auth {

// argon2id cost settings. The defaults are OWASP's minimum for argon2id (19 MiB, t=2, p=1).
struct PasswordParams {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};

// Hard ceilings on the parameters accepted from a stored PHC string (and for hashing). A hash
// edited in the database to `m=4194304,t=1000` would otherwise turn every login attempt into a
// denial of service, so such a hash is refused as malformed instead of computed.
inline constexpr std::uint32_t kMaxPasswordMemoryKib = 1024 * 1024;  // 1 GiB
inline constexpr std::uint32_t kMaxPasswordIterations = 10;
inline constexpr std::uint32_t kMaxPasswordParallelism = 16;
// Inputs longer than this are refused before hashing (the policy allows 128 code points, at
// most 512 bytes of UTF-8); keeps an attacker from making us hash megabytes.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// For configuration checks at startup: kInvalidArgument when `params` are below OWASP's floor
// (19 MiB, t=2, p=1) or above the ceilings above.
Status ValidatePasswordParams(const PasswordParams& params);

// Hashes with a fresh 16-byte random salt (OpenSSL RAND_bytes) into a 32-byte argon2id tag and
// returns the PHC string. kInvalidArgument for params argon2 or the ceilings refuse, or for a
// password over kMaxPasswordBytes; kInternal when the RNG or argon2 fails. Slow: see above.
Result<std::string> HashPassword(std::string_view password,
                                 const PasswordParams& params = PasswordParams{});

// True when `password` matches `phc`, false when it does not (libargon2 compares the tags in
// constant time). kInvalidArgument when `phc` is not a well-formed argon2id v19 PHC string
// within the ceilings above (a tampered or foreign hash), kInternal on argon2 failure (e.g. no
// memory). A password over kMaxPasswordBytes is simply false: nothing stored can match it.
// Slow: see above.
Result<bool> VerifyPassword(std::string_view password, std::string_view phc);

// True when the stored hash is weaker than `current` (lower m, t or p, a shorter salt or tag,
// another version) or unreadable, so the caller should re-hash the password it just verified.
// Never asks to lower parameters that are higher than the current settings.
bool NeedsRehash(std::string_view phc, const PasswordParams& current);

// The account password rules (OWASP ASVS 2.1, NIST 800-63B): 12 to 128 characters counted as
// Unicode code points, valid UTF-8, no control characters, not containing the username
// (case-insensitive, when it is 3 or more characters) or the local part of the email, not a
// common password (also after stripping digits/symbols at the ends and undoing l33t
// substitutions), not one repeated character, a short repeated pattern, a simple sequence or a
// keyboard walk. No composition rules (ASVS 2.1.9). kInvalidArgument with a message that names
// the rule that failed and never contains the password. Cheap: safe on an IO thread.
Status CheckPasswordPolicy(std::string_view password, std::string_view username,
                           std::string_view email);

}  // namespace veza::auth
