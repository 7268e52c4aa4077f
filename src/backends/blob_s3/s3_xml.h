#pragma once
// The few S3 XML documents Veza reads (ListObjectsV2, multipart upload replies, errors), parsed
// by hand: S3 replies are flat, machine-written XML with no CDATA, so finding elements by name
// and unescaping entities is enough, and a full XML library would be a dependency for nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ports/blob_store.h"

namespace veza::s3 {

// Replaces the five predefined entities and numeric character references (&#NN; &#xNN;) with
// the characters they stand for (UTF-8). Unknown or malformed references are kept verbatim.
std::string XmlUnescape(std::string_view text);

// The raw (still escaped) content of the first element named `name` at any depth, or nullopt.
// "<Key>" does not match "<KeyCount>"; a self-closing "<Name/>" yields "".
std::optional<std::string_view> XmlFindElement(std::string_view xml, std::string_view name);
// The raw content of every element named `name` (elements of that name must not nest).
std::vector<std::string_view> XmlFindAll(std::string_view xml, std::string_view name);

struct ListPage {
  std::vector<BlobInfo> items;  // etag unquoted
  bool truncated = false;
  std::string next_token;
};
Result<ListPage> ParseListObjectsV2(std::string_view xml);

struct S3ErrorBody {
  std::string code;     // "NoSuchKey"
  std::string message;  // "The specified key does not exist."
};
// nullopt when the body is not an <Error> document.
std::optional<S3ErrorBody> ParseErrorBody(std::string_view xml);

Result<std::string> ParseUploadId(std::string_view xml);
// CompleteMultipartUpload can fail with 200 OK and an <Error> body; that comes back as an error.
Result<std::string> ParseCompleteEtag(std::string_view xml);

// ETags arrive quoted ("\"abc\""); BlobInfo carries them bare.
std::string StripQuotes(std::string_view etag);

// "2009-10-12T17:50:30.000Z" (S3 listings) and "Wed, 12 Oct 2009 17:50:00 GMT" (HTTP
// headers) as Unix seconds; nullopt when malformed.
std::optional<std::int64_t> ParseIso8601(std::string_view text);
std::optional<std::int64_t> ParseHttpDate(std::string_view text);

}  // namespace veza::s3
