#include "api/http/router.h"

#include <gtest/gtest.h>

namespace veza::http {
namespace {

Handler Tagged(int) {
  return [](RequestContext& ctx) -> boost::asio::awaitable<Response> {
    co_return Text(bhttp::status::ok, "x", "text/plain", ctx.request);
  };
}

TEST(Router, LiteralBeatsParameterAndParamsAreCaptured) {
  Router r;
  r.Add(bhttp::verb::get, "/api/v1/users/me", Tagged(1));
  r.Add(bhttp::verb::get, "/api/v1/users/{username}", Tagged(2));
  r.Add(bhttp::verb::get, "/api/v1/users/{username}/tracks/{id}", Tagged(3));
  auto me = r.Find(bhttp::verb::get, "/api/v1/users/me");
  ASSERT_NE(me.handler, nullptr);
  EXPECT_EQ(me.pattern, "/api/v1/users/me");
  EXPECT_TRUE(me.params.empty());

  auto other = r.Find(bhttp::verb::get, "/api/v1/users/alice");
  ASSERT_NE(other.handler, nullptr);
  EXPECT_EQ(other.pattern, "/api/v1/users/{username}");
  ASSERT_EQ(other.params.size(), 1u);
  EXPECT_EQ(other.params[0].first, "username");
  EXPECT_EQ(other.params[0].second, "alice");

  auto nested = r.Find(bhttp::verb::get, "/api/v1/users/bob/tracks/42");
  ASSERT_NE(nested.handler, nullptr);
  ASSERT_EQ(nested.params.size(), 2u);
  EXPECT_EQ(nested.params[1].second, "42");
}

TEST(Router, WrongMethodReportsAllowAndUnknownPathReportsNothing) {
  Router r;
  r.Add(bhttp::verb::get, "/things/{id}", Tagged(1));
  r.Add(bhttp::verb::delete_, "/things/{id}", Tagged(2));
  auto m = r.Find(bhttp::verb::post, "/things/7");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_NE(m.allow.find("GET"), std::string::npos);
  EXPECT_NE(m.allow.find("HEAD"), std::string::npos);
  EXPECT_NE(m.allow.find("DELETE"), std::string::npos);

  auto none = r.Find(bhttp::verb::get, "/nothing/here");
  EXPECT_EQ(none.handler, nullptr);
  EXPECT_TRUE(none.allow.empty());
  // An empty segment never matches a parameter.
  EXPECT_EQ(r.Find(bhttp::verb::get, "/things/").handler, nullptr);
}

TEST(Router, HeadFallsBackToGetAndRestCapturesTheTail) {
  Router r;
  r.Add(bhttp::verb::get, "/files/{path...}", Tagged(1));
  auto m = r.Find(bhttp::verb::head, "/files/a/b/c.txt");
  ASSERT_NE(m.handler, nullptr);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].second, "a/b/c.txt");
}

TEST(Router, BacktracksFromDeadLiteralBranch) {
  Router r;
  r.Add(bhttp::verb::get, "/a/b/c", Tagged(1));
  r.Add(bhttp::verb::get, "/a/{x}/d", Tagged(2));
  auto m = r.Find(bhttp::verb::get, "/a/b/d");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.pattern, "/a/{x}/d");
}

TEST(Router, RejectsDuplicateRoutes) {
  Router r;
  r.Add(bhttp::verb::get, "/x", Tagged(1));
  EXPECT_THROW(r.Add(bhttp::verb::get, "/x", Tagged(2)), std::invalid_argument);
  EXPECT_EQ(r.Routes().size(), 1u);
}

}  // namespace
}  // namespace veza::http
