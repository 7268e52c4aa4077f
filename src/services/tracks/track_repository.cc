#include "services/tracks/track_repository.h"

#include "base/ids.h"

namespace veza::tracks {
namespace {

constexpr std::string_view kColumns =
    "t.id, t.owner_id, u.username, t.title, t.title_from_filename, t.artist, t.album, t.genre, "
    "t.year, t.track_number, t.description, t.visibility, t.state, t.failure_reason, t.progress, "
    "t.attempts, t.container, t.codec, t.sample_rate, t.channels, t.duration_ms, t.bit_rate, "
    "t.lossless, t.loudness_lufs, t.loudness_range_lu, t.true_peak_dbtp, t.replay_gain_db, "
    "t.waveform_points, t.has_cover, t.original_key, t.original_size, t.original_content_type, "
    "t.original_filename, t.created_at, t.updated_at, t.taken_down_at, t.takedown_reason";
constexpr std::string_view kFrom = " FROM tracks t JOIN users u ON u.id = t.owner_id ";

std::optional<int> OptionalInt(const Row& r, std::size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return static_cast<int>(r.Int(i));
}

TrackState StateFrom(std::string_view s) {
  if (s == "processing") return TrackState::kProcessing;
  if (s == "ready") return TrackState::kReady;
  if (s == "failed") return TrackState::kFailed;
  return TrackState::kUploaded;
}

Track FromRow(const Row& r) {
  Track t;
  t.id = r.Text(0);
  t.owner_id = r.Text(1);
  t.owner_username = r.Text(2);
  t.title = r.Text(3);
  t.title_from_filename = r.Int(4) != 0;
  t.artist = r.Text(5);
  t.album = r.Text(6);
  t.genre = r.Text(7);
  t.year = OptionalInt(r, 8);
  t.track_number = OptionalInt(r, 9);
  t.description = r.Text(10);
  t.visibility = ParseVisibility(r.Text(11)).value_or(Visibility::kPrivate);
  t.state = StateFrom(r.Text(12));
  t.failure_reason = r.Text(13);
  t.progress = static_cast<int>(r.Int(14));
  t.attempts = static_cast<int>(r.Int(15));
  t.format.container = r.Text(16);
  t.format.codec = r.Text(17);
  t.format.sample_rate = static_cast<int>(r.Int(18));
  t.format.channels = static_cast<int>(r.Int(19));
  t.format.duration_ms = r.Int(20);
  t.format.bit_rate = r.Int(21);
  t.format.lossless = r.Int(22) != 0;
  if (!r.IsNull(23)) {
    t.loudness = MediaLoudness{r.Double(23), r.Double(24), r.Double(25), r.Double(26)};
  }
  t.waveform_points = static_cast<int>(r.Int(27));
  t.has_cover = r.Int(28) != 0;
  t.original_key = r.Text(29);
  t.original_size = r.Int(30);
  t.original_content_type = r.Text(31);
  t.original_filename = r.Text(32);
  t.created_at_ms = r.Int(33);
  t.updated_at_ms = r.Int(34);
  if (!r.IsNull(35)) t.takedown = Takedown{r.Int(35), r.Text(36)};
  return t;
}

constexpr std::string_view kUploadColumns =
    "id, owner_id, length, received, filename, content_type, title, visibility, track_id, "
    "expires_at, created_at";

Upload UploadFromRow(const Row& r) {
  Upload u;
  u.id = r.Text(0);
  u.owner_id = r.Text(1);
  u.length = r.Int(2);
  u.received = r.Int(3);
  u.filename = r.Text(4);
  u.content_type = r.Text(5);
  u.title = r.Text(6);
  u.visibility = ParseVisibility(r.Text(7)).value_or(Visibility::kPrivate);
  u.track_id = r.OptionalText(8);
  u.expires_at_ms = r.Int(9);
  u.created_at_ms = r.Int(10);
  return u;
}

SqlValue OptionalText(const std::optional<std::string>& s) { return s ? SqlText(*s) : SqlValue{}; }
SqlValue OptionalInt(std::optional<int> v) { return v ? SqlInt(*v) : SqlValue{}; }

std::string FoldKey(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view VisibilityName(Visibility v) {
  switch (v) {
    case Visibility::kPublic:
      return "public";
    case Visibility::kUnlisted:
      return "unlisted";
    case Visibility::kPrivate:
      return "private";
  }
  return "private";
}

std::optional<Visibility> ParseVisibility(std::string_view name) {
  for (Visibility v : {Visibility::kPublic, Visibility::kUnlisted, Visibility::kPrivate}) {
    if (VisibilityName(v) == name) return v;
  }
  return std::nullopt;
}

std::string_view TrackStateName(TrackState s) {
  switch (s) {
    case TrackState::kUploaded:
      return "uploaded";
    case TrackState::kProcessing:
      return "processing";
    case TrackState::kReady:
      return "ready";
    case TrackState::kFailed:
      return "failed";
  }
  return "failed";
}

Result<Track> TrackRepository::Create(const NewTrack& n, std::int64_t now_ms) {
  if (!IsUuid(n.id)) return InvalidArgument("track id must be a UUID");
  VEZA_TRY(db_.Query(
      "INSERT INTO tracks (id, owner_id, title, title_from_filename, visibility, original_key, "
      "original_size, original_content_type, original_filename, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
      {SqlText(n.id), SqlText(n.owner_id), SqlText(n.title), SqlInt(n.title_from_filename ? 1 : 0),
       SqlText(VisibilityName(n.visibility)), SqlText(n.original_key), SqlInt(n.original_size),
       SqlText(n.original_content_type), SqlText(n.original_filename), SqlInt(now_ms)}));
  return FindById(n.id);
}

Result<Track> TrackRepository::FindById(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such track");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT " + std::string(kColumns) +
                                                     std::string(kFrom) + "WHERE t.id = $1",
                                                 {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such track");
  return FromRow(r.rows[0]);
}

Result<std::vector<Track>> TrackRepository::FindByIds(const std::vector<std::string>& ids) {
  if (ids.size() > 100) return InvalidArgument("too many track ids");
  std::vector<SqlValue> params;
  std::string in;
  for (const std::string& id : ids) {
    if (!IsUuid(id)) continue;
    params.push_back(SqlText(id));
    in += (in.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  std::vector<Track> out;
  if (params.empty()) return out;
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT " + std::string(kColumns) +
                                                     std::string(kFrom) + "WHERE t.id IN (" + in + ")",
                                                 params));
  for (const Row& row : r.rows) out.push_back(FromRow(row));
  return out;
}

Result<TrackPage> TrackRepository::ListWhere(std::string where, std::vector<SqlValue> params,
                                             std::string_view cursor, int limit) {
  if (!cursor.empty()) {
    if (!IsUuid(cursor)) return InvalidArgument("malformed cursor");
    params.push_back(SqlText(cursor));
    where += " AND t.id < $" + std::to_string(params.size());
  }
  params.push_back(SqlInt(limit + 1));
  std::string sql = "SELECT " + std::string(kColumns) + std::string(kFrom) + "WHERE " + where +
                    " ORDER BY t.id DESC LIMIT $" + std::to_string(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  TrackPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.tracks.size()) == limit) {
      page.next_cursor = page.tracks.back().id;
      break;
    }
    page.tracks.push_back(FromRow(row));
  }
  return page;
}

Result<TrackPage> TrackRepository::ListPublic(std::string_view cursor, int limit) {
  return ListWhere(std::string(kListedTracks), {}, cursor, limit);
}

Result<TrackPage> TrackRepository::ListByOwner(std::string_view owner_id, bool include_hidden,
                                               std::string_view cursor, int limit) {
  if (!IsUuid(owner_id)) return TrackPage{};
  std::string where = "t.owner_id = $1";
  if (!include_hidden) where += " AND " + std::string(kListedTracks);
  return ListWhere(where, {SqlText(owner_id)}, cursor, limit);
}

Result<TrackRepository::StateCounts> TrackRepository::CountStates() {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT state, COUNT(*), SUM(CASE WHEN taken_down_at IS NULL THEN 0 ELSE 1 END) FROM tracks "
                "GROUP BY state",
                {}));
  StateCounts counts;
  for (const Row& row : r.rows) {
    std::int64_t n = row.Int(1);
    counts.taken_down += row.Int(2);
    switch (StateFrom(row.Text(0))) {
      case TrackState::kUploaded: counts.uploaded = n; break;
      case TrackState::kProcessing: counts.processing = n; break;
      case TrackState::kReady: counts.ready = n; break;
      case TrackState::kFailed: counts.failed = n; break;
    }
  }
  return counts;
}

