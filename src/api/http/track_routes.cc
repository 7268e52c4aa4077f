#include "api/http/track_routes.h"

#include "api/http/query_params.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/core/string.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <map>
#include <span>

#include "api/http/auth_routes.h"
#include "api/http/authorization.h"
#include "api/http/multipart.h"
#include "api/http/static_files.h"
#include "base/blocking.h"
#include "base/ids.h"
#include "base/time.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;
using tracks::Track;
using tracks::Viewer;

namespace {

struct PageQuery {
  std::string cursor;
  int limit = 20;
};

Result<PageQuery> ParsePage(std::string_view query) {
  VEZA_ASSIGN_OR_RETURN(auto params, QueryParams(query, {"cursor", "limit"}));
  PageQuery p;
  if (auto it = params.find("cursor"); it != params.end()) {
    if (!it->second.empty() && !IsUuid(it->second)) return InvalidArgument("malformed cursor");
    p.cursor = it->second;
  }
  if (auto it = params.find("limit"); it != params.end()) {
    const std::string& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p.limit);
    if (ec != std::errc() || end != v.data() + v.size() || p.limit < 1 || p.limit > 100) {
      return InvalidArgument("limit must be an integer from 1 to 100");
    }
  }
  return p;
}

json::value OptionalInt(std::optional<int> v) { return v ? json::value(*v) : json::value(nullptr); }

StringResponse Private(StringResponse res) {
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

Result<tracks::TrackEdit> ParseEdit(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  tracks::TrackEdit e;
  auto text = [](const json::value& v, std::string_view name, std::size_t max,
                 bool required_non_empty) -> Result<std::string> {
    if (!v.is_string())
      return InvalidArgument("field '" + std::string(name) + "' must be a string");
    std::string s(v.as_string().data(), v.as_string().size());
    if (s.size() > max)
      return InvalidArgument("field '" + std::string(name) + "' is longer than " +
                             std::to_string(max) + " bytes");
    if (required_non_empty && s.find_first_not_of(" \t") == std::string::npos) {
      return InvalidArgument("field '" + std::string(name) + "' must not be empty");
    }
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
        return InvalidArgument("field '" + std::string(name) + "' holds control characters");
      }
    }
    return s;
  };
  auto number = [](const json::value& v, std::string_view name, int min, int max) -> Result<int> {
    if (v.is_null()) return 0;
    if (!v.is_int64() || v.as_int64() < min || v.as_int64() > max) {
      return InvalidArgument("field '" + std::string(name) + "' must be null or an integer from " +
                             std::to_string(min) + " to " + std::to_string(max));
    }
    return static_cast<int>(v.as_int64());
  };
  if (body.as_object().empty()) return InvalidArgument("nothing to change");
  for (const auto& kv : body.as_object()) {
    std::string_view k = kv.key();
    if (k == "title") {
      VEZA_ASSIGN_OR_RETURN(e.title, text(kv.value(), k, 200, true));
    } else if (k == "artist") {
      VEZA_ASSIGN_OR_RETURN(e.artist, text(kv.value(), k, 200, false));
    } else if (k == "album") {
      VEZA_ASSIGN_OR_RETURN(e.album, text(kv.value(), k, 200, false));
    } else if (k == "genre") {
      VEZA_ASSIGN_OR_RETURN(e.genre, text(kv.value(), k, 100, false));
    } else if (k == "description") {
      VEZA_ASSIGN_OR_RETURN(e.description, text(kv.value(), k, 5000, false));
    } else if (k == "year") {
      VEZA_ASSIGN_OR_RETURN(e.year, number(kv.value(), k, 1000, 9999));
    } else if (k == "track_number") {
      VEZA_ASSIGN_OR_RETURN(e.track_number, number(kv.value(), k, 1, 9999));
    } else if (k == "visibility") {
      if (!kv.value().is_string()) return InvalidArgument("field 'visibility' must be a string");
      e.visibility = tracks::ParseVisibility(
          std::string_view(kv.value().as_string().data(), kv.value().as_string().size()));
      if (!e.visibility)
        return InvalidArgument("field 'visibility' must be public, unlisted or private");
    } else {
      return InvalidArgument("unknown field '" + std::string(k.substr(0, 40)) + "'");
    }
  }
  return e;
}

