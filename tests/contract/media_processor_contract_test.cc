// Contract tests of the MediaProcessor port against the FFmpeg backend, with the real `veza
// media-worker` child process (VEZA_BINARY) and real audio made by the `ffmpeg` CLI: every
// input is generated on demand into a temporary directory, a few seconds long to stay fast.
// Outputs are checked with `ffprobe`. Faults of the child (crash, hang, CPU spin, garbage) are
// injected by pointing the backend at a small shell script instead of veza.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>

#include "backends/media_ffmpeg/ffmpeg_media_processor.h"
#include "ports/media_processor.h"
#include "test_support.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

// Runs a shell command; its stdout, or nullopt when it failed.
std::optional<std::string> Shell(const std::string& cmd) {
  std::FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int status = ::pclose(f);
  if (status != 0) return std::nullopt;
  return out;
}

double ProbeDuration(const fs::path& file) {
  auto out = Shell("ffprobe -v error -show_entries format=duration -of csv=p=0 " + Quote(file));
  return out ? std::atof(out->c_str()) : -1;
}

std::string ProbeStream(const fs::path& file, const std::string& entries) {
  auto out = Shell("ffprobe -v error -select_streams a:0 -show_entries stream=" + entries +
                   " -of default=nw=1 " + Quote(file));
  return out.value_or("");
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One temporary directory per test process for the generated inputs, made as tests need them.
class Inputs {
 public:
  static Inputs& Get() {
    static Inputs inputs;
    return inputs;
  }
  const fs::path& dir() const { return dir_.path(); }

  // Generates `name` once with `ffmpeg <args> <dir/name>`.
  fs::path Make(const std::string& name, const std::string& args) {
    std::lock_guard lock(mu_);
    fs::path out = dir() / name;
    if (!fs::exists(out)) {
      std::string cmd = "ffmpeg -nostdin -loglevel error -y " + args + " " + Quote(out);
      EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    return out;
  }

  // A -20 dBFS (peak) 1 kHz sine: amplitude exactly 0.1.
  fs::path Tone(const std::string& name, int rate, int channels, double seconds,
                const std::string& codec_args) {
    std::string chans =
        channels == 1 ? "0.1*sin(2*PI*1000*t)" : "0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t)";
    return Make(name, "-f lavfi -i \"aevalsrc=" + chans + ":s=" + std::to_string(rate) +
                          ":d=" + std::to_string(seconds) + "\" " + codec_args);
  }

  // Music-like material (two tones and noise) so lossy encoders have something to do.
  fs::path Music(const std::string& name, int rate, int channels, double seconds,
                 const std::string& codec_args) {
    return Make(
        name,
        "-f lavfi -i \"aevalsrc=0.3*sin(2*PI*440*t)+0.2*sin(2*PI*660*t)+0.05*(random(0)-0.5):s=" +
            std::to_string(rate) + ":d=" + std::to_string(seconds) + "\" -ac " +
            std::to_string(channels) + " " + codec_args);
  }

  fs::path Cover(int w, int h) {
    return Make("cover_" + std::to_string(w) + "x" + std::to_string(h) + ".png",
                "-f lavfi -i color=c=red:s=" + std::to_string(w) + "x" + std::to_string(h) +
                    " -frames:v 1");
  }

 private:
  test::TempDir dir_;
  std::mutex mu_;
};

FfmpegMediaOptions WorkerOptions() {
  FfmpegMediaOptions o;
  o.worker_binary = VEZA_BINARY;
  o.timeout = 120s;
  return o;
}

std::unique_ptr<MediaProcessor> Open(const FfmpegMediaOptions& options = WorkerOptions()) {
  auto p = OpenFfmpegMediaProcessor(options);
  EXPECT_OK(p);
  return p.ok() ? std::move(p).value() : nullptr;
}

// A stand-in worker: a shell script that misbehaves as told.
fs::path Script(const test::TempDir& dir, const std::string& body) {
  fs::path p = dir.path() / ("worker_" + test::RandomToken() + ".sh");
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

int OpenFdCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

bool NoChildLeft() {
  int status;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

const MediaOutput* FindOutput(const MediaReport& r, const std::string& path) {
  for (const auto& o : r.outputs) {
    if (o.path == path) return &o;
  }
  return nullptr;
}

// --- probe -----------------------------------------------------------------------------------

struct Source {
  std::string name;  // test name and file name
  std::string args;  // ffmpeg output arguments
  int rate, channels;
  std::string container, codec;
  bool lossless;
};

const Source kSources[] = {
    {"wav_44k_stereo.wav", "-c:a pcm_s16le", 44100, 2, "wav", "pcm_s16le", true},
    {"flac_48k_mono.flac", "-c:a flac", 48000, 1, "flac", "flac", true},
    {"mp3_44k_stereo.mp3", "-c:a libmp3lame -b:a 192k", 44100, 2, "mp3", "mp3", false},
    {"opus_48k_stereo.opus", "-c:a libopus -b:a 96k", 48000, 2, "ogg", "opus", false},
    {"aac_44k_stereo.m4a", "-c:a aac -b:a 128k", 44100, 2, "mov", "aac", false},
    {"vorbis_48k_mono.ogg", "-c:a libvorbis -q:a 4", 48000, 1, "ogg", "vorbis", false},
    {"aiff_48k_stereo.aiff", "-c:a pcm_s16be", 48000, 2, "aiff", "pcm_s16be", true},
};

// Test names and logs show the file name, not the struct's bytes.
void PrintTo(const Source& s, std::ostream* os) { *os << s.name; }

class MediaFormatTest : public testing::TestWithParam<Source> {
 protected:
  fs::path Input(double seconds) {
    const Source& s = GetParam();
    return Inputs::Get().Music(std::to_string(static_cast<int>(seconds)) + "s_" + s.name, s.rate,
                               s.channels, seconds, s.args);
  }
};

TEST_P(MediaFormatTest, ProbeReportsTheFormat) {
  const Source& s = GetParam();
  fs::path input = Input(8);
  auto media = Open();
  auto f = media->Probe(input);
  ASSERT_OK(f);
  EXPECT_EQ(f->container, s.container);
  EXPECT_EQ(f->codec, s.codec);
  EXPECT_EQ(f->sample_rate, s.rate);
  EXPECT_EQ(f->channels, s.channels);
  EXPECT_EQ(f->lossless, s.lossless);
  EXPECT_NEAR(f->duration_ms / 1000.0, ProbeDuration(input), 0.1);
}

TEST_P(MediaFormatTest, ProcessWritesTheLayoutWithTheSourceDuration) {
  fs::path input = Input(8);
  test::TempDir out;
  auto media = Open();
  std::vector<int> progress;
  auto r = media->Process(input, out.path(), [&](int p) { progress.push_back(p); });
  ASSERT_OK(r);
  const double source = ProbeDuration(input);
  ASSERT_GT(source, 7.5);
  EXPECT_NEAR(r->format.duration_ms / 1000.0, source, 0.1);

  // Every rendition plays for as long as the source.
  for (const char* file : {"hls/master.m3u8", "hls/64k/index.m3u8", "hls/256k/index.m3u8",
                           "stream.m4a", "stream.opus"}) {
    EXPECT_NEAR(ProbeDuration(out.path() / file), source, 0.1) << file;
  }
  EXPECT_EQ(ProbeStream(out.path() / "stream.m4a", "codec_name"), "codec_name=aac\n");
  EXPECT_EQ(ProbeStream(out.path() / "stream.opus", "codec_name,sample_rate"),
            "codec_name=opus\nsample_rate=48000\n");

  // Faststart: the index (moov) comes before the media data (mdat).
  std::string m4a = ReadFile(out.path() / "stream.m4a");
  ASSERT_NE(m4a.find("moov"), std::string::npos);
  EXPECT_LT(m4a.find("moov"), m4a.find("mdat"));

  // Each file written is listed with its size and type, and nothing else is.
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out.path())) files += e.is_regular_file();
  EXPECT_EQ(r->outputs.size(), files);
  for (const auto& o : r->outputs) {
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(out.path() / o.path)), o.size) << o.path;
  }
  ASSERT_NE(FindOutput(*r, "hls/master.m3u8"), nullptr);
  EXPECT_EQ(FindOutput(*r, "hls/master.m3u8")->content_type, "application/vnd.apple.mpegurl");
  ASSERT_NE(FindOutput(*r, "stream.m4a"), nullptr);
  EXPECT_EQ(FindOutput(*r, "stream.m4a")->content_type, "audio/mp4");
  ASSERT_NE(FindOutput(*r, "stream.opus"), nullptr);
  EXPECT_EQ(FindOutput(*r, "stream.opus")->content_type, "audio/ogg");
  ASSERT_NE(FindOutput(*r, "waveform.json"), nullptr);
  EXPECT_EQ(FindOutput(*r, "cover.jpg"), nullptr);
  EXPECT_FALSE(r->has_cover);

  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(progress.back(), 100);
}

