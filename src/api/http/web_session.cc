#include "api/http/web_session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "services/auth/signing_keys.h"

namespace veza::http {

namespace {

std::string Cookie(std::string_view name, std::string_view value, std::int64_t max_age,
                   bool http_only, std::string_view same_site) {
  std::string c = std::string(name) + "=" + std::string(value) +
                  "; Path=/; Secure; SameSite=" + std::string(same_site) +
                  "; Max-Age=" + std::to_string(max_age);
  if (http_only) c += "; HttpOnly";
  return c;
}

}  // namespace

std::string CookieValue(const Request& request, std::string_view name) {
  auto [first, last] = request.equal_range(bhttp::field::cookie);
  for (auto it = first; it != last; ++it) {
    std::string_view header = it->value();
    while (!header.empty()) {
      std::size_t end = header.find(';');
      std::string_view pair = header.substr(0, end);
      header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name)
        return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

bool WantsCookieSession(const RequestContext& ctx) {
  return boost::beast::iequals(ctx.request[kSessionModeHeader], "cookie");
}

std::string CsrfTokenFor(std::string_view refresh_token) {
  static constexpr std::string_view kLabel = "veza-csrf-v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), refresh_token.data(), static_cast<int>(refresh_token.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac, &len);
  return auth::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

void SetSessionCookies(StringResponse& res, const auth::TokenPair& tokens, std::int64_t now_unix) {
  std::int64_t max_age = std::max<std::int64_t>(0, tokens.refresh_expires_at - now_unix);
  res.insert(bhttp::field::set_cookie,
             Cookie(kRefreshCookie, tokens.refresh_token, max_age, true, "Strict"));
  res.insert(bhttp::field::set_cookie,
             Cookie(kCsrfCookie, CsrfTokenFor(tokens.refresh_token), max_age, false, "Strict"));
}

void ClearSessionCookies(StringResponse& res) {
  res.insert(bhttp::field::set_cookie, Cookie(kRefreshCookie, "", 0, true, "Strict"));
  res.insert(bhttp::field::set_cookie, Cookie(kCsrfCookie, "", 0, false, "Strict"));
}

void SetOAuthCookie(StringResponse& res, std::string_view binding, int max_age_seconds) {
  res.insert(bhttp::field::set_cookie, Cookie(kOAuthCookie, binding, max_age_seconds, true, "Lax"));
}

std::string OriginOf(std::string_view url) {
  std::size_t start = url.find("://");
  if (start == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, url.find_first_of("/?#", start + 3)));
}

Status CheckCsrf(const RequestContext& ctx, std::string_view refresh_token,
                 std::string_view public_origin) {
  const Error refused{ErrorCode::kPermissionDenied, "cross-site request refused (CSRF protection)"};
  std::string_view site = ctx.request["Sec-Fetch-Site"];
  if (boost::beast::iequals(site, "cross-site")) return refused;
  std::string_view origin = ctx.request[bhttp::field::origin];
  if (!origin.empty() && origin != public_origin) return refused;
  std::string_view presented = ctx.request[kCsrfHeader];
  std::string expected = CsrfTokenFor(refresh_token);
  if (presented.size() != expected.size() ||
      CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) != 0) {
    return Error{ErrorCode::kPermissionDenied, "missing or wrong X-CSRF-Token header"};
  }
  return Ok();
}

}  // namespace veza::http
