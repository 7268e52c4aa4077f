// Contract tests of the EventBus port, run against every backend: "inproc" and "nats" (the
// server named by VEZA_TEST_NATS_URL; run under scripts/test-services). Test processes run in
// parallel against one server, so every test uses fresh random subjects and queue names.
// At the end, NATS-only tests run their own nats-server to check reconnects and persistence.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/bus_nats/nats_event_bus.h"
#include "ports/event_bus.h"
#include "test_database.h"
#include "test_support.h"
#include "veza_process.h"

extern char** environ;

namespace veza {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* kNeedServices =
    "VEZA_TEST_NATS_URL is not set: run the contract tests under `scripts/test-services run -- "
    "<command>`, which starts NATS with JetStream and exports it";

// inproc keeps its work queue in a database (the server passes its own); the test gives it a
// fresh SQLite one with the migrations applied.
Result<std::unique_ptr<EventBus>> OpenBackend(const std::string& name, Database* journal) {
  if (name == "inproc") return OpenInprocEventBus("inproc://", journal);
  const char* url = std::getenv("VEZA_TEST_NATS_URL");
  if (url == nullptr || *url == '\0') return Unavailable(kNeedServices);
  return OpenNatsEventBus(url);
}

// Collects events delivered to a handler and lets the test wait for them.
class Inbox {
 public:
  EventHandler Handler() {
    return [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      threads_.insert(std::this_thread::get_id());
      cv_.notify_all();
    };
  }
  // Waits until at least n events arrived; returns them all.
  std::vector<Event> WaitFor(std::size_t n, milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<Event> Snapshot() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::set<std::thread::id> Threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::set<std::thread::id> threads_;
};

class EventBusContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "inproc") {
      journal_ = std::make_unique<test::TestDatabase>("sqlite");
      ASSERT_TRUE(journal_->ok());
      ASSERT_OK(ApplyMigrations(journal_->db(), EmbeddedMigrations(journal_->db().Dialect())));
    }
    Reopen();
    prefix_ = "ct." + test::RandomToken();
  }

  // Closes the bus and opens a new one on the same server or journal (a process restart).
  void Reopen() {
    bus_.reset();
    auto bus = OpenBackend(GetParam(), journal_ ? &journal_->db() : nullptr);
    ASSERT_TRUE(bus.ok()) << bus.error().message;
    bus_ = std::move(bus).value();
  }

  std::unique_ptr<test::TestDatabase> journal_;  // declared before bus_: outlives it

  std::string Subject(std::string_view rest) const { return prefix_ + "." + std::string(rest); }
  std::string Queue() const { return "ct_" + test::RandomToken(); }

  // Fetch that must succeed and return a job.
  std::unique_ptr<Job> MustFetch(const std::string& queue, const QueueOptions& options = {},
                                 milliseconds timeout = 5s) {
    auto r = bus_->Fetch(queue, timeout, options);
    EXPECT_OK(r);
    if (!r.ok()) return nullptr;
    EXPECT_NE(*r, nullptr) << "no job within " << timeout.count() << " ms";
    return std::move(r).value();
  }

  void ExpectEmpty(const std::string& queue, const QueueOptions& options = {},
                   milliseconds timeout = 300ms) {
    auto r = bus_->Fetch(queue, timeout, options);
    ASSERT_OK(r);
    EXPECT_EQ(*r, nullptr) << "unexpected job: " << (*r ? (*r)->Payload() : "");
  }

  std::unique_ptr<EventBus> bus_;
  std::string prefix_;
};

// ---- publish / subscribe ---------------------------------------------------------------------

TEST_P(EventBusContractTest, DeliversExactSubjectOnABusThread) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("room.1"), inbox.Handler());
  ASSERT_OK(sub);
  ASSERT_OK(bus_->Publish(Subject("room.2"), "other"));
  ASSERT_OK(bus_->Publish(Subject("room.1"), "hello"));
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject, Subject("room.1"));
  EXPECT_EQ(got[0].payload, "hello");
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(inbox.Snapshot().size(), 1u);
  EXPECT_EQ(inbox.Threads().count(std::this_thread::get_id()), 0u)
      << "handlers must not run on the publisher's thread";
}

