#pragma once
// Analytics (docs/analytics.md): POST /api/v1/tracks/{id}/play-events from players,
// POST /api/v1/users/{username}/views from profile pages,
// GET /api/v1/analytics/tracks/{id} and /api/v1/analytics/me for creators (owner, or moderator+
// for tracks that are not private), GET /api/v1/admin/stats for moderators.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/analytics/analytics_service.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/tracks/track_service.h"

namespace veza::http {

void AddAnalyticsRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                        tracks::TrackService& tracks, analytics::AnalyticsService& analytics,
                        boost::asio::thread_pool& workers);

}  // namespace veza::http
