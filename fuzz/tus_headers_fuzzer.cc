// libFuzzer target for the tus upload headers (src/api/http/tus_headers.h): Upload-Length and
// Upload-Offset, Upload-Metadata, Upload-Checksum and their base64. The first byte picks the
// header, the rest is its value. Invariants: accepted numbers are non-negative; metadata keeps
// its length caps; a checksum's digest has its algorithm's size.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http/tus_headers.h"

using namespace veza;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto n = http::ParseTusInteger(value, "Upload-Offset");
      if (n && *n < 0) __builtin_trap();
      break;
    }
    case 1: {
      auto d = http::ParseMetadata(value);
      if (d && (d->filename.size() > 255 || d->content_type.size() > 100 || d->title.size() > 200))
        __builtin_trap();
      break;
    }
    case 2: {
      auto c = http::ParseChecksum(value);
      if (c && *c) {
        std::size_t want = (*c)->algorithm == tracks::ChecksumAlgorithm::kSha1 ? 20 : 32;
        if ((*c)->digest.size() != want) __builtin_trap();
      }
      break;
    }
    default: {
      auto decoded = http::Base64Decode(value);
      if (decoded && decoded->size() > value.size()) __builtin_trap();
      break;
    }
  }
  return 0;
}
