#include "services/social/social_repository.h"

#include <algorithm>
#include <charconv>

#include "base/ids.h"
#include "services/tracks/track_repository.h"

namespace veza::social {
namespace {

constexpr std::string_view kListed = tracks::kListedTracks;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string P(std::size_t n) { return "$" + std::to_string(n); }

// "Visible to the reader" with the reader's parameters appended to params.
std::string VisibleTo(const Reader& reader, std::vector<SqlValue>& params) {
  params.push_back(SqlText(reader.user_id));
  std::string owner = P(params.size());
  params.push_back(SqlInt(reader.moderator ? 1 : 0));
  std::string moderator = P(params.size());
  return "(" + std::string(tracks::kPlayableTracks) + " OR t.owner_id = " + owner +
         " OR CAST(" + moderator + " AS BIGINT) = 1)";
}

std::optional<int> ParseOffset(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

UserRef UserFrom(const Row& r, std::size_t i) { return {r.Text(i), r.Text(i + 1), r.Text(i + 2)}; }

constexpr std::string_view kCommentColumns =
    "c.id, c.track_id, u.id, u.username, u.display_name, c.reply_to, c.body, c.at_ms, "
    "c.created_at, c.edited_at";

Comment CommentFrom(const Row& r) {
  Comment c;
  c.id = r.Text(0);
  c.track_id = r.Text(1);
  c.author = UserFrom(r, 2);
  c.reply_to = r.OptionalText(5);
  c.body = r.Text(6);
  c.at_ms = r.Int(7);
  c.created_at_ms = r.Int(8);
  if (!r.IsNull(9)) c.edited_at_ms = r.Int(9);
  return c;
}

constexpr std::string_view kPlaylistColumns =
    "p.id, u.id, u.username, u.display_name, p.title, p.description, p.visibility, "
    "p.collaborative, p.created_at, p.updated_at, p.cover_hash";

Playlist PlaylistFrom(const Row& r) {
  Playlist p;
  p.id = r.Text(0);
  p.owner = UserFrom(r, 1);
  p.title = r.Text(4);
  p.description = r.Text(5);
  p.is_public = r.Text(6) == "public";
  p.collaborative = r.Int(7) != 0;
  p.created_at_ms = r.Int(8);
  p.updated_at_ms = r.Int(9);
  p.cover_hash = r.OptionalText(10);
  return p;
}

// The playlist's track ids in order. Call inside a transaction that already locked the
// playlist row (UPDATE playlists ...), so concurrent edits of one playlist take turns.
Result<std::vector<std::string>> OrderedItems(SqlSession& s, std::string_view playlist_id) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        s.Query("SELECT track_id FROM playlist_items WHERE playlist_id = $1 "
                                "ORDER BY position, added_at, track_id",
                                {SqlText(playlist_id)}));
  std::vector<std::string> ids;
  ids.reserve(r.rows.size());
  for (const Row& row : r.rows) ids.push_back(row.Text(0));
  return ids;
}

// Writes positions 0..n-1 for the order given, touching only the rows that moved (and closing
// any gap a cascade left behind).
Status WriteOrder(SqlSession& s, std::string_view playlist_id, const std::vector<std::string>& ids) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        s.Query("SELECT track_id, position FROM playlist_items WHERE playlist_id = $1",
                                {SqlText(playlist_id)}));
  std::vector<std::pair<std::string, std::int64_t>> current;
  for (const Row& row : r.rows) current.emplace_back(row.Text(0), row.Int(1));
  std::sort(current.begin(), current.end());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto it = std::lower_bound(current.begin(), current.end(), std::make_pair(ids[i], std::int64_t{-1}));
    if (it != current.end() && it->first == ids[i] && it->second == static_cast<std::int64_t>(i)) continue;
    VEZA_TRY(s.Query("UPDATE playlist_items SET position = $3 WHERE playlist_id = $1 AND track_id = $2",
                     {SqlText(playlist_id), SqlText(ids[i]), SqlInt(static_cast<std::int64_t>(i))}));
  }
  return Ok();
}

