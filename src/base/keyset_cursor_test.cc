#include "base/keyset_cursor.h"

#include <gtest/gtest.h>

namespace veza {
namespace {

TEST(KeysetCursor, RoundTrips) {
  std::string id = "01a21432-9439-76fb-8ed6-e84865eaa7d5";
  auto decoded = DecodeCursor(EncodeCursor(1732560000123, id));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->first, 1732560000123);
  EXPECT_EQ(decoded->second, id);
}

TEST(KeysetCursor, RejectsAnythingElseAsInvalidArgument) {
  for (std::string_view bad : {"", "_", "12", "12_", "_01a21432-9439-76fb-8ed6-e84865eaa7d5", "x_01a21432-9439-76fb-8ed6-e84865eaa7d5",
                               "-5_01a21432-9439-76fb-8ed6-e84865eaa7d5", "12_not-a-uuid", "12_01A21432-9439-76FB-8ED6-E84865EAA7D5",
                               "99999999999999999999_01a21432-9439-76fb-8ed6-e84865eaa7d5", "1 _01a21432-9439-76fb-8ed6-e84865eaa7d5"}) {
    auto r = DecodeCursor(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace veza
