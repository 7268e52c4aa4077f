// tus 1.0 resumable uploads over real HTTP against the real binary: create, resume after an
// interrupted PATCH, offsets, checksums, termination, expiry, quotas, ownership and bad input.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "api_test.h"
#include "test_support.h"
#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;


std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Sha1(std::string_view bytes) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string Sha256(std::string_view bytes) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

class TusTest : public test::ApiTest {
 protected:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& bearer,
                    Headers headers = {}, const std::string& body = "", bool tus = true) {
    if (tus) headers.emplace_back("Tus-Resumable", "1.0.0");
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers});
  }
  std::string Register(const std::string& name) {
    auto r =
        Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                          R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(json::parse(r.body).as_object(), "access_token") : "";
  }
  // Creates an upload and returns its path.
  std::string Create(const std::string& bearer, std::size_t length,
                     const std::string& metadata = "filename " + Base64("song.wav") +
                                                   ",visibility " + Base64("unlisted")) {
    auto r = Call("POST", "/api/v1/uploads", bearer,
                  {{"Upload-Length", std::to_string(length)}, {"Upload-Metadata", metadata}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Header("tus-resumable"), "1.0.0");
    EXPECT_FALSE(r.Header("upload-expires").empty());
    return r.Header("location");
  }
  HttpResponse Patch(const std::string& bearer, const std::string& path, std::size_t offset,
                     const std::string& bytes, Headers extra = {}) {
    extra.emplace_back("Content-Type", "application/offset+octet-stream");
    extra.emplace_back("Upload-Offset", std::to_string(offset));
    return Call("PATCH", path, bearer, extra, bytes);
  }
  std::string Offset(const std::string& bearer, const std::string& path) {
    auto r = Call("HEAD", path, bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    return r.Header("upload-offset");
  }
  std::filesystem::path Staging(const std::string& path) const {
    return dir_.path() / "data" / "staging" / "uploads" / path.substr(path.rfind('/') + 1);
  }
};

TEST_F(TusTest, OptionsAdvertisesVersionExtensionsAndLimits) {
  auto r = Call("OPTIONS", "/api/v1/uploads", "", {}, "", false);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("tus-version"), "1.0.0");
  EXPECT_EQ(r.Header("tus-extension"), "creation,expiration,checksum,termination");
  EXPECT_EQ(r.Header("tus-max-size"), "2147483648");
  EXPECT_EQ(r.Header("tus-checksum-algorithm"), "sha1,sha256");
}

