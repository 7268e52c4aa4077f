#pragma once
// ContentClassifier port: scores a chat message for abuse before it is stored (issue 6 item 5).
// The word filter and the flood/spam rules always run in the moderation service; this port is
// the pluggable part on top of them: a local lexicon score by default
// (services/moderation/lexicon_classifier.h) or an external moderation model over HTTP
// (backends/moderation_http). Calls block (the HTTP backend waits for the network): run them on
// the worker pool.
#include <string>
#include <string_view>

#include "base/result.h"

namespace veza {

struct ClassifyRequest {
  std::string text;
  std::string user_id;
  std::string room_id;
};

struct Classification {
  bool flagged = false;  // true: the message is refused
  double score = 0;      // 0..1, higher is worse
  std::string reason;    // short, stable, safe to show ("lexicon", "classifier_unavailable", ...)
};

class ContentClassifier {
 public:
  virtual ~ContentClassifier() = default;
  // Each backend applies its own failure policy (fail open or closed) and answers with a
  // Classification; an error means a broken invariant, not an unreachable model.
  virtual Result<Classification> Classify(const ClassifyRequest& request) = 0;
  virtual std::string_view Name() const = 0;
};

}  // namespace veza
