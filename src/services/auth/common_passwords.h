#pragma once
// The embedded list of common passwords (common_passwords.cc, generated). Internal to the auth
// service: password.cc uses it in CheckPasswordPolicy; tests check that it is sorted.
#include <span>
#include <string_view>

namespace veza::auth {

// All entries, lower-case, sorted by byte value, no duplicates.
std::span<const std::string_view> CommonPasswords();

// True when `lowercase` (already lower-cased by the caller) is exactly one of the entries.
bool IsCommonPassword(std::string_view lowercase);

}  // namespace veza::auth
