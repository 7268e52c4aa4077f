// Presence that expires (services/chat/presence.h) against every Cache backend: "memory" and
// "redis" (VEZA_TEST_REDIS_URL; run under scripts/test-services). Two Presence objects on one
// cache stand for two nodes; destroying one without closing its sockets is a node dying.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "backends/cache_memory/memory_cache.h"
#include "backends/cache_redis/redis_cache.h"
#include "services/chat/presence.h"
#include "test_support.h"

namespace veza {
namespace {

using namespace std::chrono_literals;

class ChatPresenceContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Cache>> cache = Unavailable("");
    if (GetParam() == "memory") {
      cache = OpenMemoryCache("memory://?max_entries=100000");
    } else {
      const char* url = std::getenv("VEZA_TEST_REDIS_URL");
      ASSERT_TRUE(url != nullptr && *url != '\0') << "run under scripts/test-services (make test)";
      cache = OpenRedisCache(url);
    }
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    cache_ = std::move(cache).value();
    user_ = "u-" + test::RandomToken();  // test processes share one Redis
  }

  std::unique_ptr<chat::Presence> Node(std::chrono::milliseconds ttl) {
    return std::make_unique<chat::Presence>(*cache_, clock_, chat::PresenceOptions{ttl});
  }
  bool Online(chat::Presence& p) {
    auto online = p.Online(user_);
    EXPECT_TRUE(online.ok()) << online.error().message;
    return online.ok() && *online;
  }
  // Polls until the user's presence seen from p is want, for at most limit.
  bool Becomes(chat::Presence& p, bool want, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (Online(p) == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return Online(p) == want;
  }
  // Whether the user reads online from p all along the next `span`.
  bool StaysOnline(chat::Presence& p, std::chrono::milliseconds span) {
    auto end = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < end) {
      if (!Online(p)) return false;
      std::this_thread::sleep_for(40ms);
    }
    return true;
  }

  SystemClock clock_;
  std::unique_ptr<Cache> cache_;
  std::string user_;
};

TEST_P(ChatPresenceContractTest, SocketsOnAnyNodeCountAndACleanCloseIsSeenAtOnce) {
  auto a = Node(60s), b = Node(60s);
  EXPECT_FALSE(Online(*b));
  ASSERT_EQ(a->Opened(user_).value(), 1);
  ASSERT_EQ(a->Opened(user_).value(), 2);
  EXPECT_TRUE(Online(*b));
  ASSERT_EQ(b->Opened(user_).value(), 1);
  EXPECT_EQ(a->Closed(user_).value(), 1);  // one socket left on a
  EXPECT_EQ(a->Closed(user_).value(), 1);  // none on a, still online on b
  EXPECT_TRUE(Online(*a));
  EXPECT_EQ(b->Closed(user_).value(), 0);
  EXPECT_FALSE(Online(*a));
  EXPECT_FALSE(Online(*b));
  // Closing more than was opened never goes below offline nor counts the user online.
  EXPECT_EQ(b->Closed(user_).value(), 0);
  ASSERT_EQ(a->Opened(user_).value(), 1);
  EXPECT_TRUE(Online(*b));
}

TEST_P(ChatPresenceContractTest, TheHeartbeatKeepsALiveNodesUsersOnlinePastTheTtl) {
  constexpr auto kTtl = 1200ms;
  auto a = Node(kTtl), b = Node(kTtl);
  ASSERT_TRUE(a->Opened(user_).ok());
  // Five ttls: every epoch's counter has expired several times over; the heartbeat renews them.
  ASSERT_TRUE(StaysOnline(*b, 5 * kTtl));
  EXPECT_EQ(a->Closed(user_).value(), 0);
  EXPECT_FALSE(Online(*b));
}

TEST_P(ChatPresenceContractTest, ADeadNodesUsersGoOfflineWithinTheTtl) {
  constexpr auto kTtl = 1200ms;
  auto a = Node(kTtl), b = Node(kTtl);
  ASSERT_TRUE(a->Opened(user_).ok());
  ASSERT_TRUE(a->Opened(user_).ok());
  std::string other = user_ + "-b";
  ASSERT_TRUE(b->Opened(other).ok());
  ASSERT_TRUE(Online(*b));
  a.reset();  // dies: nothing is taken back
  // Offline within the ttl; the bound here is generous for a loaded machine.
  EXPECT_TRUE(Becomes(*b, false, 20 * kTtl));
  // The live node's own user stays online.
  auto still = b->Online(other);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(*still);
}

TEST_P(ChatPresenceContractTest, AUserOnTwoNodesStaysOnlineWhenOneDies) {
  constexpr auto kTtl = 1200ms;
  auto a = Node(kTtl), b = Node(kTtl);
  ASSERT_TRUE(a->Opened(user_).ok());
  ASSERT_TRUE(b->Opened(user_).ok());
  a.reset();
  ASSERT_TRUE(StaysOnline(*b, 4 * kTtl));
  // b's clean close is not held up by a's stale count for longer than the ttl.
  EXPECT_EQ(b->Closed(user_).value(), 0);
}

TEST_P(ChatPresenceContractTest, AWatchingNodeLearnsOnceWhichRoomsToTellWhenANodeDies) {
  constexpr auto kTtl = 1200ms;
  auto a = Node(kTtl), b = Node(kTtl);
  std::mutex mu;
  std::vector<std::pair<std::string, std::vector<std::string>>> lost;
  b->SetLostSink([&](const std::string& user, const std::vector<std::string>& rooms) {
    std::lock_guard lock(mu);
    lost.emplace_back(user, rooms);
  });
  auto lost_now = [&] {
    std::lock_guard lock(mu);
    return lost;
  };
  // b holds a listener (its own user); the user on a is seen online in two rooms, and a user
  // who left cleanly is no longer watched.
  std::string listener = user_ + "-listener", left = user_ + "-left";
  ASSERT_TRUE(b->Opened(listener).ok());
  ASSERT_TRUE(a->Opened(user_).ok());
  ASSERT_TRUE(a->Opened(left).ok());
  b->Watch(user_, "room-1");
  b->Watch(user_, "room-2");
  b->Watch(user_, "room-1");
  b->Watch(left, "room-1");
  b->Unwatch(left);
  ASSERT_EQ(a->Closed(left).value(), 0);
  // b's own user is never reported by b: its clean close is announced by b itself.
  b->Watch(listener, "room-1");
  // Alive, a keeps its user online: nothing is lost over several ttls.
  std::this_thread::sleep_for(3 * kTtl);
  EXPECT_TRUE(lost_now().empty());
  a.reset();  // dies
  auto end = std::chrono::steady_clock::now() + 20 * kTtl;
  while (lost_now().empty() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(2 * kTtl);  // and no second report
  auto reported = lost_now();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].first, user_);
  std::sort(reported[0].second.begin(), reported[0].second.end());
  EXPECT_EQ(reported[0].second, (std::vector<std::string>{"room-1", "room-2"}));
  EXPECT_EQ(b->WatchedUsers(), 1u);  // the listener, held here
  EXPECT_EQ(b->Closed(listener).value(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatPresenceContractTest, testing::Values("memory", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
