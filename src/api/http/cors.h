#pragma once
// CORS for browser clients on other origins. Same-origin use (the web app served by veza)
// needs none of it; the default allows no cross-origin caller.
#include <string>
#include <vector>

#include "api/http/message.h"

namespace veza::http {

struct CorsOptions {
  std::vector<std::string> allowed_origins;  // exact origins, or "*" for any (no credentials then)
  bool allow_credentials = false;
      std::string allowed_methods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
      // Range and conditionals for players fetching audio with fetch/XHR (hls.js); the tus
      // headers for resumable uploads from browsers (tus-js-client); the web session headers.
      std::string allowed_headers =
          "Authorization, Content-Type, X-Request-Id, Idempotency-Key, X-Veza-Session, X-CSRF-Token, Range, "
          "If-Range, If-None-Match, Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, "
          "Upload-Defer-Length, Upload-Concat, X-HTTP-Method-Override";
      std::string exposed_headers =
          "X-Request-Id, Location, Retry-After, Content-Range, Accept-Ranges, Content-Length, ETag, "
          "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Upload-Offset, "
          "Upload-Length, Upload-Expires, Upload-Metadata, Upload-Track-Id";
  int max_age_seconds = 600;
};

class Cors {
 public:
  explicit Cors(CorsOptions options) : options_(std::move(options)) {}
  // A preflight (OPTIONS with Origin and Access-Control-Request-Method) answered here.
  bool IsPreflight(const Request& req) const;
  StringResponse Preflight(const Request& req) const;
  // Adds the allow headers to an actual response when the origin is allowed.
  template <class Fields>
  void Decorate(const Request& req, Fields& res) const {
    std::string_view origin = req[bhttp::field::origin];
    if (origin.empty() || !Allowed(origin)) return;
    bool any = AllowsAny();
    res.set(bhttp::field::access_control_allow_origin, any ? std::string_view("*") : origin);
    if (!any) res.set(bhttp::field::vary, "Origin");
    if (options_.allow_credentials && !any) res.set(bhttp::field::access_control_allow_credentials, "true");
    res.set(bhttp::field::access_control_expose_headers, options_.exposed_headers);
  }

 private:
  bool Allowed(std::string_view origin) const;
  bool AllowsAny() const;
  CorsOptions options_;
};

}  // namespace veza::http
