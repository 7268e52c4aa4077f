#include "services/analytics/analytics_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <map>

#include "base/digest.h"
#include "base/ids.h"
#include "base/log.h"

namespace veza::analytics {

namespace json = boost::json;

namespace {

constexpr std::string_view kSaltKey = "analytics_listener_salt";
constexpr int kCompletedBucket = kRetentionBuckets;
constexpr int kTopTracks = 10;
constexpr int kTopCountries = 50;

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::string Hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

int BucketOf(std::int64_t position_ms, std::int64_t duration_ms) {
  if (duration_ms <= 0) return 0;
  std::int64_t b = std::clamp<std::int64_t>(position_ms, 0, duration_ms) * kRetentionBuckets / duration_ms;
  return static_cast<int>(std::min<std::int64_t>(b, kRetentionBuckets - 1));
}

// Adds one to a daily counter (column is one of ours, never input).
Status Bump(SqlSession& s, std::string_view column, std::string_view track_id, std::int64_t day) {
  std::string sql = "INSERT INTO analytics_track_daily (track_id, day, " + std::string(column) +
                    ") VALUES ($1, $2, 1) ON CONFLICT (track_id, day) DO UPDATE SET " + std::string(column) +
                    " = analytics_track_daily." + std::string(column) + " + 1";
  VEZA_TRY(s.Query(sql, {SqlText(track_id), SqlInt(day)}));
  return Ok();
}

std::vector<DailyPlays> EmptyDays(DayRange range) {
  std::vector<DailyPlays> days;
  for (std::int64_t d = range.from; d <= range.to; ++d) {
    DailyPlays day;
    day.day = d;
    days.push_back(day);
  }
  return days;
}

DailyPlays* DayIn(std::vector<DailyPlays>& days, DayRange range, std::int64_t day) {
  if (day < range.from || day > range.to) return nullptr;
  return &days[static_cast<std::size_t>(day - range.from)];
}

// Whether listener may be counted again for the page `id` (a track or a profile, the key column
// of `table`): true (and the window restarts at at_ms) unless the last counted one in `table` is
// less than `window` old. Table and column are ours, never input.
Result<bool> OutsideWindow(SqlSession& s, std::string_view table, std::string_view column, std::string_view id,
                           std::string_view listener, std::int64_t at_ms, std::chrono::milliseconds window) {
  std::string t(table), c(column);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult counted,
      s.Query("INSERT INTO " + t + " (" + c + ", listener_key, counted_at) VALUES ($1, $2, $3) "
              "ON CONFLICT (" + c + ", listener_key) DO UPDATE SET counted_at = EXCLUDED.counted_at "
              "WHERE " + t + ".counted_at <= $4",
              {SqlText(id), SqlText(listener), SqlInt(at_ms), SqlInt(at_ms - window.count())}));
  return counted.affected_rows > 0;
}

// A page view (a track's or a profile's, `id` in `column`): recorded once per view id in
// `views` (a replay is a no-op) and counted once per viewer and page per window in `windows`.
Result<bool> CountsAsView(SqlSession& s, std::string_view views, std::string_view windows, std::string_view column,
                          std::string_view id, const PlayEvent& e, std::chrono::milliseconds window) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult recorded,
      s.Query("INSERT INTO " + std::string(views) + " (listener_key, view_id, " + std::string(column) +
                  ", viewed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (listener_key, view_id) DO NOTHING",
              {SqlText(e.listener), SqlText(e.session_id), SqlText(id), SqlInt(e.at_ms)}));
  if (recorded.affected_rows == 0) return false;  // a replay
  return OutsideWindow(s, windows, column, id, e.listener, e.at_ms, window);
}

std::vector<SqlValue> RangeParams(std::string_view id, DayRange range) {
  return {SqlText(id), SqlInt(range.from), SqlInt(range.to)};
}

// The range as [first ms, end ms) for tables keyed by creation time.
std::vector<SqlValue> MsParams(std::string_view id, DayRange range) {
  return {SqlText(id), SqlInt(range.from * kDayMs), SqlInt((range.to + 1) * kDayMs)};
}

}  // namespace

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kStart: return "start";
    case EventKind::kProgress: return "progress";
    case EventKind::kComplete: return "complete";
    case EventKind::kSkip: return "skip";
    case EventKind::kView: return "view";
    case EventKind::kProfileView: return "profile_view";
  }
  return "start";
}

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (EventKind k : {EventKind::kStart, EventKind::kProgress, EventKind::kComplete, EventKind::kSkip,
                      EventKind::kView, EventKind::kProfileView}) {
    if (EventKindName(k) == name) return k;
  }
  return std::nullopt;
}

