// Crash durability over the real binary (issue 9): SIGKILL `veza` in the middle of a tus upload
// and in the middle of a transcode, restart it on the same data directory, and check that the
// upload resumes from the last acknowledged offset, the job finishes, and SQLite's
// integrity_check passes.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_test.h"
#include "test_support.h"

namespace veza {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string Base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out += t[(acc >> (bits -= 6)) & 63];
  }
  if (bits) out += t[(acc << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

class CrashDurability : public test::ApiTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override { return {"--max-body", "16000000"}; }
  using Headers = std::vector<std::pair<std::string, std::string>>;
  test::HttpResponse Tus(const std::string& method, const std::string& target, const std::string& bearer,
                         Headers headers = {}, const std::string& body = "") {
    headers.emplace_back("Tus-Resumable", "1.0.0");
    headers.emplace_back("Authorization", "Bearer " + bearer);
    return test::Http("127.0.0.1", veza_->port(), {method, target, body, headers}, 60s);
  }
  // SIGKILL, then a new process on the same working directory (and so the same SQLite file,
  // blobs and staging area).
  void KillAndRestart() {
    EXPECT_EQ(veza_->Stop(SIGKILL), 128 + SIGKILL);
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--no-access-log", "--max-body", "16000000"};
    veza_ = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }
  std::string Token(const std::string& name) {
    std::string password = "violet kettle 93 drums";
    auto r = Post("/api/v1/auth/login", R"({"login":")" + name + R"(","password":")" + password + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(json::parse(r.body).as_object(), "access_token");
  }
  std::string State(const std::string& id, const std::string& bearer) {
    auto r = Send("GET", "/api/v1/tracks/" + id, "", bearer);
    return r.status == 200 ? Str(json::parse(r.body).as_object(), "state") : "";
  }
  std::string WaitForJob(const std::string& id, const std::string& bearer) {
    for (int i = 0; i < 1200; ++i) {
      std::string state = State(id, bearer);
      if (state == "ready" || state == "failed") return state;
      std::this_thread::sleep_for(100ms);
    }
    return "timeout";
  }
  void ExpectIntegrity() {
    EXPECT_EQ(Sql("PRAGMA integrity_check"), "ok\n");
    EXPECT_EQ(Sql("PRAGMA foreign_key_check"), "");
  }
  std::string SineWav(double seconds) {
    auto path = dir_.path() / "sine.wav";
    std::string cmd = "ffmpeg -nostdin -loglevel error -y -f lavfi -i sine=frequency=440:sample_rate=44100:duration=" +
                      std::to_string(seconds) + " -ac 2 " + path.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(CrashDurability, SigkillDuringATusUploadResumesFromTheAcknowledgedOffset) {
  auto account = SignUp("kilroy");
  std::string bytes = test::NoiseWav(400'000, 3);
  auto created = Tus("POST", "/api/v1/uploads", account.access,
                     {{"Upload-Length", std::to_string(bytes.size())},
                      {"Upload-Metadata", "filename " + Base64("crash.wav") + ",visibility " + Base64("public")}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string path = created.Header("location");
  auto first = Tus("PATCH", path, account.access,
                   {{"Content-Type", "application/offset+octet-stream"}, {"Upload-Offset", "0"}},
                   bytes.substr(0, 150'000));
  ASSERT_EQ(first.status, 204) << first.body;
  // A second chunk is on the wire when the process dies: only acknowledged bytes are promised.
  std::string head = "PATCH " + path + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer " +
                     account.access +
                     "\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 150000\r\n"
                     "Content-Length: 250000\r\n\r\n";
  std::thread partial([&] { test::SendRaw(veza_->port(), {head, bytes.substr(150'000, 60'000)}, 10ms, 500ms); });
  std::this_thread::sleep_for(200ms);
  KillAndRestart();
  partial.join();

  std::string token = Token("kilroy");
  auto head_reply = Tus("HEAD", path, token);
  ASSERT_EQ(head_reply.status, 200) << head_reply.body;
  std::int64_t offset = std::stoll(head_reply.Header("upload-offset"));
  EXPECT_GE(offset, 150'000);  // never less than what was acknowledged
  EXPECT_LE(offset, 210'000);
  auto rest = Tus("PATCH", path, token,
                  {{"Content-Type", "application/offset+octet-stream"}, {"Upload-Offset", std::to_string(offset)}},
                  bytes.substr(static_cast<std::size_t>(offset)));
  ASSERT_EQ(rest.status, 204) << rest.body;
  std::string track = rest.Header("upload-track-id");
  ASSERT_FALSE(track.empty());
  auto original = test::Http("127.0.0.1", veza_->port(),
                             {"GET", "/api/v1/tracks/" + track + "/stream?format=original", "",
                              {{"Authorization", "Bearer " + token}}});
  EXPECT_TRUE(original.body == bytes) << "the original differs from the uploaded bytes (" << original.body.size()
                                      << " bytes)";
  ExpectIntegrity();
}

// Found by this suite: after SIGKILL during a transcode the track stayed "processing" for the
// old 15-minute lease. Now the lease is 60 s, renewed while the worker makes progress, and a job
// that finds its track leased comes back when the lease may have run out.
TEST_F(CrashDurability, SigkillDuringATranscodeTheJobFinishesAfterRestart) {
  auto account = SignUp("transcoder");
  std::string wav = SineWav(20);
  std::string body = "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.wav\"\r\n"
                     "Content-Type: audio/wav\r\n\r\n" + wav + "\r\n--B0und--\r\n";
  auto r = test::Http("127.0.0.1", veza_->port(),
                      {"POST", "/api/v1/tracks", body,
                       {{"Content-Type", "multipart/form-data; boundary=B0und"},
                        {"Authorization", "Bearer " + account.access}}},
                      60s);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Str(json::parse(r.body).as_object(), "id");
  std::string state;
  for (int i = 0; i < 300 && state != "processing" && state != "ready"; ++i) {
    state = State(id, account.access);
    if (state != "processing") std::this_thread::sleep_for(20ms);
  }
  std::cout << "[crash] state when killed: " << state << "\n";
  KillAndRestart();
  std::string token = Token("transcoder");
  EXPECT_EQ(WaitForJob(id, token), "ready") << veza_->Log().substr(0, 3000);
  ExpectIntegrity();
}

}  // namespace
}  // namespace veza
