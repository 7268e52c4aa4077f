#include "backends/image_ffmpeg/ffmpeg_image_processor.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstring>

namespace veza {
namespace {

struct CodecCtxFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using CodecCtxPtr = std::unique_ptr<AVCodecContext, CodecCtxFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;

Error Corrupt() { return Error{ErrorCode::kUnprocessable, "the image is corrupt or truncated"}; }

Result<FramePtr> Decode(std::string_view bytes, ImageFormat format, const ImageLimits& limits) {
  // The MJPEG decoder "emulates" a missing end-of-image marker and returns a half-grey picture;
  // a JPEG without one is truncated.
  if (format == ImageFormat::kJpeg && bytes.find("\xFF\xD9") == std::string_view::npos)
    return Corrupt();
  AVCodecID id = format == ImageFormat::kJpeg  ? AV_CODEC_ID_MJPEG
                 : format == ImageFormat::kPng ? AV_CODEC_ID_PNG
                                               : AV_CODEC_ID_WEBP;
  const AVCodec* codec = avcodec_find_decoder(id);
  if (codec == nullptr)
    return Internal("no decoder for " + std::string(ImageFormatMimeType(format)));
  CodecCtxPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Internal("out of memory");
  // The decoder refuses larger canvases before allocating them (second line behind SniffImage).
  ctx->max_pixels = limits.max_pixels;
  ctx->thread_count = 1;
  // Corrupt data is an error, not a concealed picture.
  ctx->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0)
    return Internal("cannot open the image decoder");
  PacketPtr packet(av_packet_alloc());
  if (!packet || av_new_packet(packet.get(), static_cast<int>(bytes.size())) < 0)
    return Internal("out of memory");
  std::memcpy(packet->data, bytes.data(), bytes.size());
  if (avcodec_send_packet(ctx.get(), packet.get()) < 0) return Corrupt();
  avcodec_send_packet(ctx.get(), nullptr);  // end of stream: decoders with a delay flush now
  FramePtr frame(av_frame_alloc());
  if (!frame) return Internal("out of memory");
  if (avcodec_receive_frame(ctx.get(), frame.get()) < 0) return Corrupt();
  if (frame->width <= 0 || frame->height <= 0 || frame->width > limits.max_side ||
      frame->height > limits.max_side) {
    return Error{ErrorCode::kUnprocessable,
                 "the image is larger than " + std::to_string(limits.max_side) + " pixels a side"};
  }
  return frame;
}

// The centred square of `frame`, flattened on white, as packed RGB24 (side x side x 3).
Result<std::string> CentredSquareRgb(const AVFrame* frame, int& side) {
  side = std::min(frame->width, frame->height);
  int x0 = (frame->width - side) / 2, y0 = (frame->height - side) / 2;
  std::unique_ptr<SwsContext, SwsFree> sws(sws_getContext(
      frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
      frame->height, AV_PIX_FMT_RGBA, SWS_POINT, nullptr, nullptr, nullptr));
  if (!sws) return Error{ErrorCode::kUnprocessable, "unsupported pixel format"};
  std::string rgba(static_cast<std::size_t>(frame->width) * frame->height * 4, '\0');
  std::uint8_t* dst[4] = {reinterpret_cast<std::uint8_t*>(rgba.data()), nullptr, nullptr, nullptr};
  int dst_stride[4] = {frame->width * 4, 0, 0, 0};
  sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
  std::string rgb(static_cast<std::size_t>(side) * side * 3, '\0');
  for (int y = 0; y < side; ++y) {
    const auto* src = reinterpret_cast<const std::uint8_t*>(rgba.data()) +
                      (static_cast<std::size_t>(y0 + y) * frame->width + x0) * 4;
    auto* out =
        reinterpret_cast<std::uint8_t*>(rgb.data()) + static_cast<std::size_t>(y) * side * 3;
    for (int x = 0; x < side; ++x, src += 4, out += 3) {
      unsigned a = src[3];
      for (int c = 0; c < 3; ++c)
        out[c] = static_cast<std::uint8_t>((src[c] * a + 255 * (255 - a)) / 255);
    }
  }
  return rgb;
}

Result<std::string> EncodeJpeg(const std::string& rgb, int side, int size) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (codec == nullptr) return Internal("no JPEG encoder");
  CodecCtxPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Internal("out of memory");
  ctx->width = size;
  ctx->height = size;
  ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
  ctx->time_base = {1, 1};
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = FF_QP2LAMBDA * 3;  // qscale 3: visually clean at small sizes
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return Internal("cannot open the JPEG encoder");
  FramePtr frame(av_frame_alloc());
  if (!frame) return Internal("out of memory");
  frame->format = AV_PIX_FMT_YUVJ420P;
  frame->width = size;
  frame->height = size;
  frame->quality = ctx->global_quality;
  if (av_frame_get_buffer(frame.get(), 0) < 0) return Internal("out of memory");
  // Area averaging when shrinking (no aliasing), bicubic when a small image is enlarged.
  int flags = side >= size ? SWS_AREA : SWS_BICUBIC;
  std::unique_ptr<SwsContext, SwsFree> sws(sws_getContext(side, side, AV_PIX_FMT_RGB24, size, size,
                                                          AV_PIX_FMT_YUVJ420P, flags, nullptr,
                                                          nullptr, nullptr));
  if (!sws) return Internal("cannot scale the image");
  const std::uint8_t* src[4] = {reinterpret_cast<const std::uint8_t*>(rgb.data()), nullptr, nullptr,
                                nullptr};
  int src_stride[4] = {side * 3, 0, 0, 0};
  sws_scale(sws.get(), src, src_stride, 0, side, frame->data, frame->linesize);
  if (avcodec_send_frame(ctx.get(), frame.get()) < 0 ||
      avcodec_send_frame(ctx.get(), nullptr) < 0) {
    return Internal("JPEG encoding failed");
  }
  PacketPtr packet(av_packet_alloc());
  if (!packet || avcodec_receive_packet(ctx.get(), packet.get()) < 0)
    return Internal("JPEG encoding failed");
  return std::string(reinterpret_cast<const char*>(packet->data),
                     static_cast<std::size_t>(packet->size));
}

