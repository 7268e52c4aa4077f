#include "ports/image_processor.h"

#include <cstdint>

namespace veza {

namespace {

std::uint32_t Be16(std::string_view b, std::size_t at) {
  return (static_cast<std::uint8_t>(b[at]) << 8) | static_cast<std::uint8_t>(b[at + 1]);
}
std::uint32_t Be32(std::string_view b, std::size_t at) {
  return (Be16(b, at) << 16) | Be16(b, at + 2);
}
std::uint32_t Le16(std::string_view b, std::size_t at) {
  return static_cast<std::uint8_t>(b[at]) | (static_cast<std::uint8_t>(b[at + 1]) << 8);
}
std::uint32_t Le24(std::string_view b, std::size_t at) {
  return Le16(b, at) | (static_cast<std::uint8_t>(b[at + 2]) << 16);
}

// Walks JPEG markers to the first start-of-frame (SOF0..SOF15 but DHT, JPG and DAC).
void JpegDimensions(std::string_view b, ImageHeader& h) {
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<std::uint8_t>(b[i]) != 0xFF) return;
    std::uint8_t marker = static_cast<std::uint8_t>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      i += 2;
      continue;
    }
    std::uint32_t len = Be16(b, i + 2);
    if (len < 2) return;
    bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return;
      h.height = static_cast<int>(Be16(b, i + 5));
      h.width = static_cast<int>(Be16(b, i + 7));
      return;
    }
    if (marker == 0xDA) return;  // start of scan before any frame header: corrupt
    i += 2 + len;
  }
}

}  // namespace

std::string_view ImageFormatMimeType(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

std::optional<ImageFormat> ImageFormatFromMimeType(std::string_view mime) {
  mime = mime.substr(0, mime.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  if (mime == "image/jpeg") return ImageFormat::kJpeg;
  if (mime == "image/png") return ImageFormat::kPng;
  if (mime == "image/webp") return ImageFormat::kWebp;
  return std::nullopt;
}

std::optional<ImageHeader> SniffImage(std::string_view b) {
  ImageHeader h;
  if (b.size() >= 24 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8) &&
      b.substr(12, 4) == "IHDR") {
    h.format = ImageFormat::kPng;
    std::uint32_t w = Be32(b, 16), hh = Be32(b, 20);
    h.width = w > 1u << 30 ? (1 << 30) : static_cast<int>(w);
    h.height = hh > 1u << 30 ? (1 << 30) : static_cast<int>(hh);
    return h;
  }
  if (b.size() >= 4 && static_cast<std::uint8_t>(b[0]) == 0xFF &&
      static_cast<std::uint8_t>(b[1]) == 0xD8 && static_cast<std::uint8_t>(b[2]) == 0xFF) {
    h.format = ImageFormat::kJpeg;
    JpegDimensions(b, h);
    return h;
  }
  if (b.size() >= 30 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    h.format = ImageFormat::kWebp;
    std::string_view chunk = b.substr(12, 4);
    if (chunk == "VP8X") {
      h.width = static_cast<int>(Le24(b, 24)) + 1;
      h.height = static_cast<int>(Le24(b, 27)) + 1;
    } else if (chunk == "VP8L" && b.size() >= 25) {
      std::uint32_t bits = Le16(b, 21) | (Le16(b, 23) << 16);
      h.width = static_cast<int>(bits & 0x3FFF) + 1;
      h.height = static_cast<int>((bits >> 14) & 0x3FFF) + 1;
    } else if (chunk == "VP8 ") {
      h.width = static_cast<int>(Le16(b, 26) & 0x3FFF);
      h.height = static_cast<int>(Le16(b, 28) & 0x3FFF);
    }
    return h;
  }
  return std::nullopt;
}

}  // namespace veza
