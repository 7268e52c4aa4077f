// Avatars over real HTTP against the real binary: real images made by the ffmpeg CLI, decoded
// and resized by the server's FFmpeg libraries, stored in the (local) BlobStore.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api_test.h"
#include "http_client.h"
#include "ports/image_processor.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class AvatarTest : public test::ApiTest {
 protected:
  // Runs ffmpeg with `args` writing dir_/name and returns the file's bytes.
  std::string Ffmpeg(const std::string& args, const std::string& name) {
    std::string out = (dir_.path() / name).string();
    std::string cmd = "ffmpeg -hide_banner -loglevel error -y " + args + " -frames:v 1 " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return ReadFile(out);
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The average colour of a JPEG as "r g b" (ffmpeg scales it to one pixel).
  std::string AverageColour(const std::string& jpeg) {
    std::string in = (dir_.path() / "avg-in.jpg").string(),
                out = (dir_.path() / "avg.rgb").string();
    std::ofstream(in, std::ios::binary) << jpeg;
    std::string cmd = "ffmpeg -hide_banner -loglevel error -y -i " + in +
                      " -vf scale=1:1:flags=area -f rawvideo -pix_fmt rgb24 " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::string rgb = ReadFile(out);
    if (rgb.size() != 3) return "";
    return std::to_string(static_cast<unsigned char>(rgb[0])) + " " +
           std::to_string(static_cast<unsigned char>(rgb[1])) + " " +
           std::to_string(static_cast<unsigned char>(rgb[2]));
  }
  std::string Register(const std::string& name) {
    auto r =
        Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                          R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(json::parse(r.body).as_object(), "access_token") : "";
  }
  HttpResponse Upload(const std::string& bearer, const std::string& type,
                      const std::string& bytes) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", type}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {"PUT", "/api/v1/users/me/avatar", bytes, headers},
                std::chrono::seconds(30));
  }
};

TEST_F(AvatarTest, UploadMakesCentredSquareJpegsServedWithImmutableCaching) {
  std::string access = Register("alice");
  // 800x400: red quarters either side of a blue 400x400 centre, which is what must remain.
  std::string png = Ffmpeg(
      "-f lavfi -i color=blue:size=400x400 -f lavfi -i color=red:size=200x400 "
      "-filter_complex [1][0][1]hstack=inputs=3",
      "wide.png");
  auto up = Upload(access, "image/png", png);
  ASSERT_EQ(up.status, 200) << up.body;
  json::object avatar = json::parse(up.body).as_object().at("avatar").as_object();
  std::string url512 = Str(avatar, "512"), url128 = Str(avatar, "128");
  EXPECT_EQ(url512.rfind("/api/v1/users/alice/avatar?size=512&v=", 0), 0u) << url512;

  auto big = test::Get(veza_->port(), url512);
  ASSERT_EQ(big.status, 200) << big.body;
  EXPECT_EQ(big.Header("content-type"), "image/jpeg");
  EXPECT_EQ(big.Header("cache-control"), "public, max-age=31536000, immutable");
  auto header = SniffImage(big.body);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->format, ImageFormat::kJpeg);
  EXPECT_EQ(header->width, 512);
  EXPECT_EQ(header->height, 512);
  std::string colour = AverageColour(big.body);
  int r = 0, g = 0, b = 0;
  std::istringstream(colour) >> r >> g >> b;
  EXPECT_LT(r, 30) << colour << ": the red sides were not cropped away";
  EXPECT_GT(b, 220) << colour;

  auto small = test::Get(veza_->port(), url128);
  ASSERT_EQ(small.status, 200);
  EXPECT_EQ(SniffImage(small.body)->width, 128);

  // Revalidation by ETag; a URL without the hash must be revalidated every time.
  auto again = test::Get(veza_->port(), url512, {{"If-None-Match", big.Header("etag")}});
  EXPECT_EQ(again.status, 304);
  auto unpinned = test::Get(veza_->port(), "/api/v1/users/alice/avatar?size=128");
  EXPECT_EQ(unpinned.status, 200);
  EXPECT_EQ(unpinned.Header("cache-control"), "public, no-cache");

  // The profile and the public profile name the same URLs; the blobs sit under avatars/<id>/.
  auto me = test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access}});
  json::object me_obj = json::parse(me.body).as_object();
  EXPECT_EQ(Str(me_obj.at("avatar").as_object(), "512"), url512);
  auto pub = test::Get(veza_->port(), "/api/v1/users/alice");
  EXPECT_EQ(Str(json::parse(pub.body).as_object().at("avatar").as_object(), "128"), url128);
  std::string hash = url512.substr(url512.find("v=") + 2);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "data" / "blobs" / "avatars" /
                                      Str(me_obj, "id") / (hash + "-512.jpg")));

  // A new avatar replaces the old images; DELETE removes the avatar.
  std::string jpeg = Ffmpeg("-f lavfi -i testsrc=size=300x500", "tall.jpg");
  auto second = Upload(access, "image/jpeg", jpeg);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "data" / "blobs" / "avatars" /
                                       Str(me_obj, "id") / (hash + "-512.jpg")));
  EXPECT_EQ(test::Get(veza_->port(), url512).status, 200)
      << "the old URL now revalidates to the new image";
  std::string webp = Ffmpeg("-f lavfi -i testsrc=size=640x480", "photo.webp");
  EXPECT_EQ(Upload(access, "image/webp", webp).status, 200);
  EXPECT_EQ(Send("DELETE", "/api/v1/users/me/avatar", "", access).status, 204);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/alice/avatar?size=512"), 404);
  EXPECT_TRUE(json::parse(test::Get(veza_->port(), "/api/v1/users/alice").body)
                  .as_object()
                  .at("avatar")
                  .is_null());
  EXPECT_EQ(Send("DELETE", "/api/v1/users/me/avatar", "", access).status, 204)
      << "deleting nothing is fine";
}

