#include "services/chat/chat_service.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>

#include "base/digest.h"
#include "base/ids.h"
#include "base/log.h"

namespace veza::chat {
namespace {

namespace json = boost::json;

constexpr std::chrono::seconds kTicketTtl{30};
constexpr int kMaxSlowModeSeconds = 21'600;  // 6 hours, as Discord allows

const char* const kRoomColumns =
    "r.id, r.kind, r.name, r.topic, COALESCE(r.owner_id, ''), r.slow_mode_seconds, r.last_seq, r.created_at, "
    "COALESCE(m.role, '')";

RoomKind KindFromName(std::string_view name) {
  if (name == "private") return RoomKind::kPrivate;
  if (name == "dm") return RoomKind::kDirect;
  return RoomKind::kPublic;
}

Room RoomFromRow(const Row& row) {
  Room r;
  r.id = row.Text(0);
  r.kind = KindFromName(row.Text(1));
  r.name = row.Text(2);
  r.topic = row.Text(3);
  r.owner_id = row.Text(4);
  r.slow_mode_seconds = static_cast<int>(row.Int(5));
  r.last_seq = row.Int(6);
  r.created_at = row.Int(7);
  r.my_role = row.Text(8);
  return r;
}

Message MessageFromRow(const Row& row) {
  return Message{row.Text(0), row.Text(1), row.Int(2), row.OptionalText(3).value_or(""),
                 row.Text(4),  row.Text(5), row.Int(6)};
}

const char* const kMessageColumns = "id, room_id, seq, sender_id, client_id, body, created_at";

// UTF-8 text without control characters other than newline and tab.
Status CheckText(std::string_view field, std::string_view text, std::size_t min, std::size_t max) {
  if (text.size() < min || text.size() > max) {
    return InvalidArgument(std::string(field) + " must be " + std::to_string(min) + ".." + std::to_string(max) +
                           " bytes");
  }
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > text.size()) return InvalidArgument(std::string(field) + " must be UTF-8");
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return InvalidArgument(std::string(field) + " must be UTF-8");
      }
    }
    if (len == 1 && (c < 0x20 || c == 0x7f) && c != '\n' && c != '\t') {
      return InvalidArgument(std::string(field) + " must not hold control characters");
    }
    i += len;
  }
  return Ok();
}

bool IsUniqueViolation(const Error& e) { return e.code == ErrorCode::kConflict; }

}  // namespace

std::string_view RoomKindName(RoomKind kind) {
  switch (kind) {
    case RoomKind::kPublic: return "public";
    case RoomKind::kPrivate: return "private";
    case RoomKind::kDirect: return "dm";
  }
  return "public";
}

std::string RoomSubject(std::string_view room_id) { return "chat.room." + std::string(room_id); }

std::string MessageJson(const Message& m) {
  json::object o;
  o["id"] = m.id;
  o["room"] = m.room_id;
  o["seq"] = m.seq;
  o["sender"] = m.sender_id;
  o["client_id"] = m.client_id;
  o["body"] = m.body;
  o["created_at"] = m.created_at;
  return json::serialize(o);
}

Result<std::optional<Room>> ChatService::LoadRoom(SqlSession& s, std::string_view user_id, std::string_view room_id) {
  if (!IsUuid(room_id)) return std::optional<Room>();
  VEZA_ASSIGN_OR_RETURN(auto r, s.Query(std::string("SELECT ") + kRoomColumns +
                                            " FROM chat_rooms r LEFT JOIN chat_members m "
                                            "ON m.room_id = r.id AND m.user_id = $2 WHERE r.id = $1",
                                        {SqlText(room_id), SqlText(user_id)}));
  if (r.rows.empty()) return std::optional<Room>();
  return std::optional<Room>(RoomFromRow(r.rows[0]));
}

// The room if the user may read it; private rooms and DMs of others do not exist for them.
Result<Room> ChatService::ReadableRoom(std::string_view user_id, std::string_view room_id) {
  std::optional<Room> room;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(room, LoadRoom(s, user_id, room_id));
    return Ok();
  }));
  if (!room || (room->kind != RoomKind::kPublic && room->my_role.empty())) return NotFound("no such room");
  return *room;
}

