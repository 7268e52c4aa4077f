#include "services/auth/admin_service.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>


#include "base/ids.h"
#include "base/keyset_cursor.h"
#include "base/log.h"
#include "services/auth/auth_service.h"

namespace veza::auth {
namespace {

namespace json = boost::json;


constexpr std::string_view kUserColumns = "id, username, email, role, suspended, created_at, updated_at";

User UserFromRow(const Row& r) {
  User u;
  u.id = r.Text(0);
  u.username = r.Text(1);
  u.email = r.Text(2);
  u.role = ParseRole(r.Text(3)).value_or(Role::kUser);
  u.suspended = r.Int(4) != 0;
  u.created_at_ms = r.Int(5);
  u.updated_at_ms = r.Int(6);
  return u;
}

Result<User> ReadUser(SqlSession& s, std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such user");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, s.Query("SELECT " + std::string(kUserColumns) + " FROM users WHERE id = $1",
                                               {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such user");
  return UserFromRow(r.rows[0]);
}

// For LIKE 'prefix%' ESCAPE '\'.
std::string LikePrefix(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace

AdminService::AdminService(Database& db, Cache& cache, const Clock& clock, AdminOptions options)
    : db_(db), cache_(cache), clock_(clock), options_(options) {}

std::int64_t AdminService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Result<int> AdminService::PageSize(int limit) const {
  if (limit == 0) return options_.default_page_size;
  if (limit < 1 || limit > options_.max_page_size) {
    return InvalidArgument("limit must be 1 to " + std::to_string(options_.max_page_size));
  }
  return limit;
}

Result<User> AdminService::CurrentUser(std::string_view user_id) { return ReadUser(db_, user_id); }

Result<UserPage> AdminService::ListUsers(const UserListQuery& q) {
  VEZA_ASSIGN_OR_RETURN(int limit, PageSize(q.limit));
  if (q.query.size() > 254) return InvalidArgument("query is longer than 254 bytes");
  for (unsigned char c : q.query) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("query must not hold control characters");
  }
  std::string sql = "SELECT " + std::string(kUserColumns) + " FROM users";
  std::vector<SqlValue> params;
  std::vector<std::string> where;
  if (!q.query.empty()) {
    params.push_back(SqlText(LikePrefix(FoldKey(q.query))));
    where.push_back("(username_key LIKE $1 ESCAPE '\\' OR email_key LIKE $1 ESCAPE '\\')");
  }
  if (!q.cursor.empty()) {
    VEZA_ASSIGN_OR_RETURN(auto after, DecodeCursor(q.cursor));
    std::string a = "$" + std::to_string(params.size() + 1), b = "$" + std::to_string(params.size() + 2);
    params.push_back(SqlInt(after.first));
    params.push_back(SqlText(after.second));
    where.push_back("(created_at > " + a + " OR (created_at = " + a + " AND id > " + b + "))");
  }
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  // One more than asked, to learn whether there is a next page.
  sql += " ORDER BY created_at, id LIMIT " + std::to_string(limit + 1);
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  UserPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.users.size()) == limit) {
      const User& last = page.users.back();
      page.next_cursor = EncodeCursor(last.created_at_ms, last.id);
      break;
    }
    page.users.push_back(UserFromRow(row));
  }
  return page;
}

