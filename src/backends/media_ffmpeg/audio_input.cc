#include "backends/media_ffmpeg/audio_input.h"

#include <cstdio>
#include <system_error>

namespace veza::media {
namespace {

// Demuxers an upload may use. Everything else (playlists such as hls or concat that open other
// files, image sequences, video containers, devices) is refused before it reads a byte more.
constexpr const char* kAudioDemuxers =
    "wav,w64,flac,mp3,ogg,mov,aiff,aac,matroska,webm,caf,wv,ape,tta,dsf,au,amr,ac3,eac3,"
    "mpc,mpc8,shn,tak,truehd,dts,mlp,asf,voc,xwma";

// Image codecs that some containers expose as a one-frame video stream for the cover.
bool IsImageCodec(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_MJPEG:
    case AV_CODEC_ID_PNG:
    case AV_CODEC_ID_BMP:
    case AV_CODEC_ID_GIF:
    case AV_CODEC_ID_TIFF:
    case AV_CODEC_ID_WEBP:
      return true;
    default:
      return false;
  }
}

std::string ShortName(const char* names) {
  std::string s = names == nullptr ? "" : names;
  auto comma = s.find(',');
  return comma == std::string::npos ? s : s.substr(0, comma);
}

}  // namespace

std::string DescribeDuration(std::chrono::milliseconds d) {
  using namespace std::chrono;
  char buf[32];
  if (d >= hours(1) && d % hours(1) == milliseconds(0)) {
    std::snprintf(buf, sizeof buf, "%lld h", static_cast<long long>(d / hours(1)));
  } else if (d >= minutes(1) && d % minutes(1) == milliseconds(0)) {
    std::snprintf(buf, sizeof buf, "%lld min", static_cast<long long>(d / minutes(1)));
  } else {
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(d.count()) / 1000.0);
  }
  return buf;
}

Result<AudioInput> OpenAudioInput(const std::filesystem::path& input,
                                  const PipelineLimits& limits) {
  std::error_code ec;
  auto size = std::filesystem::file_size(input, ec);
  if (ec) return Internal("cannot read the uploaded file: " + ec.message());
  if (size == 0) return Unprocessable("empty file");

  AudioInput in;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  av_dict_set(&opts, "format_whitelist", kAudioDemuxers, 0);
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, input.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (err < 0) {
    if (err == AVERROR(ENOMEM)) return Timeout("out of memory: the media memory limit was reached");
    return Unprocessable("not an audio file (format not recognised)");
  }
  in.format.reset(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) return Unprocessable("corrupt: " + AvErrorText(err));

  for (unsigned i = 0; i < raw->nb_streams; ++i) {
    const AVStream* st = raw->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    bool cover =
        (st->disposition & AV_DISPOSITION_ATTACHED_PIC) || IsImageCodec(st->codecpar->codec_id);
    if (!cover) return Unprocessable("not an audio file (it has a video stream)");
    if (in.cover_stream_index < 0 && (st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      in.cover_stream_index = static_cast<int>(i);
    }
  }
  const AVCodec* codec = nullptr;
  int index = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (index == AVERROR_STREAM_NOT_FOUND)
    return Unprocessable("not an audio file (no audio stream)");
  if (index < 0 || codec == nullptr) {
    return Unprocessable(
        "unsupported audio codec " +
        std::string(index >= 0 ? avcodec_get_name(raw->streams[index]->codecpar->codec_id) : "?"));
  }
  in.stream_index = index;
  AVStream* st = raw->streams[index];
  // Only the chosen stream is demuxed further.
  for (unsigned i = 0; i < raw->nb_streams; ++i) {
    if (static_cast<int>(i) != index) raw->streams[i]->discard = AVDISCARD_ALL;
  }

  in.decoder.reset(avcodec_alloc_context3(codec));
  if (!in.decoder) return Timeout("out of memory: the media memory limit was reached");
  if (avcodec_parameters_to_context(in.decoder.get(), st->codecpar) < 0) {
    return Unprocessable("corrupt: bad codec parameters");
  }
  in.decoder->pkt_timebase = st->time_base;
  in.decoder->thread_count = 1;
  err = avcodec_open2(in.decoder.get(), codec, nullptr);
  if (err < 0)
    return Unprocessable("corrupt: cannot open the " + std::string(codec->name) +
                         " decoder: " + AvErrorText(err));
  if (in.decoder->sample_rate <= 0 || in.decoder->ch_layout.nb_channels <= 0) {
    return Unprocessable("corrupt: no sample rate or channel count");
  }

  MediaFormat& f = in.info;
  f.container = ShortName(raw->iformat->name);
  f.codec = avcodec_get_name(st->codecpar->codec_id);
  f.sample_rate = in.decoder->sample_rate;
  f.channels = in.decoder->ch_layout.nb_channels;
  int64_t duration_us = 0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    duration_us = av_rescale_q(st->duration, st->time_base, AVRational{1, AV_TIME_BASE});
  } else if (raw->duration != AV_NOPTS_VALUE && raw->duration > 0) {
    duration_us = raw->duration;
  }
  f.duration_ms = duration_us / 1000;
  f.bit_rate =
      st->codecpar->bit_rate > 0 ? st->codecpar->bit_rate : std::max<int64_t>(raw->bit_rate, 0);
  const AVCodecDescriptor* desc = avcodec_descriptor_get(st->codecpar->codec_id);
  f.lossless = desc != nullptr && (desc->props & AV_CODEC_PROP_LOSSLESS) &&
               !(desc->props & AV_CODEC_PROP_LOSSY);
  if (f.duration_ms > limits.max_duration.count()) {
    return Unprocessable("longer than the " + DescribeDuration(limits.max_duration) + " limit");
  }
  return in;
}

Status DecodeSome(AudioInput& in, int max_packets) {
  PacketPtr pkt = NewPacket();
  FramePtr frame = NewFrame();
  int last_error = 0;
  for (int n = 0; n < max_packets;) {
    int err = av_read_frame(in.format.get(), pkt.get());
    bool eof = err < 0;
    if (!eof && pkt->stream_index != in.stream_index) {
      av_packet_unref(pkt.get());
      continue;
    }
    ++n;
    err = avcodec_send_packet(in.decoder.get(), eof ? nullptr : pkt.get());
    av_packet_unref(pkt.get());
    if (err < 0 && err != AVERROR_EOF) last_error = err;
    while (true) {
      err = avcodec_receive_frame(in.decoder.get(), frame.get());
      if (err < 0) {
        if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) last_error = err;
        break;
      }
      bool samples = frame->nb_samples > 0;
      av_frame_unref(frame.get());
      if (samples) return Ok();
    }
    if (eof) break;
  }
  if (last_error != 0) return Unprocessable("corrupt: " + AvErrorText(last_error));
  return Unprocessable("corrupt: no decodable audio");
}

Result<MediaFormat> ProbeAudio(const std::filesystem::path& input, const PipelineLimits& limits) {
  VEZA_ASSIGN_OR_RETURN(AudioInput in, OpenAudioInput(input, limits));
  VEZA_TRY(DecodeSome(in, 64));
  return in.info;
}

}  // namespace veza::media
