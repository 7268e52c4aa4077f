#include "backends/bus_nats/nats_event_bus.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/url.h"

namespace veza {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kConnectTimeoutMs = 2000;
constexpr int64_t kReconnectWaitMs = 250;
constexpr int64_t kPingTimeoutMs = 1000;
constexpr int64_t kJetStreamWaitMs = 5000;  // stream/consumer management, publish acks
constexpr const char* kConsumerName = "workers";
constexpr const char* kSubjectPrefix = "veza.jobs.";
// Threads of libnats' shared delivery pool that run subscription handlers (the library
// default is 1, which would let one slow handler delay every other subscription).
constexpr int kDeliveryThreads = 2;

std::string NatsErrorText(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string out = natsStatus_GetText(s);
  std::string_view detail = text != nullptr ? text : "";
  // libnats prefixes its detail with the source location, "(conn.c:2088): ".
  if (!detail.empty() && detail.front() == '(') {
    if (auto end = detail.find("): "); end != std::string_view::npos) detail.remove_prefix(end + 3);
  }
  if (!detail.empty() && detail != out) out += ": " + std::string(detail);
  return out;
}

std::string StreamName(std::string_view queue) {
  std::string name = "VEZA_";
  for (char c : queue) name.push_back(c == '.' ? '~' : c);
  return name;
}

std::string JobSubject(std::string_view queue) { return kSubjectPrefix + std::string(queue); }

// Owns the connection and JetStream context; shared by the bus and everything it hands out
// (subscriptions, jobs), so those may safely outlive the EventBus object.
struct NatsConn {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string redacted_url;

  ~NatsConn() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);  // closes it; callbacks take no closure
  }

  // Requests (JetStream publish, ack) made while disconnected would only wait out their
  // timeout; fail them at once so callers can report or retry without a 5 s stall.
  Status RequireConnected(std::string_view what) const {
    if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED) return Ok();
    return veza::Unavailable("nats at " + redacted_url + ": " + std::string(what) +
                             ": disconnected (reconnecting)");
  }

  Error Unavailable(std::string_view what, natsStatus s) const {
    return veza::Unavailable("nats at " + redacted_url + ": " + std::string(what) + ": " +
                             NatsErrorText(s));
  }
};

// ---- fan-out ---------------------------------------------------------------------------------

// What the library's callbacks see. `mu` is held while the handler runs, so the destructor of
// a subscription can wait out a call in progress and then shut the gate: no handler runs after
// it returns. The library keeps its own reference (a heap-allocated shared_ptr passed as the
// callback closure) until its on-complete callback, so a message being dispatched while we
// unsubscribe never sees freed memory.
struct SubGate {
  explicit SubGate(EventHandler h) : handler(std::move(h)) {}
  const EventHandler handler;
  std::mutex mu;
  bool open = true;
  std::atomic<std::thread::id> runner{};
};
using GateBox = std::shared_ptr<SubGate>;

void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  SubGate& gate = **static_cast<GateBox*>(closure);
  Event event{
      natsMsg_GetSubject(msg),
      std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)))};
  natsMsg_Destroy(msg);
  std::lock_guard lock(gate.mu);
  if (!gate.open) return;
  gate.runner = std::this_thread::get_id();
  try {
    gate.handler(event);
  } catch (const std::exception& e) {
    log::Error("event handler threw", {{"subject", event.subject}, {"error", e.what()}});
  } catch (...) {
    log::Error("event handler threw", {{"subject", event.subject}});
  }
  gate.runner = std::thread::id();
}

void OnSubscriptionComplete(void* closure) { delete static_cast<GateBox*>(closure); }

class NatsSubscription final : public Subscription {
 public:
  NatsSubscription(std::shared_ptr<NatsConn> conn, natsSubscription* sub, GateBox gate)
      : conn_(std::move(conn)), sub_(sub), gate_(std::move(gate)) {}

