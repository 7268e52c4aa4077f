#include "ports/event_bus.h"

#include <vector>

namespace veza {
namespace {

std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

bool SubjectMatches(std::string_view pattern, std::string_view subject) {
  auto p = Tokens(pattern);
  auto s = Tokens(subject);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return i == p.size() - 1 && s.size() > i;
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

Status ValidateSubject(std::string_view subject, bool allow_wildcards) {
  if (subject.empty() || subject.size() > 256) return InvalidArgument("subject must be 1..256 bytes");
  auto tokens = Tokens(subject);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    if (t.empty()) return InvalidArgument("subject has an empty token");
    if (allow_wildcards && (t == "*" || (t == ">" && i == tokens.size() - 1))) continue;
    for (char c : t) {
      bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-';
      if (!allowed) return InvalidArgument("subject tokens may hold only [A-Za-z0-9_-]");
    }
  }
  return Ok();
}

}  // namespace veza
