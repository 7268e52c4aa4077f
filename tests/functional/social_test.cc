// Follows, likes, reposts, comments, playlists, the home feed and discover over real HTTP
// against the real binary, on SQLite (the embedded default) and, for the privacy suite, on
// PostgreSQL. Tracks are put in place with SQL as the media job leaves them (ready, with a
// duration), so these tests run without FFmpeg. The recurring question: does a private track
// ever show (or count) for someone who may not see it?
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "api_test.h"
#include "base/ids.h"
#include "http_client.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

constexpr const char* kPassword = "violet kettle 93 drums";

struct Account {
  std::string id, name, access;
};

class SocialTest : public test::ApiTest {
 protected:
  Account Register(const std::string& name) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":")" + kPassword + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    json::object o = json::parse(r.body).as_object();
    return {Str(o.at("user").as_object(), "id"), name, Str(o, "access_token")};
  }
  Account Moderator(const std::string& name) {
    Account a = Register(name);
    Sql("UPDATE users SET role='moderator' WHERE id='" + a.id + "'");
    return a;
  }
  // A track as the media job leaves it: ready (or not), one minute long.
  std::string MakeTrack(const Account& owner, const std::string& visibility = "public",
                        const std::string& state = "ready") {
    std::string id = NewId();
    Sql("INSERT INTO tracks (id, owner_id, title, visibility, state, duration_ms, original_key, "
        "original_size, original_content_type, created_at, updated_at) VALUES ('" +
        id + "', '" + owner.id + "', 'Song " + id.substr(30) + "', '" + visibility + "', '" + state +
        "', 60000, 'tracks/" + id + "/original', 10, 'audio/wav', 1, 1)");
    return id;
  }
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& bearer = "",
                    const std::string& body = "") {
    return Send(method, target, body, bearer);
  }
  json::object Object(const HttpResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status != status || r.body.empty()) return {};
    return json::parse(r.body).as_object();
  }
  // Every id under `key` (each item's "id", or item.track.id with track=true) across all pages.
  std::vector<std::string> AllIds(const std::string& target, const std::string& key,
                                  const std::string& bearer = "", bool nested_track = false,
                                  int limit = 2) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int pages = 0; pages < 50; ++pages) {
      std::string sep = target.find('?') == std::string::npos ? "?" : "&";
      std::string url = target + sep + "limit=" + std::to_string(limit) +
                        (cursor.empty() ? "" : "&cursor=" + cursor);
      json::object page = Object(Call("GET", url, bearer));
      if (!page.contains(key)) break;
      for (const auto& item : page.at(key).as_array()) {
        const json::object& o = item.as_object();
        ids.push_back(nested_track ? Str(o.at("track").as_object(), "id") : Str(o, "id"));
      }
      if (page.at("next_cursor").is_null()) break;
      cursor = std::string(page.at("next_cursor").as_string());
    }
    return ids;
  }
  json::object Profile(const std::string& name) { return Object(Call("GET", "/api/v1/users/" + name)); }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
};