Status LockPlaylist(SqlSession& s, std::string_view playlist_id, std::int64_t now_ms) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, s.Query("UPDATE playlists SET updated_at = $2 WHERE id = $1",
                                               {SqlText(playlist_id), SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such playlist");
  return Ok();
}

}  // namespace

Result<UserRef> SocialRepository::FindUser(std::string_view username) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT id, username, display_name FROM users "
                                  "WHERE username_key = $1 AND NOT suspended",
                                  {SqlText(Lower(username))}));
  if (r.rows.empty()) return NotFound("no such user");
  return UserFrom(r.rows[0], 0);
}

Result<bool> SocialRepository::Follow(std::string_view follower_id, std::string_view followee_id,
                                      std::int64_t now_ms) {
  if (follower_id == followee_id) return InvalidArgument("you cannot follow yourself");
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("INSERT INTO follows (follower_id, followee_id, id, created_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (follower_id, followee_id) DO NOTHING",
                {SqlText(follower_id), SqlText(followee_id), SqlText(NewId()), SqlInt(now_ms)}));
  return r.affected_rows > 0;
}

Result<bool> SocialRepository::Unfollow(std::string_view follower_id, std::string_view followee_id) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2",
                                  {SqlText(follower_id), SqlText(followee_id)}));
  return r.affected_rows > 0;
}

Result<bool> SocialRepository::IsFollowing(std::string_view follower_id, std::string_view followee_id) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2",
                                  {SqlText(follower_id), SqlText(followee_id)}));
  return !r.rows.empty();
}

Result<FollowPage> SocialRepository::ListFollows(std::string_view where_column,
                                                 std::string_view join_column,
                                                 std::string_view user_id, std::string_view cursor,
                                                 int limit) {
  std::vector<SqlValue> params = {SqlText(user_id)};
  std::string sql = "SELECT f.id, f.created_at, u.id, u.username, u.display_name FROM follows f "
                    "JOIN users u ON u.id = f." + std::string(join_column) +
                    " WHERE f." + std::string(where_column) + " = $1";
  if (!cursor.empty()) {
    if (!IsUuid(cursor)) return InvalidArgument("malformed cursor");
    params.push_back(SqlText(cursor));
    sql += " AND f.id < $2";
  }
  params.push_back(SqlInt(limit + 1));
  sql += " ORDER BY f.id DESC LIMIT " + P(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  FollowPage page;
  std::string last;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.users.size()) == limit) {
      page.next_cursor = last;
      break;
    }
    last = row.Text(0);
    page.users.push_back({UserFrom(row, 2), row.Int(1)});
  }
  return page;
}

Result<FollowPage> SocialRepository::ListFollowers(std::string_view user_id, std::string_view cursor,
                                                   int limit) {
  return ListFollows("followee_id", "follower_id", user_id, cursor, limit);
}

Result<FollowPage> SocialRepository::ListFollowing(std::string_view user_id, std::string_view cursor,
                                                   int limit) {
  return ListFollows("follower_id", "followee_id", user_id, cursor, limit);
}

Result<bool> SocialRepository::Toggle(std::string_view table, bool on, std::string_view user_id,
                                      std::string_view track_id, std::int64_t now_ms) {
  if (on) {
    VEZA_ASSIGN_OR_RETURN(
        QueryResult r,
        db_.Query("INSERT INTO " + std::string(table) +
                      " (user_id, track_id, id, created_at) VALUES ($1, $2, $3, $4) "
                      "ON CONFLICT (user_id, track_id) DO NOTHING",
                  {SqlText(user_id), SqlText(track_id), SqlText(NewId()), SqlInt(now_ms)}));
    return r.affected_rows > 0;
  }
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("DELETE FROM " + std::string(table) +
                                      " WHERE user_id = $1 AND track_id = $2",
                                  {SqlText(user_id), SqlText(track_id)}));
  return r.affected_rows > 0;
}

