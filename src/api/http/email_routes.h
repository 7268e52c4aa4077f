#pragma once
// Email verification and password reset: /api/v1/auth/email/verify[/request] and
// /api/v1/auth/password/{forgot,reset}, over the email service.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/auth_service.h"
#include "services/auth/email_service.h"

namespace veza::http {

void AddEmailRoutes(Router& router, auth::AuthService& auth, auth::EmailService& email,
                    boost::asio::thread_pool& workers);

}  // namespace veza::http
