#include "services/notifications/notification_service.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>

#include "base/ids.h"
#include "base/log.h"

namespace veza::notifications {
namespace {

namespace json = boost::json;

const char* const kColumns =
    "id, user_id, kind, COALESCE(actor_id, ''), object_type, object_id, room_id, text, created_at, read_at, "
    "COALESCE((SELECT username FROM users WHERE users.id = notifications.actor_id), '')";

Notification FromRow(const Row& row) {
  Notification n;
  n.id = row.Text(0);
  n.user_id = row.Text(1);
  n.kind = row.Text(2);
  n.actor_id = row.Text(3);
  n.object_type = row.Text(4);
  n.object_id = row.Text(5);
  n.room_id = row.OptionalText(6);
  n.text = row.Text(7);
  n.created_at = row.Int(8);
  if (!row.IsNull(9)) n.read_at = row.Int(9);
  n.actor_username = row.Text(10);
  return n;
}

bool ValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Cut at a character boundary so a long message body becomes a snippet, not an error.
std::string Snippet(std::string_view text) {
  if (text.size() <= kMaxTextBytes) return std::string(text);
  const std::string_view ellipsis = "…";
  std::size_t end = kMaxTextBytes - ellipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return std::string(text.substr(0, end)) + std::string(ellipsis);
}

bool ShortToken(std::string_view s, std::size_t max) {
  return s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == ':' || c == '.';
         });
}

}  // namespace

bool IsKnownKind(std::string_view kind) { return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end(); }

std::string UserSubject(std::string_view user_id) { return "notify.user." + std::string(user_id); }

std::string NotificationJson(const Notification& n) {
  json::object o;
  o["id"] = n.id;
  o["kind"] = n.kind;
  o["actor"] = n.actor_id.empty() ? json::value(nullptr) : json::value(n.actor_id);
  o["actor_username"] = n.actor_username.empty() ? json::value(nullptr) : json::value(n.actor_username);
  o["object_type"] = n.object_type;
  o["object_id"] = n.object_id;
  o["room"] = n.room_id ? json::value(*n.room_id) : json::value(nullptr);
  o["text"] = n.text;
  o["created_at"] = n.created_at;
  o["read_at"] = n.read_at ? json::value(*n.read_at) : json::value(nullptr);
  return json::serialize(o);
}

Result<Notification> NotificationService::Notify(const NewNotification& in) {
  if (!IsKnownKind(in.kind)) return InvalidArgument("unknown notification kind '" + in.kind + "'");
  if (!IsUuid(in.user_id)) return NotFound("no such user");
  if (!in.actor_id.empty() && !IsUuid(in.actor_id)) return InvalidArgument("actor_id must be a user id");
  if (in.actor_id == in.user_id) return InvalidArgument("a user is not notified of their own actions");
  if (!ShortToken(in.object_type, 32)) return InvalidArgument("object_type must be 0..32 bytes of [A-Za-z0-9_.:-]");
  if (!ShortToken(in.object_id, 64)) return InvalidArgument("object_id must be 0..64 bytes of [A-Za-z0-9_.:-]");
  if (in.room_id && !IsUuid(*in.room_id)) return InvalidArgument("room_id must be a room id");
  if (!ValidUtf8(in.text)) return InvalidArgument("text must be UTF-8");
  Notification n;
  n.id = NewId();
  n.user_id = in.user_id;
  n.kind = in.kind;
  n.actor_id = in.actor_id;
  n.object_type = in.object_type;
  n.object_id = in.object_id;
  n.room_id = in.room_id;
  n.text = Snippet(in.text);
  n.created_at = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto user, s.Query("SELECT 1 FROM users WHERE id = $1", {SqlText(n.user_id)}));
    if (user.rows.empty()) return NotFound("no such user");
    if (!n.actor_id.empty()) {
      VEZA_ASSIGN_OR_RETURN(auto actor, s.Query("SELECT username FROM users WHERE id = $1", {SqlText(n.actor_id)}));
      if (!actor.rows.empty()) n.actor_username = actor.rows[0].Text(0);
    }
    VEZA_TRY(s.Query("INSERT INTO notifications (id, user_id, kind, actor_id, object_type, object_id, room_id, text, "
                     "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     {SqlText(n.id), SqlText(n.user_id), SqlText(n.kind),
                      n.actor_id.empty() ? SqlValue{} : SqlText(n.actor_id), SqlText(n.object_type),
                      SqlText(n.object_id), n.room_id ? SqlText(*n.room_id) : SqlValue{}, SqlText(n.text),
                      SqlInt(n.created_at)}));
    return Ok();
  }));
  // Stored: a publish failure loses only the live push; the list has it.
  if (auto st = bus_.Publish(UserSubject(n.user_id), NotificationJson(n)); !st.ok()) {
    log::Warn("notification publish failed", {{"user", n.user_id}, {"error", st.error().message}});
  }
  return n;
}

Result<NotificationPage> NotificationService::List(std::string_view user_id, std::string_view cursor, int limit,
                                                   bool unread_only) {
  if (limit < 1 || limit > kMaxPage) return InvalidArgument("limit must be 1.." + std::to_string(kMaxPage));
  if (!cursor.empty() && !IsUuid(cursor)) return InvalidArgument("cursor is not one this server gave");
  std::string sql = std::string("SELECT ") + kColumns + " FROM notifications WHERE user_id = $1 AND id < $2 ";
  if (unread_only) sql += "AND read_at IS NULL ";
  sql += "ORDER BY id DESC LIMIT $3";
  // Any id sorts below "g": the first page starts there.
  std::string from = cursor.empty() ? std::string("g") : std::string(cursor);
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(sql, {SqlText(user_id), SqlText(from), SqlInt(limit + 1)}));
  NotificationPage page;
  for (const Row& row : r.rows) {
    if (page.notifications.size() == static_cast<std::size_t>(limit)) {
      page.next_cursor = page.notifications.back().id;
      break;
    }
    page.notifications.push_back(FromRow(row));
  }
  VEZA_ASSIGN_OR_RETURN(page.unread_count, UnreadCount(user_id));
  return page;
}

Result<std::int64_t> NotificationService::MarkRead(std::string_view user_id, const std::vector<std::string>& ids,
                                                   std::optional<std::string> up_to) {
  if (ids.empty() == !up_to.has_value()) return InvalidArgument("give ids or up_to, not both or neither");
  if (ids.size() > kMaxPage) return InvalidArgument("at most " + std::to_string(kMaxPage) + " ids at once");
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  if (up_to) {
    if (!IsUuid(*up_to)) return InvalidArgument("up_to must be a notification id");
    VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id <= $3 "
                                            "AND read_at IS NULL",
                                            {SqlInt(now), SqlText(user_id), SqlText(*up_to)}));
    return r.affected_rows;
  }
  for (const auto& id : ids) {
    if (!IsUuid(id)) return InvalidArgument("ids must be notification ids");
  }
  std::int64_t marked = 0;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    for (const auto& id : ids) {
      VEZA_ASSIGN_OR_RETURN(auto r, s.Query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id = $3 "
                                            "AND read_at IS NULL",
                                            {SqlInt(now), SqlText(user_id), SqlText(id)}));
      marked += r.affected_rows;
    }
    return Ok();
  }));
  return marked;
}

Result<std::int64_t> NotificationService::UnreadCount(std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
                                          {SqlText(user_id)}));
  return r.rows.at(0).Int(0);
}

}  // namespace veza::notifications
