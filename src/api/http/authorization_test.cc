#include "api/http/authorization.h"

#include <gtest/gtest.h>

namespace veza::http {
namespace {

constexpr Role kAll[] = {Role::kUser, Role::kModerator, Role::kAdmin, Role::kSuperAdmin};
enum { U, M, A, S };

TEST(Require, AllowsTheMinimumAndAboveOnly) {
  // allowed[caller][minimum], spelled out rather than computed.
  constexpr bool allowed[4][4] = {
      /* user        */ {true, false, false, false},
      /* moderator   */ {true, true, false, false},
      /* admin       */ {true, true, true, false},
      /* super_admin */ {true, true, true, true},
  };
  for (int caller = 0; caller < 4; ++caller) {
    for (int minimum = 0; minimum < 4; ++minimum) {
      auth::Principal who{"u", "s", kAll[caller]};
      Status st = Require(who, kAll[minimum]);
      SCOPED_TRACE(std::string(RoleName(kAll[caller])) + " needs " + std::string(RoleName(kAll[minimum])));
      EXPECT_EQ(st.ok(), allowed[caller][minimum]);
      if (!st.ok()) {
        EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied);
      }
    }
  }
}

// may_manage[actor][target]: change anything about another account of that role.
constexpr bool kMayManage[4][4] = {
    /* user        */ {false, false, false, false},
    /* moderator   */ {false, false, false, false},
    /* admin       */ {true, true, false, false},
    /* super_admin */ {true, true, true, true},
};
// may_grant[actor][new role].
constexpr bool kMayGrant[4][4] = {
    /* user        */ {false, false, false, false},
    /* moderator   */ {false, false, false, false},
    /* admin       */ {true, true, false, false},
    /* super_admin */ {true, true, true, true},
};

TEST(AuthorizeUserChange, EveryActorTargetNewRoleAndSelfCombination) {
  int checked = 0;
  for (int actor = 0; actor < 4; ++actor) {
    for (int target = 0; target < 4; ++target) {
      for (int grant = -1; grant < 4; ++grant) {  // -1: suspension only, no role change
        for (bool self : {false, true}) {
          if (self && actor != target) continue;  // one's own account has one's own role
          std::optional<Role> new_role = grant < 0 ? std::nullopt : std::optional<Role>(kAll[grant]);
          bool expected = !self && kMayManage[actor][target] && (grant < 0 || kMayGrant[actor][grant]);
          Status st = AuthorizeUserChange(kAll[actor], self, kAll[target], new_role);
          SCOPED_TRACE(std::string(RoleName(kAll[actor])) + " -> " + std::string(RoleName(kAll[target])) +
                       " grant " + (grant < 0 ? std::string("none") : std::string(RoleName(kAll[grant]))) +
                       (self ? " (self)" : ""));
          EXPECT_EQ(st.ok(), expected);
          if (!st.ok()) {
        EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied);
      }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 4 * 5 + 4 * 5);
}

TEST(AuthorizeUserChange, TheRulesInWords) {
  auto ok = [](Role a, Role t, std::optional<Role> r, bool self = false) { return AuthorizeUserChange(a, self, t, r).ok(); };
  // An admin manages users and moderators, and grants at most moderator.
  EXPECT_TRUE(ok(Role::kAdmin, Role::kUser, Role::kModerator));
  EXPECT_TRUE(ok(Role::kAdmin, Role::kModerator, Role::kUser));
  EXPECT_TRUE(ok(Role::kAdmin, Role::kUser, std::nullopt));  // suspend
  EXPECT_FALSE(ok(Role::kAdmin, Role::kUser, Role::kAdmin));
  EXPECT_FALSE(ok(Role::kAdmin, Role::kAdmin, Role::kUser));
  EXPECT_FALSE(ok(Role::kAdmin, Role::kAdmin, std::nullopt));
  EXPECT_FALSE(ok(Role::kAdmin, Role::kSuperAdmin, std::nullopt));
  // Only a super_admin grants or revokes admin, and only another super_admin touches one.
  EXPECT_TRUE(ok(Role::kSuperAdmin, Role::kUser, Role::kAdmin));
  EXPECT_TRUE(ok(Role::kSuperAdmin, Role::kAdmin, Role::kUser));
  EXPECT_TRUE(ok(Role::kSuperAdmin, Role::kSuperAdmin, Role::kAdmin));
  EXPECT_TRUE(ok(Role::kSuperAdmin, Role::kSuperAdmin, std::nullopt));
  // Nobody changes themselves, not even a super_admin.
  for (Role r : kAll) {
    EXPECT_FALSE(ok(r, r, std::nullopt, true));
    for (Role g : kAll) EXPECT_FALSE(ok(r, r, g, true));
  }
  // Moderators and users manage nobody.
  EXPECT_FALSE(ok(Role::kModerator, Role::kUser, std::nullopt));
  EXPECT_FALSE(ok(Role::kUser, Role::kUser, Role::kUser));
}

TEST(CheckUserChange, ComparesAccountIdsForSelf) {
  User actor, target;
  actor.id = target.id = "0190a4c2-0000-7000-8000-000000000001";
  actor.role = target.role = Role::kSuperAdmin;
  auth::UserChange change;
  change.suspended = true;
  EXPECT_FALSE(CheckUserChange(actor, target, change).ok());
  target.id = "0190a4c2-0000-7000-8000-000000000002";
  EXPECT_TRUE(CheckUserChange(actor, target, change).ok());
}

}  // namespace
}  // namespace veza::http
