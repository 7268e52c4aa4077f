#include "services/tracks/track_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

#include "base/ids.h"
#include "base/log.h"

namespace veza::tracks {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string TitleFromFilename(std::string_view filename) {
  std::string_view base = filename.substr(filename.find_last_of("/\\") == std::string_view::npos
                                              ? 0
                                              : filename.find_last_of("/\\") + 1);
  auto dot = base.rfind('.');
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  std::string title(base.substr(0, 200));
  return title.empty() ? "Untitled" : title;
}

// Streams a local file into the blob store in 1 MiB pieces.
Result<BlobInfo> StoreFile(BlobStore& blobs, std::string_view key,
                           const std::filesystem::path& file, std::string_view content_type) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open the staged file");
  VEZA_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, blobs.OpenWriter(key, content_type));
  std::string buffer(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Internal("cannot read the staged file");
    }
    if (n == 0) break;
    if (Status st = writer->Write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        !st.ok()) {
      ::close(fd);
      return st.take_error();
    }
  }
  ::close(fd);
  return writer->Commit();
}

}  // namespace

std::string_view DerivedContentType(std::string_view rel) {
  if (EndsWith(rel, ".m3u8")) return "application/vnd.apple.mpegurl";
  if (EndsWith(rel, ".ts")) return "video/mp2t";
  if (EndsWith(rel, ".m4s") || EndsWith(rel, ".mp4") || EndsWith(rel, ".m4a")) return "audio/mp4";
  if (EndsWith(rel, ".aac")) return "audio/aac";
  if (EndsWith(rel, ".opus") || EndsWith(rel, ".ogg")) return "audio/ogg";
  if (EndsWith(rel, ".json")) return "application/json";
  if (EndsWith(rel, ".jpg")) return "image/jpeg";
  return "application/octet-stream";
}

TrackService::TrackService(Database& db, BlobStore& blobs, EventBus& bus, MediaProcessor* media,
                           Clock& clock, TrackOptions options, std::string stream_secret,
                           std::unique_ptr<CloudFrontSigner> cdn)
    : db_(db),
      blobs_(blobs),
      bus_(bus),
      media_(media),
      clock_(clock),
      options_(std::move(options)),
      repo_(db),
      tokens_(std::move(stream_secret)),
      cdn_(std::move(cdn)) {}

std::int64_t TrackService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

bool TrackService::MaySee(const Viewer& viewer, const Track& track) {
  if (track.visibility != Visibility::kPrivate && !track.takedown) return true;
  return viewer.moderator || (!viewer.user_id.empty() && viewer.user_id == track.owner_id);
}

bool TrackService::MayPlay(const Viewer& viewer, const Track& track) {
  return track.state == TrackState::kReady && !track.takedown && MaySee(viewer, track);
}

Result<Track> TrackService::Get(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Track track, repo_.FindById(id));
  if (!MaySee(viewer, track)) return NotFound("no such track");
  return track;
}

Result<std::vector<Track>> TrackService::GetMany(const Viewer& viewer, const std::vector<std::string>& ids) {
  VEZA_ASSIGN_OR_RETURN(std::vector<Track> found, repo_.FindByIds(ids));
  std::unordered_map<std::string, Track> by_id;
  for (Track& t : found) by_id.emplace(t.id, std::move(t));
  std::vector<Track> out;
  for (const std::string& id : ids) {
    auto it = by_id.find(id);
    if (it != by_id.end() && MaySee(viewer, it->second)) out.push_back(it->second);
  }
  return out;
}

Result<TrackPage> TrackService::ListPublic(std::string_view cursor, int limit) {
  return repo_.ListPublic(cursor, limit);
}

Result<TrackPage> TrackService::ListMine(const Viewer& viewer, std::string_view cursor, int limit) {
  return repo_.ListByOwner(viewer.user_id, true, cursor, limit);
}

Result<TrackPage> TrackService::ListByUsername(std::string_view username, std::string_view cursor,
                                               int limit) {
  VEZA_ASSIGN_OR_RETURN(std::string owner, repo_.OwnerIdByUsername(username));
  return repo_.ListByOwner(owner, false, cursor, limit);
}

Result<Track> TrackService::GetForOwner(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Track track, Get(viewer, id));
  if (track.owner_id != viewer.user_id) {
    return Error{ErrorCode::kPermissionDenied, "only the track's owner may change it"};
  }
  return track;
}