Result<bool> SocialRepository::Like(std::string_view user_id, std::string_view track_id,
                                    std::int64_t now_ms) {
  return Toggle("track_likes", true, user_id, track_id, now_ms);
}
Result<bool> SocialRepository::Unlike(std::string_view user_id, std::string_view track_id) {
  return Toggle("track_likes", false, user_id, track_id, 0);
}
Result<bool> SocialRepository::Repost(std::string_view user_id, std::string_view track_id,
                                      std::int64_t now_ms) {
  return Toggle("track_reposts", true, user_id, track_id, now_ms);
}
Result<bool> SocialRepository::Unrepost(std::string_view user_id, std::string_view track_id) {
  return Toggle("track_reposts", false, user_id, track_id, 0);
}

Result<TrackIdPage> SocialRepository::ListLikes(std::string_view user_id, const Reader& reader,
                                                std::string_view cursor, int limit) {
  std::vector<SqlValue> params = {SqlText(user_id), SqlText(reader.user_id)};
  std::string sql =
      "SELECT l.id, l.track_id FROM track_likes l JOIN tracks t ON t.id = l.track_id "
      "WHERE l.user_id = $1 AND ((" + std::string(kListed) + ") OR t.owner_id = $2)";
  if (!cursor.empty()) {
    if (!IsUuid(cursor)) return InvalidArgument("malformed cursor");
    params.push_back(SqlText(cursor));
    sql += " AND l.id < $3";
  }
  params.push_back(SqlInt(limit + 1));
  sql += " ORDER BY l.id DESC LIMIT " + P(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  TrackIdPage page;
  std::string last;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.track_ids.size()) == limit) {
      page.next_cursor = last;
      break;
    }
    last = row.Text(0);
    page.track_ids.push_back(row.Text(1));
  }
  return page;
}

Result<ProfileCounts> SocialRepository::CountsForProfile(std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT "
                "(SELECT COUNT(*) FROM follows WHERE followee_id = $1), "
                "(SELECT COUNT(*) FROM follows WHERE follower_id = $1), "
                "(SELECT COUNT(*) FROM tracks t WHERE t.owner_id = $1 AND " + std::string(kListed) + "), "
                "(SELECT COUNT(*) FROM track_plays p JOIN tracks t ON t.id = p.track_id "
                "  WHERE t.owner_id = $1 AND " + std::string(kListed) + "), "
                "(SELECT COUNT(*) FROM track_likes l JOIN tracks t ON t.id = l.track_id "
                "  WHERE l.user_id = $1 AND " + std::string(kListed) + ")",
                {SqlText(user_id)}));
  const Row& row = r.rows.at(0);
  return ProfileCounts{row.Int(0), row.Int(1), row.Int(2), row.Int(3), row.Int(4)};
}

Result<TrackCounts> SocialRepository::CountsForTrack(std::string_view track_id, std::string_view viewer_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT (SELECT COUNT(*) FROM track_likes WHERE track_id = $1), "
                "(SELECT COUNT(*) FROM track_reposts WHERE track_id = $1), "
                "(SELECT COUNT(*) FROM track_comments WHERE track_id = $1), "
                "(SELECT COUNT(*) FROM track_plays WHERE track_id = $1), "
                "(SELECT COUNT(*) FROM track_likes WHERE track_id = $1 AND user_id = $2), "
                "(SELECT COUNT(*) FROM track_reposts WHERE track_id = $1 AND user_id = $2)",
                {SqlText(track_id), SqlText(viewer_id)}));
  const Row& row = r.rows.at(0);
  return TrackCounts{row.Int(0), row.Int(1), row.Int(2), row.Int(3), row.Int(4) > 0, row.Int(5) > 0};
}

Result<Comment> SocialRepository::AddComment(const Comment& c) {
  VEZA_TRY(db_.Query(
      "INSERT INTO track_comments (id, track_id, author_id, reply_to, body, at_ms, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {SqlText(c.id), SqlText(c.track_id), SqlText(c.author.id),
       c.reply_to ? SqlText(*c.reply_to) : SqlValue{}, SqlText(c.body), SqlInt(c.at_ms),
       SqlInt(c.created_at_ms)}));
  return FindComment(c.id);
}

