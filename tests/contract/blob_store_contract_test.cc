// The BlobStore contract, run against every backend: "local" (a temp dir per test) and "s3"
// (the s3rver bucket named by VEZA_TEST_S3_URL, started by scripts/test-services). Tests run in
// parallel processes against one shared bucket, so each test works under its own random key
// prefix and removes it afterwards.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <utime.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/blob_local/local_blob_store.h"
#include "backends/blob_s3/s3_blob_store.h"
#include "ports/blob_store.h"

namespace veza {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr std::size_t kMiB = 1 << 20;

std::string RandomHex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += kDigits[rng() & 15];
  return out;
}

// Incompressible, reproducible bytes: chunk i of a large object can be regenerated to check
// any range of it.
std::string Pattern(std::uint64_t seed, std::size_t size) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t v = rng();
    for (std::size_t j = 0; j < 8 && i + j < size; ++j)
      out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += kDigits[digest[i] >> 4];
      out += kDigits[digest[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::string error;
};

// A plain HTTP GET with nothing but the URL: what a browser or CDN does with a presigned URL.
HttpReply PlainHttpGet(const std::string& url) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  HttpReply reply;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http") {
    reply.error = "not an http:// URL: " + url;
    return reply;
  }
  try {
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
    stream.connect(resolver.resolve(std::string(parsed->host_address()), port));
    std::string target(parsed->encoded_path());
    if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, parsed->encoded_host_and_port());
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * kMiB);
    http::read(stream, buffer, parser);
    reply.status = parser.get().result_int();
    reply.body = parser.get().body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

std::string ReadToEnd(BlobReader& reader, std::size_t chunk) {
  std::string out;
  for (;;) {
    auto part = reader.Read(chunk);
    EXPECT_TRUE(part.ok()) << part.error().message;
    if (!part.ok() || part->empty()) return out;
    out += *part;
  }
}

std::vector<std::string> Keys(const std::vector<BlobInfo>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.key);
  return out;
}

class BlobStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    prefix_ = "ct-" + RandomHex(16) + "/";
    if (GetParam() == "local") {
      dir_ = fs::temp_directory_path() / ("veza-blob-contract-" + RandomHex(12));
      auto store = OpenLocalBlobStore("file://" + dir_.string());
      ASSERT_TRUE(store.ok()) << store.error().message;
      store_ = std::move(*store);
    } else {
      const char* url = std::getenv("VEZA_TEST_S3_URL");
      ASSERT_NE(url, nullptr)
          << "VEZA_TEST_S3_URL is not set: the s3 blob store contract needs a real S3 server; "
             "run the tests under scripts/test-services run -- <command>";
      auto store = OpenS3BlobStore(url);
      ASSERT_TRUE(store.ok()) << store.error().message;
      store_ = std::move(*store);
    }
  }

  void TearDown() override {
    if (store_) {
      auto left = store_->List(prefix_, "", 100000);
      if (left.ok()) {
        for (const auto& info : *left) (void)store_->Delete(info.key);
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  bool IsS3() const { return GetParam() == "s3"; }
  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  void PutOk(const std::string& key, std::string_view bytes) {
    auto info = store_->Put(key, bytes);
    ASSERT_TRUE(info.ok()) << key << ": " << info.error().message;
  }

  std::unique_ptr<BlobStore> store_;
  std::string prefix_;
  fs::path dir_;
};

TEST_P(BlobStoreContractTest, PingSucceeds) { EXPECT_TRUE(store_->Ping().ok()); }

TEST_P(BlobStoreContractTest, EmptyObjectRoundTrips) {
  auto info = store_->Put(Key("empty"), "");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->key, Key("empty"));
  EXPECT_EQ(info->size, 0u);
  auto bytes = store_->GetAll(Key("empty"));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "");
  // The whole-object range {0, to the end} is no range at all, even on an empty object.
  auto whole = store_->GetAll(Key("empty"), ByteRange{0, std::nullopt});
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(*whole, "");
  // Any explicit range of an empty object starts past its end.
  auto ranged = store_->OpenReader(Key("empty"), ByteRange{0, 5});
  ASSERT_FALSE(ranged.ok());
  EXPECT_EQ(ranged.error().code, ErrorCode::kRangeNotSatisfiable) << ranged.error().message;
  auto stat = store_->Stat(Key("empty"));
  ASSERT_TRUE(stat.ok()) << stat.error().message;
  EXPECT_EQ(stat->size, 0u);
}

