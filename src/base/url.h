#pragma once
#include <string>
#include <string_view>

namespace veza {

// The URL with any password (userinfo) replaced by "***" and secret-looking query parameters
// (password, secret, token, key) masked: safe to log.
std::string RedactUrl(std::string_view url);

}  // namespace veza
