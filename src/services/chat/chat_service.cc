#include "services/chat/chat_service.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

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
    "COALESCE(m.role, ''), COALESCE(m.last_read_seq, 0)";

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
  r.last_read_seq = row.Int(9);
  return r;
}

Message MessageFromRow(const Row& row) {
  Message m;
  m.id = row.Text(0);
  m.room_id = row.Text(1);
  m.seq = row.Int(2);
  m.sender_id = row.OptionalText(3).value_or("");
  m.client_id = row.Text(4);
  m.body = row.Text(5);
  m.created_at = row.Int(6);
  m.reply_to = row.OptionalText(7).value_or("");
  if (!row.IsNull(8)) m.edited_at = row.Int(8);
  m.deleted = !row.IsNull(9);
  m.pinned = !row.IsNull(10);
  m.sender_username = row.Text(11);
  return m;
}

const char* const kMessageColumns =
    "id, room_id, seq, sender_id, client_id, body, created_at, reply_to, edited_at, deleted_at, pinned_at, "
    "COALESCE((SELECT username FROM users WHERE users.id = chat_messages.sender_id), '')";

bool IsModerator(const Room& room) { return room.my_role == "owner" || room.my_role == "moderator"; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsUsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

bool IsHexOrDash(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'; }

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

namespace {
json::object MessageObject(const Message& m) {
  json::object o;
  o["id"] = m.id;
  o["room"] = m.room_id;
  o["seq"] = m.seq;
  o["sender"] = m.sender_id;
  o["sender_username"] = m.sender_username;
  o["client_id"] = m.client_id;
  o["body"] = m.body;
  o["created_at"] = m.created_at;
  o["reply_to"] = m.reply_to.empty() ? json::value(nullptr) : json::value(m.reply_to);
  o["edited_at"] = m.edited_at ? json::value(*m.edited_at) : json::value(nullptr);
  o["deleted"] = m.deleted;
  o["pinned"] = m.pinned;
  json::array reactions;
  for (const auto& r : m.reactions) {
    reactions.push_back(json::object{{"emoji", r.emoji}, {"count", r.count}, {"mine", r.mine}});
  }
  o["reactions"] = std::move(reactions);
  json::array embeds;
  for (const auto& e : m.embeds) {
    embeds.push_back(json::object{{"type", "track"},
                                  {"track_id", e.track_id},
                                  {"title", e.title},
                                  {"artist", e.artist},
                                  {"owner_username", e.owner_username},
                                  {"url", "/api/v1/tracks/" + e.track_id},
                                  {"has_cover", e.has_cover}});
  }
  o["embeds"] = std::move(embeds);
  return o;
}
}  // namespace

std::string MessageJson(const Message& m) { return json::serialize(MessageObject(m)); }

std::string MessageFrame(std::string_view type, const Message& m) {
  json::object o;
  o["type"] = type;
  o["message"] = MessageObject(m);
  return json::serialize(o);
}

std::vector<std::string> MentionedUsernames(std::string_view body) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < body.size() && out.size() < kMaxMentions; ++i) {
    if (body[i] != '@') continue;
    // "a@b" is an address, not a mention.
    if (i > 0 && IsUsernameChar(body[i - 1])) continue;
    std::size_t end = i + 1;
    while (end < body.size() && IsUsernameChar(body[end])) ++end;
    std::string_view name = body.substr(i + 1, end - i - 1);
    while (!name.empty() && (name.back() == '.' || name.back() == '-')) name.remove_suffix(1);  // "@bob."
    if (name.size() >= 3 && name.size() <= 30) {
      std::string key = Lower(name);
      if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
    }
    i = end - 1;
  }
  return out;
}

std::vector<std::string> ReferencedTrackIds(std::string_view body) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < body.size() && out.size() < kMaxEmbeds; ++pos) {
    std::size_t start = 0;
    if (body.substr(pos, 6) == "track:") {
      start = pos + 6;
    } else if (body.substr(pos, 8) == "/tracks/") {
      start = pos + 8;
    } else {
      continue;
    }
    std::size_t end = start;
    while (end < body.size() && IsHexOrDash(body[end])) ++end;
    std::string_view id = body.substr(start, end - start);
    if (IsUuid(id) && std::find(out.begin(), out.end(), id) == out.end()) out.emplace_back(id);
    pos = end - 1;
  }
  return out;
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
  Room room;
  room.id = NewId();
  room.kind = n.kind;
  room.name = n.name;
  room.topic = n.topic;
  room.owner_id = std::string(user_id);
  room.slow_mode_seconds = n.slow_mode_seconds;
  room.created_at = now;
  room.my_role = "owner";
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

