#pragma once
#include <string>
#include <string_view>

namespace veza {

// A UUIDv7 (RFC 9562) in its canonical text form: 48 bits of Unix milliseconds, a 12-bit
// counter, then 62 random bits, so ids sort by creation time (strictly, among the ids one
// process makes) and index well in PostgreSQL and SQLite alike.
std::string NewId();

// 256 random bits as 64 lower-case hex characters: a bearer secret (tickets, tokens) that is
// stored only as its SHA-256.
std::string NewSecretToken();

// True for the canonical lower-case text form of any UUID (what NewId makes).
bool IsUuid(std::string_view s);

}  // namespace veza
