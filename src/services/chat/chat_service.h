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
//   private room notifies them (kind invite), @username notifies that member (kind mention), a
//   reply notifies the replied-to author (kind reply); a failed notification never fails the
//   message;
// - edits (author only), deletes (author, room owner or moderator; soft: the body is cleared and
//   a tombstone stays in history), reactions (toggle) and pins (owner or moderator) publish an
//   event on the room subject too, so per-room order holds for every event;
// - with a TrackService: a body naming a track (`track:<id>` or a URL with `/tracks/<id>`)
//   gets embeds for the tracks the viewer can see; live frames are shared by every socket of a
//   room, so they embed only what anyone may see (private tracks never leak).
// Calls block (database): run them on the worker pool.
#include <algorithm>
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
#include "services/chat/presence.h"
#include "services/notifications/notification_service.h"
#include "services/tracks/track_service.h"

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
  std::int64_t last_read_seq = 0;  // the caller's read marker (members)
  std::int64_t UnreadCount() const { return my_role.empty() ? 0 : std::max<std::int64_t>(0, last_seq - last_read_seq); }
};

struct RoomPatch {
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<int> slow_mode_seconds;
};

struct Member {
  std::string user_id;
  std::string username;
  std::string role;
  std::int64_t joined_at = 0;
};

struct Reaction {
  std::string emoji;
  std::int64_t count = 0;
  bool mine = false;  // the viewer reacted with it
};

struct Embed {
  std::string track_id;
  std::string title;
  std::string artist;
  std::string owner_username;
  bool has_cover = false;
};

struct Message {
  std::string id;
  std::string room_id;
  std::int64_t seq = 0;
  std::string sender_id;
  std::string sender_username;  // empty when the account is gone
  std::string client_id;
  std::string body;
  std::int64_t created_at = 0;
  std::string reply_to;                   // the id of the message replied to, empty if none
  std::optional<std::int64_t> edited_at;  // Unix ms
  bool deleted = false;                   // a tombstone: body cleared
  bool pinned = false;
  std::vector<Reaction> reactions;        // filled for a viewer (history, acks); empty live
  std::vector<Embed> embeds;
};

// What a reaction toggle did.
struct ReactionResult {
  bool added = false;  // false: the viewer's reaction was removed (toggle)
  std::int64_t count = 0;
};

struct NewRoom {
  std::string name;   // 1..100 bytes
  std::string topic;  // 0..500 bytes
  RoomKind kind = RoomKind::kPublic;
  int slow_mode_seconds = 0;  // 0..21600
};

constexpr std::size_t kMaxMessageBytes = 4000;
constexpr std::size_t kMaxEmojiBytes = 32;
constexpr std::size_t kMaxEmbeds = 3;
constexpr std::size_t kMaxMentions = 20;
constexpr std::chrono::seconds kTypingInterval{3};
constexpr int kMaxHistoryPage = 100;

// The subject a room's events are published on.
std::string RoomSubject(std::string_view room_id);
// A message as the JSON object sent to clients and published on the bus.
std::string MessageJson(const Message& m);
// Every event on a room subject is a complete client frame: {"type":"message","message":...},
// message_edited, message_deleted, reaction, pin.
std::string MessageFrame(std::string_view type, const Message& m);

// The one way a message is deleted (by its author, the room's staff or a site moderator): the body
// is cleared, the pin and reactions go, the sequence number stays. Inside the caller's transaction;
// NotFound when there is no such message or it is a tombstone already.
Result<Message> TombstoneMessageIn(SqlSession& s, std::string_view message_id, std::int64_t now_ms);
// Appends one audit_log row (the admin service's log) in the caller's transaction; details is a
// JSON object as text. Moderation writes its actions with it too.
Status AppendAudit(SqlSession& s, std::string_view actor_id, std::string_view action, std::string_view target_type,
                   std::string_view target_id, const std::string& details, std::int64_t now_ms);
// The usernames an @mention names in a body (lower-cased, unique, at most kMaxMentions).
std::vector<std::string> MentionedUsernames(std::string_view body);
// The track ids a body refers to (`track:<id>`, `/tracks/<id>`), unique, at most kMaxEmbeds.
std::vector<std::string> ReferencedTrackIds(std::string_view body);

// One message to store (ChatService::SendMany).
struct SendRequest {
  std::string user_id;
  std::string room_id;
  std::string client_id;
  std::string body;
  std::string reply_to;
};

class ChatService {
 public:
  ChatService(Database& db, EventBus& bus, Cache& cache, Clock& clock,
              notifications::NotificationService* notifications = nullptr, tracks::TrackService* tracks = nullptr)
      : db_(db), bus_(bus), cache_(cache), clock_(clock), notifications_(notifications), tracks_(tracks) {}

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