Result<Comment> SocialRepository::FindComment(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such comment");
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT " + std::string(kCommentColumns) +
                                      " FROM track_comments c JOIN users u ON u.id = c.author_id "
                                      "WHERE c.id = $1",
                                  {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such comment");
  return CommentFrom(r.rows[0]);
}

Status SocialRepository::EditComment(std::string_view id, std::string_view body, std::int64_t now_ms) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("UPDATE track_comments SET body = $2, edited_at = $3 WHERE id = $1",
                                  {SqlText(id), SqlText(body), SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such comment");
  return Ok();
}

Status SocialRepository::DeleteComment(std::string_view id) {
  // Replies go with their comment (ON DELETE CASCADE), in one statement.
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("DELETE FROM track_comments WHERE id = $1", {SqlText(id)}));
  if (r.affected_rows == 0) return NotFound("no such comment");
  return Ok();
}

Result<CommentPage> SocialRepository::ListComments(std::string_view track_id, CommentOrder order,
                                                   std::string_view cursor, int limit) {
  std::vector<SqlValue> params = {SqlText(track_id)};
  std::string sql = "SELECT " + std::string(kCommentColumns) +
                    " FROM track_comments c JOIN users u ON u.id = c.author_id WHERE c.track_id = $1";
  if (order == CommentOrder::kNewest) {
    if (!cursor.empty()) {
      if (!IsUuid(cursor)) return InvalidArgument("malformed cursor");
      params.push_back(SqlText(cursor));
      sql += " AND c.id < $2";
    }
    sql += " ORDER BY c.id DESC";
  } else {
    // Cursor "<at_ms>_<id>": the position and id of the last comment of the previous page.
    if (!cursor.empty()) {
      auto sep = cursor.find('_');
      std::int64_t at = -1;
      if (sep != std::string_view::npos) {
        std::string_view n = cursor.substr(0, sep);
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), at);
        if (ec != std::errc() || end != n.data() + n.size()) at = -1;
      }
      if (at < 0 || !IsUuid(cursor.substr(sep + 1))) return InvalidArgument("malformed cursor");
      params.push_back(SqlInt(at));
      params.push_back(SqlText(cursor.substr(sep + 1)));
      sql += " AND (c.at_ms > $2 OR (c.at_ms = $2 AND c.id > $3))";
    }
    sql += " ORDER BY c.at_ms, c.id";
  }
  params.push_back(SqlInt(limit + 1));
  sql += " LIMIT " + P(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  CommentPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.comments.size()) == limit) {
      const Comment& last = page.comments.back();
      page.next_cursor = order == CommentOrder::kNewest
                             ? last.id
                             : std::to_string(last.at_ms) + "_" + last.id;
      break;
    }
    page.comments.push_back(CommentFrom(row));
  }
  return page;
}

Result<Playlist> SocialRepository::CreatePlaylist(const Playlist& p) {
  VEZA_TRY(db_.Query(
      "INSERT INTO playlists (id, owner_id, title, description, visibility, collaborative, "
      "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
      {SqlText(p.id), SqlText(p.owner.id), SqlText(p.title), SqlText(p.description),
       SqlText(p.is_public ? "public" : "private"), SqlInt(p.collaborative ? 1 : 0),
       SqlInt(p.created_at_ms)}));
  return FindPlaylist(p.id);
}

Result<Playlist> SocialRepository::FindPlaylist(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such playlist");
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT " + std::string(kPlaylistColumns) +
                                      " FROM playlists p JOIN users u ON u.id = p.owner_id "
                                      "WHERE p.id = $1",
                                  {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such playlist");
  return PlaylistFrom(r.rows[0]);
}

Status SocialRepository::EditPlaylist(std::string_view id, const PlaylistEdit& e, std::int64_t now_ms) {
  auto text = [](const std::optional<std::string>& s) { return s ? SqlText(*s) : SqlValue{}; };
  SqlValue visibility = e.is_public ? SqlText(*e.is_public ? "public" : "private") : SqlValue{};
  SqlValue collaborative = e.collaborative ? SqlInt(*e.collaborative ? 1 : 0) : SqlValue{};
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("UPDATE playlists SET title = COALESCE(CAST($2 AS TEXT), title), "
                "description = COALESCE(CAST($3 AS TEXT), description), "
                "visibility = COALESCE(CAST($4 AS TEXT), visibility), "
                "collaborative = COALESCE(CAST($5 AS INTEGER), collaborative), updated_at = $6 "
                "WHERE id = $1",
                {SqlText(id), text(e.title), text(e.description), visibility, collaborative,
                 SqlInt(now_ms)}));
  if (r.affected_rows == 0) return NotFound("no such playlist");
  return Ok();
}

