#include "api/http/chat_routes.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "api/http/auth_routes.h"
#include "api/http/chat_frames.h"
#include "base/blocking.h"
#include "base/log.h"
#include "domain/error_table.h"
#include "services/notifications/notification_service.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object RoomJson(const chat::Room& r) {
  json::object o;
  o["id"] = r.id;
  o["kind"] = chat::RoomKindName(r.kind);
  o["name"] = r.name;
  o["topic"] = r.topic;
  o["slow_mode_seconds"] = r.slow_mode_seconds;
  o["last_seq"] = r.last_seq;
  o["created_at"] = r.created_at;
  if (!r.my_role.empty()) {
    o["my_role"] = r.my_role;
    o["last_read_seq"] = r.last_read_seq;
    o["unread_count"] = r.UnreadCount();
  }
  return o;
}

json::value MessageValue(const chat::Message& m) { return json::parse(chat::MessageJson(m)); }

json::array MessagesJson(const std::vector<chat::Message>& messages) {
  json::array a;
  for (const auto& m : messages) a.push_back(MessageValue(m));
  return a;
}

// A string field of at most max bytes; absent gives fallback, another type is an error.
Result<std::string> StringField(const json::object& o, std::string_view name, std::size_t max, std::string fallback,
                                bool required = false) {
  auto it = o.find(name);
  if (it == o.end()) {
    if (required) return InvalidArgument("field '" + std::string(name) + "' is required");
    return fallback;
  }
  if (!it->value().is_string()) return InvalidArgument("field '" + std::string(name) + "' must be a string");
  if (it->value().as_string().size() > max) {
    return InvalidArgument("field '" + std::string(name) + "' is longer than " + std::to_string(max) + " bytes");
  }
  return std::string(it->value().as_string());
}

Result<std::optional<std::int64_t>> IntField(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return std::optional<std::int64_t>();
  if (!it->value().is_int64()) return InvalidArgument("field '" + std::string(name) + "' must be an integer");
  return std::optional<std::int64_t>(it->value().as_int64());
}

Status OnlyFields(const json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool known = false;
    for (auto name : allowed) known = known || kv.key() == name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
  }
  return Ok();
}

Result<json::object> BodyObject(const RequestContext& ctx, std::initializer_list<std::string_view> allowed) {
  VEZA_ASSIGN_OR_RETURN(json::value v, ParseJsonBody(ctx));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  VEZA_TRY(OnlyFields(v.as_object(), allowed));
  return std::move(v.as_object());
}

Result<std::optional<std::int64_t>> QueryInt(std::string_view query, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    if (pair.substr(0, name.size()) == name && pair.size() > name.size() && pair[name.size()] == '=') {
      std::string_view text = pair.substr(name.size() + 1);
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) {
        return InvalidArgument("query parameter '" + std::string(name) + "' must be an integer");
      }
      return std::optional<std::int64_t>(v);
    }
    pos = end + 1;
  }
  return std::optional<std::int64_t>();
}

std::string_view QueryValue(std::string_view query, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

// ---- WebSocket ------------------------------------------------------------------------------

// One connected socket: its writer's state and the rooms it listens to. Deliver may be called
// from any thread (bus handlers); everything else runs on the socket's executor. Frames are
// encoded for the wire once (WebSocket::EncodeText) and their bytes shared by every recipient;
// they wait in the WebSocket's own queue, which writes several of them per system call.
class ChatSocket : public std::enable_shared_from_this<ChatSocket> {
 public:
  using Frame = WebSocket::Frame;

  ChatSocket(asio::any_io_executor executor, WebSocket& ws, std::size_t max_queued, std::size_t max_queued_bytes)
      : executor_(std::move(executor)), ws_(&ws), max_queued_(max_queued), max_queued_bytes_(max_queued_bytes) {}

  void Deliver(std::string text) { Deliver(WebSocket::EncodeText(text)); }
  void Deliver(Frame frame) {
    asio::post(executor_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->Push(std::move(frame));
    });
  }

  // On the socket's executor: queue and write now.
  void Push(std::string text) { Push(WebSocket::EncodeText(text)); }
  void Push(Frame frame) {
    Enqueue(std::move(frame));
    FlushNow();
  }
  // Queues without writing: a fan-out queues a message on every recipient first and writes
  // later (FlushNow), so a socket's frames of several messages go out in one write.
  void Enqueue(Frame frame) {
    if (closed_ || slow_ || !ws_) return;  // once too slow, nothing more is queued: the close comes next
    if (ws_->Queued() >= max_queued_ || ws_->QueuedBytes() + frame->size() > max_queued_bytes_) {
      slow_ = true;  // slow-consumer policy: close rather than slow the room (docs/websocket.md)
      WakeWriter();
      return;
    }
    ws_->Enqueue(std::move(frame));
  }
  // Writes what the socket takes without waiting; the writer coroutine writes the rest.
  void FlushNow() {
    if (closed_ || !ws_ || slow_) return;
    if (!ws_->TryFlush()) WakeWriter();
  }
  void WakeWriter() {
    if (wake_writer_) wake_writer_();
  }
  // The session is over: the WebSocket is about to go away.
  void Detach() {
    closed_ = true;
    ws_ = nullptr;
    wake_writer_ = nullptr;
  }

  bool closed_ = false;
  bool slow_ = false;
  bool evicted_ = false;  // banned everywhere (moderation): the writer closes with 4003
  bool recheck_ = false;  // a session of the user ended somewhere: check ours now
  std::string user_id;    // whose socket: moderation evicts by user
  asio::any_io_executor executor_;
  std::function<void()> wake_writer_;  // starts the connection's writer (ChatConnection)
  WebSocket* ws_;
  std::size_t max_queued_;
  std::size_t max_queued_bytes_;
};

// Routes bus events to this node's sockets, with one bus subscription per subject that has
// local listeners: a room's subject (frames of type "message") and a user's notification
// subject (frames of type "notification").
class ChatHub {
 public:
  ChatHub(EventBus& bus, chat::ChatService& chat) : bus_(bus), chat_(chat) {}
  // The room subscriptions end outside mu_ and after the map is empty: a handler in progress
  // (which takes mu_) finds nothing instead of a map being destroyed under it.
  ~ChatHub() {
    decltype(subjects_) doomed;
    {
      std::lock_guard lock(mu_);
      doomed.swap(subjects_);
    }
  }

