// Analytics on every database backend: a generated event stream with known answers is
// aggregated exactly, replaying it changes nothing, an abuser's replayed qualified plays count
// once per window, and the creator and instance figures add up.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "backends/bus_inproc/inproc_event_bus.h"
#include "base/ids.h"
#include "services/analytics/analytics_service.h"
#include "services/auth/user_repository.h"
#include "test_database.h"
#include "test_support.h"

namespace veza::analytics {
namespace {

constexpr std::int64_t kDuration = 200'000;  // 10 s per retention bucket
constexpr std::int64_t kDay0 = 20'000;       // 2024-10-04
constexpr std::int64_t kMinute = 60'000;

PlayEvent Play(EventKind kind, const std::string& track, const std::string& listener,
                       const std::string& session, std::int64_t position, std::int64_t at) {
  PlayEvent e;
  e.kind = kind;
  e.track_id = track;
  e.listener = listener;
  e.session_id = session;
  e.position_ms = position;
  e.duration_ms = kDuration;
  e.at_ms = at;
  return e;
}

class AnalyticsContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(db(), EmbeddedMigrations(db().Dialect())));
    auto bus = NewInprocEventBus({}, nullptr);
    ASSERT_OK(bus);
    bus_ = std::move(bus).value();
    users_ = std::make_unique<UserRepository>(db());
    owner_ = users_->Create({"maker", "maker@example.com", std::nullopt, "Maker"}, 1)->id;
    fan_ = users_->Create({"fan", "fan@example.com", std::nullopt, "Fan"}, 1)->id;
    service_ = std::make_unique<AnalyticsService>(db(), *bus_, clock_, AnalyticsOptions{});
    ASSERT_OK(service_->Start());
    song_ = Track(owner_, "Song");
    other_ = Track(owner_, "Other Song");
  }
  void TearDown() override {
    if (service_) service_->Stop();
  }

  Database& db() { return test_db_->db(); }

  std::string Track(const std::string& owner, const std::string& title) {
    std::string id = NewId();
    EXPECT_OK(db().Query(
        "INSERT INTO tracks (id, owner_id, title, visibility, state, duration_ms, original_key, original_size, "
        "original_content_type, created_at, updated_at) VALUES ($1, $2, $3, 'public', 'ready', $4, $5, 1000, "
        "'audio/wav', 1, 1)",
        {SqlText(id), SqlText(owner), SqlText(title), SqlInt(kDuration), SqlText("tracks/" + id + "/original")}));
    return id;
  }

  std::int64_t Count(const std::string& sql, std::vector<SqlValue> params = {}) {
    auto r = db().Query(sql, params);
    EXPECT_OK(r);
    return r.ok() && !r->rows.empty() ? r->rows[0].Int(0) : -1;
  }

  // 3 days x 12 listeners x 2 sessions a day, 3 hours apart (so every qualified play counts).
  // Listener l: l % 4 == 0 never reaches 30 s (skips at 20 s, bucket 2); l % 4 == 1 completes;
  // otherwise skips at bucket (l + s) % 20 after qualifying (position >= 30 s: bucket >= 3,
  // else it is moved to 100 s, bucket 10). Every event is sent twice.
  std::vector<PlayEvent> Stream(const std::string& track) {
    std::vector<PlayEvent> events;
    for (int day = 0; day < 3; ++day)
      for (int l = 0; l < 12; ++l)
        for (int s = 0; s < 2; ++s) {
          std::string who = l < 8 ? "u:listener" + std::to_string(l) : "a:anon" + std::to_string(l);
          std::string session = "sess-" + track.substr(0, 8) + "-" + std::to_string(day) + "-" +
                                std::to_string(l) + "-" + std::to_string(s);
          std::int64_t at = (kDay0 + day) * kDayMs + s * 3 * 60 * kMinute + l * kMinute;
          auto add = [&](EventKind k, std::int64_t pos, std::int64_t t) {
            events.push_back(Play(k, track, who, session, pos, t));
            events.push_back(Play(k, track, who, session, pos, t));
          };
          add(EventKind::kStart, 0, at);
          if (l % 4 == 0) {
            add(EventKind::kSkip, 20'000, at + 20'000);
          } else if (l % 4 == 1) {
            add(EventKind::kProgress, 30'000, at + 30'000);
            add(EventKind::kComplete, kDuration, at + kDuration);
          } else {
            add(EventKind::kProgress, 30'000, at + 30'000);
            int bucket = (l + s) % 20;
            std::int64_t pos = bucket >= 3 ? bucket * 10'000 + 5'000 : 100'000;
            add(EventKind::kSkip, pos, at + pos);
          }
        }
    return events;
  }

  void ExpectStreamNumbers(const TrackStats& st) {
    ASSERT_EQ(st.days.size(), 3u);
    for (const DailyPlays& d : st.days) {
      EXPECT_EQ(d.plays, 24);
      EXPECT_EQ(d.listeners, 12);
      EXPECT_EQ(d.qualified_plays, 18);  // 9 qualifying listeners x 2 sessions
      EXPECT_EQ(d.completions, 6);       // 3 completing listeners x 2 sessions
    }
    EXPECT_EQ(st.totals.plays, 72);
    EXPECT_EQ(st.totals.qualified_plays, 54);
    EXPECT_EQ(st.totals.completions, 18);
    EXPECT_EQ(st.totals.listeners, 12);  // the same 12 every day
    // Stops: l%4==0 -> bucket 2 (3 listeners x 2 x 3 days = 18); completions beyond the end: 18;
    // the rest by (l + s) % 20 with l in {2,3,6,7,10,11}.
    std::vector<std::int64_t> expected(kRetentionBuckets, 0);
    expected[2] += 18;
    for (int l : {2, 3, 6, 7, 10, 11})
      for (int s = 0; s < 2; ++s) {
        int bucket = (l + s) % 20;
        expected[static_cast<std::size_t>(bucket >= 3 ? bucket : 10)] += 3;
      }
    EXPECT_EQ(st.completed, 18);
    std::int64_t reached = 18;
    for (int b = kRetentionBuckets - 1; b >= 0; --b) {
      reached += expected[static_cast<std::size_t>(b)];
      EXPECT_EQ(st.retention[static_cast<std::size_t>(b)].stops, expected[static_cast<std::size_t>(b)]) << b;
      EXPECT_EQ(st.retention[static_cast<std::size_t>(b)].reached, reached) << b;
    }
    EXPECT_EQ(st.retention[0].reached, 72);
    EXPECT_EQ(st.retention[1].start_ms, 10'000);
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<UserRepository> users_;
  SystemClock clock_;
  std::unique_ptr<AnalyticsService> service_;
  std::string owner_, fan_, song_, other_;
};

TEST_P(AnalyticsContractTest, AGeneratedStreamIsAggregatedExactlyAndReplayingItChangesNothing) {
  std::vector<PlayEvent> events = Stream(song_);
  for (const PlayEvent& e : events) ASSERT_OK(service_->Apply(e));
  DayRange range{kDay0, kDay0 + 2};
  auto first = service_->ForTrack(song_, range);
  ASSERT_OK(first);
  ExpectStreamNumbers(*first);
  // Qualified plays feed the public plays counter.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM track_plays WHERE track_id = $1", {SqlText(song_)}), 54);

  for (const PlayEvent& e : events) ASSERT_OK(service_->Apply(e));
  auto second = service_->ForTrack(song_, range);
  ASSERT_OK(second);
  ExpectStreamNumbers(*second);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM track_plays WHERE track_id = $1", {SqlText(song_)}), 54);
  // A range that misses the stream sees none of it.
  auto before = service_->ForTrack(song_, {kDay0 - 5, kDay0 - 1});
  ASSERT_OK(before);
  EXPECT_EQ(before->totals.plays, 0);
  EXPECT_EQ(before->days.size(), 5u);
}

TEST_P(AnalyticsContractTest, AnAbuserReplayingQualifiedPlaysCountsOncePerWindow) {
  const std::int64_t t0 = kDay0 * kDayMs;
  // 40 fresh sessions in 20 minutes, each claiming 30 s at once.
  for (int i = 0; i < 40; ++i) {
    std::string session = "abuse-" + std::to_string(i) + "-xxxx";
    ASSERT_OK(service_->Apply(Play(EventKind::kProgress, song_, "a:abuser", session, 31'000, t0 + i * 30'000)));
  }
  auto stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.plays, 40);
  EXPECT_EQ(stats->totals.qualified_plays, 1);
  EXPECT_EQ(stats->totals.listeners, 1);
  // Past the 30-minute window the same listener counts again, once.
  for (int i = 0; i < 5; ++i) {
    std::string session = "later-" + std::to_string(i) + "-xxxx";
    ASSERT_OK(service_->Apply(Play(EventKind::kComplete, song_, "a:abuser", session, kDuration,
                                    t0 + 30 * kMinute + i * 1000)));
  }
  stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.qualified_plays, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM track_plays WHERE track_id = $1", {SqlText(song_)}), 2);
  // Another listener is not held back by the abuser's window; a session id reused for another
  // track adds nothing there.
  ASSERT_OK(service_->Apply(Play(EventKind::kProgress, song_, "u:" + fan_, "fan-session-1", 30'000, t0)));
  ASSERT_OK(service_->Apply(Play(EventKind::kProgress, other_, "u:" + fan_, "fan-session-1", 30'000, t0)));
  stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.qualified_plays, 3);
  auto other = service_->ForTrack(other_, {kDay0, kDay0});
  ASSERT_OK(other);
  EXPECT_EQ(other->totals.plays, 0);
}

TEST_P(AnalyticsContractTest, TrackViewsCountOncePerViewerPerWindowAndReplaysNothing) {
  const std::int64_t t0 = kDay0 * kDayMs;
  // A page reloaded 30 times in 15 minutes, each time with a fresh view id, and every event sent
  // twice: one view. Another viewer's first view counts at once.
  for (int i = 0; i < 30; ++i) {
    PlayEvent e = Play(EventKind::kView, song_, "a:reloader", "view-" + std::to_string(i) + "-xxxx", 0,
                       t0 + i * 30'000);
    ASSERT_OK(service_->Apply(e));
    ASSERT_OK(service_->Apply(e));
  }
  ASSERT_OK(service_->Apply(Play(EventKind::kView, song_, "u:" + fan_, "fan-view-0001", 0, t0 + 1000)));
  auto stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.views, 2);
  EXPECT_EQ(stats->totals.plays, 0);  // a view is not a play
  // Past the window (30 minutes after the last counted view) the same viewer counts again, once.
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(service_->Apply(Play(EventKind::kView, song_, "a:reloader", "later-view-" + std::to_string(i),
                                    0, t0 + 30 * kMinute + i * 1000)));
  }
  stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.views, 3);
  // The creator's figures carry them too; other tracks have none.
  auto mine = service_->ForOwner(owner_, {kDay0, kDay0});
  ASSERT_OK(mine);
  EXPECT_EQ(mine->totals.views, 3);
  auto other = service_->ForTrack(other_, {kDay0, kDay0});
  ASSERT_OK(other);
  EXPECT_EQ(other->totals.views, 0);
}

TEST_P(AnalyticsContractTest, ProfileViewsCountOncePerViewerPerWindowOnTheirOwnDay) {
  const std::int64_t t0 = kDay0 * kDayMs;
  auto view = [&](const std::string& profile, const std::string& listener, const std::string& id, std::int64_t at) {
    PlayEvent e;
    e.kind = EventKind::kProfileView;
    e.profile_id = profile;
    e.listener = listener;
    e.session_id = id;
    e.at_ms = at;
    return e;
  };
  // Reloaded 30 times in 15 minutes with fresh ids, each event applied twice: one view; the fan's
  // first view counts at once; after the window the reloader counts again (on the next day).
  for (int i = 0; i < 30; ++i) {
    PlayEvent e = view(owner_, "a:reloader", "pview-" + std::to_string(i) + "-xxxx", t0 + i * 30'000);
    ASSERT_OK(service_->Apply(e));
    ASSERT_OK(service_->Apply(e));
  }
  ASSERT_OK(service_->Apply(view(owner_, "u:" + fan_, "fan-pview-0001", t0 + 1000)));
  ASSERT_OK(service_->Apply(view(owner_, "a:reloader", "next-day-view", t0 + kDayMs)));
  ASSERT_OK(service_->Apply(view(fan_, "u:" + owner_, "owner-pview-01", t0)));
  auto mine = service_->ForOwner(owner_, {kDay0, kDay0 + 1});
  ASSERT_OK(mine);
  EXPECT_EQ(mine->totals.profile_views, 3);
  ASSERT_EQ(mine->days.size(), 2u);
  EXPECT_EQ(mine->days[0].profile_views, 2);
  EXPECT_EQ(mine->days[1].profile_views, 1);
  EXPECT_EQ(mine->totals.views, 0);  // track page views are apart
  EXPECT_EQ(mine->totals.plays, 0);
  auto fans = service_->ForOwner(fan_, {kDay0, kDay0 + 1});
  ASSERT_OK(fans);
  EXPECT_EQ(fans->totals.profile_views, 1);
  // The event survives the queue's encoding.
  auto decoded = DecodeEvent(EncodeEvent(view(owner_, "u:" + fan_, "fan-pview-0002", t0)));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->kind, EventKind::kProfileView);
  EXPECT_EQ(decoded->profile_id, owner_);
  EXPECT_FALSE(DecodeEvent(R"({"kind":"profile_view","session_id":"abcdefgh","listener":"u:x","track_id":"t"})").ok());
}

// The replay bookkeeping goes after the retention and the abuse windows once over; the
// aggregates stay. A session purged and then replayed would count again (docs/analytics.md).
TEST_P(AnalyticsContractTest, PurgeDropsOldBookkeepingAndKeepsTheFigures) {
  const std::int64_t t0 = kDay0 * kDayMs;  // long before now: every window is over
  ASSERT_OK(service_->Apply(Play(EventKind::kProgress, song_, "u:" + fan_, "old-session-1", 31'000, t0)));
  ASSERT_OK(service_->Apply(Play(EventKind::kView, song_, "u:" + fan_, "old-view-0001", 0, t0)));
  PlayEvent profile_view;
  profile_view.kind = EventKind::kProfileView;
  profile_view.profile_id = owner_;
  profile_view.listener = "u:" + fan_;
  profile_view.session_id = "old-pview-001";
  profile_view.at_ms = t0;
  ASSERT_OK(service_->Apply(profile_view));
  const std::int64_t recent = t0 + 10 * kDayMs;
  ASSERT_OK(service_->Apply(Play(EventKind::kStart, other_, "u:" + fan_, "new-session-1", 0, recent)));

  auto purged = service_->Purge(t0 + 5 * kDayMs);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 6);  // one session, one view, one profile view, three windows
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analytics_play_sessions"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analytics_views"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analytics_profile_views"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analytics_qualified_windows"), 0);
  auto stats = service_->ForTrack(song_, {kDay0, kDay0});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->totals.plays, 1);
  EXPECT_EQ(stats->totals.qualified_plays, 1);
  EXPECT_EQ(stats->totals.views, 1);
  auto mine = service_->ForOwner(owner_, {kDay0, kDay0});
  ASSERT_OK(mine);
  EXPECT_EQ(mine->totals.profile_views, 1);
  auto again = service_->Purge(t0 + 5 * kDayMs);
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0);
}

TEST_P(AnalyticsContractTest, CreatorStatsCountListenersOnceAcrossTracksWithSocialAndCountries) {
  const std::int64_t t0 = kDay0 * kDayMs + 1000;
  for (const std::string& track : {song_, other_}) {
    PlayEvent e = Play(EventKind::kProgress, track, "u:" + fan_, "s-" + track.substr(0, 20), 40'000, t0);
    e.country = "DE";
    ASSERT_OK(service_->Apply(e));
  }
  PlayEvent anon = Play(EventKind::kStart, song_, "a:someone", "anon-session", 0, t0 + kDayMs);
  anon.country = "FR";
  ASSERT_OK(service_->Apply(anon));
  ASSERT_OK(db().Query("INSERT INTO track_likes (user_id, track_id, id, created_at) VALUES ($1, $2, $3, $4)",
                       {SqlText(fan_), SqlText(song_), SqlText(NewId()), SqlInt(t0)}));
  ASSERT_OK(db().Query("INSERT INTO track_reposts (user_id, track_id, id, created_at) VALUES ($1, $2, $3, $4)",
                       {SqlText(fan_), SqlText(other_), SqlText(NewId()), SqlInt(t0 + kDayMs)}));
  ASSERT_OK(db().Query(
      "INSERT INTO track_comments (id, track_id, author_id, body, at_ms, created_at) VALUES ($1, $2, $3, 'nice', 5, $4)",
      {SqlText(NewId()), SqlText(song_), SqlText(fan_), SqlInt(t0)}));

  auto me = service_->ForOwner(owner_, {kDay0, kDay0 + 1});
  ASSERT_OK(me);
  ASSERT_EQ(me->days.size(), 2u);
  EXPECT_EQ(me->days[0].plays, 2);
  EXPECT_EQ(me->days[0].qualified_plays, 2);
  EXPECT_EQ(me->days[0].listeners, 1);  // one fan, two tracks
  EXPECT_EQ(me->days[0].likes, 1);
  EXPECT_EQ(me->days[0].comments, 1);
  EXPECT_EQ(me->days[1].plays, 1);
  EXPECT_EQ(me->days[1].reposts, 1);
  EXPECT_EQ(me->totals.listeners, 2);
  ASSERT_EQ(me->top_tracks.size(), 2u);
  EXPECT_EQ(me->top_tracks[0].plays + me->top_tracks[1].plays, 3);
  ASSERT_EQ(me->countries.size(), 2u);
  EXPECT_EQ(me->countries[0].country, "DE");
  EXPECT_EQ(me->countries[0].plays, 2);
  EXPECT_EQ(me->countries[1].country, "FR");

  // Nobody else's tracks show up under another owner.
  auto fan = service_->ForOwner(fan_, {kDay0, kDay0 + 1});
  ASSERT_OK(fan);
  EXPECT_EQ(fan->totals.plays, 0);
  EXPECT_TRUE(fan->top_tracks.empty());

  auto instance = service_->ForInstance({kDay0, kDay0});
  ASSERT_OK(instance);
  EXPECT_EQ(instance->users, 2);
  EXPECT_EQ(instance->tracks, 2);
  EXPECT_EQ(instance->plays, 2);
  EXPECT_EQ(instance->storage_bytes, 2000);
  ASSERT_EQ(instance->days.size(), 1u);
  EXPECT_EQ(instance->days[0].plays, 2);
}

TEST_P(AnalyticsContractTest, EventsSubmittedToTheQueueAreAppliedByTheConsumer) {
  service_->StartConsumers(1);
  const std::int64_t now = service_->NowMs();
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(service_->Submit(Play(EventKind::kStart, song_, "a:q" + std::to_string(i), "queued-session", 0, now)));
  }
  std::int64_t plays = 0;
  for (int i = 0; i < 200 && plays < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto st = service_->ForTrack(song_, {DayOf(now), DayOf(now)});
    ASSERT_OK(st);
    plays = st->totals.plays;
  }
  EXPECT_EQ(plays, 3);
}

TEST_P(AnalyticsContractTest, AnonymousListenersAreSaltedHashesNeverAddresses) {
  std::string a = service_->ListenerKey("", "203.0.113.7", "Player/1.0");
  EXPECT_EQ(a, service_->ListenerKey("", "203.0.113.7", "Player/1.0"));
  EXPECT_NE(a, service_->ListenerKey("", "203.0.113.7", "Player/2.0"));
  EXPECT_NE(a, service_->ListenerKey("", "203.0.113.8", "Player/1.0"));
  EXPECT_EQ(a.find("203.0.113"), std::string::npos);
  EXPECT_EQ(a.rfind("a:", 0), 0u);
  EXPECT_EQ(service_->ListenerKey(fan_, "203.0.113.7", "x"), "u:" + fan_);
  // The salt is per instance and kept: a second service over the same database agrees.
  AnalyticsService again(db(), *bus_, clock_, {});
  ASSERT_OK(again.Start());
  EXPECT_EQ(again.ListenerKey("", "203.0.113.7", "Player/1.0"), a);
}

TEST(AnalyticsDays, DatesRangesAndCountriesParseStrictly) {
  EXPECT_EQ(DayString(0), "1970-01-01");
  EXPECT_EQ(DayString(kDay0), "2024-10-04");
  auto d = ParseDay("2024-10-04");
  ASSERT_OK(d);
  EXPECT_EQ(*d, kDay0);
  for (const char* bad : {"2024-02-30", "2024-1-04", "24-10-04", "2024-10-04x", "", "abcd-ef-gh", "1969-12-31"})
    EXPECT_FALSE(ParseDay(bad).ok()) << bad;
  auto r = ParseRange("", "", kDay0);
  ASSERT_OK(r);
  EXPECT_EQ(r->to, kDay0);
  EXPECT_EQ(r->from, kDay0 - 29);
  EXPECT_OK(ParseRange("2024-01-01", "2024-12-31", kDay0));  // 366 days
  EXPECT_FALSE(ParseRange("2023-01-01", "2024-12-31", kDay0).ok());
  EXPECT_FALSE(ParseRange("2024-10-05", "2024-10-04", kDay0).ok());
  EXPECT_EQ(NormalizeCountry("de"), "DE");
  EXPECT_EQ(NormalizeCountry("DEU"), "");
  EXPECT_EQ(NormalizeCountry("1x"), "");
  EXPECT_FALSE(ValidateSessionId("short").ok());
  EXPECT_FALSE(ValidateSessionId("has space in it").ok());
  EXPECT_OK(ValidateSessionId("0190f0c2-7b2d-7c1e-9f55-5e8e4c6d2a11"));
  auto decoded = DecodeEvent(EncodeEvent(Play(EventKind::kSkip, "t1", "u:x", "session-1", 5, 6)));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->kind, EventKind::kSkip);
  EXPECT_EQ(decoded->position_ms, 5);
  EXPECT_EQ(decoded->at_ms, 6);
}

INSTANTIATE_TEST_SUITE_P(Backends, AnalyticsContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza::analytics