Result<Room> ChatService::CreateRoom(std::string_view user_id, const NewRoom& n) {
  VEZA_TRY(CheckText("name", n.name, 1, 100));
  VEZA_TRY(CheckText("topic", n.topic, 0, 500));
  if (n.kind == RoomKind::kDirect) return InvalidArgument("direct rooms are opened with the other user's name");
  if (n.slow_mode_seconds < 0 || n.slow_mode_seconds > kMaxSlowModeSeconds) {
    return InvalidArgument("slow_mode_seconds must be 0.." + std::to_string(kMaxSlowModeSeconds));
  }
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  Room room{NewId(), n.kind, n.name, n.topic, std::string(user_id), n.slow_mode_seconds, 0, now, "owner"};
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(s.Query("INSERT INTO chat_rooms (id, kind, name, topic, owner_id, slow_mode_seconds, created_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     {SqlText(room.id), SqlText(RoomKindName(room.kind)), SqlText(room.name), SqlText(room.topic),
                      SqlText(user_id), SqlInt(room.slow_mode_seconds), SqlInt(now)}));
    VEZA_TRY(s.Query("INSERT INTO chat_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
                     {SqlText(room.id), SqlText(user_id), SqlInt(now)}));
    return Ok();
  }));
  return room;
}

Result<Room> ChatService::DirectRoom(std::string_view user_id, std::string_view other_user_id) {
  if (user_id == other_user_id) return InvalidArgument("a direct room needs another user");
  std::string a(user_id), b(other_user_id);
  if (b < a) std::swap(a, b);
  std::string key = a + ":" + b;
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  std::optional<Room> room;
  auto attempt = [&]() -> Status {
    return db_.Transaction([&](SqlSession& s) -> Status {
      VEZA_ASSIGN_OR_RETURN(auto other, s.Query("SELECT username FROM users WHERE id = $1", {SqlText(other_user_id)}));
      if (other.rows.empty()) return NotFound("no such user");
      VEZA_ASSIGN_OR_RETURN(auto found, s.Query("SELECT id FROM chat_rooms WHERE dm_key = $1", {SqlText(key)}));
      if (!found.rows.empty()) {
        VEZA_ASSIGN_OR_RETURN(room, LoadRoom(s, user_id, found.rows[0].Text(0)));
        return Ok();
      }
      std::string id = NewId();
      VEZA_TRY(s.Query("INSERT INTO chat_rooms (id, kind, name, dm_key, created_at) VALUES ($1, 'dm', '', $2, $3)",
                       {SqlText(id), SqlText(key), SqlInt(now)}));
      for (const std::string& member : {a, b}) {
        VEZA_TRY(s.Query("INSERT INTO chat_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
                         {SqlText(id), SqlText(member), SqlInt(now)}));
      }
      VEZA_ASSIGN_OR_RETURN(room, LoadRoom(s, user_id, id));
      return Ok();
    });
  };
  Status st = attempt();
  if (!st.ok() && IsUniqueViolation(st.error())) st = attempt();  // the other side created it meanwhile
  VEZA_TRY(st);
  return *room;
}

Result<std::vector<Room>> ChatService::ListRooms(std::string_view user_id, int limit) {
  limit = std::clamp(limit, 1, 200);
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kRoomColumns +
                                              " FROM chat_rooms r LEFT JOIN chat_members m "
                                              "ON m.room_id = r.id AND m.user_id = $1 "
                                              "WHERE r.kind = 'public' OR m.user_id IS NOT NULL "
                                              "ORDER BY r.id DESC LIMIT $2",
                                          {SqlText(user_id), SqlInt(limit)}));
  std::vector<Room> rooms;
  for (const Row& row : r.rows) rooms.push_back(RoomFromRow(row));
  return rooms;
}

Result<Room> ChatService::GetRoom(std::string_view user_id, std::string_view room_id) {
  return ReadableRoom(user_id, room_id);
}

Result<Room> ChatService::Join(std::string_view user_id, std::string_view room_id) {
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(user_id, room_id));
  if (!room.my_role.empty()) return room;
  if (room.kind != RoomKind::kPublic) return NotFound("no such room");  // unreachable: not readable
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  auto inserted = db_.Query(
      "INSERT INTO chat_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
      {SqlText(room_id), SqlText(user_id), SqlInt(now)});
  if (!inserted.ok() && !IsUniqueViolation(inserted.error())) return inserted.take_error();
  room.my_role = "member";
  return room;
}