// Notifications a new message causes: the other member of a DM; otherwise the replied-to
// author (reply) and the mentioned members (mention), each user once.
void ChatService::NotifyAfterSend(const Message& m, RoomKind kind, const std::string& reply_author) {
  if (notifications_ == nullptr) return;
  if (kind == RoomKind::kDirect) {
    auto others = db_.Query("SELECT user_id FROM chat_members WHERE room_id = $1 AND user_id <> $2",
                            {SqlText(m.room_id), SqlText(m.sender_id)});
    if (!others.ok()) {
      log::Warn("chat notification lookup failed", {{"room", m.room_id}, {"error", others.error().message}});
      return;
    }
    for (const Row& row : others->rows) NotifyQuietly({row.Text(0), "dm", m.sender_id, "message", m.id, m.room_id, m.body});
    return;
  }
  std::set<std::string> notified{m.sender_id};
  if (!reply_author.empty() && notified.insert(reply_author).second) {
    NotifyQuietly({reply_author, "reply", m.sender_id, "message", m.id, m.room_id, m.body});
  }
  std::vector<std::string> names = MentionedUsernames(m.body);
  if (names.empty()) return;
  // Only members are notified: a mention never reveals a private room to an outsider.
  std::string sql =
      "SELECT u.id FROM users u JOIN chat_members cm ON cm.user_id = u.id AND cm.room_id = $1 "
      "WHERE u.username_key IN (";
  std::vector<SqlValue> params{SqlText(m.room_id)};
  for (std::size_t i = 0; i < names.size(); ++i) {
    sql += (i ? ", $" : "$") + std::to_string(i + 2);
    params.push_back(SqlText(names[i]));
  }
  sql += ")";
  auto mentioned = db_.Query(sql, params);
  if (!mentioned.ok()) {
    log::Warn("chat mention lookup failed", {{"room", m.room_id}, {"error", mentioned.error().message}});
    return;
  }
  for (const Row& row : mentioned->rows) {
    std::string id = row.Text(0);
    if (notified.insert(id).second) NotifyQuietly({id, "mention", m.sender_id, "message", m.id, m.room_id, m.body});
  }
}

Result<Room> ChatService::UpdateRoom(std::string_view actor_id, std::string_view room_id, const RoomPatch& patch) {
  if (patch.name) {
    VEZA_TRY(CheckText("name", *patch.name, 1, 100));
  }
  if (patch.topic) {
    VEZA_TRY(CheckText("topic", *patch.topic, 0, 500));
  }
  if (patch.slow_mode_seconds && (*patch.slow_mode_seconds < 0 || *patch.slow_mode_seconds > kMaxSlowModeSeconds)) {
    return InvalidArgument("slow_mode_seconds must be 0.." + std::to_string(kMaxSlowModeSeconds));
  }
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(actor_id, room_id));
  if (room.kind == RoomKind::kDirect) return InvalidArgument("direct rooms have no name, topic or slow mode");
  if (!IsModerator(room)) {
    return Error{ErrorCode::kPermissionDenied, "only the room's owner and moderators change the room"};
  }
  if (patch.name) room.name = *patch.name;
  if (patch.topic) room.topic = *patch.topic;
  if (patch.slow_mode_seconds) room.slow_mode_seconds = *patch.slow_mode_seconds;
  VEZA_TRY(db_.Query("UPDATE chat_rooms SET name = $1, topic = $2, slow_mode_seconds = $3 WHERE id = $4",
                     {SqlText(room.name), SqlText(room.topic), SqlInt(room.slow_mode_seconds), SqlText(room_id)}));
  json::object o;
  o["type"] = "room_updated";
  o["room"] = json::object{{"id", room.id},
                           {"name", room.name},
                           {"topic", room.topic},
                           {"slow_mode_seconds", room.slow_mode_seconds}};
  o["by"] = actor_id;
  Publish(room_id, json::serialize(o));
  return room;
}