TEST_F(SocialTest, FollowingIsIdempotentListedInPagesAndCountedOnTheProfile) {
  Account alice = Register("alice"), bob = Register("bob");
  std::vector<Account> fans;
  for (int i = 0; i < 4; ++i) fans.push_back(Register("fan" + std::to_string(i)));

  EXPECT_EQ(Call("PUT", "/api/v1/users/alice/follow", bob.access).status, 204);
  EXPECT_EQ(Call("PUT", "/api/v1/users/ALICE/follow", bob.access).status, 204);  // again: still one
  for (const auto& f : fans) EXPECT_EQ(Call("PUT", "/api/v1/users/alice/follow", f.access).status, 204);
  EXPECT_EQ(Call("PUT", "/api/v1/users/bob/follow", alice.access).status, 204);

  ExpectProblem(Call("PUT", "/api/v1/users/alice/follow", alice.access), 400, "yourself");
  ExpectProblem(Call("PUT", "/api/v1/users/nobody/follow", bob.access), 404);
  ExpectProblem(Call("PUT", "/api/v1/users/alice/follow"), 401);
  ExpectProblem(Call("PUT", "/api/v1/users/alice/follow", "not.a.token"), 401);
  ExpectProblem(Call("DELETE", "/api/v1/users/alice/follow"), 401);

  json::object p = Profile("alice");
  EXPECT_EQ(p.at("followers").as_int64(), 5);
  EXPECT_EQ(p.at("following").as_int64(), 1);
  EXPECT_EQ(p.at("tracks").as_int64(), 0);
  EXPECT_FALSE(p.at("followed_by_me").as_bool()) << "anonymous";
  // With a token, the caller's own follow state; a bad token is refused, not ignored.
  EXPECT_TRUE(Object(Call("GET", "/api/v1/users/alice", bob.access)).at("followed_by_me").as_bool());
  EXPECT_FALSE(Object(Call("GET", "/api/v1/users/alice", alice.access)).at("followed_by_me").as_bool());
  ExpectProblem(Call("GET", "/api/v1/users/alice", "not.a.token"), 401);

  std::vector<std::string> followers = AllIds("/api/v1/users/alice/followers", "users");
  EXPECT_EQ(followers.size(), 5u);
  EXPECT_EQ(std::set<std::string>(followers.begin(), followers.end()).size(), 5u);
  EXPECT_TRUE(Has(followers, bob.id));
  EXPECT_EQ(AllIds("/api/v1/users/bob/following", "users"), std::vector<std::string>{alice.id});

  // Bad paging input.
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?limit=0"), 400);
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?limit=101"), 400);
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?limit=abc"), 400);
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?cursor=nope"), 400);
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?cursor=" + std::string(500, 'a')), 400);
  ExpectProblem(Call("GET", "/api/v1/users/alice/followers?sort=x"), 400);
  ExpectProblem(Call("GET", "/api/v1/users/nobody/following"), 404);

  EXPECT_EQ(Call("DELETE", "/api/v1/users/alice/follow", bob.access).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/users/alice/follow", bob.access).status, 204);
  EXPECT_EQ(Profile("alice").at("followers").as_int64(), 4);
  EXPECT_FALSE(Has(AllIds("/api/v1/users/alice/followers", "users"), bob.id));

  // A suspended account is not there to follow.
  Sql("UPDATE users SET suspended=1 WHERE id='" + alice.id + "'");
  ExpectProblem(Call("PUT", "/api/v1/users/alice/follow", bob.access), 404);
}

TEST_F(SocialTest, LikesRepostsAndTheLikesListNeverShowPrivateTracksToOthers) {
  Account alice = Register("alice"), bob = Register("bob");
  std::string open = MakeTrack(alice), secret = MakeTrack(alice, "private"),
              unlisted = MakeTrack(alice, "unlisted");

  json::object liked = Object(Call("PUT", "/api/v1/tracks/" + open + "/like", bob.access));
  EXPECT_EQ(liked.at("likes").as_int64(), 1);
  EXPECT_TRUE(liked.at("liked").as_bool());
  EXPECT_EQ(Object(Call("PUT", "/api/v1/tracks/" + open + "/like", bob.access)).at("likes").as_int64(), 1);
  ExpectProblem(Call("PUT", "/api/v1/tracks/" + secret + "/like", bob.access), 404);
  ExpectProblem(Call("PUT", "/api/v1/tracks/" + secret + "/repost", bob.access), 404);
  ExpectProblem(Call("PUT", "/api/v1/tracks/" + unlisted + "/repost", bob.access), 400, "public");
  ExpectProblem(Call("PUT", "/api/v1/tracks/" + open + "/like"), 401);
  ExpectProblem(Call("PUT", "/api/v1/tracks/not-an-id/like", bob.access), 404);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + secret + "/stats", bob.access), 404);
  EXPECT_EQ(Object(Call("PUT", "/api/v1/tracks/" + unlisted + "/like", bob.access)).at("likes").as_int64(), 1);
  EXPECT_EQ(Object(Call("PUT", "/api/v1/tracks/" + open + "/repost", bob.access)).at("reposts").as_int64(), 1);
  // Alice likes her own three, the private one included.
  for (const auto& t : {open, secret, unlisted})
    EXPECT_EQ(Call("PUT", "/api/v1/tracks/" + t + "/like", alice.access).status, 200);

  std::vector<std::string> as_bob = AllIds("/api/v1/users/alice/likes", "tracks", bob.access);
  EXPECT_EQ(as_bob, std::vector<std::string>{open});
  EXPECT_EQ(AllIds("/api/v1/users/alice/likes", "tracks"), std::vector<std::string>{open});
  EXPECT_EQ(AllIds("/api/v1/users/alice/likes", "tracks", alice.access).size(), 3u);
  EXPECT_EQ(Profile("alice").at("likes").as_int64(), 1);
  EXPECT_EQ(Profile("alice").at("tracks").as_int64(), 1);

  json::object stats = Object(Call("GET", "/api/v1/tracks/" + open + "/stats"));
  EXPECT_EQ(stats.at("likes").as_int64(), 2);
  EXPECT_EQ(stats.at("reposts").as_int64(), 1);
  EXPECT_FALSE(stats.at("liked").as_bool()) << "an anonymous caller likes nothing";
  // The caller's own state comes with the counts, so a client can draw its buttons.
  json::object bobs = Object(Call("GET", "/api/v1/tracks/" + open + "/stats", bob.access));
  EXPECT_TRUE(bobs.at("liked").as_bool());
  EXPECT_EQ(bobs.at("plays").as_int64(), 0);

  // Made private later: gone from every list and count for others at once.
  EXPECT_EQ(Send("PATCH", "/api/v1/tracks/" + open, R"({"visibility":"private"})", alice.access).status, 200);
  EXPECT_TRUE(AllIds("/api/v1/users/alice/likes", "tracks", bob.access).empty());
  EXPECT_TRUE(AllIds("/api/v1/users/bob/likes", "tracks").empty());
  EXPECT_EQ(Profile("alice").at("tracks").as_int64(), 0);
  ExpectProblem(Call("DELETE", "/api/v1/tracks/" + open + "/like", bob.access), 404);

  EXPECT_EQ(Object(Call("DELETE", "/api/v1/tracks/" + unlisted + "/like", bob.access)).at("likes").as_int64(), 1);
  ExpectProblem(Call("GET", "/api/v1/users/nobody/likes"), 404);
}