Status ChatService::Leave(std::string_view user_id, std::string_view room_id) {
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(user_id, room_id));
  if (room.kind == RoomKind::kDirect) return InvalidArgument("a direct room cannot be left");
  if (room.my_role == "owner") return InvalidArgument("the owner cannot leave the room");
  VEZA_TRY(db_.Query("DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2",
                     {SqlText(room_id), SqlText(user_id)}));
  return Ok();
}

Status ChatService::AddMember(std::string_view actor_id, std::string_view room_id, std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(actor_id, room_id));
  if (room.kind == RoomKind::kDirect) return InvalidArgument("direct rooms have exactly two members");
  if (room.my_role != "owner" && room.my_role != "moderator") {
    return Error{ErrorCode::kPermissionDenied, "only the room's owner and moderators add members"};
  }
  VEZA_ASSIGN_OR_RETURN(auto user, db_.Query("SELECT id FROM users WHERE id = $1", {SqlText(user_id)}));
  if (user.rows.empty()) return NotFound("no such user");
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  auto inserted = db_.Query(
      "INSERT INTO chat_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
      {SqlText(room_id), SqlText(user_id), SqlInt(now)});
  if (!inserted.ok() && !IsUniqueViolation(inserted.error())) return inserted.take_error();
  if (inserted.ok() && room.kind == RoomKind::kPrivate && user_id != actor_id) {
    NotifyQuietly({std::string(user_id), "invite", std::string(actor_id), "room", std::string(room_id),
                   std::string(room_id), room.name});
  }
  return Ok();
}

void ChatService::NotifyQuietly(const notifications::NewNotification& n) {
  if (notifications_ == nullptr) return;
  if (auto r = notifications_->Notify(n); !r.ok()) {
    log::Warn("chat notification failed", {{"kind", n.kind}, {"user", n.user_id}, {"error", r.error().message}});
  }
}

// Notifications a new message causes: the other member of a DM.
void ChatService::NotifyAfterSend(const Message& m) {
  if (notifications_ == nullptr) return;
  auto others = db_.Query("SELECT m.user_id FROM chat_members m JOIN chat_rooms r ON r.id = m.room_id "
                          "WHERE m.room_id = $1 AND r.kind = 'dm' AND m.user_id <> $2",
                          {SqlText(m.room_id), SqlText(m.sender_id)});
  if (!others.ok()) {
    log::Warn("chat notification lookup failed", {{"room", m.room_id}, {"error", others.error().message}});
    return;
  }
  for (const Row& row : others->rows) {
    NotifyQuietly({row.Text(0), "dm", m.sender_id, "message", m.id, m.room_id, m.body});
  }
}

Result<bool> ChatService::IsMember(std::string_view user_id, std::string_view room_id) {
  if (!IsUuid(room_id)) return false;
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT 1 FROM chat_members WHERE room_id = $1 AND user_id = $2",
                                          {SqlText(room_id), SqlText(user_id)}));
  return !r.rows.empty();
}

