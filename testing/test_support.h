#pragma once
// Assertions and names shared by the unit, contract and functional tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <random>
#include <string>

#include "base/error.h"

namespace veza::test {

// EXPECT_OK(result_or_status): on failure prints the error code and message.
template <class R>
::testing::AssertionResult IsOk(const R& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << ErrorCodeName(r.error().code) << ": " << r.error().message;
}

// A name no other test process will pick: a letter then 16 hex digits. Tests running in parallel
// against one shared server keep apart by prefixing their keys, subjects and databases with it.
inline std::string RandomToken() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                    (static_cast<std::uint64_t>(::getpid()) << 16) ^
                    static_cast<std::uint64_t>(counter.fetch_add(1));
  char buf[17];
  auto [p, ec] = std::to_chars(buf, buf + 16, v, 16);
  return "t" + std::string(buf, p);
}

// n bytes that are a real audio file (uploads are probed): a WAV header (8-bit mono PCM,
// 8 kHz) followed by seeded noise, so any byte count from 44 up is a valid track.
inline std::string NoiseWav(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  if (n < 44) return s;
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto put16 = [&](std::size_t at, std::uint16_t v) {
    s[at] = static_cast<char>(v & 0xff);
    s[at + 1] = static_cast<char>(v >> 8);
  };
  s.replace(0, 4, "RIFF");
  put32(4, static_cast<std::uint32_t>(n - 8));
  s.replace(8, 8, "WAVEfmt ");
  put32(16, 16);
  put16(20, 1);     // PCM
  put16(22, 1);     // mono
  put32(24, 8000);  // Hz
  put32(28, 8000);  // bytes per second
  put16(32, 1);     // block align
  put16(34, 8);     // bits per sample
  s.replace(36, 4, "data");
  put32(40, static_cast<std::uint32_t>(n - 44));
  return s;
}

}  // namespace veza::test

#define ASSERT_OK(expr) ASSERT_TRUE(::veza::test::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::veza::test::IsOk(expr))
