#include "api/http/static_files.h"

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "base/time.h"

namespace veza::http {
namespace fs = std::filesystem;

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  enabled_ = !root_.empty() && fs::is_directory(root_, ec);
  if (enabled_) root_ = fs::canonical(root_, ec);
}

std::string ContentSecurityPolicyFor(std::string_view html) {
  std::string hashes;
  std::size_t pos = 0;
  while ((pos = html.find("<script", pos)) != std::string_view::npos) {
    std::size_t tag_end = html.find('>', pos);
    if (tag_end == std::string_view::npos) break;
    std::string_view tag = html.substr(pos, tag_end - pos);
    std::size_t close = html.find("</script", tag_end);
    if (close == std::string_view::npos) break;
    if (tag.find(" src=") == std::string_view::npos) {
      std::string_view code = html.substr(tag_end + 1, close - tag_end - 1);
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(code.data()), code.size(), digest);
      unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
      EVP_EncodeBlock(b64, digest, SHA256_DIGEST_LENGTH);
      hashes += " 'sha256-";
      hashes += reinterpret_cast<const char*>(b64);
      hashes += "'";
    }
    pos = close;
  }
  return "default-src 'self'; script-src 'self'" + hashes +
         "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob: https:; "
         "connect-src 'self' https:; font-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
         "form-action 'self'; frame-ancestors 'none'";
}

std::string StaticFiles::PolicyFor(const fs::path& html, std::uint64_t size, std::int64_t mtime_ns) const {
  std::string key = html.string() + '\n' + std::to_string(size) + '\n' + std::to_string(mtime_ns);
  {
    std::lock_guard lock(policies_mu_);
    if (auto it = policies_.find(key); it != policies_.end()) return it->second;
  }
  std::ifstream in(html, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string policy = ContentSecurityPolicyFor(text.str());
  std::lock_guard lock(policies_mu_);
  if (policies_.size() > 64) policies_.clear();  // old deploys
  policies_[key] = policy;
  return policy;
}

Result<std::string> DecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return InvalidArgument("malformed percent-encoding in path");
      int v = 0;
      auto [p, ec] = std::from_chars(path.data() + i + 1, path.data() + i + 3, v, 16);
      if (ec != std::errc() || p != path.data() + i + 3) {
        return InvalidArgument("malformed percent-encoding in path");
      }
      c = static_cast<char>(v);
      i += 2;
    }
    if (c == '\0') return InvalidArgument("NUL in path");
    out.push_back(c);
  }
  // Reject any ".." segment outright rather than normalising it.
  std::size_t start = 0;
  while (start <= out.size()) {
    std::size_t end = out.find('/', start);
    if (end == std::string::npos) end = out.size();
    if (std::string_view(out).substr(start, end - start) == "..") {
      return InvalidArgument("'..' in path");
    }
    start = end + 1;
  }
  return out;
}

Result<std::optional<ParsedRange>> ParseRangeHeader(std::string_view header, std::uint64_t size) {
  if (header.empty()) return std::optional<ParsedRange>{};
  if (header.substr(0, 6) != "bytes=") return std::optional<ParsedRange>{};
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::optional<ParsedRange>{};
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ParsedRange>{};
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto parse = [](std::string_view s, std::uint64_t& v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  ParsedRange r;
  if (a.empty()) {  // suffix: last N bytes
    std::uint64_t n = 0;
    if (!parse(b, n)) return std::optional<ParsedRange>{};
    if (n == 0 || size == 0) return Error{ErrorCode::kRangeNotSatisfiable, "empty suffix range"};
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return std::optional<ParsedRange>{r};
  }
  if (!parse(a, r.first)) return std::optional<ParsedRange>{};
  if (b.empty()) {
    r.last = size ? size - 1 : 0;
  } else if (!parse(b, r.last) || r.last < r.first) {
    return std::optional<ParsedRange>{};
  }
  if (r.first >= size) return Error{ErrorCode::kRangeNotSatisfiable, "range starts past the end"};
  if (r.last >= size) r.last = size - 1;
  return std::optional<ParsedRange>{r};
}

std::string_view MimeTypeFor(const fs::path& file) {
  std::string ext = file.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".gif") return "image/gif";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".woff") return "font/woff";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";
  if (ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".mp3") return "audio/mpeg";
  if (ext == ".m4a" || ext == ".aac") return "audio/mp4";
  if (ext == ".opus" || ext == ".ogg") return "audio/ogg";
  if (ext == ".flac") return "audio/flac";
  if (ext == ".wav") return "audio/wav";
  return "application/octet-stream";
}

namespace {

bool AcceptsEncoding(std::string_view accept, std::string_view coding) {
  // Token match with q=0 treated as refusal; good enough for br/gzip negotiation.
  std::size_t pos = 0;
  while (pos < accept.size()) {
    std::size_t end = accept.find(',', pos);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view item = accept.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view name = item.substr(0, item.find(';'));
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == coding || name == "*") {
      return item.find("q=0") == std::string_view::npos || item.find("q=0.") != std::string_view::npos;
    }
    pos = end + 1;
  }
  return false;
}

