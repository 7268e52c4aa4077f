// Flood and spam rules: repeats, bursts, links, new accounts, caps.
#include "services/moderation/spam_detector.h"

#include <gtest/gtest.h>

namespace veza::moderation {
namespace {

constexpr std::int64_t kOld = 0;                   // an account created long ago
constexpr std::int64_t kNow = 1'000'000'000'000;   // Unix ms

TEST(ModerationSpam, RepeatsOfTheSameTextAreBlockedAfterTheLimit) {
  SpamDetector d({.repeat_limit = 3});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(d.Check("u", "c" + std::to_string(i), "buy my beats", kOld, kNow + i * 1000).allowed);
  }
  auto v = d.Check("u", "c3", "BUY  my b3ats!!", kOld, kNow + 3000);  // the same, dressed up
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "repeat");
  EXPECT_TRUE(d.Check("other", "c0", "buy my beats", kOld, kNow + 3000).allowed) << "per user";
  EXPECT_TRUE(d.Check("u", "c4", "buy my beats", kOld, kNow + 3000 + 61'000).allowed) << "after the window";
}

TEST(ModerationSpam, AResendWithTheSameClientIdIsNotARepeat) {
  SpamDetector d({.repeat_limit = 1});
  EXPECT_TRUE(d.Check("u", "same", "hello", kOld, kNow).allowed);
  EXPECT_TRUE(d.Check("u", "same", "hello", kOld, kNow + 10).allowed);
  EXPECT_FALSE(d.Check("u", "new", "hello", kOld, kNow + 20).allowed);
}

TEST(ModerationSpam, BurstsAreBlocked) {
  SpamDetector d({.burst_limit = 5, .burst_window = std::chrono::seconds(10)});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(d.Check("u", std::to_string(i), "m" + std::to_string(i) + " x", kOld, kNow + i).allowed);
  auto v = d.Check("u", "6", "another one", kOld, kNow + 6);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "burst");
  EXPECT_TRUE(d.Check("u", "7", "later", kOld, kNow + 11'000).allowed);
  SpamDetector off({.repeat_limit = 1000});  // the default burst limit: none
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Check("u", std::to_string(i), "line " + std::to_string(i), kOld, kNow + i).allowed);
}

TEST(ModerationSpam, LinksAreCountedAndLimited) {
  EXPECT_EQ(CountLinks("see https://a.example/x and www.b.org, c.com/path, not.a.thing, x://y"), 4);
  EXPECT_EQ(CountLinks("no links here. really."), 0);
  SpamDetector d({.max_links = 2});
  EXPECT_TRUE(d.Check("u", "1", "https://a.io https://b.io", kOld, kNow).allowed);
  auto v = d.Check("u", "2", "https://a.io https://b.io https://c.io", kOld, kNow);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "links");
}

TEST(ModerationSpam, NewAccountsMayNotPostLinks) {
  SpamDetector d({.new_account_age = std::chrono::seconds(600), .new_account_max_links = 0});
  auto v = d.Check("u", "1", "free beats at https://spam.example", kNow - 60'000, kNow);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "new_account_links");
  EXPECT_TRUE(d.Check("u", "2", "hello, I am new", kNow - 60'000, kNow).allowed);
  EXPECT_TRUE(d.Check("v", "1", "https://fine.example", kNow - 601'000, kNow).allowed);
}

TEST(ModerationSpam, ShoutingIsBlockedShortCapsAreNot) {
  SpamDetector d;
  auto v = d.Check("u", "1", "THIS TRACK IS AMAZING LISTEN NOW", kOld, kNow);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "caps");
  EXPECT_TRUE(d.Check("u", "2", "LOL OK", kOld, kNow).allowed);
  EXPECT_TRUE(d.Check("u", "3", "I love the new EP from ABBA and MGMT today", kOld, kNow).allowed);
  EXPECT_FALSE(d.Check("u", "4", "ÇA VA ÊTRE ÉNORME CE SOIR", kOld, kNow).allowed) << "accented capitals count";
}

}  // namespace
}  // namespace veza::moderation
