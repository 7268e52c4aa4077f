#include "backends/cache_redis/redis_cache.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/url.h"

namespace veza {
namespace {

// INCRBY that sets the ttl only when this call created the counter, atomically (a script runs
// without interleaving), so a window never outlives its first increment by more than ttl.
constexpr std::string_view kIncrementScript =
    "local created = redis.call('EXISTS', KEYS[1]) == 0\n"
    "local v = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
    "if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return v\n";

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Maps a Redis error reply to our vocabulary: states where Redis cannot serve right now are
// kUnavailable (callers retry later), bad values are the caller's problem.
Error MapErrorReply(std::string_view text) {
  for (std::string_view p : {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN",
                             "NOAUTH", "MISCONF"}) {
    if (StartsWith(text, p)) return Unavailable("redis: " + std::string(text));
  }
  if (text.find("not an integer") != std::string_view::npos ||
      text.find("overflow") != std::string_view::npos) {
    return InvalidArgument("cache value is not an integer or the increment would overflow");
  }
  return Internal("redis: " + std::string(text));
}

// A pool of blocking hiredis connections; each is used by one thread at a time.
class Pool {
 public:
  Pool(RedisCacheOptions options, std::string redacted_url)
      : options_(std::move(options)), redacted_url_(std::move(redacted_url)) {}

  ~Pool() {
    for (redisContext* c : idle_) redisFree(c);
  }

  class Lease {
   public:
    Lease(Pool* pool, redisContext* ctx, bool reused) : pool_(pool), ctx_(ctx), reused_(reused) {}
    Lease(Lease&& o) noexcept
        : pool_(o.pool_), ctx_(std::exchange(o.ctx_, nullptr)), reused_(o.reused_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (ctx_ != nullptr) pool_->Release(ctx_);
    }
    redisContext* get() const { return ctx_; }
    bool reused() const { return reused_; }

   private:
    Pool* pool_;
    redisContext* ctx_;
    bool reused_;
  };

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
    while (idle_.empty() && total_ >= options_.pool_size) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          total_ >= options_.pool_size) {
        return Unavailable("redis at " + redacted_url_ + ": all " +
                           std::to_string(options_.pool_size) + " connections busy");
      }
    }
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return Lease(this, c, true);
    }
    ++total_;
    lock.unlock();
    auto made = Connect();
    if (!made.ok()) {
      lock.lock();
      --total_;
      cv_.notify_one();
      return made.take_error();
    }
    return Lease(this, *made, false);
  }

  // After a connection failed, the idle ones most likely died the same way (Redis restarted);
  // drop them so the next call does not pay a failed round trip per stale connection.
  void DropIdle() {
    std::vector<redisContext*> dead;
    {
      std::lock_guard lock(mu_);
      dead.swap(idle_);
      total_ -= static_cast<int>(dead.size());
      cv_.notify_all();
    }
    for (redisContext* c : dead) redisFree(c);
  }

  const std::string& redacted_url() const { return redacted_url_; }

 private:
  void Release(redisContext* c) {
    // A context with err set is unusable (hiredis will not recover it); replace it lazily.
    bool broken = c->err != 0;
    {
      std::lock_guard lock(mu_);
      if (broken) {
        --total_;
      } else {
        idle_.push_back(c);
      }
      cv_.notify_one();
    }
    if (broken) redisFree(c);
  }

  Result<redisContext*> Connect() {
    redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                              ToTimeval(options_.connect_timeout));
    if (c == nullptr) return Unavailable("redis at " + redacted_url_ + ": out of memory");
    if (c->err != 0) {
      std::string why = c->errstr;
      redisFree(c);
      return Unavailable("cannot connect to redis at " + redacted_url_ + ": " + why);
    }
    redisSetTimeout(c, ToTimeval(options_.command_timeout));
    redisEnableKeepAlive(c);
    auto fail = [&](std::string what) -> Error {
      redisFree(c);
      return Unavailable("redis at " + redacted_url_ + ": " + what);
    };
    if (!options_.password.empty()) {
      std::vector<std::string_view> args = {"AUTH"};
      if (!options_.username.empty()) args.push_back(options_.username);
      args.push_back(options_.password);
      std::vector<const char*> argv;
      std::vector<std::size_t> lens;
      for (auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      ReplyPtr r(static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
      if (!r) return fail(std::string("AUTH failed: ") + c->errstr);
      if (r->type == REDIS_REPLY_ERROR) return fail("AUTH failed: " + std::string(r->str, r->len));
    }
    if (options_.db != 0) {
      std::string db = std::to_string(options_.db);
      ReplyPtr r(static_cast<redisReply*>(redisCommand(c, "SELECT %s", db.c_str())));
      if (!r) return fail(std::string("SELECT failed: ") + c->errstr);
      if (r->type == REDIS_REPLY_ERROR)
        return fail("SELECT failed: " + std::string(r->str, r->len));
    }
    return c;
  }

  const RedisCacheOptions options_;
  const std::string redacted_url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;
  int total_ = 0;  // idle + leased
};

