// Roles and administration over real HTTP against the real binary: the authorisation matrix of
// the admin endpoints, suspension taking effect at once, the audit log, the role rules and bad
// input. The first super_admin is made with `veza set-role`; the other roles are written into the
// SQLite file directly (quicker). Either way every token here still claims "user": the admin
// endpoints must read the current role from the database.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <signal.h>
#include <unistd.h>

#include <set>

#include "http_client.h"
#include "api_test.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

constexpr const char* kPassword = "violet kettle 93 drums";

struct Account {
  std::string id;
  std::string name;
  std::string access;
  std::string refresh;
};

class AdminTest : public test::ApiTest {
 protected:

  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& bearer, const std::string& content_type = "application/json") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!body.empty()) headers.emplace_back("Content-Type", content_type);
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers});
  }
  HttpResponse Get(const std::string& target, const std::string& bearer) { return Send("GET", target, "", bearer); }
  HttpResponse Patch(const std::string& id, const std::string& body, const std::string& bearer) {
    return Send("PATCH", "/api/v1/admin/users/" + id, body, bearer);
  }
  HttpResponse Login(const std::string& name) {
    return Send("POST", "/api/v1/auth/login", R"({"login":")" + name + R"(","password":")" + kPassword + "\"}", "");
  }

  Account Register(const std::string& name, const std::string& role = "user") {
    auto r = Send("POST", "/api/v1/auth/register",
                  R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":")" + kPassword + "\"}", "");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    json::object o = json::parse(r.body).as_object();
    Account a{Str(o.at("user").as_object(), "id"), name, Str(o, "access_token"), Str(o, "refresh_token")};
    if (role != "user") SetRole(name, role);
    return a;
  }
  // Straight into the database file, as an operator would on a fresh install.
  void SetRole(const std::string& name, const std::string& role) {
    std::string db = (dir_.path() / "data" / "veza.db").string();
    std::string cmd = "sqlite3 -cmd '.timeout 5000' " + db + " \"UPDATE users SET role='" + role +
                      "' WHERE username='" + name + "'\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  json::array AuditEntries(const std::string& bearer) {
    auto r = Get("/api/v1/admin/audit-log", bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).at("entries").as_array() : json::array{};
  }

};

TEST_F(AdminTest, AuthorisationMatrix) {
  // The first super_admin the way a fresh install makes it: `veza set-role` on the server.
  Account super = Register("sam");
  test::VezaProcess set_role(VEZA_BINARY, {"set-role", "sam", "super_admin"}, {}, dir_.path());
  set_role.Start(std::chrono::seconds(1));
  ASSERT_EQ(set_role.Wait(std::chrono::seconds(20)), 0) << set_role.Log();
  Account admin = Register("ada", "admin");
  Account mod = Register("moe", "moderator");
  Account user = Register("ulla");
  Account target = Register("tim");

  struct Caller {
    std::string label;
    std::string token;
  };
  std::vector<Caller> callers = {{"anonymous", ""}, {"user", user.access}, {"moderator", mod.access},
                                 {"admin", admin.access}, {"super_admin", super.access}};
  struct Endpoint {
    std::string method, target, body;
    std::vector<int> expected;  // per caller, in the order above
  };
  std::vector<Endpoint> endpoints = {
      {"GET", "/api/v1/admin/users", "", {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/admin/users?query=ti&limit=5", "", {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/admin/audit-log", "", {401, 403, 403, 200, 200}},
      {"PATCH", "/api/v1/admin/users/" + target.id, R"({"suspended":false,"reason":"matrix"})", {401, 403, 403, 200, 200}},
      {"PATCH", "/api/v1/admin/users/" + target.id, R"({"role":"moderator","reason":"matrix"})", {401, 403, 403, 200, 200}},
  };
  for (const Endpoint& e : endpoints) {
    for (std::size_t i = 0; i < callers.size(); ++i) {
      SCOPED_TRACE(e.method + " " + e.target + " as " + callers[i].label);
      auto r = Send(e.method, e.target, e.body, callers[i].token);
      if (e.expected[i] >= 400) {
        ExpectProblem(r, e.expected[i]);
        if (e.expected[i] == 401) {
          EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"veza\"");
        }
      } else {
        EXPECT_EQ(r.status, e.expected[i]) << r.body;
        EXPECT_EQ(r.Header("cache-control"), "private, no-store");
      }
    }
  }
  // The role is read from the database, not the token: demoting the moderator bites at once.
  SetRole("moe", "user");
  ExpectProblem(Get("/api/v1/admin/users", mod.access), 403);
  ExpectProblem(Get("/api/v1/admin/users", "garbage"), 401);
}

