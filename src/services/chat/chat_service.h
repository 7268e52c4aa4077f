#pragma once
// Chat rooms, members and durable messages (issue 6). Transport-free: the REST routes and the
// WebSocket session (src/api/http/chat_routes.cc) call it. Rules:
// - public rooms: any signed-in user may read and join; private rooms and DMs: members only,
//   and to everyone else they do not exist (kNotFound, never kPermissionDenied);
// - a message is committed before Send returns; (sender, client_id) is unique, so a resend after
//   a lost ack returns the stored message instead of a second one; seq is per room, 1, 2, 3...;
// - slow mode: at most one message per member every slow_mode_seconds (owners and moderators
//   are exempt), kRateLimited otherwise;
// - every committed message is published on the EventBus subject chat.room.<room id> (JSON), so
//   every node delivers it to its sockets.
// - with a NotificationService: a DM notifies the other member (kind dm), adding a member to a
//   private room notifies them (kind invite); a failed notification never fails the message.
// Calls block (database): run them on the worker pool.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ports/cache.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/event_bus.h"
#include "services/notifications/notification_service.h"

namespace veza::chat {

enum class RoomKind { kPublic, kPrivate, kDirect };
std::string_view RoomKindName(RoomKind kind);

struct Room {
  std::string id;
  RoomKind kind = RoomKind::kPublic;
  std::string name;
  std::string topic;
  std::string owner_id;
  int slow_mode_seconds = 0;
  std::int64_t last_seq = 0;
  std::int64_t created_at = 0;
  std::string my_role;  // the caller's role in the room, empty when not a member
};

struct Message {
  std::string id;
  std::string room_id;
  std::int64_t seq = 0;
  std::string sender_id;
  std::string client_id;
  std::string body;
  std::int64_t created_at = 0;
};

struct NewRoom {
  std::string name;   // 1..100 bytes
  std::string topic;  // 0..500 bytes
  RoomKind kind = RoomKind::kPublic;
  int slow_mode_seconds = 0;  // 0..21600
};

constexpr std::size_t kMaxMessageBytes = 4000;
constexpr int kMaxHistoryPage = 100;

// The subject a room's events are published on.
std::string RoomSubject(std::string_view room_id);
// A message as the JSON object sent to clients and published on the bus.
std::string MessageJson(const Message& m);

class ChatService {
 public:
  ChatService(Database& db, EventBus& bus, Cache& cache, Clock& clock,
              notifications::NotificationService* notifications = nullptr)
      : db_(db), bus_(bus), cache_(cache), clock_(clock), notifications_(notifications) {}

  Result<Room> CreateRoom(std::string_view user_id, const NewRoom& room);
  // The DM room between two users (created on first use); kNotFound for an unknown user.
  Result<Room> DirectRoom(std::string_view user_id, std::string_view other_user_id);
  // Public rooms and the caller's rooms, newest first.
  Result<std::vector<Room>> ListRooms(std::string_view user_id, int limit);
  Result<Room> GetRoom(std::string_view user_id, std::string_view room_id);
  // Public rooms: anyone; private: only an existing member (invited by AddMember).
  Result<Room> Join(std::string_view user_id, std::string_view room_id);
  Status Leave(std::string_view user_id, std::string_view room_id);
  // Owners and moderators add members to private rooms.
  Status AddMember(std::string_view actor_id, std::string_view room_id, std::string_view user_id);

  // Members only (public rooms too: join first).
  Result<Message> Send(std::string_view user_id, std::string_view room_id, std::string_view client_id,
                       std::string_view body);
  // Messages with seq < before (newest first when before is set) or seq > after (oldest first),
  // at most limit (1..100). Readable rooms only.
  Result<std::vector<Message>> History(std::string_view user_id, std::string_view room_id,
                                       std::optional<std::int64_t> before, std::optional<std::int64_t> after,
                                       int limit);
  // Whether user may receive the room's live messages (member of it).
  Result<bool> IsMember(std::string_view user_id, std::string_view room_id);

  // Single-use WebSocket tickets (30 s), so no long-lived token travels in a URL.
  Result<std::string> IssueTicket(std::string_view user_id, std::string_view session_id);
  struct TicketOwner {
    std::string user_id;
    std::string session_id;
  };
  Result<TicketOwner> RedeemTicket(std::string_view ticket);

 private:
  Result<std::optional<Room>> LoadRoom(SqlSession& s, std::string_view user_id, std::string_view room_id);
  Result<Room> ReadableRoom(std::string_view user_id, std::string_view room_id);
  // Stores and pushes a notification; failures are logged, never returned (the cause succeeded).
  void NotifyQuietly(const notifications::NewNotification& n);
  void NotifyAfterSend(const Message& m);

  Database& db_;
  EventBus& bus_;
  Cache& cache_;
  Clock& clock_;
  notifications::NotificationService* notifications_;
};

}  // namespace veza::chat
