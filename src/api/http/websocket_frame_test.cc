// RFC 6455 framing without sockets: server frame encoding and the client frame parser's rules.
#include "api/http/websocket_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace veza::http::ws {
namespace {

// A client frame: masked with a fixed key unless masked is false.
std::string ClientFrame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string out;
  out += static_cast<char>(first_byte);
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((std::uint64_t{payload.size()} >> shift) & 0xFF);
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i];
  return out;
}

struct Parsed {
  std::vector<FrameParser::Kind> kinds;
  std::string last_message;
  std::uint16_t close_code = 0;
};

// Feeds the bytes one at a time (the worst split a TCP stream can make) and collects events.
Parsed ParseAll(FrameParser& parser, const std::string& bytes) {
  Parsed out;
  std::string buffer;
  for (char c : bytes) {
    buffer += c;
    for (;;) {
      std::size_t consumed = 0;
      auto kind = parser.Parse(buffer, consumed);
      buffer.erase(0, consumed);
      if (kind == FrameParser::Kind::kNeedMore) {
        if (consumed > 0) continue;
        break;
      }
      out.kinds.push_back(kind);
      if (kind == FrameParser::Kind::kText || kind == FrameParser::Kind::kBinary) out.last_message = parser.message();
      if (kind == FrameParser::Kind::kClose || kind == FrameParser::Kind::kFail) out.close_code = parser.close_code();
      if (kind == FrameParser::Kind::kFail) return out;
    }
  }
  return out;
}

using K = FrameParser::Kind;

TEST(WebSocketFrame, HandshakeAcceptIsTheRfcsAndBadKeysHaveNone) {
  EXPECT_EQ(HandshakeAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 section 1.3
  for (const char* bad : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x", "dGhlIHNhbXBsZSBub2 jZQ==",
                          "dGhlIHNhbXBsZSBub25jZ===", "ZGhlIHNhbXBsZSBub25jZQ=a"}) {
    EXPECT_EQ(HandshakeAccept(bad), "") << bad;
  }
  std::string response = HandshakeResponse("abc=");
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(response.find("\r\nSec-WebSocket-Accept: abc=\r\n"), std::string::npos);
  EXPECT_EQ(response.substr(response.size() - 4), "\r\n\r\n");
}

TEST(WebSocketFrame, EncodesUnmaskedServerFramesWithEveryLengthForm) {
  EXPECT_EQ(EncodeFrame(Opcode::kText, "hi"), std::string("\x81\x02hi", 4));
  std::string mid = EncodeFrame(Opcode::kText, std::string(300, 'a'));
  EXPECT_EQ(mid.substr(0, 4), std::string("\x81\x7e\x01\x2c", 4));
  EXPECT_EQ(mid.size(), 304u);
  std::string big = EncodeFrame(Opcode::kBinary, std::string(70000, 'b'));
  EXPECT_EQ(big.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  EXPECT_EQ(EncodeClose(1000, "bye"), std::string("\x88\x05\x03\xe8" "bye", 7));
  // A long reason is cut to 123 bytes without splitting a character.
  std::string reason = std::string(122, 'x') + "\xc3\xa9";
  EXPECT_EQ(EncodeClose(4000, reason).size(), 2u + 2 + 122);
}

TEST(WebSocketFrame, ParsesMaskedMessagesSplitAnywhere) {
  FrameParser parser(1024);
  auto r = ParseAll(parser, ClientFrame(0x81, "hello") + ClientFrame(0x82, std::string("\x00\x01", 2)));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kText, K::kBinary}));
  EXPECT_EQ(r.last_message, std::string("\x00\x01", 2));
}

TEST(WebSocketFrame, ReassemblesFragmentsWithControlFramesBetweenThem) {
  FrameParser parser(1024);
  auto r = ParseAll(parser, ClientFrame(0x01, "hel") + ClientFrame(0x89, "p") + ClientFrame(0x00, "lo ") +
                                ClientFrame(0x8A, "") + ClientFrame(0x80, "world"));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kPing, K::kPong, K::kText}));
  EXPECT_EQ(r.last_message, "hello world");
}

