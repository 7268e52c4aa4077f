#pragma once
// /api/v1/auth/oauth/* (sign-in and linking with outside providers) and
// /api/v1/auth/identities (the linked accounts).
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "api/http/router.h"
#include "services/auth/auth_service.h"
#include "services/auth/oauth_service.h"

namespace veza::http {

void AddOAuthRoutes(Router& router, auth::AuthService& auth, auth::OAuthService& oauth,
                    boost::asio::thread_pool& workers, std::string public_url);

}  // namespace veza::http