Status ValidateSessionId(std::string_view id) {
  bool ok = id.size() >= 8 && id.size() <= 64 &&
            std::all_of(id.begin(), id.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_';
            });
  if (!ok) return InvalidArgument("session_id must be 8 to 64 of A-Z, a-z, 0-9, '-' and '_'");
  return Ok();
}

std::string NormalizeCountry(std::string_view header) {
  if (header.size() != 2) return "";
  std::string out;
  for (char c : header) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return "";
    out += c;
  }
  return out;
}

std::string EncodeEvent(const PlayEvent& e) {
  return json::serialize(json::object{{"kind", EventKindName(e.kind)},
                                      {"session_id", e.session_id},
                                      {"track_id", e.track_id},
                                      {"profile_id", e.profile_id},
                                      {"position_ms", e.position_ms},
                                      {"duration_ms", e.duration_ms},
                                      {"listener", e.listener},
                                      {"country", e.country},
                                      {"at_ms", e.at_ms}});
}

Result<PlayEvent> DecodeEvent(std::string_view payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec || !v.is_object()) return InvalidArgument("analytics event is not a JSON object");
  const json::object& o = v.as_object();
  auto text = [&](const char* k) -> std::string {
    const json::value* f = o.if_contains(k);
    return f && f->is_string() ? std::string(f->as_string().data(), f->as_string().size()) : std::string();
  };
  auto number = [&](const char* k) -> std::int64_t {
    const json::value* f = o.if_contains(k);
    return f && f->is_int64() ? f->as_int64() : 0;
  };
  PlayEvent e;
  auto kind = ParseEventKind(text("kind"));
  if (!kind) return InvalidArgument("analytics event has no known kind");
  e.kind = *kind;
  e.session_id = text("session_id");
  e.track_id = text("track_id");
  e.profile_id = text("profile_id");
  e.position_ms = number("position_ms");
  e.duration_ms = number("duration_ms");
  e.listener = text("listener");
  e.country = NormalizeCountry(text("country"));
  e.at_ms = number("at_ms");
  VEZA_TRY(ValidateSessionId(e.session_id));
  const bool profile = e.kind == EventKind::kProfileView;
  if ((profile ? e.profile_id : e.track_id).empty() || e.listener.empty())
    return InvalidArgument(profile ? "analytics event lacks a profile or listener" : "analytics event lacks a track or listener");
  return e;
}

std::int64_t DayOf(std::int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }

std::string DayString(std::int64_t day) {
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

Result<std::int64_t> ParseDay(std::string_view text) {
  auto bad = [&] { return InvalidArgument("dates must be YYYY-MM-DD"); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  auto part = [&](std::size_t at, std::size_t n, int& out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + n, out);
    return ec == std::errc() && end == text.data() + at + n;
  };
  int y = 0, m = 0, d = 0;
  if (!part(0, 4, y) || !part(5, 2, m) || !part(8, 2, d)) return bad();
  if (y < 1970 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return bad();
  std::int64_t day = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  if (DayString(day) != text) return bad();  // 2026-02-30 and the like
  return day;
}

Result<DayRange> ParseRange(std::string_view from, std::string_view to, std::int64_t today) {
  DayRange r;
  r.to = today;
  if (!to.empty()) {
    VEZA_ASSIGN_OR_RETURN(r.to, ParseDay(to));
  }
  r.from = r.to - 29;
  if (!from.empty()) {
    VEZA_ASSIGN_OR_RETURN(r.from, ParseDay(from));
  }
  if (r.from > r.to) return InvalidArgument("from must not be after to");
  if (r.to - r.from >= kMaxRangeDays)
    return InvalidArgument("a range covers at most " + std::to_string(kMaxRangeDays) + " days");
  return r;
}

AnalyticsService::AnalyticsService(Database& db, EventBus& bus, Clock& clock, AnalyticsOptions options)
    : db_(db), bus_(bus), clock_(clock), options_(std::move(options)) {}

AnalyticsService::~AnalyticsService() { Stop(); }

Status AnalyticsService::Start() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("random generator failed");
  VEZA_TRY(db_.Query(
      "INSERT INTO instance_settings (key, value, updated_at) VALUES ($1, $2, 'created') "
      "ON CONFLICT (key) DO NOTHING",
      {SqlText(kSaltKey), SqlText(Hex(bytes, sizeof bytes))}));
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT value FROM instance_settings WHERE key = $1", {SqlText(kSaltKey)}));
  if (r.rows.empty()) return Internal("analytics salt missing");
  salt_ = r.rows[0].Text(0);
  return Ok();
}

std::string AnalyticsService::ListenerKey(std::string_view user_id, std::string_view ip,
                                          std::string_view user_agent) const {
  if (!user_id.empty()) return "u:" + std::string(user_id);
  std::string material = salt_;
  material += '\n';
  material += ip;
  material += '\n';
  material += user_agent;
  return "a:" + Sha256Hex(material).substr(0, 32);
}

std::int64_t AnalyticsService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Status AnalyticsService::Submit(const PlayEvent& e) { return bus_.Enqueue(kEventQueue, EncodeEvent(e)); }

Status AnalyticsService::Apply(const PlayEvent& e) {
  return db_.Transaction([&](SqlSession& s) { return ApplyIn(s, e); });
}

Status AnalyticsService::ApplyIn(SqlSession& s, const PlayEvent& e) {
  std::int64_t event_day = DayOf(e.at_ms);
  if (e.kind == EventKind::kProfileView) {
    VEZA_ASSIGN_OR_RETURN(bool counted, CountsAsView(s, "analytics_profile_views", "analytics_profile_view_windows",
                                                     "profile_id", e.profile_id, e, options_.qualified_window));
    if (counted) {
      VEZA_TRY(s.Query("INSERT INTO analytics_profile_daily (profile_id, day, views) VALUES ($1, $2, 1) "
                       "ON CONFLICT (profile_id, day) DO UPDATE SET views = analytics_profile_daily.views + 1",
                       {SqlText(e.profile_id), SqlInt(event_day)}));
    }
    return Ok();
  }
  if (e.kind == EventKind::kView) {
    // Once per listener and track per window, as qualified plays (0091_view_windows).
    VEZA_ASSIGN_OR_RETURN(bool counted, CountsAsView(s, "analytics_views", "analytics_view_windows", "track_id",
                                                     e.track_id, e, options_.qualified_window));
    if (counted) VEZA_TRY(Bump(s, "views", e.track_id, event_day));
    return Ok();
  }

  // Any event opens its session; the first one counts the play (a lost "start" loses nothing).
  VEZA_ASSIGN_OR_RETURN(
      QueryResult opened,
      s.Query("INSERT INTO analytics_play_sessions (listener_key, session_id, track_id, day, started_at) "
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (listener_key, session_id) DO NOTHING",
              {SqlText(e.listener), SqlText(e.session_id), SqlText(e.track_id), SqlInt(event_day),
               SqlInt(e.at_ms)}));
  VEZA_ASSIGN_OR_RETURN(
      QueryResult session,
      s.Query("SELECT track_id, day FROM analytics_play_sessions WHERE listener_key = $1 AND session_id = $2",
              {SqlText(e.listener), SqlText(e.session_id)}));
  if (session.rows.empty()) return Ok();
  // A session id reused for another track is the client's mistake (or mischief): ignored.
  if (session.rows[0].Text(0) != e.track_id) return Ok();
  const std::int64_t day = session.rows[0].Int(1);
  if (opened.affected_rows > 0) {
    VEZA_TRY(Bump(s, "plays", e.track_id, day));
    VEZA_ASSIGN_OR_RETURN(
        QueryResult listener,
        s.Query("INSERT INTO analytics_track_listeners (track_id, day, listener_key) VALUES ($1, $2, $3) "
                "ON CONFLICT (track_id, day, listener_key) DO NOTHING",
                {SqlText(e.track_id), SqlInt(day), SqlText(e.listener)}));
    if (listener.affected_rows > 0) VEZA_TRY(Bump(s, "listeners", e.track_id, day));
    if (!e.country.empty()) {
      VEZA_TRY(s.Query(
          "INSERT INTO analytics_track_countries (track_id, day, country, plays) VALUES ($1, $2, $3, 1) "
          "ON CONFLICT (track_id, day, country) DO UPDATE SET plays = analytics_track_countries.plays + 1",
          {SqlText(e.track_id), SqlInt(day), SqlText(e.country)}));
    }
  }

  const bool complete = e.kind == EventKind::kComplete;
  const std::int64_t qualifying = e.duration_ms > 0 ? std::min(kQualifyingMs, e.duration_ms) : kQualifyingMs;
  if (complete || e.position_ms >= qualifying) {
    VEZA_ASSIGN_OR_RETURN(
        QueryResult reached,
        s.Query("UPDATE analytics_play_sessions SET qualified = 2 "
                "WHERE listener_key = $1 AND session_id = $2 AND qualified = 0",
                {SqlText(e.listener), SqlText(e.session_id)}));
    if (reached.affected_rows > 0) {
      // Counted unless this listener's last counted play of the track is inside the window.
      VEZA_ASSIGN_OR_RETURN(bool counted,
                            OutsideWindow(s, "analytics_qualified_windows", "track_id", e.track_id, e.listener,
                                                e.at_ms, options_.qualified_window));
      if (counted) {
        VEZA_TRY(s.Query("UPDATE analytics_play_sessions SET qualified = 1 WHERE listener_key = $1 AND session_id = $2",
                         {SqlText(e.listener), SqlText(e.session_id)}));
        VEZA_TRY(Bump(s, "qualified_plays", e.track_id, day));
        // The public plays count (profiles, discover, search popularity) is of qualified plays.
        std::optional<std::string> user;
        if (e.listener.rfind("u:", 0) == 0) user = e.listener.substr(2);
        // A listener whose account is gone by now still counts, anonymously.
        VEZA_TRY(s.Query("INSERT INTO track_plays (id, track_id, user_id, played_at) "
                         "VALUES ($1, $2, (SELECT id FROM users WHERE id = $3), $4)",
                         {SqlText(NewId()), SqlText(e.track_id), user ? SqlText(*user) : SqlValue{},
                          SqlInt(e.at_ms)}));
      }
    }
  }

  if (complete || e.kind == EventKind::kSkip) {
    int bucket = complete ? kCompletedBucket : BucketOf(e.position_ms, e.duration_ms);
    VEZA_ASSIGN_OR_RETURN(
        QueryResult stopped,
        s.Query("UPDATE analytics_play_sessions SET stop_bucket = $3, completed = $4 "
                "WHERE listener_key = $1 AND session_id = $2 AND stop_bucket IS NULL",
                {SqlText(e.listener), SqlText(e.session_id), SqlInt(bucket), SqlInt(complete ? 1 : 0)}));
    if (stopped.affected_rows > 0) {
      VEZA_TRY(s.Query(
          "INSERT INTO analytics_retention (track_id, day, bucket, stops) VALUES ($1, $2, $3, 1) "
          "ON CONFLICT (track_id, day, bucket) DO UPDATE SET stops = analytics_retention.stops + 1",
          {SqlText(e.track_id), SqlInt(day), SqlInt(bucket)}));
      if (complete) VEZA_TRY(Bump(s, "completions", e.track_id, day));
    }
  }
  return Ok();
}

Result<std::int64_t> AnalyticsService::Purge(std::int64_t before_ms) {
  const std::int64_t window_over = NowMs() - options_.qualified_window.count();
  std::int64_t deleted = 0;
  const std::pair<const char*, std::int64_t> purges[] = {
      {"DELETE FROM analytics_play_sessions WHERE started_at < $1", before_ms},
      {"DELETE FROM analytics_views WHERE viewed_at < $1", before_ms},
      {"DELETE FROM analytics_profile_views WHERE viewed_at < $1", before_ms},
      {"DELETE FROM analytics_qualified_windows WHERE counted_at < $1", window_over},
      {"DELETE FROM analytics_view_windows WHERE counted_at < $1", window_over},
      {"DELETE FROM analytics_profile_view_windows WHERE counted_at < $1", window_over},
  };
  for (const auto& [sql, cutoff] : purges) {
    VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, {SqlInt(cutoff)}));
    deleted += r.affected_rows;
  }
  return deleted;
}