INSTANTIATE_TEST_SUITE_P(Formats, MediaFormatTest, testing::ValuesIn(kSources),
                         [](const auto& info) {
                           std::string n = info.param.name.substr(0, info.param.name.find('.'));
                           return n;
                         });

// --- playlists --------------------------------------------------------------------------------

TEST(MediaProcessorTest, PlaylistsDescribeTheLadder) {
  fs::path input = Inputs::Get().Music("15s.wav", 44100, 2, 15, "-c:a pcm_s16le");
  test::TempDir out;
  auto r = Open()->Process(input, out.path(), nullptr);
  ASSERT_OK(r);
  std::string master = ReadFile(out.path() / "hls/master.m3u8");
  std::regex variant(
      R"(#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),CODECS="mp4a.40.2"\n(\d+)k/index.m3u8)");
  std::vector<int> rungs;
  for (std::sregex_iterator it(master.begin(), master.end(), variant), end; it != end; ++it) {
    int64_t peak = std::stoll((*it)[1]), average = std::stoll((*it)[2]);
    int kbps = std::stoi((*it)[3]);
    rungs.push_back(kbps);
    // Bit rates as measured on the segments: near the nominal rate, never below the average.
    EXPECT_GE(peak, average) << kbps;
    EXPECT_GT(average, kbps * 1000 * 0.7) << kbps;
    EXPECT_LT(peak, kbps * 1000 * 1.5) << kbps;
  }
  EXPECT_EQ(rungs, (std::vector<int>{64, 128, 256})) << master;
  EXPECT_EQ(master.rfind("#EXTM3U\n", 0), 0u);

  for (int kbps : {64, 128, 256}) {
    fs::path rung = out.path() / "hls" / (std::to_string(kbps) + "k");
    std::string media = ReadFile(rung / "index.m3u8");
    EXPECT_NE(media.find("#EXT-X-TARGETDURATION:6"), std::string::npos) << media;
    EXPECT_NE(media.find("#EXT-X-PLAYLIST-TYPE:VOD"), std::string::npos);
    EXPECT_NE(media.find("#EXT-X-MAP:URI=\"init.mp4\""), std::string::npos);
    EXPECT_NE(media.find("#EXT-X-ENDLIST"), std::string::npos);
    EXPECT_TRUE(fs::exists(rung / "init.mp4"));
    // 15 s in ~6 s segments: three, every one of them listed and present.
    std::regex segment(R"(#EXTINF:([0-9.]+),\n(seg_\d+\.m4s))");
    int count = 0;
    for (std::sregex_iterator it(media.begin(), media.end(), segment), end; it != end; ++it) {
      ++count;
      EXPECT_LE(std::stod((*it)[1]), 6.1);
      EXPECT_TRUE(fs::exists(rung / (*it)[2].str()));
    }
    EXPECT_EQ(count, 3) << media;
    auto codec = ProbeStream(rung / "index.m3u8", "codec_name");
    EXPECT_NE(codec.find("codec_name=aac\n"), std::string::npos) << codec;
  }
}

