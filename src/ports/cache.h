#pragma once
// Cache port: short-lived shared state (sessions, revoked tokens, rate-limit counters).
// In-memory (bounded, one node) or Redis (shared by every node). Calls block briefly.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace veza {

class Cache {
 public:
  virtual ~Cache() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // ttl of zero means no expiry.
  virtual Status Set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) = 0;
  // Sets only if absent; true when this call set it.
  virtual Result<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   std::chrono::milliseconds ttl) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // Adds delta to an integer counter (created at 0 with ttl if absent; ttl not reset after);
  // returns the new value. The building block of rate limits.
  virtual Result<std::int64_t> Increment(std::string_view key, std::int64_t delta,
                                         std::chrono::milliseconds ttl) = 0;
  virtual Status Ping() = 0;
};

}  // namespace veza
