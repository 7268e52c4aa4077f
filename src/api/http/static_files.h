#pragma once
// Serves the built web app: ETag and If-None-Match, single byte ranges (If-Range aware),
// precompressed .br/.gz siblings chosen by Accept-Encoding, and an SPA fallback to index.html
// for paths that look like app routes (no file extension).
#include <filesystem>
#include <map>
#include <mutex>
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
  // Content-Security-Policy of each HTML file, by path, size and mtime (they change on deploy).
  std::string PolicyFor(const std::filesystem::path& html, std::uint64_t size, std::int64_t mtime_ns) const;
  mutable std::mutex policies_mu_;
  mutable std::map<std::string, std::string> policies_;  // guarded by policies_mu_
};

// The headers every web app response carries (docs/security.md): the CSP below for HTML,
// no framing, no sniffing, the origin only as referrer, a browsing context of its own.
// Scripts run only from our origin, plus the inline scripts of the page itself allowed by
// their SHA-256 (no 'unsafe-inline'); styles may be inline (React style attributes).
std::string ContentSecurityPolicyFor(std::string_view html);
inline constexpr std::string_view kWebReferrerPolicy = "strict-origin-when-cross-origin";
// What API answers (JSON, problems, media) carry instead: nothing in them may run or be framed.
inline constexpr std::string_view kApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
inline constexpr std::string_view kApiReferrerPolicy = "no-referrer";

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
