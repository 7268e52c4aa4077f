#pragma once
// /api/v1/auth/* and /api/v1/users/me over the auth service.
#include <boost/asio/thread_pool.hpp>

#include <boost/json/object.hpp>
#include <functional>
#include <string>

#include "api/http/router.h"
#include "services/auth/auth_service.h"

namespace veza::http {

// Fields other services add to the public profile (the social counters, and whether the caller
// follows the user: viewer_id is empty for anonymous callers). Blocking.
using ProfileExtras = std::function<Result<boost::json::object>(const User& user, std::string_view viewer_id)>;

// public_url: the web app's origin, the only Origin cookie-authenticated calls may come from.
void AddAuthRoutes(Router& router, auth::AuthService& auth, boost::asio::thread_pool& workers,
                   std::string public_url, ProfileExtras profile_extras = {});

// The answer to a completed sign-in: tokens in the body for API clients; for web clients
// (X-Veza-Session: cookie) the refresh token goes into cookies instead (web_session.h).
StringResponse SignedInResponse(bhttp::status status, const auth::SignedIn& s, const RequestContext& ctx);
// The JSON of an account as its owner sees it.
boost::json::object PrivateUserJson(const User& u);

// The principal behind "Authorization: Bearer <access token>", or 401.
Result<auth::Principal> Authenticate(auth::AuthService& auth, const RequestContext& ctx);

}  // namespace veza::http