  // Members only (public rooms too: join first). reply_to: a message of the same room.
  Result<Message> Send(std::string_view user_id, std::string_view room_id, std::string_view client_id,
                       std::string_view body, std::string_view reply_to = {});
  // Group commit: stores every request in one transaction (one commit and one log write for all
  // of them), each with the outcome Send would give it alone; a refused request (not a member,
  // slow mode, ...) does not affect the others. Live frames are published in seq order.
  std::vector<Result<Message>> SendMany(const std::vector<SendRequest>& requests);
  // Messages with seq < before (newest first when before is set) or seq > after (oldest first),
  // at most limit (1..100). Readable rooms only. thread: only the replies to that message.
  Result<std::vector<Message>> History(std::string_view user_id, std::string_view room_id,
                                       std::optional<std::int64_t> before, std::optional<std::int64_t> after,
                                       int limit, std::string_view thread = {});
  // The author changes the body of a live message; edited_at is set.
  Result<Message> Edit(std::string_view user_id, std::string_view message_id, std::string_view body);
  // The author, or the room's owner or a moderator: the body is cleared, the row stays. Staff
  // deleting someone else's message is written to the audit log (chat.message.delete).
  Result<Message> Delete(std::string_view user_id, std::string_view message_id);
  // Adds the user's reaction, or removes it when already there. Members only.
  Result<ReactionResult> React(std::string_view user_id, std::string_view message_id, std::string_view emoji);
  // Owners and moderators pin and unpin.
  Result<Message> Pin(std::string_view user_id, std::string_view message_id, bool pinned);
  // The room's pinned messages, newest first (at most 100).
  Result<std::vector<Message>> Pins(std::string_view user_id, std::string_view room_id);
  // Owners and moderators change the name, topic and slow mode (not of DMs); published as
  // room_updated.
  Result<Room> UpdateRoom(std::string_view actor_id, std::string_view room_id, const RoomPatch& patch);
  // The owner makes a member a moderator or a moderator a member again.
  Status SetRole(std::string_view actor_id, std::string_view room_id, std::string_view user_id, std::string_view role);
  // The owner, or a site admin, deletes a room with its messages; published as room_deleted.
  Status DeleteRoom(std::string_view actor_id, std::string_view room_id);
  // A readable room's members, owner first (at most 500).
  Result<std::vector<Member>> Members(std::string_view user_id, std::string_view room_id);
  // Moves the member's read marker forward to seq (clamped to the room's last seq); never back.
  Result<Room> MarkRead(std::string_view user_id, std::string_view room_id, std::int64_t seq);
  // A member is typing: published as a typing event at most once every kTypingInterval per
  // member and room (across nodes, through the cache); true when published. Not stored.
  Result<bool> Typing(std::string_view user_id, std::string_view room_id);

  // Presence over the user's sockets on every live node (presence.h): a node that dies without
  // closing its sockets stops counting, and its users go offline within the presence ttl.
  void ConfigurePresence(PresenceOptions options) { presence_.Configure(options); }
  // Returns the user's sockets on this node.
  Result<std::int64_t> SocketOpened(std::string_view user_id);
  // Returns 0 once the user is offline on every node (more than 0: still online somewhere).
  Result<std::int64_t> SocketClosed(std::string_view user_id);
  Status SetAway(std::string_view user_id, bool away);
  // "online", "away" or "offline".
  Result<std::string> PresenceOf(std::string_view user_id);
  // A presence event seen on a room's subject here, or a presence answer given to a socket in
  // that room: users online elsewhere are watched, and the sink learns which went offline
  // without an announcement (their node died), with the rooms to tell (presence.h).
  void NotePresence(std::string_view user_id, std::string_view room_id, std::string_view status);
  void SetPresenceLostSink(Presence::LostSink sink) { presence_.SetLostSink(std::move(sink)); }
  // Publishes {"type":"presence","user":...,"status":...} on each of the rooms.
  void AnnouncePresence(std::string_view user_id, const std::vector<std::string>& room_ids, std::string_view status);

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
  void NotifyAfterSend(const Message& m, RoomKind kind, const std::string& reply_author);
  // A message stored by SendMany (fresh: new; else the one a resend refers to).
  struct StoredSend {
    Message message;
    bool fresh = false;
    RoomKind room_kind = RoomKind::kPublic;
    std::string reply_author;
  };
  // Stores one request inside the batch's transaction. The request's own outcome (stored, or
  // refused) goes to outcome; an error returned is the database's and aborts the transaction.
  Status StoreSend(SqlSession& s, const SendRequest& r, std::int64_t now, std::optional<Result<StoredSend>>& outcome);
  // A readable room's message (deleted ones too) with the caller's role in its room.
  struct Located {
    Message message;
    Room room;
  };
  Result<Located> LocateMessage(std::string_view user_id, std::string_view message_id);
  void Publish(std::string_view room_id, const std::string& frame);
  // Reactions (for viewer) and embeds (viewer; empty viewer: anyone) for messages of one room.
  Status Decorate(std::string_view viewer_id, std::vector<Message>& messages);
  std::vector<Embed> Embeds(std::string_view viewer_id, std::string_view body);

  Database& db_;
  EventBus& bus_;
  Cache& cache_;
  Clock& clock_;
  notifications::NotificationService* notifications_;
  tracks::TrackService* tracks_;
  Presence presence_{cache_, clock_};
};

}  // namespace veza::chat
