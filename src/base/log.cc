#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <deque>
#include <mutex>

#include "base/time.h"

namespace veza::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::mutex g_recent_mu;
std::deque<std::string> g_recent;  // newest at the front

void RememberProblem(std::string line) {
  std::lock_guard lock(g_recent_mu);
  g_recent.push_front(std::move(line));
  if (g_recent.size() > kRecentProblems) g_recent.pop_back();
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(g_level.load()); }
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view name, Level& out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void Write(Level level, std::string_view msg, boost::json::object fields) {
  if (!Enabled(level)) return;
  boost::json::object line;
  line.reserve(fields.size() + 3);
  line["time"] = FormatRfc3339(std::chrono::system_clock::now());
  line["level"] = LevelName(level);
  line["msg"] = msg;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  std::string out = boost::json::serialize(line);
  if (level >= Level::kWarn) RememberProblem(out);
  out.push_back('\n');
  // A single write keeps concurrent lines whole (stderr is unbuffered, lines are < PIPE_BUF
  // in practice; longer ones may interleave with others but never lose bytes).
  std::size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::write(STDERR_FILENO, out.data() + off, out.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

std::vector<std::string> RecentProblems() {
  std::lock_guard lock(g_recent_mu);
  return {g_recent.begin(), g_recent.end()};
}

}  // namespace veza::log
