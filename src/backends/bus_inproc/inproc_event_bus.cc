#include "backends/bus_inproc/inproc_event_bus.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/url.h"
#include "ports/database.h"

namespace veza {
namespace {

using Steady = std::chrono::steady_clock;
// Events a dispatcher handles for one subscription before it lets the next one run, so one
// busy subscription cannot starve the others.
constexpr int kDispatchBatch = 64;
constexpr auto kDropLogInterval = std::chrono::seconds(10);

// Lets maps keyed by std::string be searched with a string_view without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// ---- fan-out ---------------------------------------------------------------------------------

struct SubState {
  SubState(std::string p, EventHandler h, std::size_t cap)
      : pattern(std::move(p)), handler(std::move(h)), capacity(cap) {}

  const std::string pattern;
  const EventHandler handler;
  const std::size_t capacity;
  const bool exact = pattern.find_first_of("*>") == std::string::npos;

  std::mutex mu;
  std::condition_variable idle_cv;  // signalled when a handler call returns
  // Shared by every subscription the event went to: one copy per publish, not per subscriber.
  std::deque<std::shared_ptr<const Event>> pending;
  bool scheduled = false;  // in the ready queue or being run by a dispatcher
  bool closed = false;
  bool running = false;  // a handler call is in progress
  std::thread::id runner;
  std::uint64_t dropped_since_log = 0;
  Steady::time_point last_drop_log{};
};

// ---- work queue ------------------------------------------------------------------------------

struct JobRec {
  std::string payload;
  int attempts = 0;
  std::uint64_t delivery = 0;  // changes on every hand-out, so stale timers/retries are ignored
  enum class State { kReady, kInFlight, kDelayed } state = State::kReady;
  int max_attempts = 1;
};

struct Queue {
  std::condition_variable cv;
  std::deque<std::uint64_t> ready;
  std::unordered_map<std::uint64_t, JobRec> jobs;
  // When an in-flight job's ack wait ends or a delayed job becomes ready: (id, delivery).
  std::multimap<Steady::time_point, std::pair<std::uint64_t, std::uint64_t>> timers;
};

class Core {
 public:
  Core(const InprocBusOptions& options, Database* journal) : options_(options), journal_(journal) {}

  // -- fan-out --
  std::shared_ptr<SubState> AddSub(std::string pattern, EventHandler handler) {
    auto sub = std::make_shared<SubState>(std::move(pattern), std::move(handler),
                                          options_.max_pending_events);
    std::unique_lock lock(subs_mu_);
    if (sub->exact) {
      exact_subs_[sub->pattern].push_back(sub);
    } else {
      wildcard_subs_.push_back(sub);
    }
    return sub;
  }

  void RemoveSub(const std::shared_ptr<SubState>& sub) {
    {
      std::unique_lock lock(subs_mu_);
      auto erase_from = [&](std::vector<std::shared_ptr<SubState>>& v) { std::erase(v, sub); };
      if (sub->exact) {
        auto it = exact_subs_.find(sub->pattern);
        if (it != exact_subs_.end()) {
          erase_from(it->second);
          if (it->second.empty()) exact_subs_.erase(it);
        }
      } else {
        erase_from(wildcard_subs_);
      }
    }
    std::unique_lock lock(sub->mu);
    sub->closed = true;
    sub->pending.clear();
    // Wait out a handler call in progress, unless we are that call (a handler unsubscribing
    // itself): then the dispatcher sees `closed` as soon as the handler returns.
    if (sub->runner != std::this_thread::get_id()) {
      sub->idle_cv.wait(lock, [&] { return !sub->running; });
    }
  }