std::string ETagFor(const struct stat& st, std::string_view coding) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx%s%.*s\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                coding.empty() ? "" : "-", static_cast<int>(coding.size()), coding.data());
  return buf;
}

bool ETagMatches(std::string_view if_none_match, std::string_view etag) {
  // Weak comparison (RFC 9110 13.1.2): W/"x" matches "x"; the list form is searched whole.
  return if_none_match == "*" || if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

std::optional<Response> StaticFiles::Serve(const RequestContext& ctx) const {
  if (!enabled_) return std::nullopt;
  const Request& req = ctx.request;
  auto decoded = DecodePath(ctx.path);
  if (!decoded.ok()) return Response{Problem(decoded.error(), ctx)};
  std::string rel = decoded.value();
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";

  fs::path file = root_ / rel;
  struct stat st{};
  bool spa_fallback = false;
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    // App routes like /tracks/42 have no extension: hand them index.html so the client router
    // takes over. Missing assets (with an extension) stay 404.
    if (fs::path(rel).has_extension()) return std::nullopt;
    file = root_ / "index.html";
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    spa_fallback = true;
  }

  std::string_view accept = req[bhttp::field::accept_encoding];
  std::string_view coding;
  fs::path chosen = file;
  for (std::string_view candidate : {std::string_view("br"), std::string_view("gzip")}) {
    if (!AcceptsEncoding(accept, candidate)) continue;
    fs::path variant = file;
    variant += candidate == "br" ? ".br" : ".gz";
    struct stat vst{};
    if (::stat(variant.c_str(), &vst) == 0 && S_ISREG(vst.st_mode)) {
      chosen = variant;
      st = vst;
      coding = candidate;
      break;
    }
  }

  std::string etag = ETagFor(st, coding);
  std::string_view mime = MimeTypeFor(file);
  std::string policy;
  if (mime.rfind("text/html", 0) == 0) {
    struct stat hst{};  // the uncompressed page: its scripts are what the browser hashes
    if (::stat(file.c_str(), &hst) == 0)
      policy = PolicyFor(file, static_cast<std::uint64_t>(hst.st_size),
                         static_cast<std::int64_t>(hst.st_mtim.tv_sec) * 1'000'000'000 + hst.st_mtim.tv_nsec);
  }
  auto common = [&](auto& res) {
    res.set("Content-Security-Policy", policy.empty() ? kApiContentSecurityPolicy : policy);
    res.set("Referrer-Policy", kWebReferrerPolicy);
    res.set("X-Frame-Options", "DENY");
    res.set("Cross-Origin-Opener-Policy", "same-origin");
    res.set(bhttp::field::etag, etag);
    res.set(bhttp::field::last_modified,
            FormatHttpDate(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec)));
    res.set(bhttp::field::vary, "Accept-Encoding");
    res.set(bhttp::field::accept_ranges, "bytes");
    // Vite puts content-hashed files under assets/: cache them forever; everything else
    // (index.html above all) must be revalidated so a deploy shows at once.
    bool immutable = !spa_fallback && rel.rfind("assets/", 0) == 0;
    res.set(bhttp::field::cache_control, immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (!coding.empty()) res.set(bhttp::field::content_encoding, coding);
    res.keep_alive(req.keep_alive());
  };

  if (std::string_view inm = req[bhttp::field::if_none_match]; !inm.empty() && ETagMatches(inm, etag)) {
    StringResponse res{bhttp::status::not_modified, req.version()};
    common(res);
    return Response{std::move(res)};
  }

  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  std::optional<ParsedRange> range;
  std::string_view if_range = req[bhttp::field::if_range];
  if (if_range.empty() || if_range == etag) {
    auto parsed = ParseRangeHeader(req[bhttp::field::range], size);
    if (!parsed.ok()) {
      StringResponse res = Problem(parsed.error(), ctx);
      res.set(bhttp::field::content_range, "bytes */" + std::to_string(size));
      return Response{std::move(res)};
    }
    range = parsed.value();
  }

  RangedFile f;
  boost::beast::error_code ec;
  f.open(chosen.c_str(), boost::beast::file_mode::scan, ec);
  if (!ec && range) f.Restrict(range->first, range->last - range->first + 1, ec);
  FileBody::value_type body;
  if (!ec) body.reset(std::move(f), ec);
  if (ec) return Response{Problem(Internal("cannot open file"), ctx)};
  FileResponse res{range ? bhttp::status::partial_content : bhttp::status::ok, req.version()};
  common(res);
  res.set(bhttp::field::content_type, mime);
  if (range) {
    res.set(bhttp::field::content_range, "bytes " + std::to_string(range->first) + "-" +
                                             std::to_string(range->last) + "/" + std::to_string(size));
  }
  res.body() = std::move(body);
  res.prepare_payload();
  return Response{std::move(res)};
}

}  // namespace veza::http
