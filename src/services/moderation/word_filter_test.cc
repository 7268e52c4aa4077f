// The word filter: unicode folding, leetspeak, repeats, separators, masking and blocking.
#include "services/moderation/word_filter.h"

#include <gtest/gtest.h>

#include "services/moderation/text_normalize.h"

namespace veza::moderation {
namespace {

WordFilter Filter() {
  return WordFilter({{"shit", WordAction::kMask}, {"ass", WordAction::kMask}, {"fuck*", WordAction::kMask},
                     {"nazi", WordAction::kBlock}});
}

TEST(ModerationWordFilter, MasksPlainWordsWithOneAsteriskPerCharacter) {
  auto r = Filter().Apply("oh shit, really");
  EXPECT_FALSE(r.blocked);
  EXPECT_EQ(r.masked, 1);
  EXPECT_EQ(r.text, "oh ****, really");
}

TEST(ModerationWordFilter, LeavesCleanTextAndInnocentWordsAlone) {
  for (const char* text : {"a classic assistant passes the class", "hello world", "as I said", "Scunthorpe"}) {
    auto r = Filter().Apply(text);
    EXPECT_FALSE(r.blocked) << text;
    EXPECT_EQ(r.masked, 0) << text;
    EXPECT_EQ(r.text, text);
  }
}

TEST(ModerationWordFilter, CaseAccentsAndLookAlikesFold) {
  for (const char* text : {"SHIT", "ShÍt", "s\xCC\x81hit" /* s + combining acute */, "\xEF\xBD\x93hit" /* fullwidth s */,
                           "\xD1\x95hit" /* Cyrillic dze */, "sh\xE2\x80\x8Bit" /* zero-width space */,
                           "\xF0\x9D\x90\xAC\xF0\x9D\x90\xA1\xF0\x9D\x90\xA2\xF0\x9D\x90\xAD" /* math bold shit */}) {
    auto r = Filter().Apply(text);
    EXPECT_EQ(r.masked, 1) << text;
    EXPECT_EQ(r.text.find_first_not_of('*'), std::string::npos) << text << " -> " << r.text;
  }
}

TEST(ModerationWordFilter, LeetspeakRepeatsAndSeparatorsMatch) {
  for (const char* text : {"sh1t", "$hit", "5h!t", "shiiiiit", "sssshhhiiittt", "s.h.i.t", "s-h-i-t", "s h i t",
                           "@ss", "a$$", "4ss", "fuuuck", "f.u.c.k", "fucking", "FUCKERS", "shit!", "sh!t!!"}) {
    auto r = Filter().Apply(std::string("well ") + text + " then");
    EXPECT_EQ(r.masked, 1) << text << " -> " << r.text;
    EXPECT_EQ(r.text.substr(0, 5), "well ") << text;
    EXPECT_EQ(r.text.substr(r.text.size() - 5), " then") << text;
  }
  // "as" is not "ass": each listed letter needs at least one character.
  EXPECT_EQ(Filter().Apply("as").masked, 0);
}

TEST(ModerationWordFilter, BlockingWordsRefuseTheWholeMessage) {
  for (const char* text : {"nazi", "N4Z1", "n.a.z.i", "NAAAZI", "\xCE\x9D" "azi" /* Greek capital nu */}) {
    auto r = Filter().Apply(std::string("you ") + text);
    EXPECT_TRUE(r.blocked) << text;
    EXPECT_EQ(r.blocked_word, "nazi");
  }
}

TEST(ModerationWordFilter, MasksSeveralWordsAndKeepsTheRestByteForByte) {
  auto r = Filter().Apply("Zoë said sh1t and @ss — ok ✓");
  EXPECT_EQ(r.masked, 2);
  EXPECT_EQ(r.text, "Zoë said **** and *** — ok ✓");
}

TEST(ModerationWordFilter, InvalidUtf8DoesNotBreakIt) {
  auto r = Filter().Apply(std::string("sh\xff" "it \xc3"));
  EXPECT_FALSE(r.blocked);
}

TEST(ModerationWordFilter, RulesAreNormalizedAndValidated) {
  EXPECT_EQ(NormalizeWordRule("ShÎT").value(), "shit");
  EXPECT_EQ(NormalizeWordRule("Fuck*").value(), "fuck*");
  EXPECT_FALSE(NormalizeWordRule("").ok());
  EXPECT_FALSE(NormalizeWordRule("*").ok());
  EXPECT_FALSE(NormalizeWordRule("two words").ok());
  EXPECT_FALSE(NormalizeWordRule("sh1t").ok());
  EXPECT_FALSE(NormalizeWordRule(std::string(65, 'a')).ok());
  EXPECT_TRUE(NormalizeWordRule(std::string(64, 'a')).ok());
  EXPECT_EQ(ParseWordAction("block").value(), WordAction::kBlock);
  EXPECT_FALSE(ParseWordAction("delete").ok());
}

TEST(ModerationWordFilter, LongHostileInputStaysCheap) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += (i % 2 ? "1" : "$");
  auto r = Filter().Apply(text);
  EXPECT_FALSE(r.blocked);
}

TEST(ModerationTextNormalize, SkeletonFoldsLeetSeparatorsAndRepeats) {
  EXPECT_EQ(Skeleton("H3LLLO, W.O.R.L.D!!"), Skeleton("hello world"));
  EXPECT_EQ(Skeleton("  Hello   World "), "helo world");
  EXPECT_EQ(Skeleton("Ça VA"), "ca va");
}

}  // namespace
}  // namespace veza::moderation
