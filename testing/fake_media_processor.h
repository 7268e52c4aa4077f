#pragma once
// A MediaProcessor for tests above the port: writes the documented output layout with small
// files (real playlists, tiny fake segments) and reports fixed facts. Files whose first bytes
// are "CORRUPT" are refused with kUnprocessable, as the real pipeline refuses undecodable input;
// fail_next makes the next calls fail with kUnavailable (a retryable error).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "ports/media_processor.h"

namespace veza::test {

class FakeMediaProcessor final : public MediaProcessor {
 public:
  std::atomic<int> fail_next{0};
  std::atomic<int> process_calls{0};

  Result<MediaFormat> Probe(const std::filesystem::path& input) override {
    std::ifstream in(input, std::ios::binary);
    char head[7] = {};
    in.read(head, sizeof head);
    if (in.gcount() == 0) return Error{ErrorCode::kUnprocessable, "empty file"};
    if (std::string(head, static_cast<std::size_t>(in.gcount())) == "CORRUPT") {
      return Error{ErrorCode::kUnprocessable, "not an audio file"};
    }
    return Format();
  }

  Result<MediaReport> Process(const std::filesystem::path& input,
                              const std::filesystem::path& out_dir,
                              const MediaProgress& progress) override {
    ++process_calls;
    if (fail_next > 0) {
      --fail_next;
      return Error{ErrorCode::kUnavailable, "the encoder is busy"};
    }
    VEZA_ASSIGN_OR_RETURN(MediaFormat format, Probe(input));
    MediaReport report;
    report.format = format;
    report.tags = {"Tagged Title", "Tagged Artist", "Tagged Album", "Ambient", 2024, 3};
    report.loudness = {-14.5, 6.0, -1.2, -3.5};
    report.waveform_points = 4;
    auto write = [&](const std::string& rel, const std::string& type, const std::string& bytes) {
      std::filesystem::create_directories((out_dir / rel).parent_path());
      std::ofstream(out_dir / rel, std::ios::binary) << bytes;
      report.outputs.push_back({rel, type, static_cast<std::int64_t>(bytes.size())});
    };
    std::string master = "#EXTM3U\n";
    for (const char* rung : {"64k", "128k", "256k"}) {
      master += "#EXT-X-STREAM-INF:BANDWIDTH=" +
                std::string(rung).substr(0, std::string(rung).size() - 1) +
                "000,CODECS=\"mp4a.40.2\"\n" + rung + "/index.m3u8\n";
      write(std::string("hls/") + rung + "/index.m3u8", "application/vnd.apple.mpegurl",
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:1.0,\nseg0.ts\n#EXT-X-"
            "ENDLIST\n");
      write(std::string("hls/") + rung + "/seg0.ts", "video/mp2t", std::string(188, 'G'));
    }
    write("hls/master.m3u8", "application/vnd.apple.mpegurl", master);
    std::string m4a;
    for (int i = 0; i < 5000; ++i) m4a += static_cast<char>('a' + i % 26);
    write("stream.m4a", "audio/mp4", m4a);
    write("stream.opus", "audio/ogg", "OggS" + std::string(1000, 'o'));
    write("waveform.json", "application/json",
          R"({"version":1,"points":4,"peaks":[0.1,0.5,0.9,0.2]})");
    if (progress) progress(50), progress(100);
    return report;
  }

  static MediaFormat Format() {
    MediaFormat f;
    f.container = "wav";
    f.codec = "pcm_s16le";
    f.sample_rate = 44100;
    f.channels = 2;
    f.duration_ms = 1000;
    f.bit_rate = 1411200;
    f.lossless = true;
    return f;
  }
};

}  // namespace veza::test