TEST(WebSocketFrame, ReadsTheExtendedLengthForms) {
  FrameParser parser(100'000);
  auto r = ParseAll(parser, ClientFrame(0x81, std::string(300, 'a')) + ClientFrame(0x82, std::string(70'000, 'b')));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kText, K::kBinary}));
  EXPECT_EQ(r.last_message.size(), 70'000u);
}

TEST(WebSocketFrame, UnmaskedClientFrameIsAProtocolError) {
  FrameParser parser(1024);
  auto r = ParseAll(parser, ClientFrame(0x81, "hi", /*masked=*/false));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kFail}));
  EXPECT_EQ(r.close_code, 1002);
}

TEST(WebSocketFrame, ProtocolErrorsAre1002) {
  const std::vector<std::string> bad = {
      ClientFrame(0xC1, "x"),                        // RSV1 without an extension
      ClientFrame(0x83, "x"),                        // reserved data opcode
      ClientFrame(0x8B, "x"),                        // reserved control opcode
      ClientFrame(0x09, "x"),                        // fragmented ping
      ClientFrame(0x89, std::string(126, 'p')),      // control payload over 125
      ClientFrame(0x80, "x"),                        // continuation outside a message
      ClientFrame(0x01, "a") + ClientFrame(0x81, "b"),  // new message inside a fragmented one
      ClientFrame(0x88, "x"),                        // close with a one-byte payload
      ClientFrame(0x88, std::string("\x03\xed", 2)),  // close code 1005 may not be sent
      ClientFrame(0x88, std::string("\x0b\xb7", 2)),  // close code 2999 is reserved
  };
  for (const auto& bytes : bad) {
    FrameParser parser(1024);
    auto r = ParseAll(parser, bytes);
    ASSERT_FALSE(r.kinds.empty());
    EXPECT_EQ(r.kinds.back(), K::kFail) << parser.error();
    EXPECT_EQ(r.close_code, 1002) << parser.error();
  }
}

TEST(WebSocketFrame, InvalidUtf8InTextOrCloseReasonIs1007) {
  for (const auto& bytes : {ClientFrame(0x81, "\xc0\xaf"),                           // overlong '/'
                            ClientFrame(0x81, "\xed\xa0\x80"),                       // a surrogate
                            ClientFrame(0x01, "ok \xe2\x82") + ClientFrame(0x80, "x"),  // cut across fragments
                            ClientFrame(0x88, std::string("\x03\xe8\xff", 3))}) {    // close reason
    FrameParser parser(1024);
    auto r = ParseAll(parser, bytes);
    ASSERT_FALSE(r.kinds.empty());
    EXPECT_EQ(r.kinds.back(), K::kFail);
    EXPECT_EQ(r.close_code, 1007) << parser.error();
  }
  // A character split across two fragments is fine once the message is whole.
  FrameParser parser(1024);
  auto r = ParseAll(parser, ClientFrame(0x01, "caf\xc3") + ClientFrame(0x80, "\xa9 \xf0\x9f\x8e\xb5"));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kText}));
  EXPECT_EQ(r.last_message, "caf\xc3\xa9 \xf0\x9f\x8e\xb5");
  // Binary messages are not text.
  FrameParser binary(1024);
  EXPECT_EQ(ParseAll(binary, ClientFrame(0x82, "\xff\xfe")).kinds, (std::vector<K>{K::kBinary}));
}

TEST(WebSocketFrame, MessagesOverTheLimitAre1009AsSoonAsTheHeaderSaysSo) {
  FrameParser parser(10);
  std::string frame = ClientFrame(0x81, std::string(11, 'x'));
  std::size_t consumed = 0;
  // Only the header: the payload need not arrive before the parser refuses it.
  EXPECT_EQ(parser.Parse(std::string_view(frame).substr(0, 6), consumed), K::kFail);
  EXPECT_EQ(parser.close_code(), 1009);
  // Fragments add up.
  FrameParser fragments(10);
  auto r = ParseAll(fragments, ClientFrame(0x01, "123456") + ClientFrame(0x80, "78901"));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kFail}));
  EXPECT_EQ(r.close_code, 1009);
}

TEST(WebSocketFrame, CloseFramesGiveTheCodeAndReason) {
  FrameParser parser(1024);
  auto r = ParseAll(parser, ClientFrame(0x88, std::string("\x0f\xa0", 2) + "gone"));
  ASSERT_EQ(r.kinds, (std::vector<K>{K::kClose}));
  EXPECT_EQ(r.close_code, 4000);
  EXPECT_EQ(parser.control(), "gone");
  FrameParser empty(1024);
  EXPECT_EQ(ParseAll(empty, ClientFrame(0x88, "")).close_code, 1005);
}

TEST(WebSocketFrame, ValidatesUtf8) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8("plain ascii text longer than eight bytes"));
  EXPECT_TRUE(ValidUtf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_FALSE(ValidUtf8("\xf4\x90\x80\x80"));     // past U+10FFFF
  EXPECT_FALSE(ValidUtf8("\xe0\x80\xaf"));         // overlong
  EXPECT_FALSE(ValidUtf8("abcdefgh\x80"));         // a lone continuation byte after an ASCII run
  EXPECT_FALSE(ValidUtf8("\xe2\x82"));             // cut short
}

}  // namespace
}  // namespace veza::http::ws