// --- loudness and waveform --------------------------------------------------------------------

// BS.1770: L = -0.691 + 10 log10(sum over channels of the K-weighted mean square); the -0.691
// cancels the K filter's gain near 1 kHz. A sine of amplitude 0.1 has mean square 0.1^2 / 2 =
// 0.005, so one channel gives 10 log10(0.005) = -23.01 LUFS, and the same tone in both
// channels of a stereo file twice that power: -20.00 LUFS. True peak: 20 log10(0.1) = -20 dBTP.
TEST(MediaProcessorTest, LoudnessOfAMinus20DbfsToneMatchesBs1770) {
  struct Case {
    int channels;
    double expected_lufs;
  };
  for (Case c : {Case{1, 10 * std::log10(0.005)}, Case{2, 10 * std::log10(0.01)}}) {
    SCOPED_TRACE(c.channels);
    fs::path input = Inputs::Get().Tone("tone_" + std::to_string(c.channels) + ".wav", 48000,
                                        c.channels, 10, "-c:a pcm_f32le");
    test::TempDir out;
    auto r = Open()->Process(input, out.path(), nullptr);
    ASSERT_OK(r);
    EXPECT_NEAR(r->loudness.integrated_lufs, c.expected_lufs, 0.1);
    EXPECT_NEAR(r->loudness.replay_gain_db, -18 - r->loudness.integrated_lufs, 1e-9);
    EXPECT_NEAR(r->loudness.true_peak_dbtp, -20, 0.2);
    EXPECT_NEAR(r->loudness.loudness_range_lu, 0, 0.5);

    // The waveform: a flat line at the tone's peak.
    auto doc = boost::json::parse(ReadFile(out.path() / "waveform.json")).as_object();
    EXPECT_EQ(doc.at("version").as_int64(), 1);
    const auto& peaks = doc.at("peaks").as_array();
    EXPECT_EQ(doc.at("points").as_int64(), static_cast<int64_t>(peaks.size()));
    EXPECT_EQ(r->waveform_points, static_cast<int>(peaks.size()));
    EXPECT_GE(peaks.size(), 1024u);
    EXPECT_LE(peaks.size(), 2048u);
    for (const auto& p : peaks) EXPECT_NEAR(p.to_number<double>(), 0.1, 0.002);
  }
}