Status ChatService::SetRole(std::string_view actor_id, std::string_view room_id, std::string_view user_id,
                            std::string_view role) {
  if (role != "moderator" && role != "member") return InvalidArgument("role must be moderator or member");
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(actor_id, room_id));
  if (room.kind == RoomKind::kDirect) return InvalidArgument("direct rooms have no roles");
  if (room.my_role != "owner") return Error{ErrorCode::kPermissionDenied, "only the room's owner sets roles"};
  if (user_id == actor_id) return InvalidArgument("the owner's role does not change");
  if (!IsUuid(user_id)) return NotFound("no such member");
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("UPDATE chat_members SET role = $1 WHERE room_id = $2 AND user_id = $3 "
                                          "AND role <> 'owner'",
                                          {SqlText(role), SqlText(room_id), SqlText(user_id)}));
  if (r.affected_rows == 0) return NotFound("no such member");
  json::object o;
  o["type"] = "member_role";
  o["room"] = room_id;
  o["user"] = user_id;
  o["role"] = role;
  Publish(room_id, json::serialize(o));
  return Ok();
}

Status ChatService::DeleteRoom(std::string_view actor_id, std::string_view room_id) {
  auto room = ReadableRoom(actor_id, room_id);
  bool site_admin = false;
  if (IsUuid(actor_id)) {
    VEZA_ASSIGN_OR_RETURN(auto who, db_.Query("SELECT role FROM users WHERE id = $1", {SqlText(actor_id)}));
    site_admin = !who.rows.empty() && (who.rows[0].Text(0) == "admin" || who.rows[0].Text(0) == "super_admin");
  }
  if (!room.ok()) {
    if (!site_admin || room.error().code != ErrorCode::kNotFound) return room.take_error();
    // Admins may delete private rooms they cannot read; the room must exist all the same.
    VEZA_ASSIGN_OR_RETURN(auto exists, db_.Query("SELECT 1 FROM chat_rooms WHERE id = $1",
                                                 {SqlText(IsUuid(room_id) ? room_id : "")}));
    if (exists.rows.empty()) return NotFound("no such room");
  } else if (room->my_role != "owner" && !site_admin) {
    return Error{ErrorCode::kPermissionDenied, "only the room's owner or an admin deletes a room"};
  }
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(s.Query("DELETE FROM chat_reactions WHERE message_id IN (SELECT id FROM chat_messages WHERE room_id = $1)",
                     {SqlText(room_id)}));
    VEZA_TRY(s.Query("DELETE FROM chat_messages WHERE room_id = $1", {SqlText(room_id)}));
    VEZA_TRY(s.Query("DELETE FROM chat_members WHERE room_id = $1", {SqlText(room_id)}));
    VEZA_TRY(s.Query("DELETE FROM chat_rooms WHERE id = $1", {SqlText(room_id)}));
    return Ok();
  }));
  json::object o;
  o["type"] = "room_deleted";
  o["room"] = room_id;
  Publish(room_id, json::serialize(o));
  return Ok();
}

Result<std::vector<Member>> ChatService::Members(std::string_view user_id, std::string_view room_id) {
  VEZA_TRY(ReadableRoom(user_id, room_id));
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT m.user_id, u.username, m.role, m.joined_at FROM chat_members m "
                                          "JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 "
                                          "ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, "
                                          "u.username_key LIMIT 500",
                                          {SqlText(room_id)}));
  std::vector<Member> out;
  for (const Row& row : r.rows) out.push_back({row.Text(0), row.Text(1), row.Text(2), row.Int(3)});
  return out;
}

Result<Room> ChatService::MarkRead(std::string_view user_id, std::string_view room_id, std::int64_t seq) {
  if (seq < 0) return InvalidArgument("seq must be 0 or more");
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(user_id, room_id));
  if (room.my_role.empty()) return Error{ErrorCode::kPermissionDenied, "join the room first"};
  std::int64_t to = std::min(seq, room.last_seq);
  VEZA_TRY(db_.Query("UPDATE chat_members SET last_read_seq = $1 WHERE room_id = $2 AND user_id = $3 "
                     "AND last_read_seq < $1",
                     {SqlInt(to), SqlText(room_id), SqlText(user_id)}));
  room.last_read_seq = std::max(room.last_read_seq, to);
  return room;
}

