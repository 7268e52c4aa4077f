#include "api/http/static_files.h"

#include <gtest/gtest.h>

namespace veza::http {
namespace {

TEST(ParseRangeHeader, Forms) {
  auto r = ParseRangeHeader("bytes=0-99", 1000);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->last, 99u);

  r = ParseRangeHeader("bytes=900-", 1000);
  EXPECT_EQ((*r)->first, 900u);
  EXPECT_EQ((*r)->last, 999u);

  r = ParseRangeHeader("bytes=-100", 1000);
  EXPECT_EQ((*r)->first, 900u);
  EXPECT_EQ((*r)->last, 999u);

  r = ParseRangeHeader("bytes=-5000", 1000);  // suffix larger than the file: all of it
  EXPECT_EQ((*r)->first, 0u);

  r = ParseRangeHeader("bytes=990-5000", 1000);  // clamped
  EXPECT_EQ((*r)->last, 999u);
}

TEST(ParseRangeHeader, IgnoredOrUnsatisfiable) {
  EXPECT_FALSE(ParseRangeHeader("", 10)->has_value());
  EXPECT_FALSE(ParseRangeHeader("items=0-1", 10)->has_value());
  EXPECT_FALSE(ParseRangeHeader("bytes=0-1,3-4", 10)->has_value());
  EXPECT_FALSE(ParseRangeHeader("bytes=5-2", 10)->has_value());
  EXPECT_FALSE(ParseRangeHeader("bytes=abc", 10)->has_value());
  auto past = ParseRangeHeader("bytes=10-", 10);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, ErrorCode::kRangeNotSatisfiable);
  EXPECT_FALSE(ParseRangeHeader("bytes=-0", 10).ok());
}

TEST(DecodePath, DecodesAndRejectsTraversal) {
  EXPECT_EQ(DecodePath("/a%20b/c").value(), "/a b/c");
  EXPECT_FALSE(DecodePath("/../etc/passwd").ok());
  EXPECT_FALSE(DecodePath("/a/%2e%2e/b").ok());
  EXPECT_FALSE(DecodePath("/a%00b").ok());
  EXPECT_FALSE(DecodePath("/a%zz").ok());
  EXPECT_FALSE(DecodePath("/a%2").ok());
  EXPECT_TRUE(DecodePath("/a..b/c").ok());  // only whole ".." segments are traversal
}

TEST(MimeTypeFor, KnownAndUnknown) {
  EXPECT_EQ(MimeTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("blob.bin"), "application/octet-stream");
}

TEST(ContentSecurityPolicyFor, AllowsInlineScriptsByHashOnly) {
  std::string policy = ContentSecurityPolicyFor(
      "<html><script>alert(1)</script><script type=\"module\" src=\"/assets/app.js\"></script></html>");
  EXPECT_NE(policy.find("script-src 'self' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"), std::string::npos)
      << policy;
  EXPECT_EQ(policy.find("'unsafe-inline' ;"), std::string::npos);
  std::string script_src = policy.substr(policy.find("script-src"), policy.find(';', policy.find("script-src")) -
                                                                       policy.find("script-src"));
  EXPECT_EQ(script_src.find("unsafe"), std::string::npos) << script_src;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(policy.find("object-src 'none'"), std::string::npos);
  EXPECT_EQ(ContentSecurityPolicyFor("<p>no scripts</p>").find("sha256"), std::string::npos);
}

}  // namespace
}  // namespace veza::http
