#include "backends/cache_memory/memory_cache.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/url.h"

namespace veza {
namespace {

using Steady = std::chrono::steady_clock;
constexpr Steady::time_point kNever = Steady::time_point::max();
// How often a shard drops expired entries that nobody reads any more. Reads drop them on
// sight; the sweep only keeps dead entries from holding LRU slots for long.
constexpr auto kSweepInterval = std::chrono::seconds(1);

Result<std::size_t> ParsePositive(std::string_view name, std::string_view text) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0) {
    return InvalidArgument("memory cache: " + std::string(name) + " must be a positive integer");
  }
  return v;
}

struct Entry {
  std::string key;
  std::string value;
  Steady::time_point expires = kNever;
};

class Shard {
 public:
  explicit Shard(std::size_t capacity) : capacity_(capacity) {}

  std::optional<std::string> Get(std::string_view key, Steady::time_point now) {
    std::lock_guard lock(mu_);
    auto* e = FindLive(key, now);
    if (e == nullptr) return std::nullopt;
    return e->value;
  }

  void Set(std::string_view key, std::string_view value, Steady::time_point expires,
           Steady::time_point now) {
    std::lock_guard lock(mu_);
    MaybeSweep(now);
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->value.assign(value);
      it->second->expires = expires;
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    Insert(key, std::string(value), expires);
  }

  bool SetIfAbsent(std::string_view key, std::string_view value, Steady::time_point expires,
                   Steady::time_point now) {
    std::lock_guard lock(mu_);
    MaybeSweep(now);
    if (FindLive(key, now) != nullptr) return false;
    Insert(key, std::string(value), expires);
    return true;
  }

  void Delete(std::string_view key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return;
    auto node = it->second;
    index_.erase(it);
    lru_.erase(node);
  }

  Result<std::int64_t> Increment(std::string_view key, std::int64_t delta,
                                 Steady::time_point expires_if_created, Steady::time_point now) {
    std::lock_guard lock(mu_);
    MaybeSweep(now);
    Entry* e = FindLive(key, now);
    if (e == nullptr) {
      Insert(key, std::to_string(delta), expires_if_created);
      return delta;
    }
    std::int64_t current = 0;
    const char* begin = e->value.data();
    const char* end = begin + e->value.size();
    auto [p, ec] = std::from_chars(begin, end, current);
    if (ec != std::errc() || p != end) {
      return InvalidArgument("cache value is not an integer");
    }
    std::int64_t next = 0;
    if (__builtin_add_overflow(current, delta, &next)) {
      return InvalidArgument("cache increment would overflow");
    }
    e->value = std::to_string(next);  // expiry deliberately untouched
    return next;
  }

 private:
  using List = std::list<Entry>;

  // Returns the live entry (marking it most recently used) or drops an expired one.
  Entry* FindLive(std::string_view key, Steady::time_point now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    auto node = it->second;
    if (node->expires <= now) {
      index_.erase(it);
      lru_.erase(node);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, node);
    return &*node;
  }

  void Insert(std::string_view key, std::string value, Steady::time_point expires) {
    lru_.push_front(Entry{std::string(key), std::move(value), expires});
    // The index key views the string inside the list node, which never moves.
    index_.emplace(std::string_view(lru_.front().key), lru_.begin());
    while (index_.size() > capacity_) {
      index_.erase(std::string_view(lru_.back().key));
      lru_.pop_back();
    }
  }

  void MaybeSweep(Steady::time_point now) {
    if (now - last_sweep_ < kSweepInterval) return;
    last_sweep_ = now;
    for (auto it = lru_.begin(); it != lru_.end();) {
      if (it->expires <= now) {
        index_.erase(std::string_view(it->key));
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::mutex mu_;
  const std::size_t capacity_;
  List lru_;  // front = most recently used
  std::unordered_map<std::string_view, List::iterator> index_;
  Steady::time_point last_sweep_{};
};

class MemoryCache final : public Cache {
 public:
  MemoryCache(const MemoryCacheOptions& options, const Clock* clock,
              std::unique_ptr<Clock> owned_clock)
      : owned_clock_(std::move(owned_clock)), clock_(clock) {
    std::size_t shards = 1;
    // Keep at least ~64 entries per shard so the per-shard bound does not distort LRU much.
    while (shards * 2 <= options.shards && shards * 2 * 64 <= options.max_entries) shards *= 2;
    std::size_t per_shard = (options.max_entries + shards - 1) / shards;
    shards_.reserve(shards);
    for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>(per_shard));
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    return ShardFor(key).Get(key, clock_->Monotonic());
  }

  Status Set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    auto now = clock_->Monotonic();
    ShardFor(key).Set(key, value, ExpiresAt(now, ttl), now);
    return Ok();
  }

  Result<bool> SetIfAbsent(std::string_view key, std::string_view value,
                           std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    auto now = clock_->Monotonic();
    return ShardFor(key).SetIfAbsent(key, value, ExpiresAt(now, ttl), now);
  }

  Status Delete(std::string_view key) override {
    ShardFor(key).Delete(key);
    return Ok();
  }

  Result<std::int64_t> Increment(std::string_view key, std::int64_t delta,
                                 std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    auto now = clock_->Monotonic();
    return ShardFor(key).Increment(key, delta, ExpiresAt(now, ttl), now);
  }

  Status Ping() override { return Ok(); }

 private:
  static Steady::time_point ExpiresAt(Steady::time_point now, std::chrono::milliseconds ttl) {
    if (ttl.count() == 0) return kNever;
    return now + ttl;
  }

  Shard& ShardFor(std::string_view key) {
    // Multiply by a large odd constant so shard choice uses well-mixed bits even if the
    // standard hash is weak in the low bits.
    std::size_t h = std::hash<std::string_view>{}(key)*0x9E3779B97F4A7C15ull;
    return *shards_[(h >> 32) & (shards_.size() - 1)];
  }

  std::unique_ptr<Clock> owned_clock_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace

Result<MemoryCacheOptions> ParseMemoryCacheUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("memory cache: invalid url " + RedactUrl(url));
  const boost::urls::url_view& u = *parsed;
  if (u.scheme() != "memory") {
    return InvalidArgument("memory cache: url must start with memory://, got " + RedactUrl(url));
  }
  MemoryCacheOptions options;
  for (auto param : u.params()) {
    if (param.key == "max_entries") {
      VEZA_ASSIGN_OR_RETURN(options.max_entries, ParsePositive(param.key, param.value));
    } else if (param.key == "shards") {
      VEZA_ASSIGN_OR_RETURN(options.shards, ParsePositive(param.key, param.value));
    } else {
      return InvalidArgument("memory cache: unknown url parameter '" + std::string(param.key) +
                             "' (known: max_entries, shards)");
    }
  }
  return options;
}

Result<std::unique_ptr<Cache>> OpenMemoryCache(std::string_view url) {
  VEZA_ASSIGN_OR_RETURN(MemoryCacheOptions options, ParseMemoryCacheUrl(url));
  auto clock = std::make_unique<SystemClock>();
  const Clock* raw = clock.get();
  return std::unique_ptr<Cache>(std::make_unique<MemoryCache>(options, raw, std::move(clock)));
}

std::unique_ptr<Cache> NewMemoryCache(const MemoryCacheOptions& options, const Clock* clock) {
  return std::make_unique<MemoryCache>(options, clock, nullptr);
}

}  // namespace veza
