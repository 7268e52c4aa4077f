#include "services/search/search_text.h"

#include <algorithm>

namespace veza::search {

namespace {

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// ASCII base letters of U+00C0..U+017F, '.' where there is none (Æ, ×, ß, Œ...).
constexpr std::string_view kLatinBase =
    "AAAAAA.CEEEEIIIIDNOOOOO.OUUUUY.."
    "aaaaaa.ceeeeiiiidnooooo.ouuuuy.y"
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.llllllllllnnnnnn...oooooo..rrrrrr"
    "sssssssstttttt" "uuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatinBase.size() == 0x180 - 0xC0);

// Lower-cased words of text, distinct, at most max of them.
std::vector<std::string> Words(std::string_view text, std::size_t max) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty() && words.size() < max &&
        std::find(words.begin(), words.end(), current) == words.end()) {
      words.push_back(current);
    }
    current.clear();
  };
  for (unsigned char c : text) {
    if (IsWordByte(c)) {
      current.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

}  // namespace

std::string FoldDiacritics(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto lead = static_cast<unsigned char>(text[i]);
    if ((lead == 0xC3 || lead == 0xC4 || lead == 0xC5) && i + 1 < text.size()) {
      auto cont = static_cast<unsigned char>(text[i + 1]);
      if ((cont & 0xC0) == 0x80) {
        unsigned code = ((lead & 0x1Fu) << 6) | (cont & 0x3Fu);
        if (code >= 0xC0 && code < 0x180 && kLatinBase[code - 0xC0] != '.') {
          out.push_back(kLatinBase[code - 0xC0]);
          ++i;
          continue;
        }
      }
    }
    out.push_back(static_cast<char>(lead));
  }
  return out;
}

std::vector<std::string> Terms(std::string_view text) { return Words(FoldDiacritics(text), kMaxTerms); }

std::set<std::string> Trigrams(std::string_view word) {
  std::set<std::string> out;
  std::string padded = "  " + std::string(word) + " ";
  for (std::size_t i = 0; i + 3 <= padded.size(); ++i) out.insert(padded.substr(i, 3));
  return out;
}

double WordSimilarity(std::string_view a, std::string_view b) {
  std::set<std::string> ta = Trigrams(a), tb = Trigrams(b);
  std::size_t shared = 0;
  for (const std::string& t : ta) shared += tb.count(t);
  std::size_t all = ta.size() + tb.size() - shared;
  return all == 0 ? 0.0 : static_cast<double>(shared) / static_cast<double>(all);
}

double MatchScore(const std::vector<std::string>& terms, std::string_view text) {
  if (terms.empty()) return 0;
  std::vector<std::string> words = Words(FoldDiacritics(text), std::string::npos);
  double total = 0;
  for (const std::string& term : terms) {
    double best = 0;
    for (const std::string& word : words) {
      if (word.compare(0, term.size(), term) == 0) {
        best = 1.0;
        break;
      }
      best = std::max(best, WordSimilarity(term, word));
    }
    total += best;
  }
  return total / static_cast<double>(terms.size());
}

}  // namespace veza::search
