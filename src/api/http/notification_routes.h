#pragma once
// GET /api/v1/notifications, POST /api/v1/notifications/read, GET /api/v1/notifications/unread-count.
// The live push is the `notification` frame on /ws (chat_routes.cc; docs/websocket.md).
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/auth_service.h"
#include "services/notifications/notification_service.h"

namespace veza::http {

void AddNotificationRoutes(Router& router, auth::AuthService& auth,
                           notifications::NotificationService& notifications, boost::asio::thread_pool& workers);

}  // namespace veza::http
