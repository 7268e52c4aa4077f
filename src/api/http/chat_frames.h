#pragma once
// One client frame of the chat WebSocket protocol v1 (docs/websocket.md), parsed and checked
// field by field before any service sees it: JSON object, a known string `type`, only that
// type's fields, each of the right type and size. Pure (no I/O), so it is fuzzed on its own
// (fuzz/chat_frame_fuzzer.cc).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza::http {

struct ClientFrame {
  std::string type;  // ping, join, leave, send, history, edit, delete, react, pin, pins, typing,
                     // read, status, presence, moderate
  std::string room;
  std::string client_id;
  std::string body;
  std::string reply_to;
  std::string message;  // a message id
  std::string emoji;
  std::string thread;
  std::string status;
  std::optional<std::int64_t> before, after, limit, seq;
  bool pinned = true;
  std::vector<std::string> users;
  // moderate: a room's staff mute, kick or ban a user in that room
  std::string action, user, reason;
  std::optional<std::int64_t> duration_seconds;
};

inline constexpr std::size_t kMaxPresenceQuery = 100;

// kInvalidArgument with a message naming what is wrong.
Result<ClientFrame> ParseClientFrame(std::string_view text);

}  // namespace veza::http
