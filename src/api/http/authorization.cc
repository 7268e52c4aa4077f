#include "api/http/authorization.h"

#include "api/http/auth_routes.h"

namespace veza::http {
namespace {

int Rank(Role r) { return static_cast<int>(r); }

Error Denied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }

}  // namespace

Status Require(const auth::Principal& who, Role minimum) {
  if (Rank(who.role) < Rank(minimum)) {
    return Denied("this needs the " + std::string(RoleName(minimum)) + " role or above");
  }
  return Ok();
}

Status AuthorizeUserChange(Role actor, bool self, Role target, std::optional<Role> new_role) {
  if (Rank(actor) < Rank(Role::kAdmin)) return Denied("this needs the admin role or above");
  if (self) return Denied("you cannot change your own role or suspension");
  if (actor == Role::kSuperAdmin) return Ok();
  if (Rank(target) >= Rank(Role::kAdmin)) return Denied("only a super_admin may change an admin or super_admin");
  if (new_role && Rank(*new_role) >= Rank(Role::kAdmin)) return Denied("only a super_admin may grant the admin or super_admin role");
  return Ok();
}

Status CheckUserChange(const User& actor, const User& target, const auth::UserChange& change) {
  return AuthorizeUserChange(actor.role, actor.id == target.id, target.role, change.role);
}

Result<auth::Principal> RequireCurrentRole(auth::AuthService& auth, auth::AdminService& admin,
                                           const RequestContext& ctx, Role minimum) {
  VEZA_ASSIGN_OR_RETURN(auth::Principal who, Authenticate(auth, ctx));
  auto current = admin.CurrentUser(who.user_id);
  if (!current.ok()) {
    if (current.error().code == ErrorCode::kNotFound) return Error{ErrorCode::kUnauthenticated, "account no longer exists"};
    return current.take_error();
  }
  if (current->suspended) return Error{ErrorCode::kUnauthenticated, "session revoked"};
  who.role = current->role;  // the token's claim may be stale
  VEZA_TRY(Require(who, minimum));
  return who;
}

}  // namespace veza::http
