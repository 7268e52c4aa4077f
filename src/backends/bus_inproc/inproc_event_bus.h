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
// Work queue: jobs live in this process's memory only. Unlike NATS JetStream, which writes
// them to disk before Enqueue returns, THIS QUEUE DOES NOT SURVIVE A PROCESS RESTART: queued
// and in-flight jobs are lost when the process exits. Each job is handed to one Fetch at a
// time; Ack removes it; Retry(delay) makes it available again after delay; a job neither
// acked nor retried within ack_wait is handed out again; after max_attempts deliveries it is
// dropped with a log line. The queue is not bounded (a producer far ahead of its consumers
// grows memory); Fetch blocks on a condition variable up to its timeout.
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

Result<std::unique_ptr<EventBus>> OpenInprocEventBus(std::string_view url);
std::unique_ptr<EventBus> NewInprocEventBus(const InprocBusOptions& options);

}  // namespace veza
