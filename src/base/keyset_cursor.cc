#include "base/keyset_cursor.h"

#include <charconv>

#include "base/ids.h"

namespace veza {

std::string EncodeCursor(std::int64_t created_at_ms, std::string_view id) {
  return std::to_string(created_at_ms) + "_" + std::string(id);
}

Result<std::pair<std::int64_t, std::string>> DecodeCursor(std::string_view cursor) {
  auto bad = [] { return InvalidArgument("cursor is not one this server issued"); };
  auto sep = cursor.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 19) return bad();
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + sep, ms);
  if (ec != std::errc() || end != cursor.data() + sep || ms < 0) return bad();
  std::string_view id = cursor.substr(sep + 1);
  if (!IsUuid(id)) return bad();
  return std::pair<std::int64_t, std::string>{ms, std::string(id)};
}

}  // namespace veza
