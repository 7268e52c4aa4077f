#include "services/social/social_service.h"

#include <unordered_map>

#include "base/ids.h"
#include "base/log.h"

namespace veza::social {

using tracks::Track;
using tracks::TrackService;
using tracks::Viewer;

namespace {

constexpr std::size_t kMaxCommentBytes = 2000;
constexpr std::int64_t kMaxUnknownDurationMs = 24LL * 3600 * 1000;

Error Forbidden(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }

Status CheckText(std::string_view name, std::string_view s, std::size_t max, bool required) {
  if (s.size() > max)
    return InvalidArgument(std::string(name) + " is longer than " + std::to_string(max) + " bytes");
  if (required && s.find_first_not_of(" \t\n") == std::string_view::npos)
    return InvalidArgument(std::string(name) + " must not be empty");
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
      return InvalidArgument(std::string(name) + " holds control characters");
  }
  return Ok();
}

Reader ReaderOf(const Viewer& v) { return {v.user_id, v.moderator}; }

}  // namespace

std::string_view SocialEventName(SocialEvent::Kind kind) {
  switch (kind) {
    case SocialEvent::Kind::kFollow:
      return "follow";
    case SocialEvent::Kind::kLike:
      return "like";
    case SocialEvent::Kind::kRepost:
      return "repost";
    case SocialEvent::Kind::kComment:
      return "comment";
    case SocialEvent::Kind::kReply:
      return "reply";
    case SocialEvent::Kind::kPlaylistAdd:
      return "playlist_add";
    case SocialEvent::Kind::kPlaylistInvite:
      return "playlist_invite";
  }
  return "unknown";
}

SocialService::SocialService(Database& db, TrackService& tracks, Clock& clock, SocialOptions options)
    : tracks_(tracks), clock_(clock), options_(options), repo_(db) {}

std::int64_t SocialService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

void SocialService::Emit(SocialEvent event) {
  if (!sink_ || event.recipient_id.empty() || event.recipient_id == event.actor.id) return;
  sink_(event);
}

// --- follows ------------------------------------------------------------------------------

Result<UserRef> SocialService::Follow(const Viewer& viewer, std::string_view username) {
  VEZA_ASSIGN_OR_RETURN(UserRef target, repo_.FindUser(username));
  VEZA_ASSIGN_OR_RETURN(bool created, repo_.Follow(viewer.user_id, target.id, NowMs()));
  if (created) {
    SocialEvent e;
    e.kind = SocialEvent::Kind::kFollow;
    e.recipient_id = target.id;
    e.actor.id = viewer.user_id;
    Emit(std::move(e));
  }
  return target;
}

Result<UserRef> SocialService::Unfollow(const Viewer& viewer, std::string_view username) {
  VEZA_ASSIGN_OR_RETURN(UserRef target, repo_.FindUser(username));
  VEZA_TRY(repo_.Unfollow(viewer.user_id, target.id));
  return target;
}

Result<FollowPage> SocialService::Followers(std::string_view username, std::string_view cursor,
                                            int limit) {
  VEZA_ASSIGN_OR_RETURN(UserRef user, repo_.FindUser(username));
  return repo_.ListFollowers(user.id, cursor, limit);
}

Result<FollowPage> SocialService::Following(std::string_view username, std::string_view cursor,
                                            int limit) {
  VEZA_ASSIGN_OR_RETURN(UserRef user, repo_.FindUser(username));
  return repo_.ListFollowing(user.id, cursor, limit);
}

// --- likes and reposts ---------------------------------------------------------------------

Result<TrackCounts> SocialService::SetLike(const Viewer& viewer, std::string_view track_id, bool on) {
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  if (on) {
    VEZA_ASSIGN_OR_RETURN(bool created, repo_.Like(viewer.user_id, track.id, NowMs()));
    if (created) {
      SocialEvent e;
      e.kind = SocialEvent::Kind::kLike;
      e.recipient_id = track.owner_id;
      e.actor.id = viewer.user_id;
      e.track_id = track.id;
      Emit(std::move(e));
    }
  } else {
    VEZA_TRY(repo_.Unlike(viewer.user_id, track.id));
  }
  return repo_.CountsForTrack(track.id, viewer.user_id);
}