// A multipart/form-data upload read as it arrives: text fields into memory, the one `file`
// part straight into a staging file, within `max_file` bytes.
struct StreamedForm {
  std::vector<std::pair<std::string, std::string>> fields;
  bool has_file = false;
  std::string filename, content_type;
  std::int64_t file_size = 0;
};

asio::awaitable<Result<StreamedForm>> ReadMultipart(RequestContext& ctx,
                                                    const std::filesystem::path& staged,
                                                    std::int64_t max_file,
                                                    asio::thread_pool& workers) {
  auto parser = MultipartParser::ForContentType(ctx.request[bhttp::field::content_type]);
  if (!parser.ok()) {
    if (parser.error().code == ErrorCode::kUnsupportedMediaType) {
      co_return Error{ErrorCode::kUnsupportedMediaType,
                      "send the file as multipart/form-data (or use tus at /api/v1/uploads)"};
    }
    co_return parser.take_error();
  }
  StreamedForm form;
  std::string piece(64 * 1024, '\0');
  int fd = -1;
  bool eof = false;
  auto close_file = [&] {
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  // Writes file bytes on the worker pool.
  auto write_file = [&](std::string_view bytes) -> asio::awaitable<Status> {
    form.file_size += static_cast<std::int64_t>(bytes.size());
    if (form.file_size > max_file) co_return Error{ErrorCode::kPayloadTooLarge, "file too large"};
    co_return co_await RunBlocking(workers, [&]() -> Status {
      while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Internal("cannot stage the upload");
        bytes.remove_prefix(static_cast<std::size_t>(n));
      }
      return Ok();
    });
  };
  Status failed = Ok();
  bool done = false;
  while (failed.ok() && !done) {
    Result<MultipartParser::Step> step = parser->Next(eof);
    if (!step.ok()) {
      failed = step.take_error();
      break;
    }
    switch (*step) {
      case MultipartParser::Step::kDone:
        done = true;
        break;
      case MultipartParser::Step::kFileStart:
        fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) failed = Internal("cannot stage the upload");
        break;
      case MultipartParser::Step::kFileData:
        failed = co_await write_file(parser->file_data());
        break;
      case MultipartParser::Step::kFileEnd:
        close_file();
        break;
      case MultipartParser::Step::kNeedMore: {
        auto n = co_await ctx.body->ReadSome(std::span<char>(piece.data(), piece.size()));
        if (!n.ok()) {
          failed = n.take_error();
          break;
        }
        if (*n == 0) eof = true;
        parser->Append(std::string_view(piece.data(), *n));
        break;
      }
    }
  }
  close_file();
  if (!failed.ok()) co_return failed.take_error();
  form.fields = parser->fields();
  form.has_file = parser->has_file();
  form.filename = parser->filename();
  form.content_type = parser->file_content_type();
  co_return form;
}

// --- delivery ------------------------------------------------------------------------------

std::string ETagOf(const struct stat& st) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  return buf;
}

bool ETagListMatches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  // Weak comparison: W/"x" matches "x".
  return header.find(etag) != std::string_view::npos;
}

// Which progressive file the request asks for: ?format= wins, then Accept.
Result<std::string> ProgressiveFile(const RequestContext& ctx, bool& negotiated) {
  VEZA_ASSIGN_OR_RETURN(auto params, QueryParams(ctx.query, {"format"}));
  negotiated = false;
  if (auto it = params.find("format"); it != params.end()) {
    if (it->second == "aac") return std::string("stream.m4a");
    if (it->second == "opus") return std::string("stream.opus");
    if (it->second == "original") return std::string("original");
    return InvalidArgument("format must be aac, opus or original");
  }
  negotiated = true;
  std::string_view accept = ctx.request[bhttp::field::accept];
  bool wants_ogg = accept.find("audio/ogg") != std::string_view::npos ||
                   accept.find("audio/opus") != std::string_view::npos;
  bool wants_mp4 = accept.find("audio/mp4") != std::string_view::npos ||
                   accept.find("audio/aac") != std::string_view::npos;
  return std::string(wants_ogg && !wants_mp4 ? "stream.opus" : "stream.m4a");
}

