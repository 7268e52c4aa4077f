#include "services/auth/user_repository.h"

#include "base/ids.h"

namespace veza {
namespace {

constexpr std::string_view kColumns =
    "id, username, email, password_hash, display_name, bio, role, email_verified, suspended, "
    "created_at, updated_at";

User FromRow(const Row& r) {
  User u;
  u.id = r.Text(0);
  u.username = r.Text(1);
  u.email = r.Text(2);
  u.password_hash = r.OptionalText(3);
  u.display_name = r.Text(4);
  u.bio = r.Text(5);
  u.role = ParseRole(r.Text(6)).value_or(Role::kUser);
  u.email_verified = r.Int(7) != 0;
  u.suspended = r.Int(8) != 0;
  u.created_at_ms = r.Int(9);
  u.updated_at_ms = r.Int(10);
  return u;
}


}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kModerator: return "moderator";
    case Role::kAdmin: return "admin";
    case Role::kSuperAdmin: return "super_admin";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kUser, Role::kModerator, Role::kAdmin, Role::kSuperAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string FoldKey(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<User> UserRepository::Create(const NewUser& n, std::int64_t now_ms) {
  User created;
  Status st = db_.Transaction([&](SqlSession& tx) -> Status {
    // Checked first so the caller learns which field clashes; the UNIQUE constraints still
    // catch a concurrent registration (then reported as a generic conflict).
    VEZA_ASSIGN_OR_RETURN(QueryResult taken,
                          tx.Query("SELECT CASE WHEN username_key = $1 THEN 'username' ELSE 'email' END "
                                   "FROM users WHERE username_key = $1 OR email_key = $2",
                                   {SqlText(FoldKey(n.username)), SqlText(FoldKey(n.email))}));
    if (!taken.rows.empty()) return Conflict(taken.rows[0].Text(0) + " is already taken");
    created = User{NewId(), n.username, n.email, n.password_hash, n.display_name, "",
                   Role::kUser, false, false, now_ms, now_ms};
    VEZA_TRY(tx.Query(
        "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
        "display_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        {SqlText(created.id), SqlText(n.username), SqlText(FoldKey(n.username)), SqlText(n.email),
         SqlText(FoldKey(n.email)),
         n.password_hash ? SqlText(*n.password_hash) : SqlValue{std::monostate{}},
         SqlText(n.display_name), SqlInt(now_ms)}));
    return Ok();
  });
  if (!st.ok()) return st.take_error();
  return created;
}

Result<User> UserRepository::FindOne(std::string_view where_column, std::string_view value) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM users WHERE " +
                    std::string(where_column) + " = $1";
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, {SqlText(value)}));
  if (r.rows.empty()) return NotFound("no such user");
  return FromRow(r.rows[0]);
}

Result<User> UserRepository::FindById(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such user");
  return FindOne("id", id);
}
Result<User> UserRepository::FindByUsername(std::string_view username) {
  return FindOne("username_key", FoldKey(username));
}
Result<User> UserRepository::FindByEmail(std::string_view email) {
  return FindOne("email_key", FoldKey(email));
}
Result<User> UserRepository::FindByLogin(std::string_view login) {
  return login.find('@') != std::string_view::npos ? FindByEmail(login) : FindByUsername(login);
}

Status UserRepository::UpdateOne(std::string_view set_sql, std::vector<SqlValue> params) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("UPDATE users SET " + std::string(set_sql) +
                                                     " WHERE id = $1",
                                                 params));
  if (r.affected_rows == 0) return NotFound("no such user");
  return Ok();
}

Status UserRepository::UpdateProfile(std::string_view id, const ProfileUpdate& u, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  // COALESCE keeps a field the update leaves out.
  return UpdateOne("display_name = COALESCE($2, display_name), bio = COALESCE($3, bio), updated_at = $4",
                   {SqlText(id), u.display_name ? SqlText(*u.display_name) : SqlValue{},
                    u.bio ? SqlText(*u.bio) : SqlValue{}, SqlInt(now_ms)});
}

Status UserRepository::SetPasswordHash(std::string_view id, std::string_view hash, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  return UpdateOne("password_hash = $2, updated_at = $3", {SqlText(id), SqlText(hash), SqlInt(now_ms)});
}

Status UserRepository::SetEmail(std::string_view id, std::string_view email, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  // A new address is unverified until the owner proves it again.
  return UpdateOne("email = $2, email_key = $3, email_verified = $4, updated_at = $5",
                   {SqlText(id), SqlText(email), SqlText(FoldKey(email)), SqlInt(0), SqlInt(now_ms)});
}

Status UserRepository::SetRole(std::string_view id, Role role, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  return UpdateOne("role = $2, updated_at = $3", {SqlText(id), SqlText(RoleName(role)), SqlInt(now_ms)});
}

Status UserRepository::SetSuspended(std::string_view id, bool suspended, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  return UpdateOne("suspended = $2, updated_at = $3", {SqlText(id), SqlInt(suspended ? 1 : 0), SqlInt(now_ms)});
}

Status UserRepository::SetEmailVerified(std::string_view id, bool verified, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such user");
  return UpdateOne("email_verified = $2, updated_at = $3", {SqlText(id), SqlInt(verified ? 1 : 0), SqlInt(now_ms)});
}

Status UserRepository::Delete(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such user");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("DELETE FROM users WHERE id = $1", {SqlText(id)}));
  if (r.affected_rows == 0) return NotFound("no such user");
  return Ok();
}

}  // namespace veza