Result<TrackCounts> SocialService::SetRepost(const Viewer& viewer, std::string_view track_id, bool on) {
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  if (on) {
    // A repost shows the track to the reposter's followers: only listed tracks qualify.
    if (track.visibility != tracks::Visibility::kPublic || track.state != tracks::TrackState::kReady ||
        track.takedown)
      return InvalidArgument("only public, ready tracks can be reposted");
    VEZA_ASSIGN_OR_RETURN(bool created, repo_.Repost(viewer.user_id, track.id, NowMs()));
    if (created) {
      SocialEvent e;
      e.kind = SocialEvent::Kind::kRepost;
      e.recipient_id = track.owner_id;
      e.actor.id = viewer.user_id;
      e.track_id = track.id;
      Emit(std::move(e));
    }
  } else {
    VEZA_TRY(repo_.Unrepost(viewer.user_id, track.id));
  }
  return repo_.CountsForTrack(track.id, viewer.user_id);
}

Result<TrackCounts> SocialService::TrackStats(const Viewer& viewer, std::string_view track_id) {
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  return repo_.CountsForTrack(track.id, viewer.user_id);
}

Result<std::pair<std::vector<Track>, std::string>> SocialService::Likes(const Viewer& viewer,
                                                                       std::string_view username,
                                                                       std::string_view cursor,
                                                                       int limit) {
  VEZA_ASSIGN_OR_RETURN(UserRef user, repo_.FindUser(username));
  VEZA_ASSIGN_OR_RETURN(TrackIdPage page, repo_.ListLikes(user.id, ReaderOf(viewer), cursor, limit));
  VEZA_ASSIGN_OR_RETURN(std::vector<Track> list, tracks_.GetMany(viewer, page.track_ids));
  return std::make_pair(std::move(list), page.next_cursor);
}

// --- comments ------------------------------------------------------------------------------

Result<Comment> SocialService::AddComment(const Viewer& viewer, std::string_view track_id,
                                          const NewComment& n) {
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  VEZA_TRY(CheckText("body", n.body, kMaxCommentBytes, true));
  std::int64_t max_at = track.format.duration_ms > 0 ? track.format.duration_ms : kMaxUnknownDurationMs;
  if (n.at_ms < 0 || n.at_ms > max_at)
    return InvalidArgument("at_ms must be from 0 to " + std::to_string(max_at));
  std::optional<Comment> parent;
  if (n.reply_to) {
    auto found = repo_.FindComment(*n.reply_to);
    if (!found.ok() || found->track_id != track.id)
      return InvalidArgument("reply_to is not a comment on this track");
    if (found->reply_to) return InvalidArgument("replies are one level deep: answer the top comment");
    parent = std::move(*found);
  }
  Comment c;
  c.id = NewId();
  c.track_id = track.id;
  c.author.id = viewer.user_id;
  c.reply_to = n.reply_to;
  c.body = n.body;
  c.at_ms = n.at_ms;
  c.created_at_ms = NowMs();
  VEZA_ASSIGN_OR_RETURN(Comment saved, repo_.AddComment(c));
  SocialEvent e;
  e.kind = SocialEvent::Kind::kComment;
  e.recipient_id = track.owner_id;
  e.actor = saved.author;
  e.track_id = track.id;
  e.comment_id = saved.id;
  e.text = saved.body;
  Emit(e);
  if (parent && parent->author.id != track.owner_id) {
    e.kind = SocialEvent::Kind::kReply;
    e.recipient_id = parent->author.id;
    Emit(e);
  }
  return saved;
}

Result<CommentPage> SocialService::Comments(const Viewer& viewer, std::string_view track_id,
                                            CommentOrder order, std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  return repo_.ListComments(track.id, order, cursor, limit);
}

Result<Comment> SocialService::EditComment(const Viewer& viewer, std::string_view comment_id,
                                           std::string_view body) {
  VEZA_ASSIGN_OR_RETURN(Comment c, repo_.FindComment(comment_id));
  // A comment on a track hidden from the caller does not exist for them.
  auto track = tracks_.Get(viewer, c.track_id);
  if (!track.ok()) return NotFound("no such comment");
  if (c.author.id != viewer.user_id) return Forbidden("only its author may edit a comment");
  VEZA_TRY(CheckText("body", body, kMaxCommentBytes, true));
  VEZA_TRY(repo_.EditComment(c.id, body, NowMs()));
  return repo_.FindComment(c.id);
}

Status SocialService::DeleteComment(const Viewer& viewer, std::string_view comment_id) {
  VEZA_ASSIGN_OR_RETURN(Comment c, repo_.FindComment(comment_id));
  auto track = tracks_.Get(viewer, c.track_id);
  if (!track.ok()) return NotFound("no such comment");
  if (c.author.id != viewer.user_id && track->owner_id != viewer.user_id && !viewer.moderator)
    return Forbidden("only the author, the track's owner or a moderator may delete a comment");
  return repo_.DeleteComment(c.id);
}

