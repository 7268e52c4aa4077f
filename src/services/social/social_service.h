#pragma once
// Social use cases: follows, likes, reposts, timestamped comments, playlists, the home feed and
// discover. Who may see a track is the TrackService's rule (private: only its owner and
// moderators); every list here applies it in SQL, so a hidden track is never listed, counted or
// commented on by anyone else. Blocking (database): call it from the worker pool.
//
// Playlists: public ones are readable by anyone, private ones only by their owner, their
// editors and moderators (404 to everyone else). Only the owner edits a playlist's details,
// invites or removes editors and deletes it (moderators may delete too); the owner and, while
// the playlist is collaborative, its editors add, remove and reorder items.
//
// Comments: one level of threading (a reply answers a top-level comment). The author edits and
// deletes; the track's owner and moderators delete too.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/clock.h"
#include "ports/database.h"
#include "services/social/social_repository.h"
#include "services/tracks/track_service.h"

namespace veza::social {

struct SocialOptions {
  std::chrono::hours discover_window{24 * 7};  // plays and likes newer than this rank a track
};

// Something another user may want to hear about (notifications). recipient_id never equals
// actor_id: acting on your own things notifies nobody.
struct SocialEvent {
  enum class Kind { kFollow, kLike, kRepost, kComment, kReply, kPlaylistAdd, kPlaylistInvite };
  Kind kind = Kind::kFollow;
  std::string recipient_id;
  UserRef actor;
  std::string track_id;     // like, repost, comment, reply, playlist add
  std::string comment_id;   // comment, reply
  std::string playlist_id;  // playlist add, invite
  std::string text;         // comment, reply: the comment's body
};
std::string_view SocialEventName(SocialEvent::Kind kind);

using SocialEventSink = std::function<void(const SocialEvent&)>;

struct NewComment {
  std::string body;
  std::int64_t at_ms = 0;
  std::optional<std::string> reply_to;
};

struct NewPlaylist {
  std::string title;
  std::string description;
  bool is_public = true;
  bool collaborative = false;
};

// A track together with what the caller sees of it (hydrated from ids).
struct FeedItem {
  FeedEntry entry;
  tracks::Track track;
};

struct ItemWithTrack {
  PlaylistItem item;
  tracks::Track track;
};

class SocialService {
 public:
  SocialService(Database& db, tracks::TrackService& tracks, Clock& clock, SocialOptions options = {});

  SocialRepository& repository() { return repo_; }
  // Called after each change that someone else may be told about. Set before serving.
  void SetEventSink(SocialEventSink sink) { sink_ = std::move(sink); }

  Result<UserRef> FindUser(std::string_view username) { return repo_.FindUser(username); }
  Result<ProfileCounts> Counts(std::string_view user_id) { return repo_.CountsForProfile(user_id); }
  Result<bool> IsFollowing(std::string_view follower_id, std::string_view followee_id) {
    return repo_.IsFollowing(follower_id, followee_id);
  }

  // Idempotent: following twice is the same as once. Returns the target.
  Result<UserRef> Follow(const tracks::Viewer& viewer, std::string_view username);
  Result<UserRef> Unfollow(const tracks::Viewer& viewer, std::string_view username);
  Result<FollowPage> Followers(std::string_view username, std::string_view cursor, int limit);
  Result<FollowPage> Following(std::string_view username, std::string_view cursor, int limit);

  // The track must be visible to the viewer (404 otherwise). Return the counts after.
  Result<TrackCounts> SetLike(const tracks::Viewer& viewer, std::string_view track_id, bool on);
  Result<TrackCounts> SetRepost(const tracks::Viewer& viewer, std::string_view track_id, bool on);
  Result<TrackCounts> TrackStats(const tracks::Viewer& viewer, std::string_view track_id);
  // Tracks the user likes, as the viewer may see them.
  Result<std::pair<std::vector<tracks::Track>, std::string>> Likes(const tracks::Viewer& viewer,
                                                                  std::string_view username,
                                                                  std::string_view cursor, int limit);

  Result<Comment> AddComment(const tracks::Viewer& viewer, std::string_view track_id,
                             const NewComment& comment);
  Result<CommentPage> Comments(const tracks::Viewer& viewer, std::string_view track_id,
                               CommentOrder order, std::string_view cursor, int limit);
  Result<Comment> EditComment(const tracks::Viewer& viewer, std::string_view comment_id,
                              std::string_view body);
  Status DeleteComment(const tracks::Viewer& viewer, std::string_view comment_id);

  Result<Playlist> CreatePlaylist(const tracks::Viewer& viewer, const NewPlaylist& p);
  Result<Playlist> GetPlaylist(const tracks::Viewer& viewer, std::string_view id);
  Result<Playlist> EditPlaylist(const tracks::Viewer& viewer, std::string_view id,
                                const PlaylistEdit& edit);
  Status DeletePlaylist(const tracks::Viewer& viewer, std::string_view id);
  Result<PlaylistPage> PlaylistsOf(const tracks::Viewer& viewer, std::string_view username,
                                   std::string_view cursor, int limit);
  Result<std::vector<UserRef>> Editors(const tracks::Viewer& viewer, std::string_view playlist_id);
  Status SetEditor(const tracks::Viewer& viewer, std::string_view playlist_id,
                   std::string_view username, bool on);
  Status AddItem(const tracks::Viewer& viewer, std::string_view playlist_id,
                 std::string_view track_id, std::optional<int> position);
  Status RemoveItem(const tracks::Viewer& viewer, std::string_view playlist_id,
                    std::string_view track_id);
  Status MoveItem(const tracks::Viewer& viewer, std::string_view playlist_id,
                  std::string_view track_id, int position);
  Result<std::pair<std::vector<ItemWithTrack>, std::string>> Items(const tracks::Viewer& viewer,
                                                                  std::string_view playlist_id,
                                                                  std::string_view cursor, int limit);
  // Tracks in the playlist the viewer may see.
  Result<std::int64_t> VisibleItemCount(const tracks::Viewer& viewer, std::string_view playlist_id);

  Result<std::pair<std::vector<FeedItem>, std::string>> HomeFeed(const tracks::Viewer& viewer,
                                                                std::string_view cursor, int limit);
  Result<std::pair<std::vector<std::pair<tracks::Track, std::int64_t>>, std::string>> Discover(
      std::string_view cursor, int limit);

  // Whether the viewer may see the playlist / change its items.
  Result<bool> MaySeePlaylist(const tracks::Viewer& viewer, const Playlist& p);
  Result<bool> MayEditItems(const tracks::Viewer& viewer, const Playlist& p);

 private:
  Result<Playlist> OwnedPlaylist(const tracks::Viewer& viewer, std::string_view id);
  Result<Playlist> EditablePlaylist(const tracks::Viewer& viewer, std::string_view id);
  void Emit(SocialEvent event);
  std::int64_t NowMs() const;

  tracks::TrackService& tracks_;
  Clock& clock_;
  SocialOptions options_;
  SocialRepository repo_;
  SocialEventSink sink_;
};

}  // namespace veza::social
