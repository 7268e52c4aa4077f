#include "ports/blob_store.h"

namespace veza {

Result<BlobInfo> BlobStore::Put(std::string_view key, std::string_view bytes,
                                std::string_view content_type) {
  VEZA_ASSIGN_OR_RETURN(auto writer, OpenWriter(key, content_type));
  VEZA_TRY(writer->Write(bytes));
  return writer->Commit();
}

Result<std::string> BlobStore::GetAll(std::string_view key, std::optional<ByteRange> range) {
  VEZA_ASSIGN_OR_RETURN(auto reader, OpenReader(key, range));
  std::string out;
  for (;;) {
    VEZA_ASSIGN_OR_RETURN(std::string chunk, reader->Read(1 << 20));
    if (chunk.empty()) break;
    out += chunk;
  }
  return out;
}

Status ValidateBlobKey(std::string_view key) {
  if (key.empty() || key.size() > 1024) return InvalidArgument("blob key must be 1..1024 bytes");
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == '/') {
      std::string_view segment = key.substr(segment_start, i - segment_start);
      if (segment.empty() || segment == "." || segment == "..") {
        return InvalidArgument("blob key has an empty, '.' or '..' segment");
      }
      segment_start = i + 1;
      continue;
    }
    char c = key[i];
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    if (!allowed) return InvalidArgument("blob key may hold only [A-Za-z0-9._-] and '/'");
  }
  return Ok();
}

}  // namespace veza
