#pragma once
// Parsing of the tus 1.0 request headers (Upload-Length, Upload-Offset, Upload-Metadata,
// Upload-Checksum), apart from the routes so the fuzzer in fuzz/ can reach them without I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "services/tracks/track_service.h"
#include "services/tracks/upload_service.h"

namespace veza::http {

// Standard base64 (RFC 4648 §4) with optional padding; nullopt on any other character.
std::optional<std::string> Base64Decode(std::string_view in);

// Upload-Length and Upload-Offset: a non-negative decimal int64, nothing else (no sign, no
// spaces); `name` is the header's name for the error message.
Result<std::int64_t> ParseTusInteger(std::string_view value, std::string_view name);

// Upload-Metadata: comma-separated "key base64(value)" pairs (tus 1.0 creation extension).
Result<tracks::UploadDescription> ParseMetadata(std::string_view header);

// Upload-Checksum: "sha1|sha256 base64(digest)"; empty when the header is absent.
Result<std::optional<tracks::ExpectedChecksum>> ParseChecksum(std::string_view header);

}  // namespace veza::http
