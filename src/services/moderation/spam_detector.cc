#include "services/moderation/spam_detector.h"

#include <algorithm>
#include <array>

#include "services/moderation/text_normalize.h"

namespace veza::moderation {
namespace {

bool EndsWithTld(std::string_view host) {
  static constexpr std::array<std::string_view, 16> kTlds = {".com", ".net", ".org", ".io", ".gg", ".ru", ".xyz",
                                                             ".ly",  ".me",  ".co",  ".info", ".biz", ".top",
                                                             ".link", ".click", ".app"};
  while (!host.empty() && (host.back() == '/' || host.back() == '.' || host.back() == ',' || host.back() == '!' ||
                           host.back() == ')')) {
    host.remove_suffix(1);
  }
  std::size_t slash = host.find('/');
  if (slash != std::string_view::npos) host = host.substr(0, slash);
  for (auto tld : kTlds) {
    if (host.size() > tld.size() && host.ends_with(tld)) return true;
  }
  return false;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

}  // namespace

int CountLinks(std::string_view text) {
  int links = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n' && text[j] != '\t') ++j;
    if (j > i) {
      std::string word = Lower(text.substr(i, j - i));
      std::size_t scheme = word.find("://");
      if (scheme != std::string::npos && scheme > 0) {
        ++links;
      } else if (word.starts_with("www.") || EndsWithTld(word)) {
        ++links;
      }
    }
    i = j;
  }
  return links;
}

bool IsShouting(std::string_view text, const SpamOptions& options) {
  int letters = 0, capitals = 0;
  for (const CodePoint& cp : DecodeUtf8(text)) {
    char32_t f = Fold(cp.value);
    if (f == 0 || !IsLetter(f)) continue;
    ++letters;
    if (IsUpperCase(cp.value)) ++capitals;
  }
  return letters >= options.caps_min_letters && capitals > options.caps_ratio * letters;
}

void SpamDetector::Prune(std::deque<Sent>& sent, std::int64_t now_ms) const {
  std::int64_t keep_ms =
      std::max(options_.repeat_window, options_.burst_window).count() * std::int64_t{1000};
  while (!sent.empty() && now_ms - sent.front().at_ms > keep_ms) sent.pop_front();
}

SpamVerdict SpamDetector::Check(std::string_view user_id, std::string_view client_id, std::string_view text,
                                std::int64_t account_created_ms, std::int64_t now_ms) {
  std::string skeleton = Skeleton(text);
  std::lock_guard lock(mu_);
  // Forget idle users now and then, so the map holds only recent senders.
  if (now_ms - last_sweep_ms_ > 60'000) {
    last_sweep_ms_ = now_ms;
    for (auto it = recent_.begin(); it != recent_.end();) {
      Prune(it->second, now_ms);
      it = it->second.empty() ? recent_.erase(it) : std::next(it);
    }
  }
  auto& sent = recent_[std::string(user_id)];
  Prune(sent, now_ms);
  if (!client_id.empty()) {
    for (const Sent& s : sent) {
      if (s.client_id == client_id) return {};  // a resend of a message already judged
    }
  }
  const std::int64_t repeat_ms = options_.repeat_window.count() * 1000;
  const std::int64_t burst_ms = options_.burst_window.count() * 1000;
  int repeats = 0, burst = 0;
  for (const Sent& s : sent) {
    if (now_ms - s.at_ms <= repeat_ms && !skeleton.empty() && s.skeleton == skeleton) ++repeats;
    if (now_ms - s.at_ms <= burst_ms) ++burst;
  }
  if (repeats >= options_.repeat_limit) return {false, "repeat"};
  if (options_.burst_limit > 0 && burst >= options_.burst_limit) return {false, "burst"};
  int links = CountLinks(text);
  if (links > options_.max_links) return {false, "links"};
  if (links > options_.new_account_max_links &&
      now_ms - account_created_ms < options_.new_account_age.count() * 1000) {
    return {false, "new_account_links"};
  }
  if (IsShouting(text, options_)) return {false, "caps"};
  sent.push_back({now_ms, std::move(skeleton), std::string(client_id)});
  return {};
}

}  // namespace veza::moderation
