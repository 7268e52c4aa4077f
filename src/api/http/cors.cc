#include "api/http/cors.h"

namespace veza::http {

bool Cors::AllowsAny() const {
  for (const auto& o : options_.allowed_origins)
    if (o == "*") return true;
  return false;
}

bool Cors::Allowed(std::string_view origin) const {
  for (const auto& o : options_.allowed_origins)
    if (o == "*" || o == origin) return true;
  return false;
}

bool Cors::IsPreflight(const Request& req) const {
  return req.method() == bhttp::verb::options && req.count(bhttp::field::origin) &&
         req.count(bhttp::field::access_control_request_method);
}

StringResponse Cors::Preflight(const Request& req) const {
  StringResponse res{bhttp::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  std::string_view origin = req[bhttp::field::origin];
  if (Allowed(origin)) {
    bool any = AllowsAny();
    res.set(bhttp::field::access_control_allow_origin, any ? std::string_view("*") : origin);
    if (!any) res.set(bhttp::field::vary, "Origin");
    if (options_.allow_credentials && !any) res.set(bhttp::field::access_control_allow_credentials, "true");
    res.set(bhttp::field::access_control_allow_methods, options_.allowed_methods);
    res.set(bhttp::field::access_control_allow_headers, options_.allowed_headers);
    res.set(bhttp::field::access_control_max_age, std::to_string(options_.max_age_seconds));
  }
  // A disallowed origin gets a 204 without allow headers: the browser then blocks the call.
  res.prepare_payload();
  return res;
}

}  // namespace veza::http
