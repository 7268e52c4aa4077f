#pragma once
// /api/v1/auth/* and /api/v1/users/me over the auth service.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/auth_service.h"

namespace veza::http {

void AddAuthRoutes(Router& router, auth::AuthService& auth, boost::asio::thread_pool& workers);

// The principal behind "Authorization: Bearer <access token>", or 401.
Result<auth::Principal> Authenticate(auth::AuthService& auth, const RequestContext& ctx);

}  // namespace veza::http
