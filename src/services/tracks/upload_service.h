#pragma once
// Resumable uploads (tus 1.0 core with the creation, checksum, expiration and termination
// extensions; the HTTP side is api/http/upload_routes.cc). The bytes go to a staging file
// <staging_dir>/uploads/<id> on the node that created the upload; the row in `uploads` holds the
// offset, so a node answers only for uploads whose file it has (put uploads behind sticky
// routing when several nodes take them). When the last byte arrives the file becomes a track
// through TrackService::CreateFromFile (probe, store, queue the media job).
//
// The quota is charged at creation for the whole Upload-Length (unfinished uploads count in
// StorageUsed), and no append may go past Upload-Length, so a client cannot write more than it
// was allowed.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ports/clock.h"
#include "services/tracks/track_service.h"

namespace veza::tracks {

enum class ChecksumAlgorithm { kSha1, kSha256 };

struct ExpectedChecksum {
  ChecksumAlgorithm algorithm;
  std::string digest;  // raw bytes (tus sends them base64-encoded)
};

struct AppendOutcome {
  std::int64_t offset = 0;  // where the upload stands now
  std::int64_t expires_at_ms = 0;
  bool checksum_mismatch = false;  // the chunk was discarded
  std::optional<Track> track;      // set when this append completed the upload
};

// One PATCH: bytes are written to the staging file as they come; Finish checks the checksum
// and commits the new offset. Destroyed without Finish, or with a bad checksum, the chunk is cut
// off again.
class UploadAppender {
 public:
  virtual ~UploadAppender() = default;
  // kPayloadTooLarge past the declared Upload-Length.
  virtual Status Write(std::string_view bytes) = 0;
  virtual Result<AppendOutcome> Finish() = 0;
};

class UploadService {
 public:
  UploadService(TrackService& tracks, Clock& clock);
  ~UploadService();

  Result<Upload> Create(const Viewer& viewer, std::int64_t length,
                        const UploadDescription& description);
  // The caller's own upload; anyone else's, or an expired one, is kNotFound.
  Result<Upload> Find(const Viewer& viewer, std::string_view id);
  // kConflict when offset is not where the upload stands.
  Result<std::unique_ptr<UploadAppender>> Append(const Viewer& viewer, std::string_view id,
                                                 std::int64_t offset,
                                                 std::optional<ExpectedChecksum> checksum);
  Status Terminate(const Viewer& viewer, std::string_view id);
  // Deletes expired uploads and their files; returns how many.
  Result<int> SweepExpired();
  // Sweeps every interval on a thread of its own until Stop.
  void StartSweeper(std::chrono::milliseconds interval);
  void Stop();

  std::filesystem::path StagingFile(std::string_view id) const;

 private:
  friend class StagedAppender;
  std::int64_t NowMs() const;
  TrackService& tracks_;
  Clock& clock_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace veza::tracks