Result<Message> ChatService::Send(std::string_view user_id, std::string_view room_id, std::string_view client_id,
                                  std::string_view body) {
  VEZA_TRY(CheckText("client_id", client_id, 1, 64));
  VEZA_TRY(CheckText("body", body, 1, kMaxMessageBytes));
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  std::optional<Message> stored;
  bool fresh = false;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto existing,
                          s.Query(std::string("SELECT ") + kMessageColumns +
                                      " FROM chat_messages WHERE sender_id = $1 AND client_id = $2",
                                  {SqlText(user_id), SqlText(client_id)}));
    if (!existing.rows.empty()) {  // a resend after a lost ack: the same message again
      stored = MessageFromRow(existing.rows[0]);
      if (stored->room_id != room_id) return Conflict("client_id was already used in another room");
      return Ok();
    }
    VEZA_ASSIGN_OR_RETURN(std::optional<Room> room, LoadRoom(s, user_id, room_id));
    if (!room || (room->kind != RoomKind::kPublic && room->my_role.empty())) return NotFound("no such room");
    if (room->my_role.empty()) return Error{ErrorCode::kPermissionDenied, "join the room before sending"};
    if (room->slow_mode_seconds > 0 && room->my_role == "member") {
      VEZA_ASSIGN_OR_RETURN(auto last, s.Query("SELECT MAX(created_at) FROM chat_messages WHERE room_id = $1 "
                                               "AND sender_id = $2",
                                               {SqlText(room_id), SqlText(user_id)}));
      if (!last.rows.empty() && !last.rows[0].IsNull(0) &&
          now - last.rows[0].Int(0) < static_cast<std::int64_t>(room->slow_mode_seconds) * 1000) {
        return Error{ErrorCode::kRateLimited,
                     "slow mode: one message every " + std::to_string(room->slow_mode_seconds) + " s"};
      }
    }
    VEZA_ASSIGN_OR_RETURN(auto seq, s.Query("UPDATE chat_rooms SET last_seq = last_seq + 1 WHERE id = $1 "
                                            "RETURNING last_seq",
                                            {SqlText(room_id)}));
    Message m{NewId(), std::string(room_id), seq.rows.at(0).Int(0), std::string(user_id), std::string(client_id),
              std::string(body), now};
    VEZA_TRY(s.Query("INSERT INTO chat_messages (id, room_id, seq, sender_id, client_id, body, created_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     {SqlText(m.id), SqlText(m.room_id), SqlInt(m.seq), SqlText(m.sender_id), SqlText(m.client_id),
                      SqlText(m.body), SqlInt(m.created_at)}));
    stored = std::move(m);
    fresh = true;
    return Ok();
  }));
  if (fresh) {
    // Committed: a publish failure loses only the live copy; history has it.
    if (auto st = bus_.Publish(RoomSubject(room_id), MessageJson(*stored)); !st.ok()) {
      log::Warn("chat publish failed", {{"room", room_id}, {"error", st.error().message}});
    }
    NotifyAfterSend(*stored);
  }
  return *stored;
}

Result<std::vector<Message>> ChatService::History(std::string_view user_id, std::string_view room_id,
                                                  std::optional<std::int64_t> before,
                                                  std::optional<std::int64_t> after, int limit) {
  if (before && after) return InvalidArgument("give before or after, not both");
  if (limit < 1 || limit > kMaxHistoryPage) {
    return InvalidArgument("limit must be 1.." + std::to_string(kMaxHistoryPage));
  }
  VEZA_TRY(ReadableRoom(user_id, room_id));
  std::string sql = std::string("SELECT ") + kMessageColumns + " FROM chat_messages WHERE room_id = $1 ";
  std::vector<SqlValue> params{SqlText(room_id)};
  if (after) {
    sql += "AND seq > $2 ORDER BY seq ASC LIMIT $3";
    params.push_back(SqlInt(*after));
  } else {
    sql += "AND seq < $2 ORDER BY seq DESC LIMIT $3";
    params.push_back(SqlInt(before.value_or(INT64_MAX)));
  }
  params.push_back(SqlInt(limit));
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  std::vector<Message> out;
  for (const Row& row : r.rows) out.push_back(MessageFromRow(row));
  return out;
}

Result<std::string> ChatService::IssueTicket(std::string_view user_id, std::string_view session_id) {
  std::string ticket = NewSecretToken();
  json::object o;
  o["user"] = user_id;
  o["session"] = session_id;
  VEZA_TRY(cache_.Set("chat:ticket:" + Sha256Hex(ticket), json::serialize(o), kTicketTtl));
  return ticket;
}

Result<ChatService::TicketOwner> ChatService::RedeemTicket(std::string_view ticket) {
  if (ticket.size() != 64) return Error{ErrorCode::kUnauthenticated, "invalid or expired ticket"};
  std::string hash = Sha256Hex(ticket);
  // Increment is atomic on every Cache backend: only the first redemption sees 1.
  VEZA_ASSIGN_OR_RETURN(std::int64_t uses, cache_.Increment("chat:ticket-used:" + hash, 1, kTicketTtl));
  VEZA_ASSIGN_OR_RETURN(auto value, cache_.Get("chat:ticket:" + hash));
  if (uses != 1 || !value) return Error{ErrorCode::kUnauthenticated, "invalid or expired ticket"};
  (void)cache_.Delete("chat:ticket:" + hash);
  boost::system::error_code ec;
  json::value v = json::parse(*value, ec);
  if (ec || !v.is_object()) return Internal("corrupt ticket record");
  return TicketOwner{std::string(v.at("user").as_string()), std::string(v.at("session").as_string())};
}

}  // namespace veza::chat
