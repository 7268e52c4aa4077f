#include "api/http/upload_routes.h"

#include <boost/beast/core/string.hpp>
#include <charconv>
#include <span>

#include "api/http/track_routes.h"
#include "api/http/tus_headers.h"
#include "base/blocking.h"
#include "base/time.h"

// GCC 12 flags asio's coroutine frame operator delete as mismatched when it inlines the large
// PATCH handler; asio allocates and frees the frame with its own pair (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace veza::http {

namespace asio = boost::asio;
using tracks::UploadService;
using tracks::Viewer;

namespace {

constexpr std::string_view kTusVersion = "1.0.0";
constexpr std::string_view kExtensions = "creation,expiration,checksum,termination";
constexpr std::size_t kChunk = 256 * 1024;

Result<std::int64_t> HeaderInt(const RequestContext& ctx, std::string_view name) {
  return ParseTusInteger(ctx.request[name], name);
}

std::string Expires(std::int64_t ms) {
  return FormatHttpDate(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

template <class Message>
Message Tus(Message res) {
  res.set("Tus-Resumable", kTusVersion);
  return res;
}

StringResponse Empty(bhttp::status status, const RequestContext& ctx) {
  StringResponse res{status, ctx.request.version()};
  res.keep_alive(ctx.request.keep_alive());
  res.set(bhttp::field::cache_control, "no-store");
  return Tus(std::move(res));
}

StringResponse TusProblem(const Error& e, const RequestContext& ctx) {
  return Tus(AuthProblem(e, ctx));
}

// 460 is tus's own status for a checksum mismatch; it is not in the error table because no
// other protocol has it.
StringResponse ChecksumMismatch(const RequestContext& ctx) {
  StringResponse res =
      Problem(InvalidArgument("Upload-Checksum does not match the chunk; it was discarded"), ctx);
  res.result(460);
  std::string& body = res.body();
  if (auto p = body.find("\"status\":400"); p != std::string::npos)
    body.replace(p, 12, "\"status\":460");
  if (auto p = body.find("\"title\":\"Bad Request\""); p != std::string::npos) {
    body.replace(p, 21, "\"title\":\"Checksum Mismatch\"");
  }
  res.prepare_payload();
  return Tus(std::move(res));
}

}  // namespace

void AddUploadRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     UploadService& uploads, std::int64_t max_size, asio::thread_pool& workers) {
  // Every request but OPTIONS must speak tus 1.0.0 (412 with the versions we speak otherwise).
  auto check_version = [](const RequestContext& ctx) -> std::optional<StringResponse> {
    if (ctx.request["Tus-Resumable"] == kTusVersion) return std::nullopt;
    StringResponse res = Tus(
        Problem(Error{ErrorCode::kPreconditionFailed, "Tus-Resumable: 1.0.0 is required"}, ctx));
    res.set("Tus-Version", kTusVersion);
    return res;
  };

  router.Add(bhttp::verb::options, "/api/v1/uploads",
             [max_size](RequestContext& ctx) -> asio::awaitable<Response> {
               StringResponse res = Empty(bhttp::status::no_content, ctx);
               res.set("Tus-Version", kTusVersion);
               res.set("Tus-Extension", kExtensions);
               res.set("Tus-Max-Size", std::to_string(max_size));
               res.set("Tus-Checksum-Algorithm", "sha1,sha256");
               co_return res;
             });

  router.Add(
      bhttp::verb::post, "/api/v1/uploads",
      [&, check_version, max_size](RequestContext& ctx) -> asio::awaitable<Response> {
        if (auto refused = check_version(ctx)) co_return *refused;
        if (!ctx.request["Upload-Defer-Length"].empty()) {
          co_return TusProblem(
              InvalidArgument("Upload-Defer-Length is not supported: send Upload-Length"), ctx);
        }
        auto length = HeaderInt(ctx, "Upload-Length");
        if (!length.ok()) co_return TusProblem(length.error(), ctx);
        if (*length > max_size) {
          co_return TusProblem(
              Error{ErrorCode::kPayloadTooLarge,
                    "Upload-Length is over Tus-Max-Size " + std::to_string(max_size)},
              ctx);
        }
        auto description = ParseMetadata(ctx.request["Upload-Metadata"]);
        if (!description.ok()) co_return TusProblem(description.error(), ctx);
        if (!ctx.request.body().empty()) {
          co_return TusProblem(
              InvalidArgument("send the bytes with PATCH (creation-with-upload is not supported)"),
              ctx);
        }
        auto created = co_await RunBlocking(workers, [&]() -> Result<tracks::Upload> {
          VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
          return uploads.Create(viewer, *length, *description);
        });
        if (!created.ok()) co_return TusProblem(created.error(), ctx);
        StringResponse res = Empty(bhttp::status::created, ctx);
        res.set(bhttp::field::location, "/api/v1/uploads/" + created->id);
        res.set("Upload-Expires", Expires(created->expires_at_ms));
        res.prepare_payload();
        co_return res;
      });

  router.Add(bhttp::verb::head, "/api/v1/uploads/{id}",
             [&, check_version](RequestContext& ctx) -> asio::awaitable<Response> {
               if (auto refused = check_version(ctx)) co_return *refused;
               std::string id(ctx.Param("id"));
               auto found = co_await RunBlocking(workers, [&]() -> Result<tracks::Upload> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 return uploads.Find(viewer, id);
               });
               if (!found.ok()) co_return TusProblem(found.error(), ctx);
               StringResponse res = Empty(bhttp::status::ok, ctx);
               res.set("Upload-Offset", std::to_string(found->received));
               res.set("Upload-Length", std::to_string(found->length));
               res.set("Upload-Expires", Expires(found->expires_at_ms));
               if (found->track_id) res.set("Upload-Track-Id", *found->track_id);
               res.prepare_payload();
               co_return res;
             });

