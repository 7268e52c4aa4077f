#pragma once
// Opening an upload for decoding, shared by Probe and Process.
#include <filesystem>
#include <string>

#include "backends/media_ffmpeg/av_util.h"
#include "backends/media_ffmpeg/media_pipeline.h"

namespace veza::media {

struct AudioInput {
  InputPtr format;
  CodecPtr decoder;
  int stream_index = -1;
  int cover_stream_index = -1;  // an attached picture (cover art) stream, or -1
  MediaFormat info;
};

// Everything Probe checks except decoding: the demuxer allow-list, streams, codec, duration.
Result<AudioInput> OpenAudioInput(const std::filesystem::path& input, const PipelineLimits& limits);

// Decodes up to max_packets packets of the audio stream; kUnprocessable ("corrupt: ...") when
// none of them gives a sample. Leaves the input positioned wherever reading stopped.
Status DecodeSome(AudioInput& in, int max_packets);

inline Error Unprocessable(std::string message) {
  return {ErrorCode::kUnprocessable, std::move(message)};
}

}  // namespace veza::media