TEST(MediaProcessorTest, SilenceHasAFlatWaveformAndNoGain) {
  fs::path input =
      Inputs::Get().Make("silence.flac", "-f lavfi -i anullsrc=r=44100:cl=stereo -t 3 -c:a flac");
  test::TempDir out;
  auto r = Open()->Process(input, out.path(), nullptr);
  ASSERT_OK(r);
  EXPECT_EQ(r->loudness.integrated_lufs, -70);
  EXPECT_EQ(r->loudness.replay_gain_db, 0);
  auto doc = boost::json::parse(ReadFile(out.path() / "waveform.json")).as_object();
  for (const auto& p : doc.at("peaks").as_array()) EXPECT_EQ(p.to_number<double>(), 0.0);
  EXPECT_NEAR(ProbeDuration(out.path() / "stream.m4a"), 3.0, 0.1);
}

// --- tags and cover ---------------------------------------------------------------------------

const char* kTagArgs =
    "-metadata title='Night Drive' -metadata artist='Ada Lux' -metadata album='Roads' "
    "-metadata genre=Synthwave -metadata date=2021 -metadata track=3/12";

void ExpectTags(const MediaTags& t) {
  EXPECT_EQ(t.title, "Night Drive");
  EXPECT_EQ(t.artist, "Ada Lux");
  EXPECT_EQ(t.album, "Roads");
  EXPECT_EQ(t.genre, "Synthwave");
  EXPECT_EQ(t.year, 2021);
  EXPECT_EQ(t.track_number, 3);
}

void ExpectCover(const fs::path& out, int w, int h) {
  auto dims = Shell("ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 " +
                    Quote(out / "cover.jpg"));
  ASSERT_TRUE(dims.has_value());
  EXPECT_EQ(*dims, "mjpeg," + std::to_string(w) + "," + std::to_string(h) + "\n");
}

struct TaggedSource {
  std::string name, codec_args;
};

