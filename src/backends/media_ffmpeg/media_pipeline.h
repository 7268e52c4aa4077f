#pragma once
// The media pipeline itself, in-process: what `veza media-worker` runs inside its sandboxed
// child. The parent side (ffmpeg_media_processor.h) never calls these directly, so a crash or
// hang in FFmpeg, TagLib or our own code stays in the child. The fuzz target calls ProbeAudio.
#include <chrono>
#include <filesystem>
#include <string>

#include "base/result.h"
#include "ports/media_processor.h"

namespace veza::media {

// Limits the pipeline checks itself (the process limits are set by the parent).
struct PipelineLimits {
  std::chrono::milliseconds max_duration{std::chrono::hours(3)};
};

// Opens the file with an allow-list of audio demuxers and the file protocol only, checks it is
// audio (no real video stream), not empty, within max_duration, and decodes its first packets.
Result<MediaFormat> ProbeAudio(const std::filesystem::path& input, const PipelineLimits& limits);

// Decodes once and, in parallel threads, encodes the AAC ladder (one 256 kbps encoder feeds
// both the HLS top rung and stream.m4a), the Opus file, the waveform and the loudness; then
// reads tags and cover art. Writes the layout of ports/media_processor.h below out_dir.
Result<MediaReport> ProcessAudio(const std::filesystem::path& input,
                                 const std::filesystem::path& out_dir, const PipelineLimits& limits,
                                 const MediaProgress& progress);

// "longer than the 3 h limit": a limit as a user reads it.
std::string DescribeDuration(std::chrono::milliseconds d);

}  // namespace veza::media
