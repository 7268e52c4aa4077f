// Contract tests of the Cache port, run against every backend: "memory" and "redis" (the server
// named by VEZA_TEST_REDIS_URL; run under scripts/test-services). Test processes run in
// parallel against one server, so every test uses fresh random keys. At the end, Redis-only
// tests run their own redis-server to check that the cache recovers from a restart.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/cache_memory/memory_cache.h"
#include "backends/cache_redis/redis_cache.h"
#include "ports/cache.h"
#include "test_support.h"
#include "veza_process.h"

extern char** environ;

namespace veza {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* kNeedServices =
    "VEZA_TEST_REDIS_URL is not set: run the contract tests under `scripts/test-services run -- "
    "<command>`, which starts Redis and exports it";

Result<std::unique_ptr<Cache>> OpenBackend(const std::string& name) {
  if (name == "memory") return OpenMemoryCache("memory://?max_entries=100000");
  const char* url = std::getenv("VEZA_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') return Unavailable(kNeedServices);
  return OpenRedisCache(url);
}

class CacheContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto cache = OpenBackend(GetParam());
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    cache_ = std::move(cache).value();
    prefix_ = "ct:" + test::RandomToken() + ":";
  }

  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  std::optional<std::string> MustGet(const std::string& key) {
    auto r = cache_->Get(key);
    EXPECT_OK(r);
    return r.ok() ? *r : std::nullopt;
  }

  std::unique_ptr<Cache> cache_;
  std::string prefix_;
};

TEST_P(CacheContractTest, GetSetOverwriteDelete) {
  std::string k = Key("a");
  EXPECT_EQ(MustGet(k), std::nullopt);
  ASSERT_OK(cache_->Set(k, "one", 0ms));
  EXPECT_EQ(MustGet(k), "one");
  ASSERT_OK(cache_->Set(k, "two", 10s));
  EXPECT_EQ(MustGet(k), "two");
  ASSERT_OK(cache_->Set(k, "", 0ms));
  EXPECT_EQ(MustGet(k), "");  // empty is a value, not absence
  ASSERT_OK(cache_->Delete(k));
  EXPECT_EQ(MustGet(k), std::nullopt);
  ASSERT_OK(cache_->Delete(k));  // deleting what is not there is fine
}

TEST_P(CacheContractTest, TtlExpires) {
  std::string k = Key("ttl"), forever = Key("forever");
  ASSERT_OK(cache_->Set(k, "v", 200ms));
  ASSERT_OK(cache_->Set(forever, "v", 0ms));
  EXPECT_EQ(MustGet(k), "v");
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(MustGet(k), std::nullopt);
  EXPECT_EQ(MustGet(forever), "v");
  // Overwriting with ttl 0 removes an expiry.
  ASSERT_OK(cache_->Set(k, "v", 200ms));
  ASSERT_OK(cache_->Set(k, "w", 0ms));
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(MustGet(k), "w");
}

TEST_P(CacheContractTest, SetIfAbsent) {
  std::string k = Key("nx");
  auto r = cache_->SetIfAbsent(k, "first", 0ms);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  r = cache_->SetIfAbsent(k, "second", 0ms);
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(MustGet(k), "first");
  ASSERT_OK(cache_->Delete(k));
  r = cache_->SetIfAbsent(k, "third", 200ms);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  std::this_thread::sleep_for(350ms);
  r = cache_->SetIfAbsent(k, "fourth", 0ms);  // the ttl ran out, so it is absent again
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(MustGet(k), "fourth");
}