  ~NatsSubscription() override {
    if (gate_->runner.load() == std::this_thread::get_id()) {
      gate_->open = false;  // called from our own handler, which already holds mu
    } else {
      std::lock_guard lock(gate_->mu);
      gate_->open = false;
    }
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }

 private:
  std::shared_ptr<NatsConn> conn_;  // destroyed after the subscription
  natsSubscription* sub_;
  GateBox gate_;
};

// ---- work queue ------------------------------------------------------------------------------

// One pull subscription bound to a queue's durable consumer. libnats allows one Fetch at a time
// per subscription, so each queue keeps a small pool of them for concurrent fetchers.
struct PullSub {
  std::shared_ptr<NatsConn> conn;
  natsSubscription* sub = nullptr;
  ~PullSub() {
    if (sub != nullptr) natsSubscription_Destroy(sub);  // binds only: the consumer stays
  }
};

struct QueueState {
  std::mutex mu;  // held across the JetStream calls that set the stream and consumer up
  bool stream_ready = false;
  bool consumer_ready = false;
  QueueOptions applied;
  std::vector<std::shared_ptr<PullSub>> idle;
};

class NatsJob final : public Job {
 public:
  NatsJob(std::shared_ptr<PullSub> sub, natsMsg* msg, int attempt, int max_attempts,
          std::string queue)
      : sub_(std::move(sub)),
        msg_(msg),
        payload_(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
        attempt_(attempt),
        max_attempts_(max_attempts),
        queue_(std::move(queue)) {}

  // The message refers to its subscription (for acks), so it goes first.
  ~NatsJob() override { natsMsg_Destroy(msg_); }

  const std::string& Payload() const override { return payload_; }
  int Attempt() const override { return attempt_; }

  Status Ack() override {
    if (done_) return Conflict("job already acknowledged or retried");
    VEZA_TRY(sub_->conn->RequireConnected("ack of job in queue " + queue_));
    // Synchronous so that ok means JetStream recorded it (and the job will not come back).
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsMsg_AckSync(msg_, nullptr, &jerr);
    if (s != NATS_OK) return sub_->conn->Unavailable("ack of job in queue " + queue_, s);
    done_ = true;
    return Ok();
  }

  Status Retry(milliseconds delay) override {
    if (delay.count() < 0) return InvalidArgument("retry delay must not be negative");
    if (done_) return Conflict("job already acknowledged or retried");
    natsStatus s;
    if (attempt_ >= max_attempts_) {
      log::Warn("job dropped after max attempts", {{"queue", queue_},
                                                   {"attempts", attempt_},
                                                   {"reason", "retried on its last attempt"},
                                                   {"payload_bytes", payload_.size()}});
      s = natsMsg_Term(msg_, nullptr);
    } else {
      s = natsMsg_NakWithDelay(msg_, delay.count(), nullptr);
    }
    if (s != NATS_OK) return sub_->conn->Unavailable("retry of job in queue " + queue_, s);
    done_ = true;
    return Ok();
  }

 private:
  std::shared_ptr<PullSub> sub_;
  natsMsg* msg_;
  std::string payload_;
  int attempt_;
  int max_attempts_;
  std::string queue_;
  bool done_ = false;
};

Status ValidateQueueOptions(const QueueOptions& o) {
  if (o.ack_wait.count() <= 0) return InvalidArgument("queue ack_wait must be positive");
  if (o.max_attempts < 1) return InvalidArgument("queue max_attempts must be at least 1");
  return Ok();
}

// ---- connection callbacks (no closure: they may run after the bus is gone) ------------------

// The first server of the connection's pool (known even while disconnected), redacted.
std::string ServerUrl(natsConnection* nc) {
  char** servers = nullptr;
  int count = 0;
  if (natsConnection_GetServers(nc, &servers, &count) != NATS_OK) return "";
  std::string url = count > 0 ? RedactUrl(servers[0]) : "";
  for (int i = 0; i < count; ++i) free(servers[i]);
  free(servers);
  return url;
}

void OnDisconnected(natsConnection* nc, void*) {
  if (natsConnection_IsClosed(nc)) return;  // our own Destroy, not an outage
  log::Warn("nats disconnected; reconnecting", {{"server", ServerUrl(nc)}});
}
void OnReconnected(natsConnection* nc, void*) {
  log::Info("nats reconnected", {{"server", ServerUrl(nc)}});
}
void OnAsyncError(natsConnection* nc, natsSubscription* sub, natsStatus err, void*) {
  boost::json::object fields{{"error", natsStatus_GetText(err)}};
  if (sub != nullptr) {
    if (const char* subject = natsSubscription_GetSubject(sub)) fields["subject"] = subject;
    int64_t dropped = 0;
    if (natsSubscription_GetDropped(sub, &dropped) == NATS_OK) fields["dropped_total"] = dropped;
  }
  if (err == NATS_SLOW_CONSUMER) {
    log::Warn("nats subscriber too slow, dropping events", std::move(fields));
  } else {
    log::Error("nats async error", std::move(fields));
  }
}

// ---- the bus ---------------------------------------------------------------------------------

class NatsEventBus final : public EventBus {
 public:
  explicit NatsEventBus(std::shared_ptr<NatsConn> conn) : conn_(std::move(conn)) {}

