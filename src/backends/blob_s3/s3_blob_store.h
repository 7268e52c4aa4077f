#pragma once
// BlobStore on Amazon S3 or an S3-compatible service, spoken directly over HTTP/1.1 with
// SigV4 signatures (the AWS SDK is not packaged in Debian 12). URL format: s3_options.h.
//
// Objects under the part size go up in one PUT; larger ones stream out as a multipart upload
// holding one part in memory, aborted if the writer is dropped. Reads stream the body. Open()
// checks the endpoint, the bucket and the credentials, and fails with a message naming the
// endpoint and the bucket.
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/blob_store.h"

namespace veza {

Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(std::string_view url);

}  // namespace veza
