#pragma once
// The default ContentClassifier: a small built-in lexicon of hostile words and phrases, each
// with a weight; a message's score is the sum of the weights it contains (matched like the word
// filter: leetspeak, repeats and accents count), capped at 1. Flagged at or above the threshold. Local, instant,
// no network: the model a fresh install gets.
#include "ports/content_classifier.h"

namespace veza::moderation {

class LexiconClassifier final : public ContentClassifier {
 public:
  explicit LexiconClassifier(double threshold = 0.9) : threshold_(threshold) {}
  Result<Classification> Classify(const ClassifyRequest& request) override;
  std::string_view Name() const override { return "local"; }

 private:
  double threshold_;
};

}  // namespace veza::moderation
