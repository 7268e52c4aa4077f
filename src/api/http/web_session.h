#pragma once
// Refresh tokens for browsers, in cookies, with CSRF protection (docs/security.md, "Web
// sessions").
//
// API clients get the refresh token in the JSON body and send it back in the body. A web client
// asks for cookies with the request header `X-Veza-Session: cookie` on register, login, the
// second login step and OAuth callbacks; then:
//   __Host-veza_refresh  the refresh token: HttpOnly, Secure, SameSite=Strict, Path=/, so
//                        script never sees it and browsers send it only to this origin;
//   __Host-veza_csrf     the CSRF token, readable by the app's script (not HttpOnly).
// The CSRF token is HMAC-SHA256 keyed by the refresh token (a signed double-submit token, as
// OWASP's CSRF cheat sheet recommends): only someone who holds the refresh cookie can compute
// it, so a cookie planted from a sibling subdomain cannot be matched by a forged header.
// POST /auth/refresh with an empty body uses the cookie and must carry the token in
// `X-CSRF-Token`; a request that says it is cross-site (`Sec-Fetch-Site: cross-site`) or comes
// from another Origin than --public-url is refused first (defence in depth behind SameSite).
#include <string>
#include <string_view>

#include "api/http/message.h"
#include "base/result.h"
#include "services/auth/auth_service.h"

namespace veza::http {

inline constexpr std::string_view kRefreshCookie = "__Host-veza_refresh";
inline constexpr std::string_view kCsrfCookie = "__Host-veza_csrf";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr std::string_view kSessionModeHeader = "X-Veza-Session";
// Binds an OAuth sign-in to the browser that started it. SameSite=Lax, not Strict: the callback
// is a top-level navigation from the provider's site, and Strict cookies are not sent on it.
inline constexpr std::string_view kOAuthCookie = "__Host-veza_oauth";

// The value of a cookie in the request's Cookie header(s); empty when absent.
std::string CookieValue(const Request& request, std::string_view name);

// True when the client asked for cookies (X-Veza-Session: cookie).
bool WantsCookieSession(const RequestContext& ctx);

std::string CsrfTokenFor(std::string_view refresh_token);

// Adds both session cookies (Max-Age until the refresh token expires).
void SetSessionCookies(StringResponse& res, const auth::TokenPair& tokens, std::int64_t now_unix);
// Adds expired copies of both, which browsers drop.
void ClearSessionCookies(StringResponse& res);
void SetOAuthCookie(StringResponse& res, std::string_view binding, int max_age_seconds);

// For a cookie-authenticated request: kPermissionDenied when Sec-Fetch-Site says cross-site,
// when Origin is present and is not public_origin, or when X-CSRF-Token does not match.
Status CheckCsrf(const RequestContext& ctx, std::string_view refresh_token,
                 std::string_view public_origin);

// scheme://host[:port] of a URL.
std::string OriginOf(std::string_view url);

}  // namespace veza::http
