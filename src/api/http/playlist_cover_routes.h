#pragma once
// PUT/DELETE/GET /api/v1/playlists/{id}/cover: the playlist's owner sets or removes its cover
// (the body is the image); whoever may see the playlist reads it (?size=512|128).
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/social/playlist_cover_service.h"

namespace veza::http {

void AddPlaylistCoverRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                            social::PlaylistCoverService& covers, boost::asio::thread_pool& workers);

}  // namespace veza::http
