#include "api/http/trusted_proxies.h"

#include <algorithm>
#include <charconv>

namespace veza::http {
namespace asio = boost::asio;

namespace {

std::array<unsigned char, 16> MappedBytes(const asio::ip::address& address) {
  if (address.is_v6()) {
    auto v6 = address.to_v6();
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; it matches IPv4 networks.
    return v6.to_bytes();
  }
  return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An X-Forwarded-For entry: "203.0.113.7", "2001:db8::1", "[2001:db8::1]:4711" or
// "203.0.113.7:4711" (some proxies add the port).
bool ParseForwardedEntry(std::string_view entry, asio::ip::address& out) {
  entry = Trim(entry);
  if (entry.empty() || entry.size() > 64) return false;
  if (entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos) return false;
    entry = entry.substr(1, close - 1);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    entry = entry.substr(0, entry.find(':'));
  }
  boost::system::error_code ec;
  out = asio::ip::make_address(std::string(entry), ec);
  if (ec) return false;
  if (out.is_v6() && out.to_v6().is_v4_mapped()) out = asio::ip::make_address_v4(asio::ip::v4_mapped, out.to_v6());
  return true;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& specs) {
  TrustedProxies proxies;
  for (const std::string& spec : specs) {
    std::string_view text = Trim(spec);
    if (text.empty()) continue;
    auto slash = text.find('/');
    boost::system::error_code ec;
    auto address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return InvalidArgument("trusted proxy '" + spec + "' is not an address or a network (10.0.0.0/8, fd00::/8)");
    int max_bits = address.is_v4() ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (err != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > max_bits) {
        return InvalidArgument("trusted proxy '" + spec + "' has a bad prefix length (0-" + std::to_string(max_bits) + ")");
      }
    }
    proxies.networks_.push_back({MappedBytes(address), address.is_v4() ? bits + 96 : bits});
  }
  return proxies;
}

bool TrustedProxies::Contains(const asio::ip::address& address) const {
  auto bytes = MappedBytes(address);
  for (const Network& network : networks_) {
    int full = network.prefix_bits / 8, rest = network.prefix_bits % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + full, network.bytes.begin())) continue;
    if (rest != 0) {
      unsigned mask = (0xFFu << (8 - rest)) & 0xFFu;
      if ((bytes[full] & mask) != (network.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(const asio::ip::address& peer, std::string_view forwarded_for) const {
  if (networks_.empty() || forwarded_for.empty() || !Contains(peer)) return FormatAddress(peer);
  asio::ip::address hop = peer;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view entry = comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    forwarded_for = comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
    asio::ip::address next;
    // An entry a trusted proxy would not write ends the walk at the last address known good.
    if (!ParseForwardedEntry(entry, next)) break;
    hop = next;
    if (!Contains(hop)) break;
  }
  return FormatAddress(hop);
}

std::string FormatAddress(const asio::ip::address& address) {
  if (!address.is_v4()) return address.to_string();
  auto bytes = address.to_v4().to_bytes();
  char out[16];
  char* p = out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned v = bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i + 1 < bytes.size()) *p++ = '.';
  }
  return std::string(out, p);
}

}  // namespace veza::http
