#pragma once
// In-process Cache backend (`memory://?max_entries=100000`): one node only, bounded by entry
// count with LRU eviction, TTLs checked on access and swept at most once a second per shard
// on writes (no background thread, so nothing to stop). Keys are spread over sharded mutexes
// so concurrent callers rarely contend.
#include <cstddef>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/cache.h"
#include "ports/clock.h"

namespace veza {

struct MemoryCacheOptions {
  std::size_t max_entries = 100'000;
  // Power of two; lowered automatically when max_entries is small so the bound stays exact
  // enough (each shard holds at most ceil(max_entries / shards) entries).
  std::size_t shards = 16;
};

// Parses `memory://` with optional query parameters max_entries (>= 1) and shards.
Result<MemoryCacheOptions> ParseMemoryCacheUrl(std::string_view url);

Result<std::unique_ptr<Cache>> OpenMemoryCache(std::string_view url);

// For tests: a cache over an injected clock (only Monotonic() is used). The clock must outlive
// the cache.
std::unique_ptr<Cache> NewMemoryCache(const MemoryCacheOptions& options, const Clock* clock);

}  // namespace veza