  ~NatsEventBus() override {
    // Pull subscriptions go before the connection (jobs still held keep theirs alive).
    std::lock_guard lock(queues_mu_);
    queues_.clear();
  }

  Status Publish(std::string_view subject, std::string_view payload) override {
    VEZA_TRY(ValidateSubject(subject, /*allow_wildcards=*/false));
    std::string subj(subject);
    natsStatus s = natsConnection_Publish(conn_->nc, subj.c_str(), payload.data(),
                                          static_cast<int>(payload.size()));
    if (s == NATS_MAX_PAYLOAD) {
      return Error(ErrorCode::kPayloadTooLarge,
                   "event payload exceeds the NATS server's max_payload");
    }
    if (s != NATS_OK) return conn_->Unavailable("publish", s);
    return Ok();
  }

  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject_pattern,
                                                  EventHandler handler) override {
    VEZA_TRY(ValidateSubject(subject_pattern, /*allow_wildcards=*/true));
    if (!handler) return InvalidArgument("event handler must not be empty");
    auto gate = std::make_shared<SubGate>(std::move(handler));
    auto* box = new GateBox(gate);
    std::string pattern(subject_pattern);
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_Subscribe(&sub, conn_->nc, pattern.c_str(), OnMessage, box);
    if (s != NATS_OK) {
      delete box;
      return conn_->Unavailable("subscribe to " + pattern, s);
    }
    s = natsSubscription_SetOnCompleteCB(sub, OnSubscriptionComplete, box);
    if (s != NATS_OK) {
      // Without the callback we cannot know when the library is done with box; leak it
      // rather than risk a use after free.
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
      return conn_->Unavailable("subscribe to " + pattern, s);
    }
    // A round trip so that the server knows of the subscription when we return: an event
    // published afterwards, from any node, reaches it. If we are disconnected, the library
    // re-subscribes on reconnect; the subscription is still good.
    natsConnection_FlushTimeout(conn_->nc, kPingTimeoutMs);
    return std::unique_ptr<Subscription>(
        std::make_unique<NatsSubscription>(conn_, sub, std::move(gate)));
  }

