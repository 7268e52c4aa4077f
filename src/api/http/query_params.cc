#include "api/http/query_params.h"

#include <charconv>

namespace veza::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return InvalidArgument("bad percent-encoding in the query");
      int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("bad percent-encoding in the query");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// name=value pairs of the query string; only the allowed names, each at most once.
Result<std::map<std::string, std::string>> QueryParams(
    std::string_view query, std::initializer_list<std::string_view> allowed) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    VEZA_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq)));
    VEZA_ASSIGN_OR_RETURN(std::string value,
                          PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1)));
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) return InvalidArgument("unknown query parameter '" + name.substr(0, 40) + "'");
    if (!out.emplace(name, std::move(value)).second)
      return InvalidArgument("query parameter '" + name + "' given twice");
  }
  return out;
}

std::string QueryParam(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

Result<int> QueryLimit(const std::map<std::string, std::string>& params) {
  auto it = params.find("limit");
  if (it == params.end() || it->second.empty()) return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || n < 1 || n > 100) {
    return InvalidArgument("limit must be an integer from 1 to 100");
  }
  return n;
}

}  // namespace veza::http
