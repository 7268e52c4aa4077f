// ProcessAudio: decode once, fan the samples out to parallel encoders and the analysis, then
// write the playlists, waveform, tags and cover (layout in ports/media_processor.h).
#include <ebur128.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <new>
#include <sstream>
#include <system_error>
#include <thread>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include "backends/media_ffmpeg/audio_input.h"
#include "backends/media_ffmpeg/media_pipeline.h"
#include "backends/media_ffmpeg/tags.h"

namespace veza::media {
namespace {

namespace fs = std::filesystem;

constexpr int kLadderKbps[] = {64, 128, 256};
constexpr int kProgressiveAacKbps = 256;  // stream.m4a shares the top rung's encoder
constexpr int kOpusKbps = 160;
constexpr int kSegmentSeconds = 6;
constexpr int kWaveformPoints = 2048;
constexpr int kPeakBlockFrames = 64;  // waveform resolution kept while decoding
constexpr int kCoverMaxSide = 1200;
constexpr std::size_t kQueueFrames = 64;  // per consumer; bounds memory whatever the input
constexpr double kReplayGainReferenceLufs = -18.0;
constexpr double kSilenceLufs = -70.0;  // the BS.1770 absolute gate: quieter counts as silence

Error OutOfMemory() { return Timeout("out of memory: the media memory limit was reached"); }

Error AvFailure(std::string_view what, int err) {
  if (err == AVERROR(ENOMEM)) return OutOfMemory();
  return Internal(std::string(what) + ": " + AvErrorText(err));
}

// A bounded hand-over of frames from the decoding thread to one consumer thread.
class FrameQueue {
 public:
  bool Push(FramePtr frame) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return cancelled_ || frames_.size() < kQueueFrames; });
    if (cancelled_) return false;
    frames_.push_back(std::move(frame));
    not_empty_.notify_one();
    return true;
  }
  // The next frame, or null once the queue is closed and drained (or cancelled).
  FramePtr Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return cancelled_ || closed_ || !frames_.empty(); });
    if (cancelled_ || frames_.empty()) return nullptr;
    FramePtr f = std::move(frames_.front());
    frames_.pop_front();
    not_full_.notify_one();
    return f;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    frames_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<FramePtr> frames_;
  bool closed_ = false, cancelled_ = false;
};

// The first error of any thread wins and stops every queue.
class FailureLatch {
 public:
  void Fail(Error e) {
    std::vector<FrameQueue*> queues;
    {
      std::lock_guard lock(mu_);
      if (failed_) return;
      failed_ = true;
      error_ = std::move(e);
      queues = queues_;
    }
    for (auto* q : queues) q->Cancel();
  }
  void Watch(FrameQueue* q) { queues_.push_back(q); }
  bool failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  Error error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  bool failed_ = false;
  Error error_;
  std::vector<FrameQueue*> queues_;
};

// Runs fn on a thread; an exception (allocation failure under RLIMIT_AS above all) becomes an
// error instead of std::terminate.
template <class Fn>
std::thread Spawn(FailureLatch& latch, Fn fn) {
  return std::thread([&latch, fn = std::move(fn)]() mutable {
    try {
      Status s = fn();
      if (!s.ok()) latch.Fail(s.take_error());
    } catch (const std::bad_alloc&) {
      latch.Fail(OutOfMemory());
    } catch (const std::exception& e) {
      latch.Fail(Internal(std::string("media pipeline: ") + e.what()));
    }
  });
}

struct Sink {
  OutputPtr mux;
  AVStream* stream = nullptr;
};

Result<Sink> OpenSink(const char* format, const fs::path& path, const AVCodecContext* enc,
                      AVDictionary* options) {
  std::unique_ptr<AVDictionary, DictDeleter> opts(options);
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, format, path.c_str());
  if (err < 0) return AvFailure(std::string("muxer ") + format, err);
  Sink sink;
  sink.mux.reset(raw);
  raw->protocol_whitelist = av_strdup("file");
  sink.stream = avformat_new_stream(raw, nullptr);
  if (sink.stream == nullptr) return OutOfMemory();
  err = avcodec_parameters_from_context(sink.stream->codecpar, enc);
  if (err < 0) return AvFailure("codec parameters", err);
  sink.stream->time_base = enc->time_base;
  if (!(raw->oformat->flags & AVFMT_NOFILE)) {
    err = avio_open(&raw->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (err < 0) return AvFailure("cannot create " + path.filename().string(), err);
  }
  AVDictionary* o = opts.release();
  err = avformat_write_header(raw, &o);
  av_dict_free(&o);
  if (err < 0) return AvFailure(std::string("cannot start ") + format + " output", err);
  return sink;
}

