#include "services/social/playlist_cover_service.h"

#include <iterator>

#include "base/digest.h"
#include "base/log.h"

namespace veza::social {

PlaylistCoverService::PlaylistCoverService(Database& db, BlobStore& blobs, ImageProcessor& images,
                                           SocialService& social)
    : db_(db), blobs_(blobs), images_(images), social_(social) {}

std::string PlaylistCoverUrl(std::string_view playlist_id, std::string_view hash, int size) {
  return "/api/v1/playlists/" + std::string(playlist_id) + "/cover?size=" + std::to_string(size) + "&v=" +
         std::string(hash);
}

std::string PlaylistCoverService::BlobKey(std::string_view playlist_id, std::string_view hash, int size) {
  return "playlists/" + std::string(playlist_id) + "/" + std::string(hash) + "-" + std::to_string(size) + ".jpg";
}

void PlaylistCoverService::DeleteImages(const std::string& playlist_id, const std::string& hash) {
  for (int size : kCoverSizes) {
    Status st = blobs_.Delete(BlobKey(playlist_id, hash, size));
    // An orphaned image costs some bytes only; the row no longer points at it.
    if (!st.ok()) log::Warn("playlist cover not deleted", {{"playlist_id", playlist_id}, {"error", st.error().message}});
  }
}

Result<Playlist> PlaylistCoverService::Owned(const tracks::Viewer& viewer, std::string_view playlist_id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, social_.GetPlaylist(viewer, playlist_id));
  if (p.owner.id != viewer.user_id)
    return Error{ErrorCode::kPermissionDenied, "only the playlist's owner may change its cover"};
  return p;
}

Result<std::string> PlaylistCoverService::Upload(const tracks::Viewer& viewer, std::string_view playlist_id,
                                                 std::string_view content_type, std::string_view bytes) {
  auto format = ImageFormatFromMimeType(content_type);
  if (!format) {
    return Error{ErrorCode::kUnsupportedMediaType, "a cover must be image/jpeg, image/png or image/webp"};
  }
  if (bytes.empty()) return InvalidArgument("the request body holds no image");
  if (bytes.size() > kMaxCoverBytes) return Error{ErrorCode::kPayloadTooLarge, "a cover must be at most 5 MiB"};
  VEZA_ASSIGN_OR_RETURN(Playlist p, Owned(viewer, playlist_id));
  std::vector<int> sizes(std::begin(kCoverSizes), std::end(kCoverSizes));
  VEZA_ASSIGN_OR_RETURN(std::vector<EncodedImage> images, images_.SquareJpegs(bytes, *format, sizes, ImageLimits{}));
  std::string hash = Sha256Hex(bytes).substr(0, 16);
  for (const EncodedImage& image : images) {
    VEZA_TRY(blobs_.Put(BlobKey(p.id, hash, image.size), image.jpeg, "image/jpeg"));
  }
  VEZA_ASSIGN_OR_RETURN(QueryResult old, db_.Query("SELECT cover_hash FROM playlists WHERE id = $1", {SqlText(p.id)}));
  if (old.rows.empty()) {
    DeleteImages(p.id, hash);
    return NotFound("no such playlist");
  }
  VEZA_TRY(db_.Query("UPDATE playlists SET cover_hash = $2 WHERE id = $1", {SqlText(p.id), SqlText(hash)}));
  if (!old.rows[0].IsNull(0) && old.rows[0].Text(0) != hash) DeleteImages(p.id, old.rows[0].Text(0));
  return hash;
}

Status PlaylistCoverService::Remove(const tracks::Viewer& viewer, std::string_view playlist_id) {
  VEZA_ASSIGN_OR_RETURN(Playlist p, Owned(viewer, playlist_id));
  VEZA_ASSIGN_OR_RETURN(QueryResult old, db_.Query("SELECT cover_hash FROM playlists WHERE id = $1", {SqlText(p.id)}));
  if (old.rows.empty() || old.rows[0].IsNull(0)) return Ok();
  VEZA_TRY(db_.Query("UPDATE playlists SET cover_hash = NULL WHERE id = $1", {SqlText(p.id)}));
  DeleteImages(p.id, old.rows[0].Text(0));
  return Ok();
}

Result<CoverImage> PlaylistCoverService::Get(const tracks::Viewer& viewer, std::string_view playlist_id, int size) {
  bool known_size = false;
  for (int s : kCoverSizes) known_size = known_size || s == size;
  if (!known_size) return InvalidArgument("size must be 512 or 128");
  VEZA_ASSIGN_OR_RETURN(Playlist p, social_.GetPlaylist(viewer, playlist_id));
  VEZA_ASSIGN_OR_RETURN(QueryResult r, db_.Query("SELECT cover_hash FROM playlists WHERE id = $1", {SqlText(p.id)}));
  if (r.rows.empty() || r.rows[0].IsNull(0)) return NotFound("the playlist has no cover");
  CoverImage out;
  out.hash = r.rows[0].Text(0);
  out.is_public = p.is_public;
  VEZA_ASSIGN_OR_RETURN(out.jpeg, blobs_.GetAll(BlobKey(p.id, out.hash, size)));
  return out;
}

}  // namespace veza::social
