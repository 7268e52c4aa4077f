#pragma once
// Administration of accounts: list and search users, change a user's role, suspend and
// unsuspend, and the audit log those changes write. Blocking (database): call it from the
// worker pool.
//
// Who may do what is not decided here: the transport passes a ChangeCheck (api/http/
// authorization.h holds the rules) that UpdateUser runs inside its transaction on the actor's
// and the target's current rows, so a decision never rests on a stale token claim.
//
// Suspension takes effect at once on every node: the user's sessions are revoked in the
// database (refresh fails) and SuspendedUserKey is set in the shared Cache (access tokens fail
// in AuthService::Authenticate). Unsuspending clears the key; the revoked sessions stay revoked.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/cache.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "services/auth/user_repository.h"

namespace veza::auth {

struct AdminOptions {
  // How long the suspension and session-revocation cache keys live. Must be at least the
  // access-token lifetime plus leeway (900 s + 30 s by default).
  std::chrono::seconds revocation_ttl{3600};
  int default_page_size = 50;
  int max_page_size = 100;
  std::size_t max_reason_chars = 500;  // Unicode code points
};

struct UserListQuery {
  std::string query;   // username or email prefix, case-insensitive; empty for all
  std::string cursor;  // from the previous page's next_cursor; empty for the first page
  int limit = 0;       // 0 for the default
};

struct UserPage {
  std::vector<User> users;  // oldest first, by (created_at, id)
  std::string next_cursor;  // empty on the last page
};

struct UserChange {
  std::optional<Role> role;
  std::optional<bool> suspended;
  std::string reason;  // required, at most max_reason_chars
};

struct AuditEntry {
  std::string id;
  std::string actor_id;
  std::string action;  // "user.role.change", "user.suspend", "user.unsuspend"
  std::string target_type;  // "user"
  std::string target_id;
  std::string details;  // a JSON object as text
  std::int64_t created_at_ms = 0;
};

struct AuditPage {
  std::vector<AuditEntry> entries;  // newest first, by (created_at, id)
  std::string next_cursor;
};

// Decides whether actor may apply change to target (both read in the transaction); an error
// (kPermissionDenied) aborts the update.
using ChangeCheck = std::function<Status(const User& actor, const User& target, const UserChange& change)>;

class AdminService {
 public:
  AdminService(Database& db, Cache& cache, const Clock& clock, AdminOptions options = {});
  // Told when a suspension ended a user's sessions (see SessionsEndedSink in auth_service.h).
  void SetSessionsEndedSink(std::function<void(std::string_view user_id)> sink) { sessions_ended_ = std::move(sink); }

  // The account as the database has it now (role and suspension may differ from a token's).
  Result<User> CurrentUser(std::string_view user_id);
  Result<UserPage> ListUsers(const UserListQuery& query);
  // Applies change to target_id (kNotFound for an unknown or malformed id) after check allows
  // it, writes one audit entry per effect, and returns the updated account. kConflict when the
  // target's role changed concurrently (retry).
  Result<User> UpdateUser(std::string_view actor_id, std::string_view target_id, const UserChange& change,
                          const ChangeCheck& check);
  Result<AuditPage> ListAuditLog(std::string_view cursor, int limit);

 private:
  std::int64_t NowMs() const;
  Result<int> PageSize(int limit) const;

  Database& db_;
  Cache& cache_;
  const Clock& clock_;
  AdminOptions options_;
  std::function<void(std::string_view user_id)> sessions_ended_;
};

}  // namespace veza::auth
