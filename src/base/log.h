#pragma once
// JSON-lines logging to stderr: one object per line with time, level, msg and fields.
// Thread-safe; each line is written with one write(2) so lines never interleave.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace veza::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
bool ParseLevel(std::string_view name, Level& out);
bool Enabled(Level level);

void Write(Level level, std::string_view msg, boost::json::object fields = {});

// The last kRecentProblems warn and error lines this process wrote, newest first, as written
// (JSON objects): the admin System page's "recent errors". Each node keeps its own, as it keeps
// its own /metrics; log lines carry no secrets, so neither does this.
constexpr std::size_t kRecentProblems = 100;
std::vector<std::string> RecentProblems();
inline void Debug(std::string_view msg, boost::json::object fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, std::move(fields));
}
inline void Info(std::string_view msg, boost::json::object fields = {}) {
  Write(Level::kInfo, msg, std::move(fields));
}
inline void Warn(std::string_view msg, boost::json::object fields = {}) {
  Write(Level::kWarn, msg, std::move(fields));
}
inline void Error(std::string_view msg, boost::json::object fields = {}) {
  Write(Level::kError, msg, std::move(fields));
}

}  // namespace veza::log
