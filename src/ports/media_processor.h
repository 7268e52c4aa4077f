#pragma once
// MediaProcessor port: turns one uploaded audio file into everything Veza serves for it
// (HLS ladder, progressive files, waveform, cover art) and reports what it found (format,
// duration, tags, loudness). The FFmpeg backend (src/backends/media_ffmpeg) runs each call in a
// child process with CPU-time, memory and file-size limits, so a hostile or corrupt file can
// crash or hang only that child. Calls block for as long as the work takes: run them on a
// media worker thread, never on an IO thread or the request worker pool.
//
// Rules every backend keeps:
// - Probe reads only as much as it needs and answers kUnprocessable with a reason a user can
//   act on ("not an audio file", "empty file", "longer than the 3 h limit", "corrupt: ...").
// - Process writes only below out_dir, with the layout below, and reports each file it wrote
//   in `outputs`; on error out_dir may hold partial files that the caller deletes.
// - Errors: kUnprocessable for input the pipeline refuses or cannot decode, kTimeout when a
//   limit stopped the child, kUnavailable/kInternal for our own failures (worth a retry).
//
// Layout of out_dir after Process (paths relative to out_dir, '/' separated):
//   hls/master.m3u8                  master playlist (BANDWIDTH, CODECS per variant)
//   hls/<bitrate>k/index.m3u8        one media playlist per rung: 64k, 128k, 256k
//   hls/<bitrate>k/<segment files>   ~6 s segments
//   stream.m4a                       AAC 256 kbps, MP4, faststart (progressive, ranged)
//   stream.opus                      Opus 160 kbps in Ogg (progressive, ranged)
//   waveform.json                    {"version":1,"points":N,"peaks":[0..1 floats]}
//   cover.jpg                        embedded cover art re-encoded as JPEG, when present
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace veza {

struct MediaFormat {
  std::string container;   // libavformat short name, e.g. "wav", "flac", "mp3", "ogg"
  std::string codec;       // e.g. "pcm_s16le", "flac", "mp3", "opus", "aac"
  int sample_rate = 0;     // Hz
  int channels = 0;
  int64_t duration_ms = 0;
  int64_t bit_rate = 0;    // bits/s, 0 when unknown
  bool lossless = false;
};

struct MediaTags {
  std::string title, artist, album, genre;
  std::optional<int> year;
  std::optional<int> track_number;
};

struct MediaLoudness {
  double integrated_lufs = 0;   // EBU R128 integrated loudness
  double loudness_range_lu = 0; // EBU R128 LRA
  double true_peak_dbtp = 0;    // max true peak over channels
  double replay_gain_db = 0;    // gain to reach -18 LUFS (ReplayGain 2.0 reference)
};

struct MediaOutput {
  std::string path;          // relative to out_dir, e.g. "hls/128k/index.m3u8"
  std::string content_type;  // e.g. "application/vnd.apple.mpegurl", "audio/mp4"
  int64_t size = 0;
};

struct MediaReport {
  MediaFormat format;
  MediaTags tags;
  MediaLoudness loudness;
  bool has_cover = false;          // cover.jpg written
  int waveform_points = 0;
  std::vector<MediaOutput> outputs;  // every file written below out_dir
};

// Called from the processing thread with 0..100 as work advances; may be called rarely.
using MediaProgress = std::function<void(int percent)>;

class MediaProcessor {
 public:
  virtual ~MediaProcessor() = default;
  // Quick check at upload time: is this a decodable audio file within the limits?
  virtual Result<MediaFormat> Probe(const std::filesystem::path& input) = 0;
  // Full pipeline; see the layout above.
  virtual Result<MediaReport> Process(const std::filesystem::path& input,
                                      const std::filesystem::path& out_dir,
                                      const MediaProgress& progress) = 0;
};

}  // namespace veza