  void Publish(std::string_view subject, std::string_view payload) {
    std::vector<std::shared_ptr<SubState>> to_schedule;
    std::shared_ptr<const Event> event;
    {
      std::shared_lock lock(subs_mu_);
      auto offer = [&](const std::shared_ptr<SubState>& sub) {
        std::lock_guard sl(sub->mu);
        if (sub->closed) return;
        if (sub->pending.size() >= sub->capacity) {
          NoteDrop(*sub);
          return;
        }
        if (!event)
          event = std::make_shared<const Event>(Event{std::string(subject), std::string(payload)});
        sub->pending.push_back(event);
        if (!sub->scheduled) {
          sub->scheduled = true;
          to_schedule.push_back(sub);
        }
      };
      if (auto it = exact_subs_.find(subject); it != exact_subs_.end()) {
        for (const auto& sub : it->second) offer(sub);
      }
      for (const auto& sub : wildcard_subs_) {
        if (SubjectMatches(sub->pattern, subject)) offer(sub);
      }
    }
    if (to_schedule.empty()) return;
    {
      std::lock_guard lock(run_mu_);
      for (auto& s : to_schedule) ready_.push_back(std::move(s));
    }
    if (to_schedule.size() == 1) {
      run_cv_.notify_one();
    } else {
      run_cv_.notify_all();
    }
  }

  // Body of each dispatcher thread.
  void DispatchLoop() {
    for (;;) {
      std::shared_ptr<SubState> sub;
      {
        std::unique_lock lock(run_mu_);
        run_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
        if (stopping_) return;
        sub = std::move(ready_.front());
        ready_.pop_front();
      }
      bool again = RunSome(*sub);
      if (again) {
        {
          std::lock_guard lock(run_mu_);
          ready_.push_back(std::move(sub));
        }
        run_cv_.notify_one();
      }
    }
  }

  void Stop() {
    {
      std::lock_guard lock(run_mu_);
      stopping_ = true;
      ready_.clear();
    }
    run_cv_.notify_all();
  }

  // -- work queue --
  // With a journal, every job is a row in queued_jobs from Enqueue until it is acknowledged or
  // dropped; memory holds the schedule (ready, in flight, delayed), the rows survive restarts.
  // Journal writes happen outside q_mu_ so a slow database never blocks other queues' fetches.
  Status Enqueue(std::string_view queue, std::string_view payload) {
    std::uint64_t id = 0;
    if (journal_) {
      auto r = journal_->Query(
          "INSERT INTO queued_jobs (queue, payload, attempts, enqueued_at) VALUES ($1, $2, 0, $3) RETURNING id",
          {SqlText(queue), SqlValue{Blob{std::string(payload)}}, SqlInt(UnixMillis())});
      if (!r.ok()) return Unavailable("cannot persist the job: " + r.error().message);
      id = static_cast<std::uint64_t>(r->rows.at(0).Int(0));
    }
    std::lock_guard lock(q_mu_);
    Queue& q = GetQueue(queue);
    if (!journal_) id = ++next_job_id_;
    q.jobs.emplace(id, JobRec{.payload = std::string(payload)});
    q.ready.push_back(id);
    q.cv.notify_one();
    return Ok();
  }

  // Loads the journal's jobs as ready (their previous deliveries died with the last process),
  // once, at the first queue operation: the bus is opened before the server applies migrations.
  Status EnsureRestored() {
    if (!journal_ || restored_.load(std::memory_order_acquire)) return Ok();
    std::lock_guard once(restore_mu_);
    if (restored_.load(std::memory_order_relaxed)) return Ok();
    VEZA_TRY(Restore());
    restored_.store(true, std::memory_order_release);
    return Ok();
  }

  Status Restore() {
    VEZA_ASSIGN_OR_RETURN(auto rows,
                          journal_->Query("SELECT id, queue, payload, attempts FROM queued_jobs ORDER BY id"));
    std::lock_guard lock(q_mu_);
    for (const Row& row : rows.rows) {
      auto id = static_cast<std::uint64_t>(row.Int(0));
      const auto* payload = std::get_if<Blob>(&row.Value(2));
      Queue& q = GetQueue(row.Text(1));
      q.jobs.emplace(id, JobRec{.payload = payload ? payload->bytes : row.Text(2),
                                .attempts = static_cast<int>(row.Int(3))});
      q.ready.push_back(id);
    }
    if (!rows.rows.empty()) log::Info("restored queued jobs", {{"jobs", rows.rows.size()}});
    return Ok();
  }

  // Records a delivery's attempt number, so a job that keeps killing its worker still runs out
  // of attempts across restarts.
  void JournalAttempt(std::uint64_t id, int attempt) {
    if (!journal_) return;
    auto r = journal_->Query("UPDATE queued_jobs SET attempts = $2 WHERE id = $1",
                             {SqlInt(static_cast<std::int64_t>(id)), SqlInt(attempt)});
    if (!r.ok()) log::Warn("cannot record a job attempt", {{"job", id}, {"error", r.error().message}});
  }