TEST_F(TusTest, AnInterruptedUploadResumesFromTheOffsetAndBecomesATrack) {
  std::string token = Register("alice");
  std::string bytes = test::NoiseWav(300'000, 1);
  std::string path = Create(token, bytes.size());
  ASSERT_EQ(path.rfind("/api/v1/uploads/", 0), 0u) << path;
  EXPECT_EQ(Offset(token, path), "0");

  auto first = Patch(token, path, 0, bytes.substr(0, 100'000));
  ASSERT_EQ(first.status, 204) << first.body;
  EXPECT_EQ(first.Header("upload-offset"), "100000");

  // The connection drops in the middle of the next PATCH: the server keeps what arrived (the
  // body streams to disk) and HEAD tells the client where to resume. Wait, bounded, until the
  // server has seen the connection end.
  std::string head =
      "PATCH " + path + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer " +
      token +
      "\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 100000\r\n"
      "Content-Length: 200000\r\n\r\n";
  test::SendRaw(veza_->port(), {head, bytes.substr(100'000, 50'000)}, std::chrono::milliseconds(10),
                std::chrono::milliseconds(300));
  std::string offset;
  for (int i = 0; i < 200 && offset != "150000"; ++i) {
    offset = Offset(token, path);
    if (offset != "150000") std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(offset, "150000");

  auto rest = Patch(token, path, 150'000, bytes.substr(150'000));
  ASSERT_EQ(rest.status, 204) << rest.body;
  EXPECT_EQ(rest.Header("upload-offset"), "300000");
  std::string track = rest.Header("upload-track-id");
  ASSERT_FALSE(track.empty());
  EXPECT_EQ(rest.Header("location"), "/api/v1/tracks/" + track);
  EXPECT_EQ(Call("HEAD", path, token).Header("upload-track-id"), track);
  EXPECT_FALSE(std::filesystem::exists(Staging(path)));

  auto t = Http("127.0.0.1", veza_->port(),
                {"GET", "/api/v1/tracks/" + track, "", {{"Authorization", "Bearer " + token}}});
  ASSERT_EQ(t.status, 200) << t.body;
  json::object o = json::parse(t.body).as_object();
  EXPECT_EQ(Str(o, "title"), "song");
  EXPECT_EQ(Str(o, "visibility"), "unlisted");
  EXPECT_EQ(o.at("original").at("size").as_int64(), 300000);
  auto original = Http("127.0.0.1", veza_->port(),
                       {"GET",
                        "/api/v1/tracks/" + track + "/stream?format=original",
                        "",
                        {{"Authorization", "Bearer " + token}}});
  // Not ready without the pipeline, but the owner's original is always there.
  EXPECT_EQ(original.body, bytes);
  ExpectProblem(Patch(token, path, 300'000, "x"), 409);  // complete
}

TEST_F(TusTest, AWrongOffsetIs409) {
  std::string token = Register("alice");
  std::string path = Create(token, 100);
  ExpectProblem(Patch(token, path, 10, "abc"), 409, "offset");
  ASSERT_EQ(Patch(token, path, 0, "abc").status, 204);
  ExpectProblem(Patch(token, path, 0, "abc"), 409);
  EXPECT_EQ(Offset(token, path), "3");
}

TEST_F(TusTest, AChecksumMismatchIs460AndTheChunkIsDiscarded) {
  std::string token = Register("alice");
  std::string bytes = test::NoiseWav(1000, 2);
  std::string path = Create(token, bytes.size());
  auto bad = Patch(token, path, 0, bytes.substr(0, 500),
                   {{"Upload-Checksum", "sha1 " + Base64(Sha1("other"))}});
  EXPECT_EQ(bad.status, 460) << bad.body;
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");
  EXPECT_NE(bad.body.find("\"status\":460"), std::string::npos);
  EXPECT_EQ(Offset(token, path), "0");
  auto sha1 = Patch(token, path, 0, bytes.substr(0, 500),
                    {{"Upload-Checksum", "sha1 " + Base64(Sha1(bytes.substr(0, 500)))}});
  EXPECT_EQ(sha1.status, 204) << sha1.body;
  auto sha256 = Patch(token, path, 500, bytes.substr(500),
                      {{"Upload-Checksum", "sha256 " + Base64(Sha256(bytes.substr(500)))}});
  EXPECT_EQ(sha256.status, 204) << sha256.body;
  EXPECT_FALSE(sha256.Header("upload-track-id").empty());
  ExpectProblem(Patch(token, Create(token, 10), 0, "abc",
                      {{"Upload-Checksum", "md5 " + Base64("0123456789abcdef")}}),
                400, "algorithm");
  ExpectProblem(Patch(token, Create(token, 10), 0, "abc", {{"Upload-Checksum", "sha1 !!"}}), 400);
}

TEST_F(TusTest, TusResumableIsRequired) {
  std::string token = Register("alice");
  auto r = Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "10"}}, "", false);
  ExpectProblem(r, 412);
  EXPECT_EQ(r.Header("tus-version"), "1.0.0");
  std::string path = Create(token, 10);
  ExpectProblem(Call("PATCH", path, token,
                     {{"Content-Type", "application/offset+octet-stream"}, {"Upload-Offset", "0"}},
                     "abc", false),
                412);
  ExpectProblem(Call("DELETE", path, token, {}, "", false), 412);
  ExpectProblem(Call("POST", "/api/v1/uploads", token,
                     {{"Upload-Length", "10"}, {"Tus-Resumable", "0.2.2"}}, "", false),
                412);
}

TEST_F(TusTest, OnlyTheCreatorMayTouchAnUpload) {
  std::string alice = Register("alice"), bob = Register("bob");
  std::string path = Create(alice, 10);
  ExpectProblem(Call("HEAD", path, bob), 404);
  ExpectProblem(Patch(bob, path, 0, "abc"), 404);
  ExpectProblem(Call("DELETE", path, bob), 404);
  ExpectProblem(Call("HEAD", path, ""), 401);
  ExpectProblem(Patch("", path, 0, "abc"), 401);
  ExpectProblem(Call("POST", "/api/v1/uploads", "", {{"Upload-Length", "10"}}), 401);
  ExpectProblem(Call("POST", "/api/v1/uploads", "garbage", {{"Upload-Length", "10"}}), 401);
  EXPECT_EQ(Offset(alice, path), "0");
}

TEST_F(TusTest, TerminationDeletesTheUploadAndItsBytes) {
  std::string token = Register("alice");
  std::string path = Create(token, 100);
  ASSERT_EQ(Patch(token, path, 0, "abc").status, 204);
  EXPECT_TRUE(std::filesystem::exists(Staging(path)));
  EXPECT_EQ(Call("DELETE", path, token).status, 204);
  ExpectProblem(Call("HEAD", path, token), 404);
  ExpectProblem(Patch(token, path, 3, "abc"), 404);
  EXPECT_FALSE(std::filesystem::exists(Staging(path)));
}

TEST_F(TusTest, BadInputIsAProblem) {
  std::string token = Register("alice");
  ExpectProblem(Call("POST", "/api/v1/uploads", token), 400, "Upload-Length");
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "-5"}}), 400);
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "12x"}}), 400);
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "0"}}), 422);
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Defer-Length", "1"}}), 400);
  ExpectProblem(Call("POST", "/api/v1/uploads", token,
                     {{"Upload-Length", "10"}, {"Upload-Metadata", "filename ***"}}),
                400);
  ExpectProblem(
      Call("POST", "/api/v1/uploads", token,
           {{"Upload-Length", "10"}, {"Upload-Metadata", "visibility " + Base64("friends")}}),
      400, "visibility");
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "3000000000"}}), 413);
  std::string path = Create(token, 10);
  ExpectProblem(Call("PATCH", path, token,
                     {{"Content-Type", "application/json"}, {"Upload-Offset", "0"}}, "{}"),
                415);
  ExpectProblem(
      Call("PATCH", path, token, {{"Content-Type", "application/offset+octet-stream"}}, "abc"), 400,
      "Upload-Offset");
  ExpectProblem(Patch(token, path, 0, std::string(11, 'x')), 413);
  EXPECT_EQ(Offset(token, path), "0");
  ExpectProblem(Patch(token, path, 0, std::string(2 << 20, 'x')),
                413);  // streamed, stopped at Upload-Length
  ExpectProblem(Call("HEAD", "/api/v1/uploads/not-an-id", token), 404);
  ExpectProblem(Patch(token, "/api/v1/uploads/0192f3a4-5b6c-7d8e-9f00-112233445566", 0, "x"), 404);
}

