#include "api/http/social_routes.h"

#include <boost/json/array.hpp>
#include <charconv>
#include <functional>
#include <map>

#include "api/http/query_params.h"
#include "api/http/track_routes.h"
#include "base/blocking.h"
#include "base/ids.h"
#include "services/social/playlist_cover_service.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;
using social::SocialService;
using tracks::Track;
using tracks::Viewer;

namespace {

struct Page {
  std::string cursor;
  int limit = 20;
  std::map<std::string, std::string> params;
};

Result<Page> ParsePage(std::string_view query, std::initializer_list<std::string_view> allowed) {
  VEZA_ASSIGN_OR_RETURN(auto params, QueryParams(query, allowed));
  Page p;
  if (auto it = params.find("cursor"); it != params.end()) {
    if (it->second.size() > 100) return InvalidArgument("malformed cursor");
    p.cursor = it->second;
  }
  if (auto it = params.find("limit"); it != params.end()) {
    const std::string& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p.limit);
    if (ec != std::errc() || end != v.data() + v.size() || p.limit < 1 || p.limit > 100)
      return InvalidArgument("limit must be an integer from 1 to 100");
  }
  p.params = std::move(params);
  return p;
}

json::value Cursor(const std::string& c) { return c.empty() ? json::value(nullptr) : json::value(c); }

json::object UserJson(const social::UserRef& u) {
  return {{"id", u.id}, {"username", u.username}, {"display_name", u.display_name}};
}

json::object CountsJson(const social::TrackCounts& c) {
  return {{"likes", c.likes},   {"reposts", c.reposts},   {"comments", c.comments},
          {"plays", c.plays},   {"liked", c.liked},       {"reposted", c.reposted}};
}

json::object CommentJson(const social::Comment& c) {
  return {{"id", c.id},
          {"track_id", c.track_id},
          {"author", UserJson(c.author)},
          {"reply_to", c.reply_to ? json::value(*c.reply_to) : json::value(nullptr)},
          {"body", c.body},
          {"at_ms", c.at_ms},
          {"created_at", c.created_at_ms},
          {"edited_at", c.edited_at_ms ? json::value(*c.edited_at_ms) : json::value(nullptr)}};
}

Result<json::object> PlaylistJson(SocialService& social, const social::Playlist& p,
                                  const Viewer& viewer) {
  VEZA_ASSIGN_OR_RETURN(std::int64_t count, social.VisibleItemCount(viewer, p.id));
  VEZA_ASSIGN_OR_RETURN(bool may_edit, social.MayEditItems(viewer, p));
  json::object o{{"id", p.id},
                 {"owner", UserJson(p.owner)},
                 {"title", p.title},
                 {"description", p.description},
                 {"visibility", p.is_public ? "public" : "private"},
                 {"collaborative", p.collaborative},
                 {"track_count", count},
                 {"may_edit", may_edit},
                 {"created_at", p.created_at_ms},
                 {"updated_at", p.updated_at_ms}};
  if (p.cover_hash) o["cover_url"] = social::PlaylistCoverUrl(p.id, *p.cover_hash);
  return o;
}

Result<json::object> BodyObject(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  return std::move(body.as_object());
}

Result<std::string> StringField(const json::value& v, std::string_view name) {
  if (!v.is_string()) return InvalidArgument("field '" + std::string(name) + "' must be a string");
  return std::string(v.as_string().data(), v.as_string().size());
}

Result<bool> BoolField(const json::value& v, std::string_view name) {
  if (!v.is_bool()) return InvalidArgument("field '" + std::string(name) + "' must be a boolean");
  return v.as_bool();
}