Result<bool> ChatService::Typing(std::string_view user_id, std::string_view room_id) {
  VEZA_ASSIGN_OR_RETURN(Room room, ReadableRoom(user_id, room_id));
  if (room.my_role.empty()) return Error{ErrorCode::kPermissionDenied, "join the room first"};
  VEZA_ASSIGN_OR_RETURN(bool first, cache_.SetIfAbsent("chat:typing:" + std::string(room_id) + ":" +
                                                           std::string(user_id),
                                                       "1", kTypingInterval));
  if (!first) return false;
  json::object o;
  o["type"] = "typing";
  o["room"] = room_id;
  o["user"] = user_id;
  Publish(room_id, json::serialize(o));
  return true;
}

namespace {
std::string AwayKey(std::string_view user_id) { return "chat:away:" + std::string(user_id); }
}  // namespace

Result<std::int64_t> ChatService::SocketOpened(std::string_view user_id) {
  if (auto online = presence_.Online(user_id); online.ok() && !*online) {
    (void)cache_.Delete(AwayKey(user_id));  // left over by a node that died while the user was away
  }
  return presence_.Opened(user_id);
}

Result<std::int64_t> ChatService::SocketClosed(std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(std::int64_t left, presence_.Closed(user_id));
  if (left == 0) (void)cache_.Delete(AwayKey(user_id));
  return left;
}

Status ChatService::SetAway(std::string_view user_id, bool away) {
  if (away) return cache_.Set(AwayKey(user_id), "1", std::chrono::milliseconds(0));
  return cache_.Delete(AwayKey(user_id));
}

Result<std::string> ChatService::PresenceOf(std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(bool online, presence_.Online(user_id));
  if (!online) return std::string("offline");
  VEZA_ASSIGN_OR_RETURN(auto away, cache_.Get(AwayKey(user_id)));
  return std::string(away ? "away" : "online");
}

void ChatService::NotePresence(std::string_view user_id, std::string_view room_id, std::string_view status) {
  if (status == "offline") {
    presence_.Unwatch(user_id);
  } else {
    presence_.Watch(user_id, room_id);
  }
}

void ChatService::AnnouncePresence(std::string_view user_id, const std::vector<std::string>& room_ids,
                                   std::string_view status) {
  json::object o;
  o["type"] = "presence";
  o["user"] = user_id;
  o["status"] = status;
  std::string frame = json::serialize(o);
  for (const auto& room : room_ids) Publish(room, frame);
}

Result<bool> ChatService::IsMember(std::string_view user_id, std::string_view room_id) {
  if (!IsUuid(room_id)) return false;
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT 1 FROM chat_members WHERE room_id = $1 AND user_id = $2",
                                          {SqlText(room_id), SqlText(user_id)}));
  return !r.rows.empty();
}

Result<Message> ChatService::Send(std::string_view user_id, std::string_view room_id, std::string_view client_id,
                                  std::string_view body, std::string_view reply_to) {
  auto outcomes = SendMany({SendRequest{std::string(user_id), std::string(room_id), std::string(client_id),
                                        std::string(body), std::string(reply_to)}});
  return std::move(outcomes.at(0));
}

