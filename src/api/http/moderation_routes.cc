#include "api/http/moderation_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <map>

#include "api/http/auth_routes.h"
#include "api/http/authorization.h"
#include "api/http/query_params.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxReasonBytes = 500;

json::value OptionalMs(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value Cursor(const std::string& c) { return c.empty() ? json::value(nullptr) : json::value(c); }

json::object MessageJson(const moderation::ReportedMessage& m) {
  return {{"id", m.id}, {"seq", m.seq}, {"sender", m.sender_id}, {"body", m.body}, {"created_at", m.created_at}};
}

json::object ReportJson(const moderation::Report& r) {
  json::array context;
  for (const auto& m : r.context) context.push_back(MessageJson(m));
  return {{"id", r.id},
          {"status", r.status},
          {"reason", r.reason},
          {"created_at", r.created_at},
          {"room", json::object{{"id", r.room_id}, {"name", r.room_name}}},
          {"message", MessageJson(r.message)},
          {"message_deleted", r.message_deleted},
          {"context", std::move(context)},
          {"reporter", json::object{{"id", r.reporter_id}, {"username", r.reporter_name}}},
          {"reported_user", json::object{{"id", r.reported_user_id}, {"username", r.reported_user_name}}},
          {"resolution", r.resolution.empty() ? json::value(nullptr) : json::value(r.resolution)},
          {"resolved_by", r.resolved_by.empty() ? json::value(nullptr) : json::value(r.resolved_by)},
          {"resolved_at", OptionalMs(r.resolved_at)}};
}

json::object SanctionJson(const moderation::Sanction& s) {
  return {{"id", s.id},
          {"kind", moderation::SanctionKindName(s.kind)},
          {"user_id", s.user_id},
          {"room_id", s.room_id.empty() ? json::value(nullptr) : json::value(s.room_id)},
          {"global", s.room_id.empty()},
          {"reason", s.reason},
          {"created_by", s.created_by},
          {"created_at", s.created_at},
          {"expires_at", OptionalMs(s.expires_at)},
          {"lifted_at", OptionalMs(s.lifted_at)},
          {"lifted_by", s.lifted_by.empty() ? json::value(nullptr) : json::value(s.lifted_by)},
          {"active", s.active}};
}

json::object WordJson(const moderation::WordEntry& w) {
  return {{"id", w.id},
          {"word", w.word},
          {"action", moderation::WordActionName(w.action)},
          {"created_by", w.created_by},
          {"created_at", w.created_at}};
}

// The body as an object of only the allowed fields.
Result<json::object> BodyObject(const RequestContext& ctx, std::initializer_list<std::string_view> allowed) {
  VEZA_ASSIGN_OR_RETURN(json::value v, ParseJsonBody(ctx));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  for (const auto& kv : v.as_object()) {
    bool known = false;
    for (auto name : allowed) known = known || kv.key() == name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key().substr(0, 40)) + "'");
  }
  return std::move(v.as_object());
}

Result<std::string> StringField(const json::object& o, std::string_view name, std::size_t max, bool required) {
  auto it = o.find(name);
  if (it == o.end()) {
    if (required) return InvalidArgument("field '" + std::string(name) + "' is required");
    return std::string();
  }
  if (!it->value().is_string()) return InvalidArgument("field '" + std::string(name) + "' must be a string");
  if (it->value().as_string().size() > max) {
    return InvalidArgument("field '" + std::string(name) + "' is longer than " + std::to_string(max) + " bytes");
  }
  return std::string(it->value().as_string());
}

// Every action body: {action, reason, duration_seconds?, global?, user_id?, room_id?}.
Result<moderation::Action> ParseAction(const json::object& o, bool direct) {
  moderation::Action a;
  VEZA_ASSIGN_OR_RETURN(std::string kind, StringField(o, "action", 32, true));
  VEZA_ASSIGN_OR_RETURN(a.kind, moderation::ParseActionKind(kind));
  VEZA_ASSIGN_OR_RETURN(a.reason, StringField(o, "reason", kMaxReasonBytes, true));
  if (direct) {
    VEZA_ASSIGN_OR_RETURN(a.user_id, StringField(o, "user_id", 64, true));
    VEZA_ASSIGN_OR_RETURN(a.room_id, StringField(o, "room_id", 64, false));
  }
  if (auto it = o.find("duration_seconds"); it != o.end()) {
    if (!it->value().is_int64() || it->value().as_int64() < 1) {
      return InvalidArgument("field 'duration_seconds' must be a positive integer");
    }
    a.duration = std::chrono::seconds(it->value().as_int64());
  }
  if (auto it = o.find("global"); it != o.end()) {
    if (!it->value().is_bool()) return InvalidArgument("field 'global' must be true or false");
    a.global = it->value().as_bool();
  }
  return a;
}


