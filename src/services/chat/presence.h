#pragma once
// Presence that survives a dead node (docs/websocket.md, "Presence across nodes").
//
// Each node counts its own sockets per user in memory. What the nodes share, through the Cache
// port (Redis in production), is one counter per user and epoch: time is cut into epochs of
// ttl / 2 (from the wall clock, the same on every node), and every node with at least one socket
// of the user adds 1 to the current epoch's counter once per epoch (at the first socket, then
// from a heartbeat every epoch / 3). A user is online while the counter of the current or the
// previous epoch is above zero. A node closing its last socket of a user takes its 1 back from
// the epochs it counted, so a clean close is seen at once; a node that dies without closing stops
// counting, and its users go offline within ttl (two epochs), with nothing to clean up.
//
// Why counters and not one entry per (user, node): the Cache port has no key listing, so
// "any live entry" could not be read in one step; a per-epoch counter is that count.
// Nodes' clocks must agree to well within an epoch (NTP does).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "ports/cache.h"
#include "ports/clock.h"

namespace veza::chat {

struct PresenceOptions {
  // A dead node's users are offline within this time (at least 300 ms).
  std::chrono::milliseconds ttl{std::chrono::seconds(60)};
};

class Presence {
 public:
  Presence(Cache& cache, const Clock& clock, PresenceOptions options = {});
  // Stops the heartbeat without taking this node's counts back (as a dead node would not).
  ~Presence();
  Presence(const Presence&) = delete;
  Presence& operator=(const Presence&) = delete;

  // Set before the first socket opens.
  void Configure(PresenceOptions options);
  // One more socket of the user on this node; returns the user's sockets on this node. The
  // heartbeat starts with the first socket.
  Result<std::int64_t> Opened(std::string_view user_id);
  // One socket fewer; returns the user's sockets on this node, or, when that was the last one
  // here, 1 if the user is still online elsewhere and 0 once offline on every node.
  Result<std::int64_t> Closed(std::string_view user_id);
  // Online on any live node.
  Result<bool> Online(std::string_view user_id);
  // Counts every user with sockets here in the current epoch (what the heartbeat does).
  Status Refresh();

  std::chrono::milliseconds epoch() const { return options_.ttl / 2; }

  // A dead node cannot say that its users left. So every node watches the users it has seen
  // online in rooms with listeners here (Watch, from the rooms' presence events) and, when one
  // held by no socket here reads offline at a heartbeat, hands the user and those rooms to the
  // lost sink, which tells this node's own sockets. An offline event seen meanwhile (a clean
  // close elsewhere, announced already) ends the watch (Unwatch). Bounded: kMaxWatchedUsers
  // users, kMaxWatchedRooms rooms each.
  static constexpr std::size_t kMaxWatchedUsers = 100'000;
  static constexpr std::size_t kMaxWatchedRooms = 64;
  using LostSink = std::function<void(const std::string& user_id, const std::vector<std::string>& room_ids)>;
  void SetLostSink(LostSink sink);
  void Watch(std::string_view user_id, std::string_view room_id);
  void Unwatch(std::string_view user_id);
  // What the heartbeat does after Refresh: reads the watched users no socket here holds.
  void CheckWatched();
  std::size_t WatchedUsers();

 private:
  struct Local {
    std::int64_t sockets = 0;
    std::vector<std::int64_t> epochs;  // epochs this node counted the user in (the last two matter)
  };
  std::int64_t CurrentEpoch() const;
  std::string Key(std::string_view user_id, std::int64_t epoch) const;
  Status Count(std::string_view user_id, std::int64_t epoch, std::int64_t delta);
  void StartHeartbeatLocked();
  void Heartbeat();

  Cache& cache_;
  const Clock& clock_;
  PresenceOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Local> users_;
  std::unordered_map<std::string, std::unordered_set<std::string>> watched_;  // user -> rooms
  LostSink lost_sink_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

}  // namespace veza::chat
