#include "api/http/multipart.h"

#include <gtest/gtest.h>

namespace veza::http {
namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=\"b0\"";

struct Parsed {
  Status status = Ok();
  std::vector<std::pair<std::string, std::string>> fields;
  std::string filename, file_type, file;
};

// Feeds `body` `piece` bytes at a time, as reads from a socket would.
Parsed Parse(std::string_view body, std::size_t piece, MultipartLimits limits = {}) {
  Parsed out;
  auto parser = MultipartParser::ForContentType(kType, limits);
  EXPECT_TRUE(parser.ok());
  std::size_t pos = 0;
  while (true) {
    auto step = parser->Next(pos >= body.size());
    if (!step.ok()) {
      out.status = step.take_error();
      return out;
    }
    if (*step == MultipartParser::Step::kDone) break;
    if (*step == MultipartParser::Step::kFileData) out.file.append(parser->file_data());
    if (*step == MultipartParser::Step::kNeedMore) {
      std::size_t n = std::min(piece, body.size() - pos);
      parser->Append(body.substr(pos, n));
      pos += n;
    }
  }
  out.fields = parser->fields();
  out.filename = parser->filename();
  out.file_type = parser->file_content_type();
  return out;
}

const std::string kForm =
    "--b0\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nNight Drive\r\n"
    "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"night.wav\"\r\n"
    "Content-Type: audio/wav\r\n\r\nRIFF\r\n--b is not the end\r\n-\r\n--b0--\r\n";

TEST(MultipartParser, GivesFieldsAndTheFileWhateverTheReadSizes) {
  for (std::size_t piece : {1, 2, 5, 13, 64, 4096}) {
    Parsed p = Parse(kForm, piece);
    ASSERT_TRUE(p.status.ok()) << piece << ": " << p.status.error().message;
    ASSERT_EQ(p.fields.size(), 1u);
    EXPECT_EQ(p.fields[0].first, "title");
    EXPECT_EQ(p.fields[0].second, "Night Drive");
    EXPECT_EQ(p.filename, "night.wav");
    EXPECT_EQ(p.file_type, "audio/wav");
    EXPECT_EQ(p.file, "RIFF\r\n--b is not the end\r\n-") << piece;
  }
}

TEST(MultipartParser, RefusesOtherMediaTypesAndBadBoundaries) {
  EXPECT_EQ(MultipartParser::ForContentType("application/json").error().code, ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(MultipartParser::ForContentType("multipart/form-data").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(MultipartParser::ForContentType("multipart/form-data; boundary=" + std::string(71, 'x')).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(MultipartParser::ForContentType("Multipart/Form-Data; boundary=abc").ok());
}

TEST(MultipartParser, MalformedBodiesAreErrorsThatDoNotDependOnReadSizes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "ends inside a part"},
      {"--b0\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nno end", "ends inside a part"},
      {"--b0\r\nno colon\r\n\r\nv\r\n--b0--", "malformed multipart part header"},
      {"--b0\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b0xx", "malformed multipart body"},
      {"--b0\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n1\r\n"
       "--b0\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n2\r\n--b0--",
       "one file per request"},
      {"--b0\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n" + std::string(5000, 'y') + "\r\n--b0--",
       "is too long"},
      {std::string(5000, 'p') + "--b0\r\n\r\nv\r\n--b0--", "malformed multipart body"},
      {"--b0\r\nX: " + std::string(9000, 'h') + "\r\n\r\nv\r\n--b0--", "headers too long"},
  };
  for (const auto& [body, error] : cases) {
    for (std::size_t piece : {1, 7, 100000}) {
      Parsed p = Parse(body, piece);
      ASSERT_FALSE(p.status.ok()) << body.substr(0, 60) << " / " << piece;
      EXPECT_NE(p.status.error().message.find(error), std::string::npos)
          << p.status.error().message << " / " << piece;
    }
  }
}

TEST(MultipartParser, BoundsTheNumberOfFields) {
  std::string body;
  for (int i = 0; i < 11; ++i) body += "--b0\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
  body += "--b0--";
  Parsed p = Parse(body, 64);
  ASSERT_FALSE(p.status.ok());
  EXPECT_NE(p.status.error().message.find("too many"), std::string::npos);
}

}  // namespace
}  // namespace veza::http
