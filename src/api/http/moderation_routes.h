#pragma once
// Chat moderation over REST for the admin dashboard (/api/v1/moderation/...): reports (any
// signed-in user files one; moderators list and resolve them), mutes/kicks/bans with expiry and
// lifting, the word filter list, and deleting a message. Moderator role and above, re-read from
// the database on each call; global mutes and bans need admin. docs/moderation.md.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/moderation/moderation_service.h"

namespace veza::http {

void AddModerationRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                         moderation::ModerationService& moderation, boost::asio::thread_pool& workers);

}  // namespace veza::http