Result<Track> TrackService::Edit(const Viewer& viewer, std::string_view id, const TrackEdit& edit) {
  VEZA_TRY(GetForOwner(viewer, id));
  VEZA_TRY(repo_.Edit(id, edit, NowMs()));
  return repo_.FindById(id);
}

Status TrackService::DeleteBlobs(std::string_view track_id) {
  std::string prefix = BlobPrefix(track_id);
  while (true) {
    // Deleting changes the listing, so every round starts from the beginning again.
    VEZA_ASSIGN_OR_RETURN(std::vector<BlobInfo> page, blobs_.List(prefix, "", 1000));
    if (page.empty()) return Ok();
    for (const BlobInfo& blob : page) VEZA_TRY(blobs_.Delete(blob.key));
  }
}

Status TrackService::Delete(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Track track, Get(viewer, id));
  if (track.owner_id != viewer.user_id && !viewer.moderator) {
    return Error{ErrorCode::kPermissionDenied,
                 "only the track's owner or a moderator may delete it"};
  }
  // Files first: should this fail half-way, the row is still there and DELETE can be retried.
  VEZA_TRY(DeleteBlobs(track.id));
  VEZA_TRY(repo_.Delete(track.id));
  // A media job running meanwhile may have stored files after the first pass; once the row is
  // gone it stores nothing more that it does not remove itself (its final update finds no
  // track), so a second pass leaves no orphans.
  if (Status again = DeleteBlobs(track.id); !again.ok()) {
    log::Warn("track files left behind", {{"track_id", track.id}, {"error", again.error().message}});
  }
  log::Info("track deleted", {{"track_id", track.id}, {"by", viewer.user_id}});
  (void)bus_.Publish("tracks." + track.id + ".state",
                     R"({"id":")" + track.id + R"(","state":"deleted"})");
  return Ok();
}

Status TrackService::RecordPlay(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Track track, Get(viewer, id));
  if (track.state != TrackState::kReady) return Conflict("the track is not ready to play");
  if (track.takedown) return NotFound("the track was taken down");
  std::optional<std::string> who;
  if (!viewer.user_id.empty()) who = viewer.user_id;
  return repo_.RecordPlay(track.id, who, NowMs());
}

std::optional<std::string> TrackService::StreamToken(const Viewer& viewer, const Track& track) {
  if (!MayPlay(viewer, track)) return std::nullopt;
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  // Expiry rounded up to the hour, so one listener's URLs are stable for a while and caches
  // (browser, nginx, CDN) can reuse them.
  std::int64_t expires = (now + options_.stream_url_ttl.count() + 3599) / 3600 * 3600;
  TokenScope scope = viewer.user_id == track.owner_id ? TokenScope::kOwner : TokenScope::kListener;
  return tokens_.Issue(track.id, scope, expires);
}

Result<TokenScope> TrackService::CheckToken(const Track& track, std::string_view token) {
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  VEZA_ASSIGN_OR_RETURN(TokenScope scope, tokens_.Verify(track.id, token, now));
  if (scope == TokenScope::kListener && track.visibility == Visibility::kPrivate)
    return NotFound("no such track");
  return scope;
}

Status TrackService::CheckQuota(std::string_view owner_id, std::int64_t bytes) {
  if (bytes > options_.max_upload_bytes) {
    return Error{ErrorCode::kPayloadTooLarge, "the file is larger than the upload limit of " +
                                                  std::to_string(options_.max_upload_bytes) +
                                                  " bytes"};
  }
  VEZA_ASSIGN_OR_RETURN(std::int64_t used, repo_.StorageUsed(owner_id));
  if (used + bytes > options_.storage_quota_bytes) {
    return Error{ErrorCode::kPayloadTooLarge,
                 "this upload would exceed your storage quota (" + std::to_string(used) + " of " +
                     std::to_string(options_.storage_quota_bytes) + " bytes used)"};
  }
  return Ok();
}

Result<std::int64_t> TrackService::UploadAllowance(std::string_view owner_id) {
  VEZA_ASSIGN_OR_RETURN(std::int64_t used, repo_.StorageUsed(owner_id));
  return std::max<std::int64_t>(
      0, std::min(options_.max_upload_bytes, options_.storage_quota_bytes - used));
}

