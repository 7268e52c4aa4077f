#pragma once
// In-process EventBus backend (`inproc://?threads=2&max_pending_events=10000`) for a single
// node: no server, nothing to install.
//
// Fan-out: Publish copies the event into the bounded queue of every matching subscription and
// returns; a small pool of dispatcher threads (never the publisher's thread) runs the handlers.
// One subscription's events are handled one at a time, in publish order; different
// subscriptions run in parallel. A subscription whose queue already holds max_pending_events
// undelivered events (its handler fell far behind) loses new events instead of growing without
// bound or slowing the publisher; drops are logged (first one, then a count at most every
// 10 s). Destroying a Subscription unsubscribes and waits for a handler call in progress, so
// no handler runs after the destructor returns (unless it is called from that very handler).
//
// Work queue: with a journal (the server always passes its Database), a job is a row in
// `queued_jobs` before Enqueue returns and until it is acknowledged or dropped, so queued and
// in-flight jobs survive a restart and are delivered again (at least once, like NATS
// JetStream); attempts are recorded per delivery. Without one (unit tests) jobs live in memory
// only. Each job is handed to one Fetch at a time; Ack removes it; Retry(delay) makes it
// available again after delay (a restart makes it available at once); a job neither acked nor
// retried within ack_wait is handed out again; after max_attempts deliveries it is dropped
// with a log line. The queue is not bounded (a producer far ahead of its consumers grows
// memory); Fetch blocks on a condition variable up to its timeout.
#include <cstddef>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/event_bus.h"

namespace veza {

struct InprocBusOptions {
  std::size_t threads = 2;                  // dispatcher threads running handlers
  std::size_t max_pending_events = 10'000;  // per subscription, then new events are dropped
};

Result<InprocBusOptions> ParseInprocBusUrl(std::string_view url);

class Database;

// journal: where the work queue's jobs are persisted (nullptr: memory only). It must outlive
// the bus; the jobs a previous process left are loaded at the first Enqueue or Fetch (after the
// server has applied its migrations).
Result<std::unique_ptr<EventBus>> OpenInprocEventBus(std::string_view url, Database* journal);
Result<std::unique_ptr<EventBus>> NewInprocEventBus(const InprocBusOptions& options, Database* journal);

}  // namespace veza