void AnalyticsService::StartConsumers(int threads) {
  stopping_ = false;
  for (int i = 0; i < threads; ++i) consumers_.emplace_back([this] { Consume(); });
}

void AnalyticsService::Stop() {
  stopping_ = true;
  for (auto& t : consumers_) t.join();
  consumers_.clear();
}

void AnalyticsService::Consume() {
  auto next_purge = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next_purge) {
      next_purge = std::chrono::steady_clock::now() + std::chrono::hours(1);
      auto purged = Purge(NowMs() - kSessionRetentionMs);
      if (!purged.ok()) log::Warn("analytics purge failed; tried again in an hour", {{"error", purged.error().message}});
    }
    auto job = bus_.Fetch(kEventQueue, std::chrono::milliseconds(500));
    if (!job.ok()) {
      log::Warn("analytics queue unavailable", {{"error", job.error().message}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (*job == nullptr) continue;
    auto event = DecodeEvent((*job)->Payload());
    if (!event.ok()) {
      log::Warn("analytics event dropped", {{"error", event.error().message}});
      (void)(*job)->Ack();
      continue;
    }
    Status applied = Apply(*event);
    if (applied.ok() || applied.error().code == ErrorCode::kInvalidArgument) {
      // kInvalidArgument: a constraint, such as a track deleted since; retrying cannot help.
      (void)(*job)->Ack();
    } else {
      log::Warn("analytics event not applied; retrying", {{"error", applied.error().message}});
      (void)(*job)->Retry(std::chrono::seconds(1));
    }
  }
}

Result<TrackStats> AnalyticsService::ForTrack(std::string_view track_id, DayRange range) {
  TrackStats out;
  out.range = range;
  out.days = EmptyDays(range);
  const auto params = RangeParams(track_id, range);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult daily,
      db_.Query("SELECT day, plays, qualified_plays, listeners, completions, views FROM analytics_track_daily "
                "WHERE track_id = $1 AND day BETWEEN $2 AND $3",
                params));
  for (const Row& r : daily.rows) {
    if (DailyPlays* d = DayIn(out.days, range, r.Int(0))) {
      d->plays = r.Int(1);
      d->qualified_plays = r.Int(2);
      d->listeners = r.Int(3);
      d->completions = r.Int(4);
      d->views = r.Int(5);
    }
  }
  const std::pair<const char*, std::int64_t DailyPlays::*> social[] = {
      {"track_likes", &DailyPlays::likes}, {"track_reposts", &DailyPlays::reposts},
      {"track_comments", &DailyPlays::comments}};
  for (const auto& [table, member] : social) {
    VEZA_ASSIGN_OR_RETURN(
        QueryResult r,
        db_.Query("SELECT created_at / 86400000 AS day, COUNT(*) FROM " + std::string(table) +
                      " WHERE track_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY created_at / 86400000",
                  MsParams(track_id, range)));
    for (const Row& row : r.rows) {
      if (DailyPlays* d = DayIn(out.days, range, row.Int(0))) d->*member = row.Int(1);
    }
  }
  for (const DailyPlays& d : out.days) {
    out.totals.plays += d.plays;
    out.totals.qualified_plays += d.qualified_plays;
    out.totals.completions += d.completions;
    out.totals.views += d.views;
    out.totals.likes += d.likes;
    out.totals.reposts += d.reposts;
    out.totals.comments += d.comments;
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult listeners,
      db_.Query("SELECT COUNT(DISTINCT listener_key) FROM analytics_track_listeners "
                "WHERE track_id = $1 AND day BETWEEN $2 AND $3",
                params));
  out.totals.listeners = listeners.rows.empty() ? 0 : listeners.rows[0].Int(0);

  VEZA_ASSIGN_OR_RETURN(QueryResult duration,
                        db_.Query("SELECT duration_ms FROM tracks WHERE id = $1", {SqlText(track_id)}));
  std::int64_t duration_ms = duration.rows.empty() ? 0 : duration.rows[0].Int(0);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult stops,
      db_.Query("SELECT bucket, CAST(SUM(stops) AS BIGINT) FROM analytics_retention "
                "WHERE track_id = $1 AND day BETWEEN $2 AND $3 GROUP BY bucket",
                params));
  std::vector<std::int64_t> per_bucket(kRetentionBuckets + 1, 0);
  for (const Row& r : stops.rows) {
    std::int64_t b = r.Int(0);
    if (b >= 0 && b <= kRetentionBuckets) per_bucket[static_cast<std::size_t>(b)] = r.Int(1);
  }
  out.completed = per_bucket[kRetentionBuckets];
  std::int64_t reached = out.completed;
  out.retention.resize(kRetentionBuckets);
  for (int b = kRetentionBuckets - 1; b >= 0; --b) {
    RetentionBucket& rb = out.retention[static_cast<std::size_t>(b)];
    rb.start_ms = duration_ms * b / kRetentionBuckets;
    rb.end_ms = duration_ms * (b + 1) / kRetentionBuckets;
    rb.stops = per_bucket[static_cast<std::size_t>(b)];
    reached += rb.stops;
    rb.reached = reached;
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult countries,
      db_.Query("SELECT country, CAST(SUM(plays) AS BIGINT) AS n FROM analytics_track_countries "
                "WHERE track_id = $1 AND day BETWEEN $2 AND $3 GROUP BY country ORDER BY n DESC, country LIMIT " +
                    std::to_string(kTopCountries),
                params));
  for (const Row& r : countries.rows) out.countries.push_back({r.Text(0), r.Int(1)});
  return out;
}