// --- playlists -----------------------------------------------------------------------------

Result<bool> SocialService::MaySeePlaylist(const Viewer& viewer, const Playlist& p) {
  if (p.is_public || viewer.moderator) return true;
  if (viewer.user_id.empty()) return false;
  if (viewer.user_id == p.owner.id) return true;
  return repo_.IsEditor(p.id, viewer.user_id);
}

Result<bool> SocialService::MayEditItems(const Viewer& viewer, const Playlist& p) {
  if (viewer.user_id.empty()) return false;
  if (viewer.user_id == p.owner.id) return true;
  if (!p.collaborative) return false;
  return repo_.IsEditor(p.id, viewer.user_id);
}

Result<Playlist> SocialService::GetPlaylist(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, repo_.FindPlaylist(id));
  VEZA_ASSIGN_OR_RETURN(bool may, MaySeePlaylist(viewer, p));
  if (!may) return NotFound("no such playlist");
  return p;
}

Result<Playlist> SocialService::OwnedPlaylist(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, GetPlaylist(viewer, id));
  if (p.owner.id != viewer.user_id) return Forbidden("only the playlist's owner may do this");
  return p;
}

Result<Playlist> SocialService::EditablePlaylist(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, GetPlaylist(viewer, id));
  VEZA_ASSIGN_OR_RETURN(bool may, MayEditItems(viewer, p));
  if (!may) return Forbidden("only the owner and invited editors of a collaborative playlist change its tracks");
  return p;
}

Result<Playlist> SocialService::CreatePlaylist(const Viewer& viewer, const NewPlaylist& n) {
  VEZA_TRY(CheckText("title", n.title, 200, true));
  VEZA_TRY(CheckText("description", n.description, 5000, false));
  Playlist p;
  p.id = NewId();
  p.owner.id = viewer.user_id;
  p.title = n.title;
  p.description = n.description;
  p.is_public = n.is_public;
  p.collaborative = n.collaborative;
  p.created_at_ms = p.updated_at_ms = NowMs();
  return repo_.CreatePlaylist(p);
}

Result<Playlist> SocialService::EditPlaylist(const Viewer& viewer, std::string_view id,
                                             const PlaylistEdit& edit) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, OwnedPlaylist(viewer, id));
  if (edit.title) VEZA_TRY(CheckText("title", *edit.title, 200, true));
  if (edit.description) VEZA_TRY(CheckText("description", *edit.description, 5000, false));
  VEZA_TRY(repo_.EditPlaylist(p.id, edit, NowMs()));
  return repo_.FindPlaylist(p.id);
}

Status SocialService::DeletePlaylist(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, GetPlaylist(viewer, id));
  if (p.owner.id != viewer.user_id && !viewer.moderator)
    return Forbidden("only the playlist's owner or a moderator may delete it");
  return repo_.DeletePlaylist(p.id);
}

Result<PlaylistPage> SocialService::PlaylistsOf(const Viewer& viewer, std::string_view username,
                                                std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(UserRef user, repo_.FindUser(username));
  bool include_private = viewer.moderator || viewer.user_id == user.id;
  return repo_.ListPlaylists(user.id, include_private, cursor, limit);
}

Result<std::vector<UserRef>> SocialService::Editors(const Viewer& viewer, std::string_view playlist_id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, GetPlaylist(viewer, playlist_id));
  return repo_.ListEditors(p.id);
}

Status SocialService::SetEditor(const Viewer& viewer, std::string_view playlist_id,
                                std::string_view username, bool on) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, OwnedPlaylist(viewer, playlist_id));
  VEZA_ASSIGN_OR_RETURN(UserRef user, repo_.FindUser(username));
  if (user.id == p.owner.id) return InvalidArgument("the owner already edits the playlist");
  if (!on) {
    VEZA_TRY(repo_.RemoveEditor(p.id, user.id));
    return Ok();
  }
  VEZA_ASSIGN_OR_RETURN(bool created, repo_.AddEditor(p.id, user.id, NowMs()));
  if (created) {
    SocialEvent e;
    e.kind = SocialEvent::Kind::kPlaylistInvite;
    e.recipient_id = user.id;
    e.actor = p.owner;
    e.playlist_id = p.id;
    Emit(std::move(e));
  }
  return Ok();
}

