// `veza media-worker OP INPUT [OUT_DIR]`: the child process of the FFmpeg media backend. It is
// started by the backend with limits and an empty environment; people do not run it by hand.
#include "backends/media_ffmpeg/ffmpeg_media_processor.h"
#include "server/app.h"

namespace veza::server {

int MediaWorker(const MediaWorkerRequest& request) { return RunMediaWorker(request); }

}  // namespace veza::server