Result<CreatorStats> AnalyticsService::ForOwner(std::string_view owner_id, DayRange range) {
  CreatorStats out;
  out.range = range;
  out.days = EmptyDays(range);
  const auto params = RangeParams(owner_id, range);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult daily,
      db_.Query("SELECT d.day, CAST(SUM(d.plays) AS BIGINT), CAST(SUM(d.qualified_plays) AS BIGINT), "
                "CAST(SUM(d.completions) AS BIGINT), CAST(SUM(d.views) AS BIGINT) "
                "FROM analytics_track_daily d JOIN tracks t ON t.id = d.track_id "
                "WHERE t.owner_id = $1 AND d.day BETWEEN $2 AND $3 GROUP BY d.day",
                params));
  for (const Row& r : daily.rows) {
    if (DailyPlays* d = DayIn(out.days, range, r.Int(0))) {
      d->plays = r.Int(1);
      d->qualified_plays = r.Int(2);
      d->completions = r.Int(3);
      d->views = r.Int(4);
    }
  }
  // Listeners of any of the owner's tracks, each counted once a day.
  VEZA_ASSIGN_OR_RETURN(
      QueryResult listeners,
      db_.Query("SELECT l.day, COUNT(DISTINCT l.listener_key) FROM analytics_track_listeners l "
                "JOIN tracks t ON t.id = l.track_id WHERE t.owner_id = $1 AND l.day BETWEEN $2 AND $3 "
                "GROUP BY l.day",
                params));
  for (const Row& r : listeners.rows) {
    if (DailyPlays* d = DayIn(out.days, range, r.Int(0))) d->listeners = r.Int(1);
  }
  const std::pair<const char*, std::int64_t DailyPlays::*> social[] = {
      {"track_likes", &DailyPlays::likes}, {"track_reposts", &DailyPlays::reposts},
      {"track_comments", &DailyPlays::comments}};
  for (const auto& [table, member] : social) {
    VEZA_ASSIGN_OR_RETURN(
        QueryResult r,
        db_.Query("SELECT x.created_at / 86400000 AS day, COUNT(*) FROM " + std::string(table) +
                      " x JOIN tracks t ON t.id = x.track_id WHERE t.owner_id = $1 "
                      "AND x.created_at >= $2 AND x.created_at < $3 GROUP BY x.created_at / 86400000",
                  MsParams(owner_id, range)));
    for (const Row& row : r.rows) {
      if (DailyPlays* d = DayIn(out.days, range, row.Int(0))) d->*member = row.Int(1);
    }
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult profile_views,
      db_.Query("SELECT day, views FROM analytics_profile_daily WHERE profile_id = $1 AND day BETWEEN $2 AND $3",
                params));
  for (const Row& r : profile_views.rows) {
    if (DailyPlays* d = DayIn(out.days, range, r.Int(0))) d->profile_views = r.Int(1);
  }
  for (const DailyPlays& d : out.days) {
    out.totals.plays += d.plays;
    out.totals.qualified_plays += d.qualified_plays;
    out.totals.completions += d.completions;
    out.totals.views += d.views;
    out.totals.likes += d.likes;
    out.totals.reposts += d.reposts;
    out.totals.comments += d.comments;
    out.totals.profile_views += d.profile_views;
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult distinct,
      db_.Query("SELECT COUNT(DISTINCT l.listener_key) FROM analytics_track_listeners l "
                "JOIN tracks t ON t.id = l.track_id WHERE t.owner_id = $1 AND l.day BETWEEN $2 AND $3",
                params));
  out.totals.listeners = distinct.rows.empty() ? 0 : distinct.rows[0].Int(0);
  VEZA_ASSIGN_OR_RETURN(
      QueryResult top,
      db_.Query("SELECT t.id, t.title, CAST(SUM(d.plays) AS BIGINT), CAST(SUM(d.qualified_plays) AS BIGINT) AS q "
                "FROM analytics_track_daily d JOIN tracks t ON t.id = d.track_id "
                "WHERE t.owner_id = $1 AND d.day BETWEEN $2 AND $3 GROUP BY t.id, t.title "
                "ORDER BY q DESC, t.id LIMIT " + std::to_string(kTopTracks),
                params));
  for (const Row& r : top.rows) out.top_tracks.push_back({r.Text(0), r.Text(1), r.Int(2), r.Int(3)});
  VEZA_ASSIGN_OR_RETURN(
      QueryResult countries,
      db_.Query("SELECT c.country, CAST(SUM(c.plays) AS BIGINT) AS n FROM analytics_track_countries c "
                "JOIN tracks t ON t.id = c.track_id WHERE t.owner_id = $1 AND c.day BETWEEN $2 AND $3 "
                "GROUP BY c.country ORDER BY n DESC, c.country LIMIT " + std::to_string(kTopCountries),
                params));
  for (const Row& r : countries.rows) out.countries.push_back({r.Text(0), r.Int(1)});
  return out;
}

