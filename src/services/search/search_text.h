#pragma once
// The text side of search, the same for every database: splitting a query into terms and the
// trigram similarity used to rank misspelt matches (pg_trgm's definition: each word padded with
// two spaces in front and one behind, similarity = shared trigrams / all distinct trigrams).
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace veza::search {

constexpr std::size_t kMaxQueryBytes = 200;
constexpr std::size_t kMaxTerms = 8;

// text with the Latin-1 and Latin Extended-A letters that carry diacritics (U+00C0..U+017F)
// replaced by their ASCII base letter ("Beyoncé" -> "Beyonce"), as FTS5's unicode61
// remove_diacritics and PostgreSQL's unaccent do; everything else is kept byte for byte.
std::string FoldDiacritics(std::string_view text);

// Lower-cased (ASCII), diacritics folded, runs of letters, digits and non-ASCII bytes; at most kMaxTerms of them.
// Everything else (punctuation, quotes, FTS operators) separates terms, so no term can carry
// query syntax into FTS5 or tsquery.
std::vector<std::string> Terms(std::string_view text);

// The padded trigrams of one lower-cased word.
std::set<std::string> Trigrams(std::string_view word);

// pg_trgm similarity of two words, 0..1.
double WordSimilarity(std::string_view a, std::string_view b);

// How well the query terms match a document's text: for each term, its best similarity with a
// word of the text (a prefix of a text word counts as a full match); the mean over the terms.
double MatchScore(const std::vector<std::string>& terms, std::string_view text);

}  // namespace veza::search
