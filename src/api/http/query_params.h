#pragma once
// Query strings: name=value pairs, percent-decoded ('+' is a space), strict about names.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace veza::http {

// kInvalidArgument for bad percent-encoding.
Result<std::string> PercentDecode(std::string_view s);

// Only the allowed names, each at most once; anything else is a 400 naming it.
Result<std::map<std::string, std::string>> QueryParams(
    std::string_view query, std::initializer_list<std::string_view> allowed);

// The value of name, or "" when absent.
std::string QueryParam(const std::map<std::string, std::string>& params, const std::string& name);
// "limit": 1..100, or 0 when absent or empty (the caller's default); 400 otherwise.
Result<int> QueryLimit(const std::map<std::string, std::string>& params);

}  // namespace veza::http
