#pragma once
// NATS EventBus backend (`nats://[user:password@]host:port`, or `nats://token@host:port`),
// shared by every node.
//
// Fan-out uses core NATS subjects (at most once; a node that is disconnected misses events).
// Handlers run on libnats' global delivery thread pool, one call at a time per subscription,
// in order; a subscription more than 65536 messages behind loses messages (libnats' "slow
// consumer" limit, logged).
//
// The work queue uses JetStream: queue Q is the stream `VEZA_<Q>` ('.' in Q becomes '~', which
// queue names cannot hold, so names never collide) with work-queue retention on file storage,
// holding subject `veza.jobs.<Q>`, and one durable pull consumer `workers` with explicit acks.
// Enqueue returns once JetStream acknowledged the write, so a queued job survives restarts of
// veza and of the NATS server. The consumer's AckWait and MaxDeliver follow the QueueOptions
// of the latest Fetch (changing them updates the consumer for every node). Job::Ack waits for
// JetStream's confirmation; Retry is a NAK with delay. MaxDeliver is max_attempts + 1: the
// extra delivery of a job whose last attempt timed out is not handed to the caller but
// terminated and logged by Fetch, so dropped jobs are logged and leave the stream (as does a
// Retry on the last attempt).
//
// The connection reconnects forever (every ~250 ms); meanwhile Publish is buffered by libnats,
// Enqueue and Ack fail at once with kUnavailable, Fetch returns no job after its timeout and
// Ping reports kUnavailable. Open fails within a few seconds, naming the server (without password),
// when it cannot connect or JetStream is not enabled.
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/event_bus.h"

namespace veza {

Result<std::unique_ptr<EventBus>> OpenNatsEventBus(std::string_view url);

}  // namespace veza