  // Deletes the rows of jobs acknowledged or dropped since the last call.
  Status ForgetFinished() {
    std::vector<std::uint64_t> ids;
    {
      std::lock_guard lock(q_mu_);
      ids.swap(finished_);
    }
    if (!journal_) return Ok();
    Status result;
    for (std::uint64_t id : ids) {
      auto r = journal_->Query("DELETE FROM queued_jobs WHERE id = $1", {SqlInt(static_cast<std::int64_t>(id))});
      if (!r.ok()) {
        log::Warn("cannot remove a finished job from the journal", {{"job", id}, {"error", r.error().message}});
        result = Unavailable("cannot remove the job from the journal: " + r.error().message);
      }
    }
    return result;
  }

  struct Delivery {
    std::uint64_t id = 0;
    std::uint64_t delivery = 0;
    std::string payload;
    int attempt = 0;
  };

  std::optional<Delivery> Fetch(std::string_view queue, std::chrono::milliseconds timeout,
                                const QueueOptions& options) {
    std::unique_lock lock(q_mu_);
    Queue& q = GetQueue(queue);
    const auto deadline = Steady::now() + timeout;
    for (;;) {
      auto now = Steady::now();
      FireTimers(queue, q, now);
      if (!q.ready.empty()) {
        std::uint64_t id = q.ready.front();
        q.ready.pop_front();
        JobRec& job = q.jobs.at(id);
        job.attempts++;
        job.delivery = ++next_delivery_;
        job.state = JobRec::State::kInFlight;
        job.max_attempts = options.max_attempts;
        q.timers.emplace(now + options.ack_wait, std::pair(id, job.delivery));
        // Waiting fetchers computed their wake-up before this timer existed.
        q.cv.notify_all();
        return Delivery{id, job.delivery, job.payload, job.attempts};
      }
      if (now >= deadline) return std::nullopt;
      auto wake = deadline;
      if (!q.timers.empty()) wake = std::min(wake, q.timers.begin()->first);
      q.cv.wait_until(lock, wake);
    }
  }

  void Ack(const std::string& queue, std::uint64_t id) {
    std::lock_guard lock(q_mu_);
    Queue& q = GetQueue(queue);
    // Accepted even from an older delivery (as JetStream does): the work was done.
    if (q.jobs.erase(id)) finished_.push_back(id);
  }

  void Retry(const std::string& queue, std::uint64_t id, std::uint64_t delivery,
             std::chrono::milliseconds delay) {
    std::lock_guard lock(q_mu_);
    Queue& q = GetQueue(queue);
    auto it = q.jobs.find(id);
    // Stale: acked meanwhile, or its ack wait ran out and it was handed to someone else.
    if (it == q.jobs.end() || it->second.delivery != delivery ||
        it->second.state != JobRec::State::kInFlight) {
      return;
    }
    JobRec& job = it->second;
    if (job.attempts >= job.max_attempts) {
      LogDrop(queue, job, "retried on its last attempt");
      finished_.push_back(id);
      q.jobs.erase(it);
      return;
    }
    job.state = JobRec::State::kDelayed;
    job.delivery = ++next_delivery_;
    q.timers.emplace(Steady::now() + delay, std::pair(id, job.delivery));
    q.cv.notify_all();
  }

 private:
  // Runs up to kDispatchBatch events of one subscription; true when it has more to run.
  static bool RunSome(SubState& sub) {
    std::unique_lock lock(sub.mu);
    for (int n = 0; n < kDispatchBatch && !sub.closed && !sub.pending.empty(); ++n) {
      std::shared_ptr<const Event> event = std::move(sub.pending.front());
      sub.pending.pop_front();
      sub.running = true;
      sub.runner = std::this_thread::get_id();
      lock.unlock();
      try {
        sub.handler(*event);
      } catch (const std::exception& e) {
        log::Error("event handler threw", {{"subject", event->subject}, {"error", e.what()}});
      } catch (...) {
        log::Error("event handler threw", {{"subject", event->subject}});
      }
      lock.lock();
      sub.running = false;
      sub.runner = {};
      sub.idle_cv.notify_all();
    }
    bool again = !sub.closed && !sub.pending.empty();
    if (!again) sub.scheduled = false;
    return again;
  }

