#pragma once
#include <string>
#include <string_view>

namespace veza {

// Lower-case hex SHA-256 of data: how single-use secrets (refresh, email and MFA tokens) are
// stored, so a database leak does not leak usable tokens.
std::string Sha256Hex(std::string_view data);

}  // namespace veza