class RedisCache final : public Cache {
 public:
  explicit RedisCache(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Warm() {
    VEZA_ASSIGN_OR_RETURN(auto lease, pool_->Acquire());
    return Ok();
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    VEZA_ASSIGN_OR_RETURN(ReplyPtr r, Run({"GET", key}, /*idempotent=*/true));
    if (r->type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (r->type == REDIS_REPLY_STRING)
      return std::optional<std::string>(std::string(r->str, r->len));
    return Unexpected(r.get(), "GET");
  }

  Status Set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    std::string ms = std::to_string(ttl.count());
    Result<ReplyPtr> r =
        ttl.count() > 0 ? Run({"SET", key, value, "PX", ms}, true) : Run({"SET", key, value}, true);
    if (!r.ok()) return r.take_error();
    if ((*r)->type == REDIS_REPLY_STATUS) return Ok();
    return Unexpected(r->get(), "SET");
  }

  Result<bool> SetIfAbsent(std::string_view key, std::string_view value,
                           std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    std::string ms = std::to_string(ttl.count());
    // Not retried: if the first attempt's reply was lost we could not tell "we set it" from
    // "someone else had it".
    Result<ReplyPtr> r = ttl.count() > 0 ? Run({"SET", key, value, "NX", "PX", ms}, false)
                                         : Run({"SET", key, value, "NX"}, false);
    if (!r.ok()) return r.take_error();
    if ((*r)->type == REDIS_REPLY_STATUS) return true;
    if ((*r)->type == REDIS_REPLY_NIL) return false;
    return Unexpected(r->get(), "SET NX");
  }

  Status Delete(std::string_view key) override {
    VEZA_ASSIGN_OR_RETURN(ReplyPtr r, Run({"DEL", key}, true));
    if (r->type == REDIS_REPLY_INTEGER) return Ok();
    return Unexpected(r.get(), "DEL");
  }

  Result<std::int64_t> Increment(std::string_view key, std::int64_t delta,
                                 std::chrono::milliseconds ttl) override {
    if (ttl.count() < 0) return InvalidArgument("cache ttl must not be negative");
    std::string d = std::to_string(delta);
    std::string ms = std::to_string(ttl.count());
    // Not retried: a lost reply would otherwise count twice.
    VEZA_ASSIGN_OR_RETURN(ReplyPtr r, Run({"EVAL", kIncrementScript, "1", key, d, ms}, false));
    if (r->type == REDIS_REPLY_INTEGER) return static_cast<std::int64_t>(r->integer);
    return Unexpected(r.get(), "INCRBY");
  }

  Status Ping() override {
    VEZA_ASSIGN_OR_RETURN(ReplyPtr r, Run({"PING"}, true));
    if (r->type == REDIS_REPLY_STATUS) return Ok();
    return Unexpected(r.get(), "PING");
  }

 private:
  Error Unexpected(redisReply* r, std::string_view command) {
    if (r->type == REDIS_REPLY_ERROR) return MapErrorReply(std::string_view(r->str, r->len));
    return Internal("redis: unexpected reply type " + std::to_string(r->type) + " to " +
                    std::string(command));
  }

  // Runs one command. Error replies are returned as replies (the connection is fine); a
  // connection failure drops the connection and, for idempotent commands on a connection
  // that had been sitting idle, is retried once on a new one.
  Result<ReplyPtr> Run(std::initializer_list<std::string_view> args, bool idempotent) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    for (int attempt = 0;; ++attempt) {
      VEZA_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
      redisContext* c = lease.get();
      ReplyPtr reply(static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
      if (reply) return reply;
      // On a command timeout hiredis reports EAGAIN ("Resource temporarily unavailable").
      std::string why = c->errstr;
      bool retry = idempotent && lease.reused() && attempt == 0;
      pool_->DropIdle();
      log::Warn("redis command failed; connection dropped",
                {{"server", pool_->redacted_url()}, {"error", why}, {"retrying", retry}});
      if (!retry) return Unavailable("redis at " + pool_->redacted_url() + ": " + why);
    }
  }

  std::unique_ptr<Pool> pool_;
};

Result<int> ParseInt(std::string_view what, std::string_view text, int min, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument("redis url: " + std::string(what) + " must be an integer in " +
                           std::to_string(min) + ".." + std::to_string(max));
  }
  return v;
}

}  // namespace

Result<RedisCacheOptions> ParseRedisCacheUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("redis url is not a valid url: " + RedactUrl(url));
  const boost::urls::url_view& u = *parsed;
  if (u.scheme() != "redis") {
    return InvalidArgument("redis url must start with redis:// (no TLS support), got " +
                           RedactUrl(url));
  }
  RedisCacheOptions o;
  if (u.host_type() == boost::urls::host_type::ipv6) {
    o.host = u.host_address();
  } else if (!u.encoded_host().empty()) {
    o.host = u.host();
  }
  if (o.host.empty()) o.host = "127.0.0.1";
  if (u.has_port()) {
    VEZA_ASSIGN_OR_RETURN(o.port, ParseInt("port", u.port(), 1, 65535));
  }
  if (u.has_userinfo()) {
    o.username = u.user();
    o.password = u.password();
    if (!u.has_password()) {  // redis://secret@host is a common shorthand for the password
      o.password = std::move(o.username);
      o.username.clear();
    }
  }
  std::string path = u.path();
  if (!path.empty() && path != "/") {
    VEZA_ASSIGN_OR_RETURN(o.db, ParseInt("database", std::string_view(path).substr(1), 0, 1 << 20));
  }
  for (auto param : u.params()) {
    if (param.key == "pool_size") {
      VEZA_ASSIGN_OR_RETURN(o.pool_size, ParseInt("pool_size", param.value, 1, 1024));
    } else {
      return InvalidArgument("redis url: unknown parameter '" + std::string(param.key) +
                             "' (known: pool_size)");
    }
  }
  return o;
}

Result<std::unique_ptr<Cache>> OpenRedisCache(std::string_view url) {
  VEZA_ASSIGN_OR_RETURN(RedisCacheOptions options, ParseRedisCacheUrl(url));
  auto cache =
      std::make_unique<RedisCache>(std::make_unique<Pool>(std::move(options), RedactUrl(url)));
  VEZA_TRY(cache->Warm());
  return std::unique_ptr<Cache>(std::move(cache));
}

}  // namespace veza