TEST_P(BlobStoreContractTest, OneByteRoundTrips) {
  PutOk(Key("one"), "x");
  auto bytes = store_->GetAll(Key("one"));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "x");
}

TEST_P(BlobStoreContractTest, BinaryRoundTripsExactly) {
  std::string binary;
  for (int round = 0; round < 64; ++round) {
    for (int c = 0; c < 256; ++c) binary += static_cast<char>(c);
  }
  binary += std::string("\0\r\n\0", 4);
  auto info = store_->Put(Key("bin/all-bytes.dat"), binary, "application/x-test");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, binary.size());
  auto bytes = store_->GetAll(Key("bin/all-bytes.dat"));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_TRUE(*bytes == binary) << "binary content differs";
}

// 20 MiB in 1 MiB writes: more than two parts, so S3 goes through a multipart upload.
TEST_P(BlobStoreContractTest, LargeStreamedObjectRoundTrips) {
  constexpr int kChunks = 20;
  const std::string key = Key("large/twenty-mib.bin");
  Sha256 written;
  {
    auto writer = store_->OpenWriter(key, "application/octet-stream");
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    for (int i = 0; i < kChunks; ++i) {
      std::string chunk = Pattern(i, kMiB);
      written.Update(chunk);
      Status s = (*writer)->Write(chunk);
      ASSERT_TRUE(s.ok()) << "chunk " << i << ": " << s.error().message;
    }
    auto info = (*writer)->Commit();
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->size, kChunks * kMiB);
    EXPECT_FALSE(info->etag.empty());
  }
  auto stat = store_->Stat(key);
  ASSERT_TRUE(stat.ok()) << stat.error().message;
  EXPECT_EQ(stat->size, kChunks * kMiB);

  auto reader = store_->OpenReader(key);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*reader)->Info().size, kChunks * kMiB);
  Sha256 read;
  std::uint64_t total = 0;
  for (;;) {
    auto chunk = (*reader)->Read(kMiB);
    ASSERT_TRUE(chunk.ok()) << chunk.error().message;
    if (chunk->empty()) break;
    ASSERT_LE(chunk->size(), kMiB);
    total += chunk->size();
    read.Update(*chunk);
  }
  EXPECT_EQ(total, kChunks * kMiB);
  EXPECT_EQ(read.Hex(), written.Hex());

  // A range across the 8 MiB boundary, where S3's first part ends.
  auto across = store_->GetAll(key, ByteRange{8 * kMiB - 10, 20});
  ASSERT_TRUE(across.ok()) << across.error().message;
  EXPECT_TRUE(*across == Pattern(7, kMiB).substr(kMiB - 10) + Pattern(8, kMiB).substr(0, 10));
}

// One Write bigger than a part must be split, not buffered whole.
TEST_P(BlobStoreContractTest, SingleHugeWriteRoundTrips) {
  std::string bytes = Pattern(99, 9 * kMiB + 123);
  auto info = store_->Put(Key("huge-write"), bytes);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, bytes.size());
  auto back = store_->GetAll(Key("huge-write"));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == bytes) << "content differs";
}

