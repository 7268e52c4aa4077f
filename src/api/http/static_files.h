#pragma once
// Serves the built web app: ETag and If-None-Match, single byte ranges (If-Range aware),
// precompressed .br/.gz siblings chosen by Accept-Encoding, and an SPA fallback to index.html
// for paths that look like app routes (no file extension).
#include <filesystem>
#include <optional>
#include <string>

#include "api/http/message.h"

namespace veza::http {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  bool Enabled() const { return enabled_; }
  // GET/HEAD only; nullopt when nothing matches and there is no index.html to fall back to.
  std::optional<Response> Serve(const RequestContext& ctx) const;

 private:
  std::filesystem::path root_;
  bool enabled_ = false;
};

// Parses one "bytes=" range against a size; nullopt when absent, several ranges or malformed
// (the whole representation is served then), an error when unsatisfiable.
struct ParsedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
Result<std::optional<ParsedRange>> ParseRangeHeader(std::string_view header, std::uint64_t size);

// Percent-decodes a URL path; fails on NUL, malformed escapes or "..".
Result<std::string> DecodePath(std::string_view path);

std::string_view MimeTypeFor(const std::filesystem::path& file);

}  // namespace veza::http
