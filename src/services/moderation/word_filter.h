#pragma once
// The chat word filter: a list of words, each either blocking the whole message or masking the
// word with asterisks. Matching folds case, accents and look-alike letters (text_normalize.h),
// reads leetspeak (sh1t, @ss, $hit), tolerates repeated letters (shiiiit) and separators inside
// a word (s.h.i.t, s-h-i-t, s h i t). A word matches whole tokens, so "ass" does not fire on
// "class" or "assistant"; a list entry ending in '*' matches as a prefix ("fuck*" also takes
// "fucking").
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace veza::moderation {

enum class WordAction { kBlock, kMask };
std::string_view WordActionName(WordAction action);
Result<WordAction> ParseWordAction(std::string_view name);

struct WordRule {
  std::string word;  // as NormalizeWordRule returns it
  WordAction action = WordAction::kMask;
};

// A list entry in stored form: folded to lowercase letters, an optional trailing '*'.
// kInvalidArgument unless it is 1..64 letters (after folding) with no spaces, digits or symbols.
Result<std::string> NormalizeWordRule(std::string_view word);

struct FilterResult {
  bool blocked = false;
  std::string blocked_word;  // the list entry that blocked it
  int masked = 0;            // words replaced by asterisks
  std::string text;          // the text with masked words replaced (the original when nothing was)
};

// Whole-word phrases in a text with the filter's matching (folding, leetspeak, repeats,
// separators): what the lexicon classifier scores with.
class PhraseMatcher {
 public:
  explicit PhraseMatcher(std::string_view text);
  ~PhraseMatcher();
  // phrase: lowercase words separated by single spaces.
  bool Contains(std::string_view phrase) const;

 private:
  struct Tokens;
  std::unique_ptr<Tokens> tokens_;
};

class WordFilter {
 public:
  explicit WordFilter(std::vector<WordRule> rules);
  FilterResult Apply(std::string_view text) const;
  std::size_t size() const { return rules_.size(); }

 private:
  struct Pattern {
    std::u32string letters;
    bool prefix = false;
    WordAction action = WordAction::kMask;
    std::string word;
  };
  std::vector<Pattern> patterns_;
  std::vector<WordRule> rules_;
};

}  // namespace veza::moderation
