#pragma once
// Roles, checked in one place. Ranks: user < moderator < admin < super_admin.
//
// Endpoints that need a role call RequireCurrentRole: it authenticates the bearer token and then
// re-reads the caller's role and suspension from the database, because the role claim in an
// access token can be up to its lifetime (15 min) out of date after a role change.
//
// Managing other accounts (role, suspension), AuthorizeUserChange:
// - the actor must be admin or above;
// - nobody changes their own role or suspends/unsuspends themselves;
// - an admin manages only accounts strictly below admin, and grants only roles below admin;
// - only a super_admin grants or revokes admin or super_admin, and only a super_admin touches
//   another admin or super_admin (so a super_admin is never suspended or demoted by anyone else).
#include "api/http/message.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"

namespace veza::http {

// kPermissionDenied (403) when who.role is below minimum.
Status Require(const auth::Principal& who, Role minimum);

// Whether an actor with actor_role may change an account whose role is target_role; self is
// true when it is the actor's own account; new_role is the role to grant, if any.
Status AuthorizeUserChange(Role actor_role, bool self, Role target_role, std::optional<Role> new_role);

// The auth::ChangeCheck that AdminService::UpdateUser runs on the current rows.
Status CheckUserChange(const User& actor, const User& target, const auth::UserChange& change);

// Bearer token -> principal whose role is the one in the database now; 401 when the token is
// bad, the account is gone or suspended; 403 below minimum. Blocking: run on the worker pool.
Result<auth::Principal> RequireCurrentRole(auth::AuthService& auth, auth::AdminService& admin,
                                           const RequestContext& ctx, Role minimum);

}  // namespace veza::http
