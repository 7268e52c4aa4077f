// Behaviour specific to the in-process bus; the shared contract is in
// tests/contract/event_bus_contract_test.cc.
#include "backends/bus_inproc/inproc_event_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace veza {
namespace {

using namespace std::chrono_literals;

TEST(InprocEventBusTest, ParsesUrl) {
  auto o = ParseInprocBusUrl("inproc://");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->threads, 2u);
  EXPECT_EQ(o->max_pending_events, 10'000u);
  o = ParseInprocBusUrl("inproc://?threads=4&max_pending_events=5");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->threads, 4u);
  EXPECT_EQ(o->max_pending_events, 5u);
  for (const char* bad :
       {"nats://x", "inproc://?threads=0", "inproc://?threads=x", "inproc://?nope=1"}) {
    auto r = ParseInprocBusUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

// A subscriber that falls behind by more than max_pending_events loses the newest events, and
// neither the publisher nor other subscribers are slowed down.
TEST(InprocEventBusTest, SlowSubscriberDropsBeyondItsQueueBound) {
  auto bus = NewInprocEventBus({.threads = 2, .max_pending_events = 10}, nullptr).value();
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> slow_calls{0}, fast_calls{0};
  auto slow = bus->Subscribe("a", [&](const Event&) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    slow_calls++;
  });
  auto fast = bus->Subscribe("a", [&](const Event&) { fast_calls++; });
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(fast.ok());
  // The first event blocks the slow handler; 10 more fill its queue; the rest are dropped.
  ASSERT_TRUE(bus->Publish("a", "0").ok());
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (fast_calls < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);  // the slow handler is now blocked on event 0
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(bus->Publish("a", std::to_string(i)).ok());
    std::this_thread::sleep_for(1ms);  // slow enough for the fast subscriber's queue bound
  }
  while (fast_calls < 51 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(fast_calls.load(), 51);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(slow_calls.load(), 11);
}

TEST(InprocEventBusTest, SubscriptionAndJobMayOutliveTheBus) {
  std::unique_ptr<Subscription> sub;
  std::unique_ptr<Job> job;
  {
    auto bus = NewInprocEventBus({}, nullptr).value();
    auto s = bus->Subscribe("x", [](const Event&) {});
    ASSERT_TRUE(s.ok());
    sub = std::move(s).value();
    ASSERT_TRUE(bus->Enqueue("q", "p").ok());
    auto j = bus->Fetch("q", 1s);
    ASSERT_TRUE(j.ok());
    job = std::move(j).value();
    ASSERT_NE(job, nullptr);
  }
  EXPECT_TRUE(job->Ack().ok());
  sub.reset();
}

TEST(InprocEventBusTest, StaleRetryAfterRedeliveryIsIgnored) {
  auto bus = NewInprocEventBus({}, nullptr).value();
  QueueOptions options{.ack_wait = 100ms, .max_attempts = 5};
  ASSERT_TRUE(bus->Enqueue("q", "p").ok());
  auto first = bus->Fetch("q", 1s, options);
  ASSERT_TRUE(first.ok() && *first);
  auto second = bus->Fetch("q", 1s, options);  // after the ack wait ran out
  ASSERT_TRUE(second.ok() && *second);
  EXPECT_EQ((*second)->Attempt(), 2);
  // The first consumer wakes up late and asks for a retry: the job is someone else's now.
  ASSERT_TRUE((*first)->Retry(0ms).ok());
  auto none = bus->Fetch("q", 50ms, options);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
  ASSERT_TRUE((*second)->Ack().ok());
}

TEST(InprocEventBusTest, ZeroTimeoutFetchDoesNotBlock) {
  auto bus = NewInprocEventBus({}, nullptr).value();
  auto start = std::chrono::steady_clock::now();
  auto r = bus->Fetch("q", 0ms);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
  ASSERT_TRUE(bus->Enqueue("q", "p").ok());
  r = bus->Fetch("q", 0ms);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(*r, nullptr);
}

}  // namespace
}  // namespace veza
