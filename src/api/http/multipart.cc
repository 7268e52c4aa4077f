#include "api/http/multipart.h"

#include <boost/beast/core/string.hpp>

namespace veza::http {

std::string_view HeaderParam(std::string_view header, std::string_view param) {
  std::size_t pos = 0;
  while ((pos = header.find(param, pos)) != std::string_view::npos) {
    bool boundary_before = pos == 0 || header[pos - 1] == ' ' || header[pos - 1] == ';';
    std::size_t eq = pos + param.size();
    if (boundary_before && eq < header.size() && header[eq] == '=') {
      std::string_view rest = header.substr(eq + 1);
      if (!rest.empty() && rest.front() == '"') {
        auto close = rest.find('"', 1);
        return close == std::string_view::npos ? std::string_view() : rest.substr(1, close - 1);
      }
      return rest.substr(0, rest.find(';'));
    }
    pos = eq;
  }
  return {};
}

Result<MultipartParser> MultipartParser::ForContentType(std::string_view content_type, MultipartLimits limits) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!boost::beast::iequals(media, "multipart/form-data")) {
    return Error{ErrorCode::kUnsupportedMediaType, "the body must be multipart/form-data"};
  }
  std::string_view boundary = HeaderParam(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 70) return InvalidArgument("multipart boundary missing or too long");
  return MultipartParser(boundary, limits);
}

MultipartParser::MultipartParser(std::string_view boundary, MultipartLimits limits)
    : limits_(limits), first_("--" + std::string(boundary)), delimiter_("\r\n--" + std::string(boundary)) {}

Result<MultipartParser::Step> MultipartParser::Next(bool eof) {
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  file_data_ = {};
  VEZA_ASSIGN_OR_RETURN(Step step, NextPart());
  if (step == Step::kNeedMore && eof) return InvalidArgument("multipart body ends inside a part");
  return step;
}

// A slow client sending a byte at a time must not make each read rescan what is buffered: the
// next search starts where a match could still begin.
void MultipartParser::RememberScan(std::size_t pattern_size) {
  scanned_ = buffer_.size() >= pattern_size ? buffer_.size() - pattern_size + 1 : 0;
}

Result<MultipartParser::Step> MultipartParser::NextPart() {
  while (true) {
    switch (state_) {
      case State::kDone:
        return Step::kDone;

      case State::kPreamble: {
        // The limits are on positions, not on how much is buffered, so the outcome does not
        // depend on how the body was cut into reads.
        auto at = buffer_.find(first_, scanned_);
        if (at == std::string::npos ? buffer_.size() >= limits_.max_preamble_bytes + first_.size()
                                    : at > limits_.max_preamble_bytes) {
          return InvalidArgument("malformed multipart body");
        }
        if (at == std::string::npos) {
          RememberScan(first_.size());
          return Step::kNeedMore;
        }
        if (buffer_.size() < at + first_.size() + 2) return Step::kNeedMore;
        if (buffer_.compare(at + first_.size(), 2, "\r\n") != 0) return InvalidArgument("malformed multipart body");
        buffer_.erase(0, at + first_.size() + 2);
        scanned_ = 0;
        state_ = State::kHeaders;
        break;
      }

      case State::kHeaders: {
        auto end = buffer_.find("\r\n\r\n", scanned_);
        if (end == std::string::npos ? buffer_.size() >= limits_.max_part_header_bytes + 4
                                     : end > limits_.max_part_header_bytes) {
          return InvalidArgument("multipart part headers too long");
        }
        if (end == std::string::npos) {
          RememberScan(4);
          return Step::kNeedMore;
        }
        std::string_view headers(buffer_.data(), end);
        std::string name, filename, type;
        while (!headers.empty()) {
          std::string_view line = headers.substr(0, headers.find("\r\n"));
          headers.remove_prefix(std::min(headers.size(), line.size() + 2));
          auto colon = line.find(':');
          if (colon == std::string_view::npos) return InvalidArgument("malformed multipart part header");
          std::string_view key = line.substr(0, colon), value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          if (boost::beast::iequals(key, "content-disposition")) {
            name = HeaderParam(value, "name");
            filename = HeaderParam(value, "filename");
          } else if (boost::beast::iequals(key, "content-type")) {
            type = value;
          }
        }
        buffer_.erase(0, end + 4);
        scanned_ = 0;
        if (name == "file") {
          if (has_file_) return InvalidArgument("one file per request");
          has_file_ = true;
          filename_ = filename.substr(0, 255);
          file_type_ = type.substr(0, 100);
          state_ = State::kFile;
          return Step::kFileStart;
        }
        if (fields_.size() >= limits_.max_fields) return InvalidArgument("too many multipart parts");
        field_name_ = std::move(name);
        field_value_.clear();
        state_ = State::kField;
        break;
      }

      case State::kField:
      case State::kFile: {
        // A part's data runs up to the next delimiter; bytes that could be the start of one wait.
        auto at = buffer_.find(delimiter_);
        std::size_t usable = at != std::string::npos             ? at
                             : buffer_.size() > delimiter_.size() ? buffer_.size() - delimiter_.size()
                                                                  : 0;
        if (state_ == State::kFile && usable > 0) {
          file_data_ = std::string_view(buffer_.data(), usable);
          consumed_ = usable;
          return Step::kFileData;
        }
        if (state_ == State::kField && usable > 0) {
          field_value_.append(buffer_, 0, usable);
          buffer_.erase(0, usable);
          if (field_value_.size() > limits_.max_field_bytes)
            return InvalidArgument("form field '" + field_name_.substr(0, 40) + "' is too long");
        }
        if (at == std::string::npos || buffer_.size() < delimiter_.size() + 2) return Step::kNeedMore;
        std::string_view after(buffer_.data() + delimiter_.size(), 2);
        State next;
        if (after == "--") {
          next = State::kDone;
        } else if (after == "\r\n") {
          next = State::kHeaders;
        } else {
          return InvalidArgument("malformed multipart body");
        }
        buffer_.erase(0, delimiter_.size() + 2);
        bool file_ends = state_ == State::kFile;
        if (state_ == State::kField) fields_.emplace_back(std::move(field_name_), std::move(field_value_));
        state_ = next;
        if (file_ends) return Step::kFileEnd;
        break;
      }
    }
  }
}

}  // namespace veza::http