TEST_F(AdminTest, SuspensionStopsTokensAtOnceAndUnsuspendRestoresLogin) {
  Account admin = Register("ada", "admin");
  Account victim = Register("vic");
  auto second = Login("vic");
  ASSERT_EQ(second.status, 200);
  std::string second_access = Str(json::parse(second.body).as_object(), "access_token");
  ASSERT_EQ(Get("/api/v1/users/me", victim.access).status, 200);

  auto r = Patch(victim.id, R"({"suspended":true,"reason":"spam in #general"})", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("suspended"), true);

  ExpectProblem(Get("/api/v1/users/me", victim.access), 401);
  ExpectProblem(Get("/api/v1/users/me", second_access), 401);
  ExpectProblem(Send("POST", "/api/v1/auth/refresh", R"({"refresh_token":")" + victim.refresh + "\"}", ""), 401);
  ExpectProblem(Login("vic"), 403, "suspended");

  json::array entries = AuditEntries(admin.access);
  ASSERT_EQ(entries.size(), 1u);
  const json::object& e = entries[0].as_object();
  EXPECT_EQ(Str(e, "action"), "user.suspend");
  EXPECT_EQ(Str(e, "actor_id"), admin.id);
  EXPECT_EQ(Str(e, "target_type"), "user");
  EXPECT_EQ(Str(e, "target_id"), victim.id);
  EXPECT_EQ(Str(e.at("details").as_object(), "reason"), "spam in #general");
  EXPECT_EQ(e.at("details").at("sessions_revoked"), 2);

  r = Patch(victim.id, R"({"suspended":false,"reason":"appeal accepted"})", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  auto again = Login("vic");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Get("/api/v1/users/me", Str(json::parse(again.body).as_object(), "access_token")).status, 200);
  ExpectProblem(Get("/api/v1/users/me", victim.access), 401);  // the old sessions stay ended

  entries = AuditEntries(admin.access);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(Str(entries[0].as_object(), "action"), "user.unsuspend");  // newest first
  EXPECT_EQ(Str(entries[0].at("details").as_object(), "reason"), "appeal accepted");

  // A suspended admin loses the admin endpoints at once too.
  Account super = Register("sam", "super_admin");
  ASSERT_EQ(Patch(admin.id, R"({"suspended":true,"reason":"compromised"})", super.access).status, 200);
  ExpectProblem(Get("/api/v1/admin/users", admin.access), 401);
}

TEST_F(AdminTest, RoleRules) {
  Account super = Register("sam", "super_admin");
  Account super2 = Register("sue", "super_admin");
  Account admin = Register("ada", "admin");
  Account admin2 = Register("abe", "admin");
  Account user = Register("ulla");

  ExpectProblem(Patch(admin2.id, R"({"role":"user","reason":"x"})", admin.access), 403);        // admin on admin
  ExpectProblem(Patch(admin2.id, R"({"suspended":true,"reason":"x"})", admin.access), 403);
  ExpectProblem(Patch(user.id, R"({"role":"admin","reason":"x"})", admin.access), 403);         // grant admin
  ExpectProblem(Patch(super.id, R"({"suspended":true,"reason":"x"})", admin.access), 403);      // super_admin
  ExpectProblem(Patch(admin.id, R"({"role":"user","reason":"x"})", admin.access), 403);         // self-demotion
  ExpectProblem(Patch(super.id, R"({"role":"admin","reason":"x"})", super.access), 403);        // self, even super
  ExpectProblem(Patch(super.id, R"({"suspended":true,"reason":"x"})", super.access), 403);

  auto promoted = Patch(user.id, R"({"role":"moderator","reason":"helps in chat"})", admin.access);
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(Str(json::parse(promoted.body).as_object(), "role"), "moderator");
  EXPECT_EQ(Get("/api/v1/admin/users", user.access).status, 200);  // same token, new role

  ASSERT_EQ(Patch(user.id, R"({"role":"admin","reason":"trusted"})", super.access).status, 200);
  EXPECT_EQ(Get("/api/v1/admin/audit-log", user.access).status, 200);
  ASSERT_EQ(Patch(admin2.id, R"({"role":"user","reason":"left the team"})", super.access).status, 200);
  ExpectProblem(Get("/api/v1/admin/audit-log", admin2.access), 403);
  ASSERT_EQ(Patch(super.id, R"({"role":"admin","reason":"rotation"})", super2.access).status, 200);

  json::array entries = AuditEntries(super2.access);
  ASSERT_EQ(entries.size(), 4u);  // refused changes leave no entry
  const json::object& last = entries[0].as_object();
  EXPECT_EQ(Str(last, "action"), "user.role.change");
  EXPECT_EQ(Str(last, "actor_id"), super2.id);
  EXPECT_EQ(Str(last.at("details").as_object(), "from"), "super_admin");
  EXPECT_EQ(Str(last.at("details").as_object(), "to"), "admin");
  EXPECT_EQ(Str(last.at("details").as_object(), "reason"), "rotation");
}

