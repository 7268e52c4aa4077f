// Track takedowns over real HTTP against the real binary (docs/moderation.md): moderators take a
// track down with a reason and restore it; meanwhile it is gone from every listing, feed,
// playlist and search for everyone but its owner (who sees the reason) and moderators; no URL
// serves its files, not even one handed out before; the owner is notified and cannot undo it;
// every action is in the audit log. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "api_test.h"
#include "http_client.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class TrackTakedownTest : public test::ApiTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseKind() const override { return GetParam(); }

  // A public track made ready by hand, with a stream file in the blob store, so that delivery
  // answers 200 until the takedown.
  std::string ReadyTrack(const TestAccount& owner, const std::string& title) {
    std::string id = UploadReadyTrack(owner, title, "public", 2000);
    std::filesystem::path dir = dir_.path() / "data" / "blobs" / "tracks" / id;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "stream.m4a", std::ios::binary) << "not really aac, but bytes to serve";
    return id;
  }

  HttpResponse TakeDown(const std::string& track, const std::string& bearer, const std::string& reason) {
    return Send("POST", "/api/v1/admin/tracks/" + track + "/takedown", R"({"reason":")" + reason + "\"}", bearer);
  }
  bool Mentions(const std::string& target, const std::string& bearer, const std::string& track) {
    auto r = Send("GET", target, "", bearer);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    return r.body.find(track) != std::string::npos;
  }

  void Run() {
    TestAccount maker = SignUp("maker"), fan = SignUp("fan"), mod = SignUp("mod"), admin = SignUp("boss");
    Sql("UPDATE users SET role='moderator' WHERE id='" + mod.id + "'");
    Sql("UPDATE users SET role='admin' WHERE id='" + admin.id + "'");
    std::string song = ReadyTrack(maker, "Glasswing"), other = ReadyTrack(maker, "Other");

    // The fan follows the maker, likes the song and keeps it in a public playlist.
    ASSERT_EQ(Send("PUT", "/api/v1/users/maker/follow", "", fan.access).status, 204);
    ASSERT_EQ(Send("PUT", "/api/v1/tracks/" + song + "/like", "", fan.access).status, 200);
    auto playlist = Send("POST", "/api/v1/playlists", R"({"title":"Mix"})", fan.access);
    ASSERT_EQ(playlist.status, 201) << playlist.body;
    std::string mix = Str(json::parse(playlist.body).as_object(), "id");
    ASSERT_EQ(Send("POST", "/api/v1/playlists/" + mix + "/items", R"({"track_id":")" + song + "\"}", fan.access).status, 204);
    auto seen = Send("GET", "/api/v1/tracks/" + song, "", fan.access);
    ASSERT_EQ(seen.status, 200) << seen.body;
    std::string stream_url = Str(json::parse(seen.body).as_object(), "stream_url");
    ASSERT_FALSE(stream_url.empty());
    ASSERT_EQ(Send("GET", stream_url, "").status, 200);
    auto own_seen = Send("GET", "/api/v1/tracks/" + song, "", maker.access);
    std::string owner_url = Str(json::parse(own_seen.body).as_object(), "stream_url");
    ASSERT_EQ(Send("GET", owner_url + "?format=original", "").status, 200);
    std::vector<std::string> listings = {"/api/v1/tracks",       "/api/v1/users/maker/tracks",
                                         "/api/v1/feed",         "/api/v1/users/fan/likes",
                                         "/api/v1/playlists/" + mix + "/items",
                                         "/api/v1/search?q=glasswing&type=track"};
    for (const auto& target : listings) EXPECT_TRUE(Mentions(target, fan.access, song)) << target;

    // Who may take it down: moderators and above; not the owner, not anyone else.
    ExpectProblem(TakeDown(song, "", "spam"), 401);
    ExpectProblem(TakeDown(song, fan.access, "spam"), 403);
    ExpectProblem(TakeDown(song, maker.access, "spam"), 403);
    auto down = TakeDown(song, mod.access, "copyright claim 42");
    ASSERT_EQ(down.status, 200) << down.body;
    EXPECT_EQ(down.Header("cache-control"), "private, no-store");
    json::object down_json = json::parse(down.body).as_object();
    EXPECT_EQ(Str(down_json.at("taken_down").as_object(), "reason"), "copyright claim 42");
    EXPECT_FALSE(down_json.contains("stream_url"));

    // Gone for everyone else, everywhere, and no URL serves it, not even one handed out before.
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song, "", fan.access), 404);
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song, ""), 404);
    for (const auto& target : listings) EXPECT_FALSE(Mentions(target, fan.access, song)) << target;
    // The maker's other track is still there: only the one track went.
    for (const char* target : {"/api/v1/tracks", "/api/v1/users/maker/tracks", "/api/v1/feed"})
      EXPECT_TRUE(Mentions(target, fan.access, other)) << target;
    EXPECT_FALSE(Mentions("/api/v1/search?q=glasswing&type=all", "", song));
    ExpectProblem(Send("GET", stream_url, ""), 404);
    ExpectProblem(Send("GET", owner_url + "?format=original", ""), 404);
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song + "/stream", "", maker.access), 404);
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song + "/stream?format=original", "", maker.access), 404);
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song + "/stream", "", mod.access), 404);
    ExpectProblem(Send("PUT", "/api/v1/tracks/" + song + "/like", "", fan.access), 404);

    // The owner sees it, marked with the reason, and cannot undo it: not by the admin route,
    // not by editing the track.
    auto mine = Send("GET", "/api/v1/tracks/" + song, "", maker.access);
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_EQ(Str(json::parse(mine.body).as_object().at("taken_down").as_object(), "reason"), "copyright claim 42");
    EXPECT_FALSE(json::parse(mine.body).as_object().contains("stream_url"));
    auto my_list = Send("GET", "/api/v1/users/me/tracks", "", maker.access);
    EXPECT_NE(my_list.body.find("copyright claim 42"), std::string::npos) << my_list.body;
    EXPECT_FALSE(Mentions("/api/v1/users/maker/tracks", maker.access, song));
    ExpectProblem(Send("DELETE", "/api/v1/admin/tracks/" + song + "/takedown", "", maker.access), 403);
    EXPECT_EQ(Send("PATCH", "/api/v1/tracks/" + song, R"({"visibility":"public","title":"Glasswing 2"})", maker.access).status, 200);
    ExpectProblem(Send("GET", "/api/v1/tracks/" + song, "", fan.access), 404);
    EXPECT_FALSE(Mentions("/api/v1/search?q=glasswing&type=track", fan.access, song));

    // The owner is told why; the moderator list and the audit log have it.
    auto notes = Send("GET", "/api/v1/notifications", "", maker.access);
    EXPECT_NE(notes.body.find("\"takedown\""), std::string::npos) << notes.body;
    EXPECT_NE(notes.body.find("copyright claim 42"), std::string::npos) << notes.body;
    EXPECT_TRUE(Mentions("/api/v1/admin/tracks/takedowns", mod.access, song));
    EXPECT_FALSE(Mentions("/api/v1/admin/tracks/takedowns", mod.access, other));
    ExpectProblem(Send("GET", "/api/v1/admin/tracks/takedowns", "", fan.access), 403);
    // The system page's counts: both tracks ready, one of them down, nothing queued.
    auto states = Send("GET", "/api/v1/admin/tracks/states", "", mod.access);
    ASSERT_EQ(states.status, 200) << states.body;
    json::object counts = json::parse(states.body).as_object();
    EXPECT_EQ(counts.at("ready").as_int64(), 2);
    EXPECT_EQ(counts.at("taken_down").as_int64(), 1);
    EXPECT_EQ(counts.at("media_queue").as_int64(), 0);
    auto audit = Send("GET", "/api/v1/admin/audit-log", "", admin.access);
    EXPECT_NE(audit.body.find("track.takedown"), std::string::npos) << audit.body;

    // Restored: back everywhere, the old URL plays again; a second restore is a conflict.
    ExpectProblem(Send("DELETE", "/api/v1/admin/tracks/" + song + "/takedown", "", fan.access), 403);
    ExpectProblem(Send("DELETE", "/api/v1/admin/tracks/" + song + "/takedown", ""), 401);
    auto restored = Send("DELETE", "/api/v1/admin/tracks/" + song + "/takedown", "", admin.access);
    ASSERT_EQ(restored.status, 200) << restored.body;
    EXPECT_FALSE(json::parse(restored.body).as_object().contains("taken_down"));
    ExpectProblem(Send("DELETE", "/api/v1/admin/tracks/" + song + "/takedown", "", mod.access), 409);
    EXPECT_EQ(Send("GET", "/api/v1/tracks/" + song, "", fan.access).status, 200);
    EXPECT_EQ(Send("GET", stream_url, "").status, 200);
    for (const auto& target : listings) EXPECT_TRUE(Mentions(target, fan.access, song)) << target;
    EXPECT_FALSE(Mentions("/api/v1/admin/tracks/takedowns", mod.access, song));
    notes = Send("GET", "/api/v1/notifications", "", maker.access);
    EXPECT_NE(notes.body.find("\"restore\""), std::string::npos) << notes.body;
    audit = Send("GET", "/api/v1/admin/audit-log", "", admin.access);
    EXPECT_NE(audit.body.find("track.restore"), std::string::npos) << audit.body;
    EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_log WHERE target_id='" + song + "'"), "2\n");
  }
};