struct Encoder {
  std::string name;
  CodecPtr codec;
  std::vector<Sink> sinks;
  FrameQueue queue;
};

Status Drain(Encoder& e, AVPacket* pkt) {
  while (true) {
    int err = avcodec_receive_packet(e.codec.get(), pkt);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Ok();
    if (err < 0) return AvFailure(e.name + " encoder", err);
    for (std::size_t i = 0; i < e.sinks.size(); ++i) {
      Sink& s = e.sinks[i];
      PacketPtr copy = NewPacket();
      if (!copy || av_packet_ref(copy.get(), pkt) < 0) return OutOfMemory();
      av_packet_rescale_ts(copy.get(), e.codec->time_base, s.stream->time_base);
      copy->stream_index = s.stream->index;
      err = av_interleaved_write_frame(s.mux.get(), copy.get());
      if (err < 0) return AvFailure(e.name + " output", err);
    }
    av_packet_unref(pkt);
  }
}

Status RunEncoder(Encoder& e, FailureLatch& latch) {
  PacketPtr pkt = NewPacket();
  while (FramePtr frame = e.queue.Pop()) {
    int err = avcodec_send_frame(e.codec.get(), frame.get());
    if (err < 0) return AvFailure(e.name + " encoder", err);
    VEZA_TRY(Drain(e, pkt.get()));
  }
  if (latch.failed()) return Ok();
  int err = avcodec_send_frame(e.codec.get(), nullptr);
  if (err < 0) return AvFailure(e.name + " encoder", err);
  VEZA_TRY(Drain(e, pkt.get()));
  for (Sink& s : e.sinks) {
    err = av_write_trailer(s.mux.get());
    if (err < 0) return AvFailure(e.name + " output", err);
  }
  return Ok();
}

Result<CodecPtr> OpenEncoder(const AVCodec* codec, AVSampleFormat fmt, int rate,
                             const AVChannelLayout& layout, int kbps) {
  CodecPtr c(avcodec_alloc_context3(codec));
  if (!c) return OutOfMemory();
  c->sample_fmt = fmt;
  c->sample_rate = rate;
  if (av_channel_layout_copy(&c->ch_layout, &layout) < 0) return OutOfMemory();
  c->bit_rate = int64_t{kbps} * 1000;
  c->time_base = AVRational{1, rate};
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // MP4, fMP4 and Ogg all want out-of-band headers
  c->thread_count = 1;                      // parallelism comes from one thread per encoder
  int err = avcodec_open2(c.get(), codec, nullptr);
  if (err < 0) return AvFailure(std::string("cannot open the ") + codec->name + " encoder", err);
  return c;
}

// Resamples decoded frames into one sample format/rate/layout and cuts them into the encoder's
// frame size, handing each frame to every queue that wants it.
class Converter {
 public:
  Status Init(const AVCodecContext* dec, const AVChannelLayout& in_layout, AVSampleFormat fmt,
              int rate, const AVChannelLayout& layout, int frame_size,
              std::vector<FrameQueue*> outs) {
    fmt_ = fmt;
    rate_ = rate;
    frame_size_ = frame_size;
    outs_ = std::move(outs);
    if (av_channel_layout_copy(&layout_, &layout) < 0) return OutOfMemory();
    SwrContext* raw = nullptr;
    int err =
        swr_alloc_set_opts2(&raw, &layout_, fmt, rate, const_cast<AVChannelLayout*>(&in_layout),
                            dec->sample_fmt, dec->sample_rate, 0, nullptr);
    if (err < 0) return AvFailure("resampler", err);
    swr_.reset(raw);
    err = swr_init(raw);
    if (err < 0) return AvFailure("resampler", err);
    fifo_.reset(av_audio_fifo_alloc(fmt, layout_.nb_channels, frame_size * 4));
    if (!fifo_) return OutOfMemory();
    return Ok();
  }
  ~Converter() { av_channel_layout_uninit(&layout_); }

