#pragma once
// Tracks: who may see, edit, delete and play them, storage quotas, turning an uploaded file
// into a track (probe, store the original, queue the media job) and deciding how each file is
// delivered (local file, redirect to a presigned S3 or signed CDN URL, or inline bytes).
// Blocking (database, blob store, probe): call it from the worker pool.
//
// Visibility: public tracks are listed and readable by anyone; unlisted ones are readable by id
// but never listed; private ones exist only for their owner (and moderators): to anyone else
// they are 404, not 403, so their existence is not revealed. A taken-down track (Track::takedown)
// is hidden the same way, and none of its files is served to anyone (404) until it is restored.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ports/blob_store.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/event_bus.h"
#include "ports/media_processor.h"
#include "services/tracks/track_repository.h"
#include "services/tracks/url_signing.h"

namespace veza::tracks {

inline constexpr std::string_view kMediaQueue = "media.process";

struct TrackOptions {
  std::int64_t storage_quota_bytes = 10LL << 30;  // per user: originals plus unfinished uploads
  std::int64_t max_upload_bytes = 2LL << 30;      // one file
  std::filesystem::path staging_dir = "./data/staging";
  std::chrono::seconds upload_expiry{24 * 3600};  // an idle tus upload is swept after this
  std::chrono::seconds stream_url_ttl{6 * 3600};
  std::chrono::seconds redirect_ttl{3600};  // presigned S3 and signed CDN URLs
};

// Who is asking. An empty user_id is an anonymous caller; moderator is true for moderators and
// above (api/http/authorization decides it from the current role).
struct Viewer {
  std::string user_id;
  bool moderator = false;
};

// What an uploaded file claims to be (tus Upload-Metadata or multipart fields).
struct UploadDescription {
  std::string filename;
  std::string content_type;
  std::string title;  // empty: from the tags, else the file name
  Visibility visibility = Visibility::kPublic;
};

// How to answer a request for one of a track's files.
struct Delivery {
  enum class Kind { kLocalFile, kRedirect, kInline };
  Kind kind = Kind::kInline;
  std::filesystem::path file;  // kLocalFile
  std::string url;             // kRedirect
  std::string bytes;           // kInline (playlists from a remote store)
  std::string content_type;
  BlobInfo info;
  bool immutable = true;  // derived files never change under their key
};

class TrackService {
 public:
  // media may be null (no pipeline on this build): uploads are then accepted without a probe.
  // cdn may be null: remote stores redirect to presigned URLs then.
  TrackService(Database& db, BlobStore& blobs, EventBus& bus, MediaProcessor* media, Clock& clock,
               TrackOptions options, std::string stream_secret,
               std::unique_ptr<CloudFrontSigner> cdn = {});

  TrackRepository& repository() { return repo_; }
  const TrackOptions& options() const { return options_; }
  const StreamTokens& tokens() const { return tokens_; }

  Result<Track> Get(const Viewer& viewer, std::string_view id);
  // The tracks with these ids (at most 100) that the viewer may see, in the order of ids, read
  // in one query: for lists (feeds, search results) that hold track ids.
  Result<std::vector<Track>> GetMany(const Viewer& viewer, const std::vector<std::string>& ids);
  Result<TrackPage> ListPublic(std::string_view cursor, int limit);
  // The viewer's own tracks, every state and visibility.
  Result<TrackPage> ListMine(const Viewer& viewer, std::string_view cursor, int limit);
  // A user's public, ready tracks; 404 when there is no such user.
  Result<TrackPage> ListByUsername(std::string_view username, std::string_view cursor, int limit);
  // Owner only: others get 404 when the track is hidden from them, else 403.
  Result<Track> Edit(const Viewer& viewer, std::string_view id, const TrackEdit& edit);
  // Owner or moderator: removes every blob under tracks/{id}/ and then the row.
  Status Delete(const Viewer& viewer, std::string_view id);
  Status RecordPlay(const Viewer& viewer, std::string_view id);

  // Whether the viewer may play the track (and so gets stream URLs): ready, and visible to them.
  static bool MayPlay(const Viewer& viewer, const Track& track);
  static bool MaySee(const Viewer& viewer, const Track& track);
  // "<expires>" token for the viewer, for stream_url/hls_url; nullopt when they may not play.
  std::optional<std::string> StreamToken(const Viewer& viewer, const Track& track);
  // Checks a token from a URL against the track as it is now; 404 for a track hidden from the
  // token's scope, 403 for a bad or expired token.
  Result<TokenScope> CheckToken(const Track& track, std::string_view token);

  // kPayloadTooLarge when a file of `bytes` is over the upload limit or would take the owner
  // past the storage quota.
  Status CheckQuota(std::string_view owner_id, std::int64_t bytes);
  // The largest file the owner may upload now: the upload limit or what is left of the quota.
  Result<std::int64_t> UploadAllowance(std::string_view owner_id);
  // Probes the file (kUnprocessable when the pipeline refuses it), stores it as the original,
  // creates the track (uploaded) and queues the media job. The file is left for the caller.
  Result<Track> CreateFromFile(std::string_view owner_id, const std::filesystem::path& file,
                               const UploadDescription& description);
  // Queues the media job; a failure (the bus is down) asks for a resweep (below).
  Status Enqueue(std::string_view track_id);
  // Queues every track still waiting (the database is the truth; duplicates are no-ops).
  // Returns how many.
  Result<int> ResumePending();
  // Some track may wait with no job queued (an enqueue failed, or a job gave its track back
  // during an outage): the media runner's sweeper calls ResumePending once the bus takes jobs.
  void RequestResweep() { resweep_requested_ = true; }
  bool TakeResweepRequest() { return resweep_requested_.exchange(false); }

  // rel: "original", "stream.m4a", "stream.opus", "waveform.json", "cover.jpg" or "hls/...".
  Result<Delivery> Deliver(const Track& track, std::string_view rel);

  // The BlobStore prefix of a track's files.
  static std::string BlobPrefix(std::string_view track_id) {
    return "tracks/" + std::string(track_id) + "/";
  }

 private:
  Result<Track> GetForOwner(const Viewer& viewer, std::string_view id);
  Status DeleteBlobs(std::string_view track_id);
  std::int64_t NowMs() const;

  Database& db_;
  BlobStore& blobs_;
  EventBus& bus_;
  MediaProcessor* media_;
  Clock& clock_;
  TrackOptions options_;
  TrackRepository repo_;
  StreamTokens tokens_;
  std::atomic<bool> resweep_requested_{false};
  std::unique_ptr<CloudFrontSigner> cdn_;
};

// Content type of a derived file by its extension.
std::string_view DerivedContentType(std::string_view rel);

}  // namespace veza::tracks
