#pragma once
// The media job runner: workers that take track ids from the EventBus work queue
// (kMediaQueue), run the MediaProcessor on the original and store what it wrote under
// tracks/{id}/ with the same relative layout. State and progress go to the database and to
// the bus subject tracks.{id}.state ({"id","state","progress","failure_reason"}).
//
// - Idempotent: a job claims the track first (uploaded, or processing with an expired lease);
//   a ready, failed, deleted or leased track makes the job a no-op.
// - kUnprocessable from the pipeline fails the track at once with its reason; other errors
//   are retried, and the track fails after max_attempts.
// - A dependency's outage (kUnavailable, kTimeout: the blob store or database down) is not
//   the file's fault: the job gives its track back without spending an attempt, and the
//   sweeper queues it again after resweep_interval, for as long as the outage lasts.
// - Start() queues every track still pending, the database being the truth (duplicates are
//   no-ops); the sweeper does it again whenever an enqueue failed (the bus was down) or a job
//   gave its track back.
// - Temp files (the original's copy, the output dir) are removed whatever happens.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ports/blob_store.h"
#include "ports/clock.h"
#include "ports/event_bus.h"
#include "ports/media_processor.h"
#include "services/tracks/track_service.h"

namespace veza::tracks {

struct MediaJobOptions {
  int workers = 1;
  std::filesystem::path temp_dir = "./data/staging/media";
  int max_attempts = 3;
  // How long a worker owns a claimed track without a sign of life; the worker renews it as it
  // makes progress, and a crashed worker's track is taken over once it runs out.
  std::chrono::milliseconds lease{60 * 1000};
  std::chrono::milliseconds retry_delay{2000};
  std::chrono::milliseconds resweep_interval{5000};
};

class MediaJobRunner {
 public:
  MediaJobRunner(TrackService& tracks, BlobStore& blobs, EventBus& bus, MediaProcessor& media,
                 Clock& clock, MediaJobOptions options);
  ~MediaJobRunner();
  MediaJobRunner(const MediaJobRunner&) = delete;
  MediaJobRunner& operator=(const MediaJobRunner&) = delete;

  // Queues pending tracks and starts the workers.
  Status Start();
  // Stops fetching and waits for the jobs in hand to finish.
  void Stop();

  // kRetryAfterLease: another worker holds the track; ask again when its lease may have run
  // out (it crashed), which is a no-op if that worker finished meanwhile.
  enum class Outcome { kDone, kRetry, kRetryAfterLease };
  // One job: what a worker does with each delivery.
  Outcome Run(std::string_view track_id, int attempt);

 private:
  void Work();
  void Sweep();
  Status Process(const Track& track, const std::filesystem::path& dir);
  void Publish(std::string_view id, std::string_view state, int progress,
               std::string_view reason = "");
  std::int64_t NowMs() const;

  TrackService& tracks_;
  BlobStore& blobs_;
  EventBus& bus_;
  MediaProcessor& media_;
  Clock& clock_;
  MediaJobOptions options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace veza::tracks
