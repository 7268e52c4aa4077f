#pragma once
// Follows, likes, reposts, timestamped comments, playlists and feeds in the database, with
// portable SQL over the Database port (tests/contract/social_repo_contract_test.cc runs every
// statement on SQLite and PostgreSQL). Visibility is decided here in SQL wherever a list could
// otherwise show (or count) a track its reader may not see: a track is "listed" when it is
// public and ready, and "visible" to a viewer when it is listed, unlisted and ready, or theirs.
//
// Counters are computed with COUNT over indexed rows rather than stored, so they are exact by
// construction and never drift after a cascade (a deleted track or account).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/database.h"

namespace veza::social {

inline constexpr int kMaxPlaylistItems = 1000;
inline constexpr int kMaxDiscoverOffset = 1000;

struct UserRef {
  std::string id;
  std::string username;
  std::string display_name;
};

struct FollowEntry {
  UserRef user;
  std::int64_t since_ms = 0;
};

struct FollowPage {
  std::vector<FollowEntry> users;
  std::string next_cursor;  // empty on the last page
};

struct TrackIdPage {
  std::vector<std::string> track_ids;
  std::string next_cursor;
};

struct ProfileCounts {
  std::int64_t followers = 0;
  std::int64_t following = 0;
  std::int64_t tracks = 0;  // public, ready tracks
  std::int64_t plays = 0;   // plays of those tracks
  std::int64_t likes = 0;   // public, ready tracks the user likes
};

struct TrackCounts {
  std::int64_t likes = 0;
  std::int64_t reposts = 0;
  std::int64_t comments = 0;
  std::int64_t plays = 0;
  bool liked = false;     // by the viewer (false for anonymous viewers)
  bool reposted = false;  // by the viewer
};

struct Comment {
  std::string id;
  std::string track_id;
  UserRef author;
  std::optional<std::string> reply_to;
  std::string body;
  std::int64_t at_ms = 0;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> edited_at_ms;
};

enum class CommentOrder { kByTime, kNewest };

struct CommentPage {
  std::vector<Comment> comments;
  std::string next_cursor;
};

struct Playlist {
  std::string id;
  UserRef owner;
  std::string title;
  std::string description;
  bool is_public = true;
  bool collaborative = false;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::string> cover_hash;  // none: no cover
};

struct PlaylistEdit {
  std::optional<std::string> title, description;
  std::optional<bool> is_public, collaborative;
};

struct PlaylistPage {
  std::vector<Playlist> playlists;
  std::string next_cursor;
};

struct PlaylistItem {
  std::string track_id;
  int position = 0;  // rank among the items the reader may see
  std::optional<std::string> added_by;
  std::int64_t added_at_ms = 0;
};

struct PlaylistItemPage {
  std::vector<PlaylistItem> items;
  std::string next_cursor;  // the offset of the next page, as a decimal string
};

struct FeedEntry {
  enum class Kind { kTrack, kRepost };
  Kind kind = Kind::kTrack;
  std::string id;  // the event's id (the track's for uploads, the repost's for reposts)
  std::string track_id;
  UserRef actor;   // who uploaded or reposted
  std::int64_t at_ms = 0;
};

struct FeedPage {
  std::vector<FeedEntry> entries;
  std::string next_cursor;
};

struct RankedTrack {
  std::string track_id;
  std::int64_t score = 0;
};

struct RankedPage {
  std::vector<RankedTrack> tracks;
  std::string next_cursor;
};

// Who reads: the viewer's id ("" for anonymous) and whether they moderate (sees every track).
struct Reader {
  std::string user_id;
  bool moderator = false;
};

class SocialRepository {
 public:
  explicit SocialRepository(Database& db) : db_(db) {}

  // An active (not suspended) account by username, case-insensitive; kNotFound otherwise.
  Result<UserRef> FindUser(std::string_view username);

