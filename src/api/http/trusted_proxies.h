#pragma once
// Which peers (nginx, a load balancer) may name the client's address in X-Forwarded-For, and how
// that address is read. Rate limits, analytics and the access log key on it, so an untrusted
// peer's header is ignored: anyone could claim any address with it.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "base/result.h"

namespace veza::http {

class TrustedProxies {
 public:
  // Each spec is an address ("10.0.0.5", "::1") or a network ("10.0.0.0/8", "fd00::/8").
  static Result<TrustedProxies> Parse(const std::vector<std::string>& specs);

  bool empty() const { return networks_.empty(); }
  bool Contains(const boost::asio::ip::address& address) const;
  // The client of a request from peer. Behind a trusted peer, X-Forwarded-For (every field of
  // it, joined by commas, as received) is read from the right and the first address that is not
  // itself a trusted proxy is the client: the entries to its left are whatever that client sent.
  // An untrusted peer, a missing header or an unreadable entry leaves the peer's address.
  std::string ClientAddress(const boost::asio::ip::address& peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    std::array<unsigned char, 16> bytes;  // IPv4 as IPv4-mapped IPv6
    int prefix_bits;
  };
  std::vector<Network> networks_;
};

// Dotted quad for IPv4, RFC 5952 text for IPv6.
std::string FormatAddress(const boost::asio::ip::address& address);

}  // namespace veza::http
