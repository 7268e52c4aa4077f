#pragma once
// ImageProcessor port: still images in, square JPEG thumbnails out (avatars today). The FFmpeg
// backend (src/backends/image_ffmpeg) decodes with libavcodec and scales with libswscale, in
// memory: inputs are capped small enough (5 MiB, ImageLimits) for that. CPU-bound: run it on
// the worker pool.
//
// Rules every backend keeps:
// - Only JPEG, PNG and WebP stills are decoded; the bytes must be what the caller says they
//   are (SniffImage), else kUnsupportedMediaType.
// - Pixel dimensions are checked from the header before anything is decoded, and the decoder is
//   told the same cap, so a small file that claims a huge canvas (a decompression bomb) costs
//   nothing: kUnprocessable naming the limit.
// - Corrupt or truncated input is kUnprocessable; our own failures kInternal.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza {

enum class ImageFormat { kJpeg, kPng, kWebp };
std::string_view ImageFormatMimeType(ImageFormat format);  // "image/jpeg", ...
std::optional<ImageFormat> ImageFormatFromMimeType(std::string_view mime);

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;  // 0 when the header does not say before the image data
  int height = 0;
};
// The format from the magic bytes and, where the header holds them, the pixel dimensions
// (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X). nullopt for anything else.
std::optional<ImageHeader> SniffImage(std::string_view bytes);

struct ImageLimits {
  int max_side = 8192;                   // pixels, either dimension
  long long max_pixels = 4096LL * 4096;  // width * height
};

struct EncodedImage {
  int size = 0;  // width == height
  std::string jpeg;
};

class ImageProcessor {
 public:
  virtual ~ImageProcessor() = default;
  // Decodes `bytes` (which must be `format`), crops the largest centred square and scales it to
  // each of `sizes` (16..2048), encoded as baseline JPEG; transparency is flattened on white.
  virtual Result<std::vector<EncodedImage>> SquareJpegs(std::string_view bytes, ImageFormat format,
                                                        const std::vector<int>& sizes,
                                                        const ImageLimits& limits) = 0;
};

}  // namespace veza
