#pragma once
// MediaProcessor backend on the FFmpeg libraries, TagLib and libebur128. Every Probe and
// Process runs in a child process, `<worker_binary> media-worker ...` (the hidden subcommand of
// `veza`), started with an empty environment, stdin on /dev/null, no inherited descriptors and
// RLIMIT_CPU / RLIMIT_AS / RLIMIT_FSIZE, and killed at a wall-clock deadline. The child writes
// its answer as one JSON object on stdout and progress as "<percent>\n" lines on fd 3.
//
// Errors, beyond the port's rules: a limit that stops the child (CPU, memory, output size,
// wall clock) is kTimeout naming the limit; a child killed by any other signal is
// kUnavailable naming the signal (a retry may succeed); a child that cannot start or answers
// nonsense is kInternal.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "ports/media_processor.h"

namespace veza {

struct FfmpegMediaOptions {
  // The executable that has the `media-worker` subcommand: this very `veza` by default.
  std::filesystem::path worker_binary = "/proc/self/exe";
  std::chrono::seconds cpu_time{600};  // RLIMIT_CPU per call
  int64_t memory_mb = 1024;            // RLIMIT_AS per call
  int64_t max_output_mb = 2048;        // RLIMIT_FSIZE: the largest file written
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};    // wall clock per call
  std::chrono::milliseconds max_duration{std::chrono::hours(3)};  // longer input is refused
};

// Checks that the worker binary exists and the limits make sense.
Result<std::unique_ptr<MediaProcessor>> OpenFfmpegMediaProcessor(const FfmpegMediaOptions& options);

// What `veza media-worker` was asked to do; see RunMediaWorker.
struct MediaWorkerRequest {
  std::string op;  // "probe" or "process"
  std::filesystem::path input;
  std::filesystem::path out_dir;  // process only
  std::chrono::milliseconds max_duration{std::chrono::hours(3)};
  int progress_fd = -1;  // where "<percent>\n" lines go; -1: nowhere
};

// The child's side: runs the pipeline in this process, prints the JSON answer on stdout and
// returns the exit code (0 whenever an answer was printed, errors included).
int RunMediaWorker(const MediaWorkerRequest& request);

}  // namespace veza