  // Sessions ended on any node (logout, revocation, suspension): the user's sockets here
  // re-check theirs at once instead of at the next heartbeat.
  Status WatchSessions() {
    VEZA_ASSIGN_OR_RETURN(sessions_sub_, bus_.Subscribe(auth::kSessionsEndedSubject, [this](const Event& e) {
      std::lock_guard lock(mu_);
      auto owned = users_.find(e.payload);
      if (owned == users_.end()) return;
      for (auto& [ptr, weak] : owned->second) {
        if (auto s = weak.lock()) {
          asio::post(s->executor_, [s] {
            s->recheck_ = true;
            s->WakeWriter();
          });
        }
      }
    }));
    return Ok();
  }

  // Bans and kicks published by the moderation service on any node (docs/moderation.md).
  Status WatchModeration() {
    VEZA_ASSIGN_OR_RETURN(moderation_sub_, bus_.Subscribe(moderation::kModerationSubject,
                                                          [this](const Event& e) { OnModeration(e.payload); }));
    return Ok();
  }
  void Register(const std::shared_ptr<ChatSocket>& socket) {
    std::lock_guard lock(mu_);
    users_[socket->user_id][socket.get()] = socket;
  }
  // This node's open chat sockets and the distinct users behind them (for /metrics).
  std::pair<std::size_t, std::size_t> Counts() {
    std::lock_guard lock(mu_);
    std::size_t sockets = 0;
    for (const auto& [user, owned] : users_) sockets += owned.size();
    return {sockets, users_.size()};
  }
  void Unregister(ChatSocket* socket) {
    std::lock_guard lock(mu_);
    auto it = users_.find(socket->user_id);
    if (it == users_.end()) return;
    it->second.erase(socket);
    if (it->second.empty()) users_.erase(it);
  }

  // frame_type names the frame each event of subject is wrapped in: {"type":..., <type>: event};
  // empty: the events are client frames already (room subjects).
  Status Listen(const std::string& subject, const std::string& frame_type, const std::shared_ptr<ChatSocket>& socket) {
    std::lock_guard lock(mu_);
    auto& entry = subjects_[subject];
    if (!entry.subscription) {
      std::string prefix = frame_type.empty() ? "" : R"({"type":")" + frame_type + R"(",")" + frame_type + R"(":)";
      auto sub = bus_.Subscribe(subject, [this, subject, prefix](const Event& e) { Fan(subject, prefix, e.payload); });
      if (!sub.ok()) {
        subjects_.erase(subject);
        return sub.take_error();
      }
      entry.subscription = std::move(sub).value();
    }
    entry.sockets[socket.get()] = socket;
    return Ok();
  }

  // Users whose node died without saying they left (chat::Presence's lost sink): told to this
  // node's own sockets in the rooms they were seen in; every node does the same for its own.
  void AnnounceOfflineHere(const std::string& user_id, const std::vector<std::string>& room_ids) {
    std::string frame = json::serialize(json::object{{"type", "presence"}, {"user", user_id}, {"status", "offline"}});
    for (const auto& room : room_ids) Fan(chat::RoomSubject(room), "", frame);
  }

  void Unlisten(const std::string& subject, ChatSocket* socket) {
    std::unique_ptr<Subscription> doomed;
    {
      std::lock_guard lock(mu_);
      auto it = subjects_.find(subject);
      if (it == subjects_.end()) return;
      it->second.sockets.erase(socket);
      if (it->second.sockets.empty()) {
        doomed = std::move(it->second.subscription);
        subjects_.erase(it);
      }
    }
    // Destroyed outside mu_: it waits for a handler in progress, which takes mu_.
  }

 private:
  void OnModeration(const std::string& payload) {
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) return;
    const json::object& o = v.as_object();
    auto text = [&](const char* key) {
      auto it = o.find(key);
      return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
    };
    if (text("kind") != "evict") return;
    std::string user = text("user"), room = text("room"), reason = text("reason");
    std::lock_guard lock(mu_);
    auto owned = users_.find(user);
    if (owned == users_.end()) return;
    for (auto& [ptr, weak] : owned->second) {
      auto s = weak.lock();
      if (!s) continue;
      if (room.empty()) {  // a global ban: the socket closes
        s->Deliver(json::serialize(json::object{{"type", "banned"}, {"scope", "global"}}));
        asio::post(s->executor_, [s] {
          s->evicted_ = true;
          s->WakeWriter();
        });
        continue;
      }
      if (auto it = subjects_.find(chat::RoomSubject(room)); it != subjects_.end()) it->second.sockets.erase(ptr);
      s->Deliver(json::serialize(json::object{{"type", "removed"}, {"room", room}, {"reason", reason}}));
    }
  }

  // One post per executor (with one IO thread: one post per message, whatever the room's
  // size), not one per recipient; the writes come in a second post, so that under load a
  // socket's frames of several messages queued meanwhile leave in one write.
  void Fan(const std::string& subject, const std::string& prefix, const std::string& payload) {
    if (prefix.empty()) NotePresence(subject, payload);
    WebSocket::Frame frame = WebSocket::EncodeText(prefix.empty() ? payload : prefix + payload + "}");
    struct Group {
      asio::any_io_executor executor;
      std::vector<std::shared_ptr<ChatSocket>> sockets;
    };
    std::vector<Group> groups;
    {
      std::lock_guard lock(mu_);
      auto it = subjects_.find(subject);
      if (it == subjects_.end()) return;
      for (auto& [ptr, weak] : it->second.sockets) {
        auto s = weak.lock();
        if (!s) continue;
        // Sockets of one executor are usually all of them: compare with the last group only.
        if (groups.empty() || groups.back().executor != s->executor_) groups.push_back({s->executor_, {}});
        groups.back().sockets.push_back(std::move(s));
      }
    }
    for (auto& group : groups) {
      asio::post(group.executor, [frame, sockets = std::move(group.sockets)]() mutable {
        for (const auto& s : sockets) s->Enqueue(frame);
        auto executor = sockets.front()->executor_;
        asio::post(executor, [sockets = std::move(sockets)] {
          for (const auto& s : sockets) s->FlushNow();
        });
      });
    }
  }

  // Presence events of a room (announced by any node) keep the watch of users held elsewhere.
  void NotePresence(const std::string& subject, const std::string& payload) {
    static constexpr std::string_view kPresence = R"({"type":"presence")";
    static constexpr std::string_view kRoomPrefix = "chat.room.";
    if (!std::string_view(payload).starts_with(kPresence) || !subject.starts_with(kRoomPrefix)) return;
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) return;
    const json::object& o = v.as_object();
    const json::value* user = o.if_contains("user");
    const json::value* status = o.if_contains("status");
    if (!user || !user->is_string() || !status || !status->is_string()) return;
    chat_.NotePresence(std::string_view(user->as_string()), std::string_view(subject).substr(kRoomPrefix.size()),
                       std::string_view(status->as_string()));
  }

  struct Listeners {
    std::unique_ptr<Subscription> subscription;
    std::unordered_map<ChatSocket*, std::weak_ptr<ChatSocket>> sockets;
  };
  EventBus& bus_;
  chat::ChatService& chat_;
  std::mutex mu_;
  std::unordered_map<std::string, Listeners> subjects_;
  std::unordered_map<std::string, std::unordered_map<ChatSocket*, std::weak_ptr<ChatSocket>>> users_;
  std::unique_ptr<Subscription> moderation_sub_;
  std::unique_ptr<Subscription> sessions_sub_;
};