std::vector<Result<Message>> ChatService::SendMany(const std::vector<SendRequest>& requests) {
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  std::vector<std::optional<Result<StoredSend>>> outcomes(requests.size());
  std::vector<std::size_t> order;  // the requests that reach the database
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const SendRequest& r = requests[i];
    Status valid = CheckText("client_id", r.client_id, 1, 64);
    if (valid.ok()) valid = CheckText("body", r.body, 1, kMaxMessageBytes);
    if (valid.ok() && !r.reply_to.empty() && !IsUuid(r.reply_to)) valid = InvalidArgument("reply_to must be a message id");
    if (valid.ok()) {
      order.push_back(i);
    } else {
      outcomes[i] = valid.error();
    }
  }
  // Rooms in one order on every node, so two nodes' batches (PostgreSQL) take the rooms' row
  // locks in the same order instead of deadlocking; a room's requests keep their arrival order.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].room_id < requests[b].room_id; });
  auto store = [&](const std::vector<std::size_t>& which) {
    return db_.Transaction([&](SqlSession& s) -> Status {
      for (std::size_t i : which) VEZA_TRY(StoreSend(s, requests[i], now, outcomes[i]));
      return Ok();
    });
  };
  if (Status batch = store(order); !batch.ok()) {
    // A statement failed (another node's resend raced this one's unique check, the database
    // went away): nothing of the batch is stored. Alone, each request gets its own outcome.
    for (std::size_t i : order) {
      if (order.size() == 1) {
        outcomes[i] = batch.error();
      } else if (Status alone = store({i}); !alone.ok()) {
        outcomes[i] = alone.error();
      }
    }
  }

  // Committed: a publish failure loses only the live copy; history has it. The live frame is
  // shared by every member's socket: it embeds only tracks anyone may see.
  for (std::size_t i : order) {
    if (!outcomes[i]->ok() || !(*outcomes[i])->fresh) continue;
    Message live = (*outcomes[i])->message;
    live.embeds = Embeds("", live.body);
    Publish(live.room_id, MessageFrame("message", live));
  }
  std::vector<Result<Message>> results;
  results.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Result<StoredSend>& outcome = *outcomes[i];
    if (!outcome.ok()) {
      results.emplace_back(outcome.error());
      continue;
    }
    StoredSend& stored = *outcome;
    if (stored.fresh) {  // nobody has reacted yet: only the sender's embeds to add
      NotifyAfterSend(stored.message, stored.room_kind, stored.reply_author);
      stored.message.embeds = Embeds(requests[i].user_id, stored.message.body);
      results.emplace_back(std::move(stored.message));
      continue;
    }
    std::vector<Message> one{std::move(stored.message)};
    if (Status decorated = Decorate(requests[i].user_id, one); !decorated.ok()) {
      results.emplace_back(decorated.error());
    } else {
      results.emplace_back(std::move(one[0]));
    }
  }
  return results;
}

Status ChatService::StoreSend(SqlSession& s, const SendRequest& r, std::int64_t now,
                              std::optional<Result<StoredSend>>& outcome) {
  auto refuse = [&](Error e) {
    outcome = std::move(e);
    return Ok();
  };
  VEZA_ASSIGN_OR_RETURN(auto existing,
                        s.Query(std::string("SELECT ") + kMessageColumns +
                                    " FROM chat_messages WHERE sender_id = $1 AND client_id = $2",
                                {SqlText(r.user_id), SqlText(r.client_id)}));
  if (!existing.rows.empty()) {  // a resend after a lost ack: the same message again
    Message m = MessageFromRow(existing.rows[0]);
    if (m.room_id != r.room_id) return refuse(Conflict("client_id was already used in another room"));
    StoredSend resent;
    resent.message = std::move(m);
    outcome = std::move(resent);
    return Ok();
  }
  VEZA_ASSIGN_OR_RETURN(std::optional<Room> room, LoadRoom(s, r.user_id, r.room_id));
  if (!room || (room->kind != RoomKind::kPublic && room->my_role.empty())) return refuse(NotFound("no such room"));
  if (room->my_role.empty()) return refuse(Error{ErrorCode::kPermissionDenied, "join the room before sending"});
  if (room->slow_mode_seconds > 0 && room->my_role == "member") {
    VEZA_ASSIGN_OR_RETURN(auto last, s.Query("SELECT MAX(created_at) FROM chat_messages WHERE room_id = $1 "
                                             "AND sender_id = $2",
                                             {SqlText(r.room_id), SqlText(r.user_id)}));
    if (!last.rows.empty() && !last.rows[0].IsNull(0) &&
        now - last.rows[0].Int(0) < static_cast<std::int64_t>(room->slow_mode_seconds) * 1000) {
      return refuse(Error{ErrorCode::kRateLimited,
                          "slow mode: one message every " + std::to_string(room->slow_mode_seconds) + " s"});
    }
  }
  StoredSend stored;
  stored.fresh = true;
  stored.room_kind = room->kind;
  if (!r.reply_to.empty()) {
    VEZA_ASSIGN_OR_RETURN(auto parent, s.Query("SELECT COALESCE(sender_id, '') FROM chat_messages "
                                               "WHERE id = $1 AND room_id = $2",
                                               {SqlText(r.reply_to), SqlText(r.room_id)}));
    if (parent.rows.empty()) return refuse(NotFound("no such message to reply to in this room"));
    stored.reply_author = parent.rows[0].Text(0);
  }
  VEZA_ASSIGN_OR_RETURN(auto seq, s.Query("UPDATE chat_rooms SET last_seq = last_seq + 1 WHERE id = $1 "
                                          "RETURNING last_seq",
                                          {SqlText(r.room_id)}));
  Message& m = stored.message;
  m.id = NewId();
  m.room_id = r.room_id;
  m.seq = seq.rows.at(0).Int(0);
  m.sender_id = r.user_id;
  m.client_id = r.client_id;
  m.body = r.body;
  m.created_at = now;
  m.reply_to = r.reply_to;
  VEZA_ASSIGN_OR_RETURN(auto sender, s.Query("SELECT username FROM users WHERE id = $1", {SqlText(r.user_id)}));
  if (!sender.rows.empty()) m.sender_username = sender.rows[0].Text(0);
  VEZA_TRY(s.Query("INSERT INTO chat_messages (id, room_id, seq, sender_id, client_id, body, created_at, reply_to) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   {SqlText(m.id), SqlText(m.room_id), SqlInt(m.seq), SqlText(m.sender_id), SqlText(m.client_id),
                    SqlText(m.body), SqlInt(m.created_at), m.reply_to.empty() ? SqlValue{} : SqlText(m.reply_to)}));
  outcome = std::move(stored);
  return Ok();
}