  // in == nullptr flushes the resampler and the last partial frame. False: a consumer failed.
  Result<bool> Add(const AVFrame* in) {
    int in_samples = in == nullptr ? 0 : in->nb_samples;
    int room = swr_get_out_samples(swr_.get(), in_samples);
    if (room < 0) return AvFailure("resampler", room);
    if (room > 0) {
      FramePtr out = NewFrame();
      out->format = fmt_;
      out->sample_rate = rate_;
      out->nb_samples = room;
      if (av_channel_layout_copy(&out->ch_layout, &layout_) < 0) return OutOfMemory();
      if (av_frame_get_buffer(out.get(), 0) < 0) return OutOfMemory();
      // swr_convert rather than swr_convert_frame: frames of a file without a channel mask
      // carry an unspecified layout that would not match the default one we configured.
      int got = swr_convert(
          swr_.get(), out->data, room,
          in == nullptr ? nullptr : const_cast<const uint8_t**>(in->extended_data), in_samples);
      if (got < 0) return AvFailure("resampler", got);
      if (got > 0) {
        int err = av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(out->data), got);
        if (err < 0) return AvFailure("sample buffer", err);
      }
    }
    while (av_audio_fifo_size(fifo_.get()) >= frame_size_) {
      VEZA_ASSIGN_OR_RETURN(bool more, Emit(frame_size_));
      if (!more) return false;
    }
    if (in == nullptr && av_audio_fifo_size(fifo_.get()) > 0)
      return Emit(av_audio_fifo_size(fifo_.get()));
    return true;
  }

 private:
  Result<bool> Emit(int samples) {
    FramePtr f = NewFrame();
    f->format = fmt_;
    f->sample_rate = rate_;
    f->nb_samples = samples;
    if (av_channel_layout_copy(&f->ch_layout, &layout_) < 0) return OutOfMemory();
    if (av_frame_get_buffer(f.get(), 0) < 0) return OutOfMemory();
    if (av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(f->data), samples) < samples) {
      return Internal("sample buffer underrun");
    }
    f->pts = next_pts_;
    next_pts_ += samples;
    for (std::size_t i = 0; i < outs_.size(); ++i) {
      FramePtr copy(i + 1 == outs_.size() ? f.release() : av_frame_clone(f.get()));
      if (!copy) return OutOfMemory();
      if (!outs_[i]->Push(std::move(copy))) return false;
    }
    return true;
  }

  SwrPtr swr_;
  FifoPtr fifo_;
  AVSampleFormat fmt_ = AV_SAMPLE_FMT_NONE;
  AVChannelLayout layout_{};
  int rate_ = 0, frame_size_ = 0;
  int64_t next_pts_ = 0;
  std::vector<FrameQueue*> outs_;
};

struct Analysis {
  MediaLoudness loudness;
  std::vector<float> block_peaks;  // max |sample| over channels per kPeakBlockFrames frames
};