// Group commit of this node's chat sends: while one worker stores a batch (one transaction,
// one commit), the sends arriving from every socket wait here and go together in the next.
// Under load a commit is shared by many messages instead of costing one each, and no worker
// sits blocked per waiting message; alone, a send is stored at once as before. One batch at a
// time: SQLite has a single writer anyway, and on PostgreSQL a room's sequence row is locked
// until commit, so parallel batches of one node would mostly wait for each other.
class SendQueue : public std::enable_shared_from_this<SendQueue> {
 public:
  static constexpr std::size_t kMaxBatch = 256;

  // Moderation's look at a message before it is stored (on a worker): a frame refusing it, or
  // empty to go on (the body may have been masked).
  using Review = std::function<std::string(chat::SendRequest&)>;
  struct Outcome {
    std::string refusal;  // the review's frame: nothing was stored
    Result<chat::Message> message;
  };

  SendQueue(chat::ChatService& chat, asio::thread_pool& workers) : chat_(chat), workers_(workers) {}

  // The review and the store share one trip to the workers: the worker that reviewed the
  // message stores the batch too when no other worker is storing one.
  asio::awaitable<Outcome> Send(chat::SendRequest request, Review review) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Outcome)>(
        [this](auto handler, chat::SendRequest request, Review review) {
          // The caller's executor stays alive while the message is stored elsewhere.
          auto work = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          Done done = [shared, work = std::move(work)](Outcome outcome) {
            asio::dispatch(work, [shared, outcome = std::move(outcome)]() mutable { std::move(*shared)(std::move(outcome)); });
          };
          asio::post(workers_, [self = shared_from_this(), request = std::move(request), review = std::move(review),
                                done = std::move(done)]() mutable {
            if (review) {
              if (std::string refusal = review(request); !refusal.empty()) {
                done(Outcome{std::move(refusal), Error{ErrorCode::kPermissionDenied, "refused"}});
                return;
              }
            }
            self->Store({std::move(request), std::move(done)});
          });
        },
        asio::use_awaitable, std::move(request), std::move(review));
  }

 private:
  using Done = std::function<void(Outcome)>;
  struct Waiting {
    chat::SendRequest request;
    Done done;
  };

  // On a worker: queued behind the batch being stored, or stored now by this worker.
  void Store(Waiting w) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(w));
      if (storing_) return;
      storing_ = true;
    }
    for (;;) {
      std::vector<Waiting> batch;
      {
        std::lock_guard lock(mu_);
        if (queue_.empty()) {
          storing_ = false;
          return;
        }
        std::size_t n = std::min(queue_.size(), kMaxBatch);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
        queue_.erase(queue_.begin(), queue_.begin() + n);
      }
      std::vector<chat::SendRequest> requests;
      requests.reserve(batch.size());
      for (auto& w : batch) requests.push_back(std::move(w.request));
      std::vector<Result<chat::Message>> results;
      try {
        results = chat_.SendMany(requests);
      } catch (const std::exception& e) {  // the batch fails, not the queue: later sends still go
        log::Error("chat batch failed", {{"error", e.what()}, {"messages", batch.size()}});
        results.assign(batch.size(), Result<chat::Message>(Internal("the message could not be stored")));
      }
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(Outcome{"", std::move(results[i])});
    }
  }

  chat::ChatService& chat_;
  asio::thread_pool& workers_;
  std::mutex mu_;
  std::vector<Waiting> queue_;
  bool storing_ = false;  // guarded by mu_: a worker is storing batches
};

std::string ErrorFrame(const Error& e, std::string_view ref = {}) {
  json::object o;
  o["type"] = "error";
  o["code"] = ErrorCodeName(e.code);
  o["message"] = e.message;
  if (!ref.empty()) o["ref"] = ref;
  return json::serialize(o);
}

struct SessionDeps {
  auth::AuthService& auth;
  chat::ChatService& chat;
  Cache& cache;
  asio::thread_pool& workers;
  ChatHub& hub;
  SendQueue& sends;
  ChatSocketOptions options;
  moderation::ModerationService* moderation = nullptr;
};

class ChatSession {
 public:
  ChatSession(WebSocket& ws, std::shared_ptr<ChatSocket> socket, SessionDeps& d, chat::ChatService::TicketOwner owner)
      : ws_(ws), socket_(std::move(socket)), d_(d), owner_(std::move(owner)) {}

  ~ChatSession() { StopListening(); }

  const chat::ChatService::TicketOwner& owner() const { return owner_; }

  // No more room messages or notifications for this socket.
  void StopListening() {
    for (const auto& room : listening_) d_.hub.Unlisten(chat::RoomSubject(room), socket_.get());
    listening_.clear();
    if (notified_) d_.hub.Unlisten(notifications::UserSubject(owner_.user_id), socket_.get());
    notified_ = false;
  }

  // The user's notifications come over every socket of theirs, whatever rooms it joined.
  Status ListenForNotifications() {
    VEZA_TRY(d_.hub.Listen(notifications::UserSubject(owner_.user_id), "notification", socket_));
    notified_ = true;
    return Ok();
  }

