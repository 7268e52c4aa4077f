#pragma once
// Notifications stored per user and pushed live (issue 6). Notify stores one row, then publishes
// it on the EventBus subject notify.user.<user id> (the notification as a JSON object, the same
// as NotificationJson), so every node pushes it over that user's open sockets and any other
// service may listen. Chat creates mention/dm/reply/invite notifications; the social service
// creates its kinds through the same Notify call.
// Calls block (database): run them on the worker pool.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/event_bus.h"

namespace veza::notifications {

// The kinds Notify accepts. kind stays an open string in the database and on the wire: add a
// kind here (and to docs/websocket.md) without a migration.
inline constexpr std::array<std::string_view, 11> kKinds = {
    "mention", "dm", "reply", "invite",                  // chat
    "follow", "like", "repost", "comment", "playlist",  // social
    "takedown", "restore"};                             // moderation of the recipient's tracks
bool IsKnownKind(std::string_view kind);

constexpr std::size_t kMaxTextBytes = 280;  // longer texts are cut at a UTF-8 boundary with "…"
constexpr int kMaxPage = 100;

struct NewNotification {
  std::string user_id;      // the recipient
  std::string kind;         // one of kKinds
  std::string actor_id;     // who caused it; empty for the system
  std::string object_type;  // "message", "room", "track", "user", ... (0..32 bytes)
  std::string object_id;    // 0..64 bytes
  std::optional<std::string> room_id;
  std::string text;  // a snippet shown to the user
};

struct Notification {
  std::string id;
  std::string user_id;
  std::string kind;
  std::string actor_id;
  std::string actor_username;  // the actor's username now; empty for the system or a gone account
  std::string object_type;
  std::string object_id;
  std::optional<std::string> room_id;
  std::string text;
  std::int64_t created_at = 0;             // Unix ms
  std::optional<std::int64_t> read_at;     // Unix ms; empty while unread
};

struct NotificationPage {
  std::vector<Notification> notifications;  // newest first
  std::string next_cursor;                  // empty on the last page
  std::int64_t unread_count = 0;
};

// The subject a user's notifications are published on.
std::string UserSubject(std::string_view user_id);
// A notification as the JSON object sent to clients and published on the bus.
std::string NotificationJson(const Notification& n);

class NotificationService {
 public:
  NotificationService(Database& db, EventBus& bus, Clock& clock) : db_(db), bus_(bus), clock_(clock) {}

  // Stores, then publishes. kInvalidArgument for an unknown kind or bad fields; kNotFound when
  // the recipient does not exist. A notification to oneself is refused (kInvalidArgument):
  // callers skip the actor.
  Result<Notification> Notify(const NewNotification& n);
  // The user's notifications, newest first; cursor is the next_cursor of the previous page.
  Result<NotificationPage> List(std::string_view user_id, std::string_view cursor, int limit, bool unread_only);
  // Marks the given ids (the caller's own; others are ignored) read, or with up_to every unread
  // notification of the caller with id <= up_to. Returns how many were marked now.
  Result<std::int64_t> MarkRead(std::string_view user_id, const std::vector<std::string>& ids,
                                std::optional<std::string> up_to);
  Result<std::int64_t> UnreadCount(std::string_view user_id);

 private:
  Database& db_;
  EventBus& bus_;
  Clock& clock_;
};

}  // namespace veza::notifications