TEST_P(BlobStoreContractTest, RangedReads) {
  const std::string key = Key("range.txt");
  PutOk(key, "0123456789abcdefghij");  // 20 bytes
  auto get = [&](std::uint64_t offset, std::optional<std::uint64_t> length) {
    return store_->GetAll(key, ByteRange{offset, length});
  };
  auto middle = get(5, 4);
  ASSERT_TRUE(middle.ok()) << middle.error().message;
  EXPECT_EQ(*middle, "5678");
  auto to_end = get(15, std::nullopt);
  ASSERT_TRUE(to_end.ok()) << to_end.error().message;
  EXPECT_EQ(*to_end, "fghij");
  auto clamped = get(15, 100);
  ASSERT_TRUE(clamped.ok()) << clamped.error().message;
  EXPECT_EQ(*clamped, "fghij");
  auto first = get(0, 1);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, "0");
  auto last = get(19, 1);
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(*last, "j");

  auto reader = store_->OpenReader(key, ByteRange{5, 4});
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*reader)->Info().size, 20u) << "Info().size is the whole object's size";
  EXPECT_EQ((*reader)->Info().key, key);
  EXPECT_EQ(ReadToEnd(**reader, 1), "5678");

  for (auto [offset, length] : std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>>{
           {20, std::nullopt}, {20, 1}, {25, 3}, {1000000, std::nullopt}}) {
    auto past = store_->OpenReader(key, ByteRange{offset, length});
    ASSERT_FALSE(past.ok()) << "offset " << offset;
    EXPECT_EQ(past.error().code, ErrorCode::kRangeNotSatisfiable)
        << "offset " << offset << ": " << past.error().message;
  }
  auto empty_range = store_->OpenReader(key, ByteRange{3, 0});
  ASSERT_FALSE(empty_range.ok());
  EXPECT_EQ(empty_range.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(BlobStoreContractTest, StatReportsSizeEtagAndTime) {
  const std::string key = Key("stat/me");
  auto committed = store_->Put(key, "hello");
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  auto stat = store_->Stat(key);
  ASSERT_TRUE(stat.ok()) << stat.error().message;
  EXPECT_EQ(stat->key, key);
  EXPECT_EQ(stat->size, 5u);
  EXPECT_FALSE(stat->etag.empty());
  EXPECT_EQ(stat->etag, committed->etag) << "Commit and Stat agree on the etag";
  auto now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(stat->modified_unix), static_cast<double>(now), 300.0);

  auto reader = store_->OpenReader(key);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*reader)->Info().etag, stat->etag);
  EXPECT_EQ((*reader)->Info().size, 5u);

  PutOk(key, "hello, world");
  auto again = store_->Stat(key);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->size, 12u);
  EXPECT_NE(again->etag, stat->etag) << "new content, new etag";
}

TEST_P(BlobStoreContractTest, MissingKeyIsNotFound) {
  const std::string key = Key("nope/never-written");
  auto stat = store_->Stat(key);
  ASSERT_FALSE(stat.ok());
  EXPECT_EQ(stat.error().code, ErrorCode::kNotFound) << stat.error().message;
  auto reader = store_->OpenReader(key);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, ErrorCode::kNotFound) << reader.error().message;
  auto ranged = store_->OpenReader(key, ByteRange{10, 5});
  ASSERT_FALSE(ranged.ok());
  EXPECT_EQ(ranged.error().code, ErrorCode::kNotFound) << ranged.error().message;
  auto all = store_->GetAll(key);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, ErrorCode::kNotFound);
  // "nope" is a directory-like prefix of nothing; "ct-x/nope" style parents are not objects.
  PutOk(Key("dir/child"), "c");
  auto parent = store_->Stat(Key("dir"));
  ASSERT_FALSE(parent.ok());
  EXPECT_EQ(parent.error().code, ErrorCode::kNotFound);
}

TEST_P(BlobStoreContractTest, DeleteIsIdempotent) {
  const std::string key = Key("del/me");
  PutOk(key, "bye");
  EXPECT_TRUE(store_->Delete(key).ok());
  auto stat = store_->Stat(key);
  ASSERT_FALSE(stat.ok());
  EXPECT_EQ(stat.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete(key).ok()) << "deleting again is fine";
  EXPECT_TRUE(store_->Delete(Key("never/existed")).ok());
  // Deleting a child leaves its sibling alone.
  PutOk(Key("del/a"), "a");
  PutOk(Key("del/b"), "b");
  EXPECT_TRUE(store_->Delete(Key("del/a")).ok());
  EXPECT_TRUE(store_->GetAll(Key("del/b")).ok());
}