void ChatService::Publish(std::string_view room_id, const std::string& frame) {
  if (auto st = bus_.Publish(RoomSubject(room_id), frame); !st.ok()) {
    log::Warn("chat publish failed", {{"room", room_id}, {"error", st.error().message}});
  }
}

std::vector<Embed> ChatService::Embeds(std::string_view viewer_id, std::string_view body) {
  std::vector<Embed> out;
  if (tracks_ == nullptr) return out;
  for (const std::string& id : ReferencedTrackIds(body)) {
    // Get applies the visibility rules: private tracks are not found for anyone but their owner.
    auto track = tracks_->Get(tracks::Viewer{std::string(viewer_id), false}, id);
    if (!track.ok()) continue;
    out.push_back({track->id, track->title, track->artist, track->owner_username, track->has_cover});
  }
  return out;
}

Status ChatService::Decorate(std::string_view viewer_id, std::vector<Message>& messages) {
  if (messages.empty()) return Ok();
  std::int64_t lo = messages[0].seq, hi = messages[0].seq;
  for (const auto& m : messages) lo = std::min(lo, m.seq), hi = std::max(hi, m.seq);
  VEZA_ASSIGN_OR_RETURN(
      auto r, db_.Query("SELECT x.message_id, x.emoji, COUNT(*), "
                        "SUM(CASE WHEN x.user_id = $2 THEN 1 ELSE 0 END), MIN(x.created_at) "
                        "FROM chat_reactions x JOIN chat_messages m ON m.id = x.message_id "
                        "WHERE m.room_id = $1 AND m.seq >= $3 AND m.seq <= $4 "
                        "GROUP BY x.message_id, x.emoji ORDER BY MIN(x.created_at), x.emoji",
                        {SqlText(messages[0].room_id), SqlText(viewer_id), SqlInt(lo), SqlInt(hi)}));
  std::map<std::string, std::vector<Reaction>> by_message;
  for (const Row& row : r.rows) {
    by_message[row.Text(0)].push_back({row.Text(1), row.Int(2), row.Int(3) > 0});
  }
  for (auto& m : messages) {
    if (auto it = by_message.find(m.id); it != by_message.end()) m.reactions = it->second;
    if (!m.deleted) m.embeds = Embeds(viewer_id, m.body);
  }
  return Ok();
}

Result<std::vector<Message>> ChatService::History(std::string_view user_id, std::string_view room_id,
                                                  std::optional<std::int64_t> before,
                                                  std::optional<std::int64_t> after, int limit,
                                                  std::string_view thread) {
  if (before && after) return InvalidArgument("give before or after, not both");
  if (limit < 1 || limit > kMaxHistoryPage) {
    return InvalidArgument("limit must be 1.." + std::to_string(kMaxHistoryPage));
  }
  if (!thread.empty() && !IsUuid(thread)) return InvalidArgument("thread must be a message id");
  VEZA_TRY(ReadableRoom(user_id, room_id));
  std::string sql = std::string("SELECT ") + kMessageColumns + " FROM chat_messages WHERE room_id = $1 ";
  std::vector<SqlValue> params{SqlText(room_id)};
  if (after) {
    sql += "AND seq > $2 ";
    params.push_back(SqlInt(*after));
  } else {
    sql += "AND seq < $2 ";
    params.push_back(SqlInt(before.value_or(INT64_MAX)));
  }
  if (!thread.empty()) {
    sql += "AND reply_to = $4 ";
  }
  sql += after ? "ORDER BY seq ASC LIMIT $3" : "ORDER BY seq DESC LIMIT $3";
  params.push_back(SqlInt(limit));
  if (!thread.empty()) params.push_back(SqlText(thread));
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  std::vector<Message> out;
  for (const Row& row : r.rows) out.push_back(MessageFromRow(row));
  VEZA_TRY(Decorate(user_id, out));
  return out;
}