void PrintTo(const TaggedSource& s, std::ostream* os) { *os << s.name; }

class MediaTagsTest : public testing::TestWithParam<TaggedSource> {};

// ID3 APIC (MP3), FLAC PICTURE, MP4 covr: written by ffmpeg as an attached picture.
TEST_P(MediaTagsTest, TagsAndCoverComeThrough) {
  const auto& s = GetParam();
  fs::path cover = Inputs::Get().Cover(1600, 900);
  fs::path input = Inputs::Get().Make(
      "tagged_" + s.name, "-f lavfi -i sine=f=440:d=2 -i " + Quote(cover) + " -map 0:a -map 1:v " +
                              s.codec_args + " -disposition:v attached_pic " + kTagArgs);
  test::TempDir out;
  auto r = Open()->Process(input, out.path(), nullptr);
  ASSERT_OK(r);
  ExpectTags(r->tags);
  EXPECT_TRUE(r->has_cover);
  ASSERT_NE(FindOutput(*r, "cover.jpg"), nullptr);
  EXPECT_EQ(FindOutput(*r, "cover.jpg")->content_type, "image/jpeg");
  ExpectCover(out.path(), 1200, 675);  // scaled down to fit 1200 x 1200, aspect kept
}

INSTANTIATE_TEST_SUITE_P(
    Containers, MediaTagsTest,
    testing::Values(TaggedSource{"mp3.mp3", "-c:a libmp3lame -c:v copy -id3v2_version 3"},
                    TaggedSource{"flac.flac", "-c:a flac -c:v copy"},
                    TaggedSource{"m4a.m4a", "-c:a aac -c:v copy"}),
    [](const auto& info) { return info.param.name.substr(0, info.param.name.find('.')); });

std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Ogg Vorbis keeps its cover as a Vorbis comment METADATA_BLOCK_PICTURE (a base64 FLAC picture
// block), which ffmpeg 5.1 cannot write from an image input, so the test builds it.
TEST(MediaProcessorTest, OggVorbisCommentPictureIsTheCover) {
  std::string png = ReadFile(Inputs::Get().Cover(1000, 1500));
  std::string mime = "image/png";
  std::string block = Be32(3) + Be32(static_cast<uint32_t>(mime.size())) + mime + Be32(0) +
                      Be32(1000) + Be32(1500) + Be32(24) + Be32(0) +
                      Be32(static_cast<uint32_t>(png.size())) + png;
  fs::path input = Inputs::Get().Make(
      "tagged_vorbis.ogg", "-f lavfi -i sine=f=440:d=2 -c:a libvorbis " + std::string(kTagArgs) +
                               " -metadata METADATA_BLOCK_PICTURE=" + Base64(block));
  test::TempDir out;
  auto r = Open()->Process(input, out.path(), nullptr);
  ASSERT_OK(r);
  ExpectTags(r->tags);
  EXPECT_TRUE(r->has_cover);
  ExpectCover(out.path(), 800, 1200);
}

TEST(MediaProcessorTest, WavInfoTagsComeThroughWithoutCover) {
  fs::path input = Inputs::Get().Make(
      "tagged.wav", "-f lavfi -i sine=f=440:d=2 -c:a pcm_s16le " + std::string(kTagArgs));
  test::TempDir out;
  auto r = Open()->Process(input, out.path(), nullptr);
  ASSERT_OK(r);
  EXPECT_EQ(r->tags.title, "Night Drive");
  EXPECT_EQ(r->tags.artist, "Ada Lux");
  EXPECT_EQ(r->tags.album, "Roads");
  EXPECT_EQ(r->tags.genre, "Synthwave");
  EXPECT_EQ(r->tags.year, 2021);
  EXPECT_FALSE(r->has_cover);
}

// --- refused input ----------------------------------------------------------------------------

void ExpectRefused(MediaProcessor& media, const fs::path& input, const std::string& reason) {
  auto probed = media.Probe(input);
  ASSERT_FALSE(probed.ok()) << input;
  EXPECT_EQ(probed.error().code, ErrorCode::kUnprocessable) << probed.error().message;
  EXPECT_NE(probed.error().message.find(reason), std::string::npos) << probed.error().message;
  test::TempDir out;
  auto processed = media.Process(input, out.path(), nullptr);
  ASSERT_FALSE(processed.ok());
  EXPECT_EQ(processed.error().code, ErrorCode::kUnprocessable) << processed.error().message;
  EXPECT_NE(processed.error().message.find(reason), std::string::npos) << processed.error().message;
}

TEST(MediaProcessorTest, EmptyFileIsRefused) {
  fs::path input = Inputs::Get().dir() / "empty.mp3";
  std::ofstream{input};
  ExpectRefused(*Open(), input, "empty file");
}

TEST(MediaProcessorTest, RandomBytesWithAnAudioExtensionAreRefused) {
  fs::path input = Inputs::Get().dir() / "random.mp3";
  {
    std::ofstream out(input, std::ios::binary);
    std::mt19937 rng(42);
    for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(rng()));
  }
  auto media = Open();
  auto probed = media->Probe(input);
  ASSERT_FALSE(probed.ok());
  EXPECT_EQ(probed.error().code, ErrorCode::kUnprocessable);
  EXPECT_TRUE(probed.error().message.find("not an audio file") != std::string::npos ||
              probed.error().message.find("corrupt") != std::string::npos)
      << probed.error().message;
}

