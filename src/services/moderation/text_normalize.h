#pragma once
// Unicode- and leetspeak-aware text skeletons for the word filter and the spam rules. Not full
// Unicode NFKC (no ICU here): it covers what people use to dodge a filter — case, accents and
// combining marks, fullwidth and mathematical letters, circled letters, Greek and Cyrillic
// look-alikes, zero-width characters, and digit/symbol stand-ins (0→o, 1→i/l, 3→e, 4→a, 5→s,
// 7→t, @→a, $→s, ...).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace veza::moderation {

struct CodePoint {
  char32_t value;
  std::size_t begin;  // byte span in the original text
  std::size_t end;
};

// Invalid UTF-8 bytes decode as U+FFFD, one per byte, so every byte belongs to some span.
std::vector<CodePoint> DecodeUtf8(std::string_view text);
void AppendUtf8(std::string& out, char32_t c);

// The lowercase base letter a code point stands for ('É'→'e', 'Ａ'→'a', Cyrillic 'а'→'a'),
// 0 for characters that are invisible when rendered (combining marks, zero-width spaces, soft
// hyphens), and the code point itself (ASCII lowercased) otherwise.
char32_t Fold(char32_t c);

// Letters a non-letter may stand for in leetspeak ("il" for '1'); empty when none.
std::string_view LeetLetters(char32_t folded);

bool IsLetter(char32_t folded);  // after Fold: a-z or another alphabetic code point
bool IsUpperCase(char32_t c);    // before Fold: A-Z and Latin-1/Latin Extended-A capitals

// The text folded, leet stand-ins replaced by their first letter, separators inside words
// dropped, runs of one letter collapsed to one, words separated by one space. "H3LLLO, W.O.R.L.D!!"
// and "hello world" have the same skeleton: what the repeat rule compares.
std::string Skeleton(std::string_view text);

}  // namespace veza::moderation
