#pragma once
// Social routes (docs/social.md): follows, likes, reposts, timestamped comments, playlists,
// the home feed and discover. Handlers parse, call the SocialService on the worker pool, encode.
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/social/social_service.h"
#include "services/tracks/track_service.h"

namespace veza::http {

void AddSocialRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     tracks::TrackService& tracks, social::SocialService& social,
                     boost::asio::thread_pool& workers);

// The counters a public profile shows (followers, following, tracks, plays, likes). Blocking.
// viewer_id: the caller (empty: anonymous), told whether they follow the user (followed_by_me).
Result<boost::json::object> ProfileCountersJson(social::SocialService& social, std::string_view user_id,
                                                std::string_view viewer_id);

}  // namespace veza::http
