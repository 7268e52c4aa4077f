#include "services/moderation/lexicon_classifier.h"

#include <gtest/gtest.h>

namespace veza::moderation {
namespace {

TEST(ModerationLexicon, ScoresHostilePhrasesThroughLeetspeak) {
  LexiconClassifier c(0.9);
  auto threat = c.Classify({"just k1ll yourse1f", "u", "r"});
  ASSERT_TRUE(threat.ok());
  EXPECT_TRUE(threat->flagged);
  EXPECT_EQ(threat->reason, "lexicon");
  auto mild = c.Classify({"that mix is stupid", "u", "r"});
  EXPECT_FALSE(mild->flagged);
  EXPECT_GT(mild->score, 0);
  auto clean = c.Classify({"lovely skill, keep going", "u", "r"});
  EXPECT_FALSE(clean->flagged);
  EXPECT_EQ(clean->score, 0);
  auto pile = c.Classify({"stupid idiot loser, pathetic moron", "u", "r"});
  EXPECT_TRUE(pile->flagged) << pile->score;
  EXPECT_LE(pile->score, 1.0);
}

}  // namespace
}  // namespace veza::moderation
