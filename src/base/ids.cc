#include "base/ids.h"

#include <cstdlib>

#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace veza {

std::string NewSecretToken() {
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();  // no entropy: never hand out a guessable secret
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[b[i] >> 4];
    out[2 * i + 1] = kHex[b[i] & 0xf];
  }
  return out;
}

std::string NewId() {
  unsigned char b[16];
  RAND_bytes(b + 6, 10);
  auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  // RFC 9562 section 6.2, method 1: a 12-bit counter in rand_a, restarted at a random value
  // below 2^11 each millisecond, so ids made by this process are strictly increasing even
  // within one millisecond (and when the clock steps back); on overflow the timestamp moves on.
  std::uint64_t ms;
  unsigned counter;
  {
    static std::mutex mu;
    static std::uint64_t last_ms = 0;
    static unsigned last_counter = 0;
    std::lock_guard lock(mu);
    if (now > last_ms) {
      last_ms = now;
      last_counter = (static_cast<unsigned>(b[6]) << 8 | b[7]) & 0x7ff;
    } else if (++last_counter > 0xfff) {
      ++last_ms;
      last_counter = 0;
    }
    ms = last_ms;
    counter = last_counter;
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (counter >> 8));  // version 7, counter high bits
  b[7] = static_cast<unsigned char>(counter & 0xff);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace veza
