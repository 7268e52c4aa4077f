#include "base/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace veza {
namespace {

TEST(NewId, IsAUniqueStrictlyIncreasingUuidV7) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 20000; ++i) {
    std::string id = NewId();
    EXPECT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '7');  // version
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // variant
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_GT(id, previous);  // strictly, even within one millisecond
    previous = id;
  }
}

TEST(IsUuid, RejectsOtherShapes) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0192f3a4-5b6c-7d8e-9f00-11223344556"));
  EXPECT_FALSE(IsUuid("0192F3A4-5B6C-7D8E-9F00-112233445566"));
  EXPECT_FALSE(IsUuid("0192f3a4x5b6c-7d8e-9f00-112233445566"));
  EXPECT_TRUE(IsUuid("0192f3a4-5b6c-7d8e-9f00-112233445566"));
}

}  // namespace
}  // namespace veza
