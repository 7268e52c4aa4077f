#include "services/chat/presence.h"

#include <algorithm>
#include <charconv>

#include "base/log.h"

namespace veza::chat {

namespace {
std::chrono::milliseconds ClampTtl(std::chrono::milliseconds ttl) {
  return std::max(ttl, std::chrono::milliseconds(300));
}

// Keeps only the epochs still read (the current and the previous one).
void Prune(std::vector<std::int64_t>& epochs, std::int64_t current) {
  std::erase_if(epochs, [current](std::int64_t e) { return e < current - 1; });
}

bool Has(const std::vector<std::int64_t>& epochs, std::int64_t e) {
  return std::find(epochs.begin(), epochs.end(), e) != epochs.end();
}
}  // namespace

Presence::Presence(Cache& cache, const Clock& clock, PresenceOptions options)
    : cache_(cache), clock_(clock), options_(options) {
  options_.ttl = ClampTtl(options_.ttl);
}

Presence::~Presence() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void Presence::Configure(PresenceOptions options) {
  std::lock_guard lock(mu_);
  options_ = options;
  options_.ttl = ClampTtl(options_.ttl);
}

std::int64_t Presence::CurrentEpoch() const {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch());
  return now.count() / epoch().count();
}

std::string Presence::Key(std::string_view user_id, std::int64_t epoch) const {
  return "chat:presence:" + std::string(user_id) + ":" + std::to_string(epoch);
}

// A counter is read during its epoch and the next, and taken back from until then: it lives
// three epochs, so it never expires while it matters and never outlives that by much.
Status Presence::Count(std::string_view user_id, std::int64_t epoch, std::int64_t delta) {
  auto n = cache_.Increment(Key(user_id, epoch), delta, 3 * this->epoch());
  if (!n.ok()) return n.error();
  return Ok();
}

Result<std::int64_t> Presence::Opened(std::string_view user_id) {
  std::int64_t e = CurrentEpoch();
  std::int64_t sockets = 0;
  bool count = false;
  {
    std::lock_guard lock(mu_);
    Local& local = users_[std::string(user_id)];
    sockets = ++local.sockets;
    Prune(local.epochs, e);
    if (!Has(local.epochs, e)) {
      local.epochs.push_back(e);
      count = true;
    }
    StartHeartbeatLocked();
  }
  if (count) {
    if (Status st = Count(user_id, e, 1); !st.ok()) {
      std::lock_guard lock(mu_);  // not counted: the heartbeat tries again
      if (auto it = users_.find(std::string(user_id)); it != users_.end()) std::erase(it->second.epochs, e);
      return st.error();
    }
  }
  return sockets;
}

Result<std::int64_t> Presence::Closed(std::string_view user_id) {
  std::int64_t e = CurrentEpoch();
  std::vector<std::int64_t> counted;
  {
    std::lock_guard lock(mu_);
    auto it = users_.find(std::string(user_id));
    if (it != users_.end()) {
      if (--it->second.sockets > 0) return it->second.sockets;
      counted = std::move(it->second.epochs);
      users_.erase(it);
    }
  }
  Prune(counted, e);
  for (std::int64_t epoch : counted) VEZA_TRY(Count(user_id, epoch, -1));
  VEZA_ASSIGN_OR_RETURN(bool online, Online(user_id));
  return online ? 1 : 0;
}

Result<bool> Presence::Online(std::string_view user_id) {
  std::int64_t e = CurrentEpoch();
  for (std::int64_t epoch : {e, e - 1}) {
    VEZA_ASSIGN_OR_RETURN(auto value, cache_.Get(Key(user_id, epoch)));
    std::int64_t n = 0;
    if (value) {
      auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
      if (ec != std::errc()) n = 0;
    }
    if (n > 0) return true;
  }
  return false;
}

Status Presence::Refresh() {
  std::int64_t e = CurrentEpoch();
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [user, local] : users_) {
      Prune(local.epochs, e);
      if (!Has(local.epochs, e)) {
        local.epochs.push_back(e);
        due.push_back(user);
      }
    }
  }
  Status result = Ok();
  for (const auto& user : due) {
    if (Status st = Count(user, e, 1); !st.ok()) {
      std::lock_guard lock(mu_);  // not counted: the next beat tries again
      if (auto it = users_.find(user); it != users_.end()) std::erase(it->second.epochs, e);
      result = st;
    }
  }
  return result;
}

void Presence::SetLostSink(LostSink sink) {
  std::lock_guard lock(mu_);
  lost_sink_ = std::move(sink);
}

void Presence::Watch(std::string_view user_id, std::string_view room_id) {
  std::lock_guard lock(mu_);
  auto it = watched_.find(std::string(user_id));
  if (it == watched_.end()) {
    if (watched_.size() >= kMaxWatchedUsers) return;
    it = watched_.emplace(std::string(user_id), std::unordered_set<std::string>{}).first;
  }
  if (it->second.size() < kMaxWatchedRooms) it->second.emplace(room_id);
  StartHeartbeatLocked();
}

void Presence::Unwatch(std::string_view user_id) {
  std::lock_guard lock(mu_);
  watched_.erase(std::string(user_id));
}

std::size_t Presence::WatchedUsers() {
  std::lock_guard lock(mu_);
  return watched_.size();
}

void Presence::CheckWatched() {
  std::vector<std::string> remote;
  {
    std::lock_guard lock(mu_);
    if (!lost_sink_) return;
    for (const auto& [user, rooms] : watched_) {
      // Held here: a clean close announces it.
      if (!users_.count(user)) remote.push_back(user);
    }
  }
  for (const std::string& user : remote) {
    auto online = Online(user);
    if (!online.ok()) return;  // the cache is down: nothing is known, try at the next beat
    if (*online) continue;
    std::vector<std::string> rooms;
    LostSink sink;
    {
      std::lock_guard lock(mu_);
      auto it = watched_.find(user);
      if (it == watched_.end() || users_.count(user)) continue;
      rooms.assign(it->second.begin(), it->second.end());
      watched_.erase(it);
      sink = lost_sink_;
    }
    sink(user, rooms);
  }
}

void Presence::StartHeartbeatLocked() {
  if (heartbeat_.joinable() || stopping_) return;
  heartbeat_ = std::thread([this] { Heartbeat(); });
}

void Presence::Heartbeat() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, epoch() / 3, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (Status st = Refresh(); !st.ok()) {
      log::Warn("presence heartbeat failed; users may look offline until the next beat",
                {{"error", st.error().message}});
    }
    CheckWatched();
    lock.lock();
  }
}

}  // namespace veza::chat