Result<ChatService::Located> ChatService::LocateMessage(std::string_view user_id, std::string_view message_id) {
  if (!IsUuid(message_id)) return NotFound("no such message");
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kMessageColumns + " FROM chat_messages WHERE id = $1",
                                          {SqlText(message_id)}));
  if (r.rows.empty()) return NotFound("no such message");
  Message m = MessageFromRow(r.rows[0]);
  auto room = ReadableRoom(user_id, m.room_id);
  if (!room.ok()) {
    if (room.error().code == ErrorCode::kNotFound) return NotFound("no such message");
    return room.take_error();
  }
  return Located{std::move(m), std::move(room).value()};
}

Result<Message> ChatService::Edit(std::string_view user_id, std::string_view message_id, std::string_view body) {
  VEZA_TRY(CheckText("body", body, 1, kMaxMessageBytes));
  VEZA_ASSIGN_OR_RETURN(Located at, LocateMessage(user_id, message_id));
  if (at.message.sender_id != user_id) return Error{ErrorCode::kPermissionDenied, "only the author edits a message"};
  if (at.message.deleted) return Conflict("the message was deleted");
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("UPDATE chat_messages SET body = $1, edited_at = $2 "
                                          "WHERE id = $3 AND deleted_at IS NULL",
                                          {SqlText(body), SqlInt(now), SqlText(message_id)}));
  if (r.affected_rows == 0) return Conflict("the message was deleted");
  Message m = std::move(at.message);
  m.body = std::string(body);
  m.edited_at = now;
  Message live = m;
  live.embeds = Embeds("", live.body);
  Publish(m.room_id, MessageFrame("message_edited", live));
  std::vector<Message> one{std::move(m)};
  VEZA_TRY(Decorate(user_id, one));
  return std::move(one[0]);
}

Result<Message> ChatService::Delete(std::string_view user_id, std::string_view message_id) {
  VEZA_ASSIGN_OR_RETURN(Located at, LocateMessage(user_id, message_id));
  if (at.message.sender_id != user_id && !IsModerator(at.room)) {
    return Error{ErrorCode::kPermissionDenied, "only the author, the room's owner and moderators delete a message"};
  }
  Message m = std::move(at.message);
  if (m.deleted) return m;  // deleting twice is the same as once
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(m, TombstoneMessageIn(s, message_id, now));
    if (m.sender_id == user_id) return Ok();
    json::object details;
    details["room_id"] = m.room_id;
    details["seq"] = m.seq;
    details["sender_id"] = m.sender_id;
    details["as"] = at.room.my_role;
    return AppendAudit(s, user_id, "chat.message.delete", "message", message_id, json::serialize(details), now);
  }));
  Publish(m.room_id, MessageFrame("message_deleted", m));
  return m;
}

Status AppendAudit(SqlSession& s, std::string_view actor_id, std::string_view action, std::string_view target_type,
                   std::string_view target_id, const std::string& details, std::int64_t now_ms) {
  VEZA_TRY(s.Query("INSERT INTO audit_log (id, actor_id, action, target_type, target_id, details, created_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   {SqlText(NewId()), SqlText(actor_id), SqlText(action), SqlText(target_type), SqlText(target_id),
                    SqlText(details), SqlInt(now_ms)}));
  return Ok();
}

Result<Message> TombstoneMessageIn(SqlSession& s, std::string_view message_id, std::int64_t now_ms) {
  VEZA_ASSIGN_OR_RETURN(auto r, s.Query(std::string("UPDATE chat_messages SET body = '', deleted_at = $1, pinned_at = NULL "
                                                    "WHERE id = $2 AND deleted_at IS NULL RETURNING ") +
                                            kMessageColumns,
                                        {SqlInt(now_ms), SqlText(message_id)}));
  if (r.rows.empty()) return NotFound("no such message, or it is deleted already");
  VEZA_TRY(s.Query("DELETE FROM chat_reactions WHERE message_id = $1", {SqlText(message_id)}));
  return MessageFromRow(r.rows[0]);
}