Result<std::int64_t> IntField(const json::value& v, std::string_view name, std::int64_t min,
                              std::int64_t max) {
  if (!v.is_int64() || v.as_int64() < min || v.as_int64() > max)
    return InvalidArgument("field '" + std::string(name) + "' must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max));
  return v.as_int64();
}

Error UnknownField(std::string_view k) {
  return InvalidArgument("unknown field '" + std::string(k.substr(0, 40)) + "'");
}

Result<bool> VisibilityField(const json::value& v) {
  VEZA_ASSIGN_OR_RETURN(std::string s, StringField(v, "visibility"));
  if (s == "public") return true;
  if (s == "private") return false;
  return InvalidArgument("field 'visibility' must be public or private");
}

StringResponse Private(StringResponse res) {
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

// What a handler does on the worker pool: the viewer is resolved first (401 for a bad token, or
// for none when the route needs one). A null value answers 204.
using Work = std::function<Result<json::value>(RequestContext&, const Viewer&)>;

struct Endpoints {
  auth::AuthService& auth;
  auth::AdminService& admin;
  asio::thread_pool& workers;

  // Captures the services by reference (they outlive the router), never this.
  Handler Make(bool signed_in, bhttp::status ok_status, Work work) const {
    return [&auth = auth, &admin = admin, &workers = workers, signed_in, ok_status,
            work = std::move(work)](RequestContext& ctx) -> asio::awaitable<Response> {
      auto result = co_await RunBlocking(workers, [&]() -> Result<json::value> {
        VEZA_ASSIGN_OR_RETURN(Viewer viewer, signed_in ? RequiredViewer(auth, admin, ctx)
                                                       : OptionalViewer(auth, admin, ctx));
        return work(ctx, viewer);
      });
      if (!result.ok()) co_return AuthProblem(result.error(), ctx);
      if (result->is_null()) {
        StringResponse res{bhttp::status::no_content, ctx.request.version()};
        res.keep_alive(ctx.request.keep_alive());
        co_return res;
      }
      // A created resource names its URL in "_location", which becomes the Location header.
      std::string location;
      if (result->is_object()) {
        if (auto* loc = result->as_object().if_contains("_location")) {
          location = std::string(loc->as_string());
          result->as_object().erase("_location");
        }
      }
      auto res = Private(Json(ok_status, *result, ctx.request));
      if (!location.empty()) res.set(bhttp::field::location, location);
      co_return res;
    };
  }
};

}  // namespace

Result<json::object> ProfileCountersJson(SocialService& social, std::string_view user_id, std::string_view viewer_id) {
  VEZA_ASSIGN_OR_RETURN(social::ProfileCounts c, social.Counts(user_id));
  bool followed = false;
  if (!viewer_id.empty() && viewer_id != user_id) {
    VEZA_ASSIGN_OR_RETURN(followed, social.IsFollowing(viewer_id, user_id));
  }
  return json::object{{"followers", c.followers}, {"following", c.following}, {"tracks", c.tracks},
                      {"plays", c.plays},         {"likes", c.likes},         {"followed_by_me", followed}};
}

void AddSocialRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     tracks::TrackService& tracks, SocialService& social,
                     asio::thread_pool& workers) {
  const Endpoints endpoints{auth, admin, workers};
  const Endpoints* ep = &endpoints;
  const auto ok = bhttp::status::ok;
  const auto created = bhttp::status::created;

  auto track_json = [&tracks](const Track& t, const Viewer& viewer) {
    return TrackJson(t, viewer, tracks.StreamToken(viewer, t));
  };
  auto follow_page = [](const social::FollowPage& page) -> json::value {
    json::array users;
    for (const auto& f : page.users) {
      json::object o = UserJson(f.user);
      o["since"] = f.since_ms;
      users.push_back(std::move(o));
    }
    return json::value(json::object{{"users", std::move(users)}, {"next_cursor", Cursor(page.next_cursor)}});
  };

  // --- follows ---
  router.Add(bhttp::verb::put, "/api/v1/users/{username}/follow",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_TRY(social.Follow(v, ctx.Param("username")));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::delete_, "/api/v1/users/{username}/follow",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_TRY(social.Unfollow(v, ctx.Param("username")));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::get, "/api/v1/users/{username}/followers",
             ep->Make(false, ok, [&social, follow_page](RequestContext& ctx, const Viewer&) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.Followers(ctx.Param("username"), p.cursor, p.limit));
               return follow_page(page);
             }));
  router.Add(bhttp::verb::get, "/api/v1/users/{username}/following",
             ep->Make(false, ok, [&social, follow_page](RequestContext& ctx, const Viewer&) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.Following(ctx.Param("username"), p.cursor, p.limit));
               return follow_page(page);
             }));

  // --- likes and reposts ---
  for (bool on : {true, false}) {
    router.Add(on ? bhttp::verb::put : bhttp::verb::delete_, "/api/v1/tracks/{id}/like",
               ep->Make(true, ok, [&social, on](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
                 VEZA_ASSIGN_OR_RETURN(auto counts, social.SetLike(v, ctx.Param("id"), on));
                 json::object o = CountsJson(counts);
                 o["liked"] = on;
                 return json::value(std::move(o));
               }));
    router.Add(on ? bhttp::verb::put : bhttp::verb::delete_, "/api/v1/tracks/{id}/repost",
               ep->Make(true, ok, [&social, on](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
                 VEZA_ASSIGN_OR_RETURN(auto counts, social.SetRepost(v, ctx.Param("id"), on));
                 json::object o = CountsJson(counts);
                 o["reposted"] = on;
                 return json::value(std::move(o));
               }));
  }
  router.Add(bhttp::verb::get, "/api/v1/tracks/{id}/stats",
             ep->Make(false, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(auto counts, social.TrackStats(v, ctx.Param("id")));
               return json::value(CountsJson(counts));
             }));
  router.Add(bhttp::verb::get, "/api/v1/users/{username}/likes",
             ep->Make(false, ok, [&social, track_json](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.Likes(v, ctx.Param("username"), p.cursor, p.limit));
               json::array items;
               for (const Track& t : page.first) items.push_back(track_json(t, v));
               return json::value(json::object{{"tracks", std::move(items)}, {"next_cursor", Cursor(page.second)}});
             }));

  // --- comments ---
  router.Add(bhttp::verb::post, "/api/v1/tracks/{id}/comments",
             ep->Make(true, created, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               social::NewComment n;
               bool has_body = false, has_at = false;
               for (const auto& kv : body) {
                 std::string_view k = kv.key();
                 if (k == "body") {
                   VEZA_ASSIGN_OR_RETURN(n.body, StringField(kv.value(), k));
                   has_body = true;
                 } else if (k == "at_ms") {
                   VEZA_ASSIGN_OR_RETURN(n.at_ms, IntField(kv.value(), k, 0, 1LL << 40));
                   has_at = true;
                 } else if (k == "reply_to") {
                   if (!kv.value().is_null()) {
                     VEZA_ASSIGN_OR_RETURN(std::string r, StringField(kv.value(), k));
                     if (!IsUuid(r)) return InvalidArgument("field 'reply_to' must be a comment id");
                     n.reply_to = r;
                   }
                 } else {
                   return UnknownField(k);
                 }
               }
               if (!has_body) return InvalidArgument("missing field 'body'");
               if (!has_at) return InvalidArgument("missing field 'at_ms'");
               VEZA_ASSIGN_OR_RETURN(social::Comment c, social.AddComment(v, ctx.Param("id"), n));
               json::object o = CommentJson(c);
               o["_location"] = "/api/v1/comments/" + c.id;
               return json::value(std::move(o));
             }));
  router.Add(bhttp::verb::get, "/api/v1/tracks/{id}/comments",
             ep->Make(false, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit", "sort"}));
               social::CommentOrder order = social::CommentOrder::kByTime;
               if (auto it = p.params.find("sort"); it != p.params.end()) {
                 if (it->second == "newest")
                   order = social::CommentOrder::kNewest;
                 else if (it->second != "time")
                   return InvalidArgument("sort must be time or newest");
               }
               VEZA_ASSIGN_OR_RETURN(auto page, social.Comments(v, ctx.Param("id"), order, p.cursor, p.limit));
               json::array items;
               for (const auto& c : page.comments) items.push_back(CommentJson(c));
               return json::value(json::object{{"comments", std::move(items)}, {"next_cursor", Cursor(page.next_cursor)}});
             }));
  router.Add(bhttp::verb::patch, "/api/v1/comments/{id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               std::optional<std::string> text;
               for (const auto& kv : body) {
                 if (kv.key() != "body") return UnknownField(kv.key());
                 VEZA_ASSIGN_OR_RETURN(text, StringField(kv.value(), "body"));
               }
               if (!text) return InvalidArgument("missing field 'body'");
               VEZA_ASSIGN_OR_RETURN(social::Comment c, social.EditComment(v, ctx.Param("id"), *text));
               return json::value(CommentJson(c));
             }));
  router.Add(bhttp::verb::delete_, "/api/v1/comments/{id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_TRY(social.DeleteComment(v, ctx.Param("id")));
               return json::value(nullptr);
             }));

  // --- playlists ---
  router.Add(bhttp::verb::post, "/api/v1/playlists",
             ep->Make(true, created, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               social::NewPlaylist n;
               bool has_title = false;
               for (const auto& kv : body) {
                 std::string_view k = kv.key();
                 if (k == "title") {
                   VEZA_ASSIGN_OR_RETURN(n.title, StringField(kv.value(), k));
                   has_title = true;
                 } else if (k == "description") {
                   VEZA_ASSIGN_OR_RETURN(n.description, StringField(kv.value(), k));
                 } else if (k == "visibility") {
                   VEZA_ASSIGN_OR_RETURN(n.is_public, VisibilityField(kv.value()));
                 } else if (k == "collaborative") {
                   VEZA_ASSIGN_OR_RETURN(n.collaborative, BoolField(kv.value(), k));
                 } else {
                   return UnknownField(k);
                 }
               }
               if (!has_title) return InvalidArgument("missing field 'title'");
               VEZA_ASSIGN_OR_RETURN(social::Playlist p, social.CreatePlaylist(v, n));
               VEZA_ASSIGN_OR_RETURN(json::object o, PlaylistJson(social, p, v));
               o["_location"] = "/api/v1/playlists/" + p.id;
               return json::value(std::move(o));
             }));
  router.Add(bhttp::verb::get, "/api/v1/playlists/{id}",
             ep->Make(false, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(social::Playlist p, social.GetPlaylist(v, ctx.Param("id")));
               VEZA_ASSIGN_OR_RETURN(json::object o, PlaylistJson(social, p, v));
               return json::value(std::move(o));
             }));
  router.Add(bhttp::verb::patch, "/api/v1/playlists/{id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               if (body.empty()) return InvalidArgument("nothing to change");
               social::PlaylistEdit e;
               for (const auto& kv : body) {
                 std::string_view k = kv.key();
                 if (k == "title") {
                   VEZA_ASSIGN_OR_RETURN(e.title, StringField(kv.value(), k));
                 } else if (k == "description") {
                   VEZA_ASSIGN_OR_RETURN(e.description, StringField(kv.value(), k));
                 } else if (k == "visibility") {
                   VEZA_ASSIGN_OR_RETURN(e.is_public, VisibilityField(kv.value()));
                 } else if (k == "collaborative") {
                   VEZA_ASSIGN_OR_RETURN(e.collaborative, BoolField(kv.value(), k));
                 } else {
                   return UnknownField(k);
                 }
               }
               VEZA_ASSIGN_OR_RETURN(social::Playlist p, social.EditPlaylist(v, ctx.Param("id"), e));
               VEZA_ASSIGN_OR_RETURN(json::object o, PlaylistJson(social, p, v));
               return json::value(std::move(o));
             }));
  router.Add(bhttp::verb::delete_, "/api/v1/playlists/{id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_TRY(social.DeletePlaylist(v, ctx.Param("id")));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::get, "/api/v1/users/{username}/playlists",
             ep->Make(false, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.PlaylistsOf(v, ctx.Param("username"), p.cursor, p.limit));
               json::array items;
               for (const auto& pl : page.playlists) {
                 VEZA_ASSIGN_OR_RETURN(json::object o, PlaylistJson(social, pl, v));
                 items.push_back(std::move(o));
               }
               return json::value(json::object{{"playlists", std::move(items)}, {"next_cursor", Cursor(page.next_cursor)}});
             }));
  router.Add(bhttp::verb::get, "/api/v1/playlists/{id}/items",
             ep->Make(false, ok, [&social, track_json](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.Items(v, ctx.Param("id"), p.cursor, p.limit));
               json::array items;
               for (const auto& it : page.first) {
                 items.push_back(json::object{
                     {"position", it.item.position},
                     {"added_by", it.item.added_by ? json::value(*it.item.added_by) : json::value(nullptr)},
                     {"added_at", it.item.added_at_ms},
                     {"track", track_json(it.track, v)}});
               }
               return json::value(json::object{{"items", std::move(items)}, {"next_cursor", Cursor(page.second)}});
             }));
  router.Add(bhttp::verb::post, "/api/v1/playlists/{id}/items",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               std::string track_id;
               std::optional<int> position;
               for (const auto& kv : body) {
                 std::string_view k = kv.key();
                 if (k == "track_id") {
                   VEZA_ASSIGN_OR_RETURN(track_id, StringField(kv.value(), k));
                 } else if (k == "position") {
                   if (!kv.value().is_null()) {
                     VEZA_ASSIGN_OR_RETURN(std::int64_t pos, IntField(kv.value(), k, 0, social::kMaxPlaylistItems));
                     position = static_cast<int>(pos);
                   }
                 } else {
                   return UnknownField(k);
                 }
               }
               if (track_id.empty()) return InvalidArgument("missing field 'track_id'");
               if (!IsUuid(track_id)) return InvalidArgument("field 'track_id' must be a track id");
               VEZA_TRY(social.AddItem(v, ctx.Param("id"), track_id, position));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::patch, "/api/v1/playlists/{id}/items/{track_id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(json::object body, BodyObject(ctx));
               std::optional<int> position;
               for (const auto& kv : body) {
                 if (kv.key() != "position") return UnknownField(kv.key());
                 VEZA_ASSIGN_OR_RETURN(std::int64_t pos, IntField(kv.value(), "position", 0, social::kMaxPlaylistItems));
                 position = static_cast<int>(pos);
               }
               if (!position) return InvalidArgument("missing field 'position'");
               VEZA_TRY(social.MoveItem(v, ctx.Param("id"), ctx.Param("track_id"), *position));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::delete_, "/api/v1/playlists/{id}/items/{track_id}",
             ep->Make(true, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_TRY(social.RemoveItem(v, ctx.Param("id"), ctx.Param("track_id")));
               return json::value(nullptr);
             }));
  router.Add(bhttp::verb::get, "/api/v1/playlists/{id}/editors",
             ep->Make(false, ok, [&social](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(auto editors, social.Editors(v, ctx.Param("id")));
               json::array items;
               for (const auto& u : editors) items.push_back(UserJson(u));
               return json::value(json::object{{"editors", std::move(items)}});
             }));
  for (bool on : {true, false}) {
    router.Add(on ? bhttp::verb::put : bhttp::verb::delete_, "/api/v1/playlists/{id}/editors/{username}",
               ep->Make(true, ok, [&social, on](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
                 VEZA_TRY(social.SetEditor(v, ctx.Param("id"), ctx.Param("username"), on));
                 return json::value(nullptr);
               }));
  }

  // --- feeds ---
  router.Add(bhttp::verb::get, "/api/v1/feed",
             ep->Make(true, ok, [&social, track_json](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.HomeFeed(v, p.cursor, p.limit));
               json::array items;
               for (const auto& it : page.first) {
                 items.push_back(json::object{
                     {"id", it.entry.id},
                     {"kind", it.entry.kind == social::FeedEntry::Kind::kTrack ? "track" : "repost"},
                     {"actor", UserJson(it.entry.actor)},
                     {"at", it.entry.at_ms},
                     {"track", track_json(it.track, v)}});
               }
               return json::value(json::object{{"items", std::move(items)}, {"next_cursor", Cursor(page.second)}});
             }));
  router.Add(bhttp::verb::get, "/api/v1/discover",
             ep->Make(false, ok, [&social, track_json](RequestContext& ctx, const Viewer& v) -> Result<json::value> {
               VEZA_ASSIGN_OR_RETURN(Page p, ParsePage(ctx.query, {"cursor", "limit"}));
               VEZA_ASSIGN_OR_RETURN(auto page, social.Discover(p.cursor, p.limit));
               json::array items;
               for (const auto& [t, score] : page.first) {
                 json::object o = track_json(t, v);
                 o["score"] = score;
                 items.push_back(std::move(o));
               }
               return json::value(json::object{{"tracks", std::move(items)}, {"next_cursor", Cursor(page.second)}});
             }));
}

}  // namespace veza::http
