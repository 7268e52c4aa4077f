// `veza set-role USERNAME ROLE`: run by an operator on the server, so it needs no token. It is
// the only way to make the first admin on a fresh install; later ones can be made over the API.
#include <boost/json/serialize.hpp>
#include <chrono>

#include "base/ids.h"

#include "base/log.h"
#include "server/app.h"
#include "server/backends.h"
#include "services/auth/user_repository.h"

namespace veza::server {

int SetRole(const ServeOptions& options, const std::string& username, const std::string& role_name) {
  log::SetLevel(options.log_level);
  auto role = ParseRole(role_name);
  if (!role) {
    log::Error("set-role failed", {{"error", "unknown role " + role_name}});
    return 2;
  }
  auto db = OpenDatabase(options.backends.database);
  if (!db.ok()) {
    log::Error("set-role failed", {{"error", db.error().message}});
    return 1;
  }
  auto applied = ApplyMigrations(**db, EmbeddedMigrations((*db)->Dialect()));
  if (!applied.ok()) {
    log::Error("set-role failed", {{"error", applied.error().message}});
    return 1;
  }
  UserRepository users(**db);
  auto user = users.FindByUsername(username);
  if (!user.ok()) {
    log::Error("set-role failed", {{"error", "no account named " + username}});
    return 1;
  }
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  // The change and its audit entry commit together, like the admin API's.
  Status st = (*db)->Transaction([&](SqlSession& tx) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult r, tx.Query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1",
                                                  {SqlValue{user->id}, SqlValue{role_name}, SqlValue{now_ms}}));
    if (r.affected_rows != 1) return NotFound("no account named " + username);
    boost::json::object details{{"from", RoleName(user->role)}, {"to", role_name}, {"reason", "veza set-role"}};
    VEZA_TRY(tx.Query("INSERT INTO audit_log (id, actor_id, action, target_type, target_id, details, created_at) "
                      "VALUES ($1, 'cli', 'user.role.change', 'user', $2, $3, $4)",
                      {SqlValue{NewId()}, SqlValue{user->id}, SqlValue{boost::json::serialize(details)}, SqlValue{now_ms}}));
    return Ok();
  });
  if (!st.ok()) {
    log::Error("set-role failed", {{"error", st.error().message}});
    return 1;
  }
  // Tokens carry the role for at most their lifetime (15 minutes); the admin API re-reads it.
  log::Info("role set", {{"user_id", user->id}, {"username", user->username}, {"role", role_name}});
  return 0;
}

}  // namespace veza::server