Result<Track> TrackService::CreateFromFile(std::string_view owner_id,
                                           const std::filesystem::path& file,
                                           const UploadDescription& d) {
  std::error_code ec;
  auto size = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  if (ec) return Internal("cannot read the staged file");
  if (size == 0) return Error{ErrorCode::kUnprocessable, "empty file"};
  if (media_ != nullptr) {
    // Refuse what the pipeline cannot decode now, while the uploader is still there to read why.
    auto probed = media_->Probe(file);
    if (!probed.ok()) {
      if (probed.error().code == ErrorCode::kUnprocessable) return probed.take_error();
      log::Warn("probe failed; the media job will decide", {{"error", probed.error().message}});
    }
  }
  NewTrack n;
  n.id = NewId();
  n.owner_id = owner_id;
  n.title = d.title.empty() ? TitleFromFilename(d.filename) : d.title;
  n.title_from_filename = d.title.empty();
  n.visibility = d.visibility;
  n.original_key = BlobPrefix(n.id) + "original";
  n.original_size = size;
  n.original_content_type = d.content_type.empty() ? "application/octet-stream" : d.content_type;
  n.original_filename = d.filename.substr(0, 255);
  VEZA_TRY(StoreFile(blobs_, n.original_key, file, n.original_content_type));
  auto created = repo_.Create(n, NowMs());
  if (!created.ok()) {
    (void)blobs_.Delete(n.original_key);
    return created.take_error();
  }
  // The row is the truth: a failed enqueue is repaired by the media runner's resweep.
  if (Status queued = Enqueue(n.id); !queued.ok()) {
    log::Warn("media job not queued", {{"track_id", n.id}, {"error", queued.error().message}});
  }
  return created;
}

Status TrackService::Enqueue(std::string_view track_id) {
  Status queued = bus_.Enqueue(kMediaQueue, track_id);
  if (!queued.ok()) RequestResweep();
  return queued;
}

Result<int> TrackService::ResumePending() {
  VEZA_ASSIGN_OR_RETURN(std::vector<std::string> ids, repo_.ListPending());
  for (const std::string& id : ids) VEZA_TRY(Enqueue(id));
  return static_cast<int>(ids.size());
}

Result<Delivery> TrackService::Deliver(const Track& track, std::string_view rel) {
  // Every delivery route (bearer or signed URL, stream, HLS, original, cover) comes through here
  // with the track as it is now, so a takedown stops every URL already handed out at once.
  if (track.takedown) return NotFound("the track was taken down");
  Delivery d;
  std::string key;
  if (rel == "original") {
    key = track.original_key;
    d.content_type = track.original_content_type;
    d.immutable = false;
  } else {
    if (track.state != TrackState::kReady) return NotFound("the track is not ready");
    key = BlobPrefix(track.id) + std::string(rel);
    d.content_type = DerivedContentType(rel);
  }
  if (Status valid = ValidateBlobKey(key); !valid.ok()) return NotFound("no such file");
  VEZA_ASSIGN_OR_RETURN(std::optional<std::filesystem::path> local, blobs_.LocalPath(key));
  if (local) {
    d.kind = Delivery::Kind::kLocalFile;
    d.file = std::move(*local);
    return d;
  }
  // Playlists hold relative URIs: served from here they resolve back to Veza (and so to a
  // signed redirect per segment); served from S3 or a CDN they would point at unsigned URLs.
  if (EndsWith(rel, ".m3u8")) {
    d.kind = Delivery::Kind::kInline;
    VEZA_ASSIGN_OR_RETURN(d.info, blobs_.Stat(key));
    VEZA_ASSIGN_OR_RETURN(d.bytes, blobs_.GetAll(key));
    return d;
  }
  // No Stat before a redirect: the target answers 404 itself, and the round trip is saved.
  d.kind = Delivery::Kind::kRedirect;
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  if (cdn_ && rel != "original") {
    VEZA_ASSIGN_OR_RETURN(d.url, cdn_->SignedUrl(key, now + options_.redirect_ttl.count()));
    return d;
  }
  VEZA_ASSIGN_OR_RETURN(std::optional<std::string> url,
                        blobs_.PresignGet(key, options_.redirect_ttl));
  if (!url) return Internal("the blob store has neither local files nor presigned URLs");
  d.url = std::move(*url);
  return d;
}

}  // namespace veza::tracks
