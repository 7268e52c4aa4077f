#pragma once
// Playlist covers: the avatar path (ImageProcessor::SquareJpegs) applied to playlists. An
// uploaded JPEG, PNG or WebP becomes two square JPEGs (512 and 128 pixels) in the BlobStore
// under playlists/<playlist id>/<hash>-<size>.jpg; playlists.cover_hash (migration
// 0082_playlist_covers) names the current one. Only the playlist's owner changes it; whoever may
// see the playlist may see its cover (a private playlist's cover is 404 to everyone else).
// Blocking (image work, database, blob store): run it on the worker pool.
#include <cstddef>
#include <string>
#include <string_view>

#include "ports/blob_store.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/image_processor.h"
#include "services/social/social_service.h"

namespace veza::social {

inline constexpr std::size_t kMaxCoverBytes = 5 * 1024 * 1024;
inline constexpr int kCoverSizes[] = {512, 128};

// The URL of one size of a playlist's cover; naming the hash, it may be cached for good.
std::string PlaylistCoverUrl(std::string_view playlist_id, std::string_view hash, int size = kCoverSizes[0]);

struct CoverImage {
  std::string jpeg;
  std::string hash;
  bool is_public = true;  // of the playlist: decides how the image may be cached
};

class PlaylistCoverService {
 public:
  PlaylistCoverService(Database& db, BlobStore& blobs, ImageProcessor& images, SocialService& social);

  // Replaces the cover; returns the new hash. 404 when the viewer may not see the playlist,
  // 403 when they may but are not its owner; 415/413/422 as for avatars.
  Result<std::string> Upload(const tracks::Viewer& viewer, std::string_view playlist_id,
                             std::string_view content_type, std::string_view bytes);
  // Removes the cover (fine when there is none); the same rights as Upload.
  Status Remove(const tracks::Viewer& viewer, std::string_view playlist_id);
  // One size (512 or 128) of the current cover; 404 when hidden from the viewer or none.
  Result<CoverImage> Get(const tracks::Viewer& viewer, std::string_view playlist_id, int size);

  static std::string BlobKey(std::string_view playlist_id, std::string_view hash, int size);

 private:
  Result<Playlist> Owned(const tracks::Viewer& viewer, std::string_view playlist_id);
  void DeleteImages(const std::string& playlist_id, const std::string& hash);

  Database& db_;
  BlobStore& blobs_;
  ImageProcessor& images_;
  SocialService& social_;
};

}  // namespace veza::social
