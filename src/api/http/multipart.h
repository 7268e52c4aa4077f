#pragma once
// multipart/form-data (RFC 7578) parsed as the body arrives, with no I/O of its own: the caller
// appends what it read and asks for the next step. Text fields are gathered in memory (bounded);
// the one `file` part comes out as data pieces the caller stores, so a file of any size passes
// through a small buffer. Fuzzed by fuzz/multipart_fuzzer.cc (whole = in pieces).
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace veza::http {

// name="value" or name=value inside a header value such as Content-Type or
// Content-Disposition; empty when absent. Quotes are not unescaped (browsers percent-encode or
// drop the odd characters in file names).
std::string_view HeaderParam(std::string_view header, std::string_view param);

struct MultipartLimits {
  std::size_t max_fields = 10;          // text parts
  std::size_t max_field_bytes = 4096;   // each text part's value
  std::size_t max_part_header_bytes = 8192;
  std::size_t max_preamble_bytes = 4096;
};

class MultipartParser {
 public:
  // kUnsupportedMediaType unless content_type is multipart/form-data; kInvalidArgument for a
  // missing boundary or one over RFC 2046's 70 characters.
  static Result<MultipartParser> ForContentType(std::string_view content_type, MultipartLimits limits = {});

  enum class Step {
    kNeedMore,   // append more body (or say eof)
    kFileStart,  // the `file` part begins: filename() and file_content_type() are set
    kFileData,   // file_data() holds the next bytes of the file
    kFileEnd,
    kDone,       // the closing delimiter was read: fields() and the file are complete
  };

  void Append(std::string_view bytes) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    buffer_.append(bytes);
  }
  // eof: nothing more will be appended. Errors (kInvalidArgument) name what is malformed; after
  // an error or kDone the parser must not be used again.
  Result<Step> Next(bool eof);

  // Valid until the next call of Next or Append.
  std::string_view file_data() const { return file_data_; }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  bool has_file() const { return has_file_; }
  const std::string& filename() const { return filename_; }            // at most 255 bytes
  const std::string& file_content_type() const { return file_type_; }  // at most 100 bytes

 private:
  MultipartParser(std::string_view boundary, MultipartLimits limits);
  Result<Step> NextPart();
  void RememberScan(std::size_t pattern_size);

  enum class State { kPreamble, kHeaders, kField, kFile, kDone };
  State state_ = State::kPreamble;
  MultipartLimits limits_;
  std::string first_;      // "--boundary"
  std::string delimiter_;  // "\r\n--boundary"
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already handed out (file data), erased lazily
  std::size_t scanned_ = 0;   // preamble/headers: where the next search for their end starts
  std::string_view file_data_;
  std::vector<std::pair<std::string, std::string>> fields_;
  std::string field_name_, field_value_;
  bool has_file_ = false;
  std::string filename_, file_type_;
};

}  // namespace veza::http