// Loudness (EBU R128 via libebur128, at the source rate) and waveform peaks from interleaved
// float frames with the source's channels.
Status RunAnalysis(FrameQueue& queue, int rate, int channels, FailureLatch& latch, Analysis& out) {
  std::unique_ptr<ebur128_state, void (*)(ebur128_state*)> st(
      ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate),
                   EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK),
      [](ebur128_state* s) { ebur128_destroy(&s); });
  if (!st) return OutOfMemory();  // ebur128_init fails only when it cannot allocate
  float block_peak = 0;
  int in_block = 0;
  while (FramePtr f = queue.Pop()) {
    const float* samples = reinterpret_cast<const float*>(f->data[0]);
    if (ebur128_add_frames_float(st.get(), samples, static_cast<std::size_t>(f->nb_samples)) !=
        EBUR128_SUCCESS) {
      return Internal("loudness meter failed");
    }
    for (int i = 0; i < f->nb_samples; ++i) {
      for (int c = 0; c < channels; ++c)
        block_peak = std::max(block_peak, std::fabs(samples[i * channels + c]));
      if (++in_block == kPeakBlockFrames) {
        out.block_peaks.push_back(block_peak);
        block_peak = 0;
        in_block = 0;
      }
    }
  }
  if (latch.failed()) return Ok();
  if (in_block > 0) out.block_peaks.push_back(block_peak);

  double integrated = -HUGE_VAL, range = 0, peak = 0;
  ebur128_loudness_global(st.get(), &integrated);
  ebur128_loudness_range(st.get(), &range);
  for (int c = 0; c < channels; ++c) {
    double p = 0;
    if (ebur128_true_peak(st.get(), static_cast<unsigned>(c), &p) == EBUR128_SUCCESS)
      peak = std::max(peak, p);
  }
  MediaLoudness& l = out.loudness;
  bool silent = !std::isfinite(integrated) || integrated < kSilenceLufs;
  l.integrated_lufs = silent ? kSilenceLufs : integrated;
  l.loudness_range_lu = std::isfinite(range) ? range : 0;
  l.true_peak_dbtp = peak > 0 ? std::max(20 * std::log10(peak), -100.0) : -100.0;
  // Silence has no level to correct; any gain would only raise noise.
  l.replay_gain_db = silent ? 0 : kReplayGainReferenceLufs - integrated;
  return Ok();
}

std::vector<float> WaveformPoints(const std::vector<float>& blocks) {
  std::vector<float> points(kWaveformPoints, 0.0f);
  if (blocks.empty()) return points;
  const std::size_t n = blocks.size();
  for (std::size_t p = 0; p < points.size(); ++p) {
    std::size_t begin = p * n / points.size();
    std::size_t end = std::max(begin + 1, (p + 1) * n / points.size());
    float peak = 0;
    for (std::size_t b = begin; b < end && b < n; ++b) peak = std::max(peak, blocks[b]);
    points[p] = std::min(peak, 1.0f);
  }
  return points;
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Internal("cannot write " + path.filename().string());
  return Ok();
}

Status WriteWaveform(const fs::path& path, const std::vector<float>& points) {
  std::string json = "{\"version\":1,\"points\":" + std::to_string(points.size()) + ",\"peaks\":[";
  char buf[16];
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.4f", i == 0 ? "" : ",", static_cast<double>(points[i]));
    json += buf;
  }
  json += "]}\n";
  return WriteText(path, json);
}

// BANDWIDTH (peak segment bit rate) and AVERAGE-BANDWIDTH of one rung, from its playlist and
// the sizes of the segments it lists (HLS: RFC 8216 section 4.3.4.2).
Result<std::pair<int64_t, int64_t>> MeasureRung(const fs::path& dir) {
  std::ifstream playlist(dir / "index.m3u8");
  if (!playlist) return Internal("HLS playlist missing in " + dir.filename().string());
  std::string line;
  double duration = -1, total_seconds = 0, peak = 0;
  int64_t total_bytes = 0;
  while (std::getline(playlist, line)) {
    if (line.rfind("#EXTINF:", 0) == 0) {
      duration = std::atof(line.c_str() + 8);
    } else if (!line.empty() && line[0] != '#' && duration > 0) {
      std::error_code ec;
      auto size = static_cast<int64_t>(fs::file_size(dir / line, ec));
      if (ec) return Internal("HLS segment missing: " + line);
      total_bytes += size;
      total_seconds += duration;
      // A short last segment is mostly headers; it would overstate the peak.
      if (duration >= 1.0 || peak == 0)
        peak = std::max(peak, static_cast<double>(size) * 8 / duration);
      duration = -1;
    }
  }
  if (total_seconds <= 0)
    return Internal("HLS playlist without segments in " + dir.filename().string());
  auto average =
      static_cast<int64_t>(std::ceil(static_cast<double>(total_bytes) * 8 / total_seconds));
  return std::make_pair(static_cast<int64_t>(std::ceil(peak)), average);
}

