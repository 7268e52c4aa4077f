// libFuzzer target for the WebSocket frame parser (src/api/http/websocket_frame.h): the bytes a
// client sends after the upgrade. The first byte sets how the stream is cut into reads (1 to
// 256 bytes each, the way TCP may deliver it); the rest is the stream. Invariants: the parser
// never consumes more than it is given, messages stay within the limit, text messages and
// close reasons are valid UTF-8, a failure carries a close code the server may send, and a
// failed parser stays failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/http/websocket_frame.h"

using veza::http::ws::FrameParser;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::size_t kLimit = 4096;
  FrameParser parser(kLimit);
  std::string buffer;
  bool failed = false;
  for (std::size_t at = 0; at < stream.size() && !failed; at += piece) {
    buffer.append(stream.substr(at, piece));
    for (;;) {
      std::size_t consumed = 0;
      auto kind = parser.Parse(buffer, consumed);
      if (consumed > buffer.size()) std::abort();
      buffer.erase(0, consumed);
      if (kind == FrameParser::Kind::kNeedMore) {
        if (consumed > 0) continue;
        if (parser.WantBytes(buffer) <= buffer.size()) std::abort();  // it could have parsed
        break;
      }
      if (kind == FrameParser::Kind::kText && !veza::http::ws::ValidUtf8(parser.message())) std::abort();
      if ((kind == FrameParser::Kind::kText || kind == FrameParser::Kind::kBinary) && parser.message().size() > kLimit) {
        std::abort();
      }
      if (kind == FrameParser::Kind::kPing || kind == FrameParser::Kind::kPong) {
        if (parser.control().size() > 125) std::abort();
      }
      if (kind == FrameParser::Kind::kClose && !veza::http::ws::ValidUtf8(parser.control())) std::abort();
      if (kind == FrameParser::Kind::kFail) {
        auto code = parser.close_code();
        if (code != 1002 && code != 1007 && code != 1009) std::abort();
        std::size_t again = 0;
        if (parser.Parse(buffer, again) != FrameParser::Kind::kFail || again != 0) std::abort();
        failed = true;
        break;
      }
    }
  }
  return 0;
}