TEST_F(SocialTest, CommentsAreAnchoredThreadedOneLevelAndDeletedByTheRightPeople) {
  Account alice = Register("alice"), bob = Register("bob"), carol = Register("carol");
  Account mona = Moderator("mona");
  std::string track = MakeTrack(alice), secret = MakeTrack(alice, "private");
  std::string base = "/api/v1/tracks/" + track + "/comments";

  auto r = Post(base, R"({"body":"that drop","at_ms":42000})", bob.access);
  json::object first = Object(r, 201);
  EXPECT_EQ(r.Header("location"), "/api/v1/comments/" + Str(first, "id"));
  EXPECT_EQ(first.at("at_ms").as_int64(), 42000);
  EXPECT_EQ(Str(first.at("author").as_object(), "username"), "bob");
  EXPECT_TRUE(first.at("reply_to").is_null());
  std::string first_id = Str(first, "id");
  json::object reply = Object(Post(base, R"({"body":"thanks!","at_ms":42000,"reply_to":")" + first_id + "\"}",
                                   alice.access), 201);
  json::object early = Object(Post(base, R"({"body":"nice intro","at_ms":1000})", carol.access), 201);

  // Bad input.
  ExpectProblem(Post(base, R"({"body":"late","at_ms":60001})", bob.access), 400, "at_ms");
  ExpectProblem(Post(base, R"({"body":"neg","at_ms":-1})", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"   ","at_ms":1})", bob.access), 400, "empty");
  ExpectProblem(Post(base, R"({"body":")" + std::string(2001, 'x') + R"(","at_ms":1})", bob.access), 400, "longer");
  ExpectProblem(Post(base, R"({"body":"x"})", bob.access), 400, "at_ms");
  ExpectProblem(Post(base, R"({"at_ms":1})", bob.access), 400, "body");
  ExpectProblem(Post(base, R"({"body":"x","at_ms":1,"color":"red"})", bob.access), 400, "unknown");
  ExpectProblem(Post(base, R"({"body":5,"at_ms":1})", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"x","at_ms":"1"})", bob.access), 400);
  ExpectProblem(Post(base, R"([1,2])", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"x",)", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"deeper","at_ms":1,"reply_to":")" + Str(reply, "id") + "\"}", bob.access),
                400, "one level");
  ExpectProblem(Post(base, R"({"body":"x","at_ms":1,"reply_to":"nope"})", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"x","at_ms":1,"reply_to":")" + NewId() + "\"}", bob.access), 400);
  ExpectProblem(Post(base, R"({"body":"x","at_ms":1})"), 401);
  ExpectProblem(Http("127.0.0.1", veza_->port(),
                     {"POST", base, "body=x", {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + bob.access}}}),
                415);
  ExpectProblem(Post(base, std::string((1 << 20) + 1, ' '), bob.access), 413);

  // A private track's comments do not exist for others.
  std::string secret_base = "/api/v1/tracks/" + secret + "/comments";
  ExpectProblem(Post(secret_base, R"({"body":"x","at_ms":1})", bob.access), 404);
  ExpectProblem(Call("GET", secret_base, bob.access), 404);
  ExpectProblem(Call("GET", secret_base), 404);
  EXPECT_EQ(Post(secret_base, R"({"body":"note to self","at_ms":1})", alice.access).status, 201);

  // By time (the default), then newest first.
  std::vector<std::string> by_time = AllIds(base, "comments");
  EXPECT_EQ(by_time.size(), 3u);
  EXPECT_EQ(by_time.front(), Str(early, "id"));
  std::vector<std::string> newest = AllIds(base + "?sort=newest", "comments");
  EXPECT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest.front(), Str(early, "id"));
  ExpectProblem(Call("GET", base + "?sort=loudest"), 400);
  ExpectProblem(Call("GET", base + "?cursor=zzz"), 400);

  // Edit: author only.
  std::string comment_url = "/api/v1/comments/" + first_id;
  ExpectProblem(Send("PATCH", comment_url, R"({"body":"hijack"})", carol.access), 403);
  ExpectProblem(Send("PATCH", comment_url, R"({"body":"hijack"})", alice.access), 403);
  ExpectProblem(Send("PATCH", comment_url, R"({"body":"hijack"})"), 401);
  ExpectProblem(Send("PATCH", comment_url, R"({"text":"x"})", bob.access), 400);
  ExpectProblem(Send("PATCH", comment_url, R"({})", bob.access), 400);
  ExpectProblem(Send("PATCH", "/api/v1/comments/" + NewId(), R"({"body":"x"})", bob.access), 404);
  json::object edited = Object(Send("PATCH", comment_url, R"({"body":"that drop!!"})", bob.access));
  EXPECT_EQ(Str(edited, "body"), "that drop!!");
  EXPECT_FALSE(edited.at("edited_at").is_null());

  // Delete: the author, the track's owner or a moderator; nobody else.
  ExpectProblem(Call("DELETE", "/api/v1/comments/" + Str(early, "id"), bob.access), 403);
  ExpectProblem(Call("DELETE", "/api/v1/comments/" + Str(early, "id")), 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/comments/" + Str(early, "id"), alice.access).status, 204);
  EXPECT_EQ(Call("DELETE", comment_url, mona.access).status, 204);  // and its reply with it
  EXPECT_TRUE(AllIds(base, "comments").empty());
  EXPECT_EQ(Object(Call("GET", "/api/v1/tracks/" + track + "/stats")).at("comments").as_int64(), 0);
  ExpectProblem(Call("DELETE", comment_url, bob.access), 404);
}

