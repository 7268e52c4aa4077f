#include "backends/blob_local/local_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/object.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>

#include "base/log.h"

namespace veza {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTmpDir = ".tmp";
constexpr std::size_t kMaxReadChunk = 4 << 20;  // one Read() never allocates more
// Temp files this old belong to a crashed process (no upload takes a day); Open removes them.
constexpr auto kStaleTempAge = std::chrono::hours(24);

std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

std::string ErrnoText(int err) { return std::system_category().message(err); }

// Disk full and IO errors are the store being unwell, not a bug: retry later.
Error IoError(std::string what, int err) {
  ErrorCode code = (err == ENOSPC || err == EDQUOT || err == EIO || err == EROFS)
                       ? ErrorCode::kUnavailable
                       : ErrorCode::kInternal;
  return Error{code, "local blob store: " + what + ": " + ErrnoText(err)};
}

Status ValidateLocalKey(std::string_view key) {
  VEZA_TRY(ValidateBlobKey(key));
  if (key == kTmpDir || key.starts_with(".tmp/")) {
    return InvalidArgument("blob key may not start with '.tmp' (the local store's temp dir)");
  }
  // Each segment is a file name, and file systems stop at NAME_MAX (255) bytes.
  for (std::size_t start = 0; start <= key.size();) {
    std::size_t end = std::min(key.find('/', start), key.size());
    if (end - start > 255) return InvalidArgument("blob key segment longer than 255 bytes");
    start = end + 1;
  }
  return Ok();
}

bool ValidSegment(std::string_view name) {
  return name != "." && name != ".." && ValidateBlobKey(name).ok();
}

std::string Hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Size, modification time (ns) and inode: a committed object is a new file (new inode, new
// mtime), so an overwrite changes the etag even when the size does not.
BlobInfo InfoOf(std::string key, const struct stat& st) {
  BlobInfo info;
  info.key = std::move(key);
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.modified_unix = st.st_mtim.tv_sec;
  std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                           static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  info.etag =
      Hex(info.size) + "-" + Hex(mtime_ns) + "-" + Hex(static_cast<std::uint64_t>(st.st_ino));
  return info;
}

std::string RandomName() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }());
  return Hex(rng()) + Hex(rng()) + ".part";
}

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync " + dir.string(), err);
  return Ok();
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// --- reader ----------------------------------------------------------------------------------

class LocalReader final : public BlobReader {
 public:
  LocalReader(int fd, BlobInfo info, std::uint64_t begin, std::uint64_t end)
      : fd_(fd), info_(std::move(info)), pos_(begin), end_(end) {}
  ~LocalReader() override { ::close(fd_); }

  const BlobInfo& Info() const override { return info_; }

  Result<std::string> Read(std::size_t max) override {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>({max, end_ - pos_, kMaxReadChunk}));
    std::string out(want, '\0');
    std::size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd_, out.data() + got, want - got, static_cast<off_t>(pos_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("read " + Quoted(info_.key), errno);
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got == 0 && want > 0) {
      // Committed files are replaced, never changed in place; someone edited this one.
      return Internal("local blob store: " + Quoted(info_.key) + " ended early (changed on disk?)");
    }
    out.resize(got);
    pos_ += got;
    return out;
  }

 private:
  int fd_;
  BlobInfo info_;
  std::uint64_t pos_;
  std::uint64_t end_;
};

// --- writer ----------------------------------------------------------------------------------

class LocalWriter final : public BlobWriter {
 public:
  LocalWriter(fs::path root, std::string key, fs::path temp_path, int fd)
      : root_(std::move(root)), key_(std::move(key)), temp_path_(std::move(temp_path)), fd_(fd) {}

