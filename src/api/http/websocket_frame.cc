#include "api/http/websocket_frame.h"

#include "api/http/message.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace veza::http::ws {

namespace {

constexpr std::size_t kMaxControlPayload = 125;

// Header bytes of a frame whose first two bytes are b0, b1: 2 + extended length + mask key.
std::size_t HeaderSize(std::uint8_t b1) {
  std::size_t n = 2;
  if ((b1 & 0x7F) == 126) n += 2;
  if ((b1 & 0x7F) == 127) n += 8;
  if (b1 & 0x80) n += 4;
  return n;
}

std::uint64_t PayloadLength(const unsigned char* p) {
  std::uint64_t len = p[1] & 0x7F;
  if (len == 126) return (std::uint64_t{p[2]} << 8) | p[3];
  if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
  }
  return len;
}

bool ValidCloseCode(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

void Unmask(const unsigned char* in, std::size_t n, const unsigned char key[4], char* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>(in[i] ^ key[i & 3]);
}

}  // namespace

std::string EncodeFrame(Opcode opcode, std::string_view payload) {
  std::string out;
  const std::size_t n = payload.size();
  out.reserve(n + 10);
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((std::uint64_t{n} >> shift) & 0xFF);
  }
  out.append(payload);
  return out;
}

std::string EncodeClose(std::uint16_t code, std::string_view reason) {
  if (reason.size() > 123) {
    std::size_t cut = 123;
    // Back up over continuation bytes so the reason stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason);
  return EncodeFrame(Opcode::kClose, payload);
}

bool ValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // ASCII runs (every chat frame is mostly ASCII) eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if (chunk & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t need;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) need = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, cp = c & 0x07;
    else return false;  // a continuation byte first, an overlong lead (C0, C1) or past U+10FFFF
    if (static_cast<std::size_t>(end - p) < need + 1) return false;
    for (std::size_t i = 1; i <= need; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates are not characters
    p += need + 1;
  }
  return true;
}

FrameParser::Kind FrameParser::Fail(std::uint16_t code, const char* why) {
  failed_ = true;
  close_code_ = code;
  error_ = why;
  return Kind::kFail;
}

std::size_t FrameParser::WantBytes(std::string_view input) const {
  if (input.size() < 2) return 2;
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t header = HeaderSize(p[1]);
  if (input.size() < header) return header;
  std::uint64_t len = PayloadLength(p);
  // Never more than the limit allows: Parse fails such a frame as soon as its header is in.
  return header + static_cast<std::size_t>(std::min<std::uint64_t>(len, max_message_ + 1));
}

FrameParser::Kind FrameParser::Parse(std::string_view input, std::size_t& consumed) {
  consumed = 0;
  if (failed_) return Kind::kFail;
  if (input.size() < 2) return Kind::kNeedMore;
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  const bool fin = p[0] & 0x80;
  if (p[0] & 0x70) return Fail(kCloseProtocolError, "reserved bits set (no extension was negotiated)");
  const auto opcode = static_cast<Opcode>(p[0] & 0x0F);
  if (!(p[1] & 0x80)) return Fail(kCloseProtocolError, "unmasked client frame");
  const std::size_t header = HeaderSize(p[1]);
  if (input.size() < header) return Kind::kNeedMore;
  const std::uint64_t len = PayloadLength(p);
  if ((p[1] & 0x7F) == 127 && (len >> 63)) return Fail(kCloseProtocolError, "payload length with the top bit set");

  const bool control = static_cast<std::uint8_t>(opcode) & 0x8;
  if (control) {
    if (opcode != Opcode::kClose && opcode != Opcode::kPing && opcode != Opcode::kPong) {
      return Fail(kCloseProtocolError, "reserved control opcode");
    }
    if (!fin) return Fail(kCloseProtocolError, "fragmented control frame");
    if (len > kMaxControlPayload) return Fail(kCloseProtocolError, "control frame payload over 125 bytes");
  } else {
    if (opcode != Opcode::kContinuation && opcode != Opcode::kText && opcode != Opcode::kBinary) {
      return Fail(kCloseProtocolError, "reserved data opcode");
    }
    const bool inside = message_opcode_ != Opcode::kContinuation;
    if (opcode == Opcode::kContinuation && !inside) return Fail(kCloseProtocolError, "continuation frame outside a message");
    if (opcode != Opcode::kContinuation && inside) return Fail(kCloseProtocolError, "new message before the last one ended");
    const std::size_t so_far = inside ? message_.size() : 0;
    if (len > max_message_ || so_far + len > max_message_) return Fail(kCloseTooBig, "message too big");
  }
  if (input.size() - header < len) return Kind::kNeedMore;
  const unsigned char* key = p + header - 4;
  const unsigned char* payload = p + header;
  const auto n = static_cast<std::size_t>(len);
  consumed = header + n;

  if (control) {
    control_.resize(n);
    Unmask(payload, n, key, control_.data());
    if (opcode == Opcode::kPing) return Kind::kPing;
    if (opcode == Opcode::kPong) return Kind::kPong;
    if (n == 0) {
      close_code_ = 1005;  // "no status received"
      return Kind::kClose;
    }
    if (n == 1) return Fail(kCloseProtocolError, "close frame with a one-byte payload");
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                                 static_cast<unsigned char>(control_[1]));
    if (!ValidCloseCode(code)) return Fail(kCloseProtocolError, "invalid close code");
    control_.erase(0, 2);
    if (!ValidUtf8(control_)) return Fail(kCloseInvalidPayload, "close reason is not UTF-8");
    close_code_ = code;
    return Kind::kClose;
  }

  if (opcode != Opcode::kContinuation) {
    message_opcode_ = opcode;
    message_.clear();
  }
  const std::size_t old = message_.size();
  message_.resize(old + n);
  Unmask(payload, n, key, message_.data() + old);
  if (!fin) return Kind::kNeedMore;
  const bool text = message_opcode_ == Opcode::kText;
  message_opcode_ = Opcode::kContinuation;
  if (text && !ValidUtf8(message_)) return Fail(kCloseInvalidPayload, "text message is not UTF-8");
  return text ? Kind::kText : Kind::kBinary;
}

std::string HandshakeAccept(std::string_view key) {
  auto base64_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  // 16 bytes are 22 base64 characters and "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=' ||
      !std::all_of(key.begin(), key.begin() + 22, base64_char)) {
    return "";
  }
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string material(key);
  material += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string HandshakeResponse(std::string_view accept) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  out += accept;
  out += "\r\nServer: veza\r\n\r\n";
  return out;
}

}  // namespace veza::http::ws

namespace veza::http {

WebSocket::Frame WebSocket::EncodeText(std::string_view text) {
  return std::make_shared<const std::string>(ws::EncodeFrame(ws::Opcode::kText, text));
}

}  // namespace veza::http
