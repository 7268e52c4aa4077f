#include "services/moderation/lexicon_classifier.h"

#include <algorithm>
#include <array>
#include <utility>

#include "services/moderation/word_filter.h"

namespace veza::moderation {
namespace {

// Words and phrases as people write them; matching reads leetspeak, repeats and accents.
constexpr std::array<std::pair<std::string_view, double>, 16> kLexicon = {{
    {"kill yourself", 1.0},
    {"kys", 1.0},
    {"go die", 0.9},
    {"i will kill you", 1.0},
    {"nobody likes you", 0.4},
    {"worthless", 0.4},
    {"idiot", 0.3},
    {"moron", 0.3},
    {"stupid", 0.25},
    {"loser", 0.3},
    {"trash", 0.2},
    {"pathetic", 0.3},
    {"shut up", 0.2},
    {"hate you", 0.4},
    {"ugly", 0.2},
    {"dumb", 0.2},
}};

}  // namespace

Result<Classification> LexiconClassifier::Classify(const ClassifyRequest& request) {
  PhraseMatcher text(request.text);
  double score = 0;
  for (const auto& [phrase, weight] : kLexicon) {
    if (text.Contains(phrase)) score += weight;
  }
  Classification c;
  c.score = std::min(score, 1.0);
  c.flagged = c.score >= threshold_;
  if (c.flagged) c.reason = "lexicon";
  return c;
}

}  // namespace veza::moderation