// The file below hls/ a request names, or 404 for anything that could escape it.
Result<std::string> HlsFile(std::string_view rest) {
  auto decoded = DecodePath(rest);
  if (!decoded.ok() || decoded->empty() || decoded->size() > 200) return NotFound("no such file");
  std::string rel = "hls/" + *decoded;
  if (!ValidateBlobKey(rel).ok()) return NotFound("no such file");
  return rel;
}

}  // namespace

json::object TrackJson(const Track& t, const Viewer& viewer,
                       const std::optional<std::string>& token) {
  json::object o{{"id", t.id},
                 {"owner", json::object{{"id", t.owner_id}, {"username", t.owner_username}}},
                 {"title", t.title},
                 {"artist", t.artist},
                 {"album", t.album},
                 {"genre", t.genre},
                 {"year", OptionalInt(t.year)},
                 {"track_number", OptionalInt(t.track_number)},
                 {"description", t.description},
                 {"visibility", tracks::VisibilityName(t.visibility)},
                 {"state", tracks::TrackStateName(t.state)},
                 {"progress", t.progress},
                 {"duration_ms", t.format.duration_ms},
                 {"waveform_points", t.waveform_points},
                 {"has_cover", t.has_cover},
                 {"created_at", t.created_at_ms},
                 {"updated_at", t.updated_at_ms}};
  if (t.state == tracks::TrackState::kFailed) o["failure_reason"] = t.failure_reason;
  // Only the owner and moderators see a taken-down track at all (TrackService::MaySee).
  if (t.takedown) {
    o["taken_down"] = json::object{{"at", t.takedown->at_ms}, {"reason", t.takedown->reason}};
  }
  if (t.state == tracks::TrackState::kReady) {
    o["format"] =
        json::object{{"container", t.format.container},     {"codec", t.format.codec},
                     {"sample_rate", t.format.sample_rate}, {"channels", t.format.channels},
                     {"bit_rate", t.format.bit_rate},       {"lossless", t.format.lossless}};
    if (t.loudness) {
      o["loudness"] = json::object{{"integrated_lufs", t.loudness->integrated_lufs},
                                   {"loudness_range_lu", t.loudness->loudness_range_lu},
                                   {"true_peak_dbtp", t.loudness->true_peak_dbtp},
                                   {"replay_gain_db", t.loudness->replay_gain_db}};
    }
  }
  if (viewer.user_id == t.owner_id) {
    o["original"] = json::object{{"filename", t.original_filename},
                                 {"size", t.original_size},
                                 {"content_type", t.original_content_type}};
  }
  if (token) {
    std::string base = "/api/v1/tracks/" + t.id;
    o["stream_url"] = base + "/stream/" + *token;
    o["hls_url"] = base + "/hls/t/" + *token + "/master.m3u8";
    if (t.waveform_points > 0) o["waveform_url"] = base + "/waveform/" + *token;
    if (t.has_cover) o["cover_url"] = base + "/cover/" + *token;
  }
  return o;
}

Result<Viewer> OptionalViewer(auth::AuthService& auth, auth::AdminService& admin,
                              const RequestContext& ctx) {
  if (ctx.request[bhttp::field::authorization].empty()) return Viewer{};
  return RequiredViewer(auth, admin, ctx);
}

Result<Viewer> RequiredViewer(auth::AuthService& auth, auth::AdminService& admin,
                              const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(auth::Principal who, RequireCurrentRole(auth, admin, ctx, Role::kUser));
  return Viewer{who.user_id, Require(who, Role::kModerator).ok()};
}