  Status Enqueue(std::string_view queue, std::string_view payload) override {
    VEZA_TRY(ValidateSubject(queue, /*allow_wildcards=*/false));
    auto qs = GetQueue(queue);
    std::string stream = StreamName(queue);
    std::string subject = JobSubject(queue);
    for (int attempt = 0;; ++attempt) {
      VEZA_TRY(conn_->RequireConnected("enqueue to " + std::string(queue)));
      {
        std::lock_guard lock(qs->mu);
        VEZA_TRY(EnsureStream(*qs, stream, subject));
      }
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.ExpectStream = stream.c_str();
      jsPubAck* ack = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_Publish(&ack, conn_->js, subject.c_str(), payload.data(),
                                static_cast<int>(payload.size()), &po, &jerr);
      jsPubAck_Destroy(ack);
      if (s == NATS_OK) return Ok();
      if (s == NATS_MAX_PAYLOAD || jerr == JSStreamMessageExceedsMaximumErr) {
        return Error(ErrorCode::kPayloadTooLarge,
                     "job payload exceeds the NATS server's max_payload");
      }
      if (s == NATS_NO_RESPONDERS && attempt == 0) {
        // The stream was deleted behind our back (or JetStream restarted empty): recreate it.
        std::lock_guard lock(qs->mu);
        qs->stream_ready = false;
        qs->consumer_ready = false;
        continue;
      }
      return conn_->Unavailable("enqueue to " + std::string(queue), s);
    }
  }

