#include "domain/error_table.h"

#include <gtest/gtest.h>

#include <set>

namespace veza {
namespace {

TEST(ErrorTable, EveryCodeHasDistinctHttpStatusAndWsCode) {
  std::set<int> http, ws;
  int codes = 0;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    const auto& forms = WireForms(static_cast<ErrorCode>(c));
    EXPECT_GE(forms.http_status, 400);
    EXPECT_FALSE(forms.title.empty());
    EXPECT_NE(ErrorCodeName(static_cast<ErrorCode>(c)), "");
    http.insert(forms.http_status);
    ws.insert(forms.ws_code);
    ++codes;
  }
  EXPECT_EQ(static_cast<int>(http.size()), codes);
  EXPECT_EQ(static_cast<int>(ws.size()), codes);
}

TEST(ErrorTable, CommonMappings) {
  EXPECT_EQ(WireForms(ErrorCode::kNotFound).http_status, 404);
  EXPECT_EQ(WireForms(ErrorCode::kPayloadTooLarge).http_status, 413);
  EXPECT_EQ(WireForms(ErrorCode::kUnavailable).http_status, 503);
  EXPECT_EQ(WireForms(ErrorCode::kUnavailable).grpc_code, 14);
}

}  // namespace
}  // namespace veza
