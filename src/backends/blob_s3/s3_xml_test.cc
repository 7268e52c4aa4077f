#include "backends/blob_s3/s3_xml.h"

#include <gtest/gtest.h>

namespace veza::s3 {
namespace {

TEST(XmlUnescape, PredefinedAndNumericEntities) {
  EXPECT_EQ(XmlUnescape("a&amp;b&lt;c&gt;d&quot;e&apos;f"), "a&b<c>d\"e'f");
  EXPECT_EQ(XmlUnescape("&#65;&#x42;&#xe9;&#x1F600;"), "AB\xC3\xA9\xF0\x9F\x98\x80");
  // Unknown or malformed references stay as they are.
  EXPECT_EQ(XmlUnescape("&bogus; & &#xZZ; &#xD800;"), "&bogus; & &#xZZ; &#xD800;");
  EXPECT_EQ(XmlUnescape("&amp;amp;"), "&amp;");  // one level only
}

TEST(XmlFind, MatchesWholeNamesOnly) {
  std::string_view xml = "<R><KeyCount>2</KeyCount><Key a=\"1\">k&amp;1</Key><Empty/></R>";
  EXPECT_EQ(XmlFindElement(xml, "Key").value(), "k&amp;1");
  EXPECT_EQ(XmlFindElement(xml, "KeyCount").value(), "2");
  EXPECT_EQ(XmlFindElement(xml, "Empty").value(), "");
  EXPECT_FALSE(XmlFindElement(xml, "Ke").has_value());
  EXPECT_FALSE(XmlFindElement(xml, "Missing").has_value());
}

// The shape of the ListObjectsV2 example in the S3 API reference, plus an escaped key.
constexpr std::string_view kListPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix/>
  <KeyCount>2</KeyCount>
  <MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>my-image.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>a&amp;b/c&lt;d</Key>
    <LastModified>2009-10-12T17:50:31Z</LastModified>
    <ETag>"599bab3ed2c697f1d26842727561fd94-2"</ETag>
    <Size>0</Size>
    <Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>
  </Contents>
</ListBucketResult>)";

TEST(ParseListObjectsV2, EntriesTruncationAndToken) {
  auto page = ParseListObjectsV2(kListPage);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].key, "my-image.jpg");
  EXPECT_EQ(page->items[0].size, 434234u);
  EXPECT_EQ(page->items[0].etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(page->items[0].modified_unix, 1255369830);
  EXPECT_EQ(page->items[1].key, "a&b/c<d");
  EXPECT_EQ(page->items[1].size, 0u);
  EXPECT_EQ(page->items[1].etag, "599bab3ed2c697f1d26842727561fd94-2");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(ParseListObjectsV2, EmptyAndMalformed) {
  auto empty = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_FALSE(empty->truncated);
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>AccessDenied</Code></Error>").ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents>"
                         "</ListBucketResult>")
          .ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
          .ok());
}

TEST(ParseErrorBody, CodeAndMessage) {
  auto e = ParseErrorBody(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not "
      "exist.</Message><Key>a&amp;b</Key></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The specified key does not exist.");
  EXPECT_FALSE(ParseErrorBody("").has_value());
}

TEST(ParseMultipart, UploadIdAndCompleteEtag) {
  EXPECT_EQ(ParseUploadId("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                          "<UploadId>VXBsb2FkIElE&amp;x</UploadId></InitiateMultipartUploadResult>")
                .value(),
            "VXBsb2FkIElE&x");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());
  EXPECT_EQ(ParseCompleteEtag("<CompleteMultipartUploadResult><ETag>&quot;3858f62230ac3c915f300c"
                              "664312c11f-9&quot;</ETag></CompleteMultipartUploadResult>")
                .value(),
            "3858f62230ac3c915f300c664312c11f-9");
  // 200 OK with an error document: S3 documents this for CompleteMultipartUpload.
  auto failed = ParseCompleteEtag("<Error><Code>InternalError</Code><Message>x</Message></Error>");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

TEST(Dates, Iso8601AndHttpDate) {
  EXPECT_EQ(ParseIso8601("2009-10-12T17:50:30.000Z").value(), 1255369830);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseIso8601("2024-02-29T23:59:59Z").value(), 1709251199);
  EXPECT_FALSE(ParseIso8601("2009-10-12 17:50:30").has_value());
  EXPECT_EQ(ParseHttpDate("Mon, 12 Oct 2009 17:50:30 GMT").value(), 1255369830);
  EXPECT_EQ(ParseHttpDate("Fri, 24 May 2013 00:00:00 GMT").value(), 1369353600);
  EXPECT_FALSE(ParseHttpDate("24 May 2013").has_value());
  EXPECT_FALSE(ParseHttpDate("Fri, 24 Foo 2013 00:00:00 GMT").has_value());
}

TEST(StripQuotes, OnlyMatchingOuterQuotes) {
  EXPECT_EQ(StripQuotes("\"abc\""), "abc");
  EXPECT_EQ(StripQuotes("abc"), "abc");
  EXPECT_EQ(StripQuotes("\""), "\"");
}

}  // namespace
}  // namespace veza::s3