  static void NoteDrop(SubState& sub) {
    sub.dropped_since_log++;
    auto now = Steady::now();
    bool first = sub.last_drop_log == Steady::time_point{};
    if (first || now - sub.last_drop_log >= kDropLogInterval) {
      log::Warn("event subscriber too slow, dropping events",
                {{"pattern", sub.pattern},
                 {"dropped", sub.dropped_since_log},
                 {"max_pending_events", sub.capacity}});
      sub.dropped_since_log = 0;
      sub.last_drop_log = now;
    }
  }

  static void LogDrop(std::string_view queue, const JobRec& job, std::string_view why) {
    log::Warn("job dropped after max attempts", {{"queue", queue},
                                                 {"attempts", job.attempts},
                                                 {"reason", why},
                                                 {"payload_bytes", job.payload.size()}});
  }

  Queue& GetQueue(std::string_view name) {
    auto it = queues_.find(name);
    if (it == queues_.end())
      it = queues_.emplace(std::string(name), std::make_unique<Queue>()).first;
    return *it->second;
  }

  // Moves jobs whose timers are due: delayed ones become ready, in-flight ones whose ack wait
  // ran out become ready again or are dropped after their last attempt.
  void FireTimers(std::string_view name, Queue& q, Steady::time_point now) {
    while (!q.timers.empty() && q.timers.begin()->first <= now) {
      auto [id, delivery] = q.timers.begin()->second;
      q.timers.erase(q.timers.begin());
      auto it = q.jobs.find(id);
      if (it == q.jobs.end() || it->second.delivery != delivery) continue;  // stale timer
      JobRec& job = it->second;
      if (job.state == JobRec::State::kInFlight && job.attempts >= job.max_attempts) {
        LogDrop(name, job, "not acknowledged within ack_wait on its last attempt");
        finished_.push_back(id);
        q.jobs.erase(it);
        continue;
      }
      job.state = JobRec::State::kReady;
      q.ready.push_back(id);
    }
  }

  const InprocBusOptions options_;

  std::shared_mutex subs_mu_;
  StringMap<std::vector<std::shared_ptr<SubState>>> exact_subs_;
  std::vector<std::shared_ptr<SubState>> wildcard_subs_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  std::deque<std::shared_ptr<SubState>> ready_;
  bool stopping_ = false;

  std::mutex q_mu_;
  StringMap<std::unique_ptr<Queue>> queues_;
  std::uint64_t next_job_id_ = 0;
  std::uint64_t next_delivery_ = 0;
  Database* const journal_;
  std::mutex restore_mu_;
  std::atomic<bool> restored_{false};
  std::vector<std::uint64_t> finished_;  // acked or dropped, still to delete from the journal

  static std::int64_t UnixMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class InprocSubscription final : public Subscription {
 public:
  InprocSubscription(std::shared_ptr<Core> core, std::shared_ptr<SubState> state)
      : core_(std::move(core)), state_(std::move(state)) {}
  ~InprocSubscription() override { core_->RemoveSub(state_); }

 private:
  std::shared_ptr<Core> core_;  // a Subscription may outlive the bus
  std::shared_ptr<SubState> state_;
};

class InprocJob final : public Job {
 public:
  InprocJob(std::shared_ptr<Core> core, std::string queue, Core::Delivery d)
      : core_(std::move(core)), queue_(std::move(queue)), d_(std::move(d)) {}

  const std::string& Payload() const override { return d_.payload; }
  int Attempt() const override { return d_.attempt; }

  Status Ack() override {
    if (done_) return Conflict("job already acknowledged or retried");
    done_ = true;
    core_->Ack(queue_, d_.id);
    return core_->ForgetFinished();
  }

  Status Retry(std::chrono::milliseconds delay) override {
    if (delay.count() < 0) return InvalidArgument("retry delay must not be negative");
    if (done_) return Conflict("job already acknowledged or retried");
    done_ = true;
    core_->Retry(queue_, d_.id, d_.delivery, delay);
    return core_->ForgetFinished();
  }

