#pragma once
// RFC 6455 framing for the server side, without IO: encoding unmasked server frames (once per
// message, so one encoded frame can be shared by every recipient and several frames gathered
// into one write) and parsing masked client frames into whole messages. The HTTP core
// (server.cc) does the reading and writing; this is what fuzz/websocket_frame_fuzzer.cc feeds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace veza::http::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes the server sends on its own (RFC 6455 section 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// One whole unmasked, unfragmented server frame: header and payload.
std::string EncodeFrame(Opcode opcode, std::string_view payload);
// A close frame: the code and up to 123 bytes of the reason (cut at a UTF-8 boundary).
std::string EncodeClose(std::uint16_t code, std::string_view reason);

bool ValidUtf8(std::string_view text);

// The opening handshake (RFC 6455 section 4.2): the Sec-WebSocket-Accept value answering a
// client's Sec-WebSocket-Key, or "" when the key is not base64 of 16 bytes (section 4.1).
std::string HandshakeAccept(std::string_view sec_websocket_key);
// The 101 answer that completes the handshake.
std::string HandshakeResponse(std::string_view accept);

// Turns the bytes a client sends into messages and control frames, one event per call.
// Enforces what a server must: masking, no reserved bits or opcodes, control frames short and
// unfragmented, continuation only inside a message, the message size limit (1009), UTF-8 in
// text messages and close reasons (1007), valid close codes (1002).
class FrameParser {
 public:
  enum class Kind {
    kNeedMore,  // no complete frame in the input yet
    kText,      // message() holds a whole text message
    kBinary,    // message() holds a whole binary message
    kPing,      // control() holds the payload to echo in a pong
    kPong,
    kClose,     // the peer's close: close_code() (1005 if it sent none), control() the reason
    kFail,      // a protocol error: close with close_code(); error() says why
  };

  explicit FrameParser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Parses at most one frame from the front of input and sets consumed to the bytes it used
  // (a data frame that is not the last of its message gives kNeedMore with consumed > 0).
  // After kFail the parser stays failed.
  Kind Parse(std::string_view input, std::size_t& consumed);

  // The message of the last kText/kBinary; the caller may move it out.
  std::string& message() { return message_; }
  const std::string& control() const { return control_; }
  std::uint16_t close_code() const { return close_code_; }
  const char* error() const { return error_; }
  bool failed() const { return failed_; }
  // Bytes the parser needs before it can make progress (at least the frame header; a data
  // frame's whole payload): lets the reader size its buffer.
  std::size_t WantBytes(std::string_view input) const;

 private:
  Kind Fail(std::uint16_t code, const char* why);

  std::size_t max_message_;
  std::string message_;
  std::string control_;
  Opcode message_opcode_ = Opcode::kContinuation;  // kContinuation: not inside a message
  std::uint16_t close_code_ = 0;
  const char* error_ = "";
  bool failed_ = false;
};

}  // namespace veza::http::ws
