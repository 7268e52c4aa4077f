#pragma once
// A Clock that moves only when the test says so (expiry of mutes, bans, cached lists).
#include <atomic>
#include <chrono>

#include "ports/clock.h"

namespace veza::test {

class ManualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(wall_ms_.load()));
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(steady_ms_.load()));
  }
  void Advance(std::chrono::milliseconds d) {
    wall_ms_ += d.count();
    steady_ms_ += d.count();
  }

 private:
  std::atomic<std::int64_t> wall_ms_{1'700'000'000'000};
  std::atomic<std::int64_t> steady_ms_{1'000'000};
};

}  // namespace veza::test
