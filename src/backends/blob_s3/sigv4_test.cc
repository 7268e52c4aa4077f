// SigV4 against published answers only: AWS's "Signature Version 4 test suite"
// (aws-sig-v4-test-suite, credentials AKIDEXAMPLE, 20150830T123600Z, us-east-1, service
// "service") and the worked examples of the S3 API reference ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" and "Authenticating Requests:
// Using Query Parameters"). Every expected string below is copied from those documents, never
// computed by this code.
#include "backends/blob_s3/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>

namespace veza::sigv4 {
namespace {

constexpr std::string_view kSuiteDate = "20150830T123600Z";
constexpr std::string_view kSuiteHost = "example.amazonaws.com";
const char kSuiteToken[] =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
    "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYw"
    "T7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKml"
    "zm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

Signer SuiteSigner() {
  return Signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
                "service");
}

Request SuiteRequest(std::string method, std::string path, Pairs query = {},
                     Pairs extra_headers = {}, std::string body = "") {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", std::string(kSuiteHost)}};
  for (auto& h : extra_headers) r.headers.push_back(std::move(h));
  r.headers.emplace_back("X-Amz-Date", std::string(kSuiteDate));
  r.payload_hash = Sha256Hex(body);
  return r;
}

std::string SuiteAuthz(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

struct SuiteCase {
  const char* name;
  Request request;
  const char* signed_headers;
  const char* signature;
};

class SigV4SuiteTest : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(SigV4SuiteTest, AuthorizationMatchesPublishedAuthz) {
  const SuiteCase& c = GetParam();
  EXPECT_EQ(SuiteSigner().Authorization(c.request, kSuiteDate),
            SuiteAuthz(c.signed_headers, c.signature));
}

INSTANTIATE_TEST_SUITE_P(
    AwsSigV4TestSuite, SigV4SuiteTest,
    ::testing::Values(
        SuiteCase{"get_vanilla", SuiteRequest("GET", "/"), "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"get_vanilla_query_order_key_case",
                  SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
                  "host;x-amz-date",
                  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        SuiteCase{"get_vanilla_query_order_key",
                  SuiteRequest("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}),
                  "host;x-amz-date",
                  "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
        SuiteCase{"get_vanilla_query_order_value",
                  SuiteRequest("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}),
                  "host;x-amz-date",
                  "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
        SuiteCase{"get_vanilla_empty_query_key", SuiteRequest("GET", "/", {{"Param1", "value1"}}),
                  "host;x-amz-date",
                  "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
        SuiteCase{
            "get_vanilla_query_unreserved",
            SuiteRequest("GET", "/",
                         {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                           "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}}),
            "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
        SuiteCase{"get_vanilla_utf8_query", SuiteRequest("GET", "/", {{"\xE1\x88\xB4", "bar"}}),
                  "host;x-amz-date",
                  "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
        SuiteCase{
            "get_unreserved",
            SuiteRequest("GET",
                         "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
            "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
        SuiteCase{"get_space", SuiteRequest("GET", "/example space/"), "host;x-amz-date",
                  "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
        SuiteCase{"get_header_key_duplicate",
                  SuiteRequest("GET", "/", {},
                               {{"My-Header1", "value2"},
                                {"My-Header1", "value2"},
                                {"My-Header1", "value1"}}),
                  "host;my-header1;x-amz-date",
                  "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
        SuiteCase{"get_header_value_order",
                  SuiteRequest("GET", "/", {},
                               {{"My-Header1", "value4"},
                                {"My-Header1", "value1"},
                                {"My-Header1", "value3"},
                                {"My-Header1", "value2"}}),
                  "host;my-header1;x-amz-date",
                  "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
        SuiteCase{"get_header_value_trim",
                  SuiteRequest("GET", "/", {},
                               {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
                  "host;my-header1;my-header2;x-amz-date",
                  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        SuiteCase{"post_vanilla", SuiteRequest("POST", "/"), "host;x-amz-date",
                  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        SuiteCase{"post_vanilla_query", SuiteRequest("POST", "/", {{"Param1", "value1"}}),
                  "host;x-amz-date",
                  "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
        SuiteCase{"post_header_key_sort", SuiteRequest("POST", "/", {}, {{"My-Header1", "value1"}}),
                  "host;my-header1;x-amz-date",
                  "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
        SuiteCase{"post_header_value_case",
                  SuiteRequest("POST", "/", {}, {{"My-Header1", "VALUE1"}}),
                  "host;my-header1;x-amz-date",
                  "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
        SuiteCase{
            "post_x_www_form_urlencoded",
            SuiteRequest("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "Param1=value1"),
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
        // Some repackagings of the suite print "charset=utf-8" and a Content-Length here; the
        // suite's own .sts hash (checked below) is that of "charset=utf8" without it.
        SuiteCase{
            "post_x_www_form_urlencoded_parameters",
            SuiteRequest("POST", "/", {},
                         {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
                         "Param1=value1"),
            "content-type;host;x-amz-date",
            "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
        // The token is signed when it is a header at signing time ...
        SuiteCase{"post_sts_header_before",
                  SuiteRequest("POST", "/", {}, {{"X-Amz-Security-Token", kSuiteToken}}),
                  "host;x-amz-date;x-amz-security-token",
                  "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
        // ... and the vanilla signature stays valid when it is only added afterwards.
        SuiteCase{"post_sts_header_after", SuiteRequest("POST", "/"), "host;x-amz-date",
                  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"}),
    [](const ::testing::TestParamInfo<SuiteCase>& info) { return std::string(info.param.name); });

// The suite's .creq and .sts files: the intermediate steps, byte for byte.
TEST(SigV4, GetVanillaCanonicalRequestAndStringToSign) {
  CanonicalRequest c = BuildCanonicalRequest(SuiteRequest("GET", "/"));
  EXPECT_EQ(c.text,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(kSuiteDate, "20150830/us-east-1/service/aws4_request", c.text),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
}

TEST(SigV4, HeaderValueTrimCanonicalRequest) {
  CanonicalRequest c = BuildCanonicalRequest(
      SuiteRequest("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}));
  EXPECT_EQ(c.text,
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, Utf8QueryAndSpacePathCanonicalRequests) {
  EXPECT_EQ(BuildCanonicalRequest(SuiteRequest("GET", "/", {{"\xE1\x88\xB4", "bar"}})).text,
            "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(BuildCanonicalRequest(SuiteRequest("GET", "/example space/")).text,
            "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, PostStsHeaderBeforeStringToSign) {
  CanonicalRequest c =
      BuildCanonicalRequest(SuiteRequest("POST", "/", {}, {{"X-Amz-Security-Token", kSuiteToken}}));
  EXPECT_EQ(StringToSign(kSuiteDate, "20150830/us-east-1/service/aws4_request", c.text),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6");
}

TEST(SigV4, PostFormStringsToSign) {
  CanonicalRequest plain = BuildCanonicalRequest(SuiteRequest(
      "POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1"));
  EXPECT_EQ(StringToSign(kSuiteDate, "20150830/us-east-1/service/aws4_request", plain.text),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  CanonicalRequest params = BuildCanonicalRequest(SuiteRequest(
      "POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
      "Param1=value1"));
  EXPECT_EQ(StringToSign(kSuiteDate, "20150830/us-east-1/service/aws4_request", params.text),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c");
}

// --- S3 API reference examples ---------------------------------------------------------------

constexpr std::string_view kS3Date = "20130524T000000Z";

Signer S3ExampleSigner() {
  return Signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                "us-east-1", "s3");
}

std::string SignatureOf(const std::string& authorization) {
  auto pos = authorization.find("Signature=");
  return pos == std::string::npos ? "" : authorization.substr(pos + 10);
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
               {"x-amz-date", std::string(kS3Date)}};
  r.payload_hash = std::string(kEmptyPayloadSha256);
  CanonicalRequest c = BuildCanonicalRequest(r);
  EXPECT_EQ(
      c.text,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(kS3Date, "20130524/us-east-1/s3/aws4_request", c.text),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  std::string authz = S3ExampleSigner().Authorization(r, kS3Date);
  EXPECT_NE(authz.find("Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
            std::string::npos);
  EXPECT_NE(authz.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(authz), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectWithPayloadAndEncodedKey) {
  const std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r;
  r.method = "PUT";
  r.path = "/test$file.text";  // '$' is encoded once: /test%24file.text
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", Sha256Hex(body)},
               {"x-amz-date", std::string(kS3Date)},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_hash = Sha256Hex(body);
  CanonicalRequest c = BuildCanonicalRequest(r);
  EXPECT_EQ(c.text.substr(0, 21), "PUT\n/test%24file.text");
  EXPECT_EQ(StringToSign(kS3Date, "20130524/us-east-1/s3/aws4_request", c.text),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  std::string authz = S3ExampleSigner().Authorization(r, kS3Date);
  EXPECT_NE(
      authz.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"),
      std::string::npos);
  EXPECT_EQ(SignatureOf(authz), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

Request S3BucketGet(Pairs query) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = std::move(query);
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
               {"x-amz-date", std::string(kS3Date)}};
  r.payload_hash = std::string(kEmptyPayloadSha256);
  return r;
}

TEST(SigV4S3Examples, GetBucketLifecycleValuelessParameter) {
  EXPECT_EQ(SignatureOf(S3ExampleSigner().Authorization(S3BucketGet({{"lifecycle", ""}}), kS3Date)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjectsSortsQuery) {
  Request r = S3BucketGet({{"prefix", "J"}, {"max-keys", "2"}});
  CanonicalRequest c = BuildCanonicalRequest(r);
  EXPECT_EQ(StringToSign(kS3Date, "20130524/us-east-1/s3/aws4_request", c.text),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(SignatureOf(S3ExampleSigner().Authorization(r, kS3Date)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Examples, PresignedGetUrl) {
  std::string query =
      S3ExampleSigner().PresignQuery("GET", "/test.txt", {}, "examplebucket.s3.amazonaws.com",
                                     kS3Date, std::chrono::seconds(86400));
  EXPECT_EQ("https://examplebucket.s3.amazonaws.com/test.txt?" + query,
            "https://examplebucket.s3.amazonaws.com/test.txt"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

// --- helpers ---------------------------------------------------------------------------------

TEST(SigV4, UriEncodeKeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(UriEncode("a b/c~d", false), "a%20b/c~d");
  EXPECT_EQ(UriEncode("a b/c~d", true), "a%20b%2Fc~d");
  EXPECT_EQ(UriEncode("+=&\xC3\xA9", true), "%2B%3D%26%C3%A9");
}

TEST(SigV4, FormatAmzDate) {
  // 2015-08-30T12:36:00Z
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  EXPECT_EQ(FormatAmzDate(t), "20150830T123600Z");
}

TEST(SigV4, PresignCarriesSessionTokenAsSignedQueryParameter) {
  Signer signer({"AKID", "SECRET", "TOKEN/+="}, "eu-west-1", "s3");
  std::string q = signer.PresignQuery("GET", "/b/k", {}, "h:9000", "20240101T000000Z",
                                      std::chrono::seconds(60));
  EXPECT_NE(q.find("&X-Amz-Security-Token=TOKEN%2F%2B%3D&"), std::string::npos) << q;
  EXPECT_NE(q.find("X-Amz-Credential=AKID%2F20240101%2Feu-west-1%2Fs3%2Faws4_request"),
            std::string::npos);
}

}  // namespace
}  // namespace veza::sigv4
