#include "api/http/search_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>

#include "api/http/query_params.h"
#include "api/http/track_routes.h"
#include "base/blocking.h"
#include "services/social/playlist_cover_service.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

Result<std::int64_t> NonNegative(const std::map<std::string, std::string>& params,
                                 const std::string& name, std::int64_t max) {
  const std::string& v = params.at(name);
  std::int64_t n = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0 || n > max) {
    return InvalidArgument("query parameter '" + name + "' must be an integer from 0 to " +
                           std::to_string(max));
  }
  return n;
}

// `type=all`: the first few of every kind, for instant results while typing.
constexpr int kAllPerKind = 5;
constexpr std::int64_t kMaxMs = 4'102'444'800'000;  // 2100-01-01

struct SearchRequest {
  search::Query query;
  bool all_kinds = false;
};

Result<SearchRequest> ParseSearch(std::string_view query_string) {
  VEZA_ASSIGN_OR_RETURN(auto params,
                        QueryParams(query_string, {"q", "type", "genre", "min_duration_ms",
                                                   "max_duration_ms", "uploaded_after",
                                                   "uploaded_before", "cursor", "limit"}));
  SearchRequest r;
  search::Query& q = r.query;
  auto q_it = params.find("q");
  if (q_it == params.end()) return InvalidArgument("query parameter 'q' is required");
  q.text = q_it->second;
  if (auto it = params.find("type"); it != params.end()) {
    if (it->second == "all") {
      r.all_kinds = true;
    } else {
      auto kind = search::ParseKind(it->second);
      if (!kind) return InvalidArgument("type must be track, user, room, playlist or all");
      q.kind = *kind;
    }
  }
  bool track_filters = false;
  if (auto it = params.find("genre"); it != params.end()) {
    if (it->second.size() > 100) return InvalidArgument("genre is longer than 100 bytes");
    q.genre = it->second;
    track_filters = true;
  }
  if (params.count("min_duration_ms")) {
    VEZA_ASSIGN_OR_RETURN(q.min_duration_ms, NonNegative(params, "min_duration_ms", kMaxMs));
    track_filters = true;
  }
  if (params.count("max_duration_ms")) {
    VEZA_ASSIGN_OR_RETURN(q.max_duration_ms, NonNegative(params, "max_duration_ms", kMaxMs));
    track_filters = true;
  }
  if (params.count("uploaded_after")) {
    VEZA_ASSIGN_OR_RETURN(q.created_after_ms, NonNegative(params, "uploaded_after", kMaxMs));
    track_filters = true;
  }
  if (params.count("uploaded_before")) {
    VEZA_ASSIGN_OR_RETURN(q.created_before_ms, NonNegative(params, "uploaded_before", kMaxMs));
    track_filters = true;
  }
  if (track_filters && (r.all_kinds || q.kind != search::Kind::kTrack)) {
    return InvalidArgument("genre, duration and upload date filters apply to type=track only");
  }
  if (auto it = params.find("cursor"); it != params.end()) {
    if (r.all_kinds) return InvalidArgument("type=all has a single page");
    VEZA_ASSIGN_OR_RETURN(std::int64_t offset,
                          NonNegative(params, "cursor", search::kMaxResults - 1));
    q.offset = static_cast<int>(offset);
  }
  if (params.count("limit")) {
    VEZA_ASSIGN_OR_RETURN(std::int64_t limit, NonNegative(params, "limit", search::kMaxPage));
    if (limit == 0) return InvalidArgument("query parameter 'limit' must be from 1 to 50");
    q.limit = static_cast<int>(limit);
  }
  if (r.all_kinds) q.limit = std::min(q.limit, kAllPerKind);
  return r;
}

}  // namespace

void AddSearchRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     search::SearchService& search, tracks::TrackService& tracks,
                     asio::thread_pool& workers) {
  // One kind's hits as JSON. Tracks are read again through the TrackService (all of a page
  // in one query), which applies the visibility rules a second time and adds the viewer's
  // signed URLs.
  auto hits_json = [&tracks](const std::vector<search::Hit>& hits,
                             const tracks::Viewer& viewer) -> Result<json::array> {
    json::array items;
    if (!hits.empty() && hits.front().kind == search::Kind::kTrack) {
      std::vector<std::string> ids;
      for (const search::Hit& h : hits) ids.push_back(h.id);
      VEZA_ASSIGN_OR_RETURN(std::vector<tracks::Track> found, tracks.GetMany(viewer, ids));
      for (const tracks::Track& t : found) items.push_back(TrackJson(t, viewer, tracks.StreamToken(viewer, t)));
      return items;
    }
    for (const search::Hit& h : hits) {
      switch (h.kind) {
        case search::Kind::kTrack:
          break;  // a page holds one kind: tracks are read above
        case search::Kind::kUser:
          items.push_back(
              json::object{{"id", h.id}, {"username", h.title}, {"display_name", h.subtitle}});
          break;
        case search::Kind::kRoom:
          items.push_back(json::object{{"id", h.id}, {"name", h.title}, {"topic", h.subtitle}});
          break;
        case search::Kind::kPlaylist:
        {
          json::object o{{"id", h.id}, {"name", h.title}, {"owner", h.subtitle}};
          if (h.cover_hash) o["cover_url"] = social::PlaylistCoverUrl(h.id, *h.cover_hash);
          items.push_back(std::move(o));
        }
          break;
      }
    }
    return items;
  };

  router.Add(bhttp::verb::get, "/api/v1/search",
             [&, hits_json](RequestContext& ctx) -> asio::awaitable<Response> {
               auto request = ParseSearch(ctx.query);
               if (!request.ok()) co_return Problem(request.error(), ctx);
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(tracks::Viewer viewer, OptionalViewer(auth, admin, ctx));
                 if (request->all_kinds) {
                   json::object out;
                   for (search::Kind kind : {search::Kind::kTrack, search::Kind::kUser,
                                             search::Kind::kRoom, search::Kind::kPlaylist}) {
                     search::Query q = request->query;
                     q.kind = kind;
                     VEZA_ASSIGN_OR_RETURN(search::Page page, search.Search(q));
                     VEZA_ASSIGN_OR_RETURN(json::array items, hits_json(page.hits, viewer));
                     out[std::string(search::KindName(kind)) + "s"] = std::move(items);
                   }
                   return out;
                 }
                 VEZA_ASSIGN_OR_RETURN(search::Page page, search.Search(request->query));
                 VEZA_ASSIGN_OR_RETURN(json::array items, hits_json(page.hits, viewer));
                 return json::object{
                     {"type", search::KindName(request->query.kind)},
                     {"results", std::move(items)},
                     {"next_cursor", page.next_offset ? json::value(std::to_string(*page.next_offset))
                                                      : json::value(nullptr)}};
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               auto res = Json(bhttp::status::ok, *result, ctx.request);
               res.set(bhttp::field::cache_control, "private, no-store");
               co_return res;
             });
}

}  // namespace veza::http