TEST_F(AdminTest, BadInputIsAProblem) {
  Account admin = Register("ada", "admin");
  Account user = Register("ulla");
  struct Case {
    std::string id;
    std::string body;
    int status;
    std::string detail;
  };
  std::vector<Case> cases = {
      {user.id, "{", 400, "malformed JSON"},
      {user.id, "[]", 400, "JSON object"},
      {user.id, R"({"role":"emperor","reason":"x"})", 400, "role"},
      {user.id, R"({"role":5,"reason":"x"})", 400, "role"},
      {user.id, R"({"suspended":"yes","reason":"x"})", 400, "suspended"},
      {user.id, R"({"role":"moderator"})", 400, "missing field 'reason'"},
      {user.id, R"({"role":"moderator","reason":""})", 400, "reason"},
      {user.id, R"({"role":"moderator","reason":"   "})", 400, "reason"},
      {user.id, R"({"role":"moderator","reason":")" + std::string(501, 'r') + "\"}", 400, "longer than 500"},
      {user.id, R"({"role":"moderator","reason":")" + std::string(2100, 'r') + "\"}", 400, "longer than 500"},
      {user.id, R"({"role":"moderator","reason":"x","admin":true})", 400, "unknown field 'admin'"},
      {user.id, R"({"reason":"nothing"})", 400, "nothing to change"},
      {"not-a-uuid", R"({"role":"moderator","reason":"x"})", 404, ""},
      {"01234567-89ab-7def-8123-456789abcdef", R"({"role":"moderator","reason":"x"})", 404, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id + " " + c.body.substr(0, 80));
    ExpectProblem(Patch(c.id, c.body, admin.access), c.status, c.detail);
  }
  // 500 characters (not bytes) is fine: 500 two-byte characters.
  std::string accents;
  for (int i = 0; i < 500; ++i) accents += "\xC3\xA9";
  EXPECT_EQ(Patch(user.id, R"({"role":"moderator","reason":")" + accents + "\"}", admin.access).status, 200);
  ExpectProblem(Send("PATCH", "/api/v1/admin/users/" + user.id, "role=admin", admin.access, "application/x-www-form-urlencoded"), 415);

  for (const std::string q : {"limit=0", "limit=101", "limit=abc", "limit=5x", "cursor=garbage",
                              "cursor=1_not-a-uuid", "colour=red", "limit=5&limit=6", "query=%zz"}) {
    SCOPED_TRACE(q);
    ExpectProblem(Get("/api/v1/admin/users?" + q, admin.access), 400);
  }
  ExpectProblem(Get("/api/v1/admin/audit-log?limit=0", admin.access), 400);
  ExpectProblem(Get("/api/v1/admin/audit-log?query=x", admin.access), 400);
  EXPECT_EQ(AuditEntries(admin.access).size(), 1u);  // only the one change that succeeded
}