TEST_F(TusTest, TusJsClientUploadsInChunks) {
  std::string token = Register("alice");
  std::string bytes = test::NoiseWav(2'500'000, 9);
  auto file = dir_.path() / "upload.bin";
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  std::string cmd = "node " + std::string(VEZA_SOURCE_DIR) +
                    "/tests/tools/tus-upload.js http://127.0.0.1:" + std::to_string(veza_->port()) +
                    "/api/v1/uploads " + token + " " + file.string() + " 524288";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  ASSERT_EQ(out.size(), 36u) << out;
  auto t = Http("127.0.0.1", veza_->port(),
                {"GET", "/api/v1/tracks/" + out, "", {{"Authorization", "Bearer " + token}}});
  ASSERT_EQ(t.status, 200) << t.body;
  json::object o = json::parse(t.body).as_object();
  EXPECT_EQ(Str(o, "title"), "Via tus-js-client");
  EXPECT_EQ(Str(o, "visibility"), "unlisted");
  EXPECT_EQ(o.at("original").at("size").as_int64(), 2500000);
}

class TusLimitsTest : public TusTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--storage-quota", "1000", "--max-upload", "800", "--upload-expiry", "1"};
  }
};

TEST_F(TusLimitsTest, QuotaAndSizeAreCheckedAtCreation) {
  std::string token = Register("alice");
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "801"}}), 413);
  auto options = Call("OPTIONS", "/api/v1/uploads", "", {}, "", false);
  EXPECT_EQ(options.Header("tus-max-size"), "800");
  Create(token, 600);  // reserves 600 of the 1000 bytes while unfinished
  ExpectProblem(Call("POST", "/api/v1/uploads", token, {{"Upload-Length", "500"}}), 413, "quota");
}

TEST_F(TusLimitsTest, AbandonedUploadsExpireAndAreSwept) {
  std::string token = Register("alice");
  std::string path = Create(token, 100);
  ASSERT_EQ(Patch(token, path, 0, "abc").status, 204);
  // --upload-expiry 1: the upload is gone once a second passes without a PATCH, and the
  // sweeper (every second with this expiry) removes its bytes. Wait for both, bounded.
  bool expired = false, swept = false;
  for (int i = 0; i < 200 && !(expired && swept); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    expired = expired || Call("HEAD", path, token).status == 404;
    swept = swept || !std::filesystem::exists(Staging(path));
  }
  EXPECT_TRUE(expired);
  EXPECT_TRUE(swept);
  ExpectProblem(Patch(token, path, 3, "abc"), 404);
}

class TusCorsTest : public TusTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--cors-origins", "https://app.example"};
  }
};

TEST_F(TusCorsTest, BrowsersMaySendAndReadTheTusHeaders) {
  auto preflight =
      Http("127.0.0.1", veza_->port(),
           {"OPTIONS",
            "/api/v1/uploads",
            "",
            {{"Origin", "https://app.example"},
             {"Access-Control-Request-Method", "PATCH"},
             {"Access-Control-Request-Headers", "tus-resumable, upload-offset, upload-checksum"}}});
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "https://app.example");
  for (const char* h :
       {"Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Checksum"}) {
    EXPECT_NE(preflight.Header("access-control-allow-headers").find(h), std::string::npos) << h;
  }
  std::string token = Register("alice");
  auto created = Call("POST", "/api/v1/uploads", token,
                      {{"Upload-Length", "10"}, {"Origin", "https://app.example"}});
  ASSERT_EQ(created.status, 201);
  for (const char* h :
       {"Location", "Upload-Offset", "Upload-Expires", "Tus-Resumable", "Upload-Track-Id"}) {
    EXPECT_NE(created.Header("access-control-expose-headers").find(h), std::string::npos) << h;
  }
}

}  // namespace
}  // namespace veza
