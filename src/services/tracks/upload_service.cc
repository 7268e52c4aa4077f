#include "services/tracks/upload_service.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "base/ids.h"
#include "base/log.h"

namespace veza::tracks {
namespace fs = std::filesystem;

namespace {

Error Gone() { return NotFound("no such upload (it may have expired)"); }

}  // namespace

class StagedAppender final : public UploadAppender {
 public:
  StagedAppender(UploadService& service, Upload upload, int fd,
                 std::optional<ExpectedChecksum> checksum)
      : service_(service), upload_(std::move(upload)), fd_(fd), checksum_(std::move(checksum)) {
    if (checksum_) {
      digest_ = EVP_MD_CTX_new();
      EVP_DigestInit_ex(
          digest_, checksum_->algorithm == ChecksumAlgorithm::kSha1 ? EVP_sha1() : EVP_sha256(),
          nullptr);
    }
  }
  ~StagedAppender() override {
    if (!finished_) Discard();
    if (fd_ >= 0) ::close(fd_);
    EVP_MD_CTX_free(digest_);
  }

  Status Write(std::string_view bytes) override {
    if (upload_.received + written_ + static_cast<std::int64_t>(bytes.size()) > upload_.length) {
      return Error{ErrorCode::kPayloadTooLarge, "more bytes than the Upload-Length of the upload"};
    }
    if (digest_) EVP_DigestUpdate(digest_, bytes.data(), bytes.size());
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal("cannot write the staging file");
      bytes.remove_prefix(static_cast<std::size_t>(n));
      written_ += n;
    }
    return Ok();
  }

  Result<AppendOutcome> Finish() override {
    finished_ = true;
    AppendOutcome out;
    if (digest_) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(digest_, md, &len);
      if (std::string(reinterpret_cast<char*>(md), len) != checksum_->digest) {
        Discard();
        out.offset = upload_.received;
        out.expires_at_ms = upload_.expires_at_ms;
        out.checksum_mismatch = true;
        return out;
      }
    }
    if (::fdatasync(fd_) != 0) {
      Discard();
      return Internal("cannot sync the staging file");
    }
    std::int64_t now = service_.NowMs();
    out.offset = upload_.received + written_;
    out.expires_at_ms = now + service_.tracks_.options().upload_expiry.count() * 1000;
    if (Status moved = service_.tracks_.repository().AdvanceUpload(upload_.id, upload_.received,
                                                                   out.offset, out.expires_at_ms);
        !moved.ok()) {
      Discard();
      return moved.take_error();
    }
    if (out.offset == upload_.length) {
      ::close(fd_);
      fd_ = -1;
      fs::path file = service_.StagingFile(upload_.id);
      UploadDescription d{upload_.filename, upload_.content_type, upload_.title,
                          upload_.visibility};
      auto created = service_.tracks_.CreateFromFile(upload_.owner_id, file, d);
      std::error_code ec;
      if (!created.ok()) {
        // Refused (not audio) or failed: the upload is over either way; its space is freed.
        (void)service_.tracks_.repository().DeleteUpload(upload_.id);
        fs::remove(file, ec);
        return created.take_error();
      }
      VEZA_TRY(service_.tracks_.repository().FinishUpload(upload_.id, created->id));
      fs::remove(file, ec);
      out.track = std::move(created).value();
    }
    return out;
  }

 private:
  void Discard() {
    if (fd_ >= 0 && written_ > 0) {
      if (::ftruncate(fd_, upload_.received) != 0)
        log::Warn("cannot cut a discarded chunk", {{"upload", upload_.id}});
      written_ = 0;
    }
  }

  UploadService& service_;
  Upload upload_;
  int fd_;
  std::optional<ExpectedChecksum> checksum_;
  EVP_MD_CTX* digest_ = nullptr;
  std::int64_t written_ = 0;
  bool finished_ = false;
};

UploadService::UploadService(TrackService& tracks, Clock& clock) : tracks_(tracks), clock_(clock) {}

UploadService::~UploadService() { Stop(); }