  // Counts this socket in the user's presence.
  asio::awaitable<void> Opened() {
    auto n = co_await RunBlocking(d_.workers, [&] { return d_.chat.SocketOpened(owner_.user_id); });
    if (!n.ok()) log::Warn("presence count failed", {{"user", owner_.user_id}, {"error", n.error().message}});
  }

  // The last socket of the user going away announces "offline" in the rooms this one joined.
  asio::awaitable<void> Closing() {
    std::vector<std::string> rooms(listening_.begin(), listening_.end());
    auto left = co_await RunBlocking(d_.workers, [&]() -> Result<std::int64_t> {
      VEZA_ASSIGN_OR_RETURN(std::int64_t n, d_.chat.SocketClosed(owner_.user_id));
      if (n == 0) d_.chat.AnnouncePresence(owner_.user_id, rooms, "offline");
      return n;
    });
    if (!left.ok()) log::Warn("presence count failed", {{"user", owner_.user_id}, {"error", left.error().message}});
  }

  // Handles one client frame; returns a frame for the client (an empty one: nothing to say).
  asio::awaitable<std::string> Handle(const std::string& text) {
    auto parsed = ParseClientFrame(text);
    if (!parsed.ok()) co_return ErrorFrame(parsed.error());
    const ClientFrame& f = *parsed;
    const std::string& type = f.type;
    if (type == "ping") co_return R"({"type":"pong"})";
    if (type == "join") co_return co_await Join(f);
    if (type == "leave") co_return Leave(f);
    if (type == "send") co_return co_await Send(f);
    if (type == "history") co_return co_await History(f);
    if (type == "edit") co_return co_await Edit(f);
    if (type == "delete") co_return co_await Delete(f);
    if (type == "react") co_return co_await React(f);
    if (type == "pin") co_return co_await Pin(f);
    if (type == "pins") co_return co_await Pins(f);
    if (type == "typing") co_return co_await Typing(f);
    if (type == "read") co_return co_await Read(f);
    if (type == "status") co_return co_await SetStatus(f);
    if (type == "presence") co_return co_await Presence(f);
    if (type == "moderate") co_return co_await Moderate(f);
    co_return ErrorFrame(InvalidArgument("unknown frame type '" + type + "'"));  // ParseClientFrame knows them all
  }

 private:
  asio::awaitable<std::string> Join(const ClientFrame& f) {
    if (d_.moderation) {  // banned users do not get in
      auto refusal =
          co_await RunBlocking(d_.workers, [&] { return d_.moderation->ReviewJoin(owner_.user_id, f.room); });
      if (!refusal.ok()) co_return ErrorFrame(refusal.error(), f.room);
      if (*refusal) co_return moderation::RefusalFrame(**refusal, f.room);
    }
    auto room = co_await RunBlocking(d_.workers, [&] { return d_.chat.Join(owner_.user_id, f.room); });
    if (!room.ok()) co_return ErrorFrame(room.error(), f.room);
    // Listen first, then read what was missed: a message in between comes twice at worst
    // (clients drop repeats by room and seq), never zero times.
    // Listen again even when listed: a kick or ban removed this socket from the room's listeners.
    if (auto st = d_.hub.Listen(chat::RoomSubject(f.room), "", socket_); !st.ok()) {
      co_return ErrorFrame(st.error(), f.room);
    }
    if (listening_.insert(f.room).second) {
      auto announced = co_await RunBlocking(d_.workers, [&]() -> veza::Status {
        auto status = d_.chat.PresenceOf(owner_.user_id);
        d_.chat.AnnouncePresence(owner_.user_id, {f.room}, status.ok() ? *status : "online");
        return Ok();
      });
      (void)announced;
    }
    json::object reply;
    reply["type"] = "joined";
    reply["room"] = RoomJson(*room);
    if (f.after.has_value()) {
      auto missed = co_await RunBlocking(d_.workers, [&] {
        return d_.chat.History(owner_.user_id, f.room, std::nullopt, *f.after, chat::kMaxHistoryPage);
      });
      if (!missed.ok()) co_return ErrorFrame(missed.error(), f.room);
      reply["missed"] = MessagesJson(*missed);
      reply["more"] = missed->size() == static_cast<std::size_t>(chat::kMaxHistoryPage);
    }
    co_return json::serialize(reply);
  }

  std::string Leave(const ClientFrame& f) {
    if (listening_.erase(f.room)) d_.hub.Unlisten(chat::RoomSubject(f.room), socket_.get());
    json::object reply;
    reply["type"] = "left";
    reply["room"] = f.room;
    return json::serialize(reply);
  }

  asio::awaitable<std::string> Send(const ClientFrame& f) {
    SendQueue::Review review;
    if (d_.moderation) {  // bans, mutes, word filter, spam rules, classifier
      review = [moderation = d_.moderation](chat::SendRequest& r) -> std::string {
        auto verdict = moderation->ReviewMessage(r.user_id, r.room_id, r.client_id, r.body);
        if (!verdict.ok()) return ErrorFrame(verdict.error(), r.client_id);
        if (verdict->refusal) return moderation::RefusalFrame(*verdict->refusal, r.client_id);
        r.body = std::move(verdict->text);  // masked words replaced
        return {};
      };
    }
    // Named, not temporaries inside the co_await (GCC 12 would destroy them twice).
    chat::SendRequest request{owner_.user_id, f.room, f.client_id, f.body, f.reply_to};
    auto outcome = co_await d_.sends.Send(std::move(request), std::move(review));
    if (!outcome.refusal.empty()) co_return std::move(outcome.refusal);
    if (!outcome.message.ok()) co_return ErrorFrame(outcome.message.error(), f.client_id);
    json::object reply;
    reply["type"] = "ack";
    reply["client_id"] = f.client_id;
    reply["message"] = MessageValue(*outcome.message);
    co_return json::serialize(reply);
  }

  asio::awaitable<std::string> History(const ClientFrame& f) {
    int n = static_cast<int>(std::clamp<std::int64_t>(f.limit.value_or(50), 0, 1000));
    auto messages = co_await RunBlocking(d_.workers, [&] {
      return d_.chat.History(owner_.user_id, f.room, f.before, f.after, n, f.thread);
    });
    if (!messages.ok()) co_return ErrorFrame(messages.error(), f.room);
    json::object reply;
    reply["type"] = "history";
    reply["room"] = f.room;
    if (!f.thread.empty()) reply["thread"] = f.thread;
    reply["messages"] = MessagesJson(*messages);
    co_return json::serialize(reply);
  }