// The System page's "recent errors": this node's warn and error log lines, newest first, for
// admins only, with nothing secret in them.
TEST_F(AdminTest, RecentErrorsListThisNodesWarningsNewestFirstForAdminsOnly) {
  Account admin = Register("ada", "admin"), mod = Register("mona", "moderator"), user = Register("uma");
  // A wrong current password is logged as a warning ("security: re-authentication failed").
  const std::string wrong = R"({"current_password":"not my password 123","new_password":"amber lantern 47 bass"})";
  ASSERT_EQ(Send("POST", "/api/v1/auth/change-password", wrong, mod.access).status, 403);
  ASSERT_EQ(Send("POST", "/api/v1/auth/change-password", wrong, user.access).status, 403);

  auto r = Get("/api/v1/admin/errors", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "private, no-store");
  EXPECT_EQ(r.body.find("not my password"), std::string::npos) << "a password in the log";
  const json::value body = json::parse(r.body);
  const json::array& errors = body.as_object().at("errors").as_array();
  std::vector<std::string> reauth_users;
  for (const json::value& v : errors) {
    const json::object& e = v.as_object();
    EXPECT_TRUE(Str(e, "level") == "warn" || Str(e, "level") == "error") << json::serialize(e);
    EXPECT_FALSE(Str(e, "time").empty());
    if (Str(e, "msg") == "security: re-authentication failed") reauth_users.push_back(Str(e, "user_id"));
  }
  EXPECT_EQ(reauth_users, (std::vector<std::string>{user.id, mod.id}));  // newest first

  ExpectProblem(Get("/api/v1/admin/errors", ""), 401);
  ExpectProblem(Get("/api/v1/admin/errors", user.access), 403);
  ExpectProblem(Get("/api/v1/admin/errors", mod.access), 403);
  ExpectProblem(Get("/api/v1/admin/errors?level=warn", admin.access), 400);
}

TEST_F(AdminTest, UserListSearchesAndPagesWithoutGapsOrRepeats) {
  Account admin = Register("ada", "admin");
  for (int i = 0; i < 7; ++i) Register("pager" + std::to_string(i));
  Register("other_x");

  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = Get("/api/v1/admin/users?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), admin.access);
    ASSERT_EQ(r.status, 200) << r.body;
    json::object o = json::parse(r.body).as_object();
    for (const auto& u : o.at("users").as_array()) seen.push_back(Str(u.as_object(), "username"));
    if (o.at("next_cursor").is_null()) break;
    cursor = Str(o, "next_cursor");
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 9u);
  EXPECT_EQ(seen.front(), "ada");  // oldest first

  auto r = Get("/api/v1/admin/users?query=PAGER", admin.access);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = json::parse(r.body).as_object();
  EXPECT_EQ(o.at("users").as_array().size(), 7u);
  EXPECT_TRUE(o.at("next_cursor").is_null());
  const json::object& first = o.at("users").as_array()[0].as_object();
  for (const char* key : {"id", "username", "email", "role", "suspended", "created_at"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_FALSE(first.contains("password_hash"));
  // By email prefix; and LIKE wildcards in the query are literal.
  EXPECT_EQ(json::parse(Get("/api/v1/admin/users?query=other_x%40ex", admin.access).body).at("users").as_array().size(), 1u);
  EXPECT_EQ(json::parse(Get("/api/v1/admin/users?query=%25", admin.access).body).at("users").as_array().size(), 0u);
  EXPECT_EQ(json::parse(Get("/api/v1/admin/users?query=other%5F", admin.access).body).at("users").as_array().size(), 1u);
  EXPECT_EQ(json::parse(Get("/api/v1/admin/users?query=p_", admin.access).body).at("users").as_array().size(), 0u);

  // The audit log pages newest first.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Patch(json::parse(Get("/api/v1/admin/users?query=pager" + std::to_string(i), admin.access).body)
                        .at("users").as_array()[0].at("id").as_string().c_str(),
                    R"({"role":"moderator","reason":"r)" + std::to_string(i) + "\"}", admin.access).status, 200);
  }
  std::vector<std::string> reasons;
  cursor.clear();
  for (int page = 0; page < 10; ++page) {
    auto a = Get("/api/v1/admin/audit-log?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin.access);
    ASSERT_EQ(a.status, 200) << a.body;
    json::object ao = json::parse(a.body).as_object();
    for (const auto& e : ao.at("entries").as_array()) reasons.push_back(Str(e.at("details").as_object(), "reason"));
    if (ao.at("next_cursor").is_null()) break;
    cursor = Str(ao, "next_cursor");
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"r4", "r3", "r2", "r1", "r0"}));
}