Result<User> AdminService::UpdateUser(std::string_view actor_id, std::string_view target_id, const UserChange& change,
                                      const ChangeCheck& check) {
  if (!IsUuid(target_id)) return NotFound("no such user");
  if (!change.role && !change.suspended) return InvalidArgument("nothing to change: give role or suspended");
  if (Blank(change.reason)) return InvalidArgument("field 'reason' must not be empty");
  if (CodePoints(change.reason) > options_.max_reason_chars) {
    return InvalidArgument("field 'reason' is longer than " + std::to_string(options_.max_reason_chars) + " characters");
  }
  std::int64_t now_ms = NowMs();
  User before;
  std::vector<std::string> revoked_sessions;
  Status st = db_.Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(User actor, ReadUser(tx, actor_id));
    VEZA_ASSIGN_OR_RETURN(before, ReadUser(tx, target_id));
    VEZA_TRY(check(actor, before, change));
    Role role = change.role.value_or(before.role);
    bool suspended = change.suspended.value_or(before.suspended);
    // Guarded by the role the check saw: a concurrent role change makes this a conflict.
    VEZA_ASSIGN_OR_RETURN(QueryResult updated, tx.Query(
        "UPDATE users SET role = $2, suspended = $3, updated_at = $4 WHERE id = $1 AND role = $5",
        {SqlText(before.id), SqlText(RoleName(role)), SqlInt(suspended ? 1 : 0), SqlInt(now_ms), SqlText(RoleName(before.role))}));
    if (updated.affected_rows != 1) return Conflict("the account changed meanwhile; try again");
    if (change.suspended && *change.suspended) {
      VEZA_ASSIGN_OR_RETURN(QueryResult live, tx.Query(
          "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", {SqlText(before.id)}));
      for (const Row& row : live.rows) revoked_sessions.push_back(row.Text(0));
      VEZA_TRY(tx.Query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                        {SqlText(before.id), SqlInt(now_ms)}));
    }
    auto audit = [&](std::string_view action, json::object details) -> Status {
      details["reason"] = change.reason;
      VEZA_TRY(tx.Query("INSERT INTO audit_log (id, actor_id, action, target_type, target_id, details, created_at) "
                        "VALUES ($1, $2, $3, 'user', $4, $5, $6)",
                        {SqlText(NewId()), SqlText(actor.id), SqlText(action), SqlText(before.id),
                         SqlText(json::serialize(details)), SqlInt(now_ms)}));
      return Ok();
    };
    if (change.role) {
      VEZA_TRY(audit("user.role.change", {{"from", RoleName(before.role)}, {"to", RoleName(role)}}));
    }
    if (change.suspended) {
      VEZA_TRY(audit(*change.suspended ? "user.suspend" : "user.unsuspend",
                     {{"was_suspended", before.suspended}, {"sessions_revoked", revoked_sessions.size()}}));
    }
    return Ok();
  });
  if (!st.ok()) return st.take_error();

  // Committed. Now make every node see it; on failure the caller is told to retry (the update
  // is idempotent) while refresh is already refused by the database.
  if (change.suspended) {
    Status cached = *change.suspended ? cache_.Set(SuspendedUserKey(before.id), "1", options_.revocation_ttl)
                                      : cache_.Delete(SuspendedUserKey(before.id));
    for (const std::string& sid : revoked_sessions) {
      // So the old access tokens stay dead after an unsuspend too.
      if (cached.ok()) cached = cache_.Set(RevokedSessionKey(sid), "1", options_.revocation_ttl);
    }
    if (!cached.ok()) {
      log::Error("security: suspension saved but not cached", {{"user_id", before.id}, {"error", cached.error().message}});
      return Unavailable("the change is saved but could not reach every node yet; repeat the request");
    }
    if (*change.suspended && sessions_ended_) sessions_ended_(before.id);
  }
  log::Info("admin: account changed", {{"actor_id", std::string(actor_id)}, {"user_id", before.id},
                                       {"role", change.role ? std::string(RoleName(*change.role)) : std::string()},
                                       {"suspended", change.suspended ? (*change.suspended ? "true" : "false") : ""}});
  return ReadUser(db_, before.id);
}

Result<AuditPage> AdminService::ListAuditLog(std::string_view cursor, int limit_in) {
  VEZA_ASSIGN_OR_RETURN(int limit, PageSize(limit_in));
  std::string sql = "SELECT id, actor_id, action, target_type, target_id, details, created_at FROM audit_log";
  std::vector<SqlValue> params;
  if (!cursor.empty()) {
    VEZA_ASSIGN_OR_RETURN(auto before, DecodeCursor(cursor));
    params = {SqlInt(before.first), SqlText(before.second)};
    sql += " WHERE (created_at < $1 OR (created_at = $1 AND id < $2))";
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(limit + 1);
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  AuditPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.entries.size()) == limit) {
      const AuditEntry& last = page.entries.back();
      page.next_cursor = EncodeCursor(last.created_at_ms, last.id);
      break;
    }
    page.entries.push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4), row.Text(5), row.Int(6)});
  }
  return page;
}

}  // namespace veza::auth