Result<TrackPage> TrackRepository::ListTakenDown(std::string_view cursor, int limit) {
  // 0 is "the default" (QueryLimit without a limit parameter).
  if (limit <= 0) limit = 50;
  return ListWhere("t.taken_down_at IS NOT NULL", {}, cursor, limit);
}

Result<std::string> TrackRepository::OwnerIdByUsername(std::string_view username) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT id FROM users WHERE username_key = $1",
                                                 {SqlText(FoldKey(username))}));
  if (r.rows.empty()) return NotFound("no such user");
  return r.rows[0].Text(0);
}

Status TrackRepository::Edit(std::string_view id, const TrackEdit& e, std::int64_t now_ms) {
  if (!IsUuid(id)) return NotFound("no such track");
  // COALESCE keeps a field the edit leaves out; 0 clears year and track number. An edited
  // title is the owner's: tags no longer replace it.
  auto clearable = [](std::string_view column) {
    return std::string(column) + " = CASE WHEN CAST($X AS BIGINT) IS NULL THEN " +
           std::string(column) +
           " WHEN CAST($X AS BIGINT) = 0 THEN NULL ELSE CAST($X AS INTEGER) END";
  };
  std::string year = clearable("year"), number = clearable("track_number");
  auto place = [](std::string s, std::string_view n) {
    for (std::size_t p; (p = s.find("$X")) != std::string::npos;) s.replace(p, 2, n);
    return s;
  };
  std::string sql =
      "UPDATE tracks SET title = COALESCE($2, title), "
      "title_from_filename = CASE WHEN CAST($2 AS TEXT) IS NULL THEN title_from_filename ELSE 0 "
      "END, "
      "artist = COALESCE($3, artist), album = COALESCE($4, album), genre = COALESCE($5, genre), "
      "description = COALESCE($6, description), visibility = COALESCE($7, visibility), " +
      place(year, "$8") + ", " + place(number, "$9") + ", updated_at = $10 WHERE id = $1";
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query(sql, {SqlText(id), OptionalText(e.title), OptionalText(e.artist),
                      OptionalText(e.album), OptionalText(e.genre), OptionalText(e.description),
                      e.visibility ? SqlText(VisibilityName(*e.visibility)) : SqlValue{},
                      OptionalInt(e.year), OptionalInt(e.track_number), SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such track");
  return Ok();
}

Status TrackRepository::Delete(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such track");
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("DELETE FROM tracks WHERE id = $1", {SqlText(id)}));
  if (r.affected_rows == 0) return NotFound("no such track");
  return Ok();
}

Result<Track> TrackRepository::ClaimForProcessing(std::string_view id, std::int64_t now_ms,
                                                  std::int64_t lease_ms) {
  if (!IsUuid(id)) return NotFound("no such track");
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query(
          "UPDATE tracks SET state = 'processing', attempts = attempts + 1, lease_until = $2, "
          "updated_at = $3 WHERE id = $1 AND state IN ('uploaded', 'processing') AND lease_until < "
          "$3",
          {SqlText(id), SqlInt(now_ms + lease_ms), SqlInt(now_ms)}));
  if (r.affected_rows == 0) {
    VEZA_ASSIGN_OR_RETURN(Track t, FindById(id));
    return Conflict("track is " + std::string(TrackStateName(t.state)) +
                    (t.state == TrackState::kProcessing ? " by another worker" : ""));
  }
  return FindById(id);
}