TEST_P(CacheContractTest, SetIfAbsentHasOneWinnerAcrossThreads) {
  std::string k = Key("race");
  std::atomic<int> winners{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = cache_->SetIfAbsent(k, std::to_string(t), 5s);
      if (!r.ok())
        errors++;
      else if (*r)
        winners++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(CacheContractTest, IncrementCreatesWithTtlThatLaterCallsDoNotReset) {
  std::string k = Key("ctr");
  auto r = cache_->Increment(k, 1, 300ms);
  ASSERT_OK(r);
  EXPECT_EQ(*r, 1);
  std::this_thread::sleep_for(100ms);
  r = cache_->Increment(k, 2, 10s);  // a different ttl must not extend the window
  ASSERT_OK(r);
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(MustGet(k), "3");  // counters read back as decimal text
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(MustGet(k), std::nullopt);
  r = cache_->Increment(k, 5, 0ms);  // a fresh counter, no expiry
  ASSERT_OK(r);
  EXPECT_EQ(*r, 5);
  r = cache_->Increment(k, -7, 0ms);
  ASSERT_OK(r);
  EXPECT_EQ(*r, -2);
  r = cache_->Increment(Key("zero"), 0, 0ms);
  ASSERT_OK(r);
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(MustGet(Key("zero")), "0");
}

TEST_P(CacheContractTest, IncrementAddsToAnIntegerSetBySet) {
  std::string k = Key("n");
  ASSERT_OK(cache_->Set(k, "40", 0ms));
  auto r = cache_->Increment(k, 2, 0ms);
  ASSERT_OK(r);
  EXPECT_EQ(*r, 42);
}

TEST_P(CacheContractTest, IncrementIsAtomicAcrossThreads) {
  std::string k = Key("hits");
  constexpr int kThreads = 8, kEach = 250;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!cache_->Increment(k, 1, 30s).ok()) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(MustGet(k), std::to_string(kThreads * kEach));
}

TEST_P(CacheContractTest, IncrementOfNonIntegerIsInvalidArgument) {
  std::string k = Key("text");
  ASSERT_OK(cache_->Set(k, "abc", 0ms));
  auto r = cache_->Increment(k, 1, 0ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(MustGet(k), "abc");
  ASSERT_OK(cache_->Set(k, "9223372036854775807", 0ms));
  r = cache_->Increment(k, 1, 0ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(CacheContractTest, NegativeTtlIsInvalidArgument) {
  std::string k = Key("neg");
  auto s = cache_->Set(k, "v", -1ms);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  auto b = cache_->SetIfAbsent(k, "v", -1ms);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  auto i = cache_->Increment(k, 1, -1ms);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(CacheContractTest, BinaryKeysAndValues) {
  std::string key = Key(std::string("bin\0key\r\n\xff", 11));
  std::string other = Key(std::string("bin\0kez\r\n\xff", 11));  // differs after the NUL
  std::string value("\0\x01\x02\xff\r\n$3\r\nSET\0", 14);
  ASSERT_OK(cache_->Set(key, value, 0ms));
  EXPECT_EQ(MustGet(key), value);
  EXPECT_EQ(MustGet(other), std::nullopt);
  auto r = cache_->SetIfAbsent(other, value, 0ms);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  ASSERT_OK(cache_->Delete(key));
  EXPECT_EQ(MustGet(key), std::nullopt);
  EXPECT_EQ(MustGet(other), value);
}

TEST_P(CacheContractTest, LongKeysAndValues) {
  std::string key = Key(std::string(4096, 'k'));
  std::string value(2 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 31 + 7);
  ASSERT_OK(cache_->Set(key, value, 10s));
  EXPECT_EQ(MustGet(key), value);
  EXPECT_EQ(MustGet(Key(std::string(4095, 'k'))), std::nullopt);
}

TEST_P(CacheContractTest, Pings) { EXPECT_OK(cache_->Ping()); }

INSTANTIATE_TEST_SUITE_P(Backends, CacheContractTest, testing::Values("memory", "redis"),
                         [](const auto& info) { return info.param; });

// ---- Redis-specific -------------------------------------------------------------------------

TEST(RedisCacheTest, OpenFailsFastWhenUnreachable) {
  auto start = steady_clock::now();
  auto r = OpenRedisCache("redis://:hunter2@127.0.0.1:1");
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(took, 3s);
  EXPECT_NE(r.error().message.find("127.0.0.1:1"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
}

TEST(RedisCacheTest, ParsesUrls) {
  auto o = ParseRedisCacheUrl("redis://user:p%40ss@cache.internal:6380/3?pool_size=2");
  ASSERT_OK(o);
  EXPECT_EQ(o->host, "cache.internal");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->username, "user");
  EXPECT_EQ(o->password, "p@ss");
  EXPECT_EQ(o->db, 3);
  EXPECT_EQ(o->pool_size, 2);
  o = ParseRedisCacheUrl("redis://:secret@10.0.0.1");
  ASSERT_OK(o);
  EXPECT_EQ(o->host, "10.0.0.1");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->username, "");
  EXPECT_EQ(o->password, "secret");
  EXPECT_EQ(o->db, 0);
  o = ParseRedisCacheUrl("redis://[::1]:7000");
  ASSERT_OK(o);
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 7000);
  for (const char* bad : {"rediss://h", "redis://h:0", "redis://h/x", "redis://h?pool=1",
                          "redis://h?pool_size=0", "memory://"}) {
    auto r = ParseRedisCacheUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(RedisCacheTest, SelectsTheDatabaseFromTheUrlPath) {
  const char* url = std::getenv("VEZA_TEST_REDIS_URL");
  ASSERT_TRUE(url != nullptr && *url != '\0') << kNeedServices;
  boost::urls::url u = *boost::urls::parse_uri(url);
  u.set_path("/5");
  auto db5 = OpenRedisCache(u.buffer());
  auto db0 = OpenRedisCache(url);
  ASSERT_OK(db5);
  ASSERT_OK(db0);
  std::string k = "ct:" + test::RandomToken();
  ASSERT_OK((*db5)->Set(k, "in5", 10s));
  auto r = (*db0)->Get(k);
  ASSERT_OK(r);
  EXPECT_EQ(*r, std::nullopt);
  r = (*db5)->Get(k);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "in5");
}

// A redis-server of our own, so the test can stop and restart it.
class OwnRedisServer {
 public:
  OwnRedisServer()
      : dir_(std::filesystem::temp_directory_path() / ("veza-redis-" + test::RandomToken())) {
    std::filesystem::create_directories(dir_);
    port_ = FreePort();
  }
  ~OwnRedisServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool Start(const std::string& password) {
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.string(),
                                     "--logfile",
                                     (dir_ / "redis.log").string()};
    if (!password.empty()) {
      args.push_back("--requirepass");
      args.push_back(password);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return false;
    }
    auto deadline = steady_clock::now() + 10s;
    while (steady_clock::now() < deadline) {
      if (OpenRedisCache(url(password)).ok()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string url(const std::string& password) const {
    std::string auth = password.empty() ? "" : ":" + password + "@";
    return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
  }

  static int FreePort() { return test::FreeLoopbackPort(); }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(RedisCacheTest, RecoversAfterRedisRestartsWithoutReopening) {
  OwnRedisServer server;
  const std::string password = "s3cret";
  ASSERT_TRUE(server.Start(password)) << "could not start redis-server (is it installed?)";
  auto cache = OpenRedisCache(server.url(password) + "?pool_size=3");
  ASSERT_OK(cache);
  // Put several connections in the pool, so that all of them go stale at once.
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] { EXPECT_OK((*cache)->Set("k", "before", 0ms)); });
  }
  for (auto& t : threads) t.join();

  server.Stop();
  auto r = (*cache)->Get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.find(password), std::string::npos) << r.error().message;
  auto ping = (*cache)->Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);

  ASSERT_TRUE(server.Start(password));
  // The first call after the restart already works: stale connections are dropped and the
  // command retried on a fresh one (with AUTH again).
  EXPECT_OK((*cache)->Ping());
  r = (*cache)->Get("k");
  ASSERT_OK(r);
  EXPECT_EQ(*r, std::nullopt);  // no persistence configured
  auto n = (*cache)->Increment("c", 1, 0ms);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
}

TEST(RedisCacheTest, WrongPasswordFailsAtOpen) {
  OwnRedisServer server;
  ASSERT_TRUE(server.Start("right"));
  auto r = OpenRedisCache(server.url("badpass42"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("AUTH"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("badpass42"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace veza