  asio::awaitable<std::string> Edit(const ClientFrame& f) {
    auto m = co_await RunBlocking(d_.workers, [&] { return d_.chat.Edit(owner_.user_id, f.message, f.body); });
    if (!m.ok()) co_return ErrorFrame(m.error(), f.message);
    co_return MessageReply("edited", *m);
  }

  asio::awaitable<std::string> Delete(const ClientFrame& f) {
    auto m = co_await RunBlocking(d_.workers, [&] { return d_.chat.Delete(owner_.user_id, f.message); });
    if (!m.ok()) co_return ErrorFrame(m.error(), f.message);
    co_return MessageReply("deleted", *m);
  }

  asio::awaitable<std::string> React(const ClientFrame& f) {
    auto result = co_await RunBlocking(d_.workers, [&] { return d_.chat.React(owner_.user_id, f.message, f.emoji); });
    if (!result.ok()) co_return ErrorFrame(result.error(), f.message);
    json::object reply;
    reply["type"] = "reacted";
    reply["message_id"] = f.message;
    reply["emoji"] = f.emoji;
    reply["added"] = result->added;
    reply["count"] = result->count;
    co_return json::serialize(reply);
  }

  asio::awaitable<std::string> Pin(const ClientFrame& f) {
    auto m = co_await RunBlocking(d_.workers, [&] { return d_.chat.Pin(owner_.user_id, f.message, f.pinned); });
    if (!m.ok()) co_return ErrorFrame(m.error(), f.message);
    co_return MessageReply(f.pinned ? "pinned" : "unpinned", *m);
  }

  asio::awaitable<std::string> Pins(const ClientFrame& f) {
    auto messages = co_await RunBlocking(d_.workers, [&] { return d_.chat.Pins(owner_.user_id, f.room); });
    if (!messages.ok()) co_return ErrorFrame(messages.error(), f.room);
    json::object reply;
    reply["type"] = "pins";
    reply["room"] = f.room;
    reply["messages"] = MessagesJson(*messages);
    co_return json::serialize(reply);
  }

  // No answer when the typing event went out (or was folded into a recent one).
  asio::awaitable<std::string> Typing(const ClientFrame& f) {
    auto sent = co_await RunBlocking(d_.workers, [&] { return d_.chat.Typing(owner_.user_id, f.room); });
    if (!sent.ok()) co_return ErrorFrame(sent.error(), f.room);
    co_return std::string();
  }

  asio::awaitable<std::string> Read(const ClientFrame& f) {
    auto room = co_await RunBlocking(d_.workers, [&] { return d_.chat.MarkRead(owner_.user_id, f.room, *f.seq); });
    if (!room.ok()) co_return ErrorFrame(room.error(), f.room);
    json::object reply;
    reply["type"] = "read";
    reply["room"] = f.room;
    reply["last_read_seq"] = room->last_read_seq;
    reply["unread_count"] = room->UnreadCount();
    co_return json::serialize(reply);
  }

  // Announced in the rooms this socket joined.
  asio::awaitable<std::string> SetStatus(const ClientFrame& f) {
    std::vector<std::string> rooms(listening_.begin(), listening_.end());
    auto st = co_await RunBlocking(d_.workers, [&]() -> veza::Status {
      VEZA_TRY(d_.chat.SetAway(owner_.user_id, f.status == "away"));
      d_.chat.AnnouncePresence(owner_.user_id, rooms, f.status);
      return Ok();
    });
    if (!st.ok()) co_return ErrorFrame(st.error());
    json::object reply;
    reply["type"] = "status";
    reply["status"] = f.status;
    co_return json::serialize(reply);
  }

  // Users answered online or away are watched in this socket's rooms, so that their node's death
  // is told here too (presence.h).
  asio::awaitable<std::string> Presence(const ClientFrame& f) {
    std::vector<std::string> rooms(listening_.begin(), listening_.end());
    auto statuses = co_await RunBlocking(d_.workers, [&]() -> Result<json::object> {
      json::object out;
      for (const auto& u : f.users) {
        VEZA_ASSIGN_OR_RETURN(std::string status, d_.chat.PresenceOf(u));
        if (status != "offline" && u != owner_.user_id) {
          for (const auto& room : rooms) d_.chat.NotePresence(u, room, status);
        }
        out[u] = status;
      }
      return out;
    });
    if (!statuses.ok()) co_return ErrorFrame(statuses.error());
    json::object reply;
    reply["type"] = "presence";
    reply["users"] = std::move(*statuses);
    co_return json::serialize(reply);
  }

  // A room's staff (or site staff) mute, kick or ban in that room: moderation/moderation_service.h.
  asio::awaitable<std::string> Moderate(const ClientFrame& f) {
    if (!d_.moderation) co_return ErrorFrame(Unavailable("moderation is not enabled"), f.room);
    moderation::Action action;
    action.kind = *moderation::ParseActionKind(f.action);  // the frame parser allows mute, kick and ban only
    action.user_id = f.user;
    action.reason = f.reason;
    if (f.duration_seconds) {
      if (*f.duration_seconds < 1) co_return ErrorFrame(InvalidArgument("duration_seconds must be positive"), f.room);
      action.duration = std::chrono::seconds(*f.duration_seconds);
    }
    auto sanction = co_await RunBlocking(d_.workers, [&] {
      return d_.moderation->ModerateRoom(owner_.user_id, f.room, action);
    });
    if (!sanction.ok()) co_return ErrorFrame(sanction.error(), f.room);
    json::object reply;
    reply["type"] = "moderated";
    reply["room"] = f.room;
    reply["action"] = f.action;
    reply["user"] = f.user;
    if (sanction->has_value()) {
      const moderation::Sanction& s = **sanction;
      reply["sanction"] = json::object{{"id", s.id},
                                       {"kind", moderation::SanctionKindName(s.kind)},
                                       {"expires_at", s.expires_at ? json::value(*s.expires_at) : json::value(nullptr)}};
    } else {
      reply["sanction"] = nullptr;
    }
    co_return json::serialize(reply);
  }

  static std::string MessageReply(std::string_view type, const chat::Message& m) {
    json::object reply;
    reply["type"] = type;
    reply["message"] = MessageValue(m);
    return json::serialize(reply);
  }