// Two nodes sharing PostgreSQL and Redis: a suspension made on node A stops the user's tokens on
// node B at once, and the admin endpoints (search, audit log) run the same SQL on PostgreSQL.
TEST(AdminTwoNodes, SuspensionOnOneNodeIsRefusedOnTheOtherOnPostgres) {
  std::string pg = test::Env("VEZA_TEST_POSTGRES_URL"), redis = test::Env("VEZA_TEST_REDIS_URL");
  ASSERT_FALSE(pg.empty() || redis.empty()) << "run under scripts/test-services (make test)";
  std::string db_name = "veza_admin_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("psql -q '" + pg + "' -c 'DROP DATABASE IF EXISTS " + db_name + "' -c 'CREATE DATABASE " + db_name + "' >/dev/null").c_str()), 0);
  std::string url = pg.substr(0, pg.rfind('/') + 1) + db_name;
  test::TempDir dir;
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--database", url, "--cache", redis, "--no-access-log"};
  test::VezaProcess a(VEZA_BINARY, args, {}, dir.path());
  ASSERT_TRUE(a.Start()) << a.Log();
  test::VezaProcess b(VEZA_BINARY, args, {}, dir.path());
  ASSERT_TRUE(b.Start()) << b.Log();

  auto call = [](unsigned short port, const std::string& method, const std::string& target, const std::string& body,
                 const std::string& bearer) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", port, {method, target, body, headers});
  };
  auto reg = [&](const std::string& name) {
    auto r = call(a.port(), "POST", "/api/v1/auth/register",
                  R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":"violet kettle 93 drums"})", "");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).as_object();
  };
  json::object admin = reg("olga"), victim = reg("pete_1");
  ASSERT_EQ(std::system(("psql -q '" + url + "' -c \"UPDATE users SET role = 'admin' WHERE username = 'olga'\" >/dev/null").c_str()), 0);
  std::string admin_token(admin.at("access_token").as_string()), victim_token(victim.at("access_token").as_string());
  std::string victim_id(victim.at("user").at("id").as_string());

  EXPECT_EQ(call(b.port(), "GET", "/api/v1/users/me", "", victim_token).status, 200);
  auto list = call(b.port(), "GET", "/api/v1/admin/users?query=PETE%5F&limit=1", "", admin_token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body).at("users").as_array().size(), 1u);
  auto page = call(b.port(), "GET", "/api/v1/admin/users?limit=1", "", admin_token);
  ASSERT_EQ(page.status, 200) << page.body;
  std::string cursor(json::parse(page.body).at("next_cursor").as_string());
  auto next = call(b.port(), "GET", "/api/v1/admin/users?limit=1&cursor=" + cursor, "", admin_token);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(json::parse(next.body).at("users").as_array()[0].at("username"), "pete_1");

  auto r = call(a.port(), "PATCH", "/api/v1/admin/users/" + victim_id, R"({"suspended":true,"role":"moderator","reason":"two nodes"})", admin_token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call(b.port(), "GET", "/api/v1/users/me", "", victim_token).status, 401);
  auto audit = call(b.port(), "GET", "/api/v1/admin/audit-log?limit=1", "", admin_token);
  ASSERT_EQ(audit.status, 200) << audit.body;
  json::object ao = json::parse(audit.body).as_object();
  ASSERT_EQ(ao.at("entries").as_array().size(), 1u);
  EXPECT_FALSE(ao.at("next_cursor").is_null());  // two entries: the role change and the suspension
  auto older = call(b.port(), "GET", "/api/v1/admin/audit-log?cursor=" + std::string(ao.at("next_cursor").as_string()), "", admin_token);
  ASSERT_EQ(older.status, 200) << older.body;
  EXPECT_EQ(json::parse(older.body).at("entries").as_array().size(), 1u);

  ASSERT_EQ(call(b.port(), "PATCH", "/api/v1/admin/users/" + victim_id, R"({"suspended":false,"reason":"ok"})", admin_token).status, 200);
  EXPECT_EQ(call(a.port(), "POST", "/api/v1/auth/login", R"({"login":"pete_1","password":"violet kettle 93 drums"})", "").status, 200);
  a.Stop(SIGTERM);
  b.Stop(SIGTERM);
  std::system(("psql -q '" + pg + "' -c 'DROP DATABASE IF EXISTS " + db_name + " WITH (FORCE)' >/dev/null").c_str());
}

}  // namespace
}  // namespace veza
