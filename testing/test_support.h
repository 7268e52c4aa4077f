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

}  // namespace veza::test

#define ASSERT_OK(expr) ASSERT_TRUE(::veza::test::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::veza::test::IsOk(expr))