  ~LocalWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_path_.c_str());  // dropped without Commit: leave nothing
  }

  Status Write(std::string_view bytes) override {
    if (failed_) return *failed_;
    if (fd_ < 0) return Internal("local blob store: write to " + Quoted(key_) + " after Commit");
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(IoError("write " + Quoted(key_), errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return Ok();
  }

  Result<BlobInfo> Commit() override {
    if (failed_) return *failed_;
    if (fd_ < 0) return Internal("local blob store: Commit of " + Quoted(key_) + " called twice");
    // Durable before visible: the data reaches the disk before the name points at it.
    int rc = ::fsync(fd_);
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Fail(IoError("fsync " + Quoted(key_), err));

    fs::path target = root_ / key_;
    fs::path parent = target.parent_path();
    // A concurrent Delete may prune a directory on the way while it is being created, or
    // between creating it and the rename; both then fail with ENOENT and simply go again.
    constexpr int kAttempts = 20;
    for (int attempt = 1;; ++attempt) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec == std::errc::no_such_file_or_directory && attempt < kAttempts) continue;
      if (ec == std::errc::not_a_directory || ec == std::errc::file_exists) {
        // Either a real clash, or a directory that was pruned while being checked.
        if (ClashExists(target)) return Fail(Clash());
        if (attempt < kAttempts) continue;
      }
      if (ec) return Fail(IoError("create directory for " + Quoted(key_), ec.value()));
      if (::rename(temp_path_.c_str(), target.c_str()) == 0) break;
      err = errno;
      if (err == ENOENT && attempt < kAttempts) continue;
      if (err == EISDIR || err == ENOTDIR || err == ENOTEMPTY || err == EEXIST) {
        if (ClashExists(target)) return Fail(Clash());
        if (attempt < kAttempts) continue;
      }
      return Fail(IoError("rename into " + Quoted(key_), err));
    }
    committed_ = true;
    VEZA_TRY(FsyncDir(parent));
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0) return IoError("stat " + Quoted(key_), errno);
    return InfoOf(key_, st);
  }

 private:
  // True when the key is a directory, or one of its parents (below the root) is a file.
  bool ClashExists(const fs::path& target) const {
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    for (fs::path dir = target.parent_path();
         dir != root_ && dir.native().size() > root_.native().size(); dir = dir.parent_path()) {
      if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) return true;
    }
    return false;
  }
  Error Clash() const {
    return Conflict("local blob store: " + Quoted(key_) +
                    " clashes with an existing key (a key cannot be both an object and a "
                    "directory of objects here)");
  }
  Error Fail(Error error) {
    failed_ = error;
    return error;
  }

  fs::path root_;
  std::string key_;
  fs::path temp_path_;
  int fd_;
  bool committed_ = false;
  std::optional<Error> failed_;
};

// --- store -----------------------------------------------------------------------------------