Result<AdminStats> AnalyticsService::ForInstance(DayRange range) {
  AdminStats out;
  out.range = range;
  VEZA_ASSIGN_OR_RETURN(
      QueryResult totals,
      db_.Query("SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM tracks), "
                "(SELECT COUNT(*) FROM track_plays), (SELECT COUNT(*) FROM chat_messages), "
                "CAST(COALESCE((SELECT SUM(original_size) FROM tracks), 0) + "
                "COALESCE((SELECT SUM(received) FROM uploads WHERE track_id IS NULL), 0) AS BIGINT)"));
  const Row& t = totals.rows.at(0);
  out.users = t.Int(0);
  out.tracks = t.Int(1);
  out.plays = t.Int(2);
  out.messages = t.Int(3);
  out.storage_bytes = t.Int(4);
  for (std::int64_t d = range.from; d <= range.to; ++d) {
    AdminDay day;
    day.day = d;
    out.days.push_back(day);
  }
  const std::vector<SqlValue> params = {SqlInt(range.from * kDayMs), SqlInt((range.to + 1) * kDayMs)};
  const std::pair<std::string, std::int64_t AdminDay::*> series[] = {
      {"SELECT created_at / 86400000, COUNT(*) FROM users WHERE created_at >= $1 "
       "AND created_at < $2 GROUP BY created_at / 86400000",
       &AdminDay::new_users},
      {"SELECT created_at / 86400000, COUNT(*) FROM tracks WHERE created_at >= $1 "
       "AND created_at < $2 GROUP BY created_at / 86400000",
       &AdminDay::uploads},
      {"SELECT played_at / 86400000, COUNT(*) FROM track_plays WHERE played_at >= $1 "
       "AND played_at < $2 GROUP BY played_at / 86400000",
       &AdminDay::plays},
      {"SELECT created_at / 86400000, COUNT(*) FROM chat_messages WHERE created_at >= $1 "
       "AND created_at < $2 GROUP BY created_at / 86400000",
       &AdminDay::messages},
  };
  for (const auto& [sql, member] : series) {
    VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
    for (const Row& row : r.rows) {
      std::int64_t day = row.Int(0);
      if (day >= range.from && day <= range.to) out.days[static_cast<std::size_t>(day - range.from)].*member = row.Int(1);
    }
  }
  return out;
}

}  // namespace veza::analytics
