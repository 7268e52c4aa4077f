#pragma once
// ContentClassifier over HTTP, for an external moderation model. Each message is POSTed as JSON
//   {"text": "...", "user_id": "...", "room_id": "..."}
// to the configured URL; the model answers 200 with
//   {"flagged": true|false, "score": 0..1 (optional), "reason": "..." (optional)}.
// A timeout, a connection failure, a non-200 status or an unreadable answer is a failure: with
// fail_open the message passes (reason "classifier_unavailable", not flagged), otherwise it is
// refused (flagged, same reason). Failures are logged without the message text.
#include <chrono>
#include <string>

#include "ports/content_classifier.h"
#include "ports/http_fetcher.h"

namespace veza {

struct HttpClassifierOptions {
  std::string url;                          // http:// or https://
  std::chrono::milliseconds timeout{2000};  // the whole request
  bool fail_open = true;
};

class HttpContentClassifier final : public ContentClassifier {
 public:
  HttpContentClassifier(HttpFetcher& http, HttpClassifierOptions options);
  Result<Classification> Classify(const ClassifyRequest& request) override;
  std::string_view Name() const override { return "http"; }

 private:
  Classification Failed(std::string_view why) const;

  HttpFetcher& http_;
  HttpClassifierOptions options_;
};

}  // namespace veza
