#pragma once
// Keyset cursors for lists ordered by (created_at, id), such as the admin users list and the
// moderation report queue: "<created_at ms>_<uuid>", the last row of the page before.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace veza {

std::string EncodeCursor(std::int64_t created_at_ms, std::string_view id);
// kInvalidArgument for anything this server did not issue.
Result<std::pair<std::int64_t, std::string>> DecodeCursor(std::string_view cursor);

}  // namespace veza
