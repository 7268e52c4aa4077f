#pragma once
// ImageProcessor over the FFmpeg libraries (libavcodec decoders and the MJPEG encoder,
// libswscale), in process and in memory: avatars are small, capped before decoding, and the
// decoders run with one thread and a pixel cap.
#include <memory>

#include "ports/image_processor.h"

namespace veza {

std::unique_ptr<ImageProcessor> MakeFfmpegImageProcessor();

}  // namespace veza
