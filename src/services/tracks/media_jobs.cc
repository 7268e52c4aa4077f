#include "services/tracks/media_jobs.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "base/ids.h"
#include "base/log.h"

namespace veza::tracks {
namespace fs = std::filesystem;

namespace {

// Copies a blob to a local file in 1 MiB pieces.
Status FetchBlob(BlobStore& blobs, std::string_view key, const fs::path& to) {
  VEZA_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, blobs.OpenReader(key));
  int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create a temp file for the original");
  while (true) {
    auto chunk = reader->Read(1 << 20);
    if (!chunk.ok()) {
      ::close(fd);
      return chunk.take_error();
    }
    if (chunk->empty()) break;
    std::string_view rest = *chunk;
    while (!rest.empty()) {
      ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        return Internal("cannot write the temp copy of the original");
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  if (::close(fd) != 0) return Internal("cannot write the temp copy of the original");
  return Ok();
}

Status StoreFile(BlobStore& blobs, const std::string& key, const fs::path& file,
                 std::string_view content_type) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open a pipeline output");
  auto writer = blobs.OpenWriter(key, content_type);
  if (!writer.ok()) {
    ::close(fd);
    return writer.take_error();
  }
  std::string buffer(1 << 20, '\0');
  Status st = Ok();
  while (st.ok()) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = Internal("cannot read a pipeline output");
    if (n <= 0) break;
    st = (*writer)->Write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  VEZA_TRY(st);
  VEZA_TRY((*writer)->Commit());
  return Ok();
}

// A relative output path that stays below the track's prefix.
bool SafeRelative(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  return ValidateBlobKey(path).ok();
}

}  // namespace

MediaJobRunner::MediaJobRunner(TrackService& tracks, BlobStore& blobs, EventBus& bus,
                               MediaProcessor& media, Clock& clock, MediaJobOptions options)
    : tracks_(tracks),
      blobs_(blobs),
      bus_(bus),
      media_(media),
      clock_(clock),
      options_(std::move(options)) {}

MediaJobRunner::~MediaJobRunner() { Stop(); }

std::int64_t MediaJobRunner::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

Status MediaJobRunner::Start() {
  std::error_code ec;
  fs::create_directories(options_.temp_dir, ec);
  if (ec) return Internal("cannot create the media temp dir " + options_.temp_dir.string());
  VEZA_ASSIGN_OR_RETURN(int pending, tracks_.ResumePending());
  log::Info("media workers starting", {{"workers", options_.workers}, {"pending_tracks", pending}});
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { Work(); });
  threads_.emplace_back([this] { Sweep(); });
  return Ok();
}

