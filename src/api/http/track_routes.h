#pragma once
// /api/v1/tracks/*, /api/v1/users/me/tracks and /api/v1/users/{username}/tracks: create
// (multipart), list, read, edit, delete, plays, and delivery (progressive with ranges, HLS,
// signed URLs, S3/CDN redirects). Handlers parse, call the TrackService on the worker pool,
// encode.
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/tracks/track_service.h"

namespace veza::http {

void AddTrackRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                    tracks::TrackService& tracks, boost::asio::thread_pool& workers);

// The viewer behind an optional bearer token: anonymous without an Authorization header, 401
// for a bad one. moderator comes from the role in the database now. Blocking.
Result<tracks::Viewer> OptionalViewer(auth::AuthService& auth, auth::AdminService& admin,
                                      const RequestContext& ctx);
// The same, but a token is required.
Result<tracks::Viewer> RequiredViewer(auth::AuthService& auth, auth::AdminService& admin,
                                      const RequestContext& ctx);

// A track as the viewer sees it; token (TrackService::StreamToken) adds stream_url and hls_url.
boost::json::object TrackJson(const tracks::Track& t, const tracks::Viewer& viewer,
                              const std::optional<std::string>& token);

// Serves one of a track's files as the Delivery says: local files with ETag, If-None-Match,
// If-Range, Last-Modified and one byte range (206/416); redirects; inline bytes.
Response ServeDelivery(const RequestContext& ctx, const tracks::Delivery& delivery,
                       bool shared_cache);

}  // namespace veza::http
