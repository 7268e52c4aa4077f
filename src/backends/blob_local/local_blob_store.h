#pragma once
// BlobStore on a local directory: a key "audio/ab/cd.flac" is the file <root>/audio/ab/cd.flac.
// For a single node and for development; several processes may share the directory.
//
// URL: file://./data/blobs (relative to the working directory) or file:///abs/dir. The
// directory is created if missing.
//
// Writes go to <root>/.tmp/ and are fsync'ed and renamed into place at Commit, so a reader sees
// the old object or the whole new one, never a part; keys starting with ".tmp/" are therefore
// not valid here. Unlike S3, a directory cannot also be an object: with
// "a/b" stored, writing "a" fails with kConflict (and the other way round). No presigned URLs:
// Veza serves these bytes itself.
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/blob_store.h"

namespace veza {

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(std::string_view url);

}  // namespace veza