TEST_P(EventBusContractTest, StarMatchesExactlyOneToken) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("*.msg"), inbox.Handler());
  ASSERT_OK(sub);
  ASSERT_OK(bus_->Publish(Subject("a.msg"), "1"));
  ASSERT_OK(bus_->Publish(Subject("a.b.msg"), "no: two tokens"));
  ASSERT_OK(bus_->Publish(Subject("msg"), "no: zero tokens"));
  ASSERT_OK(bus_->Publish(Subject("a.other"), "no: last token differs"));
  ASSERT_OK(bus_->Publish(Subject("b.msg"), "2"));
  auto got = inbox.WaitFor(2);
  std::this_thread::sleep_for(150ms);
  got = inbox.Snapshot();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "1");
  EXPECT_EQ(got[1].payload, "2");
  EXPECT_EQ(got[1].subject, Subject("b.msg"));
}

TEST_P(EventBusContractTest, GreaterThanMatchesOneOrMoreTokens) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("x.>"), inbox.Handler());
  ASSERT_OK(sub);
  ASSERT_OK(bus_->Publish(Subject("x"), "no: needs one more token"));
  ASSERT_OK(bus_->Publish(Subject("x.a"), "1"));
  ASSERT_OK(bus_->Publish(Subject("y.a"), "no: other prefix"));
  ASSERT_OK(bus_->Publish(Subject("x.a.b.c"), "2"));
  inbox.WaitFor(2);
  std::this_thread::sleep_for(150ms);
  auto got = inbox.Snapshot();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "1");
  EXPECT_EQ(got[1].payload, "2");
  EXPECT_EQ(got[1].subject, Subject("x.a.b.c"));
}

TEST_P(EventBusContractTest, EverySubscriberGetsACopy) {
  Inbox a, b, c;
  auto sa = bus_->Subscribe(Subject("fan"), a.Handler());
  auto sb = bus_->Subscribe(Subject("fan"), b.Handler());
  auto sc = bus_->Subscribe(Subject(">"), c.Handler());
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  ASSERT_OK(sc);
  ASSERT_OK(bus_->Publish(Subject("fan"), "x"));
  EXPECT_EQ(a.WaitFor(1).size(), 1u);
  EXPECT_EQ(b.WaitFor(1).size(), 1u);
  EXPECT_EQ(c.WaitFor(1).size(), 1u);
}

TEST_P(EventBusContractTest, KeepsPublishOrderWithinASubscription) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("seq.>"), inbox.Handler());
  ASSERT_OK(sub);
  constexpr int kEvents = 2000;
  for (int i = 0; i < kEvents; ++i) {
    // Two subjects under one pattern: order holds per subscription, not per subject.
    ASSERT_OK(bus_->Publish(Subject(i % 2 ? "seq.odd" : "seq.even"), std::to_string(i)));
  }
  auto got = inbox.WaitFor(kEvents, 10s);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(got[i].payload, std::to_string(i)) << "at " << i;
}

TEST_P(EventBusContractTest, CarriesBinaryPayloads) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("bin"), inbox.Handler());
  ASSERT_OK(sub);
  std::string payload("\0\x01\xff\r\nPUB x 1\r\n\0", 14);
  std::string big(256 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_OK(bus_->Publish(Subject("bin"), payload));
  ASSERT_OK(bus_->Publish(Subject("bin"), big));
  ASSERT_OK(bus_->Publish(Subject("bin"), ""));
  auto got = inbox.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, payload);
  EXPECT_EQ(got[1].payload, big);
  EXPECT_EQ(got[2].payload, "");
}