Status WriteMasterPlaylist(const fs::path& hls) {
  std::string m3u8 = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (int kbps : kLadderKbps) {
    std::string rung = std::to_string(kbps) + "k";
    VEZA_ASSIGN_OR_RETURN(auto bw, MeasureRung(hls / rung));
    m3u8 += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(bw.first) +
            ",AVERAGE-BANDWIDTH=" + std::to_string(bw.second) + ",CODECS=\"mp4a.40.2\"\n" + rung +
            "/index.m3u8\n";
  }
  return WriteText(hls / "master.m3u8", m3u8);
}

std::string ContentTypeOf(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".m3u8") return "application/vnd.apple.mpegurl";
  if (ext == ".m4s" || ext == ".mp4" || ext == ".m4a") return "audio/mp4";
  if (ext == ".opus") return "audio/ogg";
  if (ext == ".json") return "application/json";
  if (ext == ".jpg") return "image/jpeg";
  return "application/octet-stream";
}

std::vector<MediaOutput> ListOutputs(const fs::path& out_dir) {
  std::vector<MediaOutput> outputs;
  for (const auto& entry : fs::recursive_directory_iterator(out_dir)) {
    if (!entry.is_regular_file()) continue;
    MediaOutput o;
    o.path = fs::relative(entry.path(), out_dir).generic_string();
    o.content_type = ContentTypeOf(entry.path());
    o.size = static_cast<int64_t>(entry.file_size());
    outputs.push_back(std::move(o));
  }
  std::sort(outputs.begin(), outputs.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  return outputs;
}

AVDictionary* HlsOptions(const fs::path& rung_dir) {
  AVDictionary* d = nullptr;
  av_dict_set(&d, "hls_time", std::to_string(kSegmentSeconds).c_str(), 0);
  av_dict_set(&d, "hls_playlist_type", "vod", 0);
  av_dict_set(&d, "hls_segment_type", "fmp4", 0);
  av_dict_set(&d, "hls_fmp4_init_filename", "init.mp4", 0);
  av_dict_set(&d, "hls_segment_filename", (rung_dir / "seg_%05d.m4s").c_str(), 0);
  av_dict_set(&d, "hls_flags", "independent_segments", 0);
  return d;
}

AVDictionary* Mp4Options() {
  AVDictionary* d = nullptr;
  av_dict_set(&d, "movflags", "+faststart", 0);
  return d;
}

class Progress {
 public:
  explicit Progress(const MediaProgress& fn) : fn_(fn) {}
  void Report(int percent) {
    percent = std::clamp(percent, 0, 100);
    if (percent <= last_ || !fn_) return;
    last_ = percent;
    fn_(percent);
  }

 private:
  const MediaProgress& fn_;
  int last_ = -1;
};

}  // namespace

