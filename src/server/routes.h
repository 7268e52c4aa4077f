#pragma once
// Every HTTP route of the server, registered in one place so the OpenAPI coverage test sees
// exactly what `veza serve` serves.
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "api/http/metrics.h"
#include "api/http/router.h"
#include "server/backends.h"
#include "services/analytics/analytics_service.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/auth/avatar_service.h"
#include "services/auth/email_service.h"
#include "services/auth/oauth_service.h"
#include "services/chat/chat_service.h"
#include "services/search/search_service.h"
#include "services/notifications/notification_service.h"
#include "services/social/playlist_cover_service.h"
#include "services/social/social_service.h"
#include "services/moderation/moderation_service.h"
#include "services/moderation/track_takedowns.h"
#include "services/tracks/track_service.h"
#include "services/tracks/upload_service.h"

namespace veza::server {

struct RouteDeps {
  http::Metrics& metrics;
  boost::asio::thread_pool& workers;
  Backends& backends;
  auth::AuthService& auth;
  auth::AdminService& admin;
  auth::EmailService& email;
  chat::ChatService& chat;
  tracks::TrackService& tracks;
  tracks::UploadService& uploads;
  auth::OAuthService& oauth;
  auth::AvatarService& avatars;
  search::SearchService& search;
  notifications::NotificationService& notifications;
  std::string roles;  // comma-separated --roles: which routes this node serves
  std::string public_url;  // the web app's base URL (cookies are accepted only from its origin)
  social::SocialService& social;
  analytics::AnalyticsService& analytics;
  social::PlaylistCoverService& playlist_covers;
  moderation::ModerationService* moderation = nullptr;  // chat moderation (docs/moderation.md)
  moderation::TrackTakedowns* takedowns = nullptr;      // track takedowns (admin dashboard)
};

void RegisterRoutes(http::Router& router, RouteDeps deps);

// True when the comma-separated role list (as RouteDeps::roles) names `role`.
bool HasRole(std::string_view roles, std::string_view role);

}  // namespace veza::server
