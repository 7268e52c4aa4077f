#pragma once
// Avatars: an uploaded JPEG, PNG or WebP becomes two square JPEGs (512 and 128 pixels, the
// centred square of the original) in the BlobStore under avatars/<user id>/<hash>-<size>.jpg,
// where hash is of the uploaded bytes; users.avatar_hash names the current one. URLs carry the
// hash, so they can be cached for ever and change when the avatar does.
// Blocking (image work, database, blob store): run it on the worker pool.
#include <cstddef>
#include <string>
#include <string_view>

#include "ports/blob_store.h"
#include "ports/clock.h"
#include "ports/database.h"
#include "ports/image_processor.h"
#include "services/auth/auth_service.h"

namespace veza::auth {

inline constexpr std::size_t kMaxAvatarBytes = 5 * 1024 * 1024;
inline constexpr int kAvatarSizes[] = {512, 128};

struct AvatarImage {
  std::string jpeg;
  std::string hash;
};

class AvatarService {
 public:
  AvatarService(Database& db, BlobStore& blobs, ImageProcessor& images, const Clock& clock);

  // Replaces who's avatar; returns the new hash. kUnsupportedMediaType for a type other than
  // image/jpeg, image/png or image/webp, or bytes that are not that type; kPayloadTooLarge past
  // kMaxAvatarBytes; kUnprocessable for corrupt or oversized (pixels) images.
  Result<std::string> Upload(const Principal& who, std::string_view content_type,
                             std::string_view bytes);
  // Removes who's avatar (and its images); fine when there is none.
  Status Remove(const Principal& who);
  // One size (512 or 128) of a user's current avatar. kNotFound for unknown or suspended users
  // and users without an avatar; kInvalidArgument for another size.
  Result<AvatarImage> Get(std::string_view username, int size);

  static std::string BlobKey(std::string_view user_id, std::string_view hash, int size);

 private:
  void DeleteImages(const std::string& user_id, const std::string& hash);
  std::int64_t NowMs() const;

  Database& db_;
  BlobStore& blobs_;
  ImageProcessor& images_;
  const Clock& clock_;
};

}  // namespace veza::auth