  WebSocket& ws_;
  std::shared_ptr<ChatSocket> socket_;
  SessionDeps& d_;
  chat::ChatService::TicketOwner owner_;
  std::unordered_set<std::string> listening_;
  bool notified_ = false;
};

// One chat WebSocket's session. An idle socket holds no coroutine: the reader waits for
// readability with a completion handler (WebSocket::WhenReadable) and the heartbeat is a
// timer's handler; a coroutine runs only while there are frames to read or to write, a
// session to check, or the socket to open or close (docs/benchmarks.md, idle sockets). What is
// pending holds the connection (and so the WebSocket): it goes when the last of it ends. Used
// on the socket's executor only.
class ChatConnection : public std::enable_shared_from_this<ChatConnection> {
 public:
  // deps are copied: the route's session function that holds them goes once the session starts.
  ChatConnection(std::shared_ptr<WebSocket> ws, const SessionDeps& deps, chat::ChatService::TicketOwner owner)
      : executor_(ws->Executor()), ws_(std::move(ws)), d_(deps),
        socket_(std::make_shared<ChatSocket>(executor_, *ws_, d_.options.max_queued_frames, d_.options.max_queued_bytes)),
        session_(*ws_, socket_, d_, std::move(owner)), beat_(executor_) {}

  void Start() {
    asio::co_spawn(executor_, Open(), [self = shared_from_this()](std::exception_ptr thrown) {
      if (!thrown) return;
      LogThrown(thrown, "opening");
      self->close_code_ = 1011, self->close_reason_ = "internal error";
      self->ReaderEnded();
    });
  }

 private:
  asio::awaitable<void> Open() {
    Register();
    co_await session_.Opened();
    Greet();
    ArmHeartbeat();
    AwaitFrames();
  }

  // The reader has ended (the peer closed or went away, a timeout, a protocol error, or after
  // the writer closed): the socket leaves, and closes once the writer is done.
  void ReaderEnded() {
    asio::co_spawn(executor_, Leave(), [self = shared_from_this()](std::exception_ptr thrown) {
      if (thrown) LogThrown(thrown, "closing");
    });
  }

  asio::awaitable<void> Leave() {
    co_await session_.Closing();
    session_.StopListening();
    d_.hub.Unregister(socket_.get());
    socket_->Detach();
    beat_.cancel();
    if (writer_running_) {
      close_after_writer_ = true;  // the writer's end closes
    } else {
      co_await ws_->Close(close_code_, close_reason_);
    }
  }

  void Register() {
    socket_->user_id = session_.owner().user_id;
    socket_->wake_writer_ = [this] { StartWriter(); };
    d_.hub.Register(socket_);
  }

  void Greet() {
    if (auto st = session_.ListenForNotifications(); !st.ok()) {
      log::Warn("notification subscription failed", {{"user", session_.owner().user_id}, {"error", st.error().message}});
    }
    json::object hello;
    hello["type"] = "hello";
    hello["protocol"] = 1;
    hello["user"] = session_.owner().user_id;
    socket_->Push(json::serialize(hello));
  }

  // ---- reading: a coroutine only while frames are there to read
  void AwaitFrames() {
    ws_->WhenReadable([self = shared_from_this()] {
      asio::co_spawn(self->executor_, self->ReadFrames(), [self](std::exception_ptr thrown, bool finished) {
        if (thrown) {
          LogThrown(thrown, "reading");
          if (!self->socket_->closed_) self->close_code_ = 1011, self->close_reason_ = "internal error";
        }
        if (thrown || finished) {
          self->ReaderEnded();
        } else {
          self->AwaitFrames();
        }
      });
    });
  }

  // Handles the frames that have arrived; true when the session is over.
  asio::awaitable<bool> ReadFrames() {
    for (;;) {
      auto text = co_await ws_->ReadReady();
      if (!text.ok()) {
        if (socket_->closed_) co_return true;  // the writer closed the socket (4001, 4008): keep its code
        if (text.error().code == ErrorCode::kPayloadTooLarge) close_code_ = 1009;
        if (text.error().code == ErrorCode::kTimeout) close_code_ = 1001, close_reason_ = "idle";
        co_return true;
      }
      if (!*text) co_return socket_->closed_;  // nothing more for now
      if (ws_->LastReadWasBinary()) {
        socket_->Push(ErrorFrame(InvalidArgument("binary frames are not part of the protocol")));
        continue;
      }
      // Frames per 5-s window; a client far over the limit is disconnected.
      auto now = std::chrono::steady_clock::now();
      if (now - window_start_ > 5s) window_start_ = now, frames_in_window_ = 0;
      const int window_limit = d_.options.max_frames_per_second * 5;
      if (++frames_in_window_ > window_limit) {
        if (frames_in_window_ > 2 * window_limit) {
          close_code_ = 1008;
          close_reason_ = "flooding";
          co_return true;
        }
        socket_->Push(ErrorFrame(Error{ErrorCode::kRateLimited, "too many frames; slow down"}));
        continue;
      }
      std::string reply = co_await session_.Handle(**text);
      if (!reply.empty()) socket_->Push(std::move(reply));
      if (socket_->closed_) co_return true;
    }
  }

