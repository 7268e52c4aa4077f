#pragma once
// PUT/DELETE /api/v1/users/me/avatar and GET /api/v1/users/{username}/avatar.
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "api/http/router.h"
#include "services/auth/auth_service.h"
#include "services/auth/avatar_service.h"

namespace veza::http {

inline constexpr std::string_view kAvatarUploadPath = "/api/v1/users/me/avatar";

void AddAvatarRoutes(Router& router, auth::AuthService& auth, auth::AvatarService& avatars,
                     boost::asio::thread_pool& workers);

// {"512": url, "128": url} for a user's avatar, or null when there is none. The URLs hold the
// hash, so they are cacheable for ever.
boost::json::value AvatarJson(std::string_view username, std::string_view hash);

// A stored JPEG (avatar or cover) answered with its ETag: 304 when the client has it; cached for
// ever when the URL names the image's hash (pinned), revalidated otherwise. scope: "public", or
// "private" for an image only some may see.
Response JpegResponse(const RequestContext& ctx, std::string jpeg, const std::string& etag, bool pinned,
                      std::string_view scope);

}  // namespace veza::http