TEST_F(AvatarTest, WrongCorruptOversizedAndHugeImagesAreRefused) {
  std::string access = Register("bob");
  std::string png = Ffmpeg("-f lavfi -i testsrc=size=320x240", "small.png");
  std::string jpeg = Ffmpeg("-f lavfi -i testsrc=size=320x240", "small.jpg");

  ExpectProblem(Upload("", "image/png", png), 401);
  ExpectProblem(Upload("not-a-token", "image/png", png), 401);
  ExpectProblem(Upload(access, "image/gif", "GIF89a..."), 415);
  ExpectProblem(Upload(access, "text/plain", "hello"), 415);
  ExpectProblem(Upload(access, "image/jpeg", png), 415,
                "not a image/jpeg");  // bytes and type disagree
  ExpectProblem(Upload(access, "image/png", "\x89PNG but not really"), 415);
  ExpectProblem(Upload(access, "image/png", ""), 400);
  ExpectProblem(Upload(access, "image/jpeg", jpeg.substr(0, jpeg.size() / 3)), 422, "corrupt");
  std::string garbled = png;
  for (std::size_t i = 60; i < garbled.size(); i += 7)
    garbled[i] = static_cast<char>(garbled[i] ^ 0x5A);
  ExpectProblem(Upload(access, "image/png", garbled), 422);
  ExpectProblem(Upload(access, "image/png", std::string(5 * 1024 * 1024 + 1, 'x')), 413);

  // A 40-byte PNG header claiming 100000 x 100000 pixels: refused before any decoding.
  std::string bomb(
      "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0\0\0\0\0", 33);
  ExpectProblem(Upload(access, "image/png", bomb), 422, "pixels");
  // A real, tiny file whose canvas is over the pixel cap (5000 x 4000 = 20 megapixels).
  std::string large = Ffmpeg("-f lavfi -i color=gray:size=5000x4000", "large.png");
  ASSERT_LT(large.size(), 5u * 1024 * 1024);
  ExpectProblem(Upload(access, "image/png", large), 422, "megapixels");

  auto me = json::parse(
      test::Get(veza_->port(), "/api/v1/users/me", {{"Authorization", "Bearer " + access}}).body);
  EXPECT_TRUE(me.as_object().at("avatar").is_null()) << "no failed upload may set an avatar";
}

TEST_F(AvatarTest, ServingChecksSizeUserAndQuery) {
  std::string access = Register("carol");
  ASSERT_EQ(Upload(access, "image/png", Ffmpeg("-f lavfi -i testsrc=size=200x200", "a.png")).status,
            200);
  EXPECT_EQ(test::Get(veza_->port(), "/api/v1/users/carol/avatar").status, 200);  // 512 by default
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/carol/avatar?size=64"), 400);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/carol/avatar?size=abc"), 400);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/carol/avatar?colour=red"), 400);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/nobody/avatar"), 404);
  ExpectProblem(test::Get(veza_->port(), "/api/v1/users/..%2F..%2Fetc/avatar"), 404);
  ExpectProblem(Send("DELETE", "/api/v1/users/me/avatar", "", ""), 401);
}

}  // namespace
}  // namespace veza
