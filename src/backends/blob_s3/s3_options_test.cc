#include "backends/blob_s3/s3_options.h"

#include <gtest/gtest.h>

#include <map>

namespace veza::s3 {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kAwsEnv = FakeEnv({{"AWS_ACCESS_KEY_ID", "AKID"},
                                   {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                   {"AWS_SESSION_TOKEN", "TOKEN"}});

TEST(ParseS3Url, EndpointMeansPathStyle) {
  auto o = ParseS3Url("s3://veza-test?endpoint=http://127.0.0.1:15568&region=us-east-1", kAwsEnv);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->bucket, "veza-test");
  EXPECT_EQ(o->region, "us-east-1");
  EXPECT_FALSE(o->endpoint.tls);
  EXPECT_EQ(o->endpoint.host, "127.0.0.1");
  EXPECT_EQ(o->endpoint.port, "15568");
  EXPECT_EQ(o->endpoint.HostHeader(), "127.0.0.1:15568");
  EXPECT_TRUE(o->path_style);
  EXPECT_EQ(o->part_size, kDefaultPartSize);
  EXPECT_EQ(o->credentials.access_key_id, "AKID");
  EXPECT_EQ(o->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(o->credentials.session_token, "TOKEN");
}

TEST(ParseS3Url, AwsDefaultsToVirtualHostedHttps) {
  auto o = ParseS3Url("s3://media?region=eu-west-1", kAwsEnv);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->endpoint.tls);
  EXPECT_EQ(o->endpoint.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(o->endpoint.port, "443");
  EXPECT_EQ(o->endpoint.HostHeader(), "s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(o->path_style);
  auto defaults = ParseS3Url("s3://media", kAwsEnv);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->region, "us-east-1");
  EXPECT_EQ(defaults->endpoint.host, "s3.us-east-1.amazonaws.com");
}

TEST(ParseS3Url, UserinfoCredentialsWinAndAreDecoded) {
  auto o = ParseS3Url(
      "s3://AK%2BID:se%2Fcr+et@bucket?endpoint=https://minio.local&path_style=false", kAwsEnv);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->credentials.access_key_id, "AK+ID");
  EXPECT_EQ(o->credentials.secret_access_key, "se/cr+et");
  EXPECT_EQ(o->credentials.session_token, "");  // the env token belongs to the env keys
  EXPECT_TRUE(o->endpoint.tls);
  EXPECT_EQ(o->endpoint.port, "443");
  EXPECT_FALSE(o->path_style);
}

TEST(ParseS3Url, PartSize) {
  auto o = ParseS3Url("s3://b?endpoint=http://h:1&part_size=16M", kAwsEnv);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->part_size, 16u << 20);
  EXPECT_EQ(ParseS3Url("s3://b?part_size=6291456", kAwsEnv)->part_size, 6291456u);
  EXPECT_FALSE(ParseS3Url("s3://b?part_size=1M", kAwsEnv).ok());  // below S3's 5 MiB
  EXPECT_FALSE(ParseS3Url("s3://b?part_size=lots", kAwsEnv).ok());
}

TEST(ParseS3Url, ListPageSize) {
  EXPECT_EQ(ParseS3Url("s3://b", kAwsEnv)->list_page_size, 1000u);
  EXPECT_EQ(ParseS3Url("s3://b?list_page_size=2", kAwsEnv)->list_page_size, 2u);
  EXPECT_FALSE(ParseS3Url("s3://b?list_page_size=0", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://b?list_page_size=1001", kAwsEnv).ok());
}

TEST(ParseS3Url, Ipv6Endpoint) {
  // '[' and ']' may not appear raw in a query (RFC 3986), so they come percent-encoded.
  auto o = ParseS3Url("s3://b?endpoint=http://%5B::1%5D:9000", kAwsEnv);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->endpoint.host, "::1");
  EXPECT_EQ(o->endpoint.HostHeader(), "[::1]:9000");
}

TEST(ParseS3Url, Rejections) {
  EXPECT_FALSE(ParseS3Url("http://bucket", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://bad_bucket!?x", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://b/prefix", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://b?endpoint=ftp://h", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://b?endpoint=http://h/base", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://b?regoin=x", kAwsEnv).ok());  // typos are caught
  EXPECT_FALSE(ParseS3Url("s3://b?path_style=maybe", kAwsEnv).ok());
  EXPECT_FALSE(ParseS3Url("s3://onlyuser@b", kAwsEnv).ok());
}

TEST(ParseS3Url, MissingCredentialsSayWhere) {
  auto o = ParseS3Url("s3://b", FakeEnv({}));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(o.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(ParseS3Url, ErrorsNeverEchoTheSecret) {
  auto o = ParseS3Url("s3://AKID:TOPSECRET@b?endpoint=ftp://x", kAwsEnv);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().message.find("TOPSECRET"), std::string::npos);
}

}  // namespace
}  // namespace veza::s3
