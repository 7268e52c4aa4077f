#include "services/moderation/word_filter.h"

#include <algorithm>

#include "services/moderation/text_normalize.h"

namespace veza::moderation {
namespace {

constexpr std::size_t kMaxWordLetters = 64;
// Tokens longer than this are not words anyone reads; skipping them bounds the matching cost.
constexpr std::size_t kMaxTokenChars = 256;

// One visible character of a token: the letters it may stand for, and where it came from.
struct TokenChar {
  char32_t letter = 0;        // the folded letter, or 0 for a pure stand-in (digit, symbol)
  std::string_view leet;      // the letters a stand-in may mean
  bool symbol = false;        // a non-alphanumeric stand-in ('@', '$', '!'): optional at the edges
  std::size_t cp_index = 0;   // index into the decoded code points
};

bool Has(const TokenChar& t, char32_t letter) {
  if (t.letter == letter) return true;
  for (char c : t.leet) {
    if (static_cast<char32_t>(c) == letter) return true;
  }
  return false;
}

bool IsSeparator(char32_t f) {
  switch (f) {
    case '.': case '-': case '_': case '*': case '\'': case '"': case '~': case ',': case '/': case '\\':
    case ':': case ';': case '^': case '`': case '#': case '=': case 0x2022: case 0x00B7: case 0x2013:
    case 0x2014: return true;
    default: return false;
  }
}

bool IsSpace(char32_t f) { return f == ' ' || f == '\t' || f == '\n' || f == '\r' || f == 0x00A0 || f == 0x3000; }

using Token = std::vector<TokenChar>;

// Splits into tokens: runs of letters and stand-ins, separators inside a run ignored. A run of
// three or more single-character tokens separated by spaces ("f u c k") becomes one token too.
std::vector<Token> Tokenize(const std::vector<CodePoint>& cps) {
  std::vector<Token> tokens;
  Token current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t f = Fold(cps[i].value);
    if (f == 0) continue;
    if (IsLetter(f)) {
      current.push_back({f, LeetLetters(f), false, i});
      continue;
    }
    std::string_view leet = LeetLetters(f);
    if (!leet.empty()) {
      bool digit = f >= '0' && f <= '9';
      current.push_back({digit ? f : 0, leet, !digit, i});
      continue;
    }
    if (f >= '0' && f <= '9') {
      current.push_back({f, {}, false, i});
      continue;
    }
    if (IsSeparator(f) && !current.empty()) continue;
    flush();
  }
  flush();
  // Glue spaced-out single characters back together.
  std::vector<Token> glued;
  std::size_t i = 0;
  while (i < tokens.size()) {
    std::size_t j = i;
    while (j < tokens.size() && tokens[j].size() == 1) ++j;
    if (j - i >= 3) {
      Token t;
      for (std::size_t k = i; k < j; ++k) t.push_back(tokens[k][0]);
      glued.push_back(std::move(t));
      i = j;
    } else {
      glued.push_back(std::move(tokens[i]));
      ++i;
    }
  }
  return glued;
}

// Whether token[begin, end) spells letters, each letter standing for one or more characters in
// a row (repeats); with prefix, anything may follow the match up to end.
bool Spells(const Token& token, std::size_t begin, std::size_t end, const std::u32string& letters, bool prefix) {
  const std::size_t m = letters.size();
  // reach[j]: token[begin, i) is consumed and letters[0, j) matched, letters[j-1] last.
  std::vector<char> reach(m + 1, 0), next(m + 1, 0);
  reach[0] = 1;
  for (std::size_t i = begin; i < end; ++i) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (std::size_t j = 0; j <= m; ++j) {
      if (!reach[j]) continue;
      if (j == m && prefix) return true;
      if (j > 0 && Has(token[i], letters[j - 1])) next[j] = 1, any = true;
      if (j < m && Has(token[i], letters[j])) next[j + 1] = 1, any = true;
    }
    if (!any) return false;
    std::swap(reach, next);
  }
  return reach[m] != 0;
}