TEST_F(SocialTest, PlaylistsKeepOrderAllowInvitedEditorsAndHidePrivateThings) {
  Account alice = Register("alice"), bob = Register("bob"), carol = Register("carol");
  Account mona = Moderator("mona");
  std::string a1 = MakeTrack(alice), a2 = MakeTrack(alice), a_secret = MakeTrack(alice, "private");
  std::string b1 = MakeTrack(bob), b_secret = MakeTrack(bob, "private");

  auto created = Post("/api/v1/playlists", R"({"title":"Night drive","description":"slow","collaborative":true})",
                      alice.access);
  json::object pl = Object(created, 201);
  std::string id = Str(pl, "id");
  EXPECT_EQ(created.Header("location"), "/api/v1/playlists/" + id);
  EXPECT_EQ(Str(pl, "visibility"), "public");
  EXPECT_TRUE(pl.at("collaborative").as_bool());
  std::string items = "/api/v1/playlists/" + id + "/items";

  // Bad input on create.
  ExpectProblem(Post("/api/v1/playlists", R"({"title":""})", alice.access), 400);
  ExpectProblem(Post("/api/v1/playlists", R"({})", alice.access), 400, "title");
  ExpectProblem(Post("/api/v1/playlists", R"({"title":")" + std::string(201, 'x') + "\"}", alice.access), 400);
  ExpectProblem(Post("/api/v1/playlists", R"({"title":"x","visibility":"unlisted"})", alice.access), 400);
  ExpectProblem(Post("/api/v1/playlists", R"({"title":"x","collaborative":"yes"})", alice.access), 400);
  ExpectProblem(Post("/api/v1/playlists", R"({"title":"x","cover":"y"})", alice.access), 400);
  ExpectProblem(Post("/api/v1/playlists", R"({"title":"x"})"), 401);

  for (const auto& t : {a1, a2, a_secret})
    EXPECT_EQ(Post(items, R"({"track_id":")" + t + "\"}", alice.access).status, 204);
  ExpectProblem(Post(items, R"({"track_id":")" + a1 + "\"}", alice.access), 409);
  ExpectProblem(Post(items, R"({"track_id":")" + b_secret + "\"}", alice.access), 404);
  ExpectProblem(Post(items, R"({"track_id":"nope"})", alice.access), 400);
  ExpectProblem(Post(items, R"({"track_id":")" + a1 + R"(","position":-1})", alice.access), 400);
  ExpectProblem(Post(items, R"({"position":1})", alice.access), 400);

  // Bob is not an editor yet.
  ExpectProblem(Post(items, R"({"track_id":")" + b1 + "\"}", bob.access), 403);
  ExpectProblem(Call("PUT", "/api/v1/playlists/" + id + "/editors/bob", bob.access), 403);
  EXPECT_EQ(Call("PUT", "/api/v1/playlists/" + id + "/editors/bob", alice.access).status, 204);
  ExpectProblem(Call("PUT", "/api/v1/playlists/" + id + "/editors/alice", alice.access), 400);
  ExpectProblem(Call("PUT", "/api/v1/playlists/" + id + "/editors/nobody", alice.access), 404);
  json::object editors = Object(Call("GET", "/api/v1/playlists/" + id + "/editors"));
  ASSERT_EQ(editors.at("editors").as_array().size(), 1u);
  EXPECT_EQ(Post(items, R"({"track_id":")" + b1 + R"(","position":0})", bob.access).status, 204);
  EXPECT_EQ(Post(items, R"({"track_id":")" + b_secret + "\"}", bob.access).status, 204);

  // What each sees: the private tracks only their owners (and moderators).
  EXPECT_EQ(AllIds(items, "items", carol.access, true), (std::vector<std::string>{b1, a1, a2}));
  EXPECT_EQ(AllIds(items, "items", "", true), (std::vector<std::string>{b1, a1, a2}));
  EXPECT_EQ(AllIds(items, "items", alice.access, true), (std::vector<std::string>{b1, a1, a2, a_secret}));
  EXPECT_EQ(AllIds(items, "items", bob.access, true), (std::vector<std::string>{b1, a1, a2, b_secret}));
  EXPECT_EQ(AllIds(items, "items", mona.access, true).size(), 5u);
  EXPECT_EQ(Object(Call("GET", "/api/v1/playlists/" + id, carol.access)).at("track_count").as_int64(), 3);
  EXPECT_EQ(Object(Call("GET", "/api/v1/playlists/" + id, alice.access)).at("track_count").as_int64(), 4);
  json::object page = Object(Call("GET", items + "?limit=2", carol.access));
  EXPECT_EQ(page.at("items").as_array()[1].at("position").as_int64(), 1);

  // Reorder and remove (editor and owner); carol may not.
  EXPECT_EQ(Send("PATCH", items + "/" + a2, R"({"position":0})", bob.access).status, 204);
  EXPECT_EQ(AllIds(items, "items", carol.access, true), (std::vector<std::string>{a2, b1, a1}));
  ExpectProblem(Send("PATCH", items + "/" + a2, R"({"position":1})", carol.access), 403);
  ExpectProblem(Send("PATCH", items + "/" + a2, R"({"position":"first"})", bob.access), 400);
  ExpectProblem(Send("PATCH", items + "/" + a2, R"({})", bob.access), 400);
  ExpectProblem(Send("PATCH", items + "/" + NewId(), R"({"position":0})", bob.access), 404);
  ExpectProblem(Call("DELETE", items + "/" + a1, carol.access), 403);
  ExpectProblem(Call("DELETE", items + "/" + a1), 401);
  EXPECT_EQ(Call("DELETE", items + "/" + a1, bob.access).status, 204);
  ExpectProblem(Call("DELETE", items + "/" + a1, alice.access), 404);
  EXPECT_EQ(AllIds(items, "items", carol.access, true), (std::vector<std::string>{a2, b1}));

  // Not collaborative any more: the editor is locked out of the items.
  EXPECT_EQ(Send("PATCH", "/api/v1/playlists/" + id, R"({"collaborative":false})", alice.access).status, 200);
  ExpectProblem(Call("DELETE", items + "/" + b1, bob.access), 403);
  ExpectProblem(Send("PATCH", "/api/v1/playlists/" + id, R"({"title":"mine"})", bob.access), 403);
  ExpectProblem(Send("PATCH", "/api/v1/playlists/" + id, R"({})", alice.access), 400);
  ExpectProblem(Send("PATCH", "/api/v1/playlists/" + id, R"({"owner":"bob"})", alice.access), 400);

  // Private: 404 to everyone but the owner, the editors and moderators.
  EXPECT_EQ(Send("PATCH", "/api/v1/playlists/" + id, R"({"visibility":"private"})", alice.access).status, 200);
  ExpectProblem(Call("GET", "/api/v1/playlists/" + id, carol.access), 404);
  ExpectProblem(Call("GET", "/api/v1/playlists/" + id), 404);
  ExpectProblem(Call("GET", items, carol.access), 404);
  ExpectProblem(Call("DELETE", "/api/v1/playlists/" + id, carol.access), 404);
  EXPECT_EQ(Call("GET", "/api/v1/playlists/" + id, bob.access).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/playlists/" + id, mona.access).status, 200);
  auto public_one = Object(Post("/api/v1/playlists", R"({"title":"Open","visibility":"public"})", alice.access), 201);
  EXPECT_EQ(AllIds("/api/v1/users/alice/playlists", "playlists", carol.access),
            std::vector<std::string>{Str(public_one, "id")});
  EXPECT_EQ(AllIds("/api/v1/users/alice/playlists", "playlists", alice.access).size(), 2u);
  ExpectProblem(Call("DELETE", "/api/v1/playlists/" + Str(public_one, "id"), carol.access), 403);
  ExpectProblem(Call("DELETE", "/api/v1/playlists/" + id, bob.access), 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/playlists/" + Str(public_one, "id"), mona.access).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/playlists/" + id + "/editors/bob", alice.access).status, 204);
  ExpectProblem(Call("GET", "/api/v1/playlists/" + id, bob.access), 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/playlists/" + id, alice.access).status, 204);
  ExpectProblem(Call("GET", "/api/v1/playlists/" + id, alice.access), 404);
  ExpectProblem(Call("GET", "/api/v1/playlists/not-an-id"), 404);
}