Status SocialRepository::DeletePlaylist(std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("DELETE FROM playlists WHERE id = $1", {SqlText(id)}));
  if (r.affected_rows == 0) return NotFound("no such playlist");
  return Ok();
}

Result<PlaylistPage> SocialRepository::ListPlaylists(std::string_view owner_id, bool include_private,
                                                     std::string_view cursor, int limit) {
  std::vector<SqlValue> params = {SqlText(owner_id)};
  std::string sql = "SELECT " + std::string(kPlaylistColumns) +
                    " FROM playlists p JOIN users u ON u.id = p.owner_id WHERE p.owner_id = $1";
  if (!include_private) sql += " AND p.visibility = 'public'";
  if (!cursor.empty()) {
    if (!IsUuid(cursor)) return InvalidArgument("malformed cursor");
    params.push_back(SqlText(cursor));
    sql += " AND p.id < $2";
  }
  params.push_back(SqlInt(limit + 1));
  sql += " ORDER BY p.id DESC LIMIT " + P(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query(sql, params));
  PlaylistPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.playlists.size()) == limit) {
      page.next_cursor = page.playlists.back().id;
      break;
    }
    page.playlists.push_back(PlaylistFrom(row));
  }
  return page;
}

Result<bool> SocialRepository::IsEditor(std::string_view playlist_id, std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT 1 FROM playlist_editors WHERE playlist_id = $1 AND user_id = $2",
                {SqlText(playlist_id), SqlText(user_id)}));
  return !r.rows.empty();
}

Result<bool> SocialRepository::AddEditor(std::string_view playlist_id, std::string_view user_id,
                                         std::int64_t now_ms) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("INSERT INTO playlist_editors (playlist_id, user_id, added_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (playlist_id, user_id) DO NOTHING",
                {SqlText(playlist_id), SqlText(user_id), SqlInt(now_ms)}));
  return r.affected_rows > 0;
}

Result<bool> SocialRepository::RemoveEditor(std::string_view playlist_id, std::string_view user_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r, db_.Query("DELETE FROM playlist_editors WHERE playlist_id = $1 AND user_id = $2",
                               {SqlText(playlist_id), SqlText(user_id)}));
  return r.affected_rows > 0;
}

Result<std::vector<UserRef>> SocialRepository::ListEditors(std::string_view playlist_id) {
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT u.id, u.username, u.display_name FROM playlist_editors e "
                "JOIN users u ON u.id = e.user_id WHERE e.playlist_id = $1 ORDER BY u.username_key "
                "LIMIT 100",
                {SqlText(playlist_id)}));
  std::vector<UserRef> out;
  for (const Row& row : r.rows) out.push_back(UserFrom(row, 0));
  return out;
}

Status SocialRepository::AddItem(std::string_view playlist_id, std::string_view track_id,
                                 std::optional<int> position, std::string_view added_by,
                                 std::int64_t now_ms) {
  return db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(LockPlaylist(s, playlist_id, now_ms));
    VEZA_ASSIGN_OR_RETURN(std::vector<std::string> ids, OrderedItems(s, playlist_id));
    if (std::find(ids.begin(), ids.end(), track_id) != ids.end())
      return Conflict("the track is already in the playlist");
    if (static_cast<int>(ids.size()) >= kMaxPlaylistItems)
      return InvalidArgument("a playlist holds at most " + std::to_string(kMaxPlaylistItems) + " tracks");
    std::size_t at = position ? static_cast<std::size_t>(std::clamp(*position, 0, static_cast<int>(ids.size())))
                              : ids.size();
    VEZA_TRY(s.Query("INSERT INTO playlist_items (playlist_id, track_id, position, added_by, added_at) "
                     "VALUES ($1, $2, $3, $4, $5)",
                     {SqlText(playlist_id), SqlText(track_id), SqlInt(static_cast<std::int64_t>(at)),
                      SqlText(added_by), SqlInt(now_ms)}));
    ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), std::string(track_id));
    return WriteOrder(s, playlist_id, ids);
  });
}