TEST_P(BlobStoreContractTest, OverwriteReplacesContent) {
  const std::string key = Key("over/write");
  PutOk(key, "first version, longer");
  PutOk(key, "second");
  auto bytes = store_->GetAll(key);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "second");
  auto stat = store_->Stat(key);
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->size, 6u);
}

TEST_P(BlobStoreContractTest, ListHonorsPrefixStartAfterAndLimit) {
  for (const char* name : {"c/d/e", "a/2", "b", "a/1", "a/3/x"}) PutOk(Key(name), name);
  const std::vector<std::string> all = {Key("a/1"), Key("a/2"), Key("a/3/x"), Key("b"),
                                        Key("c/d/e")};

  auto everything = store_->List(prefix_, "", 1000);
  ASSERT_TRUE(everything.ok()) << everything.error().message;
  EXPECT_EQ(Keys(*everything), all);
  for (const auto& info : *everything) {
    EXPECT_EQ(info.size, info.key.size() - prefix_.size()) << info.key;
    EXPECT_FALSE(info.etag.empty()) << info.key;
  }

  auto under_a = store_->List(Key("a/"), "", 1000);
  ASSERT_TRUE(under_a.ok()) << under_a.error().message;
  EXPECT_EQ(Keys(*under_a), (std::vector<std::string>{Key("a/1"), Key("a/2"), Key("a/3/x")}));

  auto partial_prefix = store_->List(Key("a"), "", 1000);  // not a whole segment
  ASSERT_TRUE(partial_prefix.ok()) << partial_prefix.error().message;
  EXPECT_EQ(Keys(*partial_prefix), Keys(*under_a));

  auto after = store_->List(prefix_, Key("a/2"), 1000);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{Key("a/3/x"), Key("b"), Key("c/d/e")}));

  auto after_missing_key = store_->List(prefix_, Key("a/25"), 1000);  // need not exist
  ASSERT_TRUE(after_missing_key.ok()) << after_missing_key.error().message;
  EXPECT_EQ(Keys(*after_missing_key), Keys(*after));

  auto limited = store_->List(prefix_, "", 2);
  ASSERT_TRUE(limited.ok()) << limited.error().message
                            << (IsS3() ? " (a truncated listing needs a continuation token, "
                                         "which s3rver makes with DES: on Node >= 17 it must "
                                         "run with --openssl-legacy-provider)"
                                       : "");
  EXPECT_EQ(Keys(*limited), (std::vector<std::string>{Key("a/1"), Key("a/2")}));

  auto combined = store_->List(Key("a/"), Key("a/1"), 1);
  ASSERT_TRUE(combined.ok()) << combined.error().message;
  EXPECT_EQ(Keys(*combined), (std::vector<std::string>{Key("a/2")}));

  // Paging one key at a time with start_after visits everything once, in order.
  std::vector<std::string> paged;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    auto page = store_->List(prefix_, cursor, 1);
    ASSERT_TRUE(page.ok()) << page.error().message;
    if (page->empty()) break;
    ASSERT_EQ(page->size(), 1u);
    cursor = (*page)[0].key;
    paged.push_back(cursor);
  }
  EXPECT_EQ(paged, all);

  auto none = store_->List(Key("zzz/"), "", 1000);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  auto zero = store_->List(prefix_, "", 0);
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_TRUE(zero->empty());
  auto past_end = store_->List(prefix_, Key("zzz"), 1000);
  ASSERT_TRUE(past_end.ok()) << past_end.error().message;
  EXPECT_TRUE(past_end->empty());
}

