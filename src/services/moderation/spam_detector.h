#pragma once
// Flood and spam rules for chat messages, per user, in this process's memory (each node counts
// the messages it receives; behind a load balancer that keeps a socket on one node, a user's
// messages are on one node). A verdict is allow or block with a stable reason:
// - "repeat": the same text (compared by Skeleton, so case, accents and leetspeak do not
//   dodge it) more than repeat_limit times within repeat_window;
// - "burst": more than burst_limit messages within burst_window (off by default);
// - "links": more than max_links links in one message;
// - "new_account_links": more than new_account_max_links links from an account younger than
//   new_account_age;
// - "caps": at least caps_min_letters letters, of which more than caps_ratio are capitals.
// A resend with the same client id is the same message, not a repeat: it is not counted again.
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace veza::moderation {

struct SpamOptions {
  int repeat_limit = 3;
  std::chrono::seconds repeat_window{60};
  int burst_limit = 0;  // 0: off (the socket's frame-rate limit already bounds raw floods)
  std::chrono::seconds burst_window{10};
  int max_links = 3;
  std::chrono::seconds new_account_age{600};
  int new_account_max_links = 0;
  double caps_ratio = 0.7;
  int caps_min_letters = 12;
};

struct SpamVerdict {
  bool allowed = true;
  std::string reason;  // empty when allowed
};

// Links in text: http(s)://, www., and bare host names with a common top-level domain.
int CountLinks(std::string_view text);
// Whether text is shouting by the options' caps rule.
bool IsShouting(std::string_view text, const SpamOptions& options);

class SpamDetector {
 public:
  explicit SpamDetector(SpamOptions options = {}) : options_(options) {}

  // Judges one message and, when allowed, records it. now_ms and account_created_ms are Unix ms.
  SpamVerdict Check(std::string_view user_id, std::string_view client_id, std::string_view text,
                    std::int64_t account_created_ms, std::int64_t now_ms);
  const SpamOptions& options() const { return options_; }

 private:
  struct Sent {
    std::int64_t at_ms;
    std::string skeleton;
    std::string client_id;
  };
  void Prune(std::deque<Sent>& sent, std::int64_t now_ms) const;

  SpamOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<Sent>> recent_;
  std::int64_t last_sweep_ms_ = 0;
};

}  // namespace veza::moderation
