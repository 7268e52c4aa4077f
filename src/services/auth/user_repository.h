#pragma once
// Accounts in the database, with portable SQL over the Database port (the same statements run
// on SQLite and PostgreSQL; tests/contract/user_repo_contract_test.cc runs them on both).
// Usernames and emails are unique case-insensitively; the original spelling is kept for display.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ports/database.h"

namespace veza {

enum class Role { kUser, kModerator, kAdmin, kSuperAdmin };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct User {
  std::string id;
  std::string username;
  std::string email;
  std::optional<std::string> password_hash;
  std::string display_name;
  std::string bio;
  Role role = Role::kUser;
  bool email_verified = false;
  bool suspended = false;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct NewUser {
  std::string username;
  std::string email;
  std::optional<std::string> password_hash;
  std::string display_name;
};

struct ProfileUpdate {
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
};

class UserRepository {
 public:
  explicit UserRepository(Database& db) : db_(db) {}

  // kConflict naming "username" or "email" when either is taken.
  Result<User> Create(const NewUser& user, std::int64_t now_ms);
  Result<User> FindById(std::string_view id);
  Result<User> FindByUsername(std::string_view username);
  Result<User> FindByEmail(std::string_view email);
  // Username or email, whichever the login looks like.
  Result<User> FindByLogin(std::string_view login);
  Status UpdateProfile(std::string_view id, const ProfileUpdate& update, std::int64_t now_ms);
  Status SetPasswordHash(std::string_view id, std::string_view hash, std::int64_t now_ms);
  Status SetEmail(std::string_view id, std::string_view email, std::int64_t now_ms);
  Status SetRole(std::string_view id, Role role, std::int64_t now_ms);
  Status SetSuspended(std::string_view id, bool suspended, std::int64_t now_ms);
  Status SetEmailVerified(std::string_view id, bool verified, std::int64_t now_ms);
  // Deletes the account; sessions and refresh tokens go with it (ON DELETE CASCADE).
  Status Delete(std::string_view id);

 private:
  Result<User> FindOne(std::string_view where_column, std::string_view value);
  Status UpdateOne(std::string_view set_sql, std::vector<SqlValue> params);
  Database& db_;
};

// Lower-cases ASCII letters; the key under which usernames and emails are unique.
std::string FoldKey(std::string_view s);

}  // namespace veza