Status TrackRepository::SetProgress(std::string_view id, int percent, std::int64_t now_ms,
                                   std::int64_t lease_until_ms) {
  VEZA_TRY(db_.Query(
      "UPDATE tracks SET progress = $2, updated_at = $3, lease_until = $4 WHERE id = $1 AND state = 'processing'",
      {SqlText(id), SqlInt(percent), SqlInt(now_ms), SqlInt(lease_until_ms)}));
  return Ok();
}

Status TrackRepository::MarkReady(std::string_view id, const MediaReport& m, std::int64_t now_ms) {
  const MediaTags& tags = m.tags;
  auto fill = [](std::string_view column, int n) {
    std::string c(column), p = "$" + std::to_string(n);
    return c + " = CASE WHEN " + c + " = '' THEN " + p + " ELSE " + c + " END";
  };
  std::string sql =
      "UPDATE tracks SET state = 'ready', progress = 100, failure_reason = '', lease_until = 0, "
      "title = CASE WHEN title_from_filename = 1 AND CAST($2 AS TEXT) <> '' THEN $2 ELSE title "
      "END, "
      "title_from_filename = CASE WHEN CAST($2 AS TEXT) <> '' THEN 0 ELSE title_from_filename "
      "END, " +
      fill("artist", 3) + ", " + fill("album", 4) + ", " + fill("genre", 5) +
      ", year = COALESCE(year, CAST($6 AS INTEGER)), track_number = COALESCE(track_number, CAST($7 "
      "AS INTEGER)), "
      "container = $8, codec = $9, sample_rate = $10, channels = $11, duration_ms = $12, bit_rate "
      "= $13, "
      "lossless = $14, loudness_lufs = $15, loudness_range_lu = $16, true_peak_dbtp = $17, "
      "replay_gain_db = $18, waveform_points = $19, has_cover = $20, updated_at = $21 WHERE id = "
      "$1";
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, {SqlText(id),
                                                       SqlText(tags.title),
                                                       SqlText(tags.artist),
                                                       SqlText(tags.album),
                                                       SqlText(tags.genre),
                                                       OptionalInt(tags.year),
                                                       OptionalInt(tags.track_number),
                                                       SqlText(m.format.container),
                                                       SqlText(m.format.codec),
                                                       SqlInt(m.format.sample_rate),
                                                       SqlInt(m.format.channels),
                                                       SqlInt(m.format.duration_ms),
                                                       SqlInt(m.format.bit_rate),
                                                       SqlInt(m.format.lossless ? 1 : 0),
                                                       SqlValue{m.loudness.integrated_lufs},
                                                       SqlValue{m.loudness.loudness_range_lu},
                                                       SqlValue{m.loudness.true_peak_dbtp},
                                                       SqlValue{m.loudness.replay_gain_db},
                                                       SqlInt(m.waveform_points),
                                                       SqlInt(m.has_cover ? 1 : 0),
                                                       SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such track");
  return Ok();
}

Status TrackRepository::MarkFailed(std::string_view id, std::string_view reason,
                                   std::int64_t now_ms) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("UPDATE tracks SET state = 'failed', failure_reason = $2, lease_until = 0, "
                "updated_at = $3 WHERE id = $1",
                {SqlText(id), SqlText(reason.substr(0, 500)), SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such track");
  return Ok();
}

Status TrackRepository::ReleaseLease(std::string_view id, std::int64_t now_ms, bool refund_attempt) {
  VEZA_TRY(db_.Query("UPDATE tracks SET lease_until = 0, attempts = attempts - $3, updated_at = $2 WHERE id = $1",
                     {SqlText(id), SqlInt(now_ms), SqlInt(refund_attempt ? 1 : 0)}));
  return Ok();
}

Result<std::vector<std::string>> TrackRepository::ListPending() {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT id FROM tracks WHERE state IN ('uploaded', 'processing') ORDER BY id"));
  std::vector<std::string> ids;
  for (const Row& row : r.rows) ids.push_back(row.Text(0));
  return ids;
}

Result<std::int64_t> TrackRepository::StorageUsed(std::string_view owner_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query(
          "SELECT COALESCE((SELECT SUM(original_size) FROM tracks WHERE owner_id = $1), 0) + "
          "COALESCE((SELECT SUM(length) FROM uploads WHERE owner_id = $1 AND track_id IS NULL), 0)",
          {SqlText(owner_id)}));
  return r.rows.empty() ? 0 : r.rows[0].Int(0);
}

Status TrackRepository::RecordPlay(std::string_view track_id, std::optional<std::string> user_id,
                                   std::int64_t now_ms) {
  VEZA_TRY(db_.Query(
      "INSERT INTO track_plays (id, track_id, user_id, played_at) VALUES ($1, $2, $3, $4)",
      {SqlText(NewId()), SqlText(track_id), OptionalText(user_id), SqlInt(now_ms)}));
  return Ok();
}

Result<std::int64_t> TrackRepository::CountPlays(std::string_view track_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT COUNT(*) FROM track_plays WHERE track_id = $1", {SqlText(track_id)}));
  return r.rows.empty() ? 0 : r.rows[0].Int(0);
}

Result<Upload> TrackRepository::CreateUpload(const Upload& u) {
  VEZA_TRY(
      db_.Query("INSERT INTO uploads (id, owner_id, length, received, filename, content_type, "
                "title, visibility, "
                "expires_at, created_at) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9)",
                {SqlText(u.id), SqlText(u.owner_id), SqlInt(u.length), SqlText(u.filename),
                 SqlText(u.content_type), SqlText(u.title), SqlText(VisibilityName(u.visibility)),
                 SqlInt(u.expires_at_ms), SqlInt(u.created_at_ms)}));
  return FindUpload(u.id);
}

Result<Upload> TrackRepository::FindUpload(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such upload");
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT " + std::string(kUploadColumns) +
                                                     " FROM uploads WHERE id = $1",
                                                 {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such upload");
  return UploadFromRow(r.rows[0]);
}

Status TrackRepository::AdvanceUpload(std::string_view id, std::int64_t expected_offset,
                                      std::int64_t new_received, std::int64_t expires_at_ms) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("UPDATE uploads SET received = $3, expires_at = $4 "
                                  "WHERE id = $1 AND received = $2 AND track_id IS NULL",
                                  {SqlText(id), SqlInt(expected_offset), SqlInt(new_received),
                                   SqlInt(expires_at_ms)}));
  if (r.affected_rows == 0) return Conflict("the upload moved on: ask for its offset again");
  return Ok();
}

Status TrackRepository::FinishUpload(std::string_view id, std::string_view track_id) {
  VEZA_TRY(db_.Query("UPDATE uploads SET track_id = $2 WHERE id = $1",
                     {SqlText(id), SqlText(track_id)}));
  return Ok();
}

Status TrackRepository::DeleteUpload(std::string_view id) {
  VEZA_TRY(db_.Query("DELETE FROM uploads WHERE id = $1", {SqlText(id)}));
  return Ok();
}

Result<std::vector<Upload>> TrackRepository::ListExpiredUploads(std::int64_t now_ms, int limit) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT " + std::string(kUploadColumns) +
                    " FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2",
                {SqlInt(now_ms), SqlInt(limit)}));
  std::vector<Upload> out;
  for (const Row& row : r.rows) out.push_back(UploadFromRow(row));
  return out;
}

}  // namespace veza::tracks