bool Matches(const Token& token, const std::u32string& letters, bool prefix) {
  if (token.size() > kMaxTokenChars || token.empty()) return false;
  // Symbol stand-ins at the edges may be punctuation ("shit!", "@ss") or part of the word.
  std::size_t lead = 0, trail = 0;
  while (lead < token.size() && token[lead].symbol) ++lead;
  while (trail < token.size() - lead && token[token.size() - 1 - trail].symbol) ++trail;
  for (std::size_t b = 0; b <= lead; ++b) {
    for (std::size_t e = token.size(); e + trail >= token.size() && e > b; --e) {
      if (Spells(token, b, e, letters, prefix)) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view WordActionName(WordAction action) { return action == WordAction::kBlock ? "block" : "mask"; }

Result<WordAction> ParseWordAction(std::string_view name) {
  if (name == "block") return WordAction::kBlock;
  if (name == "mask") return WordAction::kMask;
  return InvalidArgument("action must be block or mask");
}

Result<std::string> NormalizeWordRule(std::string_view word) {
  bool prefix = !word.empty() && word.back() == '*';
  if (prefix) word.remove_suffix(1);
  std::string out;
  std::size_t letters = 0;
  for (const CodePoint& cp : DecodeUtf8(word)) {
    char32_t f = Fold(cp.value);
    if (f == 0) continue;
    if (!IsLetter(f) || f == 0xFFFD) {
      return InvalidArgument("a word is letters only (a trailing '*' matches as a prefix)");
    }
    AppendUtf8(out, f);
    ++letters;
  }
  if (letters == 0 || letters > kMaxWordLetters) {
    return InvalidArgument("a word is 1.." + std::to_string(kMaxWordLetters) + " letters");
  }
  if (prefix) out.push_back('*');
  return out;
}

WordFilter::WordFilter(std::vector<WordRule> rules) : rules_(std::move(rules)) {
  for (const WordRule& r : rules_) {
    Pattern p;
    p.word = r.word;
    p.action = r.action;
    std::string_view w = r.word;
    if (!w.empty() && w.back() == '*') {
      p.prefix = true;
      w.remove_suffix(1);
    }
    for (const CodePoint& cp : DecodeUtf8(w)) {
      char32_t f = Fold(cp.value);
      if (f != 0) p.letters.push_back(f);
    }
    if (!p.letters.empty()) patterns_.push_back(std::move(p));
  }
  // Blocking rules first: one is enough to refuse the message.
  std::stable_sort(patterns_.begin(), patterns_.end(),
                   [](const Pattern& a, const Pattern& b) { return a.action == WordAction::kBlock && b.action != WordAction::kBlock; });
}

struct PhraseMatcher::Tokens {
  std::vector<Token> tokens;
};

PhraseMatcher::PhraseMatcher(std::string_view text) : tokens_(std::make_unique<Tokens>()) {
  tokens_->tokens = Tokenize(DecodeUtf8(text));
}

PhraseMatcher::~PhraseMatcher() = default;

bool PhraseMatcher::Contains(std::string_view phrase) const {
  std::vector<std::u32string> words(1);
  for (const CodePoint& cp : DecodeUtf8(phrase)) {
    if (cp.value == ' ') {
      words.emplace_back();
    } else {
      words.back().push_back(Fold(cp.value));
    }
  }
  const auto& tokens = tokens_->tokens;
  for (std::size_t i = 0; i + words.size() <= tokens.size(); ++i) {
    bool all = true;
    for (std::size_t j = 0; j < words.size() && all; ++j) all = Matches(tokens[i + j], words[j], false);
    if (all) return true;
  }
  return false;
}

FilterResult WordFilter::Apply(std::string_view text) const {
  FilterResult result;
  result.text = std::string(text);
  if (patterns_.empty()) return result;
  std::vector<CodePoint> cps = DecodeUtf8(text);
  std::vector<Token> tokens = Tokenize(cps);
  std::vector<char> mask(cps.size(), 0);
  for (const Token& token : tokens) {
    for (const Pattern& p : patterns_) {
      if (!Matches(token, p.letters, p.prefix)) continue;
      if (p.action == WordAction::kBlock) {
        result.blocked = true;
        result.blocked_word = p.word;
        return result;
      }
      ++result.masked;
      // Mask the whole token, separators inside it included.
      for (std::size_t k = token.front().cp_index; k <= token.back().cp_index; ++k) mask[k] = 1;
      break;
    }
  }
  if (result.masked == 0) return result;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (mask[i] && !IsSpace(Fold(cps[i].value))) {
      out.push_back('*');
    } else {
      out.append(text.substr(cps[i].begin, cps[i].end - cps[i].begin));
    }
  }
  result.text = std::move(out);
  return result;
}

}  // namespace veza::moderation