  Result<std::unique_ptr<Job>> Fetch(std::string_view queue, milliseconds timeout,
                                     const QueueOptions& options) override {
    VEZA_TRY(ValidateSubject(queue, /*allow_wildcards=*/false));
    VEZA_TRY(ValidateQueueOptions(options));
    auto qs = GetQueue(queue);
    std::string stream = StreamName(queue);
    std::string subject = JobSubject(queue);
    std::shared_ptr<PullSub> ps;
    {
      std::lock_guard lock(qs->mu);
      VEZA_TRY(EnsureStream(*qs, stream, subject));
      VEZA_TRY(EnsureConsumer(*qs, stream, options));
      if (!qs->idle.empty()) {
        ps = std::move(qs->idle.back());
        qs->idle.pop_back();
      }
    }
    if (!ps) {
      VEZA_ASSIGN_OR_RETURN(ps, NewPullSub(stream, subject));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s =
          natsSubscription_Fetch(&list, ps->sub, 1, std::max<int64_t>(left.count(), 1), &jerr);
      if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        ReturnPullSub(*qs, std::move(ps));
        return std::unique_ptr<Job>();
      }
      if (s != NATS_OK) {
        natsMsgList_Destroy(&list);
        // Perhaps the consumer or stream was deleted: set them up again next time, and do not
        // reuse this subscription.
        std::lock_guard lock(qs->mu);
        qs->stream_ready = false;
        qs->consumer_ready = false;
        qs->idle.clear();
        return conn_->Unavailable("fetch from " + std::string(queue), s);
      }
      natsMsg* msg = list.Msgs[0];
      list.Msgs[0] = nullptr;  // ours now
      natsMsgList_Destroy(&list);
      int attempt = 1;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        attempt = static_cast<int>(meta->NumDelivered);
        jsMsgMetaData_Destroy(meta);
      }
      if (attempt > options.max_attempts) {
        // The consumer's MaxDeliver is max_attempts + 1 precisely so that this extra delivery
        // of a job whose last attempt was never acknowledged comes here to be logged and
        // removed (JetStream would otherwise stop delivering it but keep it in the stream).
        log::Warn("job dropped after max attempts",
                  {{"queue", queue},
                   {"attempts", attempt - 1},
                   {"reason", "not acknowledged within ack_wait on its last attempt"},
                   {"payload_bytes", natsMsg_GetDataLength(msg)}});
        natsMsg_Term(msg, nullptr);
        natsMsg_Destroy(msg);
        if (std::chrono::steady_clock::now() >= deadline) {
          ReturnPullSub(*qs, std::move(ps));
          return std::unique_ptr<Job>();
        }
        continue;
      }
      auto job =
          std::make_unique<NatsJob>(ps, msg, attempt, options.max_attempts, std::string(queue));
      ReturnPullSub(*qs, std::move(ps));
      return std::unique_ptr<Job>(std::move(job));
    }
  }

  Status Ping() override {
    if (natsConnection_Status(conn_->nc) != NATS_CONN_STATUS_CONNECTED) {
      return Unavailable("nats at " + conn_->redacted_url + " is disconnected (reconnecting)");
    }
    natsStatus s = natsConnection_FlushTimeout(conn_->nc, kPingTimeoutMs);
    if (s != NATS_OK) return conn_->Unavailable("ping", s);
    return Ok();
  }

 private:
  std::shared_ptr<QueueState> GetQueue(std::string_view queue) {
    std::lock_guard lock(queues_mu_);
    auto& qs = queues_[std::string(queue)];
    if (!qs) qs = std::make_shared<QueueState>();
    return qs;
  }

  void ReturnPullSub(QueueState& qs, std::shared_ptr<PullSub> ps) {
    std::lock_guard lock(qs.mu);
    qs.idle.push_back(std::move(ps));
  }

  // Creates the queue's stream unless it exists. Other nodes may race us; creating a stream
  // that exists with the same config succeeds, and "name in use" means someone else won.
  Status EnsureStream(QueueState& qs, const std::string& stream, const std::string& subject) {
    if (qs.stream_ready) return Ok();
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, conn_->js, stream.c_str(), nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    si = nullptr;
    if (s == NATS_OK) {
      qs.stream_ready = true;
      return Ok();
    }
    if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
      return conn_->Unavailable("look up stream " + stream, s);
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {subject.c_str()};
    cfg.Name = stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Storage = js_FileStorage;
    s = js_AddStream(&si, conn_->js, &cfg, nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK && jerr != JSStreamNameExistErr) {
      return conn_->Unavailable("create stream " + stream, s);
    }
    qs.stream_ready = true;
    return Ok();
  }

  // Creates the durable pull consumer, or updates its AckWait/MaxDeliver to these options.
  Status EnsureConsumer(QueueState& qs, const std::string& stream, const QueueOptions& options) {
    if (qs.consumer_ready && qs.applied.ack_wait == options.ack_wait &&
        qs.applied.max_attempts == options.max_attempts) {
      return Ok();
    }
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = kConsumerName;
    cfg.DeliverPolicy = js_DeliverAll;
    cfg.AckPolicy = js_AckExplicit;
    cfg.ReplayPolicy = js_ReplayInstant;
    cfg.AckWait = static_cast<int64_t>(options.ack_wait.count()) * 1'000'000;
    // One more than max_attempts: see Fetch.
    cfg.MaxDeliver = options.max_attempts + 1;

    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s =
        js_GetConsumerInfo(&ci, conn_->js, stream.c_str(), kConsumerName, nullptr, &jerr);
    bool exists = s == NATS_OK;
    bool same = exists && ci->Config != nullptr && ci->Config->AckWait == cfg.AckWait &&
                ci->Config->MaxDeliver == cfg.MaxDeliver;
    jsConsumerInfo_Destroy(ci);
    ci = nullptr;
    if (!exists && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
      return conn_->Unavailable("look up consumer of stream " + stream, s);
    }
    if (!exists) {
      s = js_AddConsumer(&ci, conn_->js, stream.c_str(), &cfg, nullptr, &jerr);
      jsConsumerInfo_Destroy(ci);
      ci = nullptr;
      // Another node created it first, perhaps with other options: update instead.
      if (s != NATS_OK && (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr)) {
        exists = true;
      } else if (s != NATS_OK) {
        return conn_->Unavailable("create consumer of stream " + stream, s);
      } else {
        same = true;
      }
    }
    if (exists && !same) {
      s = js_UpdateConsumer(&ci, conn_->js, stream.c_str(), &cfg, nullptr, &jerr);
      jsConsumerInfo_Destroy(ci);
      if (s != NATS_OK) return conn_->Unavailable("update consumer of stream " + stream, s);
      log::Info("job queue consumer updated", {{"stream", stream},
                                               {"ack_wait_ms", options.ack_wait.count()},
                                               {"max_attempts", options.max_attempts}});
    }
    qs.consumer_ready = true;
    qs.applied = options;
    return Ok();
  }

  Result<std::shared_ptr<PullSub>> NewPullSub(const std::string& stream,
                                              const std::string& subject) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Consumer = kConsumerName;  // bind to the consumer made above; never create or delete it
    auto ps = std::make_shared<PullSub>();
    ps->conn = conn_;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s =
        js_PullSubscribe(&ps->sub, conn_->js, subject.c_str(), kConsumerName, nullptr, &so, &jerr);
    if (s != NATS_OK) {
      ps->sub = nullptr;
      return conn_->Unavailable("bind to consumer of stream " + stream, s);
    }
    return ps;
  }

  std::shared_ptr<NatsConn> conn_;
  std::mutex queues_mu_;
  std::unordered_map<std::string, std::shared_ptr<QueueState>> queues_;
};

}  // namespace

