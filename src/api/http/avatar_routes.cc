#include "api/http/avatar_routes.h"

#include <boost/json/object.hpp>
#include <charconv>
#include <span>

#include "api/http/auth_routes.h"
#include "api/http/query_params.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The whole body of a streaming route (its RouteOptions cap bounds it), read straight into the
// string.
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

}  // namespace

json::value AvatarJson(std::string_view username, std::string_view hash) {
  if (hash.empty()) return nullptr;
  json::object urls;
  for (int size : auth::kAvatarSizes) {
    urls[std::to_string(size)] = "/api/v1/users/" + std::string(username) +
                                 "/avatar?size=" + std::to_string(size) + "&v=" + std::string(hash);
  }
  return urls;
}

void AddAvatarRoutes(Router& router, auth::AuthService& auth, auth::AvatarService& avatars,
                     asio::thread_pool& workers) {
  // The body is the image itself (Content-Type image/jpeg, image/png or image/webp), read by
  // the handler up to its own 5 MiB cap instead of --max-body; images are decoded in memory.
  RouteOptions upload{.streams_body = true, .max_body_bytes = auth::kMaxAvatarBytes};
  router.Add(
      bhttp::verb::put, kAvatarUploadPath,
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
        if (!who.ok()) co_return AuthProblem(who.error(), ctx);
        std::string type(ctx.request[bhttp::field::content_type]);
        if (!ImageFormatFromMimeType(type)) {
          co_return Problem(Error{ErrorCode::kUnsupportedMediaType,
                                  "an avatar must be image/jpeg, image/png or image/webp"},
                            ctx);
        }
        auto body = co_await ReadWholeBody(*ctx.body);
        if (!body.ok()) co_return Problem(body.error(), ctx);
        const std::string& bytes = body.value();
        auto hash =
            co_await RunBlocking(workers, [&] { return avatars.Upload(who.value(), type, bytes); });
        if (!hash.ok()) co_return Problem(hash.error(), ctx);
        auto me = co_await RunBlocking(workers, [&] { return auth.MyAccount(who.value()); });
        if (!me.ok()) co_return Problem(me.error(), ctx);
        auto res = Json(bhttp::status::ok,
                        json::object{{"avatar", AvatarJson(me->user.username, hash.value())}},
                        ctx.request);
        res.set(bhttp::field::cache_control, "no-store");
        co_return res;
      },
      upload);

  router.Add(bhttp::verb::delete_, kAvatarUploadPath,
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto st = co_await RunBlocking(workers, [&] { return avatars.Remove(who.value()); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             });

  router.Add(
      bhttp::verb::get, "/api/v1/users/{username}/avatar",
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        auto params = QueryParams(ctx.query, {"size", "v"});
        if (!params.ok()) co_return Problem(params.error(), ctx);
        int size = 512;
        if (auto it = params->find("size"); it != params->end()) {
          auto [end, ec] =
              std::from_chars(it->second.data(), it->second.data() + it->second.size(), size);
          if (ec != std::errc() || end != it->second.data() + it->second.size()) {
            co_return Problem(InvalidArgument("size must be 512 or 128"), ctx);
          }
        }
        std::string username(ctx.Param("username"));
        auto image = co_await RunBlocking(workers, [&] { return avatars.Get(username, size); });
        if (!image.ok()) co_return Problem(image.error(), ctx);
        std::string etag = "\"" + image->hash + "-" + std::to_string(size) + "\"";
        // A URL naming the current hash never changes content; one without (or with an old hash)
        // must be revalidated, so a new avatar shows at once.
        auto v = params->find("v");
        bool pinned = v != params->end() && v->second == image->hash;
        co_return JpegResponse(ctx, std::move(image->jpeg), etag, pinned, "public");
      });
}

Response JpegResponse(const RequestContext& ctx, std::string jpeg, const std::string& etag, bool pinned,
                      std::string_view scope) {
  std::string cache = std::string(scope) + (pinned ? ", max-age=31536000, immutable" : ", no-cache");
  bool fresh = ctx.request[bhttp::field::if_none_match] == etag;
  auto res = fresh ? Text(bhttp::status::not_modified, "", "image/jpeg", ctx.request)
                   : Text(bhttp::status::ok, std::move(jpeg), "image/jpeg", ctx.request);
  res.set(bhttp::field::etag, etag);
  res.set(bhttp::field::cache_control, cache);
  if (!fresh) res.set("X-Content-Type-Options", "nosniff");
  return res;
}

}  // namespace veza::http