Status SocialRepository::RemoveItem(std::string_view playlist_id, std::string_view track_id,
                                    std::int64_t now_ms) {
  return db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(LockPlaylist(s, playlist_id, now_ms));
    VEZA_ASSIGN_OR_RETURN(
        QueryResult r, s.Query("DELETE FROM playlist_items WHERE playlist_id = $1 AND track_id = $2",
                               {SqlText(playlist_id), SqlText(track_id)}));
    if (r.affected_rows == 0) return NotFound("the track is not in the playlist");
    VEZA_ASSIGN_OR_RETURN(std::vector<std::string> ids, OrderedItems(s, playlist_id));
    return WriteOrder(s, playlist_id, ids);
  });
}

Status SocialRepository::MoveItem(std::string_view playlist_id, std::string_view track_id,
                                  int position, std::int64_t now_ms) {
  return db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(LockPlaylist(s, playlist_id, now_ms));
    VEZA_ASSIGN_OR_RETURN(std::vector<std::string> ids, OrderedItems(s, playlist_id));
    auto it = std::find(ids.begin(), ids.end(), track_id);
    if (it == ids.end()) return NotFound("the track is not in the playlist");
    ids.erase(it);
    std::size_t at = static_cast<std::size_t>(std::clamp(position, 0, static_cast<int>(ids.size())));
    ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), std::string(track_id));
    return WriteOrder(s, playlist_id, ids);
  });
}

Result<PlaylistItemPage> SocialRepository::ListItems(std::string_view playlist_id,
                                                     const Reader& reader, std::string_view cursor,
                                                     int limit) {
  int offset = 0;
  if (!cursor.empty()) {
    auto o = ParseOffset(cursor);
    if (!o || *o > kMaxPlaylistItems) return InvalidArgument("malformed cursor");
    offset = *o;
  }
  std::vector<SqlValue> params = {SqlText(playlist_id)};
  std::string visible = VisibleTo(reader, params);
  params.push_back(SqlInt(limit + 1));
  std::string lim = P(params.size());
  params.push_back(SqlInt(offset));
  std::string off = P(params.size());
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT i.track_id, i.added_by, i.added_at FROM playlist_items i "
                "JOIN tracks t ON t.id = i.track_id WHERE i.playlist_id = $1 AND " + visible +
                    " ORDER BY i.position, i.added_at, i.track_id LIMIT " + lim + " OFFSET " + off,
                params));
  PlaylistItemPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_cursor = std::to_string(offset + limit);
      break;
    }
    page.items.push_back({row.Text(0), offset + static_cast<int>(page.items.size()),
                          row.OptionalText(1), row.Int(2)});
  }
  return page;
}

Result<std::int64_t> SocialRepository::CountVisibleItems(std::string_view playlist_id,
                                                         const Reader& reader) {
  std::vector<SqlValue> params = {SqlText(playlist_id)};
  std::string visible = VisibleTo(reader, params);
  VEZA_ASSIGN_OR_RETURN(QueryResult r,
                        db_.Query("SELECT COUNT(*) FROM playlist_items i JOIN tracks t ON t.id = "
                                  "i.track_id WHERE i.playlist_id = $1 AND " + visible,
                                  params));
  return r.rows.at(0).Int(0);
}

