// `veza set-role USERNAME ROLE`: run by an operator on the server, so it needs no token. It is
// the only way to make the first admin on a fresh install; later ones can be made over the API.
#include <chrono>

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
  if (Status st = users.SetRole(user->id, *role, now_ms); !st.ok()) {
    log::Error("set-role failed", {{"error", st.error().message}});
    return 1;
  }
  // Tokens carry the role for at most their lifetime (15 minutes); the admin API re-reads it.
  log::Info("role set", {{"user_id", user->id}, {"username", user->username}, {"role", role_name}});
  return 0;
}

}  // namespace veza::server
