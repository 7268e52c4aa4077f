// libFuzzer target for the probe path (media::ProbeAudio): whatever bytes an upload holds, the
// probe answers a Result and neither crashes nor reads out of bounds. Built with clang,
// -fsanitize=fuzzer,address,undefined; our code is instrumented, the system FFmpeg is not.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "backends/media_ffmpeg/media_pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The probe takes a path, as in production; an in-memory file keeps the disk out of it.
  static const int fd = [] {
    av_log_set_level(AV_LOG_QUIET);
    return memfd_create("probe-input", 0);
  }();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0) return 0;
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  veza::media::PipelineLimits limits;
  auto format = veza::media::ProbeAudio(path, limits);
  if (format.ok() && (format->sample_rate <= 0 || format->channels <= 0)) __builtin_trap();
  return 0;
}