TEST(MediaProcessorTest, VideoFileIsRefused) {
  fs::path input = Inputs::Get().Make(
      "video.mp4",
      "-f lavfi -i testsrc=d=2:s=320x240:r=25 -f lavfi -i sine=d=2 -c:v mpeg4 -c:a aac -shortest");
  ExpectRefused(*Open(), input, "not an audio file (it has a video stream)");
}

TEST(MediaProcessorTest, HeaderOnlyFileIsCorrupt) {
  fs::path full = Inputs::Get().Music("for_cut.wav", 44100, 2, 4, "-c:a pcm_s16le -bitexact");
  fs::path cut = Inputs::Get().dir() / "header_only.wav";
  // The 44-byte RIFF header promises 4 s of audio; not one sample follows.
  std::ofstream(cut, std::ios::binary) << ReadFile(full).substr(0, 44);
  ExpectRefused(*Open(), cut, "corrupt");
}

TEST(MediaProcessorTest, TruncatedFileIsCorruptWhenProcessed) {
  fs::path full = Inputs::Get().Music("for_half.flac", 44100, 2, 8, "-c:a flac");
  fs::path cut = Inputs::Get().dir() / "half.flac";
  std::string bytes = ReadFile(full);
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto media = Open();
  test::TempDir out;
  auto r = media->Process(cut, out.path(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnprocessable);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
}

TEST(MediaProcessorTest, OverLongFileIsRefused) {
  fs::path input = Inputs::Get().Music("8s_long.wav", 44100, 1, 8, "-c:a pcm_s16le");
  FfmpegMediaOptions o = WorkerOptions();
  o.max_duration = 5s;
  ExpectRefused(*Open(o), input, "longer than the 5 s limit");
}

TEST(MediaProcessorTest, PlaylistsAndOtherFormatsAreNotFollowed) {
  // An HLS playlist naming a local file: libavformat would open it; the allow-list does not.
  fs::path secret = Inputs::Get().Music("secret.wav", 44100, 1, 2, "-c:a pcm_s16le");
  fs::path playlist = Inputs::Get().dir() / "upload.mp3";
  std::ofstream(playlist) << "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
                          << secret.string() << "\n#EXT-X-ENDLIST\n";
  ExpectRefused(*Open(), playlist, "not an audio file");
}

// --- isolation --------------------------------------------------------------------------------

class MediaIsolationTest : public testing::Test {
 protected:
  void SetUp() override {
    input_ = Inputs::Get().Music("2s.wav", 44100, 2, 2, "-c:a pcm_s16le");
    fds_before_ = OpenFdCount();
  }
  // After a failure the parent is as before: no child left, no descriptor leaked, and the
  // real worker still answers.
  void ExpectHealthy() {
    EXPECT_TRUE(NoChildLeft());
    EXPECT_EQ(OpenFdCount(), fds_before_);
    EXPECT_OK(Open()->Probe(input_));
  }
  Result<MediaReport> RunWith(const fs::path& worker, FfmpegMediaOptions o = WorkerOptions()) {
    o.worker_binary = worker;
    auto media = Open(o);
    test::TempDir out;
    return media->Process(input_, out.path(), nullptr);
  }

  test::TempDir scripts_;
  fs::path input_;
  int fds_before_ = 0;
};

TEST_F(MediaIsolationTest, WorkerKilledBySignalIsUnavailableNamingTheSignal) {
  auto r = RunWith(Script(scripts_, "kill -SEGV $$"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("SIGSEGV"), std::string::npos) << r.error().message;
  ExpectHealthy();
}

TEST_F(MediaIsolationTest, WallClockTimeoutKillsTheWorker) {
  FfmpegMediaOptions o = WorkerOptions();
  o.timeout = 300ms;
  auto r = RunWith(Script(scripts_, "exec sleep 600"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("longer than"), std::string::npos) << r.error().message;
  ExpectHealthy();
}

TEST_F(MediaIsolationTest, CpuLimitStopsASpinningWorker) {
  FfmpegMediaOptions o = WorkerOptions();
  o.cpu_time = 1s;
  auto r = RunWith(Script(scripts_, "while :; do :; done"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("CPU-time limit"), std::string::npos) << r.error().message;
  ExpectHealthy();
}

TEST_F(MediaIsolationTest, OutputSizeLimitStopsTheRealWorker) {
  FfmpegMediaOptions o = WorkerOptions();
  o.max_output_mb = 1;  // stream.m4a of 60 s at 256 kbps is about 1.9 MB
  input_ = Inputs::Get().Music("60s.flac", 44100, 2, 60, "-c:a flac");
  auto r = RunWith(VEZA_BINARY, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("1 MB limit"), std::string::npos) << r.error().message;
  ExpectHealthy();
}

TEST_F(MediaIsolationTest, WorkerSeesNoEnvironmentNoStdinAndNoInheritedDescriptors) {
  fs::path report = scripts_.path() / "seen.txt";
  // Open without CLOEXEC in this process, at a number no shell uses: the child must not get it.
  int devnull = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(devnull, 0);
  int leaked = ::fcntl(devnull, F_DUPFD, 57);
  ::close(devnull);
  ASSERT_EQ(leaked, 57);
  auto r = RunWith(Script(scripts_, "{ env; echo fds; ls /proc/$$/fd; echo stdin; cat; } > " +
                                        Quote(report) + "; echo '{\"ok\":true,\"report\":{}}'"));
  ::close(leaked);
  ASSERT_FALSE(r.ok());  // the stand-in's report is empty: refused as malformed, not trusted
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  std::string seen = ReadFile(report);
  EXPECT_EQ(seen.find("VEZA_"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("HOME="), std::string::npos) << seen;
  EXPECT_NE(seen.find("LC_ALL=C"), std::string::npos) << seen;
  auto fds = seen.substr(seen.find("fds\n") + 4, seen.find("stdin\n") - seen.find("fds\n") - 4);
  EXPECT_NE(fds.find("3\n"), std::string::npos) << fds;  // the progress pipe
  EXPECT_EQ(fds.find("57\n"), std::string::npos) << fds;
  EXPECT_EQ(seen.substr(seen.find("stdin\n") + 6), "");  // /dev/null
}

TEST_F(MediaIsolationTest, GarbageReplyIsAnInternalError) {
  auto r = RunWith(Script(scripts_, "echo 'this is not json'"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  ExpectHealthy();
}

TEST_F(MediaIsolationTest, MissingWorkerIsRefusedAtOpen) {
  FfmpegMediaOptions o = WorkerOptions();
  o.worker_binary = scripts_.path() / "no-such-worker";
  auto media = OpenFfmpegMediaProcessor(o);
  ASSERT_FALSE(media.ok());
  EXPECT_EQ(media.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace veza
