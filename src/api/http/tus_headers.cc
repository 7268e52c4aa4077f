#include "api/http/tus_headers.h"

#include <algorithm>
#include <charconv>

#include "services/tracks/track_repository.h"

namespace veza::http {

Result<std::int64_t> ParseTusInteger(std::string_view v, std::string_view name) {
  std::int64_t n = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 0) {
    return InvalidArgument(std::string(name) + " must be a non-negative integer");
  }
  return n;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Result<tracks::UploadDescription> ParseMetadata(std::string_view header) {
  tracks::UploadDescription d;
  if (header.size() > 4096) return InvalidArgument("Upload-Metadata is too long");
  while (!header.empty()) {
    std::string_view pair = header.substr(0, header.find(','));
    header.remove_prefix(std::min(header.size(), pair.size() + 1));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.empty()) continue;
    std::string_view key = pair.substr(0, pair.find(' '));
    std::string_view encoded =
        key.size() < pair.size() ? pair.substr(key.size() + 1) : std::string_view();
    auto value = Base64Decode(encoded);
    if (!value)
      return InvalidArgument("Upload-Metadata value of '" + std::string(key.substr(0, 40)) +
                             "' is not base64");
    if (key == "filename") {
      d.filename = value->substr(0, 255);
    } else if (key == "filetype") {
      d.content_type = value->substr(0, 100);
    } else if (key == "title") {
      if (value->size() > 200) return InvalidArgument("title is longer than 200 bytes");
      d.title = *value;
    } else if (key == "visibility") {
      auto v = tracks::ParseVisibility(*value);
      if (!v) return InvalidArgument("visibility must be public, unlisted or private");
      d.visibility = *v;
    }
    // Other keys (tus-js-client adds its own) are ignored, as tus allows.
  }
  return d;
}

Result<std::optional<tracks::ExpectedChecksum>> ParseChecksum(std::string_view header) {
  if (header.empty()) return std::optional<tracks::ExpectedChecksum>();
  auto space = header.find(' ');
  if (space == std::string_view::npos)
    return InvalidArgument("Upload-Checksum must be 'algorithm base64-digest'");
  std::string_view algorithm = header.substr(0, space);
  tracks::ExpectedChecksum c;
  std::size_t size = 0;
  if (algorithm == "sha1") {
    c.algorithm = tracks::ChecksumAlgorithm::kSha1;
    size = 20;
  } else if (algorithm == "sha256") {
    c.algorithm = tracks::ChecksumAlgorithm::kSha256;
    size = 32;
  } else {
    return InvalidArgument("Upload-Checksum algorithm must be sha1 or sha256");
  }
  auto digest = Base64Decode(header.substr(space + 1));
  if (!digest || digest->size() != size)
    return InvalidArgument("Upload-Checksum digest is malformed");
  c.digest = std::move(*digest);
  return std::optional<tracks::ExpectedChecksum>(std::move(c));
}

}  // namespace veza::http
