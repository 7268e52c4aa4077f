#pragma once
// tus 1.0 resumable uploads at /api/v1/uploads (creation, expiration, checksum, termination),
// for tus-js-client in browsers and any tus client: OPTIONS (capabilities), POST (create with
// Upload-Length and Upload-Metadata: filename, filetype, title, visibility), HEAD (offset, to
// resume), PATCH (application/offset+octet-stream at Upload-Offset; 409 on a mismatch; 460 on a
// checksum mismatch, the chunk discarded), DELETE (terminate). Every call but OPTIONS needs
// Tus-Resumable: 1.0.0 (else 412) and the creator's bearer token. The PATCH that completes the
// upload answers Upload-Track-Id and Location of the new track.
#include <boost/asio/thread_pool.hpp>
#include <cstdint>

#include "api/http/router.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/tracks/upload_service.h"

namespace veza::http {

void AddUploadRoutes(Router& router, auth::AuthService& auth, auth::AdminService& admin,
                     tracks::UploadService& uploads, std::int64_t max_size,
                     boost::asio::thread_pool& workers);

}  // namespace veza::http
