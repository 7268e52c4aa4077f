#pragma once
#include <chrono>
#include <string>

namespace veza {

// "2026-11-25T17:56:28.123Z" (UTC, milliseconds).
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// "Wed, 25 Nov 2026 17:56:28 GMT" for HTTP Date / Last-Modified.
std::string FormatHttpDate(std::chrono::system_clock::time_point t);

}  // namespace veza
