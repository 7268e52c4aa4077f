#include "api/http/admin_routes.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <charconv>
#include <map>

#include "api/http/authorization.h"
#include "api/http/query_params.h"
#include "api/http/track_routes.h"
#include "base/blocking.h"
#include "base/log.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {


json::object AdminUserJson(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"email", u.email},
          {"role", RoleName(u.role)},
          {"suspended", u.suspended},
          {"created_at", u.created_at_ms}};
}

json::object AuditJson(const auth::AuditEntry& e) {
  boost::system::error_code ec;
  json::value details = json::parse(e.details, ec);
  if (ec) details = e.details;
  return {{"id", e.id},
          {"actor_id", e.actor_id},
          {"action", e.action},
          {"target_type", e.target_type},
          {"target_id", e.target_id},
          {"details", details},
          {"created_at", e.created_at_ms}};
}

json::value Cursor(const std::string& c) { return c.empty() ? json::value(nullptr) : json::value(c); }

Result<auth::UserChange> ParseChange(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  auth::UserChange change;
  bool has_reason = false;
  for (const auto& kv : body.as_object()) {
    if (kv.key() == "role") {
      if (!kv.value().is_string()) return InvalidArgument("field 'role' must be a string");
      std::string_view name(kv.value().as_string().data(), kv.value().as_string().size());
      change.role = ParseRole(name);
      if (!change.role) return InvalidArgument("field 'role' must be one of user, moderator, admin, super_admin");
    } else if (kv.key() == "suspended") {
      if (!kv.value().is_bool()) return InvalidArgument("field 'suspended' must be true or false");
      change.suspended = kv.value().as_bool();
    } else if (kv.key() == "reason") {
      if (!kv.value().is_string()) return InvalidArgument("field 'reason' must be a string");
      const json::string& s = kv.value().as_string();
      if (s.size() > 4 * 500) return InvalidArgument("field 'reason' is longer than 500 characters");
      change.reason.assign(s.data(), s.size());
      has_reason = true;
    } else {
      return InvalidArgument("unknown field '" + std::string(kv.key().substr(0, 40)) + "'");
    }
  }
  if (!has_reason) return InvalidArgument("missing field 'reason'");
  return change;
}

StringResponse Private(StringResponse res) {
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

StringResponse Refused(const Error& e, const RequestContext& ctx) {
  StringResponse res = Problem(e, ctx);
  if (e.code == ErrorCode::kUnauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"veza\"");
  return res;
}

// A handler that runs action(ctx, principal) for callers of at least the minimum role.
template <typename Action>
Handler WithRole(auth::AuthService& auth, auth::AdminService& admin, asio::thread_pool& workers, Role minimum,
                 Action action) {
  return [&auth, &admin, &workers, minimum, action](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return RequireCurrentRole(auth, admin, ctx, minimum); });
    if (!who.ok()) co_return Refused(who.error(), ctx);
    co_return co_await action(ctx, who.value());
  };
}

json::object TakenDownTrackJson(const tracks::Track& t, const auth::Principal& who) {
  return TrackJson(t, tracks::Viewer{who.user_id, true}, std::nullopt);
}

}  // namespace

void AddAdminRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin, asio::thread_pool& workers) {
  auto with_role = [&](Role minimum, auto action) { return WithRole(auth, admin, workers, minimum, action); };

  router.Add(bhttp::verb::get, "/api/v1/admin/users",
             with_role(Role::kModerator, [&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"query", "cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               auth::UserListQuery q{QueryParam(*params, "query"), QueryParam(*params, "cursor"), *limit};
               auto page = co_await RunBlocking(workers, [&] { return admin.ListUsers(q); });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               json::array users;
               for (const User& u : page->users) users.push_back(AdminUserJson(u));
               co_return Private(Json(bhttp::status::ok, json::object{{"users", std::move(users)}, {"next_cursor", Cursor(page->next_cursor)}}, ctx.request));
             }));

  router.Add(bhttp::verb::patch, "/api/v1/admin/users/{id}",
             with_role(Role::kAdmin, [&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto change = ParseChange(ctx);
               if (!change.ok()) co_return Problem(change.error(), ctx);
               std::string target(ctx.Param("id"));
               auto updated = co_await RunBlocking(workers, [&] {
                 return admin.UpdateUser(who.user_id, target, *change, CheckUserChange);
               });
               if (!updated.ok()) co_return Problem(updated.error(), ctx);
               co_return Private(Json(bhttp::status::ok, AdminUserJson(updated.value()), ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/admin/errors",
             with_role(Role::kAdmin, [&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               if (!ctx.query.empty()) co_return Problem(InvalidArgument("this route takes no query parameters"), ctx);
               json::array errors;
               for (const std::string& line : log::RecentProblems()) {
                 boost::system::error_code ec;
                 json::value v = json::parse(line, ec);
                 if (!ec && v.is_object()) errors.push_back(std::move(v));
               }
               co_return Private(Json(bhttp::status::ok, json::object{{"errors", std::move(errors)}}, ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/admin/audit-log",
             with_role(Role::kAdmin, [&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               std::string cursor = QueryParam(*params, "cursor");
               auto page = co_await RunBlocking(workers, [&] { return admin.ListAuditLog(cursor, *limit); });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               json::array entries;
               for (const auto& e : page->entries) entries.push_back(AuditJson(e));
               co_return Private(Json(bhttp::status::ok, json::object{{"entries", std::move(entries)}, {"next_cursor", Cursor(page->next_cursor)}}, ctx.request));
             }));
}

void AddTrackTakedownRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                            moderation::TrackTakedowns& takedowns, asio::thread_pool& workers) {
  auto with_role = [&](Role minimum, auto action) { return WithRole(auth, admin, workers, minimum, action); };

  router.Add(bhttp::verb::get, "/api/v1/admin/tracks/takedowns",
             with_role(Role::kModerator, [&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               std::string cursor = QueryParam(*params, "cursor");
               auto page = co_await RunBlocking(workers, [&] { return takedowns.List(cursor, *limit); });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               json::array items;
               for (const tracks::Track& t : page->tracks) items.push_back(TakenDownTrackJson(t, who));
               co_return Private(Json(bhttp::status::ok, json::object{{"tracks", std::move(items)}, {"next_cursor", Cursor(page->next_cursor)}}, ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/admin/tracks/states",
             with_role(Role::kModerator, [&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               if (!ctx.query.empty()) co_return Problem(InvalidArgument("this route takes no query parameters"), ctx);
               auto counts = co_await RunBlocking(workers, [&] { return takedowns.CountStates(); });
               if (!counts.ok()) co_return Problem(counts.error(), ctx);
               co_return Private(Json(bhttp::status::ok,
                                      json::object{{"uploaded", counts->uploaded},
                                                   {"processing", counts->processing},
                                                   {"ready", counts->ready},
                                                   {"failed", counts->failed},
                                                   {"taken_down", counts->taken_down},
                                                   {"media_queue", counts->uploaded + counts->processing}},
                                      ctx.request));
             }));

  router.Add(bhttp::verb::post, "/api/v1/admin/tracks/{id}/takedown",
             with_role(Role::kModerator, [&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"reason", moderation::kMaxTakedownReasonBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               std::string id(ctx.Param("id"));
               const std::string& reason = (*fields)[0];
               auto track = co_await RunBlocking(workers, [&] { return takedowns.TakeDown(who.user_id, id, reason); });
               if (!track.ok()) co_return Problem(track.error(), ctx);
               co_return Private(Json(bhttp::status::ok, TakenDownTrackJson(*track, who), ctx.request));
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/admin/tracks/{id}/takedown",
             with_role(Role::kModerator, [&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto track = co_await RunBlocking(workers, [&] { return takedowns.Restore(who.user_id, id); });
               if (!track.ok()) co_return Problem(track.error(), ctx);
               co_return Private(Json(bhttp::status::ok, TakenDownTrackJson(*track, who), ctx.request));
             }));
}

}  // namespace veza::http
