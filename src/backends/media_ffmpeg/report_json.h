#pragma once
// The worker's answer on stdout, one JSON object:
//   {"ok":true,"format":{...}}              after probe
//   {"ok":true,"report":{...}}              after process
//   {"ok":false,"error":{"code":"unprocessable","message":"..."}}
#include <string>
#include <string_view>

#include "base/result.h"
#include "ports/media_processor.h"

namespace veza::media {

std::string EncodeFormatReply(const MediaFormat& format);
std::string EncodeReportReply(const MediaReport& report);
std::string EncodeErrorReply(const Error& error);

Result<MediaFormat> DecodeFormatReply(std::string_view json);
Result<MediaReport> DecodeReportReply(std::string_view json);

}  // namespace veza::media
