// Playlist covers over real HTTP: the owner sets and removes one, whoever may see the playlist
// reads it, a private playlist's cover stays private, and bad images are problems.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api_test.h"
#include "http_client.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class PlaylistCoverTest : public test::ApiTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override { return {"--roles", "http,ws"}; }

  std::string Png(const std::string& size) {
    std::string out = (dir_.path() / ("cover-" + size + ".png")).string();
    std::string cmd = "ffmpeg -hide_banner -loglevel error -y -f lavfi -i color=orange:size=" + size +
                      " -frames:v 1 " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(out, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  HttpResponse Put(const std::string& playlist, const std::string& type, const std::string& bytes,
                   const std::string& bearer) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", type}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {"PUT", "/api/v1/playlists/" + playlist + "/cover", bytes, headers});
  }
  std::string Playlist(const TestAccount& owner, const std::string& visibility) {
    auto r = Post("/api/v1/playlists", R"({"title":"Mix","visibility":")" + visibility + "\"}", owner.access);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(json::parse(r.body).as_object(), "id") : "";
  }
};

TEST_F(PlaylistCoverTest, TheOwnerSetsItAnyoneWhoSeesThePlaylistReadsItAndRemovalIsFinal) {
  TestAccount alice = SignUp("alice"), bob = SignUp("bob");
  std::string open = Playlist(alice, "public"), secret = Playlist(alice, "private");
  std::string png = Png("300x200");

  auto set = Put(open, "image/png", png, alice.access);
  ASSERT_EQ(set.status, 200) << set.body;
  json::object cover = json::parse(set.body).as_object().at("cover").as_object();
  std::string url512 = Str(cover, "512"), url128 = Str(cover, "128");
  EXPECT_NE(url512.find("/api/v1/playlists/" + open + "/cover?size=512&v="), std::string::npos);

  for (const std::string& bearer : {std::string(), bob.access}) {
    auto got = Send("GET", url128, "", bearer);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.Header("content-type"), "image/jpeg");
    EXPECT_EQ(got.Header("cache-control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(got.body.substr(0, 2), "\xFF\xD8");
  }
  auto unpinned = Send("GET", "/api/v1/playlists/" + open + "/cover", "");
  EXPECT_EQ(unpinned.status, 200);
  EXPECT_EQ(unpinned.Header("cache-control"), "public, no-cache");
  auto again = Http("127.0.0.1", veza_->port(),
                    {"GET", "/api/v1/playlists/" + open + "/cover", "",
                     {{"If-None-Match", std::string(unpinned.Header("etag"))}}});
  EXPECT_EQ(again.status, 304);

  // Nobody but the owner changes it; a private playlist's cover is the owner's secret too.
  ExpectProblem(Put(open, "image/png", png, bob.access), 403);
  ExpectProblem(Send("DELETE", "/api/v1/playlists/" + open + "/cover", "", bob.access), 403);
  ASSERT_EQ(Put(secret, "image/png", png, alice.access).status, 200);
  ExpectProblem(Send("GET", "/api/v1/playlists/" + secret + "/cover", ""), 404);
  ExpectProblem(Send("GET", "/api/v1/playlists/" + secret + "/cover", "", bob.access), 404);
  ExpectProblem(Put(secret, "image/png", png, bob.access), 404);
  auto mine = Send("GET", "/api/v1/playlists/" + secret + "/cover", "", alice.access);
  EXPECT_EQ(mine.status, 200);
  EXPECT_EQ(mine.Header("cache-control"), "private, no-cache");

  EXPECT_EQ(Send("DELETE", "/api/v1/playlists/" + open + "/cover", "", alice.access).status, 204);
  EXPECT_EQ(Send("DELETE", "/api/v1/playlists/" + open + "/cover", "", alice.access).status, 204);
  ExpectProblem(Send("GET", url512, ""), 404);
}

TEST_F(PlaylistCoverTest, PlaylistJsonNamesTheCoverWhereverPlaylistsAreReturned) {
  TestAccount alice = SignUp("alice");
  auto made = Post("/api/v1/playlists", R"({"title":"Sunrise Tapes","visibility":"public"})", alice.access);
  ASSERT_EQ(made.status, 201) << made.body;
  std::string id = Str(json::parse(made.body).as_object(), "id");
  EXPECT_FALSE(json::parse(made.body).as_object().contains("cover_url"));  // none yet

  auto set = Put(id, "image/png", Png("64x64"), alice.access);
  ASSERT_EQ(set.status, 200) << set.body;
  std::string url = Str(json::parse(set.body).as_object().at("cover").as_object(), "512");

  auto one = Send("GET", "/api/v1/playlists/" + id, "");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Str(json::parse(one.body).as_object(), "cover_url"), url);
  auto listed = Send("GET", "/api/v1/users/alice/playlists", "");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(Str(json::parse(listed.body).at("playlists").as_array().at(0).as_object(), "cover_url"), url);
  auto found = Send("GET", "/api/v1/search?q=sunrise&type=playlist", "");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(Str(json::parse(found.body).at("results").as_array().at(0).as_object(), "cover_url"), url);
  auto all = Send("GET", "/api/v1/search?q=sunrise&type=all", "");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Str(json::parse(all.body).at("playlists").as_array().at(0).as_object(), "cover_url"), url);
  // The URL serves the image.
  EXPECT_EQ(Send("GET", url, "").status, 200);

  EXPECT_EQ(Send("DELETE", "/api/v1/playlists/" + id + "/cover", "", alice.access).status, 204);
  auto bare = Send("GET", "/api/v1/playlists/" + id, "");
  EXPECT_FALSE(json::parse(bare.body).as_object().contains("cover_url"));
  auto bare_found = Send("GET", "/api/v1/search?q=sunrise&type=playlist", "");
  EXPECT_FALSE(json::parse(bare_found.body).at("results").as_array().at(0).as_object().contains("cover_url"));
}

TEST_F(PlaylistCoverTest, BadImagesAndRequestsAreProblems) {
  TestAccount alice = SignUp("alice");
  std::string open = Playlist(alice, "public");
  std::string png = Png("64x64");
  ExpectProblem(Put(open, "image/png", png, ""), 401);
  ExpectProblem(Put(open, "image/png", png, "not-a-token"), 401);
  ExpectProblem(Put(open, "image/gif", "GIF89a...", alice.access), 415);
  ExpectProblem(Put(open, "image/png", "\x89PNG but not really", alice.access), 415);
  ExpectProblem(Put(open, "image/png", std::string(5 * 1024 * 1024 + 1, 'x'), alice.access), 413);
  ExpectProblem(Put(open, "image/png", "", alice.access), 400);
  ExpectProblem(Put("00000000-0000-7000-8000-000000000000", "image/png", png, alice.access), 404);
  ExpectProblem(Send("GET", "/api/v1/playlists/" + open + "/cover", ""), 404);  // none yet
  ExpectProblem(Send("GET", "/api/v1/playlists/" + open + "/cover?size=64", ""), 400);
  ExpectProblem(Send("GET", "/api/v1/playlists/" + open + "/cover?size=big", ""), 400);
  ExpectProblem(Send("GET", "/api/v1/playlists/" + open + "/cover?other=1", ""), 400);
  ExpectProblem(Send("DELETE", "/api/v1/playlists/" + open + "/cover", ""), 401);
}

}  // namespace
}  // namespace veza
