// Analytics over real HTTP against the real binary: play events (retried, anonymous, with a
// trusted country header) become a creator's stats through the event bus; stats are for the
// owner and moderators only (a private track's for its owner alone); bad input is a problem.
// Exact counting rules are in tests/contract/analytics_contract_test.cc.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <thread>

#include "api_test.h"
#include "http_client.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

class AnalyticsTest : public test::ApiTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--roles", "http,ws", "--analytics-country-header", "X-Test-Country"};
  }

  std::string Upload(const TestAccount& owner, const std::string& visibility) {
    return UploadReadyTrack(owner, "Song", visibility, 200000);
  }

  HttpResponse PlayEvent(const std::string& track, const std::string& body, const std::string& bearer,
                         const std::string& country = "", const std::string& agent = "TestPlayer/1") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                                {"User-Agent", agent}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!country.empty()) headers.emplace_back("X-Test-Country", country);
    return Http("127.0.0.1", veza_->port(), {"POST", "/api/v1/tracks/" + track + "/play-events", body, headers});
  }
  HttpResponse ProfileView(const std::string& username, const std::string& body, const std::string& bearer,
                           const std::string& agent = "TestBrowser/1") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                                {"User-Agent", agent}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {"POST", "/api/v1/users/" + username + "/views", body, headers});
  }
  static std::string View(const std::string& id) { return R"({"session_id":")" + id + "\"}"; }

  void ProfileViewsCountOncePerViewerAndWindow() {
    TestAccount maker = SignUp("maker"), fan = SignUp("fan");
    // The fan's page retries one report and is reloaded with a fresh id: one view in the window.
    EXPECT_EQ(ProfileView("maker", View("fan-view-0001"), fan.access).status, 202);
    EXPECT_EQ(ProfileView("maker", View("fan-view-0001"), fan.access).status, 202);
    EXPECT_EQ(ProfileView("maker", View("fan-view-0002"), fan.access).status, 202);
    // Two anonymous browsers count apart.
    EXPECT_EQ(ProfileView("maker", View("anon-view-0001"), "", "BrowserA/1").status, 202);
    EXPECT_EQ(ProfileView("maker", View("anon-view-0002"), "", "BrowserB/1").status, 202);
    // The owner looking at their own page is accepted and not counted.
    EXPECT_EQ(ProfileView("maker", View("own-view-0001"), maker.access).status, 202);
    // The last report, on the fan's profile: once it shows, everything above has been applied.
    EXPECT_EQ(ProfileView("fan", View("maker-view-01"), maker.access).status, 202);
    json::object fan_stats;
    for (int i = 0; i < 100; ++i) {
      fan_stats = Stats("/api/v1/analytics/me", fan.access);
      if (fan_stats.contains("totals") && fan_stats.at("totals").as_object().at("profile_views").as_int64() >= 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(fan_stats.at("totals").as_object().at("profile_views").as_int64(), 1);
    json::object me = Stats("/api/v1/analytics/me", maker.access);
    EXPECT_EQ(me.at("totals").as_object().at("profile_views").as_int64(), 3);
    EXPECT_EQ(me.at("days").as_array().back().as_object().at("profile_views").as_int64(), 3);  // today
    EXPECT_EQ(me.at("totals").as_object().at("views").as_int64(), 0);  // track views are apart
    EXPECT_EQ(Sql("SELECT COUNT(*) FROM analytics_profile_views WHERE profile_id='" + maker.id + "'"), "4\n");
    EXPECT_EQ(Sql("SELECT COUNT(*) FROM analytics_profile_views WHERE listener_key LIKE '%127.0.0.1%'"), "0\n");
  }

  static std::string Event(const std::string& kind, const std::string& session, std::int64_t position) {
    return R"({"kind":")" + kind + R"(","session_id":")" + session + R"(","position_ms":)" + std::to_string(position) + "}";
  }

  json::object Stats(const std::string& target, const std::string& bearer) {
    auto r = Send("GET", target, "", bearer);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    EXPECT_EQ(r.Header("cache-control"), "private, no-store");
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
  }
  // The queue is asynchronous: wait until the totals show `plays`.
  json::object StatsWithPlays(const std::string& target, const std::string& bearer, std::int64_t plays) {
    json::object s;
    for (int i = 0; i < 100; ++i) {
      s = Stats(target, bearer);
      if (s.contains("totals") && s.at("totals").as_object().at("plays").as_int64() >= plays) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  }

  void PlayEventsBecomeStatsForTheRightPeople() {
    TestAccount maker = SignUp("maker"), fan = SignUp("fan"), other = SignUp("other"), mod = SignUp("mod");
    Sql("UPDATE users SET role='moderator' WHERE id='" + mod.id + "'");
    std::string song = Upload(maker, "public"), secret = Upload(maker, "private");

    // The fan's player retries every event once; an anonymous player behind a proxy that
    // names the country completes the track.
    for (int attempt = 0; attempt < 2; ++attempt) {
      EXPECT_EQ(PlayEvent(song, Event("start", "fan-session-1", 0), fan.access).status, 202);
      EXPECT_EQ(PlayEvent(song, Event("progress", "fan-session-1", 30000), fan.access).status, 202);
      EXPECT_EQ(PlayEvent(song, Event("skip", "fan-session-1", 150000), fan.access).status, 202);
    }
    EXPECT_EQ(PlayEvent(song, Event("start", "anon-session-1", 0), "", "de").status, 202);
    EXPECT_EQ(PlayEvent(song, Event("complete", "anon-session-1", 200000), "", "de").status, 202);
    EXPECT_EQ(PlayEvent(song, Event("view", "anon-view-0001", 0), "", "de").status, 202);
    EXPECT_EQ(PlayEvent(song, Event("view", "own-view-0001", 0), maker.access).status, 202);  // not counted
    EXPECT_EQ(PlayEvent(secret, Event("start", "mine-session-1", 0), maker.access).status, 202);

    // The queue is applied in order: once the last event (the secret track's) shows, and the
    // song's completion, every event above has been applied.
    StatsWithPlays("/api/v1/analytics/tracks/" + secret, maker.access, 1);
    json::object s;
    for (int i = 0; i < 100; ++i) {
      s = Stats("/api/v1/analytics/tracks/" + song, maker.access);
      if (s.contains("totals") && s.at("totals").as_object().at("completions").as_int64() >= 1 &&
          s.at("totals").as_object().at("qualified_plays").as_int64() >= 2)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    json::object totals = s.at("totals").as_object();
    EXPECT_EQ(totals.at("plays").as_int64(), 2);
    EXPECT_EQ(totals.at("qualified_plays").as_int64(), 2);
    EXPECT_EQ(totals.at("listeners").as_int64(), 2);
    EXPECT_EQ(totals.at("completions").as_int64(), 1);
    EXPECT_EQ(totals.at("views").as_int64(), 1);
    EXPECT_FALSE(totals.contains("profile_views"));  // creator figures only
    EXPECT_EQ(s.at("days").as_array().size(), 30u);  // default range: the last 30 days
    json::array retention = s.at("retention").as_array();
    ASSERT_EQ(retention.size(), 20u);
    EXPECT_EQ(retention[15].as_object().at("stops").as_int64(), 1);  // 150 s of 200 s
    EXPECT_EQ(retention[0].as_object().at("reached").as_int64(), 2);
    EXPECT_EQ(s.at("completed").as_int64(), 1);
    ASSERT_EQ(s.at("countries").as_array().size(), 1u);
    EXPECT_EQ(Str(s.at("countries").as_array()[0].as_object(), "country"), "DE");
    // Qualified plays are the public plays count.
    EXPECT_EQ(Sql("SELECT COUNT(*) FROM track_plays WHERE track_id='" + song + "'"), "2\n");
    // No address is stored: anonymous listeners are salted hashes.
    EXPECT_EQ(Sql("SELECT COUNT(*) FROM analytics_play_sessions WHERE listener_key LIKE '%127.0.0.1%'"), "0\n");

    // Who may read which stats.
    EXPECT_EQ(Send("GET", "/api/v1/analytics/tracks/" + song, "").status, 401);
    ExpectProblem(Send("GET", "/api/v1/analytics/tracks/" + song, "", other.access), 403);
    EXPECT_EQ(Stats("/api/v1/analytics/tracks/" + song, mod.access).at("totals").as_object().at("plays").as_int64(), 2);
    ExpectProblem(Send("GET", "/api/v1/analytics/tracks/" + secret, "", mod.access), 404);
    ExpectProblem(Send("GET", "/api/v1/analytics/tracks/" + secret, "", other.access), 404);

    json::object me = Stats("/api/v1/analytics/me", maker.access);
    EXPECT_EQ(me.at("totals").as_object().at("plays").as_int64(), 3);
    EXPECT_EQ(me.at("top_tracks").as_array().size(), 2u);
    EXPECT_EQ(Stats("/api/v1/analytics/me", fan.access).at("totals").as_object().at("plays").as_int64(), 0);

    EXPECT_EQ(Send("GET", "/api/v1/admin/stats", "").status, 401);
    ExpectProblem(Send("GET", "/api/v1/admin/stats", "", maker.access), 403);
    json::object admin = Stats("/api/v1/admin/stats?from=2024-01-01&to=2024-12-31", mod.access);
    EXPECT_EQ(admin.at("users").as_int64(), 4);
    EXPECT_EQ(admin.at("tracks").as_int64(), 2);
    EXPECT_EQ(admin.at("plays").as_int64(), 2);
    EXPECT_GT(admin.at("storage_bytes").as_int64(), 0);
    EXPECT_EQ(admin.at("days").as_array().size(), 366u);
  }
};

TEST_F(AnalyticsTest, PlayEventsBecomeStatsForTheOwnerAndModeratorsOnly) { PlayEventsBecomeStatsForTheRightPeople(); }

TEST_F(AnalyticsTest, ProfileViewsCountOncePerViewerAndWindowAndNotTheOwners) {
  ProfileViewsCountOncePerViewerAndWindow();
}

TEST_F(AnalyticsTest, BadProfileViewsAreProblems) {
  TestAccount maker = SignUp("maker"), fan = SignUp("fan");
  ExpectProblem(ProfileView("maker", "{", fan.access), 400);
  ExpectProblem(ProfileView("maker", "[]", fan.access), 400);
  ExpectProblem(ProfileView("maker", "{}", fan.access), 400, "required");
  ExpectProblem(ProfileView("maker", View("short"), fan.access), 400, "session_id");
  ExpectProblem(ProfileView("maker", R"({"session_id":42})", fan.access), 400, "session_id");
  ExpectProblem(ProfileView("maker", R"({"session_id":"fan-view-0001","track":"x"})", fan.access), 400,
                "unknown field");
  ExpectProblem(ProfileView("maker", R"({"session_id":")" + std::string(2000, 'a') + "\"}", fan.access), 413);
  ExpectProblem(ProfileView("maker", View("fan-view-0001"), "not-a-token"), 401);
  ExpectProblem(ProfileView("nobody", View("fan-view-0001"), fan.access), 404);
  Sql("UPDATE users SET suspended = 1 WHERE id='" + maker.id + "'");
  ExpectProblem(ProfileView("maker", View("fan-view-0001"), fan.access), 404);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM analytics_profile_views"), "0\n");
}

TEST_F(AnalyticsTest, BadInputIsAProblem) {
  TestAccount maker = SignUp("maker"), fan = SignUp("fan");
  std::string song = Upload(maker, "public"), secret = Upload(maker, "private");
  ExpectProblem(PlayEvent(song, "{", fan.access), 400);
  ExpectProblem(PlayEvent(song, "[]", fan.access), 400);
  ExpectProblem(PlayEvent(song, Event("rewind", "fan-session-1", 0), fan.access), 400, "kind");
  ExpectProblem(PlayEvent(song, Event("profile_view", "fan-session-1", 0), fan.access), 400, "kind");
  ExpectProblem(PlayEvent(song, Event("start", "short", 0), fan.access), 400, "session_id");
  ExpectProblem(PlayEvent(song, Event("start", "has spaces in it", 0), fan.access), 400, "session_id");
  ExpectProblem(PlayEvent(song, Event("start", "fan-session-1", -5), fan.access), 400, "position_ms");
  ExpectProblem(PlayEvent(song, R"({"kind":"start"})", fan.access), 400, "required");
  ExpectProblem(PlayEvent(song, R"({"kind":"start","session_id":"fan-session-1","extra":1})", fan.access), 400,
                "unknown field");
  ExpectProblem(PlayEvent(song, R"({"kind":"start","session_id":")" + std::string(2000, 'a') + "\"}", fan.access),
                413);
  ExpectProblem(PlayEvent(song, Event("start", "fan-session-1", 0), "not-a-token"), 401);
  ExpectProblem(PlayEvent(secret, Event("start", "fan-session-1", 0), fan.access), 404);
  ExpectProblem(PlayEvent("00000000-0000-7000-8000-000000000000", Event("start", "fan-session-1", 0), fan.access),
                404);
  Sql("UPDATE tracks SET state='processing' WHERE id='" + secret + "'");
  ExpectProblem(PlayEvent(secret, Event("start", "mine-session", 0), maker.access), 409);

  for (const char* q : {"?from=2024-13-01", "?from=2024-02-30", "?to=yesterday", "?from=2020-01-01&to=2024-01-01",
                        "?from=2024-05-02&to=2024-05-01", "?unknown=1"}) {
    ExpectProblem(Send("GET", "/api/v1/analytics/tracks/" + song + q, "", maker.access), 400);
    ExpectProblem(Send("GET", std::string("/api/v1/analytics/me") + q, "", maker.access), 400);
  }
  ExpectProblem(Send("GET", "/api/v1/analytics/tracks/nope", "", maker.access), 404);
}

// The same flow on PostgreSQL.
class AnalyticsPostgresTest : public AnalyticsTest {
 protected:
  std::string DatabaseKind() const override { return "postgres"; }
};

TEST_F(AnalyticsPostgresTest, PlayEventsBecomeStatsForTheOwnerAndModeratorsOnly) {
  PlayEventsBecomeStatsForTheRightPeople();
}

TEST_F(AnalyticsPostgresTest, ProfileViewsCountOncePerViewerAndWindowAndNotTheOwners) {
  ProfileViewsCountOncePerViewerAndWindow();
}

}  // namespace
}  // namespace veza