 private:
  std::shared_ptr<Core> core_;
  std::string queue_;
  Core::Delivery d_;
  bool done_ = false;
};

Status ValidateQueueOptions(const QueueOptions& o) {
  if (o.ack_wait.count() <= 0) return InvalidArgument("queue ack_wait must be positive");
  if (o.max_attempts < 1) return InvalidArgument("queue max_attempts must be at least 1");
  return Ok();
}

class InprocEventBus final : public EventBus {
 public:
  InprocEventBus(const InprocBusOptions& options, Database* journal)
      : core_(std::make_shared<Core>(options, journal)) {
    for (std::size_t i = 0; i < options.threads; ++i) {
      // Threads hold the core, so it lives until the last one has returned.
      threads_.emplace_back([core = core_] { core->DispatchLoop(); });
    }
  }

  ~InprocEventBus() override {
    core_->Stop();
    for (auto& t : threads_) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // destroyed from a handler; the thread exits when the handler returns
      } else {
        t.join();
      }
    }
  }

  Status Publish(std::string_view subject, std::string_view payload) override {
    VEZA_TRY(ValidateSubject(subject, /*allow_wildcards=*/false));
    core_->Publish(subject, payload);
    return Ok();
  }

  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject_pattern,
                                                  EventHandler handler) override {
    VEZA_TRY(ValidateSubject(subject_pattern, /*allow_wildcards=*/true));
    if (!handler) return InvalidArgument("event handler must not be empty");
    auto state = core_->AddSub(std::string(subject_pattern), std::move(handler));
    return std::unique_ptr<Subscription>(
        std::make_unique<InprocSubscription>(core_, std::move(state)));
  }

  Status Enqueue(std::string_view queue, std::string_view payload) override {
    VEZA_TRY(ValidateSubject(queue, /*allow_wildcards=*/false));
    VEZA_TRY(core_->EnsureRestored());
    return core_->Enqueue(queue, payload);
  }

  Result<std::unique_ptr<Job>> Fetch(std::string_view queue, std::chrono::milliseconds timeout,
                                     const QueueOptions& options) override {
    VEZA_TRY(ValidateSubject(queue, /*allow_wildcards=*/false));
    VEZA_TRY(ValidateQueueOptions(options));
    VEZA_TRY(core_->EnsureRestored());
    auto d = core_->Fetch(queue, std::max(timeout, std::chrono::milliseconds(0)), options);
    (void)core_->ForgetFinished();  // jobs dropped by this fetch's timers
    if (!d) return std::unique_ptr<Job>();
    core_->JournalAttempt(d->id, d->attempt);
    return std::unique_ptr<Job>(
        std::make_unique<InprocJob>(core_, std::string(queue), std::move(*d)));
  }

  Status Ping() override { return Ok(); }

 private:
  std::shared_ptr<Core> core_;
  std::vector<std::thread> threads_;
};

Result<std::size_t> ParseCount(std::string_view name, std::string_view text, std::size_t max) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0 || v > max) {
    return InvalidArgument("inproc bus url: " + std::string(name) + " must be an integer in 1.." +
                           std::to_string(max));
  }
  return v;
}

}  // namespace

Result<InprocBusOptions> ParseInprocBusUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "inproc") {
    return InvalidArgument("inproc bus url must look like inproc://, got " + RedactUrl(url));
  }
  InprocBusOptions o;
  for (auto param : parsed->params()) {
    if (param.key == "threads") {
      VEZA_ASSIGN_OR_RETURN(o.threads, ParseCount(param.key, param.value, 64));
    } else if (param.key == "max_pending_events") {
      VEZA_ASSIGN_OR_RETURN(o.max_pending_events, ParseCount(param.key, param.value, 1u << 30));
    } else {
      return InvalidArgument("inproc bus url: unknown parameter '" + std::string(param.key) +
                             "' (known: threads, max_pending_events)");
    }
  }
  return o;
}

Result<std::unique_ptr<EventBus>> OpenInprocEventBus(std::string_view url, Database* journal) {
  VEZA_ASSIGN_OR_RETURN(InprocBusOptions options, ParseInprocBusUrl(url));
  return NewInprocEventBus(options, journal);
}

Result<std::unique_ptr<EventBus>> NewInprocEventBus(const InprocBusOptions& options, Database* journal) {
  return std::unique_ptr<EventBus>(std::make_unique<InprocEventBus>(options, journal));
}

}  // namespace veza