  // ---- writing: queued frames the socket did not take at once, closes, heartbeats
  void ArmHeartbeat() {
    beat_.expires_after(d_.options.heartbeat);
    beat_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->socket_->closed_) return;
      self->beat_due_ = true;
      self->StartWriter();
    });
  }

  void StartWriter() {
    if (writer_running_ || socket_->closed_) return;
    writer_running_ = true;
    asio::co_spawn(executor_, Write(), [self = shared_from_this()](std::exception_ptr thrown) {
      if (thrown) {
        LogThrown(thrown, "writing");
        self->socket_->closed_ = true;
      }
      self->writer_running_ = false;
      if (self->close_after_writer_) {
        asio::co_spawn(self->executor_, self->ws_->Close(self->close_code_, self->close_reason_),
                       [self](std::exception_ptr) {});
      }
    });
  }

  bool WriterHasWork() const {
    return ws_->Queued() > 0 || socket_->slow_ || socket_->evicted_ || socket_->recheck_ || beat_due_;
  }

  // Writes until nothing is left to do; pings and re-checks the session at the heartbeat (or at
  // once when a session of the user ended); closes a slow, evicted or revoked socket.
  asio::awaitable<void> Write() {
    bool writer_closes = false;
    while (!socket_->closed_ && WriterHasWork()) {
      // Once over the limit, the backlog is not written: the client resumes with `after` anyway.
      if (ws_->Queued() > 0 && !socket_->slow_) {
        if (!(co_await ws_->Flush()).ok()) socket_->closed_ = true;
        continue;
      }
      if (socket_->slow_) {
        ws_->DropQueued();
        close_code_ = 4008;
        close_reason_ = "slow consumer";
        writer_closes = true;
        break;
      }
      if (socket_->evicted_) {
        close_code_ = 4003;
        close_reason_ = "banned";
        writer_closes = true;
        break;
      }
      const bool beat = std::exchange(beat_due_, false);
      socket_->recheck_ = false;
      auto revoked = co_await RunBlocking(d_.workers, [this]() -> Result<bool> {
        VEZA_ASSIGN_OR_RETURN(auto session, d_.cache.Get(auth::RevokedSessionKey(session_.owner().session_id)));
        VEZA_ASSIGN_OR_RETURN(auto user, d_.cache.Get(auth::SuspendedUserKey(session_.owner().user_id)));
        return session.has_value() || user.has_value();
      });
      if (revoked.ok() && *revoked) {
        close_code_ = 4001;
        close_reason_ = "session ended";
        writer_closes = true;
        break;
      }
      if (beat) {
        if (!(co_await ws_->Ping()).ok()) {
          socket_->closed_ = true;
          break;
        }
        ArmHeartbeat();
      }
    }
    // The reader may be waiting for the client's next frame, which may never come: close from
    // here. The close reply then reaches the reader (WhenReadable counts as a read in progress).
    if (writer_closes) {
      socket_->closed_ = true;
      co_await ws_->Close(close_code_, close_reason_);
    }
  }

  static void LogThrown(const std::exception_ptr& thrown, std::string_view while_doing) {
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      log::Error("chat socket failed", {{"while", std::string(while_doing)}, {"error", e.what()}});
    } catch (...) {
      log::Error("chat socket failed", {{"while", std::string(while_doing)}});
    }
  }

  asio::any_io_executor executor_;
  std::shared_ptr<WebSocket> ws_;
  SessionDeps d_;
  std::shared_ptr<ChatSocket> socket_;
  ChatSession session_;
  asio::steady_timer beat_;  // the next heartbeat
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  int frames_in_window_ = 0;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_ = "bye";
  bool writer_running_ = false;
  bool close_after_writer_ = false;
  bool beat_due_ = false;
};

}  // namespace