Result<FeedPage> SocialRepository::HomeFeed(std::string_view user_id, std::string_view cursor,
                                            int limit) {
  if (!cursor.empty() && !IsUuid(cursor)) return InvalidArgument("malformed cursor");
  // Two bounded reads (newest uploads, newest reposts, each at most limit + 1 past the cursor)
  // merged here: every event id is a UUIDv7, so both sort by time on one key. Each read walks
  // an index newest first and stops after limit + 1 rows, whatever the number of followees.
  // CROSS JOIN pins that order on SQLite (PostgreSQL plans it as the inner join it is): with
  // statistics gathered before the follows and reposts existed (ANALYZE is not re-read by open
  // connections), SQLite chose to scan users, gather every followee's reposts and sort them,
  // 830 ms a page at 100k tracks (bench/feed/run) instead of 1 ms.
  std::vector<SqlValue> params = {SqlText(user_id)};
  std::string after;
  if (!cursor.empty()) {
    params.push_back(SqlText(cursor));
    after = "$2";
  }
  params.push_back(SqlInt(limit + 1));
  std::string lim = P(params.size());
  std::string uploads =
      "SELECT t.id, t.id, u.id, u.username, u.display_name, t.created_at FROM tracks t "
      "CROSS JOIN users u "
      "WHERE u.id = t.owner_id AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = t.owner_id) AND " +
      std::string(kListed) + (after.empty() ? "" : " AND t.id < " + after) +
      " ORDER BY t.id DESC LIMIT " + lim;
  // EXISTS (not IN, not a join) for both conditions, so the planner walks reposts newest first
  // and stops, rather than gathering every followee's reposts (or every listed track) to sort.
  std::string reposts =
      "SELECT r.id, r.track_id, u.id, u.username, u.display_name, r.created_at FROM track_reposts r "
      "CROSS JOIN users u "
      "WHERE u.id = r.user_id AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = r.user_id)" +
      (after.empty() ? std::string() : " AND r.id < " + after) +
      " AND EXISTS (SELECT 1 FROM tracks t WHERE t.id = r.track_id AND " + std::string(kListed) +
      ") ORDER BY r.id DESC LIMIT " + lim;
  VEZA_ASSIGN_OR_RETURN(QueryResult up, db_.Query(uploads, params));
  VEZA_ASSIGN_OR_RETURN(QueryResult re, db_.Query(reposts, params));
  std::vector<FeedEntry> all;
  auto take = [&](const QueryResult& q, FeedEntry::Kind kind) {
    for (const Row& row : q.rows)
      all.push_back({kind, row.Text(0), row.Text(1), UserFrom(row, 2), row.Int(5)});
  };
  take(up, FeedEntry::Kind::kTrack);
  take(re, FeedEntry::Kind::kRepost);
  std::sort(all.begin(), all.end(), [](const FeedEntry& a, const FeedEntry& b) { return a.id > b.id; });
  FeedPage page;
  for (FeedEntry& e : all) {
    if (static_cast<int>(page.entries.size()) == limit) {
      page.next_cursor = page.entries.back().id;
      break;
    }
    page.entries.push_back(std::move(e));
  }
  return page;
}

Result<RankedPage> SocialRepository::Discover(std::int64_t since_ms, std::string_view cursor, int limit) {
  int offset = 0;
  if (!cursor.empty()) {
    auto o = ParseOffset(cursor);
    if (!o || *o > kMaxDiscoverOffset) return InvalidArgument("malformed cursor");
    offset = *o;
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT s.track_id, CAST(SUM(s.n) AS BIGINT) AS score FROM ("
                "  SELECT track_id, COUNT(*) AS n FROM track_plays WHERE played_at >= $1 GROUP BY track_id"
                "  UNION ALL"
                "  SELECT track_id, COUNT(*) AS n FROM track_likes WHERE created_at >= $1 GROUP BY track_id"
                ") s JOIN tracks t ON t.id = s.track_id WHERE " + std::string(kListed) +
                    " GROUP BY s.track_id ORDER BY score DESC, s.track_id DESC LIMIT $2 OFFSET $3",
                {SqlInt(since_ms), SqlInt(limit + 1), SqlInt(offset)}));
  RankedPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.tracks.size()) == limit) {
      if (offset + limit <= kMaxDiscoverOffset) page.next_cursor = std::to_string(offset + limit);
      break;
    }
    page.tracks.push_back({row.Text(0), row.Int(1)});
  }
  return page;
}

}  // namespace veza::social
