#include "services/auth/avatar_service.h"

#include <iterator>

#include "base/digest.h"
#include "base/log.h"

namespace veza::auth {

AvatarService::AvatarService(Database& db, BlobStore& blobs, ImageProcessor& images,
                             const Clock& clock)
    : db_(db), blobs_(blobs), images_(images), clock_(clock) {}

std::int64_t AvatarService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

std::string AvatarService::BlobKey(std::string_view user_id, std::string_view hash, int size) {
  return "avatars/" + std::string(user_id) + "/" + std::string(hash) + "-" + std::to_string(size) +
         ".jpg";
}

void AvatarService::DeleteImages(const std::string& user_id, const std::string& hash) {
  for (int size : kAvatarSizes) {
    Status st = blobs_.Delete(BlobKey(user_id, hash, size));
    // An orphaned image costs some bytes only; the row no longer points at it.
    if (!st.ok())
      log::Warn("avatar image not deleted", {{"user_id", user_id}, {"error", st.error().message}});
  }
}

Result<std::string> AvatarService::Upload(const Principal& who, std::string_view content_type,
                                          std::string_view bytes) {
  auto format = ImageFormatFromMimeType(content_type);
  if (!format) {
    return Error{ErrorCode::kUnsupportedMediaType,
                 "an avatar must be image/jpeg, image/png or image/webp"};
  }
  if (bytes.empty()) return InvalidArgument("the request body holds no image");
  if (bytes.size() > kMaxAvatarBytes)
    return Error{ErrorCode::kPayloadTooLarge, "an avatar must be at most 5 MiB"};
  std::vector<int> sizes(std::begin(kAvatarSizes), std::end(kAvatarSizes));
  VEZA_ASSIGN_OR_RETURN(std::vector<EncodedImage> images,
                        images_.SquareJpegs(bytes, *format, sizes, ImageLimits{}));
  std::string hash = Sha256Hex(bytes).substr(0, 16);
  for (const EncodedImage& image : images) {
    VEZA_TRY(blobs_.Put(BlobKey(who.user_id, hash, image.size), image.jpeg, "image/jpeg"));
  }
  VEZA_ASSIGN_OR_RETURN(QueryResult old, db_.Query("SELECT avatar_hash FROM users WHERE id = $1",
                                                   {SqlText(who.user_id)}));
  if (old.rows.empty()) {
    DeleteImages(who.user_id, hash);
    return NotFound("no such user");
  }
  VEZA_TRY(db_.Query("UPDATE users SET avatar_hash = $2, updated_at = $3 WHERE id = $1",
                     {SqlText(who.user_id), SqlText(hash), SqlInt(NowMs())}));
  if (!old.rows[0].IsNull(0) && old.rows[0].Text(0) != hash)
    DeleteImages(who.user_id, old.rows[0].Text(0));
  log::Info("avatar changed", {{"user_id", who.user_id}});
  return hash;
}

Status AvatarService::Remove(const Principal& who) {
  VEZA_ASSIGN_OR_RETURN(QueryResult old, db_.Query("SELECT avatar_hash FROM users WHERE id = $1",
                                                   {SqlText(who.user_id)}));
  if (old.rows.empty() || old.rows[0].IsNull(0)) return Ok();
  VEZA_TRY(db_.Query("UPDATE users SET avatar_hash = NULL, updated_at = $2 WHERE id = $1",
                     {SqlText(who.user_id), SqlInt(NowMs())}));
  DeleteImages(who.user_id, old.rows[0].Text(0));
  return Ok();
}

Result<AvatarImage> AvatarService::Get(std::string_view username, int size) {
  bool known_size = false;
  for (int s : kAvatarSizes) known_size = known_size || s == size;
  if (!known_size) return InvalidArgument("size must be 512 or 128");
  if (!ValidateUsername(username).ok()) return NotFound("no such avatar");
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT id, avatar_hash FROM users WHERE username_key = $1 AND suspended = 0",
                {SqlText(FoldKey(username))}));
  if (r.rows.empty() || r.rows[0].IsNull(1)) return NotFound("no such avatar");
  AvatarImage out;
  out.hash = r.rows[0].Text(1);
  VEZA_ASSIGN_OR_RETURN(out.jpeg, blobs_.GetAll(BlobKey(r.rows[0].Text(0), out.hash, size)));
  return out;
}

}  // namespace veza::auth