// Listings longer than one server page follow continuation tokens (s3: two keys a page).
TEST_P(BlobStoreContractTest, ListFollowsContinuationTokens) {
  std::unique_ptr<BlobStore> paged_store;
  BlobStore* store = store_.get();
  if (IsS3()) {
    auto reopened =
        OpenS3BlobStore(std::string(std::getenv("VEZA_TEST_S3_URL")) + "&list_page_size=2");
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    paged_store = std::move(*reopened);
    store = paged_store.get();
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) {
    keys.push_back(Key("page/" + std::to_string(i)));
    PutOk(keys.back(), "p");
  }
  auto all = store->List(Key("page/"), "", 1000);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(Keys(*all), keys);
  auto five = store->List(Key("page/"), Key("page/0"), 5);
  ASSERT_TRUE(five.ok()) << five.error().message;
  EXPECT_EQ(Keys(*five), std::vector<std::string>(keys.begin() + 1, keys.begin() + 6));
}

// Byte order puts "x-y" < "x.w" < "x/z" < "x0" ('-' '.' '/' '0' are 0x2D..0x30), which a
// directory walk gets wrong unless it sorts with care.
TEST_P(BlobStoreContractTest, ListOrdersKeysBytewise) {
  if (IsS3() && std::getenv("VEZA_TEST_S3_BYTEWISE_LIST") == nullptr) {
    GTEST_SKIP() << "s3rver 3.7.1 lists in directory-walk order ('x/z' before 'x-y'); real S3 "
                    "is bytewise: set VEZA_TEST_S3_BYTEWISE_LIST=1 to check against one";
  }
  for (const char* name : {"x0", "x/z", "x.w", "x-y"}) PutOk(Key(name), name);
  auto listed = store_->List(prefix_, "", 1000);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(Keys(*listed),
            (std::vector<std::string>{Key("x-y"), Key("x.w"), Key("x/z"), Key("x0")}));
  auto after = store_->List(prefix_, Key("x.w"), 1000);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{Key("x/z"), Key("x0")}));
}

TEST_P(BlobStoreContractTest, DroppedWriterLeavesNothing) {
  {
    auto writer = store_->OpenWriter(Key("dropped/small"), "text/plain");
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    ASSERT_TRUE((*writer)->Write("partial").ok());
  }
  {
    // Past one part: on S3 this has started a multipart upload, which must be abandoned.
    auto writer = store_->OpenWriter(Key("dropped/large"), "application/octet-stream");
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    for (int i = 0; i < 9; ++i) ASSERT_TRUE((*writer)->Write(Pattern(i, kMiB)).ok());
  }
  for (const char* name : {"dropped/small", "dropped/large"}) {
    auto stat = store_->Stat(Key(name));
    ASSERT_FALSE(stat.ok()) << name;
    EXPECT_EQ(stat.error().code, ErrorCode::kNotFound) << name;
  }
  auto listed = store_->List(prefix_, "", 1000);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  if (!dir_.empty()) {
    EXPECT_TRUE(fs::is_empty(dir_ / ".tmp")) << "temp files left behind";
  }

  // A dropped overwrite leaves the old object as it was.
  PutOk(Key("dropped/kept"), "old");
  {
    auto writer = store_->OpenWriter(Key("dropped/kept"), "text/plain");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("new").ok());
  }
  auto kept = store_->GetAll(Key("dropped/kept"));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "old");
}

