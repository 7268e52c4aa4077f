#pragma once
// EventBus port: fan-out events between services and nodes, and a durable work queue.
// In-process or NATS (core subjects for fan-out, JetStream for the work queue).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace veza {

// Subjects are dot-separated tokens ("chat.room.42"); a subscription may use "*" for one token
// and a final ">" for one or more tokens, as in NATS.
struct Event {
  std::string subject;
  std::string payload;
};

// Called on a bus thread; must not block for long.
using EventHandler = std::function<void(const Event&)>;

class Subscription {
 public:
  virtual ~Subscription() = default;  // unsubscribes
};

// One delivery of a queued job. Exactly one of Ack/Retry should be called (a second call on the
// same Job returns kConflict); a job neither acked nor retried within the queue's ack wait is
// delivered again, and a late Ack from an earlier delivery is still accepted.
class Job {
 public:
  virtual ~Job() = default;
  virtual const std::string& Payload() const = 0;
  virtual int Attempt() const = 0;  // 1 on first delivery
  virtual Status Ack() = 0;
  virtual Status Retry(std::chrono::milliseconds delay) = 0;
};

struct QueueOptions {
  std::chrono::milliseconds ack_wait{30'000};
  int max_attempts = 5;  // after that the job is dropped (and logged)
};

class EventBus {
 public:
  virtual ~EventBus() = default;
  virtual Status Publish(std::string_view subject, std::string_view payload) = 0;
  virtual Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject_pattern,
                                                          EventHandler handler) = 0;
  // Durable work queue: a job is persisted before Enqueue returns ok, and is handed to one
  // consumer at a time.
  virtual Status Enqueue(std::string_view queue, std::string_view payload) = 0;
  // Waits up to timeout for a job; ok with a null pointer when none came.
  virtual Result<std::unique_ptr<Job>> Fetch(std::string_view queue, std::chrono::milliseconds timeout,
                                             const QueueOptions& options = {}) = 0;
  virtual Status Ping() = 0;
};

// True when subject matches pattern under the rules above.
bool SubjectMatches(std::string_view pattern, std::string_view subject);
// Subjects and queue names: 1..256 bytes of [A-Za-z0-9_-] tokens separated by '.'; patterns may
// also hold "*" tokens and a final ">".
Status ValidateSubject(std::string_view subject, bool allow_wildcards);

}  // namespace veza