Response ServeDelivery(const RequestContext& ctx, const tracks::Delivery& d, bool shared_cache) {
  const Request& req = ctx.request;
  std::string cache = d.immutable ? std::string(shared_cache ? "public" : "private") +
                                        ", max-age=31536000, immutable"
                                  : "private, no-cache";
  if (d.kind == tracks::Delivery::Kind::kRedirect) {
    StringResponse res{bhttp::status::found, req.version()};
    res.set(bhttp::field::location, d.url);
    // The signed target expires; a client may reuse the redirect only briefly.
    res.set(bhttp::field::cache_control, "private, max-age=60");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
  }
  if (d.kind == tracks::Delivery::Kind::kInline) {
    std::string etag = "\"" + d.info.etag + "\"";
    if (!d.info.etag.empty() && ETagListMatches(req[bhttp::field::if_none_match], etag)) {
      StringResponse res{bhttp::status::not_modified, req.version()};
      res.set(bhttp::field::etag, etag);
      res.set(bhttp::field::cache_control, cache);
      res.keep_alive(req.keep_alive());
      return res;
    }
    StringResponse res = Text(bhttp::status::ok, d.bytes, d.content_type, req);
    if (!d.info.etag.empty()) res.set(bhttp::field::etag, etag);
    res.set(bhttp::field::cache_control, cache);
    return res;
  }

  struct stat st {};
  if (::stat(d.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Problem(NotFound("no such file"), ctx);
  std::string etag = ETagOf(st);
  std::string last_modified =
      FormatHttpDate(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec));
  auto common = [&](auto& res) {
    res.set(bhttp::field::etag, etag);
    res.set(bhttp::field::last_modified, last_modified);
    res.set(bhttp::field::accept_ranges, "bytes");
    res.set(bhttp::field::cache_control, cache);
    res.keep_alive(req.keep_alive());
  };
  if (std::string_view inm = req[bhttp::field::if_none_match];
      !inm.empty() && ETagListMatches(inm, etag)) {
    StringResponse res{bhttp::status::not_modified, req.version()};
    common(res);
    return res;
  }
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  std::optional<ParsedRange> range;
  // If-Range: the range applies only when the validator still matches (strong ETag or the exact
  // Last-Modified date); otherwise the whole file is sent.
  std::string_view if_range = req[bhttp::field::if_range];
  if (if_range.empty() || if_range == etag || if_range == last_modified) {
    auto parsed = ParseRangeHeader(req[bhttp::field::range], size);
    if (!parsed.ok()) {
      StringResponse res = Problem(parsed.error(), ctx);
      res.set(bhttp::field::content_range, "bytes */" + std::to_string(size));
      res.set(bhttp::field::accept_ranges, "bytes");
      return res;
    }
    range = parsed.value();
  }
  RangedFile f;
  boost::beast::error_code ec;
  f.open(d.file.c_str(), boost::beast::file_mode::scan, ec);
  if (!ec && range) f.Restrict(range->first, range->last - range->first + 1, ec);
  FileBody::value_type body;
  if (!ec) body.reset(std::move(f), ec);
  if (ec) return Problem(NotFound("no such file"), ctx);
  FileResponse res{range ? bhttp::status::partial_content : bhttp::status::ok, req.version()};
  common(res);
  res.set(bhttp::field::content_type, d.content_type);
  if (range) {
    res.set(bhttp::field::content_range, "bytes " + std::to_string(range->first) + "-" +
                                             std::to_string(range->last) + "/" +
                                             std::to_string(size));
  }
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

void AddTrackRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                    tracks::TrackService& tracks, asio::thread_pool& workers) {
  // A page of tracks as JSON, with stream URLs for the viewer.
  auto page_json = [&tracks](const tracks::TrackPage& page, const Viewer& viewer) {
    json::array items;
    for (const Track& t : page.tracks)
      items.push_back(TrackJson(t, viewer, tracks.StreamToken(viewer, t)));
    return json::object{{"tracks", std::move(items)},
                        {"next_cursor", page.next_cursor.empty() ? json::value(nullptr)
                                                                 : json::value(page.next_cursor)}};
  };

  router.Add(bhttp::verb::get, "/api/v1/tracks",
             [&, page_json](RequestContext& ctx) -> asio::awaitable<Response> {
               auto page = ParsePage(ctx.query);
               if (!page.ok()) co_return Problem(page.error(), ctx);
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(tracks::TrackPage p,
                                       tracks.ListPublic(page->cursor, page->limit));
                 return page_json(p, viewer);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return Private(Json(bhttp::status::ok, *result, ctx.request));
             });

  router.Add(bhttp::verb::get, "/api/v1/users/me/tracks",
             [&, page_json](RequestContext& ctx) -> asio::awaitable<Response> {
               auto page = ParsePage(ctx.query);
               if (!page.ok()) co_return Problem(page.error(), ctx);
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(tracks::TrackPage p,
                                       tracks.ListMine(viewer, page->cursor, page->limit));
                 return page_json(p, viewer);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return Private(Json(bhttp::status::ok, *result, ctx.request));
             });

  router.Add(bhttp::verb::get, "/api/v1/users/{username}/tracks",
             [&, page_json](RequestContext& ctx) -> asio::awaitable<Response> {
               auto page = ParsePage(ctx.query);
               if (!page.ok()) co_return Problem(page.error(), ctx);
               std::string username(ctx.Param("username"));
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(tracks::TrackPage p,
                                       tracks.ListByUsername(username, page->cursor, page->limit));
                 return page_json(p, viewer);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return Private(Json(bhttp::status::ok, *result, ctx.request));
             });

  router.Add(bhttp::verb::get, "/api/v1/tracks/{id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(Track t, tracks.Get(viewer, id));
                 return TrackJson(t, viewer, tracks.StreamToken(viewer, t));
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return Private(Json(bhttp::status::ok, *result, ctx.request));
             });

  router.Add(bhttp::verb::patch, "/api/v1/tracks/{id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 VEZA_ASSIGN_OR_RETURN(tracks::TrackEdit edit, ParseEdit(ctx));
                 VEZA_ASSIGN_OR_RETURN(Track t, tracks.Edit(viewer, id, edit));
                 return TrackJson(t, viewer, tracks.StreamToken(viewer, t));
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               co_return Private(Json(bhttp::status::ok, *result, ctx.request));
             });

  router.Add(bhttp::verb::delete_, "/api/v1/tracks/{id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto result = co_await RunBlocking(workers, [&]() -> Status {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
                 return tracks.Delete(viewer, id);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               StringResponse res{bhttp::status::no_content, ctx.request.version()};
               res.keep_alive(ctx.request.keep_alive());
               co_return res;
             });

  router.Add(bhttp::verb::post, "/api/v1/tracks/{id}/plays",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               if (!ctx.request.body().empty())
                 co_return Problem(InvalidArgument("a play takes no request body"), ctx);
               auto result = co_await RunBlocking(workers, [&]() -> Status {
                 VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                 return tracks.RecordPlay(viewer, id);
               });
               if (!result.ok()) co_return AuthProblem(result.error(), ctx);
               StringResponse res{bhttp::status::no_content, ctx.request.version()};
               res.keep_alive(ctx.request.keep_alive());
               co_return res;
             });

  // Small files in one request; large ones go through tus (/api/v1/uploads). The body streams
  // to a staging file, never whole in memory, within the upload limit and the owner's quota.
  router.Add(
      bhttp::verb::post, "/api/v1/tracks",
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        auto allowed =
            co_await RunBlocking(workers, [&]() -> Result<std::pair<Viewer, std::int64_t>> {
              VEZA_ASSIGN_OR_RETURN(Viewer viewer, RequiredViewer(auth, admin, ctx));
              VEZA_ASSIGN_OR_RETURN(std::int64_t room, tracks.UploadAllowance(viewer.user_id));
              return std::make_pair(viewer, room);
            });
        if (!allowed.ok()) co_return AuthProblem(allowed.error(), ctx);
        const Viewer& viewer = allowed->first;
        std::filesystem::path dir = tracks.options().staging_dir / "multipart";
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        std::filesystem::path staged = dir / NewId();
        auto form = co_await ReadMultipart(ctx, staged, allowed->second, workers);
        auto result = co_await RunBlocking(workers, [&]() -> Result<json::object> {
          auto cleanup = [&] {
            std::error_code ignored;
            std::filesystem::remove(staged, ignored);
          };
          if (!form.ok()) {
            cleanup();
            // Past the allowance: say which limit, with the size reached so far.
            if (form.error().code == ErrorCode::kPayloadTooLarge &&
                form.error().message == "file too large") {
              VEZA_TRY(tracks.CheckQuota(viewer.user_id, allowed->second + 1));
            }
            return form.take_error();
          }
          tracks::UploadDescription d;
          d.filename = form->filename;
          d.content_type = form->content_type;
          for (const auto& [name, value] : form->fields) {
            if (name == "title") {
              if (value.size() > 200)
                return cleanup(), InvalidArgument("title is longer than 200 bytes");
              d.title = value;
            } else if (name == "visibility") {
              auto v = tracks::ParseVisibility(value);
              if (!v)
                return cleanup(), InvalidArgument("visibility must be public, unlisted or private");
              d.visibility = *v;
            } else {
              return cleanup(), InvalidArgument("unknown form field '" + name.substr(0, 40) + "'");
            }
          }
          if (!form->has_file) return cleanup(), InvalidArgument("missing form field 'file'");
          Result<Track> created = tracks.CreateFromFile(viewer.user_id, staged, d);
          cleanup();
          if (!created.ok()) return created.take_error();
          return TrackJson(*created, viewer, std::nullopt);
        });
        if (!result.ok()) co_return AuthProblem(result.error(), ctx);
        auto res = Private(Json(bhttp::status::created, *result, ctx.request));
        res.set(bhttp::field::location,
                "/api/v1/tracks/" + std::string(result->at("id").as_string()));
        co_return res;
      },
      RouteOptions{.streams_body = true,
                   .max_body_bytes =
                       static_cast<std::uint64_t>(tracks.options().max_upload_bytes) + (64 << 10)});

  // --- delivery ---
  // With an Authorization header (or none, for public tracks).
  router.Add(
      bhttp::verb::get, "/api/v1/tracks/{id}/stream",
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        std::string id(ctx.Param("id"));
        bool negotiated = false;
        auto rel = ProgressiveFile(ctx, negotiated);
        if (!rel.ok()) co_return Problem(rel.error(), ctx);
        auto delivery = co_await RunBlocking(workers, [&]() -> Result<tracks::Delivery> {
          VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
          VEZA_ASSIGN_OR_RETURN(Track t, tracks.Get(viewer, id));
          if (*rel == "original" && t.owner_id != viewer.user_id) {
            return Error{ErrorCode::kPermissionDenied, "only the owner may download the original"};
          }
          if (!tracks::TrackService::MayPlay(viewer, t) && *rel != "original")
            return NotFound("the track is not ready");
          return tracks.Deliver(t, *rel);
        });
        if (!delivery.ok()) co_return AuthProblem(delivery.error(), ctx);
        Response res = ServeDelivery(ctx, *delivery, false);
        if (negotiated)
          ForHeaders(res, [](auto& m) { m.set(bhttp::field::vary, "Accept, Authorization"); });
        else
          ForHeaders(res, [](auto& m) { m.set(bhttp::field::vary, "Authorization"); });
        co_return res;
      });

  // Signed: no header needed (<audio src>).
  router.Add(
      bhttp::verb::get, "/api/v1/tracks/{id}/stream/{token}",
      [&](RequestContext& ctx) -> asio::awaitable<Response> {
        std::string id(ctx.Param("id")), token(ctx.Param("token"));
        bool negotiated = false;
        auto rel = ProgressiveFile(ctx, negotiated);
        if (!rel.ok()) co_return Problem(rel.error(), ctx);
        bool shared = false;
        auto delivery = co_await RunBlocking(workers, [&]() -> Result<tracks::Delivery> {
          VEZA_ASSIGN_OR_RETURN(Track t, tracks.repository().FindById(id));
          VEZA_ASSIGN_OR_RETURN(tracks::TokenScope scope, tracks.CheckToken(t, token));
          if (*rel == "original" && scope != tracks::TokenScope::kOwner) {
            return Error{ErrorCode::kPermissionDenied, "only the owner may download the original"};
          }
          shared = t.visibility != tracks::Visibility::kPrivate;
          return tracks.Deliver(t, *rel);
        });
        if (!delivery.ok()) co_return Problem(delivery.error(), ctx);
        Response res = ServeDelivery(ctx, *delivery, shared);
        if (negotiated) ForHeaders(res, [](auto& m) { m.set(bhttp::field::vary, "Accept"); });
        co_return res;
      });

  // Waveform peaks (JSON) and cover art: with a header (or none, for public tracks), or signed
  // with the same token as the stream URL so <img> and fetch() need no header.
  struct DerivedFile {
    std::string_view route;
    std::string_view rel;
  };
  for (DerivedFile file : {DerivedFile{"waveform", "waveform.json"},
                           DerivedFile{"cover", "cover.jpg"}}) {
    std::string rel(file.rel);
    // Cover art exists only when the upload carried one; the waveform for every ready track.
    auto exists = [rel](const Track& t) -> Status {
      if (rel == "cover.jpg" && !t.has_cover) return NotFound("the track has no cover art");
      if (rel == "waveform.json" && t.waveform_points == 0) return NotFound("the track has no waveform");
      return Status();
    };
    std::string path = "/api/v1/tracks/{id}/" + std::string(file.route);
    router.Add(bhttp::verb::get, path, [&, rel, exists](RequestContext& ctx) -> asio::awaitable<Response> {
      std::string id(ctx.Param("id"));
      auto delivery = co_await RunBlocking(workers, [&]() -> Result<tracks::Delivery> {
        VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
        VEZA_ASSIGN_OR_RETURN(Track t, tracks.Get(viewer, id));
        if (!tracks::TrackService::MayPlay(viewer, t)) return NotFound("the track is not ready");
        VEZA_TRY(exists(t));
        return tracks.Deliver(t, rel);
      });
      if (!delivery.ok()) co_return AuthProblem(delivery.error(), ctx);
      Response res = ServeDelivery(ctx, *delivery, false);
      ForHeaders(res, [](auto& m) { m.set(bhttp::field::vary, "Authorization"); });
      co_return res;
    });
    router.Add(bhttp::verb::get, path + "/{token}",
               [&, rel, exists](RequestContext& ctx) -> asio::awaitable<Response> {
                 std::string id(ctx.Param("id")), token(ctx.Param("token"));
                 bool shared = false;
                 auto delivery = co_await RunBlocking(workers, [&]() -> Result<tracks::Delivery> {
                   VEZA_ASSIGN_OR_RETURN(Track t, tracks.repository().FindById(id));
                   VEZA_TRY(tracks.CheckToken(t, token));
                   VEZA_TRY(exists(t));
                   shared = t.visibility != tracks::Visibility::kPrivate;
                   return tracks.Deliver(t, rel);
                 });
                 if (!delivery.ok()) co_return Problem(delivery.error(), ctx);
                 co_return ServeDelivery(ctx, *delivery, shared);
               });
  }

  // HLS: /hls/master.m3u8 with a header, or /hls/t/{token}/master.m3u8 signed.
  router.Add(bhttp::verb::get, "/api/v1/tracks/{id}/hls/{rest...}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               std::string_view rest = ctx.Param("rest");
               std::string token;
               if (rest.substr(0, 2) == "t/") {
                 rest.remove_prefix(2);
                 auto slash = rest.find('/');
                 if (slash == std::string_view::npos)
                   co_return Problem(NotFound("no such file"), ctx);
                 token = rest.substr(0, slash);
                 rest.remove_prefix(slash + 1);
               }
               auto rel = HlsFile(rest);
               if (!rel.ok()) co_return Problem(rel.error(), ctx);
               bool shared = false;
               auto delivery = co_await RunBlocking(workers, [&]() -> Result<tracks::Delivery> {
                 Track t;
                 if (token.empty()) {
                   VEZA_ASSIGN_OR_RETURN(Viewer viewer, OptionalViewer(auth, admin, ctx));
                   VEZA_ASSIGN_OR_RETURN(t, tracks.Get(viewer, id));
                   if (!tracks::TrackService::MayPlay(viewer, t))
                     return NotFound("the track is not ready");
                 } else {
                   VEZA_ASSIGN_OR_RETURN(t, tracks.repository().FindById(id));
                   VEZA_TRY(tracks.CheckToken(t, token));
                   shared = t.visibility != tracks::Visibility::kPrivate;
                 }
                 return tracks.Deliver(t, *rel);
               });
               if (!delivery.ok()) co_return AuthProblem(delivery.error(), ctx);
               Response res = ServeDelivery(ctx, *delivery, shared);
               if (token.empty())
                 ForHeaders(res, [](auto& m) { m.set(bhttp::field::vary, "Authorization"); });
               co_return res;
             });
}

}  // namespace veza::http