class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(fs::path root) : root_(std::move(root)), tmp_(root_ / kTmpDir) {}

  Status ProbeWritable() {
    fs::path probe = tmp_ / RandomName();
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot write in " + tmp_.string(), errno);
    ::close(fd);
    ::unlink(probe.c_str());
    return Ok();
  }

  void RemoveStaleTempFiles() {
    std::error_code ec;
    auto now = fs::file_time_type::clock::now();
    for (const auto& entry : fs::directory_iterator(tmp_, ec)) {
      std::error_code entry_ec;
      auto modified = entry.last_write_time(entry_ec);
      if (!entry_ec && now - modified > kStaleTempAge) fs::remove(entry.path(), entry_ec);
    }
  }

  Result<std::unique_ptr<BlobWriter>> OpenWriter(std::string_view key,
                                                 std::string_view content_type) override {
    VEZA_TRY(ValidateLocalKey(key));
    fs::path temp = tmp_ / RandomName();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("create temp file for " + Quoted(key), errno);
    return std::unique_ptr<BlobWriter>(new LocalWriter(root_, std::string(key), temp, fd));
  }

  Result<std::unique_ptr<BlobReader>> OpenReader(std::string_view key,
                                                 std::optional<ByteRange> range) override {
    VEZA_TRY(ValidateLocalKey(key));
    fs::path path = root_ / key;
    // O_NONBLOCK: a FIFO someone left in the tree must not hang the open; regular files
    // ignore the flag.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return NotFound("blob " + Quoted(key) + " not found");
      return IoError("open " + Quoted(key), err);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return NotFound("blob " + Quoted(key) + " not found");
    }
    std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t begin = 0, end = size;
    // {0, whole} is no range at all: it must also work on an empty object (as on S3).
    if (range && (range->offset != 0 || range->length)) {
      if (range->length && *range->length == 0) {
        ::close(fd);
        return InvalidArgument("empty byte range");
      }
      if (range->offset >= size) {
        ::close(fd);
        return Error{ErrorCode::kRangeNotSatisfiable,
                     "range starts at " + std::to_string(range->offset) + ", past the end of " +
                         Quoted(key) + " (" + std::to_string(size) + " bytes)"};
      }
      begin = range->offset;
      if (range->length && *range->length < size - begin) end = begin + *range->length;
    }
    return std::unique_ptr<BlobReader>(
        new LocalReader(fd, InfoOf(std::string(key), st), begin, end));
  }

  Result<BlobInfo> Stat(std::string_view key) override {
    VEZA_TRY(ValidateLocalKey(key));
    fs::path path = root_ / key;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return NotFound("blob " + Quoted(key) + " not found");
      return IoError("stat " + Quoted(key), err);
    }
    if (!S_ISREG(st.st_mode)) return NotFound("blob " + Quoted(key) + " not found");
    return InfoOf(std::string(key), st);
  }

  Status Delete(std::string_view key) override {
    VEZA_TRY(ValidateLocalKey(key));
    fs::path path = root_ / key;
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      // Missing, or a directory of other objects: either way there is no such object.
      if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Ok();
      return IoError("delete " + Quoted(key), err);
    }
    // Prune directories the delete left empty, so the tree does not fill with husks; rmdir
    // fails harmlessly on the first one that still holds something.
    for (fs::path dir = path.parent_path();
         dir != root_ && dir.string().size() > root_.string().size(); dir = dir.parent_path()) {
      if (::rmdir(dir.c_str()) != 0) break;
    }
    return Ok();
  }

  Result<std::vector<BlobInfo>> List(std::string_view prefix, std::string_view start_after,
                                     std::size_t limit) override {
    ListState state{std::string(prefix), std::string(start_after), limit, {}};
    if (limit == 0) return state.out;
    VEZA_TRY(Walk(root_, "", state));
    return std::move(state.out);
  }

  Result<std::optional<std::string>> PresignGet(std::string_view key,
                                                std::chrono::seconds expires) override {
    VEZA_TRY(ValidateLocalKey(key));
    return std::optional<std::string>();
  }

  Result<std::optional<std::filesystem::path>> LocalPath(std::string_view key) override {
    VEZA_TRY(ValidateLocalKey(key));
    return std::optional<std::filesystem::path>(root_ / key);
  }

  Status Ping() override {
    if (::access(tmp_.c_str(), W_OK | X_OK) != 0) return IoError("access " + tmp_.string(), errno);
    return Ok();
  }

  const fs::path& root() const { return root_; }

 private:
  struct ListState {
    std::string prefix;
    std::string start_after;
    std::size_t limit;
    std::vector<BlobInfo> out;
  };

  // Depth-first in key order, skipping subtrees that cannot hold a wanted key, and stopping at
  // the limit: listing a small prefix of a large tree stays cheap.
  Status Walk(const fs::path& dir, const std::string& rel, ListState& state) {
    if (rel.size() > 1024) return Ok();  // no valid key is this deep (and no symlink loop is)
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Ok();
      return IoError("list " + dir.string(), errno);
    }
    struct Entry {
      std::string sort_key;  // rel + name, plus '/' for a directory: sorts like its keys
      bool is_dir;
      struct stat st;
    };
    std::vector<Entry> entries;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || !ValidSegment(name)) continue;
      if (rel.empty() && name == kTmpDir) continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0) continue;  // vanished meanwhile
      if (S_ISDIR(st.st_mode)) {
        entries.push_back({rel + std::string(name) + "/", true, st});
      } else if (S_ISREG(st.st_mode)) {
        entries.push_back({rel + std::string(name), false, st});
      }
    }
    ::closedir(d);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.sort_key < b.sort_key; });
    for (const Entry& entry : entries) {
      if (state.out.size() >= state.limit) return Ok();
      const std::string& k = entry.sort_key;
      if (entry.is_dir) {
        // Every key below starts with k: skip unless it can match the prefix ...
        if (!k.starts_with(state.prefix) && !state.prefix.starts_with(k)) continue;
        // ... and unless all of them sort before start_after.
        if (k < state.start_after && !state.start_after.starts_with(k)) continue;
        VEZA_TRY(Walk(root_ / k, k, state));
      } else {
        if (!k.starts_with(state.prefix) || k <= state.start_after) continue;
        state.out.push_back(InfoOf(k, entry.st));
      }
    }
    return Ok();
  }

  fs::path root_;
  fs::path tmp_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(std::string_view url) {
  constexpr std::string_view kScheme = "file://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgument("local blob store url must look like file://./dir or file:///abs/dir");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("local blob store url takes no options");
  }
  if (rest.starts_with("localhost/")) rest.remove_prefix(9);  // RFC 8089: file://localhost/abs
  std::string path = PercentDecode(rest);
  if (path.empty()) return InvalidArgument("local blob store url has no directory");

  std::error_code ec;
  fs::path root = fs::absolute(path, ec).lexically_normal();
  if (ec) return InvalidArgument("local blob store: bad directory '" + path + "'");
  if (root.has_filename() == false && root != root.root_path()) root = root.parent_path();
  fs::create_directories(root / kTmpDir, ec);
  if (ec) {
    return Error{ErrorCode::kUnavailable, "local blob store: cannot create " +
                                              (root / kTmpDir).string() + ": " + ec.message()};
  }
  auto store = std::make_unique<LocalBlobStore>(root);
  if (Status writable = store->ProbeWritable(); !writable.ok()) {
    return Error{ErrorCode::kUnavailable, writable.error().message};
  }
  store->RemoveStaleTempFiles();
  log::Info("blob store opened", {{"backend", "local"}, {"dir", root.string()}});
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace veza
