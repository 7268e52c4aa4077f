#include "services/search/search_text.h"

#include <gtest/gtest.h>

namespace veza::search {
namespace {

TEST(SearchTerms, SplitLowerCaseAndDropQuerySyntax) {
  EXPECT_EQ(Terms("Midnight  City"), (std::vector<std::string>{"midnight", "city"}));
  EXPECT_EQ(Terms("\"a\" OR b* NEAR(c) -d 'e':*"),
            (std::vector<std::string>{"a", "or", "b", "near", "c", "d", "e"}));
  EXPECT_EQ(Terms("Beyoncé"), (std::vector<std::string>{"beyonce"}));
  EXPECT_EQ(Terms("Μήλο"), (std::vector<std::string>{"Μήλο"}));  // not Latin: kept as it is
  EXPECT_EQ(Terms("echo echo ECHO"), (std::vector<std::string>{"echo"}));
  EXPECT_TRUE(Terms("  ... !!! ").empty());
  EXPECT_EQ(Terms("a b c d e f g h i j k").size(), kMaxTerms);
}

TEST(SearchFoldDiacritics, LatinLettersLoseTheirMarksOthersAreKept) {
  EXPECT_EQ(FoldDiacritics("Beyoncé Sigur Rós Motörhead Łódź Ærø Straße"),
            "Beyonce Sigur Ros Motorhead lodz \xc3\x86ro Stra\xc3\x9f" "e");
  EXPECT_EQ(FoldDiacritics("\xc3"), "\xc3");  // a cut sequence stays as it was
  EXPECT_EQ(FoldDiacritics("ÿ žž ſ"), "y zz s");
}

TEST(SearchMatchScore, DiacriticsDoNotMatter) {
  EXPECT_DOUBLE_EQ(MatchScore({"beyonce"}, "Beyoncé"), 1.0);
  EXPECT_DOUBLE_EQ(MatchScore(Terms("Beyoncé"), "Beyonce"), 1.0);
}

TEST(SearchTrigrams, PaddedLikePgTrgm) {
  EXPECT_EQ(Trigrams("cat"), (std::set<std::string>{"  c", " ca", "cat", "at "}));
  EXPECT_DOUBLE_EQ(WordSimilarity("cat", "cat"), 1.0);
  EXPECT_DOUBLE_EQ(WordSimilarity("cat", "dog"), 0.0);
  // 6 shared of 11 distinct padded trigrams, as pg_trgm's similarity() says.
  EXPECT_NEAR(WordSimilarity("midnigt", "midnight"), 6.0 / 11.0, 1e-9);
}

TEST(SearchMatchScore, PrefixesAreFullMatchesAndTyposPartial) {
  EXPECT_DOUBLE_EQ(MatchScore({"midn"}, "Midnight City"), 1.0);
  EXPECT_GT(MatchScore({"midnigt", "city"}, "Midnight City"), 0.7);
  EXPECT_LT(MatchScore({"moon"}, "Noon Tide"), 0.45);
  EXPECT_DOUBLE_EQ(MatchScore({}, "anything"), 0.0);
}

}  // namespace
}  // namespace veza::search
