#pragma once
// BlobStore port: immutable objects under string keys ("audio/ab/cd/abcd...flac").
// Local directory or S3. Calls block: run them on the worker pool.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza {

struct BlobInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::int64_t modified_unix = 0;
};

struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;  // nullopt: to the end
};

// Streaming read of one object (or a range of it).
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual const BlobInfo& Info() const = 0;  // size is the whole object's size
  // Reads up to max bytes; an empty string means the end.
  virtual Result<std::string> Read(std::size_t max) = 0;
};

// Streaming write: bytes go out as they come (S3: multipart parts), the object appears only
// at Commit(); a writer destroyed without Commit leaves nothing behind.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status Write(std::string_view bytes) = 0;
  virtual Result<BlobInfo> Commit() = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<BlobWriter>> OpenWriter(std::string_view key,
                                                         std::string_view content_type) = 0;
  virtual Result<std::unique_ptr<BlobReader>> OpenReader(std::string_view key,
                                                         std::optional<ByteRange> range = {}) = 0;
  virtual Result<BlobInfo> Stat(std::string_view key) = 0;
  virtual Status Delete(std::string_view key) = 0;  // deleting a missing key is ok
  // Keys starting with prefix, in lexicographic order, at most limit, after start_after.
  virtual Result<std::vector<BlobInfo>> List(std::string_view prefix, std::string_view start_after,
                                             std::size_t limit) = 0;
  // A URL a client can GET directly for expires (S3 presigned); nullopt when the store has no
  // such URL (local directory: Veza serves the bytes itself).
  virtual Result<std::optional<std::string>> PresignGet(std::string_view key,
                                                        std::chrono::seconds expires) = 0;
  virtual Status Ping() = 0;
  // The file holding key's bytes when the store keeps objects as local files, so HTTP can send
  // it straight from the kernel (sendfile-style) with ranges; nullopt for remote stores. The
  // file is replaced, never rewritten in place, so an open descriptor stays consistent.
  virtual Result<std::optional<std::filesystem::path>> LocalPath(std::string_view key) {
    return std::optional<std::filesystem::path>();
  }

  // Convenience wrappers over the streaming calls.
  Result<BlobInfo> Put(std::string_view key, std::string_view bytes,
                       std::string_view content_type = "application/octet-stream");
  Result<std::string> GetAll(std::string_view key, std::optional<ByteRange> range = {});
};

// Keys are relative paths of [A-Za-z0-9._-] segments joined by '/', no "." or ".." segment,
// at most 1024 bytes. Both backends reject anything else with kInvalidArgument.
Status ValidateBlobKey(std::string_view key);

}  // namespace veza
