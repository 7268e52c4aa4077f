#include "api/http/trusted_proxies.h"

#include <gtest/gtest.h>

namespace veza::http {
namespace {

boost::asio::ip::address Ip(const char* text) { return boost::asio::ip::make_address(text); }

TrustedProxies Parsed(std::vector<std::string> specs) {
  auto proxies = TrustedProxies::Parse(specs);
  EXPECT_TRUE(proxies.ok()) << proxies.error().message;
  return proxies.ok() ? std::move(*proxies) : TrustedProxies{};
}

TEST(TrustedProxies, MatchAddressesAndNetworksOfBothFamilies) {
  auto proxies = Parsed({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", " ::1 "});
  EXPECT_TRUE(proxies.Contains(Ip("127.0.0.1")));
  EXPECT_FALSE(proxies.Contains(Ip("127.0.0.2")));
  EXPECT_TRUE(proxies.Contains(Ip("10.255.3.4")));
  EXPECT_FALSE(proxies.Contains(Ip("11.0.0.1")));
  EXPECT_TRUE(proxies.Contains(Ip("192.168.1.200")));
  EXPECT_FALSE(proxies.Contains(Ip("192.168.1.100")));
  EXPECT_TRUE(proxies.Contains(Ip("fd12:3456::1")));
  EXPECT_FALSE(proxies.Contains(Ip("fe80::1")));
  EXPECT_TRUE(proxies.Contains(Ip("::1")));
  // An IPv4 peer on a dual-stack socket.
  EXPECT_TRUE(proxies.Contains(Ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(Parsed({}).Contains(Ip("127.0.0.1")));
}

TEST(TrustedProxies, BadSpecsAreRefusedWithTheirText) {
  for (const char* bad : {"localhost", "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/8x", "1.2.3"}) {
    auto proxies = TrustedProxies::Parse({bad});
    ASSERT_FALSE(proxies.ok()) << bad;
    EXPECT_NE(proxies.error().message.find(bad), std::string::npos) << proxies.error().message;
  }
}

TEST(TrustedProxies, TheClientIsTheRightmostUntrustedForwardedAddress) {
  auto proxies = Parsed({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "203.0.113.7"), "203.0.113.7");
  // Whatever the client sent itself stays to the left of what the proxies appended.
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "1.1.1.1, 203.0.113.7, 10.0.0.5"), "203.0.113.7");
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "[2001:db8::7]:4711"), "2001:db8::7");
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "203.0.113.7:4711"), "203.0.113.7");
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "::ffff:203.0.113.7"), "203.0.113.7");
  // Only trusted hops: the leftmost of them.
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "10.0.0.9, 10.0.0.5"), "10.0.0.9");
  // A garbled entry ends the walk at the last good hop.
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "203.0.113.7, not-an-ip"), "127.0.0.1");
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), "203.0.113.7, not-an-ip, 10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(proxies.ClientAddress(Ip("127.0.0.1"), ""), "127.0.0.1");
  // An untrusted peer's header is ignored.
  EXPECT_EQ(proxies.ClientAddress(Ip("198.51.100.1"), "203.0.113.7"), "198.51.100.1");
  EXPECT_EQ(Parsed({}).ClientAddress(Ip("127.0.0.1"), "203.0.113.7"), "127.0.0.1");
}

}  // namespace
}  // namespace veza::http