class FfmpegImageProcessor final : public ImageProcessor {
 public:
  FfmpegImageProcessor() { av_log_set_level(AV_LOG_QUIET); }  // errors come back as values

  Result<std::vector<EncodedImage>> SquareJpegs(std::string_view bytes, ImageFormat format,
                                                const std::vector<int>& sizes,
                                                const ImageLimits& limits) override {
    auto header = SniffImage(bytes);
    if (!header || header->format != format) {
      return Error{ErrorCode::kUnsupportedMediaType,
                   "the bytes are not a " + std::string(ImageFormatMimeType(format)) + " image"};
    }
    // Dimensions from the header are checked before any decoding (decompression bombs).
    if (header->width > limits.max_side || header->height > limits.max_side ||
        static_cast<long long>(header->width) * header->height > limits.max_pixels) {
      return Error{ErrorCode::kUnprocessable,
                   "the image is larger than " + std::to_string(limits.max_side) +
                       " pixels a side or " + std::to_string(limits.max_pixels / 1'000'000) +
                       " megapixels"};
    }
    if (bytes.size() > (1u << 30))
      return Error{ErrorCode::kPayloadTooLarge, "the image is too large"};
    VEZA_ASSIGN_OR_RETURN(FramePtr frame, Decode(bytes, format, limits));
    int side = 0;
    VEZA_ASSIGN_OR_RETURN(std::string rgb, CentredSquareRgb(frame.get(), side));
    std::vector<EncodedImage> out;
    for (int size : sizes) {
      if (size < 16 || size > 2048) return InvalidArgument("thumbnail sizes are 16 to 2048 pixels");
      VEZA_ASSIGN_OR_RETURN(std::string jpeg, EncodeJpeg(rgb, side, size));
      out.push_back({size, std::move(jpeg)});
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<ImageProcessor> MakeFfmpegImageProcessor() {
  return std::make_unique<FfmpegImageProcessor>();
}

}  // namespace veza
