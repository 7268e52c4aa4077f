#pragma once
// GET /api/v1/search: tracks, users, public rooms and playlists, ranked and typo tolerant
// (services/search). Tracks come back as the tracks API shows them, with signed stream URLs.
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/search/search_service.h"
#include "services/tracks/track_service.h"

namespace veza::http {

void AddSearchRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     search::SearchService& search, tracks::TrackService& tracks,
                     boost::asio::thread_pool& workers);

}  // namespace veza::http