  // Each returns whether it changed anything (false: already so).
  Result<bool> Follow(std::string_view follower_id, std::string_view followee_id, std::int64_t now_ms);
  Result<bool> Unfollow(std::string_view follower_id, std::string_view followee_id);
  Result<bool> IsFollowing(std::string_view follower_id, std::string_view followee_id);
  // Newest follow first.
  Result<FollowPage> ListFollowers(std::string_view user_id, std::string_view cursor, int limit);
  Result<FollowPage> ListFollowing(std::string_view user_id, std::string_view cursor, int limit);

  Result<bool> Like(std::string_view user_id, std::string_view track_id, std::int64_t now_ms);
  Result<bool> Unlike(std::string_view user_id, std::string_view track_id);
  Result<bool> Repost(std::string_view user_id, std::string_view track_id, std::int64_t now_ms);
  Result<bool> Unrepost(std::string_view user_id, std::string_view track_id);
  // The tracks a user likes that are listed (or, for the reader, theirs), newest like first.
  Result<TrackIdPage> ListLikes(std::string_view user_id, const Reader& reader,
                                std::string_view cursor, int limit);

  Result<ProfileCounts> CountsForProfile(std::string_view user_id);
  // viewer_id: whose liked/reposted flags to fill (empty: nobody's).
  Result<TrackCounts> CountsForTrack(std::string_view track_id, std::string_view viewer_id);

  Result<Comment> AddComment(const Comment& c);
  Result<Comment> FindComment(std::string_view id);
  Status EditComment(std::string_view id, std::string_view body, std::int64_t now_ms);
  Status DeleteComment(std::string_view id);
  Result<CommentPage> ListComments(std::string_view track_id, CommentOrder order,
                                   std::string_view cursor, int limit);

  Result<Playlist> CreatePlaylist(const Playlist& p);
  Result<Playlist> FindPlaylist(std::string_view id);
  Status EditPlaylist(std::string_view id, const PlaylistEdit& edit, std::int64_t now_ms);
  Status DeletePlaylist(std::string_view id);
  // Newest first; private ones only with include_private.
  Result<PlaylistPage> ListPlaylists(std::string_view owner_id, bool include_private,
                                     std::string_view cursor, int limit);
  Result<bool> IsEditor(std::string_view playlist_id, std::string_view user_id);
  Result<bool> AddEditor(std::string_view playlist_id, std::string_view user_id, std::int64_t now_ms);
  Result<bool> RemoveEditor(std::string_view playlist_id, std::string_view user_id);
  Result<std::vector<UserRef>> ListEditors(std::string_view playlist_id);

  // Inserts at position (clamped; nullopt appends); kConflict when the track is already in it,
  // kInvalidArgument when the playlist is full.
  Status AddItem(std::string_view playlist_id, std::string_view track_id,
                 std::optional<int> position, std::string_view added_by, std::int64_t now_ms);
  // kNotFound when the track is not in the playlist.
  Status RemoveItem(std::string_view playlist_id, std::string_view track_id, std::int64_t now_ms);
  Status MoveItem(std::string_view playlist_id, std::string_view track_id, int position,
                  std::int64_t now_ms);
  // Items in order, the tracks the reader may not see left out (and not counted).
  Result<PlaylistItemPage> ListItems(std::string_view playlist_id, const Reader& reader,
                                     std::string_view cursor, int limit);
  Result<std::int64_t> CountVisibleItems(std::string_view playlist_id, const Reader& reader);

  // Uploads and reposts of listed tracks by the accounts user_id follows, newest first.
  Result<FeedPage> HomeFeed(std::string_view user_id, std::string_view cursor, int limit);
  // Listed tracks by plays + likes since since_ms, highest first.
  Result<RankedPage> Discover(std::int64_t since_ms, std::string_view cursor, int limit);

 private:
  Result<FollowPage> ListFollows(std::string_view where_column, std::string_view join_column,
                                 std::string_view user_id, std::string_view cursor, int limit);
  Result<bool> Toggle(std::string_view table, bool on, std::string_view user_id,
                      std::string_view track_id, std::int64_t now_ms);
  Database& db_;
};

}  // namespace veza::social
