// GET /api/v1/search over real HTTP against the real binary: tracks come back with the viewer's
// signed URLs, private things are never found, paging follows next_cursor, and bad input is a
// problem. Ranking and typo tolerance are in tests/contract/search_contract_test.cc.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api_test.h"
#include "http_client.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class SearchTest : public test::ApiTest {
 protected:
  // No media role: the test marks tracks ready itself.
  std::vector<std::string> ExtraServeArgs() const override { return {"--roles", "http,ws"}; }

  std::string Upload(const TestAccount& owner, const std::string& title, const std::string& visibility) {
    return UploadReadyTrack(owner, title, visibility);
  }
  json::object Search(const std::string& query, const std::string& bearer = "") {
    auto r = Send("GET", "/api/v1/search?" + query, "", bearer);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    EXPECT_EQ(r.Header("cache-control"), "private, no-store");
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
  }
  static std::vector<std::string> Ids(const json::object& page, const char* list = "results") {
    std::vector<std::string> ids;
    if (!page.contains(list)) return ids;
    for (const auto& v : page.at(list).as_array()) ids.push_back(Str(v.as_object(), "id"));
    return ids;
  }
};

TEST_F(SearchTest, FindsPublicTracksWithSignedUrlsAndNeverPrivateOnes) {
  TestAccount alice = SignUp("alice"), bob = SignUp("bob");
  std::string open = Upload(alice, "Midnight Harbour", "public");
  std::string secret = Upload(alice, "Midnight Secret", "private");
  std::string link = Upload(alice, "Midnight Link", "unlisted");

  for (const std::string& bearer : {std::string(), bob.access, alice.access}) {
    json::object page = Search("q=midnight", bearer);
    EXPECT_EQ(Ids(page), std::vector<std::string>{open});
    EXPECT_EQ(Str(page, "type"), "track");
    const json::object& track = page.at("results").as_array()[0].as_object();
    EXPECT_EQ(Str(track, "title"), "Midnight Harbour");
    EXPECT_NE(Str(track, "stream_url").find("/stream/"), std::string::npos);
    EXPECT_TRUE(page.at("next_cursor").is_null());
  }
  EXPECT_EQ(Ids(Search("q=midnigt%20harbor")), std::vector<std::string>{open});  // typos
  EXPECT_TRUE(Ids(Search("q=secret", alice.access)).empty());
  EXPECT_TRUE(Ids(Search("q=link")).empty());
  (void)secret;
  (void)link;

  // Everything at once, for instant results: the user, and her tracks (found by her name),
  // nothing private.
  json::object all = Search("q=ali&type=all");
  EXPECT_EQ(Ids(all, "users"), std::vector<std::string>{alice.id});
  EXPECT_EQ(Ids(all, "tracks"), std::vector<std::string>{open});
  EXPECT_TRUE(all.at("rooms").as_array().empty());
  EXPECT_TRUE(all.at("playlists").as_array().empty());
  EXPECT_EQ(Str(all.at("users").as_array()[0].as_object(), "username"), "alice");

  // A suspended user is not found any more.
  Sql("UPDATE users SET suspended=1 WHERE id='" + bob.id + "'");
  EXPECT_TRUE(Ids(Search("q=bob&type=user")).empty());
}

TEST_F(SearchTest, PagesFollowNextCursorAndFiltersApply) {
  TestAccount alice = SignUp("alice");
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) made.push_back(Upload(alice, "River song " + std::to_string(i), "public"));
  Sql("UPDATE tracks SET genre='Folk', duration_ms=240000 WHERE id='" + made[0] + "'");
  std::vector<std::string> seen;
  std::string query = "q=river&limit=2";
  for (int pages = 0; pages < 5; ++pages) {
    json::object page = Search(query);
    for (const std::string& id : Ids(page)) seen.push_back(id);
    if (page.at("next_cursor").is_null()) break;
    query = "q=river&limit=2&cursor=" + std::string(page.at("next_cursor").as_string());
  }
  std::sort(seen.begin(), seen.end());
  std::sort(made.begin(), made.end());
  EXPECT_EQ(seen, made);
  EXPECT_EQ(Ids(Search("q=river&genre=folk")).size(), 1u);
  EXPECT_EQ(Ids(Search("q=river&min_duration_ms=200000")).size(), 1u);
  EXPECT_EQ(Ids(Search("q=river&max_duration_ms=2000")).size(), 4u);
  EXPECT_EQ(Ids(Search("q=river&uploaded_before=1")).size(), 0u);
}

TEST_F(SearchTest, FindsPublicPlaylistsByTitleOwnerAndDescriptionNeverPrivateOnes) {
  TestAccount alice = SignUp("alice"), bob = SignUp("bob");
  auto made = [&](const std::string& body) {
    auto r = Post("/api/v1/playlists", body, alice.access);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(json::parse(r.body).as_object(), "id") : "";
  };
  std::string open = made(R"({"title":"Harbour Lights","description":"late night ferry songs"})");
  std::string secret = made(R"({"title":"Harbour Secrets","visibility":"private"})");
  for (const std::string& bearer : {std::string(), bob.access, alice.access}) {
    json::object page = Search("q=harbour&type=playlist", bearer);
    EXPECT_EQ(Ids(page), std::vector<std::string>{open});
    ASSERT_EQ(page.at("results").as_array().size(), 1u);
    const json::object& hit = page.at("results").as_array()[0].as_object();
    EXPECT_EQ(Str(hit, "name"), "Harbour Lights");
    EXPECT_EQ(Str(hit, "owner"), "alice");
  }
  EXPECT_EQ(Ids(Search("q=harbour%20ligths&type=playlist")), std::vector<std::string>{open});  // a typo
  EXPECT_EQ(Ids(Search("q=ferry&type=playlist")), std::vector<std::string>{open});            // description
  EXPECT_EQ(Ids(Search("q=alice&type=playlist")), std::vector<std::string>{open});            // owner
  EXPECT_EQ(Ids(Search("q=harbour&type=all"), "playlists"), std::vector<std::string>{open});
  // Made private through the API: gone from search at once.
  EXPECT_EQ(Send("PATCH", "/api/v1/playlists/" + open, R"({"visibility":"private"})", alice.access).status, 200);
  EXPECT_TRUE(Ids(Search("q=harbour&type=playlist")).empty());
  (void)secret;
}

TEST_F(SearchTest, BadInputIsAProblem) {
  TestAccount alice = SignUp("alice");
  for (const std::string& query : std::vector<std::string>{
           "", "q=", "q=%20%20", "q=%ZZ", "q=a&q=b", "q=a&sort=new", "q=a&type=song",
        "q=a&limit=0", "q=a&limit=51", "q=a&limit=x", "q=a&cursor=-1", "q=a&cursor=500",
        "q=a&cursor=abc", "q=a&type=user&genre=rock", "q=a&type=all&cursor=5",
        "q=a&min_duration_ms=-5", "q=a&uploaded_after=99999999999999999999",
        "q=" + std::string(201, 'a')}) {
    ExpectProblem(Send("GET", "/api/v1/search?" + query, "", alice.access), 400);
  }
  // A bad token is refused, not ignored.
  ExpectProblem(Send("GET", "/api/v1/search?q=a", "", "not-a-token"), 401);
  // Operators are text: no error, no injection.
  EXPECT_EQ(Send("GET", "/api/v1/search?q=%22a%22%20OR%20NEAR(b)%20%27%3A*%20%26%20%7C", "").status,
            200);
}

}  // namespace
}  // namespace veza
