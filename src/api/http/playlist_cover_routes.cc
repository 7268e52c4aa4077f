#include "api/http/playlist_cover_routes.h"

#include <boost/json/object.hpp>
#include <charconv>
#include <span>

#include "api/http/avatar_routes.h"
#include "api/http/query_params.h"
#include "api/http/track_routes.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;
using tracks::Viewer;

namespace {

constexpr std::string_view kCoverPath = "/api/v1/playlists/{id}/cover";

asio::awaitable<Result<std::string>> ReadWholeBody(BodyReader& body) {
  std::string bytes;
  constexpr std::size_t kChunk = 64 * 1024;
  for (;;) {
    std::size_t used = bytes.size();
    bytes.resize(used + kChunk);
    auto n = co_await body.ReadSome(std::span<char>(bytes.data() + used, kChunk));
    if (!n.ok()) co_return n.take_error();
    bytes.resize(used + *n);
    if (*n == 0) co_return bytes;
  }
}

json::object CoverUrls(std::string_view playlist_id, std::string_view hash) {
  json::object urls;
  for (int size : social::kCoverSizes) urls[std::to_string(size)] = social::PlaylistCoverUrl(playlist_id, hash, size);
  return urls;
}

}  // namespace

void AddPlaylistCoverRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                            social::PlaylistCoverService& covers, asio::thread_pool& workers) {
  // The body is the image, read up to the 5 MiB cap instead of --max-body (as for avatars).
  RouteOptions upload{.streams_body = true, .max_body_bytes = social::kMaxCoverBytes};
  router.Add(
      bhttp::verb::put, kCoverPath,
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        auto viewer = co_await RunBlocking(workers, [&] { return RequiredViewer(auth, admin, ctx); });
        if (!viewer.ok()) co_return AuthProblem(viewer.error(), ctx);
        std::string id(ctx.Param("id"));
        std::string type(ctx.request[bhttp::field::content_type]);
        if (!ImageFormatFromMimeType(type)) {
          co_return Problem(
              Error{ErrorCode::kUnsupportedMediaType, "a cover must be image/jpeg, image/png or image/webp"}, ctx);
        }
        auto body = co_await ReadWholeBody(*ctx.body);
        if (!body.ok()) co_return Problem(body.error(), ctx);
        const std::string& bytes = body.value();
        auto hash = co_await RunBlocking(workers, [&] { return covers.Upload(viewer.value(), id, type, bytes); });
        if (!hash.ok()) co_return Problem(hash.error(), ctx);
        auto res = Json(bhttp::status::ok, json::object{{"cover", CoverUrls(id, hash.value())}}, ctx.request);
        res.set(bhttp::field::cache_control, "no-store");
        co_return res;
      },
      upload);

  router.Add(bhttp::verb::delete_, kCoverPath, [&](RequestContext& ctx) -> asio::awaitable<Response> {
    std::string id(ctx.Param("id"));
    auto st = co_await RunBlocking(workers, [&]() -> Status {
      VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
      return covers.Remove(viewer, id);
    });
    if (!st.ok()) co_return AuthProblem(st.error(), ctx);
    co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
  });

  router.Add(bhttp::verb::get, kCoverPath, [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto params = QueryParams(ctx.query, {"size", "v"});
    if (!params.ok()) co_return Problem(params.error(), ctx);
    int size = 512;
    if (auto it = params->find("size"); it != params->end()) {
      auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), size);
      if (ec != std::errc() || end != it->second.data() + it->second.size())
        co_return Problem(InvalidArgument("size must be 512 or 128"), ctx);
    }
    std::string id(ctx.Param("id"));
    auto image = co_await RunBlocking(workers, [&]() -> Result<social::CoverImage> {
      VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
      return covers.Get(viewer, id, size);
    });
    if (!image.ok()) co_return AuthProblem(image.error(), ctx);
    std::string etag = "\"" + image->hash + "-" + std::to_string(size) + "\"";
    // A private playlist's cover stays out of shared caches; a URL naming the current hash never
    // changes content.
    auto v = params->find("v");
    bool pinned = v != params->end() && v->second == image->hash;
    co_return JpegResponse(ctx, std::move(image->jpeg), etag, pinned, image->is_public ? "public" : "private");
  });
}

}  // namespace veza::http