TEST_P(BlobStoreContractTest, InvalidKeysAreRejected) {
  const std::vector<std::string> bad = {"",
                                        "../x",
                                        "a/../../etc/passwd",
                                        "/abs",
                                        "a//b",
                                        "a/./b",
                                        "..",
                                        "trailing/",
                                        "sp ace",
                                        "back\\slash",
                                        "q?x",
                                        "pct%2F",
                                        "\xC3\xBCnicode",
                                        std::string("nul\0byte", 8),
                                        std::string(1025, 'a')};
  for (const std::string& key : bad) {
    SCOPED_TRACE("key '" + key + "'");
    auto writer = store_->OpenWriter(key, "text/plain");
    ASSERT_FALSE(writer.ok());
    EXPECT_EQ(writer.error().code, ErrorCode::kInvalidArgument);
    auto reader = store_->OpenReader(key);
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.error().code, ErrorCode::kInvalidArgument);
    auto stat = store_->Stat(key);
    ASSERT_FALSE(stat.ok());
    EXPECT_EQ(stat.error().code, ErrorCode::kInvalidArgument);
    Status deleted = store_->Delete(key);
    ASSERT_FALSE(deleted.ok());
    EXPECT_EQ(deleted.error().code, ErrorCode::kInvalidArgument);
    auto url = store_->PresignGet(key, seconds(60));
    ASSERT_FALSE(url.ok());
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  }
  // The longest valid key works (in segments a file system accepts: at most 255 bytes).
  std::string longest = prefix_;
  while (longest.size() < 1024) {
    std::size_t room = 1024 - longest.size();
    longest += std::string(std::min<std::size_t>(200, room), 'k');
    if (longest.size() < 1023) longest += '/';
  }
  ASSERT_EQ(longest.size(), 1024u);
  PutOk(longest, "long");
  auto back = store_->GetAll(longest);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "long");
}