TEST_F(SocialTest, HomeFeedShowsFollowedUploadsAndRepostsNewestFirstAndDiscoverRanksRecentPlays) {
  Account alice = Register("alice"), bob = Register("bob"), carol = Register("carol"), dan = Register("dan");
  EXPECT_EQ(Call("PUT", "/api/v1/users/alice/follow", bob.access).status, 204);
  EXPECT_EQ(Call("PUT", "/api/v1/users/carol/follow", bob.access).status, 204);
  std::string a1 = MakeTrack(alice), a2 = MakeTrack(alice);
  std::string a_secret = MakeTrack(alice, "private"), a_unlisted = MakeTrack(alice, "unlisted");
  std::string a_pending = MakeTrack(alice, "public", "processing");
  std::string d1 = MakeTrack(dan);  // not followed, but carol reposts it
  EXPECT_EQ(Call("PUT", "/api/v1/tracks/" + d1 + "/repost", carol.access).status, 200);

  std::vector<std::string> feed = AllIds("/api/v1/feed", "items", bob.access, true, 1);
  EXPECT_EQ(std::set<std::string>(feed.begin(), feed.end()), (std::set<std::string>{a1, a2, d1}));
  EXPECT_EQ(feed.size(), 3u);
  json::object first = Object(Call("GET", "/api/v1/feed?limit=100", bob.access));
  const json::array& entries = first.at("items").as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(Str(entries[0].as_object(), "kind"), "repost");  // the newest event
  EXPECT_EQ(Str(entries[0].at("actor").as_object(), "username"), "carol");
  for (std::size_t i = 1; i < entries.size(); ++i)
    EXPECT_GT(Str(entries[i - 1].as_object(), "id"), Str(entries[i].as_object(), "id"));
  EXPECT_FALSE(Has(feed, a_secret));
  EXPECT_FALSE(Has(feed, a_unlisted));
  EXPECT_FALSE(Has(feed, a_pending));
  EXPECT_TRUE(AllIds("/api/v1/feed", "items", dan.access, true).empty());
  ExpectProblem(Call("GET", "/api/v1/feed"), 401);
  ExpectProblem(Call("GET", "/api/v1/feed?limit=1000", bob.access), 400);
  ExpectProblem(Call("GET", "/api/v1/feed?cursor=yesterday", bob.access), 400);

  // Discover: plays and likes in the window.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post("/api/v1/tracks/" + a2 + "/plays", "").status, 204);
  EXPECT_EQ(Post("/api/v1/tracks/" + a1 + "/plays", "").status, 204);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Post("/api/v1/tracks/" + a_secret + "/plays", "", alice.access).status, 204);
  json::object discover = Object(Call("GET", "/api/v1/discover"));
  const json::array& ranked = discover.at("tracks").as_array();
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(Str(ranked[0].as_object(), "id"), a2);
  EXPECT_EQ(ranked[0].at("score").as_int64(), 3);
  EXPECT_EQ(Str(ranked[1].as_object(), "id"), a1);
  EXPECT_EQ(AllIds("/api/v1/discover", "tracks", "", false, 1).size(), 2u);
  ExpectProblem(Call("GET", "/api/v1/discover?cursor=-5"), 400);
  ExpectProblem(Call("GET", "/api/v1/discover?genre=x"), 400);
  // Profile plays count the public tracks only.
  EXPECT_EQ(Profile("alice").at("plays").as_int64(), 4);
}

