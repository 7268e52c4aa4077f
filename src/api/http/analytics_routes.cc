#include "api/http/analytics_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <algorithm>
#include <charconv>

#include "api/http/query_params.h"
#include "api/http/track_routes.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;
using analytics::AnalyticsService;
using tracks::Viewer;

namespace {

// A play event is a few short fields; anything larger is not one.
constexpr std::size_t kMaxEventBytes = 1024;
constexpr std::int64_t kMaxPositionMs = 24LL * 3600 * 1000;

Result<analytics::DayRange> ParseRangeQuery(std::string_view query, std::int64_t today) {
  VEZA_ASSIGN_OR_RETURN(auto params, QueryParams(query, {"from", "to"}));
  std::string from = params.count("from") ? params["from"] : "";
  std::string to = params.count("to") ? params["to"] : "";
  return analytics::ParseRange(from, to, today);
}

json::object RangeJson(const analytics::DayRange& r) {
  return {{"from", analytics::DayString(r.from)}, {"to", analytics::DayString(r.to)}};
}

json::object DayJson(const analytics::DailyPlays& d) {
  return json::object{{"date", analytics::DayString(d.day)},
          {"plays", d.plays},
          {"qualified_plays", d.qualified_plays},
          {"listeners", d.listeners},
          {"completions", d.completions},
          {"views", d.views},
          {"likes", d.likes},
          {"reposts", d.reposts},
          {"comments", d.comments}};
}

json::object TotalsJson(const analytics::Totals& t) {
  return {{"plays", t.plays},       {"qualified_plays", t.qualified_plays},
          {"listeners", t.listeners}, {"completions", t.completions},
          {"views", t.views},       {"likes", t.likes},
          {"reposts", t.reposts},   {"comments", t.comments}};
}

json::array CountriesJson(const std::vector<analytics::CountryCount>& countries) {
  json::array out;
  for (const auto& c : countries) out.push_back(json::object{{"country", c.country}, {"plays", c.plays}});
  return out;
}

// Creator figures add the profile's views to each day and to the totals.
json::array DaysJson(const std::vector<analytics::DailyPlays>& days, bool profile_views = false) {
  json::array out;
  for (const auto& d : days) {
    json::object day = DayJson(d);
    if (profile_views) day["profile_views"] = d.profile_views;
    out.push_back(std::move(day));
  }
  return out;
}

// A report's body: a JSON object of at most kMaxEventBytes (what: "a play event").
Result<json::value> ReportBody(const RequestContext& ctx, std::string_view what) {
  if (ctx.request.body().size() > kMaxEventBytes)
    return Error{ErrorCode::kPayloadTooLarge, std::string(what) + " is at most 1024 bytes"};
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  return body;
}

Result<analytics::PlayEvent> ParseEvent(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ReportBody(ctx, "a play event"));
  analytics::PlayEvent e;
  bool has_kind = false, has_session = false;
  for (const auto& [key, value] : body.as_object()) {
    if (key == "kind") {
      auto kind = value.is_string() ? analytics::ParseEventKind(std::string_view(value.as_string().data(),
                                                                                  value.as_string().size()))
                                    : std::nullopt;
      // Profile views have their own endpoint.
      if (!kind || *kind == analytics::EventKind::kProfileView)
        return InvalidArgument("field 'kind' must be start, progress, complete, skip or view");
      e.kind = *kind;
      has_kind = true;
    } else if (key == "session_id") {
      if (!value.is_string()) return InvalidArgument("field 'session_id' must be a string");
      e.session_id = std::string(value.as_string().data(), value.as_string().size());
      VEZA_TRY(analytics::ValidateSessionId(e.session_id));
      has_session = true;
    } else if (key == "position_ms") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > kMaxPositionMs)
        return InvalidArgument("field 'position_ms' must be an integer from 0 to 86400000");
      e.position_ms = value.as_int64();
    } else {
      return InvalidArgument("unknown field '" + std::string(key.data(), std::min<std::size_t>(key.size(), 40)) + "'");
    }
  }
  if (!has_kind || !has_session) return InvalidArgument("fields 'kind' and 'session_id' are required");
  return e;
}

// A profile view: {"session_id": "<a fresh id per page view>"}.
Result<std::string> ParseProfileView(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ReportBody(ctx, "a view"));
  std::string session_id;
  for (const auto& [key, value] : body.as_object()) {
    if (key != "session_id")
      return InvalidArgument("unknown field '" + std::string(key.data(), std::min<std::size_t>(key.size(), 40)) + "'");
    if (!value.is_string()) return InvalidArgument("field 'session_id' must be a string");
    session_id = std::string(value.as_string().data(), value.as_string().size());
  }
  if (session_id.empty()) return InvalidArgument("field 'session_id' is required");
  VEZA_TRY(analytics::ValidateSessionId(session_id));
  return session_id;
}

// Who is listening or viewing: the account, or an anonymous key of the address and browser.
std::string ListenerOf(const AnalyticsService& analytics, const Viewer& viewer, const RequestContext& ctx) {
  return analytics.ListenerKey(viewer.user_id, ctx.remote_address,
                               std::string_view(ctx.request[bhttp::field::user_agent]).substr(0, 200));
}

Response NoContent(const RequestContext& ctx, bhttp::status status) {
  StringResponse res{status, ctx.request.version()};
  res.keep_alive(ctx.request.keep_alive());
  return res;
}

StringResponse PrivateJson(const json::value& body, const RequestContext& ctx) {
  auto res = Json(bhttp::status::ok, body, ctx.request);
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

}  // namespace

void AddAnalyticsRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                        tracks::TrackService& tracks, AnalyticsService& analytics,
                        asio::thread_pool& workers) {
  // Players report what happens; the numbers are made from the queue, so this answers 202.
  router.Add(bhttp::verb::post, "/api/v1/tracks/{id}/play-events",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto result = co_await RunBlocking(workers, [&]() -> Status {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(analytics::PlayEvent e, ParseEvent(ctx));
                 VEZA_ASSIGN_OR_RETURN(tracks::Track track, tracks.Get(viewer, id));
                 if (!tracks::TrackService::MayPlay(viewer, track))
                   return Conflict("the track is not ready to play");
                 // Owners looking at their own page are no audience; their plays still count.
                 if (e.kind == analytics::EventKind::kView && track.owner_id == viewer.user_id) return Ok();
                 e.track_id = track.id;
                 e.duration_ms = track.format.duration_ms;
                 if (e.position_ms > e.duration_ms && e.duration_ms > 0) e.position_ms = e.duration_ms;
                 e.listener = ListenerOf(analytics, viewer, ctx);
                 if (!analytics.options().country_header.empty()) {
                   e.country = analytics::NormalizeCountry(ctx.request[analytics.options().country_header]);
                 }
                 e.at_ms = analytics.NowMs();
                 return analytics.Submit(e);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return NoContent(ctx, bhttp::status::accepted);
             });

  // Profile pages report a view; the owner's own views are accepted and not counted.
  router.Add(bhttp::verb::post, "/api/v1/users/{username}/views",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string username(ctx.Param("username"));
               auto result = co_await RunBlocking(workers, [&]() -> Status {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(std::string session_id, ParseProfileView(ctx));
                 VEZA_ASSIGN_OR_RETURN(auth::Account profile, auth.PublicProfile(username));
                 if (profile.user.id == viewer.user_id) return Ok();
                 analytics::PlayEvent e;
                 e.kind = analytics::EventKind::kProfileView;
                 e.session_id = std::move(session_id);
                 e.profile_id = profile.user.id;
                 e.listener = ListenerOf(analytics, viewer, ctx);
                 e.at_ms = analytics.NowMs();
                 return analytics.Submit(e);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return NoContent(ctx, bhttp::status::accepted);
             });

  router.Add(bhttp::verb::get, "/api/v1/analytics/tracks/{id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(analytics::DayRange range,
                                       ParseRangeQuery(ctx.query, analytics::DayOf(analytics.NowMs())));
                 VEZA_ASSIGN_OR_RETURN(tracks::Track track, tracks.Get(viewer, id));
                 if (track.owner_id != viewer.user_id) {
                   // A private track's figures are its owner's alone: to others it does not exist.
                   if (track.visibility == tracks::Visibility::kPrivate) return NotFound("no such track");
                   if (!viewer.moderator)
                     return Error{ErrorCode::kPermissionDenied, "only the track's owner or a moderator may read its stats"};
                 }
                 VEZA_ASSIGN_OR_RETURN(analytics::TrackStats s, analytics.ForTrack(track.id, range));
                 json::array retention;
                 for (const auto& b : s.retention) {
                   retention.push_back(json::object{
                       {"start_ms", b.start_ms}, {"end_ms", b.end_ms}, {"stops", b.stops}, {"reached", b.reached}});
                 }
                 return json::object{{"track_id", track.id},
                                     {"range", RangeJson(s.range)},
                                     {"totals", TotalsJson(s.totals)},
                                     {"days", DaysJson(s.days)},
                                     {"retention", std::move(retention)},
                                     {"completed", s.completed},
                                     {"countries", CountriesJson(s.countries)}};
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return PrivateJson(*result, ctx);
             });

  router.Add(bhttp::verb::get, "/api/v1/analytics/me",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(analytics::DayRange range,
                                       ParseRangeQuery(ctx.query, analytics::DayOf(analytics.NowMs())));
                 VEZA_ASSIGN_OR_RETURN(analytics::CreatorStats s, analytics.ForOwner(viewer.user_id, range));
                 json::array top;
                 for (const auto& t : s.top_tracks) {
                   top.push_back(json::object{
                       {"id", t.id}, {"title", t.title}, {"plays", t.plays}, {"qualified_plays", t.qualified_plays}});
                 }
                 json::object totals = TotalsJson(s.totals);
                 totals["profile_views"] = s.totals.profile_views;
                 return json::object{{"range", RangeJson(s.range)},
                                     {"totals", std::move(totals)},
                                     {"days", DaysJson(s.days, true)},
                                     {"top_tracks", std::move(top)},
                                     {"countries", CountriesJson(s.countries)}};
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return PrivateJson(*result, ctx);
             });

  router.Add(bhttp::verb::get, "/api/v1/admin/stats",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 if (!viewer.moderator)
                   return Error{ErrorCode::kPermissionDenied, "instance statistics are for moderators"};
                 VEZA_ASSIGN_OR_RETURN(analytics::DayRange range,
                                       ParseRangeQuery(ctx.query, analytics::DayOf(analytics.NowMs())));
                 VEZA_ASSIGN_OR_RETURN(analytics::AdminStats s, analytics.ForInstance(range));
                 json::array days;
                 for (const auto& d : s.days) {
                   days.push_back(json::object{{"date", analytics::DayString(d.day)},
                                               {"new_users", d.new_users},
                                               {"uploads", d.uploads},
                                               {"plays", d.plays},
                                               {"messages", d.messages}});
                 }
                 return json::object{{"range", RangeJson(s.range)},
                                     {"users", s.users},
                                     {"tracks", s.tracks},
                                     {"plays", s.plays},
                                     {"messages", s.messages},
                                     {"storage_bytes", s.storage_bytes},
                                     {"days", std::move(days)}};
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return PrivateJson(*result, ctx);
             });
}

}  // namespace veza::http
