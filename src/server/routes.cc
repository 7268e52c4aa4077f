#include "server/routes.h"

#include <algorithm>

#include "api/http/admin_routes.h"
#include "api/http/analytics_routes.h"
#include "api/http/auth_routes.h"
#include "api/http/avatar_routes.h"
#include "api/http/chat_routes.h"
#include "api/http/search_routes.h"
#include "api/http/email_routes.h"
#include "api/http/notification_routes.h"
#include "api/http/moderation_routes.h"
#include "api/http/oauth_routes.h"
#include "api/http/playlist_cover_routes.h"
#include "api/http/social_routes.h"
#include "api/http/system_routes.h"
#include "api/http/track_routes.h"
#include "api/http/upload_routes.h"

namespace veza::server {

void RegisterRoutes(http::Router& router, RouteDeps deps) {
  Backends& b = deps.backends;
  std::vector<http::ReadinessCheck> checks = {
      {"database", [db = b.database.get()] { return db->Ping(); }},
      {"blobs", [blobs = b.blobs.get()] { return blobs->Ping(); }},
      {"bus", [bus = b.bus.get()] { return bus->Ping(); }},
      {"cache", [cache = b.cache.get()] { return cache->Ping(); }},
  };
  http::AddSystemRoutes(router, deps.metrics, deps.workers, std::move(checks),
                        {VEZA_VERSION_STRING, deps.roles});
  // Every node answers the system routes above (health, readiness, metrics, version); the
  // `http` role adds the REST API, the `ws` role the chat WebSocket (docs/operations.md).
  const bool api = HasRole(deps.roles, "http"), chat_socket = HasRole(deps.roles, "ws");
  router.AdmitOnly([api, chat_socket](std::string_view pattern) { return pattern == "/ws" ? chat_socket : api; });
  http::AddAuthRoutes(router, deps.auth, deps.workers, deps.public_url,
                      [&social = deps.social](const User& user, std::string_view viewer_id) {
                        return http::ProfileCountersJson(social, user.id, viewer_id);
                      });
  http::AddAdminRoutes(router, deps.auth, deps.admin, deps.workers);
  http::AddEmailRoutes(router, deps.auth, deps.email, deps.workers);
  http::AddChatRoutes(router, deps.auth, deps.chat, *b.bus, *b.cache, deps.workers, {}, deps.moderation, &deps.metrics);
  http::AddTrackRoutes(router, deps.auth, deps.admin, deps.tracks, deps.workers);
  http::AddUploadRoutes(router, deps.auth, deps.admin, deps.uploads, deps.tracks.options().max_upload_bytes,
                        deps.workers);
  http::AddOAuthRoutes(router, deps.auth, deps.oauth, deps.workers, deps.public_url);
  http::AddAvatarRoutes(router, deps.auth, deps.avatars, deps.workers);
  http::AddSearchRoutes(router, deps.auth, deps.admin, deps.search, deps.tracks, deps.workers);
  http::AddNotificationRoutes(router, deps.auth, deps.notifications, deps.workers);
  http::AddSocialRoutes(router, deps.auth, deps.admin, deps.tracks, deps.social, deps.workers);
  http::AddAnalyticsRoutes(router, deps.auth, deps.admin, deps.tracks, deps.analytics, deps.workers);
  http::AddPlaylistCoverRoutes(router, deps.auth, deps.admin, deps.playlist_covers, deps.workers);
  if (deps.moderation) http::AddModerationRoutes(router, deps.auth, deps.admin, *deps.moderation, deps.workers);
  if (deps.takedowns) http::AddTrackTakedownRoutes(router, deps.auth, deps.admin, *deps.takedowns, deps.workers);
  router.AdmitOnly(nullptr);
}

bool HasRole(std::string_view roles, std::string_view role) {
  while (!roles.empty()) {
    std::string_view item = roles.substr(0, roles.find(','));
    if (item == role) return true;
    roles.remove_prefix(std::min(roles.size(), item.size() + 1));
  }
  return false;
}

}  // namespace veza::server