// The privacy rules once more on PostgreSQL.
class SocialPostgresTest : public SocialTest {
 protected:
  std::string DatabaseKind() const override { return "postgres"; }
};

TEST_F(SocialPostgresTest, PrivateTracksNeverLeakThroughFeedsCountsLikesPlaylistsOrComments) {
  Account alice = Register("alice"), bob = Register("bob");
  EXPECT_EQ(Call("PUT", "/api/v1/users/alice/follow", bob.access).status, 204);
  std::string open = MakeTrack(alice), secret = MakeTrack(alice, "private");
  for (const auto& t : {open, secret}) {
    EXPECT_EQ(Call("PUT", "/api/v1/tracks/" + t + "/like", alice.access).status, 200);
    EXPECT_EQ(Post("/api/v1/tracks/" + t + "/comments", R"({"body":"mine","at_ms":5})", alice.access).status, 201);
  }
  EXPECT_EQ(Post("/api/v1/tracks/" + secret + "/plays", "", alice.access).status, 204);
  json::object pl = Object(Post("/api/v1/playlists", R"({"title":"All"})", alice.access), 201);
  std::string items = "/api/v1/playlists/" + Str(pl, "id") + "/items";
  for (const auto& t : {open, secret}) EXPECT_EQ(Post(items, R"({"track_id":")" + t + "\"}", alice.access).status, 204);

  EXPECT_EQ(AllIds("/api/v1/feed", "items", bob.access, true), std::vector<std::string>{open});
  EXPECT_EQ(AllIds("/api/v1/users/alice/likes", "tracks", bob.access), std::vector<std::string>{open});
  EXPECT_EQ(AllIds(items, "items", bob.access, true), std::vector<std::string>{open});
  EXPECT_EQ(Object(Call("GET", "/api/v1/playlists/" + Str(pl, "id"), bob.access)).at("track_count").as_int64(), 1);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + secret + "/comments", bob.access), 404);
  EXPECT_EQ(AllIds("/api/v1/discover", "tracks"), std::vector<std::string>{open});  // by its like
  json::object p = Profile("alice");
  EXPECT_EQ(p.at("tracks").as_int64(), 1);
  EXPECT_EQ(p.at("plays").as_int64(), 0);
  EXPECT_EQ(p.at("likes").as_int64(), 1);
  EXPECT_EQ(p.at("followers").as_int64(), 1);
}

}  // namespace
}  // namespace veza