void MediaJobRunner::Stop() {
  stopping_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void MediaJobRunner::Work() {
  QueueOptions queue;
  queue.ack_wait = options_.lease;
  queue.max_attempts = options_.max_attempts + 1;  // the last delivery marks the track failed
  while (!stopping_) {
    auto job = bus_.Fetch(kMediaQueue, std::chrono::milliseconds(300), queue);
    if (!job.ok()) {
      log::Warn("media queue fetch failed", {{"error", job.error().message}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (*job == nullptr) continue;
    Outcome outcome = Run((*job)->Payload(), (*job)->Attempt());
    Status st = outcome == Outcome::kRetry             ? (*job)->Retry(options_.retry_delay)
                : outcome == Outcome::kRetryAfterLease ? (*job)->Retry(options_.lease)
                                                       : (*job)->Ack();
    if (!st.ok()) log::Warn("media job ack failed", {{"error", st.error().message}});
  }
}

void MediaJobRunner::Sweep() {
  auto next = std::chrono::steady_clock::now() + options_.resweep_interval;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() < next) continue;
    next = std::chrono::steady_clock::now() + options_.resweep_interval;
    if (!tracks_.TakeResweepRequest()) continue;
    auto queued = tracks_.ResumePending();
    if (!queued.ok()) {
      tracks_.RequestResweep();  // still down: try again next round
      log::Debug("media resweep failed", {{"error", queued.error().message}});
      continue;
    }
    log::Info("media jobs queued again", {{"tracks", *queued}});
  }
}

void MediaJobRunner::Publish(std::string_view id, std::string_view state, int progress,
                             std::string_view reason) {
  boost::json::object event{{"id", id}, {"state", state}, {"progress", progress}};
  if (!reason.empty()) event["failure_reason"] = reason;
  Status st = bus_.Publish("tracks." + std::string(id) + ".state", boost::json::serialize(event));
  if (!st.ok()) log::Debug("track state event not published", {{"error", st.error().message}});
}

MediaJobRunner::Outcome MediaJobRunner::Run(std::string_view track_id, int attempt) {
  TrackRepository& repo = tracks_.repository();
  auto claimed = repo.ClaimForProcessing(track_id, NowMs(), options_.lease.count());
  if (!claimed.ok()) {
    ErrorCode code = claimed.error().code;
    if (code == ErrorCode::kConflict) {
      auto now = repo.FindById(track_id);
      if (now.ok() && now->state == TrackState::kProcessing) return Outcome::kRetryAfterLease;
    }
    if (code == ErrorCode::kNotFound || code == ErrorCode::kConflict) {
      log::Info("media job skipped", {{"track_id", track_id}, {"reason", claimed.error().message}});
      return Outcome::kDone;
    }
    log::Warn("media job cannot claim its track",
              {{"track_id", track_id}, {"error", claimed.error().message}});
    return Outcome::kRetry;
  }
  const Track& track = claimed.value();
  Publish(track.id, "processing", 0);
  log::Info("media job started", {{"track_id", track.id}, {"attempt", track.attempts}});

  fs::path dir = options_.temp_dir / ("job-" + NewId());
  Status st = Process(track, dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) log::Warn("media temp dir left behind", {{"dir", dir.string()}});

  if (st.ok()) {
    Publish(track.id, "ready", 100);
    log::Info("media job done", {{"track_id", track.id}});
    return Outcome::kDone;
  }
  const Error& e = st.error();
  if (e.code == ErrorCode::kNotFound) {
    // Deleted while it was being processed: remove what the job stored meanwhile.
    auto page = blobs_.List(TrackService::BlobPrefix(track.id), "", 1000);
    if (page.ok()) {
      for (const BlobInfo& b : *page) (void)blobs_.Delete(b.key);
    }
    log::Info("media job dropped: track deleted", {{"track_id", track.id}});
    return Outcome::kDone;
  }
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) {
    log::Warn("media job waits for a dependency", {{"track_id", track.id}, {"error", e.message}});
    if (Status back = repo.ReleaseLease(track.id, NowMs(), /*refund_attempt=*/true); !back.ok()) {
      return Outcome::kRetry;  // the database is down too: the lease runs out, the sweep retries
    }
    tracks_.RequestResweep();
    return Outcome::kDone;
  }
  bool final_attempt = track.attempts >= options_.max_attempts || attempt >= options_.max_attempts;
  if (e.code == ErrorCode::kUnprocessable || final_attempt) {
    std::string reason =
        e.code == ErrorCode::kUnprocessable
            ? e.message
            : "processing failed after " + std::to_string(track.attempts) + " attempts";
    log::Warn("media job failed",
              {{"track_id", track.id}, {"error", e.message}, {"attempts", track.attempts}});
    if (Status marked = repo.MarkFailed(track.id, reason, NowMs()); !marked.ok())
      return Outcome::kRetry;
    Publish(track.id, "failed", 0, reason);
    return Outcome::kDone;
  }
  log::Warn("media job will be retried",
            {{"track_id", track.id}, {"error", e.message}, {"attempt", track.attempts}});
  (void)repo.ReleaseLease(track.id, NowMs());
  return Outcome::kRetry;
}

Status MediaJobRunner::Process(const Track& track, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "out", ec);
  if (ec) return Internal("cannot create the media job dir");
  fs::path original = dir / "original";
  VEZA_TRY(FetchBlob(blobs_, track.original_key, original));

  TrackRepository& repo = tracks_.repository();
  int last_reported = 0;
  std::int64_t last_renewed_ms = NowMs();
  MediaProgress progress = [&](int percent) {
    // The database and the bus hear of every 5 %, not of every callback, and the lease is
    // renewed at least three times per lease period.
    std::int64_t now_ms = NowMs();
    bool renew_due = now_ms - last_renewed_ms > options_.lease.count() / 3;
    if (percent < last_reported + 5 && percent < 100 && !renew_due) return;
    last_renewed_ms = now_ms;
    if (percent >= last_reported + 5 || percent >= 100) {
      last_reported = percent;
      Publish(track.id, "processing", percent);
    }
    (void)repo.SetProgress(track.id, last_reported, now_ms, now_ms + options_.lease.count());
  };
  auto processed = media_.Process(original, dir / "out", progress);
  if (!processed.ok()) {
    Error e = processed.take_error();
    // A worker that crashed or ran out of time failed on this file: that spends an attempt,
    // unlike an outage of the blob store or the database (see Run).
    if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) e.code = ErrorCode::kInternal;
    return e;
  }
  MediaReport report = std::move(processed).value();

  std::string prefix = TrackService::BlobPrefix(track.id);
  for (const MediaOutput& output : report.outputs) {
    if (!SafeRelative(output.path) || output.path == "original") {
      return Internal("the pipeline reported an output outside its directory");
    }
    std::string type = output.content_type.empty() ? std::string(DerivedContentType(output.path))
                                                   : output.content_type;
    VEZA_TRY(StoreFile(blobs_, prefix + output.path, dir / "out" / output.path, type));
  }
  return repo.MarkReady(track.id, report, NowMs());
}

}  // namespace veza::tracks
