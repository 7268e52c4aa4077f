#pragma once
// /api/v1/admin/*: user list and search, role changes and suspension, the audit log. Every
// route checks the caller's current role through api/http/authorization.h.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/moderation/track_takedowns.h"

namespace veza::http {

void AddAdminRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                    boost::asio::thread_pool& workers);

// /api/v1/admin/tracks/...: take a track down, restore it, list the taken-down ones (moderator
// and above). docs/moderation.md.
void AddTrackTakedownRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                            moderation::TrackTakedowns& takedowns, boost::asio::thread_pool& workers);

}  // namespace veza::http
