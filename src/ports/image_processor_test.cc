#include "ports/image_processor.h"

#include <gtest/gtest.h>

namespace veza {
namespace {

TEST(SniffImage, ReadsFormatAndDimensionsFromHeaders) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x03\x20\0\0\x02\x58\x08\x02\0\0\0", 29);
  auto h = SniffImage(png);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->format, ImageFormat::kPng);
  EXPECT_EQ(h->width, 800);
  EXPECT_EQ(h->height, 600);

  // SOI, an APP0 segment, then SOF0 with height 480 and width 640.
  std::string jpeg(
      "\xFF\xD8\xFF\xE0\0\x04"
      "ab"
      "\xFF\xC0\0\x11\x08\x01\xE0\x02\x80\x03",
      18);
  h = SniffImage(jpeg);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->format, ImageFormat::kJpeg);
  EXPECT_EQ(h->width, 640);
  EXPECT_EQ(h->height, 480);

  std::string webp =
      std::string("RIFF\0\0\0\0WEBPVP8X", 16) + std::string(8, '\0') +
      std::string("\x1f\x03\0\x57\x02\0", 6);  // canvas 800 x 600 (minus one, 24-bit LE)
  h = SniffImage(webp);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->format, ImageFormat::kWebp);
  EXPECT_EQ(h->width, 800);
  EXPECT_EQ(h->height, 600);
}

TEST(SniffImage, AnythingElseIsNotAnImage) {
  EXPECT_FALSE(SniffImage("").has_value());
  EXPECT_FALSE(SniffImage("GIF89a\x01\x00\x01\x00").has_value());
  EXPECT_FALSE(SniffImage("\x89PNG").has_value());
  EXPECT_FALSE(SniffImage("<svg xmlns='http://www.w3.org/2000/svg'/>").has_value());
}

TEST(ImageFormat, MimeTypesBothWays) {
  EXPECT_EQ(ImageFormatFromMimeType("image/png"), ImageFormat::kPng);
  EXPECT_EQ(ImageFormatFromMimeType("image/jpeg; charset=binary"), ImageFormat::kJpeg);
  EXPECT_EQ(ImageFormatFromMimeType("image/webp"), ImageFormat::kWebp);
  EXPECT_FALSE(ImageFormatFromMimeType("image/gif").has_value());
  EXPECT_FALSE(ImageFormatFromMimeType("image/svg+xml").has_value());
  EXPECT_EQ(ImageFormatMimeType(ImageFormat::kWebp), "image/webp");
}

}  // namespace
}  // namespace veza