TEST_P(TrackTakedownTest, HidesTheTrackFromEveryoneButItsOwnerUntilRestored) { Run(); }

TEST_P(TrackTakedownTest, BadInputIsAProblem) {
  TestAccount maker = SignUp("maker"), mod = SignUp("mod");
  Sql("UPDATE users SET role='moderator' WHERE id='" + mod.id + "'");
  std::string song = ReadyTrack(maker, "Song");
  std::string target = "/api/v1/admin/tracks/" + song + "/takedown";
  ExpectProblem(Send("POST", target, "{}", mod.access), 400, "reason");
  ExpectProblem(Send("POST", target, R"({"reason":""})", mod.access), 400, "reason");
  ExpectProblem(Send("POST", target, R"({"reason":")" + std::string(501, 'x') + "\"}", mod.access), 400, "reason");
  ExpectProblem(Send("POST", target, R"({"reason":"x","extra":1})", mod.access), 400, "extra");
  ExpectProblem(Send("POST", target, R"({"reason":7})", mod.access), 400, "reason");
  ExpectProblem(Send("POST", target, R"({"reason":)", mod.access), 400);
  ExpectProblem(Send("POST", target, "[]", mod.access), 400);
  ExpectProblem(Http("127.0.0.1", veza_->port(),
                     {"POST", target, "reason=x",
                      {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + mod.access}}}),
                415);
  ExpectProblem(Send("POST", target, R"({"reason":")" + std::string(8 << 20, 'x') + "\"}", mod.access), 413);
  ExpectProblem(TakeDown("00000000-0000-7000-8000-000000000000", mod.access, "x"), 404);
  ExpectProblem(TakeDown("not-a-track", mod.access, "x"), 404);
  ExpectProblem(Send("DELETE", "/api/v1/admin/tracks/not-a-track/takedown", "", mod.access), 404);
  ExpectProblem(Send("DELETE", target, "", mod.access), 409);
  ExpectProblem(Send("GET", "/api/v1/admin/tracks/takedowns?cursor=nope", "", mod.access), 400);
  ExpectProblem(Send("GET", "/api/v1/admin/tracks/takedowns?limit=0", "", mod.access), 400);
  ExpectProblem(Send("GET", "/api/v1/admin/tracks/takedowns?bogus=1", "", mod.access), 400);
  ExpectProblem(Send("GET", "/api/v1/admin/tracks/states?bogus=1", "", mod.access), 400);
  // Nothing was taken down by any of it.
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM tracks WHERE taken_down_at IS NOT NULL"), "0\n");
}

INSTANTIATE_TEST_SUITE_P(Databases, TrackTakedownTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
