// libFuzzer target for the chat WebSocket's frame parsing (http::ParseClientFrame): whatever text
// a client sends, the parser answers a Result, never crashes, and what it accepts keeps the
// protocol's bounds. Built with clang, -fsanitize=fuzzer,address,undefined.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http/chat_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto frame = veza::http::ParseClientFrame(text);
  if (!frame.ok()) return 0;
  const auto& f = *frame;
  if (f.type.empty() || f.room.size() > 64 || f.message.size() > 64 || f.client_id.size() > 64 ||
      f.body.size() > 4000 || f.emoji.size() > 32 || f.users.size() > veza::http::kMaxPresenceQuery) {
    __builtin_trap();
  }
  if (f.type == "read" && !f.seq) __builtin_trap();
  return 0;
}