StringResponse Private(StringResponse res) {
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

// The `active` query parameter of sanction lists: true unless "false".
Result<bool> ActiveOnly(const std::map<std::string, std::string>& params) {
  std::string active = params.count("active") ? QueryParam(params, "active") : "true";
  if (active != "true" && active != "false") return InvalidArgument("active must be true or false");
  return active == "true";
}

StringResponse SanctionPageResponse(const moderation::SanctionPage& page, const RequestContext& ctx) {
  json::array sanctions;
  for (const auto& s : page.sanctions) sanctions.push_back(SanctionJson(s));
  return Private(Json(bhttp::status::ok,
                      json::object{{"sanctions", std::move(sanctions)}, {"next_cursor", Cursor(page.next_cursor)}},
                      ctx.request));
}

StringResponse Refused(const Error& e, const RequestContext& ctx) {
  StringResponse res = Problem(e, ctx);
  if (e.code == ErrorCode::kUnauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"veza\"");
  return res;
}

// Global sanctions need admin; and nobody sanctions someone of their own rank or above
// (a moderator does not mute another moderator or an admin), super_admin excepted.
Status CheckActionAllowed(auth::AdminService& admin, const auth::Principal& who, const moderation::Action& a) {
  bool sanctions_user = a.kind == moderation::ActionKind::kMute || a.kind == moderation::ActionKind::kKick ||
                        a.kind == moderation::ActionKind::kBan;
  if (!sanctions_user) return Ok();
  if (a.global) {
    VEZA_TRY(Require(who, Role::kAdmin));
  }
  if (a.user_id.empty() || who.role == Role::kSuperAdmin) return Ok();
  auto target = admin.CurrentUser(a.user_id);
  if (!target.ok()) return target.error().code == ErrorCode::kNotFound ? Ok() : Status(target.error());
  if (static_cast<int>(target->role) >= static_cast<int>(who.role)) {
    return Error{ErrorCode::kPermissionDenied, "staff of your rank or above are not sanctioned by you"};
  }
  return Ok();
}

}  // namespace

void AddModerationRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                         moderation::ModerationService& moderation, asio::thread_pool& workers) {
  auto moderator = [&](auto action) {
    return [&auth, &admin, &workers, action](RequestContext& ctx) -> asio::awaitable<Response> {
      auto who = co_await RunBlocking(workers, [&] { return RequireCurrentRole(auth, admin, ctx, Role::kModerator); });
      if (!who.ok()) co_return Refused(who.error(), ctx);
      co_return co_await action(ctx, who.value());
    };
  };

  // Any signed-in user reports a message they can read.
  router.Add(bhttp::verb::post, "/api/v1/moderation/reports", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto body = BodyObject(ctx, {"message_id", "reason"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    auto message_id = StringField(*body, "message_id", 64, true);
    auto reason = StringField(*body, "reason", kMaxReasonBytes, true);
    if (!message_id.ok()) co_return Problem(message_id.error(), ctx);
    if (!reason.ok()) co_return Problem(reason.error(), ctx);
    auto report = co_await RunBlocking(workers, [&] { return moderation.ReportMessage(who->user_id, *message_id, *reason); });
    if (!report.ok()) co_return Problem(report.error(), ctx);
    // The reporter sees their report, not the moderators' view of it.
    co_return Private(Json(bhttp::status::created,
                           json::object{{"id", report->id},
                                        {"message_id", report->message_id},
                                        {"reason", report->reason},
                                        {"status", report->status},
                                        {"created_at", report->created_at}},
                           ctx.request));
  });

  router.Add(bhttp::verb::get, "/api/v1/moderation/reports",
             moderator([&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"status", "cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               std::string status = params->count("status") ? QueryParam(*params, "status") : "open";
               if (status == "all") status.clear();
               std::string cursor = QueryParam(*params, "cursor");
               auto page = co_await RunBlocking(workers, [&] { return moderation.ListReports(status, cursor, *limit); });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               json::array reports;
               for (const auto& r : page->reports) reports.push_back(ReportJson(r));
               co_return Private(Json(bhttp::status::ok,
                                      json::object{{"reports", std::move(reports)},
                                                   {"next_cursor", Cursor(page->next_cursor)}},
                                      ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/moderation/reports/{id}",
             moderator([&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto report = co_await RunBlocking(workers, [&] { return moderation.GetReport(id); });
               if (!report.ok()) co_return Problem(report.error(), ctx);
               co_return Private(Json(bhttp::status::ok, ReportJson(*report), ctx.request));
             }));

  router.Add(bhttp::verb::post, "/api/v1/moderation/reports/{id}/resolve",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto body = BodyObject(ctx, {"action", "reason", "duration_seconds", "global"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auto action = ParseAction(*body, false);
               if (!action.ok()) co_return Problem(action.error(), ctx);
               std::string id(ctx.Param("id"));
               auto report = co_await RunBlocking(workers, [&]() -> Result<moderation::Report> {
                 VEZA_ASSIGN_OR_RETURN(auto current, moderation.GetReport(id));
                 moderation::Action checked = *action;
                 checked.user_id = current.reported_user_id;
                 VEZA_TRY(CheckActionAllowed(admin, who, checked));
                 return moderation.ResolveReport(who.user_id, id, *action);
               });
               if (!report.ok()) co_return Problem(report.error(), ctx);
               co_return Private(Json(bhttp::status::ok, ReportJson(*report), ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/moderation/sanctions",
             moderator([&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"kind", "active", "user_id", "cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               std::optional<moderation::SanctionKind> kind;
               std::string kind_name = QueryParam(*params, "kind");
               if (kind_name == "mute") kind = moderation::SanctionKind::kMute;
               else if (kind_name == "ban") kind = moderation::SanctionKind::kBan;
               else if (!kind_name.empty()) co_return Problem(InvalidArgument("kind must be mute or ban"), ctx);
               auto active = ActiveOnly(*params);
               if (!active.ok()) co_return Problem(active.error(), ctx);
               std::string user = QueryParam(*params, "user_id"), cursor = QueryParam(*params, "cursor");
               auto page = co_await RunBlocking(workers, [&] {
                 return moderation.ListSanctions(kind, *active, user, cursor, *limit);
               });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               co_return SanctionPageResponse(*page, ctx);
             }));

  router.Add(bhttp::verb::post, "/api/v1/moderation/sanctions",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto body = BodyObject(ctx, {"action", "reason", "duration_seconds", "global", "user_id", "room_id"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auto action = ParseAction(*body, true);
               if (!action.ok()) co_return Problem(action.error(), ctx);
               auto sanction = co_await RunBlocking(workers, [&]() -> Result<std::optional<moderation::Sanction>> {
                 VEZA_TRY(CheckActionAllowed(admin, who, *action));
                 return moderation.Apply(who.user_id, *action);
               });
               if (!sanction.ok()) co_return Problem(sanction.error(), ctx);
               if (!sanction->has_value()) co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
               co_return Private(Json(bhttp::status::created, SanctionJson(**sanction), ctx.request));
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/moderation/sanctions/{id}",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"reason", kMaxReasonBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               std::string id(ctx.Param("id"));
               auto lifted = co_await RunBlocking(workers, [&] { return moderation.Lift(who.user_id, id, (*fields)[0]); });
               if (!lifted.ok()) co_return Problem(lifted.error(), ctx);
               co_return Private(Json(bhttp::status::ok, SanctionJson(*lifted), ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/moderation/words",
             moderator([&](RequestContext& ctx, auth::Principal) -> asio::awaitable<Response> {
               auto words = co_await RunBlocking(workers, [&] { return moderation.ListWords(); });
               if (!words.ok()) co_return Problem(words.error(), ctx);
               json::array out;
               for (const auto& w : *words) out.push_back(WordJson(w));
               co_return Private(Json(bhttp::status::ok, json::object{{"words", std::move(out)}}, ctx.request));
             }));

  router.Add(bhttp::verb::post, "/api/v1/moderation/words",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"word", 256}, {"action", 16}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto action = moderation::ParseWordAction((*fields)[1]);
               if (!action.ok()) co_return Problem(action.error(), ctx);
               auto word = co_await RunBlocking(workers, [&] { return moderation.AddWord(who.user_id, (*fields)[0], *action); });
               if (!word.ok()) co_return Problem(word.error(), ctx);
               co_return Private(Json(bhttp::status::created, WordJson(*word), ctx.request));
             }));

  router.Add(bhttp::verb::patch, "/api/v1/moderation/words/{id}",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"action", 16}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto action = moderation::ParseWordAction((*fields)[0]);
               if (!action.ok()) co_return Problem(action.error(), ctx);
               std::string id(ctx.Param("id"));
               auto word = co_await RunBlocking(workers, [&] { return moderation.UpdateWord(who.user_id, id, *action); });
               if (!word.ok()) co_return Problem(word.error(), ctx);
               co_return Private(Json(bhttp::status::ok, WordJson(*word), ctx.request));
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/moderation/words/{id}",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto st = co_await RunBlocking(workers, [&] { return moderation.DeleteWord(who.user_id, id); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/moderation/messages/{id}",
             moderator([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"reason", kMaxReasonBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               std::string id(ctx.Param("id"));
               auto st = co_await RunBlocking(workers, [&] { return moderation.DeleteMessage(who.user_id, id, (*fields)[0]); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             }));

  // ---- per-room staff: a room's owner and moderators in their room (site staff too) ----
  auto signed_in = [&](auto action) {
    return [&auth, &workers, action](RequestContext& ctx) -> asio::awaitable<Response> {
      auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
      if (!who.ok()) co_return AuthProblem(who.error(), ctx);
      co_return co_await action(ctx, who.value());
    };
  };

  router.Add(bhttp::verb::post, "/api/v1/chat/rooms/{id}/sanctions",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto body = BodyObject(ctx, {"action", "reason", "duration_seconds", "user_id"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auto action = ParseAction(*body, true);
               if (!action.ok()) co_return Problem(action.error(), ctx);
               std::string room(ctx.Param("id"));
               auto sanction = co_await RunBlocking(workers, [&] { return moderation.ModerateRoom(who.user_id, room, *action); });
               if (!sanction.ok()) co_return Problem(sanction.error(), ctx);
               if (!sanction->has_value()) co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
               co_return Private(Json(bhttp::status::created, SanctionJson(**sanction), ctx.request));
             }));

  router.Add(bhttp::verb::get, "/api/v1/chat/rooms/{id}/sanctions",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto params = QueryParams(ctx.query, {"active", "cursor", "limit"});
               if (!params.ok()) co_return Problem(params.error(), ctx);
               auto limit = QueryLimit(*params);
               if (!limit.ok()) co_return Problem(limit.error(), ctx);
               auto active = ActiveOnly(*params);
               if (!active.ok()) co_return Problem(active.error(), ctx);
               std::string room(ctx.Param("id")), cursor = QueryParam(*params, "cursor");
               auto page = co_await RunBlocking(workers, [&] {
                 return moderation.ListRoomSanctions(who.user_id, room, *active, cursor, *limit);
               });
               if (!page.ok()) co_return Problem(page.error(), ctx);
               co_return SanctionPageResponse(*page, ctx);
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/chat/rooms/{id}/sanctions/{sanction_id}",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"reason", kMaxReasonBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               std::string room(ctx.Param("id")), id(ctx.Param("sanction_id"));
               auto lifted = co_await RunBlocking(workers, [&] {
                 return moderation.LiftInRoom(who.user_id, room, id, (*fields)[0]);
               });
               if (!lifted.ok()) co_return Problem(lifted.error(), ctx);
               co_return Private(Json(bhttp::status::ok, SanctionJson(*lifted), ctx.request));
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/chat/rooms/{id}/messages/{message_id}",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"reason", kMaxReasonBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               std::string room(ctx.Param("id")), id(ctx.Param("message_id"));
               auto st = co_await RunBlocking(workers, [&] {
                 return moderation.DeleteRoomMessage(who.user_id, room, id, (*fields)[0]);
               });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             }));
}

}  // namespace veza::http
