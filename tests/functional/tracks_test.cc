// Tracks over real HTTP against the real binary: multipart upload, listing, visibility, edits,
// deletion, plays, and delivery (ranges, conditional requests, signed URLs, HLS, S3 and CDN
// redirects). Tests of delivery semantics put a ready track in place the way the media job
// leaves it (files under data/blobs/tracks/{id}/, the row marked ready with sqlite3), so they
// run without FFmpeg; TracksPipelineTest runs the real pipeline end to end.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "api_test.h"
#include "test_support.h"
#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

constexpr const char* kPassword = "violet kettle 93 drums";

struct Account {
  std::string id, name, access;
};


std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

class TracksTest : public test::ApiTest {
 protected:
  // No media role: these tests put ready tracks in place themselves (MakeReady), and a real job
  // racing them would rewrite the files and the state under the test.
  std::vector<std::string> ExtraServeArgs() const override {
    std::vector<std::string> args{"--roles", "http,ws"};
    for (auto& a : MoreServeArgs()) args.push_back(a);
    return args;
  }
  virtual std::vector<std::string> MoreServeArgs() const { return {}; }
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::string& bearer = "", Headers headers = {},
                    const std::string& body = "") {
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers});
  }
  HttpResponse JsonCall(const std::string& method, const std::string& target,
                        const std::string& body, const std::string& bearer) {
    return Call(method, target, bearer, {{"Content-Type", "application/json"}}, body);
  }

  Account Register(const std::string& name) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":")" + kPassword + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    json::object o = json::parse(r.body).as_object();
    return {Str(o.at("user").as_object(), "id"), name, Str(o, "access_token")};
  }

  static std::string Multipart(
      const std::string& boundary, const std::string& filename, const std::string& bytes,
      const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    std::string body;
    for (const auto& [k, v] : fields) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" +
              v + "\r\n";
    }
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
            filename + "\"\r\nContent-Type: audio/wav\r\n\r\n" + bytes + "\r\n--" + boundary +
            "--\r\n";
    return body;
  }
  HttpResponse UploadMultipart(
      const std::string& bearer, const std::string& filename, const std::string& bytes,
      const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    return Call("POST", "/api/v1/tracks", bearer,
                {{"Content-Type", "multipart/form-data; boundary=XyZzY"}},
                Multipart("XyZzY", filename, bytes, fields));
  }
  json::object Upload(const std::string& bearer, const std::string& bytes = test::NoiseWav(3000, 1),
                      const std::string& visibility = "public") {
    auto r = UploadMultipart(bearer, "take_01.wav", bytes,
                             {{"title", "Take one"}, {"visibility", visibility}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object() : json::object{};
  }

  std::filesystem::path Db() const { return dir_.path() / "data" / "veza.db"; }
  void Sql(const std::string& statement) {
    std::string cmd = "sqlite3 -cmd '.timeout 5000' " + Db().string() + " \"" + statement + "\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::filesystem::path BlobFile(const std::string& id, const std::string& rel) const {
    return dir_.path() / "data" / "blobs" / "tracks" / id / rel;
  }
  // What the media job leaves behind, without running FFmpeg.
  void MakeReady(const std::string& id) {
    auto put = [&](const std::string& rel, const std::string& bytes) {
      std::filesystem::create_directories(BlobFile(id, rel).parent_path());
      std::ofstream(BlobFile(id, rel), std::ios::binary) << bytes;
    };
    put("stream.m4a", test::NoiseWav(100'000, 7));
    put("stream.opus", test::NoiseWav(50'000, 8));
    put("hls/master.m3u8",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\n128k/index.m3u8\n");
    put("hls/128k/index.m3u8",
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nseg0.ts\n#EXT-X-ENDLIST\n");
    put("hls/128k/seg0.ts", test::NoiseWav(188 * 10, 9));
    Sql("UPDATE tracks SET state='ready', progress=100, duration_ms=1000 WHERE id='" + id + "'");
  }
  json::object GetTrack(const std::string& id, const std::string& bearer) {
    auto r = Call("GET", "/api/v1/tracks/" + id, bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
  }
  std::vector<std::string> ListIds(const std::string& target, const std::string& bearer = "") {
    auto r = Call("GET", target, bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    if (r.status != 200) return ids;
    json::value page = json::parse(r.body);
    for (const auto& t : page.at("tracks").as_array()) ids.push_back(Str(t.as_object(), "id"));
    return ids;
  }
  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
};

TEST_F(TracksTest, MultipartUploadCreatesATrackItsOwnerSeesWhileItWaitsForTheMediaJob) {
  Account alice = Register("alice");
  std::string bytes = test::NoiseWav(5000, 3);
  auto r =
      UploadMultipart(alice.access, "Field Recording.wav", bytes, {{"visibility", "unlisted"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json::object t = json::parse(r.body).as_object();
  std::string id = Str(t, "id");
  EXPECT_EQ(r.Header("location"), "/api/v1/tracks/" + id);
  EXPECT_EQ(Str(t, "title"), "Field Recording");
  EXPECT_EQ(Str(t, "visibility"), "unlisted");
  EXPECT_EQ(Str(t, "state"), "uploaded");
  EXPECT_EQ(t.at("original").at("size").as_int64(), 5000);
  EXPECT_FALSE(t.contains("stream_url"));
  // The original is kept untouched under the track's prefix.
  EXPECT_EQ(ReadFile(BlobFile(id, "original")), bytes);

  EXPECT_TRUE(Contains(ListIds("/api/v1/users/me/tracks", alice.access), id));
  EXPECT_FALSE(Contains(ListIds("/api/v1/tracks"), id));
  Account bob = Register("bob");
  json::object seen = GetTrack(id, bob.access);  // unlisted: readable by id
  EXPECT_FALSE(seen.contains("original"));
}

TEST_F(TracksTest, VisibilityListingEditingAndDeletion) {
  Account alice = Register("alice"), bob = Register("bob");
  std::string open = Str(Upload(alice.access), "id");
  std::string unlisted = Str(Upload(alice.access, test::NoiseWav(100, 2), "unlisted"), "id");
  std::string secret = Str(Upload(alice.access, test::NoiseWav(100, 3), "private"), "id");
  for (const auto& id : {open, unlisted, secret}) MakeReady(id);

  auto listed = ListIds("/api/v1/tracks");
  EXPECT_TRUE(Contains(listed, open));
  EXPECT_FALSE(Contains(listed, unlisted));
  EXPECT_FALSE(Contains(listed, secret));
  EXPECT_EQ(ListIds("/api/v1/users/alice/tracks"), std::vector<std::string>{open});
  EXPECT_EQ(ListIds("/api/v1/users/me/tracks", alice.access).size(), 3u);
  ExpectProblem(Call("GET", "/api/v1/users/nobody/tracks"), 404);

  // Private: 404 (not 403) to others and to anonymous callers, on every route.
  for (const std::string& who : {bob.access, std::string()}) {
    ExpectProblem(Call("GET", "/api/v1/tracks/" + secret, who), 404);
    ExpectProblem(Call("GET", "/api/v1/tracks/" + secret + "/stream", who), 404);
    ExpectProblem(Call("GET", "/api/v1/tracks/" + secret + "/hls/master.m3u8", who), 404);
    ExpectProblem(Call("POST", "/api/v1/tracks/" + secret + "/plays", who), 404);
  }
  ExpectProblem(JsonCall("PATCH", "/api/v1/tracks/" + secret, R"({"title":"x"})", bob.access), 404);
  ExpectProblem(Call("DELETE", "/api/v1/tracks/" + secret, bob.access), 404);
  EXPECT_TRUE(GetTrack(secret, alice.access).contains("stream_url"));
  EXPECT_TRUE(GetTrack(unlisted, "").contains("stream_url"));

  // Only the owner edits; others get 403 on a track they can see.
  ExpectProblem(JsonCall("PATCH", "/api/v1/tracks/" + open, R"({"title":"Mine now"})", bob.access),
                403);
  ExpectProblem(JsonCall("PATCH", "/api/v1/tracks/" + open, R"({"title":"x"})", ""), 401);
  auto edited =
      JsonCall("PATCH", "/api/v1/tracks/" + open,
               R"({"title":"Dawn","artist":"Alice","year":2024,"track_number":2,"genre":"Ambient",)"
               R"("description":"Recorded at 5 am","visibility":"private"})",
               alice.access);
  ASSERT_EQ(edited.status, 200) << edited.body;
  json::object e = json::parse(edited.body).as_object();
  EXPECT_EQ(Str(e, "title"), "Dawn");
  EXPECT_EQ(e.at("year").as_int64(), 2024);
  EXPECT_EQ(Str(e, "visibility"), "private");
  ExpectProblem(Call("GET", "/api/v1/tracks/" + open, bob.access), 404);
  EXPECT_TRUE(ListIds("/api/v1/users/alice/tracks").empty());

  // Deletion: owner only, and every file goes.
  ExpectProblem(Call("DELETE", "/api/v1/tracks/" + unlisted, bob.access), 403);
  ExpectProblem(Call("DELETE", "/api/v1/tracks/" + unlisted, ""), 401);
  auto gone = Call("DELETE", "/api/v1/tracks/" + unlisted, alice.access);
  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_FALSE(std::filesystem::exists(BlobFile(unlisted, "")));
  ExpectProblem(Call("GET", "/api/v1/tracks/" + unlisted, alice.access), 404);
  ExpectProblem(Call("DELETE", "/api/v1/tracks/" + unlisted, alice.access), 404);
}

TEST_F(TracksTest, ModeratorsSeeAndRemoveOthersTracks) {
  Account alice = Register("alice"), mod = Register("moe");
  Sql("UPDATE users SET role='moderator' WHERE username='moe'");
  std::string secret = Str(Upload(alice.access, test::NoiseWav(100, 4), "private"), "id");
  EXPECT_EQ(Call("GET", "/api/v1/tracks/" + secret, mod.access).status, 200);
  ExpectProblem(JsonCall("PATCH", "/api/v1/tracks/" + secret, R"({"title":"x"})", mod.access), 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/tracks/" + secret, mod.access).status, 204);
  EXPECT_FALSE(std::filesystem::exists(BlobFile(secret, "original")));
}

TEST_F(TracksTest, RangeRequestsReturnExactlyTheFilesBytes) {
  Account alice = Register("alice");
  std::string id = Str(Upload(alice.access), "id");
  MakeReady(id);
  std::string file = ReadFile(BlobFile(id, "stream.m4a"));
  std::string url = Str(GetTrack(id, ""), "stream_url");
  ASSERT_FALSE(url.empty());

  auto whole = Call("GET", url);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, file);
  EXPECT_EQ(whole.Header("content-type"), "audio/mp4");
  EXPECT_EQ(whole.Header("accept-ranges"), "bytes");
  EXPECT_EQ(whole.Header("cache-control"), "public, max-age=31536000, immutable");
  std::string etag = whole.Header("etag"), modified = whole.Header("last-modified");
  ASSERT_FALSE(etag.empty());
  ASSERT_FALSE(modified.empty());

  auto mid = Call("GET", url, "", {{"Range", "bytes=1000-1999"}});
  EXPECT_EQ(mid.status, 206);
  EXPECT_EQ(mid.Header("content-range"), "bytes 1000-1999/100000");
  EXPECT_EQ(mid.body, file.substr(1000, 1000));
  auto suffix = Call("GET", url, "", {{"Range", "bytes=-500"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.Header("content-range"), "bytes 99500-99999/100000");
  EXPECT_EQ(suffix.body, file.substr(99500));
  auto open_ended = Call("GET", url, "", {{"Range", "bytes=99990-"}});
  EXPECT_EQ(open_ended.body, file.substr(99990));
  auto past_end = Call("GET", url, "", {{"Range", "bytes=99990-200000"}});
  EXPECT_EQ(past_end.Header("content-range"), "bytes 99990-99999/100000");

  auto unsatisfiable = Call("GET", url, "", {{"Range", "bytes=100000-"}});
  ExpectProblem(unsatisfiable, 416);
  EXPECT_EQ(unsatisfiable.Header("content-range"), "bytes */100000");

  EXPECT_EQ(Call("GET", url, "", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(Call("GET", url, "", {{"If-None-Match", "\"other\""}}).status, 200);
  auto if_range = Call("GET", url, "", {{"Range", "bytes=0-9"}, {"If-Range", etag}});
  EXPECT_EQ(if_range.status, 206);
  EXPECT_EQ(if_range.body, file.substr(0, 10));
  auto by_date = Call("GET", url, "", {{"Range", "bytes=0-9"}, {"If-Range", modified}});
  EXPECT_EQ(by_date.status, 206);
  auto stale = Call("GET", url, "", {{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, file);

  auto head = Call("HEAD", url);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "100000");
  EXPECT_TRUE(head.body.empty());

  // Opus by query or by Accept; the authenticated route serves the same bytes.
  EXPECT_EQ(Call("GET", url + "?format=opus").body, ReadFile(BlobFile(id, "stream.opus")));
  auto negotiated = Call("GET", url, "", {{"Accept", "audio/ogg"}});
  EXPECT_EQ(negotiated.body, ReadFile(BlobFile(id, "stream.opus")));
  EXPECT_EQ(negotiated.Header("vary"), "Accept");
  EXPECT_EQ(Call("GET", "/api/v1/tracks/" + id + "/stream", alice.access).body, file);
  ExpectProblem(Call("GET", url + "?format=flac"), 400);
}

TEST_F(TracksTest, OriginalIsForTheOwnerOnly) {
  Account alice = Register("alice"), bob = Register("bob");
  std::string bytes = test::NoiseWav(4000, 11);
  std::string id = Str(Upload(alice.access, bytes), "id");
  MakeReady(id);
  auto mine = Call("GET", "/api/v1/tracks/" + id + "/stream?format=original", alice.access);
  EXPECT_EQ(mine.status, 200);
  EXPECT_EQ(mine.body, bytes);
  EXPECT_EQ(mine.Header("content-type"), "audio/wav");
  EXPECT_EQ(Call("GET", Str(GetTrack(id, alice.access), "stream_url") + "?format=original").body,
            bytes);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + id + "/stream?format=original", bob.access), 403);
  ExpectProblem(Call("GET", Str(GetTrack(id, bob.access), "stream_url") + "?format=original"), 403);
}

TEST_F(TracksTest, HlsPlaylistsResolveRelativeUrisUnderTheSignedPath) {
  Account alice = Register("alice");
  std::string id = Str(Upload(alice.access), "id");
  MakeReady(id);
  std::string master_url = Str(GetTrack(id, ""), "hls_url");
  ASSERT_NE(master_url.find("/hls/t/"), std::string::npos);
  auto master = Call("GET", master_url);
  ASSERT_EQ(master.status, 200) << master.body;
  EXPECT_EQ(master.Header("content-type"), "application/vnd.apple.mpegurl");
  std::string base = master_url.substr(0, master_url.rfind('/') + 1);
  auto media = Call("GET", base + "128k/index.m3u8");
  EXPECT_EQ(media.status, 200);
  auto segment = Call("GET", base + "128k/seg0.ts");
  EXPECT_EQ(segment.status, 200);
  EXPECT_EQ(segment.body, ReadFile(BlobFile(id, "hls/128k/seg0.ts")));
  EXPECT_EQ(segment.Header("content-type"), "video/mp2t");
  EXPECT_EQ(Call("GET", base + "128k/seg0.ts", "", {{"Range", "bytes=0-187"}}).body.size(), 188u);
  // With a header instead of a token.
  EXPECT_EQ(Call("GET", "/api/v1/tracks/" + id + "/hls/master.m3u8").status, 200);
  ExpectProblem(Call("GET", base + "../../original"), 404);
  ExpectProblem(Call("GET", base + "%2e%2e/%2e%2e/original"), 404);
  ExpectProblem(Call("GET", base + "nope.ts"), 404);
}

std::string HmacHex(const std::string& key, const std::string& message) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += std::string{d[mac[i] >> 4], d[mac[i] & 15]};
  return out;
}

TEST_F(TracksTest, SignedUrlsExpireAndCannotBeForgedOrReused) {
  Account alice = Register("alice");
  std::string id = Str(Upload(alice.access), "id");
  std::string other = Str(Upload(alice.access, test::NoiseWav(1000, 5)), "id");
  MakeReady(id);
  MakeReady(other);
  std::string url = Str(GetTrack(id, ""), "stream_url");
  std::string token = url.substr(url.rfind('/') + 1);
  std::string tampered = token;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  ExpectProblem(Call("GET", "/api/v1/tracks/" + id + "/stream/" + tampered), 403);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + other + "/stream/" + token), 403);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + id + "/hls/t/" + tampered + "/master.m3u8"), 403);
  ExpectProblem(Call("GET", "/api/v1/tracks/" + id + "/stream/garbage"), 403);

  // A correctly signed token whose time is up, made with the server's own secret.
  std::string secret =
      RunCommand("sqlite3 " + Db().string() +
                 " \"SELECT value FROM instance_settings WHERE key='stream_url_secret'\"");
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  ASSERT_EQ(secret.size(), 64u);
  std::string expired = "l1000." + HmacHex(secret, id + "|l|1000");
  ExpectProblem(Call("GET", "/api/v1/tracks/" + id + "/stream/" + expired), 403);
  std::string valid = "l99999999999." + HmacHex(secret, id + "|l|99999999999");
  EXPECT_EQ(Call("GET", "/api/v1/tracks/" + id + "/stream/" + valid).status, 200);

  // A listener's link dies when the track turns private; the owner's keeps working.
  std::string owner_url = Str(GetTrack(id, alice.access), "stream_url");
  ASSERT_EQ(
      JsonCall("PATCH", "/api/v1/tracks/" + id, R"({"visibility":"private"})", alice.access).status,
      200);
  ExpectProblem(Call("GET", url), 404);
  EXPECT_EQ(Call("GET", owner_url).status, 200);
}

TEST_F(TracksTest, PlaysAreRecorded) {
  Account alice = Register("alice"), bob = Register("bob");
  std::string id = Str(Upload(alice.access), "id");
  ExpectProblem(Call("POST", "/api/v1/tracks/" + id + "/plays", bob.access), 409);  // not ready
  MakeReady(id);
  EXPECT_EQ(Call("POST", "/api/v1/tracks/" + id + "/plays", bob.access).status, 204);
  EXPECT_EQ(Call("POST", "/api/v1/tracks/" + id + "/plays").status, 204);
  ExpectProblem(Call("POST", "/api/v1/tracks/" + id + "/plays", "garbage"), 401);
  ExpectProblem(Call("POST", "/api/v1/tracks/" + id + "/plays", "",
                     {{"Content-Type", "application/json"}}, "{}"),
                400);
  EXPECT_EQ(RunCommand("sqlite3 " + Db().string() +
                       " \"SELECT COUNT(*) FROM track_plays WHERE track_id='" + id + "'\""),
            "2\n");
}

TEST_F(TracksTest, BadInputIsAProblemOnEveryEndpoint) {
  Account alice = Register("alice");
  std::string id = Str(Upload(alice.access), "id");
  // Unauthenticated where a caller is needed; a bad token is 401 everywhere.
  ExpectProblem(UploadMultipart("", "a.wav", "abc"), 401);
  ExpectProblem(Call("GET", "/api/v1/users/me/tracks"), 401);
  for (const std::string& target : std::vector<std::string>{
           "/api/v1/tracks", "/api/v1/tracks/" + id, "/api/v1/users/alice/tracks"}) {
    ExpectProblem(Call("GET", target, "not-a-token"), 401);
  }
  // Malformed ids and unknown tracks.
  ExpectProblem(Call("GET", "/api/v1/tracks/not-a-uuid"), 404);
  ExpectProblem(Call("GET", "/api/v1/tracks/0192f3a4-5b6c-7d8e-9f00-112233445566"), 404);
  ExpectProblem(Call("GET", "/api/v1/tracks/not-a-uuid/stream"), 404);
  // Query strings.
  ExpectProblem(Call("GET", "/api/v1/tracks?limit=0"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?limit=101"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?limit=x"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?cursor=zzz"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?sort=new"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?limit=1&limit=2"), 400);
  ExpectProblem(Call("GET", "/api/v1/tracks?cursor=%zz"), 400);
  // Edits.
  std::string t = "/api/v1/tracks/" + id;
  ExpectProblem(JsonCall("PATCH", t, "{", alice.access), 400);
  ExpectProblem(JsonCall("PATCH", t, "[]", alice.access), 400);
  ExpectProblem(JsonCall("PATCH", t, "{}", alice.access), 400);
  ExpectProblem(JsonCall("PATCH", t, R"({"owner_id":"x"})", alice.access), 400, "owner_id");
  ExpectProblem(JsonCall("PATCH", t, R"({"title":""})", alice.access), 400, "title");
  ExpectProblem(JsonCall("PATCH", t, R"({"title":7})", alice.access), 400, "title");
  ExpectProblem(JsonCall("PATCH", t, R"({"title":")" + std::string(201, 'x') + "\"}", alice.access),
                400, "title");
  ExpectProblem(JsonCall("PATCH", t, R"({"title":"a\u0001b"})", alice.access), 400, "control");
  ExpectProblem(JsonCall("PATCH", t, R"({"year":"2020"})", alice.access), 400, "year");
  ExpectProblem(JsonCall("PATCH", t, R"({"year":99999})", alice.access), 400, "year");
  ExpectProblem(JsonCall("PATCH", t, R"({"visibility":"friends"})", alice.access), 400,
                "visibility");
  ExpectProblem(Call("PATCH", t, alice.access, {{"Content-Type", "text/plain"}}, "title=x"), 415);
  ExpectProblem(
      JsonCall("PATCH", t, R"({"description":")" + std::string(2 << 20, 'x') + "\"}", alice.access),
      413);
  // Uploads.
  ExpectProblem(
      Call("POST", "/api/v1/tracks", alice.access, {{"Content-Type", "application/json"}}, "{}"),
      415);
  ExpectProblem(
      Call("POST", "/api/v1/tracks", alice.access, {{"Content-Type", "multipart/form-data"}}, "x"),
      400);
  ExpectProblem(Call("POST", "/api/v1/tracks", alice.access,
                     {{"Content-Type", "multipart/form-data; boundary=b"}},
                     "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--b--\r\n"),
                400, "file");
  ExpectProblem(
      Call("POST", "/api/v1/tracks", alice.access,
           {{"Content-Type", "multipart/form-data; boundary=b"}},
           "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"),
      400);
  ExpectProblem(UploadMultipart(alice.access, "a.wav", "abc", {{"visibility", "friends"}}), 400,
                "visibility");
  ExpectProblem(UploadMultipart(alice.access, "a.wav", "abc", {{"genre", "x"}}), 400, "genre");
  ExpectProblem(UploadMultipart(alice.access, "a.wav", ""), 422);
  // The route streams its body: a file over --max-body (1 MiB) is fine.
  EXPECT_EQ(UploadMultipart(alice.access, "big.wav", test::NoiseWav(2 << 20, 1)).status, 201);
}

// Small limits, to prove them without gigabytes.
class TracksQuotaTest : public TracksTest {
 protected:
  std::vector<std::string> MoreServeArgs() const override {
    return {"--storage-quota", "10000", "--max-upload", "6000"};
  }
};

TEST_F(TracksQuotaTest, UploadsPastTheFileLimitOrTheQuotaAre413) {
  Account alice = Register("alice");
  ExpectProblem(UploadMultipart(alice.access, "big.wav", test::NoiseWav(6001, 1)), 413, "limit");
  ASSERT_EQ(UploadMultipart(alice.access, "a.wav", test::NoiseWav(6000, 1)).status, 201);
  ExpectProblem(UploadMultipart(alice.access, "b.wav", test::NoiseWav(4001, 2)), 413, "quota");
  std::string id = ListIds("/api/v1/users/me/tracks", alice.access).at(0);
  ASSERT_EQ(Call("DELETE", "/api/v1/tracks/" + id, alice.access).status, 204);  // frees the space
  EXPECT_EQ(UploadMultipart(alice.access, "b.wav", test::NoiseWav(4001, 2)).status, 201);
}

// Originals on S3 (s3rver): the owner's download is a redirect to a presigned URL; derived
// files with a CDN configured redirect to CloudFront-signed URLs.
class TracksS3Test : public TracksTest {
 protected:
  std::vector<std::string> MoreServeArgs() const override {
    std::string key = (dir_.path() / "cdn.pem").string();
    if (!std::filesystem::exists(key)) {
      int rc = std::system(("openssl genrsa -out " + key + " 2048 2>/dev/null").c_str());
      EXPECT_EQ(rc, 0);
    }
    return {"--blobs",
            test::Env("VEZA_TEST_S3_URL"),
            "--cdn-base-url",
            "https://cdn.example.net",
            "--cdn-key-pair-id",
            "K2JCJMDEHXQW5F",
            "--cdn-private-key-file",
            key};
  }
};

TEST_F(TracksS3Test, OriginalsRedirectToPresignedS3UrlsAndDerivedFilesToTheCdn) {
  ASSERT_FALSE(test::Env("VEZA_TEST_S3_URL").empty()) << "run under scripts/test-services";
  Account alice = Register("alice");
  std::string bytes = test::NoiseWav(3000, 21);
  std::string id = Str(Upload(alice.access, bytes), "id");
  auto redirect = Call("GET", "/api/v1/tracks/" + id + "/stream?format=original", alice.access);
  ASSERT_EQ(redirect.status, 302) << redirect.body;
  std::string location = redirect.Header("location");
  EXPECT_NE(location.find("X-Amz-Signature="), std::string::npos) << location;
  std::string fetched = (dir_.path() / "fetched").string();
  std::string cmd = "curl -fsS -o " + fetched + " '" + location + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(ReadFile(fetched), bytes);
  Sql("UPDATE tracks SET state='ready' WHERE id='" + id + "'");
  auto cdn = Call("GET", Str(GetTrack(id, ""), "stream_url"));
  ASSERT_EQ(cdn.status, 302) << cdn.body;
  std::string cdn_location = cdn.Header("location");
  EXPECT_EQ(cdn_location.rfind("https://cdn.example.net/tracks/" + id + "/stream.m4a?Expires=", 0),
            0u)
      << cdn_location;
  EXPECT_NE(cdn_location.find("&Signature="), std::string::npos);
  EXPECT_NE(cdn_location.find("&Key-Pair-Id=K2JCJMDEHXQW5F"), std::string::npos);
}

}  // namespace
}  // namespace veza