Result<MediaReport> ProcessAudio(const fs::path& input, const fs::path& out_dir,
                                 const PipelineLimits& limits, const MediaProgress& progress_fn) {
  Progress progress(progress_fn);
  progress.Report(0);
  VEZA_ASSIGN_OR_RETURN(AudioInput in, OpenAudioInput(input, limits));
  AVCodecContext* dec = in.decoder.get();
  const int src_rate = dec->sample_rate;
  const int src_channels = dec->ch_layout.nb_channels;
  AVChannelLayout src_layout{};
  if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&src_layout, src_channels);
  } else if (av_channel_layout_copy(&src_layout, &dec->ch_layout) < 0) {
    return OutOfMemory();
  }
  std::unique_ptr<AVChannelLayout, void (*)(AVChannelLayout*)> src_layout_owner(
      &src_layout, av_channel_layout_uninit);
  // Mono stays mono; everything else is mixed down to stereo.
  AVChannelLayout out_layout{};
  av_channel_layout_default(&out_layout, src_channels == 1 ? 1 : 2);
  const int aac_rate = src_rate == 44100 ? 44100 : 48000;

  std::error_code ec;
  fs::create_directories(out_dir / "hls", ec);
  for (int kbps : kLadderKbps)
    fs::create_directories(out_dir / "hls" / (std::to_string(kbps) + "k"), ec);
  if (ec) return Internal("cannot create the output directories: " + ec.message());

  const AVCodec* aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
  const AVCodec* opus = avcodec_find_encoder_by_name("libopus");
  if (aac == nullptr || opus == nullptr) return Internal("FFmpeg lacks the aac or libopus encoder");

  std::vector<std::unique_ptr<Encoder>> aac_encoders;
  for (int kbps : kLadderKbps) {
    auto e = std::make_unique<Encoder>();
    e->name = "aac " + std::to_string(kbps) + "k";
    VEZA_ASSIGN_OR_RETURN(e->codec,
                          OpenEncoder(aac, AV_SAMPLE_FMT_FLTP, aac_rate, out_layout, kbps));
    fs::path rung = out_dir / "hls" / (std::to_string(kbps) + "k");
    VEZA_ASSIGN_OR_RETURN(Sink hls,
                          OpenSink("hls", rung / "index.m3u8", e->codec.get(), HlsOptions(rung)));
    e->sinks.push_back(std::move(hls));
    if (kbps == kProgressiveAacKbps) {
      VEZA_ASSIGN_OR_RETURN(Sink m4a,
                            OpenSink("ipod", out_dir / "stream.m4a", e->codec.get(), Mp4Options()));
      e->sinks.push_back(std::move(m4a));
    }
    aac_encoders.push_back(std::move(e));
  }
  auto opus_encoder = std::make_unique<Encoder>();
  opus_encoder->name = "opus";
  VEZA_ASSIGN_OR_RETURN(opus_encoder->codec,
                        OpenEncoder(opus, AV_SAMPLE_FMT_FLT, 48000, out_layout, kOpusKbps));
  {
    VEZA_ASSIGN_OR_RETURN(
        Sink ogg, OpenSink("ogg", out_dir / "stream.opus", opus_encoder->codec.get(), nullptr));
    opus_encoder->sinks.push_back(std::move(ogg));
  }

  FrameQueue analysis_queue;
  FailureLatch latch;
  std::vector<FrameQueue*> aac_queues;
  for (auto& e : aac_encoders) {
    aac_queues.push_back(&e->queue);
    latch.Watch(&e->queue);
  }
  latch.Watch(&opus_encoder->queue);
  latch.Watch(&analysis_queue);

  Converter to_aac, to_opus, to_analysis;
  VEZA_TRY(to_aac.Init(dec, src_layout, AV_SAMPLE_FMT_FLTP, aac_rate, out_layout,
                       aac_encoders[0]->codec->frame_size, aac_queues));
  VEZA_TRY(to_opus.Init(dec, src_layout, AV_SAMPLE_FMT_FLT, 48000, out_layout,
                        opus_encoder->codec->frame_size > 0 ? opus_encoder->codec->frame_size : 960,
                        {&opus_encoder->queue}));
  VEZA_TRY(to_analysis.Init(dec, src_layout, AV_SAMPLE_FMT_FLT, src_rate, src_layout, 4096,
                            {&analysis_queue}));

  Analysis analysis;
  std::vector<std::thread> threads;
  try {
    for (auto& e : aac_encoders)
      threads.push_back(Spawn(latch, [&e, &latch] { return RunEncoder(*e, latch); }));
    threads.push_back(Spawn(latch, [&] { return RunEncoder(*opus_encoder, latch); }));
    threads.push_back(Spawn(latch, [&] {
      return RunAnalysis(analysis_queue, src_rate, src_channels, latch, analysis);
    }));
  } catch (const std::system_error&) {
    // No room for another thread's stack under RLIMIT_AS: stop the ones already running.
    latch.Fail(OutOfMemory());
  }

  // Decoding runs on this thread; the consumers pace it through their bounded queues.
  const int64_t max_samples = limits.max_duration.count() * src_rate / 1000;
  const int64_t expected_samples = in.info.duration_ms * src_rate / 1000;
  int64_t decoded_samples = 0;
  int decode_errors = 0, frames = 0;
  auto decode = [&]() -> Status {
    PacketPtr pkt = NewPacket();
    FramePtr frame = NewFrame();
    bool eof = false;
    while (!eof) {
      int err = av_read_frame(in.format.get(), pkt.get());
      if (err == AVERROR(ENOMEM)) return OutOfMemory();
      eof = err < 0;
      if (!eof && pkt->stream_index != in.stream_index) {
        av_packet_unref(pkt.get());
        continue;
      }
      err = avcodec_send_packet(dec, eof ? nullptr : pkt.get());
      av_packet_unref(pkt.get());
      if (err < 0 && err != AVERROR_EOF) {
        if (err == AVERROR(ENOMEM)) return OutOfMemory();
        ++decode_errors;
      }
      while (true) {
        err = avcodec_receive_frame(dec, frame.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) break;
        if (err < 0) {
          if (err == AVERROR(ENOMEM)) return OutOfMemory();
          ++decode_errors;
          break;
        }
        if (frame->sample_rate != src_rate || frame->ch_layout.nb_channels != src_channels ||
            frame->format != dec->sample_fmt) {
          return Unprocessable("corrupt: the audio format changes mid-stream");
        }
        ++frames;
        decoded_samples += frame->nb_samples;
        if (decoded_samples > max_samples) {
          return Unprocessable("longer than the " + DescribeDuration(limits.max_duration) +
                               " limit");
        }
        for (Converter* c : {&to_aac, &to_opus, &to_analysis}) {
          VEZA_ASSIGN_OR_RETURN(bool more, c->Add(frame.get()));
          if (!more) return Ok();  // a consumer failed; its error is in the latch
        }
        av_frame_unref(frame.get());
        if (expected_samples > 0)
          progress.Report(static_cast<int>(90 * decoded_samples / expected_samples));
      }
    }
    // Damage here and there is tolerated, as players do; mostly damage is not.
    if (frames == 0) return Unprocessable("corrupt: no decodable audio");
    if (decode_errors > 8 && decode_errors * 4 > frames) {
      return Unprocessable("corrupt: " + std::to_string(decode_errors) + " damaged packets");
    }
    for (Converter* c : {&to_aac, &to_opus, &to_analysis}) {
      VEZA_ASSIGN_OR_RETURN(bool more, c->Add(nullptr));
      if (!more) return Ok();
    }
    return Ok();
  };
  Status decoded;
  try {
    if (!latch.failed()) decoded = decode();
  } catch (const std::bad_alloc&) {
    decoded = OutOfMemory();
  }
  if (!decoded.ok()) latch.Fail(decoded.take_error());
  for (auto& e : aac_encoders) e->queue.Close();
  opus_encoder->queue.Close();
  analysis_queue.Close();
  for (auto& t : threads) t.join();
  if (latch.failed()) return latch.error();

  const int64_t decoded_ms = decoded_samples * 1000 / src_rate;
  // A header that promises more than the data holds: the upload was cut off. (Durations
  // estimated from the bit rate are too rough to judge.)
  if (in.info.duration_ms > 0 &&
      in.format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE &&
      decoded_ms + std::max<int64_t>(1000, in.info.duration_ms / 50) < in.info.duration_ms) {
    return Unprocessable("corrupt: truncated (" + std::to_string(decoded_ms / 1000) + " s of " +
                         std::to_string(in.info.duration_ms / 1000) + " s decodable)");
  }
  progress.Report(92);

  // The muxers are done; close their files before measuring them.
  for (auto& e : aac_encoders) e->sinks.clear();
  opus_encoder->sinks.clear();
  VEZA_TRY(WriteMasterPlaylist(out_dir / "hls"));
  std::vector<float> points = WaveformPoints(analysis.block_peaks);
  VEZA_TRY(WriteWaveform(out_dir / "waveform.json", points));
  progress.Report(95);

  MediaReport report;
  report.format = in.info;
  report.format.duration_ms = decoded_ms;
  report.loudness = analysis.loudness;
  report.waveform_points = static_cast<int>(points.size());
  TagsAndCover tc = ReadTagsAndCover(input, in);
  report.tags = std::move(tc.tags);
  if (!tc.cover.empty()) {
    // A cover we cannot read is dropped, not a reason to refuse the track.
    report.has_cover = WriteCoverJpeg(tc.cover, out_dir / "cover.jpg", kCoverMaxSide).ok();
    if (!report.has_cover) fs::remove(out_dir / "cover.jpg", ec);
  }
  report.outputs = ListOutputs(out_dir);
  progress.Report(100);
  return report;
}

}  // namespace veza::media