TEST_P(BlobStoreContractTest, PresignedUrl) {
  const std::string key = Key("presign/track.bin");
  std::string bytes = Pattern(7, 100000);
  PutOk(key, bytes);
  auto url = store_->PresignGet(key, seconds(300));
  ASSERT_TRUE(url.ok()) << url.error().message;
  if (!IsS3()) {
    EXPECT_FALSE(url->has_value()) << "a local directory has no URL of its own";
    return;
  }
  ASSERT_TRUE(url->has_value());
  HttpReply reply = PlainHttpGet(**url);
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(reply.body == bytes) << "presigned GET returned other bytes";

  auto too_long = store_->PresignGet(key, seconds(8 * 24 * 3600));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(BlobStoreContractTest, ConcurrentUseFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 6;
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](std::string what) {
    std::lock_guard lock(mu);
    failures.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        // Same directory for all: local commits race with deletes pruning empty directories.
        std::string key = Key("conc/" + std::to_string(t) + "-" + std::to_string(r));
        std::string bytes = Pattern(t * 100 + r, 1000 + t * 37 + r);
        auto put = store_->Put(key, bytes);
        if (!put.ok()) {
          fail("put " + key + ": " + put.error().message);
          continue;
        }
        auto got = store_->GetAll(key);
        if (!got.ok())
          fail("get " + key + ": " + got.error().message);
        else if (*got != bytes)
          fail("get " + key + ": other bytes");
        // s3rver 3.7.1 removes emptied directories on delete and crashes (an unhandled ENOENT)
        // when a PUT into that directory races with it, taking the shared server down for
        // every test; so on s3 the deletes come after the threads.
        if (!IsS3()) {
          Status deleted = store_->Delete(key);
          if (!deleted.ok()) fail("delete " + key + ": " + deleted.error().message);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto left = store_->List(Key("conc/"), "", 1000);
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_EQ(left->size(), IsS3() ? std::size_t{kThreads * kRounds} : 0u);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures[0];
}

// s3rver (Node) closes keep-alive connections idle for 5 s; a pooled connection the server
// has closed must not turn into a failed request.
TEST_P(BlobStoreContractTest, SurvivesIdleConnectionsBeingClosed) {
  PutOk(Key("idle/a"), "before");
  if (IsS3()) std::this_thread::sleep_for(seconds(6));
  auto got = store_->GetAll(Key("idle/a"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "before");
  PutOk(Key("idle/b"), "after");
}

// A reader dropped mid-body must not leave a half-read connection for the next request.
TEST_P(BlobStoreContractTest, ReaderDroppedEarlyDoesNotDisturbLaterRequests) {
  std::string big = Pattern(3, 3 * kMiB);
  PutOk(Key("early/big"), big);
  PutOk(Key("early/small"), "small");
  for (int i = 0; i < 3; ++i) {
    {
      auto reader = store_->OpenReader(Key("early/big"));
      ASSERT_TRUE(reader.ok()) << reader.error().message;
      auto first = (*reader)->Read(10);
      ASSERT_TRUE(first.ok()) << first.error().message;
      EXPECT_EQ(*first, big.substr(0, first->size()));
    }
    auto small = store_->GetAll(Key("early/small"));
    ASSERT_TRUE(small.ok()) << small.error().message;
    EXPECT_EQ(*small, "small");
  }
}

TEST_P(BlobStoreContractTest, WriterMisuseIsAnErrorNotACrash) {
  auto writer = store_->OpenWriter(Key("misuse"), "text/plain");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("x").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_FALSE((*writer)->Write("y").ok());
  EXPECT_FALSE((*writer)->Commit().ok());
  auto back = store_->GetAll(Key("misuse"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "x");
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreContractTest, ::testing::Values("local", "s3"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// --- opening ---------------------------------------------------------------------------------

TEST(BlobStoreOpen, S3UnreachableEndpointFailsFast) {
  auto start = std::chrono::steady_clock::now();
  auto store = OpenS3BlobStore(
      "s3://AKIDTEST:TOPSECRET@veza-test?endpoint=http://127.0.0.1:1&region=us-east-1");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable) << store.error().message;
  EXPECT_LT(elapsed, seconds(6));
  const std::string& message = store.error().message;
  EXPECT_NE(message.find("127.0.0.1:1"), std::string::npos) << message;
  EXPECT_NE(message.find("veza-test"), std::string::npos) << message;
  EXPECT_EQ(message.find("TOPSECRET"), std::string::npos) << message;
}

TEST(BlobStoreOpen, S3BadUrlsAreInvalidArguments) {
  for (const char* url : {"s3://", "s3://b?unknown=1", "s3://b?endpoint=ftp://x",
                          "s3://b?endpoint=http://x&part_size=1"}) {
    auto store = OpenS3BlobStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

// The harness's bucket URL with another bucket name or other credentials.
std::string TestS3UrlWith(std::string_view bucket, std::string_view userinfo) {
  const char* env = std::getenv("VEZA_TEST_S3_URL");
  if (env == nullptr) return "";
  std::string url = env;
  std::size_t start = url.find("://") + 3;
  std::size_t query = std::min(url.find('?', start), url.size());
  std::size_t at = url.find('@', start);
  std::size_t host = (at != std::string::npos && at < query) ? at + 1 : start;
  std::string out = url.substr(0, start);
  out += userinfo.empty() ? url.substr(start, host - start) : std::string(userinfo) + "@";
  out += bucket.empty() ? url.substr(host, query - host) : std::string(bucket);
  out += url.substr(query);
  return out;
}

TEST(BlobStoreOpen, S3MissingBucketIsNamed) {
  std::string bucket = "veza-missing-" + RandomHex(8);
  std::string url = TestS3UrlWith(bucket, "");
  ASSERT_FALSE(url.empty()) << "VEZA_TEST_S3_URL is not set: run under scripts/test-services";
  auto store = OpenS3BlobStore(url);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound) << store.error().message;
  EXPECT_NE(store.error().message.find(bucket), std::string::npos) << store.error().message;
}

TEST(BlobStoreOpen, S3UnknownAccessKeyIsRejected) {
  std::string url = TestS3UrlWith("", "NOSUCHKEY:TOPSECRET");
  ASSERT_FALSE(url.empty()) << "VEZA_TEST_S3_URL is not set: run under scripts/test-services";
  auto store = OpenS3BlobStore(url);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kPermissionDenied) << store.error().message;
  EXPECT_EQ(store.error().message.find("TOPSECRET"), std::string::npos) << store.error().message;
}

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fs::temp_directory_path() / ("veza-blob-local-" + RandomHex(12)); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<BlobStore> Open() {
    auto store = OpenLocalBlobStore("file://" + dir_.string());
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }
  fs::path dir_;
};

TEST_F(LocalBlobStoreTest, OpenCreatesNestedAndRelativeDirectories) {
  auto nested = OpenLocalBlobStore("file://" + (dir_ / "a" / "b").string());
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  EXPECT_TRUE(fs::is_directory(dir_ / "a" / "b" / ".tmp"));
  fs::path relative = fs::relative(dir_ / "rel", fs::current_path());
  auto rel = OpenLocalBlobStore("file://./" + relative.string());
  ASSERT_TRUE(rel.ok()) << rel.error().message;
  EXPECT_TRUE(fs::is_directory(dir_ / "rel"));
  ASSERT_TRUE((*rel)->Put("k", "v").ok());
  EXPECT_TRUE(fs::is_regular_file(dir_ / "rel" / "k"));
}

TEST_F(LocalBlobStoreTest, OpenRejectsBadUrlsAndUnusableDirectories) {
  for (const char* url : {"file:", "file://", "s3://x", "/plain/path", "file:///tmp/x?sync=0"}) {
    auto store = OpenLocalBlobStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument) << url;
  }
  auto unusable = OpenLocalBlobStore("file:///proc/veza-blobs");
  ASSERT_FALSE(unusable.ok());
  EXPECT_EQ(unusable.error().code, ErrorCode::kUnavailable) << unusable.error().message;
}

TEST_F(LocalBlobStoreTest, TmpPrefixIsReservedAndNeverListed) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto writer = store->OpenWriter(".tmp/x", "text/plain");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code, ErrorCode::kInvalidArgument);
  auto open = store->OpenWriter("pending", "text/plain");  // a temp file exists now
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(store->Put("visible", "v").ok());
  auto listed = store->List("", "", 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"visible"});
}

