#pragma once
// Analytics (issue 7): play events and track views from players flow over the EventBus work
// queue into aggregate tables (migrations 0081_analytics); creators read daily series, a
// retention curve, top tracks and countries; moderators read instance-wide figures.
//
// Counting rules, each kept by a row that makes replays no-ops:
// - a play session is (listener, client session id); its first event counts a play and, once a
//   day per track, a unique listener; a second event of a known session adds nothing new;
// - a session qualifies at 30 s of position (or on completion of a shorter track); a listener's
//   qualified play of a track counts once per window (default 30 min), whatever session ids an
//   abuser invents, and each one counted is also a row in track_plays (the public plays count);
// - a session's stop position (skip, or completion) lands once in one of kRetentionBuckets
//   buckets of the track's duration;
// - a track page view or a profile page view counts once per viewer and page per window (the
//   same window), and a replayed view id adds nothing.
// The listener is "u:<user id>" or, for anonymous players, "a:" + SHA-256 of a per-instance
// secret salt, the IP and the User-Agent: the raw address is never stored. The country comes
// only from a trusted header the operator names; without one, there is no country.
// Likes, reposts and comments per day are read from the social tables themselves, so undoing a
// like also undoes it here. Calls block (database): run them on the worker pool.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/event_bus.h"

namespace veza::analytics {

inline constexpr std::string_view kEventQueue = "analytics.events";
inline constexpr int kRetentionBuckets = 20;
inline constexpr std::int64_t kQualifyingMs = 30'000;
inline constexpr int kMaxRangeDays = 366;
inline constexpr std::int64_t kDayMs = 86'400'000;
// How long the rows that make a replayed event a no-op are kept (sessions, view ids): a client
// retrying an event later than this would count it again. Aggregates are kept for good.
inline constexpr std::int64_t kSessionRetentionMs = 7 * kDayMs;

struct AnalyticsOptions {
  std::chrono::milliseconds qualified_window{30 * 60 * 1000};
  // The request header holding the listener's country (ISO 3166 alpha-2) set by a trusted proxy;
  // empty: countries are not recorded.
  std::string country_header;
};

// kView: a track page was viewed; kProfileView: a user's profile page was (profile_id).
enum class EventKind { kStart, kProgress, kComplete, kSkip, kView, kProfileView };
std::string_view EventKindName(EventKind kind);
std::optional<EventKind> ParseEventKind(std::string_view name);

struct PlayEvent {
  EventKind kind = EventKind::kStart;
  std::string session_id;  // chosen by the client: 8..64 of [A-Za-z0-9_-]
  std::string track_id;    // empty for kProfileView
  std::string profile_id;  // the viewed user, for kProfileView only
  std::int64_t position_ms = 0;
  std::int64_t duration_ms = 0;  // the track's, from the server
  std::string listener;          // see above
  std::string country;           // "" or two upper-case letters
  std::int64_t at_ms = 0;        // when the server received it
};
std::string EncodeEvent(const PlayEvent& e);
Result<PlayEvent> DecodeEvent(std::string_view payload);
// kInvalidArgument unless the session id is 8..64 of [A-Za-z0-9_-].
Status ValidateSessionId(std::string_view id);
// "" unless header is two ASCII letters; upper-cased.
std::string NormalizeCountry(std::string_view header);

// Days are whole UTC days since 1970-01-01.
std::int64_t DayOf(std::int64_t ms);
std::string DayString(std::int64_t day);  // "2026-11-26"
Result<std::int64_t> ParseDay(std::string_view text);

struct DayRange {
  std::int64_t from = 0, to = 0;  // inclusive; to - from < kMaxRangeDays
};
// from/to as "YYYY-MM-DD" (either may be empty: the last 30 days up to today).
Result<DayRange> ParseRange(std::string_view from, std::string_view to, std::int64_t today);

struct DailyPlays {
  std::int64_t day = 0;
  std::int64_t plays = 0, qualified_plays = 0, listeners = 0, completions = 0, views = 0;
  std::int64_t likes = 0, reposts = 0, comments = 0;
  std::int64_t profile_views = 0;  // creator figures only
};
struct CountryCount {
  std::string country;
  std::int64_t plays = 0;
};
struct RetentionBucket {
  std::int64_t start_ms = 0, end_ms = 0;
  std::int64_t stops = 0;    // sessions that stopped inside this bucket
  std::int64_t reached = 0;  // sessions that got at least to its start
};
struct Totals {
  std::int64_t plays = 0, qualified_plays = 0, listeners = 0, completions = 0, views = 0;
  std::int64_t likes = 0, reposts = 0, comments = 0;
  std::int64_t profile_views = 0;  // creator figures only
};
struct TrackStats {
  DayRange range;
  std::vector<DailyPlays> days;  // every day of the range, zeros included
  Totals totals;                 // listeners: distinct over the whole range
  std::vector<RetentionBucket> retention;
  std::int64_t completed = 0;  // sessions that reached the end (beyond the last bucket)
  std::vector<CountryCount> countries;
};
struct TopTrack {
  std::string id, title;
  std::int64_t plays = 0, qualified_plays = 0;
};
struct CreatorStats {
  DayRange range;
  std::vector<DailyPlays> days;
  Totals totals;
  std::vector<TopTrack> top_tracks;
  std::vector<CountryCount> countries;
};
struct AdminDay {
  std::int64_t day = 0;
  std::int64_t new_users = 0, uploads = 0, plays = 0, messages = 0;
};
struct AdminStats {
  DayRange range;
  std::int64_t users = 0, tracks = 0, plays = 0, messages = 0, storage_bytes = 0;
  std::vector<AdminDay> days;
};

class AnalyticsService {
 public:
  AnalyticsService(Database& db, EventBus& bus, Clock& clock, AnalyticsOptions options);
  ~AnalyticsService();

  const AnalyticsOptions& options() const { return options_; }
  // Loads (or creates) the salt for anonymous listener keys. Call once before use.
  Status Start();
  std::string ListenerKey(std::string_view user_id, std::string_view ip, std::string_view user_agent) const;
  std::int64_t NowMs() const;

  // Puts the event on the durable work queue; a consumer applies it.
  Status Submit(const PlayEvent& e);
  // Applies one event in one transaction; applying it again changes nothing.
  Status Apply(const PlayEvent& e);
  // Deletes the replay bookkeeping older than before_ms (sessions, view ids) and the abuse
  // windows that are over; returns the rows deleted. The consumers run it once an hour.
  Result<std::int64_t> Purge(std::int64_t before_ms);
  // Consumers of the work queue on `threads` threads (the http role's nodes run them).
  void StartConsumers(int threads = 1);
  void Stop();

  Result<TrackStats> ForTrack(std::string_view track_id, DayRange range);
  Result<CreatorStats> ForOwner(std::string_view owner_id, DayRange range);
  Result<AdminStats> ForInstance(DayRange range);

 private:
  Status ApplyIn(SqlSession& s, const PlayEvent& e);
  void Consume();

  Database& db_;
  EventBus& bus_;
  Clock& clock_;
  AnalyticsOptions options_;
  std::string salt_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> consumers_;
};

}  // namespace veza::analytics