  router.Add(
      bhttp::verb::patch, "/api/v1/uploads/{id}",
      [&, check_version](RequestContext& ctx) -> asio::awaitable<Response> {
        if (auto refused = check_version(ctx)) co_return *refused;
        std::string_view type = ctx.request[bhttp::field::content_type];
        if (!boost::beast::iequals(type.substr(0, type.find(';')),
                                   "application/offset+octet-stream")) {
          co_return TusProblem(Error{ErrorCode::kUnsupportedMediaType,
                                     "PATCH needs Content-Type: application/offset+octet-stream"},
                               ctx);
        }
        auto offset = HeaderInt(ctx, "Upload-Offset");
        if (!offset.ok()) co_return TusProblem(offset.error(), ctx);
        auto checksum = ParseChecksum(ctx.request["Upload-Checksum"]);
        if (!checksum.ok()) co_return TusProblem(checksum.error(), ctx);
        std::string id(ctx.Param("id"));
        auto appender =
            co_await RunBlocking(workers, [&]() -> Result<std::unique_ptr<tracks::UploadAppender>> {
              VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
              return uploads.Append(viewer, id, *offset, *checksum);
            });
        if (!appender.ok()) co_return TusProblem(appender.error(), ctx);
        // The body streams to the staging file: read a piece on this IO thread, write it on the
        // worker pool, never more than one piece in memory.
        std::string piece(kChunk, '\0');
        Status written = Ok();
        bool client_gone = false;
        while (written.ok()) {
          auto n = co_await ctx.body->ReadSome(std::span<char>(piece.data(), piece.size()));
          if (!n.ok()) {
            // A client that went away or stalled keeps what arrived (tus: resume from HEAD's
            // offset), unless a checksum was promised for the whole chunk.
            client_gone =
                n.error().code == ErrorCode::kUnavailable || n.error().code == ErrorCode::kTimeout;
            if (!client_gone || checksum->has_value()) written = n.take_error();
            break;
          }
          if (*n == 0) break;
          written = co_await RunBlocking(
              workers, [&] { return (*appender)->Write(std::string_view(piece.data(), *n)); });
        }
        if (!written.ok()) {
          co_await RunBlocking(workers, [&] {
            appender->reset();  // cuts the chunk off again
            return 0;
          });
          co_return TusProblem(written.error(), ctx);
        }
        auto outcome = co_await RunBlocking(workers, [&] {
          auto r = (*appender)->Finish();
          appender->reset();
          return r;
        });
        if (!outcome.ok()) co_return TusProblem(outcome.error(), ctx);
        if (outcome->checksum_mismatch) co_return ChecksumMismatch(ctx);
        if (client_gone)
          co_return TusProblem(Unavailable("the connection ended early; resume from Upload-Offset"),
                               ctx);
        StringResponse res = Empty(bhttp::status::no_content, ctx);
        res.set("Upload-Offset", std::to_string(outcome->offset));
        res.set("Upload-Expires", Expires(outcome->expires_at_ms));
        if (outcome->track) {
          res.set("Upload-Track-Id", outcome->track->id);
          res.set(bhttp::field::location, "/api/v1/tracks/" + outcome->track->id);
        }
        co_return res;
      },
      RouteOptions{.streams_body = true, .max_body_bytes = static_cast<std::uint64_t>(max_size)});

  router.Add(bhttp::verb::delete_, "/api/v1/uploads/{id}",
             [&, check_version](RequestContext& ctx) -> asio::awaitable<Response> {
               if (auto refused = check_version(ctx)) co_return *refused;
               std::string id(ctx.Param("id"));
               auto done = co_await RunBlocking(workers, [&]() -> Status {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 return uploads.Terminate(viewer, id);
               });
               if (!done.ok()) co_return TusProblem(done.error(), ctx);
               co_return Empty(bhttp::status::no_content, ctx);
             });
}

}  // namespace veza::http