Status SocialService::AddItem(const Viewer& viewer, std::string_view playlist_id,
                              std::string_view track_id, std::optional<int> position) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, EditablePlaylist(viewer, playlist_id));
  VEZA_ASSIGN_OR_RETURN(Track track, tracks_.Get(viewer, track_id));
  VEZA_TRY(repo_.AddItem(p.id, track.id, position, viewer.user_id, NowMs()));
  SocialEvent e;
  e.kind = SocialEvent::Kind::kPlaylistAdd;
  e.recipient_id = track.owner_id;
  e.actor.id = viewer.user_id;
  e.track_id = track.id;
  e.playlist_id = p.id;
  if (p.is_public) Emit(std::move(e));  // a private playlist is nobody else's business
  return Ok();
}

Status SocialService::RemoveItem(const Viewer& viewer, std::string_view playlist_id,
                                 std::string_view track_id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, EditablePlaylist(viewer, playlist_id));
  if (!IsUuid(track_id)) return NotFound("the track is not in the playlist");
  return repo_.RemoveItem(p.id, track_id, NowMs());
}

Status SocialService::MoveItem(const Viewer& viewer, std::string_view playlist_id,
                               std::string_view track_id, int position) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, EditablePlaylist(viewer, playlist_id));
  if (!IsUuid(track_id)) return NotFound("the track is not in the playlist");
  return repo_.MoveItem(p.id, track_id, position, NowMs());
}

Result<std::pair<std::vector<ItemWithTrack>, std::string>> SocialService::Items(
    const Viewer& viewer, std::string_view playlist_id, std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, GetPlaylist(viewer, playlist_id));
  VEZA_ASSIGN_OR_RETURN(PlaylistItemPage page, repo_.ListItems(p.id, ReaderOf(viewer), cursor, limit));
  std::vector<std::string> ids;
  for (const PlaylistItem& i : page.items) ids.push_back(i.track_id);
  VEZA_ASSIGN_OR_RETURN(std::vector<Track> found, tracks_.GetMany(viewer, ids));
  std::unordered_map<std::string, Track> by_id;
  for (Track& t : found) by_id.emplace(t.id, std::move(t));
  std::vector<ItemWithTrack> out;
  for (const PlaylistItem& i : page.items) {
    auto it = by_id.find(i.track_id);
    if (it != by_id.end()) out.push_back({i, it->second});
  }
  return std::make_pair(std::move(out), page.next_cursor);
}

Result<std::int64_t> SocialService::VisibleItemCount(const Viewer& viewer, std::string_view playlist_id) {
  return repo_.CountVisibleItems(playlist_id, ReaderOf(viewer));
}

// --- feeds ---------------------------------------------------------------------------------

Result<std::pair<std::vector<FeedItem>, std::string>> SocialService::HomeFeed(
    const Viewer& viewer, std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(FeedPage page, repo_.HomeFeed(viewer.user_id, cursor, limit));
  std::vector<std::string> ids;
  for (const FeedEntry& e : page.entries) ids.push_back(e.track_id);
  VEZA_ASSIGN_OR_RETURN(std::vector<Track> found, tracks_.GetMany(viewer, ids));
  std::unordered_map<std::string, Track> by_id;
  for (Track& t : found) by_id.emplace(t.id, std::move(t));
  std::vector<FeedItem> out;
  for (FeedEntry& e : page.entries) {
    auto it = by_id.find(e.track_id);
    if (it != by_id.end()) out.push_back({std::move(e), it->second});
  }
  return std::make_pair(std::move(out), page.next_cursor);
}

Result<std::pair<std::vector<std::pair<Track, std::int64_t>>, std::string>> SocialService::Discover(
    std::string_view cursor, int limit) {
  std::int64_t since =
      NowMs() - std::chrono::duration_cast<std::chrono::milliseconds>(options_.discover_window).count();
  VEZA_ASSIGN_OR_RETURN(RankedPage page, repo_.Discover(since, cursor, limit));
  std::vector<std::string> ids;
  for (const RankedTrack& r : page.tracks) ids.push_back(r.track_id);
  VEZA_ASSIGN_OR_RETURN(std::vector<Track> found, tracks_.GetMany(Viewer{}, ids));
  std::unordered_map<std::string, Track> by_id;
  for (Track& t : found) by_id.emplace(t.id, std::move(t));
  std::vector<std::pair<Track, std::int64_t>> out;
  for (const RankedTrack& r : page.tracks) {
    auto it = by_id.find(r.track_id);
    if (it != by_id.end()) out.emplace_back(it->second, r.score);
  }
  return std::make_pair(std::move(out), page.next_cursor);
}

}  // namespace veza::social