Result<ReactionResult> ChatService::React(std::string_view user_id, std::string_view message_id,
                                          std::string_view emoji) {
  VEZA_TRY(CheckText("emoji", emoji, 1, kMaxEmojiBytes));
  if (std::any_of(emoji.begin(), emoji.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t'; })) {
    return InvalidArgument("emoji must not hold spaces");
  }
  VEZA_ASSIGN_OR_RETURN(Located at, LocateMessage(user_id, message_id));
  if (at.room.my_role.empty()) return Error{ErrorCode::kPermissionDenied, "join the room before reacting"};
  if (at.message.deleted) return Conflict("the message was deleted");
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  ReactionResult result;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto removed, s.Query("DELETE FROM chat_reactions WHERE message_id = $1 AND user_id = $2 "
                                                "AND emoji = $3",
                                                {SqlText(message_id), SqlText(user_id), SqlText(emoji)}));
    if (removed.affected_rows == 0) {
      VEZA_TRY(s.Query("INSERT INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT DO NOTHING",
                       {SqlText(message_id), SqlText(user_id), SqlText(emoji), SqlInt(now)}));
      result.added = true;
    }
    VEZA_ASSIGN_OR_RETURN(auto count, s.Query("SELECT COUNT(*) FROM chat_reactions WHERE message_id = $1 AND emoji = $2",
                                              {SqlText(message_id), SqlText(emoji)}));
    result.count = count.rows.at(0).Int(0);
    return Ok();
  }));
  json::object o;
  o["type"] = "reaction";
  o["room"] = at.message.room_id;
  o["message_id"] = at.message.id;
  o["emoji"] = emoji;
  o["user"] = user_id;
  o["added"] = result.added;
  o["count"] = result.count;
  Publish(at.message.room_id, json::serialize(o));
  return result;
}

Result<Message> ChatService::Pin(std::string_view user_id, std::string_view message_id, bool pinned) {
  VEZA_ASSIGN_OR_RETURN(Located at, LocateMessage(user_id, message_id));
  if (!IsModerator(at.room)) return Error{ErrorCode::kPermissionDenied, "only the room's owner and moderators pin"};
  if (at.message.deleted) return Conflict("the message was deleted");
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  VEZA_TRY(db_.Query("UPDATE chat_messages SET pinned_at = $1, pinned_by = $2 WHERE id = $3",
                     {pinned ? SqlInt(now) : SqlValue{}, pinned ? SqlText(user_id) : SqlValue{}, SqlText(message_id)}));
  Message m = std::move(at.message);
  m.pinned = pinned;
  json::object o;
  o["type"] = "pin";
  o["room"] = m.room_id;
  o["message_id"] = m.id;
  o["pinned"] = pinned;
  o["by"] = user_id;
  Publish(m.room_id, json::serialize(o));
  return m;
}

Result<std::vector<Message>> ChatService::Pins(std::string_view user_id, std::string_view room_id) {
  VEZA_TRY(ReadableRoom(user_id, room_id));
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kMessageColumns +
                                              " FROM chat_messages WHERE room_id = $1 AND pinned_at IS NOT NULL "
                                              "ORDER BY pinned_at DESC LIMIT 100",
                                          {SqlText(room_id)}));
  std::vector<Message> out;
  for (const Row& row : r.rows) out.push_back(MessageFromRow(row));
  // Decorate's reaction lookup spans the seq range of the page: fine for a short list.
  VEZA_TRY(Decorate(user_id, out));
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
  // The use counter only settles concurrent redemptions; with the ticket gone, a later one
  // fails on the missing record, so the counter need not wait for its TTL (a reconnect storm
  // would otherwise keep one per socket for kTicketTtl).
  (void)cache_.Delete("chat:ticket-used:" + hash);
  boost::system::error_code ec;
  json::value v = json::parse(*value, ec);
  if (ec || !v.is_object()) return Internal("corrupt ticket record");
  return TicketOwner{std::string(v.at("user").as_string()), std::string(v.at("session").as_string())};
}

}  // namespace veza::chat