void AddChatRoutes(Router& router, auth::AuthService& auth, chat::ChatService& chat, EventBus& bus, Cache& cache,
                   asio::thread_pool& workers, ChatSocketOptions options,
                   moderation::ModerationService* moderation, Metrics* metrics) {
  auto hub = std::make_shared<ChatHub>(bus, chat);
  auto sends = std::make_shared<SendQueue>(chat, workers);
  chat.SetPresenceLostSink([weak = std::weak_ptr<ChatHub>(hub)](const std::string& user, const std::vector<std::string>& rooms) {
    if (auto h = weak.lock()) h->AnnounceOfflineHere(user, rooms);
  });
  if (metrics) {
    metrics->AddGauge("veza_chat_sockets", "Open chat WebSockets on this node.",
                      [hub] { return static_cast<double>(hub->Counts().first); });
    metrics->AddGauge("veza_chat_users_online", "Distinct users with an open chat WebSocket on this node.",
                      [hub] { return static_cast<double>(hub->Counts().second); });
  }
  if (auto st = hub->WatchSessions(); !st.ok()) {
    log::Error("session events not watched; ended sessions close sockets at the next heartbeat",
               {{"error", st.error().message}});
  }
  if (moderation) {
    if (auto st = hub->WatchModeration(); !st.ok()) {
      log::Error("moderation events not watched; bans close sockets at the next check only",
                 {{"error", st.error().message}});
    }
  }

  router.Add(bhttp::verb::post, "/api/v1/chat/ticket", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto ticket = co_await RunBlocking(workers, [&] { return chat.IssueTicket(who->user_id, who->session_id); });
    if (!ticket.ok()) co_return Problem(ticket.error(), ctx);
    co_return Json(bhttp::status::ok, {{"ticket", *ticket}, {"expires_in", 30}}, ctx.request);
  });

  router.Add(
      bhttp::verb::get, "/ws",
      [&, hub, sends, options, moderation](RequestContext& ctx) -> asio::awaitable<Response> {
        std::string ticket(QueryValue(ctx.query, "ticket"));
        auto owner = co_await RunBlocking(workers, [&] { return chat.RedeemTicket(ticket); });
        if (!owner.ok()) co_return AuthProblem(owner.error(), ctx);
        // The session runs after this handler has returned (server.h): it owns what it uses.
        // Named, not a temporary inside the co_await (GCC 12 would destroy its captures twice).
        const WebSocketSession session = [deps = SessionDeps{auth, chat, cache, workers, *hub, *sends, options, moderation},
                                          owner = *owner](std::shared_ptr<WebSocket> ws) {
          std::make_shared<ChatConnection>(std::move(ws), deps, owner)->Start();
        };
        co_await ctx.websocket->Accept(session);
        co_return Text(bhttp::status::ok, "", "text/plain", ctx.request);
      },
      RouteOptions{.websocket = true, .max_message_bytes = 16 * 1024, .idle_timeout = 2 * options.heartbeat + 10s});

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto limit = QueryInt(ctx.query, "limit");
    if (!limit.ok()) co_return Problem(limit.error(), ctx);
    auto rooms = co_await RunBlocking(
        workers, [&] { return chat.ListRooms(who->user_id, static_cast<int>(limit->value_or(100))); });
    if (!rooms.ok()) co_return Problem(rooms.error(), ctx);
    json::array a;
    for (const auto& r : *rooms) a.push_back(RoomJson(r));
    co_return Json(bhttp::status::ok, {{"rooms", a}}, ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto body = BodyObject(ctx, {"name", "topic", "kind", "slow_mode_seconds"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    auto name = StringField(*body, "name", 100, "", true);
    auto topic = StringField(*body, "topic", 500, "");
    auto kind = StringField(*body, "kind", 16, "public");
    auto slow = IntField(*body, "slow_mode_seconds");
    for (const auto* r : {&name, &topic, &kind}) {
      if (!r->ok()) co_return Problem(r->error(), ctx);
    }
    if (!slow.ok()) co_return Problem(slow.error(), ctx);
    if (*kind != "public" && *kind != "private") co_return Problem(InvalidArgument("kind must be public or private"), ctx);
    if (slow->value_or(0) < 0 || slow->value_or(0) > 21'600) {
      co_return Problem(InvalidArgument("slow_mode_seconds must be 0..21600"), ctx);
    }
    chat::NewRoom n{*name, *topic, *kind == "private" ? chat::RoomKind::kPrivate : chat::RoomKind::kPublic,
                    static_cast<int>(slow->value_or(0))};
    auto room = co_await RunBlocking(workers, [&] { return chat.CreateRoom(who->user_id, n); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::created, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/chat/dm", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto body = BodyObject(ctx, {"user_id"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    auto other = StringField(*body, "user_id", 64, "", true);
    if (!other.ok()) co_return Problem(other.error(), ctx);
    auto room = co_await RunBlocking(workers, [&] { return chat.DirectRoom(who->user_id, *other); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::ok, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms/{id}", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto room = co_await RunBlocking(workers, [&] { return chat.GetRoom(who->user_id, ctx.Param("id")); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::ok, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms/{id}/join", [&, moderation](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    if (moderation) {  // banned users do not get in
      auto refusal = co_await RunBlocking(workers, [&] { return moderation->ReviewJoin(who->user_id, ctx.Param("id")); });
      if (!refusal.ok()) co_return Problem(refusal.error(), ctx);
      if (*refusal) co_return Problem(Error{ErrorCode::kPermissionDenied, (*refusal)->message}, ctx);
    }
    auto room = co_await RunBlocking(workers, [&] { return chat.Join(who->user_id, ctx.Param("id")); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::ok, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms/{id}/leave", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto st = co_await RunBlocking(workers, [&] { return chat.Leave(who->user_id, ctx.Param("id")); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms/{id}/members",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto body = BodyObject(ctx, {"user_id"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auto user = StringField(*body, "user_id", 64, "", true);
               if (!user.ok()) co_return Problem(user.error(), ctx);
               auto st = co_await RunBlocking(
                   workers, [&] { return chat.AddMember(who->user_id, ctx.Param("id"), *user); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             });

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms/{id}/messages",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto before = QueryInt(ctx.query, "before");
               auto after = QueryInt(ctx.query, "after");
               auto limit = QueryInt(ctx.query, "limit");
               for (const auto* r : {&before, &after, &limit}) {
                 if (!r->ok()) co_return Problem(r->error(), ctx);
               }
               std::string thread(QueryValue(ctx.query, "thread"));
               auto messages = co_await RunBlocking(workers, [&] {
                 return chat.History(who->user_id, ctx.Param("id"), *before, *after,
                                     static_cast<int>(std::clamp<std::int64_t>(limit->value_or(50), 0, 1000)), thread);
               });
               if (!messages.ok()) co_return Problem(messages.error(), ctx);
               co_return Json(bhttp::status::ok, {{"messages", MessagesJson(*messages)}}, ctx.request);
             });

  router.Add(bhttp::verb::patch, "/api/v1/chat/rooms/{id}", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto body = BodyObject(ctx, {"name", "topic", "slow_mode_seconds"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    chat::RoomPatch patch;
    for (std::string_view field : {std::string_view("name"), std::string_view("topic")}) {
      if (!body->contains(field)) continue;
      auto value = StringField(*body, field, field == "name" ? 100 : 500, "", true);
      if (!value.ok()) co_return Problem(value.error(), ctx);
      (field == "name" ? patch.name : patch.topic) = *value;
    }
    auto slow = IntField(*body, "slow_mode_seconds");
    if (!slow.ok()) co_return Problem(slow.error(), ctx);
    if (slow->has_value()) {
      if (**slow < 0 || **slow > 21'600) co_return Problem(InvalidArgument("slow_mode_seconds must be 0..21600"), ctx);
      patch.slow_mode_seconds = static_cast<int>(**slow);
    }
    auto room = co_await RunBlocking(workers, [&] { return chat.UpdateRoom(who->user_id, ctx.Param("id"), patch); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::ok, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::delete_, "/api/v1/chat/rooms/{id}", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto st = co_await RunBlocking(workers, [&] { return chat.DeleteRoom(who->user_id, ctx.Param("id")); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
  });

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms/{id}/members", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto members = co_await RunBlocking(workers, [&] { return chat.Members(who->user_id, ctx.Param("id")); });
    if (!members.ok()) co_return Problem(members.error(), ctx);
    json::array a;
    for (const auto& m : *members) {
      a.push_back(json::object{{"user_id", m.user_id}, {"username", m.username}, {"role", m.role},
                               {"joined_at", m.joined_at}});
    }
    co_return Json(bhttp::status::ok, {{"members", a}}, ctx.request);
  });

  router.Add(bhttp::verb::put, "/api/v1/chat/rooms/{id}/members/{user_id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto body = BodyObject(ctx, {"role"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auto role = StringField(*body, "role", 16, "", true);
               if (!role.ok()) co_return Problem(role.error(), ctx);
               auto st = co_await RunBlocking(workers, [&] {
                 return chat.SetRole(who->user_id, ctx.Param("id"), ctx.Param("user_id"), *role);
               });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             });

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms/{id}/read", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto body = BodyObject(ctx, {"seq"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    auto seq = IntField(*body, "seq");
    if (!seq.ok()) co_return Problem(seq.error(), ctx);
    if (!seq->has_value()) co_return Problem(InvalidArgument("field 'seq' is required"), ctx);
    auto room = co_await RunBlocking(workers, [&] { return chat.MarkRead(who->user_id, ctx.Param("id"), **seq); });
    if (!room.ok()) co_return Problem(room.error(), ctx);
    co_return Json(bhttp::status::ok, RoomJson(*room), ctx.request);
  });

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms/{id}/pins", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto messages = co_await RunBlocking(workers, [&] { return chat.Pins(who->user_id, ctx.Param("id")); });
    if (!messages.ok()) co_return Problem(messages.error(), ctx);
    co_return Json(bhttp::status::ok, {{"messages", MessagesJson(*messages)}}, ctx.request);
  });
}

}  // namespace veza::http