Result<std::unique_ptr<EventBus>> OpenNatsEventBus(std::string_view url) {
  std::string redacted = RedactUrl(url);
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "nats") {
    return InvalidArgument("nats url must look like nats://host:port, got " + redacted);
  }
  boost::urls::url u = *parsed;
  if (!u.params().empty() || (!u.path().empty() && u.path() != "/")) {
    return InvalidArgument("nats url takes no path or parameters: " + redacted);
  }
  std::string user, password;
  bool has_password = u.has_password();
  if (u.has_userinfo()) {
    user = u.user();
    password = u.password();
    u.remove_userinfo();  // credentials go through natsOptions, percent-decoded
  }
  if (!u.has_port()) u.set_port_number(4222);
  std::string server = std::string(u.buffer());

  // Each bus has its own connection; raising the shared pool size only ever grows it.
  nats_SetMessageDeliveryPoolSize(kDeliveryThreads);

  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return Internal("nats: cannot create options: " + NatsErrorText(s));
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts_guard(opts, natsOptions_Destroy);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, server.c_str());
  if (s == NATS_OK && !user.empty()) {
    s = has_password ? natsOptions_SetUserInfo(opts, user.c_str(), password.c_str())
                     : natsOptions_SetToken(opts, user.c_str());
  }
  if (s == NATS_OK) s = natsOptions_SetName(opts, "veza");
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, kConnectTimeoutMs);
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, false, nullptr, nullptr);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, kReconnectWaitMs);
  // Requests in flight (JetStream publish acks, acks, management) fail at once on disconnect
  // instead of waiting out their timeout.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts, true);
  // Notice a dead server that did not close the socket within ~30 s.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 10'000);
  if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(opts, true);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, OnDisconnected, nullptr);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, OnReconnected, nullptr);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, OnAsyncError, nullptr);
  if (s != NATS_OK) return Internal("nats: cannot set options: " + NatsErrorText(s));

  auto conn = std::make_shared<NatsConn>();
  conn->redacted_url = redacted;
  s = natsConnection_Connect(&conn->nc, opts);
  if (s != NATS_OK) {
    conn->nc = nullptr;
    return Unavailable("cannot connect to nats at " + redacted + ": " + NatsErrorText(s));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = kJetStreamWaitMs;
  s = natsConnection_JetStream(&conn->js, conn->nc, &jo);
  if (s != NATS_OK) return conn->Unavailable("JetStream context", s);
  // The work queue needs JetStream; find out now rather than at the first Enqueue.
  jsAccountInfo* ai = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  s = js_GetAccountInfo(&ai, conn->js, nullptr, &jerr);
  jsAccountInfo_Destroy(ai);
  if (s != NATS_OK) {
    return Unavailable("nats at " + redacted +
                       ": JetStream is not available (start nats-server "
                       "with -js): " +
                       NatsErrorText(s));
  }
  return std::unique_ptr<EventBus>(std::make_unique<NatsEventBus>(std::move(conn)));
}

}  // namespace veza