TEST_P(EventBusContractTest, NoDeliveryAfterSubscriptionDestroyed) {
  Inbox inbox;
  auto sub = bus_->Subscribe(Subject("gone"), inbox.Handler());
  ASSERT_OK(sub);
  ASSERT_OK(bus_->Publish(Subject("gone"), "1"));
  ASSERT_EQ(inbox.WaitFor(1).size(), 1u);
  sub->reset();
  ASSERT_OK(bus_->Publish(Subject("gone"), "2"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(inbox.Snapshot().size(), 1u);
}

TEST_P(EventBusContractTest, NoHandlerRunsAfterSubscriptionDestructorReturns) {
  std::atomic<bool> destroyed{false};
  std::atomic<int> calls{0}, late_calls{0};
  std::atomic<bool> in_handler{false};
  auto sub = bus_->Subscribe(Subject("slow"), [&](const Event&) {
    in_handler = true;
    calls++;
    std::this_thread::sleep_for(5ms);
    if (destroyed) late_calls++;
    in_handler = false;
  });
  ASSERT_OK(sub);
  for (int i = 0; i < 200; ++i) ASSERT_OK(bus_->Publish(Subject("slow"), "x"));
  // Destroy while a handler call is very likely in progress.
  auto deadline = steady_clock::now() + 5s;
  while (!in_handler && steady_clock::now() < deadline) std::this_thread::yield();
  sub->reset();
  destroyed = true;
  int calls_at_destroy = calls;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(late_calls.load(), 0);
  EXPECT_EQ(calls.load(), calls_at_destroy);
  EXPECT_LT(calls.load(), 200);
}

TEST_P(EventBusContractTest, HandlerMayPublishAndUnsubscribeItself) {
  Inbox inbox;
  auto echo_sub = bus_->Subscribe(Subject("echo"), inbox.Handler());
  ASSERT_OK(echo_sub);
  std::unique_ptr<Subscription> self;
  std::mutex mu;
  std::atomic<int> calls{0};
  auto sub = bus_->Subscribe(Subject("ping"), [&](const Event& e) {
    calls++;
    ASSERT_OK(bus_->Publish(Subject("echo"), e.payload));
    std::lock_guard lock(mu);
    self.reset();  // must neither deadlock nor crash
  });
  ASSERT_OK(sub);
  {
    std::lock_guard lock(mu);
    self = std::move(sub).value();
  }
  ASSERT_OK(bus_->Publish(Subject("ping"), "a"));
  ASSERT_EQ(inbox.WaitFor(1).size(), 1u);
  ASSERT_OK(bus_->Publish(Subject("ping"), "b"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(inbox.Snapshot().size(), 1u);
}

TEST_P(EventBusContractTest, RejectsInvalidSubjectsAndQueueNames) {
  std::vector<std::string> bad_names = {
      "", "a..b", ".a", "a.", "a b", "a.*", "a.>", ">", "é", "a\nb", std::string(300, 'a')};
  for (const std::string& bad : bad_names) {
    auto s = bus_->Publish(bad, "x");
    ASSERT_FALSE(s.ok()) << "publish to '" << bad << "'";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << bad;
    s = bus_->Enqueue(bad, "x");
    ASSERT_FALSE(s.ok()) << "enqueue to '" << bad << "'";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << bad;
    auto f = bus_->Fetch(bad, 10ms);
    ASSERT_FALSE(f.ok()) << "fetch from '" << bad << "'";
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  for (std::string bad : {"", "a..b", "a.>.b", "a.b*", "a b", "x.>>"}) {  // NOLINT
    auto r = bus_->Subscribe(bad, [](const Event&) {});
    ASSERT_FALSE(r.ok()) << "subscribe to '" << bad << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto r = bus_->Subscribe(Subject("ok"), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  auto f = bus_->Fetch(Queue(), 10ms, QueueOptions{.ack_wait = 0ms});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(EventBusContractTest, Pings) { EXPECT_OK(bus_->Ping()); }

// ---- work queue ------------------------------------------------------------------------------

TEST_P(EventBusContractTest, EnqueueFetchAck) {
  std::string q = "ct." + test::RandomToken() + ".media";  // dots are legal in queue names
  std::string payload("job\0with\xffnul", 12);
  ASSERT_OK(bus_->Enqueue(q, payload));
  auto job = MustFetch(q);
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->Payload(), payload);
  EXPECT_EQ(job->Attempt(), 1);
  ASSERT_OK(job->Ack());
  auto again = job->Ack();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  ExpectEmpty(q);
}

TEST_P(EventBusContractTest, QueueIsFifoForOneConsumer) {
  std::string q = Queue();
  auto payload = [](int i) { return i == 2 ? std::string() : std::to_string(i); };  // "" is fine
  for (int i = 0; i < 5; ++i) ASSERT_OK(bus_->Enqueue(q, payload(i)));
  for (int i = 0; i < 5; ++i) {
    auto job = MustFetch(q);
    ASSERT_NE(job, nullptr);
    EXPECT_EQ(job->Payload(), payload(i));
    ASSERT_OK(job->Ack());
  }
}

TEST_P(EventBusContractTest, CompetingConsumersGetEachJobExactlyOnce) {
  std::string q = Queue();
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) ASSERT_OK(bus_->Enqueue(q, "job-" + std::to_string(i)));
  std::mutex mu;
  std::map<std::string, int> seen;
  std::atomic<int> acked{0};
  std::atomic<int> errors{0};
  std::vector<int> per_worker(2, 0);
  auto worker = [&](int w) {
    auto deadline = steady_clock::now() + 20s;
    while (acked < kJobs && steady_clock::now() < deadline) {
      auto r = bus_->Fetch(q, 200ms, QueueOptions{.ack_wait = 10s, .max_attempts = 5});
      if (!r.ok()) {
        errors++;
        continue;
      }
      if (!*r) continue;
      {
        std::lock_guard lock(mu);
        seen[(*r)->Payload()]++;
        per_worker[w]++;
      }
      std::this_thread::sleep_for(1ms);  // some "work", so both workers get a share
      if ((*r)->Ack().ok())
        acked++;
      else
        errors++;
    }
  };
  std::thread t1(worker, 0), t2(worker, 1);
  t1.join();
  t2.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(acked.load(), kJobs);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [payload, count] : seen) EXPECT_EQ(count, 1) << payload;
  EXPECT_GT(per_worker[0], 0);
  EXPECT_GT(per_worker[1], 0);
  ExpectEmpty(q, QueueOptions{.ack_wait = 10s, .max_attempts = 5});
}

TEST_P(EventBusContractTest, RetryRedeliversAfterDelayWithNextAttempt) {
  std::string q = Queue();
  ASSERT_OK(bus_->Enqueue(q, "r"));
  auto job = MustFetch(q);
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->Attempt(), 1);
  auto retried_at = steady_clock::now();
  ASSERT_OK(job->Retry(400ms));
  EXPECT_EQ(job->Ack().error().code, ErrorCode::kConflict);
  ExpectEmpty(q, {}, 100ms);  // not before the delay
  auto again = MustFetch(q);
  ASSERT_NE(again, nullptr);
  EXPECT_GE(steady_clock::now() - retried_at, 350ms);
  EXPECT_EQ(again->Payload(), "r");
  EXPECT_EQ(again->Attempt(), 2);
  ASSERT_OK(again->Ack());
  ExpectEmpty(q);
}

TEST_P(EventBusContractTest, UnackedJobIsRedeliveredAfterAckWait) {
  std::string q = Queue();
  QueueOptions options{.ack_wait = 1s, .max_attempts = 5};
  ASSERT_OK(bus_->Enqueue(q, "u"));
  auto first = MustFetch(q, options);
  ASSERT_NE(first, nullptr);
  auto fetched_at = steady_clock::now();
  // Neither acked nor retried; nobody else gets it while its ack wait runs.
  ExpectEmpty(q, options, 300ms);
  auto second = MustFetch(q, options, 5s);
  ASSERT_NE(second, nullptr);
  EXPECT_GE(steady_clock::now() - fetched_at, 900ms);
  EXPECT_EQ(second->Payload(), "u");
  EXPECT_EQ(second->Attempt(), 2);
  ASSERT_OK(second->Ack());
  first.reset();
  ExpectEmpty(q, options);
}

TEST_P(EventBusContractTest, DropsJobAfterMaxAttempts) {
  std::string q = Queue();
  QueueOptions options{.ack_wait = 1s, .max_attempts = 2};
  // Job "a" fails by Retry on every attempt; job "b" is never acknowledged.
  ASSERT_OK(bus_->Enqueue(q, "a"));
  ASSERT_OK(bus_->Enqueue(q, "b"));
  std::map<std::string, int> attempts;
  auto deadline = steady_clock::now() + 8s;
  std::vector<std::unique_ptr<Job>> abandoned;
  while (steady_clock::now() < deadline) {
    auto r = bus_->Fetch(q, 1500ms, options);
    ASSERT_OK(r);
    if (!*r) break;
    auto& job = *r;
    attempts[job->Payload()]++;
    EXPECT_EQ(job->Attempt(), attempts[job->Payload()]) << job->Payload();
    if (job->Payload() == "a") {
      ASSERT_OK(job->Retry(0ms));
    } else {
      abandoned.push_back(std::move(job));
    }
  }
  EXPECT_EQ(attempts["a"], 2);
  EXPECT_EQ(attempts["b"], 2);
  ExpectEmpty(q, options, 300ms);
}

TEST_P(EventBusContractTest, FetchTimesOutPromptlyOnEmptyQueue) {
  std::string q = Queue();
  auto start = steady_clock::now();
  auto r = bus_->Fetch(q, 200ms);
  auto took = steady_clock::now() - start;
  ASSERT_OK(r);
  EXPECT_EQ(*r, nullptr);
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 1500ms);  // includes creating the stream on first use, for NATS
  start = steady_clock::now();
  r = bus_->Fetch(q, 200ms);
  took = steady_clock::now() - start;
  ASSERT_OK(r);
  EXPECT_EQ(*r, nullptr);
  EXPECT_LT(took, 700ms);
}

TEST_P(EventBusContractTest, BlockedFetchWakesOnEnqueue) {
  std::string q = Queue();
  ExpectEmpty(q, {}, 50ms);  // creates the queue
  auto start = steady_clock::now();
  std::thread producer([&] {
    std::this_thread::sleep_for(200ms);
    EXPECT_OK(bus_->Enqueue(q, "late"));
  });
  auto job = MustFetch(q, {}, 5s);
  producer.join();
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->Payload(), "late");
  EXPECT_LT(steady_clock::now() - start, 2s);
  ASSERT_OK(job->Ack());
}

TEST_P(EventBusContractTest, QueuesAreIndependent) {
  std::string q1 = Queue(), q2 = Queue();
  ASSERT_OK(bus_->Enqueue(q1, "one"));
  ExpectEmpty(q2, {}, 100ms);
  auto job = MustFetch(q1);
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->Payload(), "one");
  ASSERT_OK(job->Ack());
}

// A restart loses nothing: queued jobs and jobs in flight (fetched, never acked) are delivered
// again by the next process, the in-flight one as its second attempt.
TEST_P(EventBusContractTest, QueuedAndInFlightJobsSurviveARestart) {
  std::string q = Queue();
  const QueueOptions options{.ack_wait = 500ms, .max_attempts = 5};
  ASSERT_OK(bus_->Enqueue(q, "first"));
  ASSERT_OK(bus_->Enqueue(q, "second"));
  auto in_flight = MustFetch(q, options);
  ASSERT_NE(in_flight, nullptr);
  EXPECT_EQ(in_flight->Payload(), "first");
  in_flight.reset();
  Reopen();
  std::map<std::string, int> attempts;
  for (int i = 0; i < 2; ++i) {
    auto job = MustFetch(q, options);
    ASSERT_NE(job, nullptr);
    attempts[job->Payload()] = job->Attempt();
    ASSERT_OK(job->Ack());
  }
  EXPECT_EQ(attempts, (std::map<std::string, int>{{"first", 2}, {"second", 1}}));
  Reopen();
  ExpectEmpty(q, options);  // acknowledged jobs stay gone
}

INSTANTIATE_TEST_SUITE_P(Backends, EventBusContractTest, testing::Values("inproc", "nats"),
                         [](const auto& info) { return info.param; });

// ---- NATS-specific -------------------------------------------------------------------------

TEST(NatsEventBusTest, OpenFailsFastWhenUnreachable) {
  auto start = steady_clock::now();
  auto r = OpenNatsEventBus("nats://veza:hunter2@127.0.0.1:1");
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(took, 5s);
  EXPECT_NE(r.error().message.find("127.0.0.1:1"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
}

TEST(NatsEventBusTest, RejectsBadUrls) {
  for (const char* bad : {"http://127.0.0.1:4222", "nats://127.0.0.1:4222/path",
                          "nats://127.0.0.1:4222?x=1", "not a url"}) {
    auto r = OpenNatsEventBus(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(NatsEventBusTest, JobsAreSharedByNodesAndOutliveTheProducer) {
  const char* url = std::getenv("VEZA_TEST_NATS_URL");
  ASSERT_TRUE(url != nullptr && *url != '\0') << kNeedServices;
  std::string q = "ct_" + test::RandomToken();
  {
    auto producer = OpenNatsEventBus(url);
    ASSERT_OK(producer);
    ASSERT_OK((*producer)->Enqueue(q, "persisted"));
  }
  auto consumer = OpenNatsEventBus(url);
  ASSERT_OK(consumer);
  auto r = (*consumer)->Fetch(q, 5s);
  ASSERT_OK(r);
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ((*r)->Payload(), "persisted");
  ASSERT_OK((*r)->Ack());
}

TEST(NatsEventBusTest, EventsCrossConnections) {
  const char* url = std::getenv("VEZA_TEST_NATS_URL");
  ASSERT_TRUE(url != nullptr && *url != '\0') << kNeedServices;
  auto a = OpenNatsEventBus(url);
  auto b = OpenNatsEventBus(url);
  ASSERT_OK(a);
  ASSERT_OK(b);
  Inbox inbox;
  std::string subject = "ct." + test::RandomToken() + ".x";
  auto sub = (*b)->Subscribe(subject, inbox.Handler());
  ASSERT_OK(sub);
  // Subscribe returns once the server knows, so a publish from another node right away lands.
  ASSERT_OK((*a)->Publish(subject, "from a"));
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "from a");
}

// A nats-server of our own, so the test can stop and restart it.
class OwnNatsServer {
 public:
  OwnNatsServer() {
    dir_ = std::filesystem::temp_directory_path() / ("veza-nats-" + test::RandomToken());
    std::filesystem::create_directories(dir_);
    port_ = FreePort();
  }
  ~OwnNatsServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool Start() {
    std::string port = std::to_string(port_);
    std::string store = (dir_ / "js").string();
    std::string log = (dir_ / "nats.log").string();
    std::vector<std::string> args = {"nats-server", "-a",  "127.0.0.1", "-p", port,
                                     "-js",         "-sd", store,       "-l", log};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "nats-server", nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return false;
    }
    // Ready when JetStream answers: poll with a bus until Open succeeds.
    auto deadline = steady_clock::now() + 10s;
    while (steady_clock::now() < deadline) {
      if (OpenNatsEventBus(url()).ok()) return true;
      std::this_thread::sleep_for(100ms);
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
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  static int FreePort() { return test::FreeLoopbackPort(); }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(NatsEventBusTest, RecoversAfterServerRestartAndKeepsQueuedJobs) {
  OwnNatsServer server;
  ASSERT_TRUE(server.Start()) << "could not start nats-server (is it installed?)";
  auto bus = OpenNatsEventBus(server.url());
  ASSERT_OK(bus);
  Inbox inbox;
  auto sub = (*bus)->Subscribe("ct.restart", inbox.Handler());
  ASSERT_OK(sub);
  ASSERT_OK((*bus)->Enqueue("ct_restart", "survives"));

  server.Stop();  // SIGKILL: JetStream has the job on disk already
  auto deadline = steady_clock::now() + 5s;
  Status ping = Ok();
  while (steady_clock::now() < deadline && (ping = (*bus)->Ping()).ok()) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(ping.ok()) << "Ping stayed ok with the server down";
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
  auto enqueue_start = steady_clock::now();
  auto enqueued = (*bus)->Enqueue("ct_restart", "lost");
  ASSERT_FALSE(enqueued.ok()) << "Enqueue cannot be durable while the server is down";
  EXPECT_EQ(enqueued.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(steady_clock::now() - enqueue_start, 1s);

  ASSERT_TRUE(server.Start());
  deadline = steady_clock::now() + 10s;
  while (steady_clock::now() < deadline && !(ping = (*bus)->Ping()).ok()) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_OK(ping);
  // The subscription was re-established by the reconnect.
  ASSERT_OK((*bus)->Publish("ct.restart", "after"));
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "after");
  auto r = (*bus)->Fetch("ct_restart", 5s);
  ASSERT_OK(r);
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ((*r)->Payload(), "survives");
  ASSERT_OK((*r)->Ack());
}

}  // namespace
}  // namespace veza
