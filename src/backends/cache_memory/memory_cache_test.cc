#include "backends/cache_memory/memory_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace veza {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(Since());
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(Since());
  }
  void Advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }

 private:
  std::chrono::milliseconds Since() const { return std::chrono::milliseconds(now_ms_.load()); }
  std::atomic<std::int64_t> now_ms_{1'000'000};
};

std::optional<std::string> MustGet(Cache& cache, std::string_view key) {
  auto r = cache.Get(key);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::nullopt;
}

TEST(MemoryCacheTest, TtlExpiresExactlyAtDeadline) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  ASSERT_TRUE(cache->Set("k", "v", 100ms).ok());
  clock.Advance(99ms);
  EXPECT_EQ(MustGet(*cache, "k"), "v");
  clock.Advance(1ms);
  EXPECT_EQ(MustGet(*cache, "k"), std::nullopt);
}

TEST(MemoryCacheTest, ZeroTtlNeverExpires) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  ASSERT_TRUE(cache->Set("k", "v", 0ms).ok());
  clock.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(MustGet(*cache, "k"), "v");
}

TEST(MemoryCacheTest, NegativeTtlIsRejected) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  auto s = cache->Set("k", "v", -1ms);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST(MemoryCacheTest, SetIfAbsentSucceedsAfterExpiry) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  EXPECT_TRUE(*cache->SetIfAbsent("k", "a", 50ms));
  EXPECT_FALSE(*cache->SetIfAbsent("k", "b", 50ms));
  clock.Advance(50ms);
  EXPECT_TRUE(*cache->SetIfAbsent("k", "c", 50ms));
  EXPECT_EQ(MustGet(*cache, "k"), "c");
}

TEST(MemoryCacheTest, IncrementKeepsTtlOfCreation) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  EXPECT_EQ(*cache->Increment("c", 1, 100ms), 1);
  clock.Advance(60ms);
  // A later increment with a new ttl must not push the window out (fixed-window rate limits).
  EXPECT_EQ(*cache->Increment("c", 2, 100ms), 3);
  clock.Advance(40ms);
  EXPECT_EQ(MustGet(*cache, "c"), std::nullopt);
  EXPECT_EQ(*cache->Increment("c", 5, 100ms), 5);  // a fresh window
}

TEST(MemoryCacheTest, IncrementRejectsNonIntegerAndOverflow) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  ASSERT_TRUE(cache->Set("s", "abc", 0ms).ok());
  auto r = cache->Increment("s", 1, 0ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

  ASSERT_TRUE(cache->Set("big", std::to_string(INT64_MAX), 0ms).ok());
  r = cache->Increment("big", 1, 0ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(MustGet(*cache, "big"), std::to_string(INT64_MAX));

  ASSERT_TRUE(cache->Set("n", "-7", 0ms).ok());
  EXPECT_EQ(*cache->Increment("n", 10, 0ms), 3);
}

TEST(MemoryCacheTest, EvictsLeastRecentlyUsed) {
  FakeClock clock;
  auto cache = NewMemoryCache({.max_entries = 3, .shards = 16}, &clock);  // one shard
  ASSERT_TRUE(cache->Set("a", "1", 0ms).ok());
  ASSERT_TRUE(cache->Set("b", "2", 0ms).ok());
  ASSERT_TRUE(cache->Set("c", "3", 0ms).ok());
  EXPECT_EQ(MustGet(*cache, "a"), "1");  // a is now the most recent; b the least
  ASSERT_TRUE(cache->Set("d", "4", 0ms).ok());
  EXPECT_EQ(MustGet(*cache, "b"), std::nullopt);
  EXPECT_EQ(MustGet(*cache, "a"), "1");
  EXPECT_EQ(MustGet(*cache, "c"), "3");
  EXPECT_EQ(MustGet(*cache, "d"), "4");
  // Use order is now d, c, a (most recent first). Overwriting refreshes recency too.
  ASSERT_TRUE(cache->Set("c", "33", 0ms).ok());
  ASSERT_TRUE(cache->Set("e", "5", 0ms).ok());
  EXPECT_EQ(MustGet(*cache, "a"), std::nullopt);
  EXPECT_EQ(MustGet(*cache, "c"), "33");
  EXPECT_EQ(MustGet(*cache, "d"), "4");
}

TEST(MemoryCacheTest, BoundHoldsAcrossShards) {
  FakeClock clock;
  auto cache = NewMemoryCache({.max_entries = 1024, .shards = 16}, &clock);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(cache->Set("k" + std::to_string(i), "v", 0ms).ok());
  int live = 0;
  for (int i = 0; i < 10'000; ++i) live += MustGet(*cache, "k" + std::to_string(i)).has_value();
  EXPECT_LE(live, 1024);
  EXPECT_GT(live, 900);  // shards fill unevenly, but not wildly
  // The most recent writes are always kept.
  for (int i = 9'990; i < 10'000; ++i) EXPECT_TRUE(MustGet(*cache, "k" + std::to_string(i)));
}

TEST(MemoryCacheTest, SweepFreesSlotsOfExpiredEntries) {
  FakeClock clock;
  auto cache = NewMemoryCache({.max_entries = 4, .shards = 1}, &clock);
  ASSERT_TRUE(cache->Set("keep", "1", 0ms).ok());
  ASSERT_TRUE(cache->Set("x1", "1", 10ms).ok());
  ASSERT_TRUE(cache->Set("x2", "1", 10ms).ok());
  ASSERT_TRUE(cache->Set("x3", "1", 10ms).ok());
  clock.Advance(2s);
  // keep is the least recently used entry, but the sweep on this write drops the expired
  // x1..x3 first, so no live entry has to be evicted.
  ASSERT_TRUE(cache->Set("y1", "1", 0ms).ok());
  EXPECT_EQ(MustGet(*cache, "keep"), "1");
  EXPECT_EQ(MustGet(*cache, "y1"), "1");
}

TEST(MemoryCacheTest, ConcurrentIncrementsAreAtomic) {
  FakeClock clock;
  auto cache = NewMemoryCache({}, &clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        auto r = cache->Increment("ctr", 1, 0ms);
        ASSERT_TRUE(r.ok());
        r = cache->Increment("other" + std::to_string(i % 50), 1, 0ms);
        ASSERT_TRUE(r.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(MustGet(*cache, "ctr"), "40000");
}

TEST(MemoryCacheTest, ParsesUrl) {
  auto o = ParseMemoryCacheUrl("memory://");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->max_entries, 100'000u);
  o = ParseMemoryCacheUrl("memory://?max_entries=42");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->max_entries, 42u);
  for (const char* bad : {"memory://?max_entries=0", "memory://?max_entries=x",
                          "memory://?max_entrie=5", "redis://localhost", "memory://?max_entries"}) {
    auto r = ParseMemoryCacheUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(OpenMemoryCache("memory://?max_entries=10").ok());
}

}  // namespace
}  // namespace veza