std::int64_t UploadService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

fs::path UploadService::StagingFile(std::string_view id) const {
  return tracks_.options().staging_dir / "uploads" / std::string(id);
}

Result<Upload> UploadService::Create(const Viewer& viewer, std::int64_t length,
                                     const UploadDescription& d) {
  if (length <= 0) return Error{ErrorCode::kUnprocessable, "empty file"};
  VEZA_TRY(tracks_.CheckQuota(viewer.user_id, length));
  Upload u;
  u.id = NewId();
  u.owner_id = viewer.user_id;
  u.length = length;
  u.filename = d.filename;
  u.content_type = d.content_type;
  u.title = d.title;
  u.visibility = d.visibility;
  u.created_at_ms = NowMs();
  u.expires_at_ms = u.created_at_ms + tracks_.options().upload_expiry.count() * 1000;
  std::error_code ec;
  fs::create_directories(StagingFile(u.id).parent_path(), ec);
  int fd = ::open(StagingFile(u.id).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create the staging file");
  ::close(fd);
  auto created = tracks_.repository().CreateUpload(u);
  if (!created.ok()) fs::remove(StagingFile(u.id), ec);
  return created;
}

Result<Upload> UploadService::Find(const Viewer& viewer, std::string_view id) {
  auto u = tracks_.repository().FindUpload(id);
  if (!u.ok()) {
    if (u.error().code == ErrorCode::kNotFound) return Gone();
    return u.take_error();
  }
  if (u->owner_id != viewer.user_id || u->expires_at_ms < NowMs()) return Gone();
  return u;
}

Result<std::unique_ptr<UploadAppender>> UploadService::Append(
    const Viewer& viewer, std::string_view id, std::int64_t offset,
    std::optional<ExpectedChecksum> checksum) {
  VEZA_ASSIGN_OR_RETURN(Upload u, Find(viewer, id));
  if (u.track_id) return Error{ErrorCode::kConflict, "the upload is complete"};
  if (offset != u.received) {
    return Error{ErrorCode::kConflict, "Upload-Offset " + std::to_string(offset) +
                                           " does not match the upload's offset " +
                                           std::to_string(u.received)};
  }
  int fd = ::open(StagingFile(u.id).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Gone();  // another node's upload, or swept
  // Bytes past the committed offset belong to an interrupted, uncommitted chunk: drop them.
  if (::ftruncate(fd, u.received) != 0 || ::lseek(fd, u.received, SEEK_SET) < 0) {
    ::close(fd);
    return Internal("cannot position the staging file");
  }
  return std::unique_ptr<UploadAppender>(
      new StagedAppender(*this, std::move(u), fd, std::move(checksum)));
}

Status UploadService::Terminate(const Viewer& viewer, std::string_view id) {
  VEZA_ASSIGN_OR_RETURN(Upload u, Find(viewer, id));
  VEZA_TRY(tracks_.repository().DeleteUpload(u.id));
  std::error_code ec;
  fs::remove(StagingFile(u.id), ec);
  return Ok();
}

Result<int> UploadService::SweepExpired() {
  int swept = 0;
  while (true) {
    VEZA_ASSIGN_OR_RETURN(std::vector<Upload> expired,
                          tracks_.repository().ListExpiredUploads(NowMs(), 100));
    if (expired.empty()) return swept;
    for (const Upload& u : expired) {
      VEZA_TRY(tracks_.repository().DeleteUpload(u.id));
      std::error_code ec;
      fs::remove(StagingFile(u.id), ec);
      ++swept;
    }
  }
}

void UploadService::StartSweeper(std::chrono::milliseconds interval) {
  sweeper_ = std::thread([this, interval] {
    std::unique_lock lock(mutex_);
    while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      auto swept = SweepExpired();
      if (!swept.ok())
        log::Warn("upload sweep failed", {{"error", swept.error().message}});
      else if (*swept > 0)
        log::Info("expired uploads removed", {{"count", *swept}});
      lock.lock();
    }
  });
}

void UploadService::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

}  // namespace veza::tracks