TEST_F(LocalBlobStoreTest, KeyCannotBeBothObjectAndDirectory) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("a/b", "child").ok());
  auto as_file = store->Put("a", "parent");
  ASSERT_FALSE(as_file.ok());
  EXPECT_EQ(as_file.error().code, ErrorCode::kConflict) << as_file.error().message;
  ASSERT_TRUE(store->Put("c", "file").ok());
  auto under_file = store->Put("c/d", "child");
  ASSERT_FALSE(under_file.ok());
  EXPECT_EQ(under_file.error().code, ErrorCode::kConflict) << under_file.error().message;
  EXPECT_TRUE(fs::is_empty(dir_ / ".tmp"));
  EXPECT_EQ(*store->GetAll("a/b"), "child");
  EXPECT_EQ(*store->GetAll("c"), "file");
}

TEST_F(LocalBlobStoreTest, DeletePrunesEmptyDirectories) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("p/q/r", "x").ok());
  ASSERT_TRUE(store->Put("p/keep", "y").ok());
  ASSERT_TRUE(store->Delete("p/q/r").ok());
  EXPECT_FALSE(fs::exists(dir_ / "p" / "q"));
  EXPECT_TRUE(fs::exists(dir_ / "p" / "keep"));
  ASSERT_TRUE(store->Delete("p/keep").ok());
  EXPECT_FALSE(fs::exists(dir_ / "p"));
  EXPECT_TRUE(fs::exists(dir_ / ".tmp"));
}

TEST_F(LocalBlobStoreTest, OpenRemovesStaleTempFilesOnly) {
  ASSERT_TRUE(Open());
  fs::path stale = dir_ / ".tmp" / "stale.part";
  fs::path fresh = dir_ / ".tmp" / "fresh.part";
  std::ofstream(stale) << "old";
  std::ofstream(fresh) << "new";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(48));
  ASSERT_TRUE(Open());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
}

}  // namespace
}  // namespace veza
