// The tracks service with the real media pipeline end to end: a WAV made with the ffmpeg CLI is
// uploaded, the media job (FFmpeg in child processes) makes it ready, and ffprobe reads the HLS
// master URL and the progressive URL over HTTP with the signed tokens the track JSON carries.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_test.h"
#include "http_client.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TracksPipelineTest : public test::ApiTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override { return {"--max-body", "16000000"}; }

  std::string Register(const std::string& name) {
    auto r =
        Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                          R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(json::parse(r.body).as_object(), "access_token") : "";
  }
  // seconds of a 440 Hz sine, mono 22.05 kHz WAV, made by the ffmpeg CLI.
  std::string SineWav(double seconds) {
    auto path = dir_.path() / "sine.wav";
    std::string cmd =
        "ffmpeg -nostdin -loglevel error -y -f lavfi -i "
        "sine=frequency=440:sample_rate=22050:duration=" +
        std::to_string(seconds) + " -ac 1 " + path.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return ReadFile(path);
  }
  HttpResponse Upload(const std::string& bearer, const std::string& filename,
                      const std::string& bytes) {
    std::string body = "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                       filename + "\"\r\nContent-Type: audio/wav\r\n\r\n" + bytes +
                       "\r\n--B0und--\r\n";
    return Http("127.0.0.1", veza_->port(),
                {"POST",
                 "/api/v1/tracks",
                 body,
                 {{"Content-Type", "multipart/form-data; boundary=B0und"},
                  {"Authorization", "Bearer " + bearer}}},
                std::chrono::seconds(60));
  }
  // Polls the track until the job has finished (ready or failed); the bound only stops a hung
  // pipeline from hanging the suite.
  json::object WaitForJob(const std::string& id, const std::string& bearer) {
    if (veza_->Log().find("no media processor in this build") != std::string::npos) {
      ADD_FAILURE()
          << "this build has no MediaProcessor backend (Backends::media is null until the "
             "FFmpeg backend lands): the media job cannot run";
      return {};
    }
    for (int i = 0; i < 1200; ++i) {
      auto r = Send("GET", "/api/v1/tracks/" + id, "", bearer);
      if (r.status == 200) {
        json::object t = json::parse(r.body).as_object();
        std::string state = Str(t, "state");
        if (state == "ready" || state == "failed") return t;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the media job did not finish";
    return {};
  }
  double ProbeDuration(const std::string& path) {
    std::string url = "http://127.0.0.1:" + std::to_string(veza_->port()) + path;
    std::string out =
        Capture("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + url + "'");
    return out.empty() ? -1 : std::stod(out);
  }
  void Restart(std::vector<std::string> extra) {
    ASSERT_EQ(veza_->Stop(SIGTERM), 0) << veza_->Log();
    std::vector<std::string> args = {"serve",           "--listen",   "127.0.0.1:0",
                                     "--no-access-log", "--max-body", "16000000"};
    for (auto& a : extra) args.push_back(a);
    veza_ = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{},
                                                dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }
};

TEST_F(TracksPipelineTest, UploadBecomesReadyAndHlsAndProgressiveUrlsPlayForTheSourcesDuration) {
  std::string token = Register("alice");
  auto r = Upload(token, "sine.wav", SineWav(7.5));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Str(json::parse(r.body).as_object(), "id");
  json::object t = WaitForJob(id, token);
  ASSERT_EQ(Str(t, "state"), "ready") << json::serialize(t);
  EXPECT_NEAR(t.at("duration_ms").as_int64(), 7500, 100);
  EXPECT_TRUE(t.contains("loudness"));
  EXPECT_NEAR(ProbeDuration(Str(t, "hls_url")), 7.5, 0.1);
  EXPECT_NEAR(ProbeDuration(Str(t, "stream_url")), 7.5, 0.1);
  EXPECT_NEAR(ProbeDuration(Str(t, "stream_url") + "?format=opus"), 7.5, 0.1);
  // The waveform: signed URL with no header, and the header route; a WAV has no cover.
  auto waveform = Send("GET", Str(t, "waveform_url"), "");
  ASSERT_EQ(waveform.status, 200) << waveform.body;
  EXPECT_EQ(waveform.Header("content-type"), "application/json");
  json::object peaks = json::parse(waveform.body).as_object();
  EXPECT_EQ(static_cast<std::int64_t>(peaks.at("peaks").as_array().size()),
            t.at("waveform_points").as_int64());
  EXPECT_GE(peaks.at("peaks").as_array().size(), 1024u);
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/waveform", "", token).body, waveform.body);
  EXPECT_FALSE(t.contains("cover_url"));
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/cover", "", token).status, 404);
}

TEST_F(TracksPipelineTest, EmbeddedCoverArtIsServedAndPrivateCoversStayPrivate) {
  std::string alice = Register("alice");
  std::string bob = Register("bob");
  auto mp3 = dir_.path() / "covered.mp3";
  std::string cmd =
      "ffmpeg -nostdin -loglevel error -y -f lavfi -i sine=frequency=330:duration=3 -f lavfi -i "
      "color=orange:size=320x320:duration=0.1 -frames:v 1 -map 0:a -map 1:v -c:a libmp3lame -c:v mjpeg "
      "-id3v2_version 3 -metadata:s:v comment='Cover (front)' -metadata title='Covered' " +
      mp3.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto r = Upload(alice, "covered.mp3", ReadFile(mp3));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Str(json::parse(r.body).as_object(), "id");
  json::object t = WaitForJob(id, alice);
  ASSERT_EQ(Str(t, "state"), "ready") << json::serialize(t);
  ASSERT_TRUE(t.at("has_cover").as_bool());
  auto cover = Send("GET", Str(t, "cover_url"), "");
  ASSERT_EQ(cover.status, 200) << cover.body;
  EXPECT_EQ(cover.Header("content-type"), "image/jpeg");
  ASSERT_GE(cover.body.size(), 3u);
  EXPECT_EQ(cover.body.substr(0, 3), std::string("\xff\xd8\xff"));
  // Public: anyone may fetch it by id; private: only the owner, and a listener's token stops
  // working (the same rule as the stream).
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/cover", "").status, 200);
  json::object as_bob =
      json::parse(Send("GET", "/api/v1/tracks/" + id, "", bob).body).as_object();
  std::string bobs_cover_url = Str(as_bob, "cover_url");
  EXPECT_EQ(Send("GET", bobs_cover_url, "").status, 200);
  ASSERT_EQ(Send("PATCH", "/api/v1/tracks/" + id, R"({"visibility":"private"})", alice).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/cover", "", bob).status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/cover", "").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/waveform", "", bob).status, 404);
  EXPECT_EQ(Send("GET", bobs_cover_url, "").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/tracks/" + id + "/cover", "", alice).status, 200);
  EXPECT_EQ(Send("GET", Str(t, "cover_url") + "x", "").status, 403);  // forged token
}

TEST_F(TracksPipelineTest, CorruptUploadEndsFailedWithAReasonAndTheServerKeepsServing) {
  std::string token = Register("alice");
  std::string junk(200'000, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919) & 0xff);
  std::string wav = SineWav(2);
  std::string truncated = wav.substr(0, 44) + junk;  // a WAV header over noise
  for (const std::string& bytes : {junk, truncated}) {
    auto r = Upload(token, "broken.wav", bytes);
    if (r.status == 422) {  // refused at once by the probe
      EXPECT_EQ(r.Header("content-type"), "application/problem+json");
      continue;
    }
    ASSERT_EQ(r.status, 201) << r.body;
    json::object t = WaitForJob(Str(json::parse(r.body).as_object(), "id"), token);
    if (Str(t, "state") == "failed") {
      EXPECT_FALSE(Str(t, "failure_reason").empty());
    }
  }
  EXPECT_EQ(Send("GET", "/healthz", "").status, 200);
  auto ok = Upload(token, "fine.wav", wav);
  ASSERT_EQ(ok.status, 201);
  EXPECT_EQ(Str(WaitForJob(Str(json::parse(ok.body).as_object(), "id"), token), "state"), "ready");
}

TEST_F(TracksPipelineTest, RestartResumesAPendingJob) {
  std::string token = Register("alice");
  Restart({"--roles", "http"});  // no media workers: the job waits
  auto r = Upload(token, "sine.wav", SineWav(3));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = Str(json::parse(r.body).as_object(), "id");
  EXPECT_EQ(
      Str(json::parse(Send("GET", "/api/v1/tracks/" + id, "", token).body).as_object(), "state"),
      "uploaded");
  Restart({});  // a node with media workers picks the pending track up
  json::object t = WaitForJob(id, token);
  EXPECT_EQ(Str(t, "state"), "ready");
  EXPECT_NEAR(ProbeDuration(Str(t, "stream_url")), 3.0, 0.1);
}

}  // namespace
}  // namespace veza
