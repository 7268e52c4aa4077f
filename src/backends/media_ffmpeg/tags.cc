#include "backends/media_ffmpeg/tags.h"

#include <aifffile.h>
#include <attachedpictureframe.h>
#include <fileref.h>
#include <flacfile.h>
#include <flacpicture.h>
#include <id3v2tag.h>
#include <mp4file.h>
#include <mpegfile.h>
#include <oggflacfile.h>
#include <opusfile.h>
#include <tag.h>
#include <vorbisfile.h>
#include <wavfile.h>
#include <xiphcomment.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace veza::media {
namespace {

// Pictures larger than this are not covers anyone wants to decode in a worker.
constexpr std::size_t kMaxPictureBytes = 16 << 20;

std::string FromId3(TagLib::ID3v2::Tag* tag) {
  if (tag == nullptr) return {};
  std::string any;
  for (auto* frame : tag->frameListMap()["APIC"]) {
    auto* pic = dynamic_cast<TagLib::ID3v2::AttachedPictureFrame*>(frame);
    if (pic == nullptr) continue;
    std::string bytes(pic->picture().data(), pic->picture().size());
    if (pic->type() == TagLib::ID3v2::AttachedPictureFrame::FrontCover) return bytes;
    if (any.empty()) any = std::move(bytes);
  }
  return any;
}

std::string FromFlacPictures(const TagLib::List<TagLib::FLAC::Picture*>& pictures) {
  std::string any;
  for (auto* pic : pictures) {
    std::string bytes(pic->data().data(), pic->data().size());
    if (pic->type() == TagLib::FLAC::Picture::FrontCover) return bytes;
    if (any.empty()) any = std::move(bytes);
  }
  return any;
}

std::string FromXiph(TagLib::Ogg::XiphComment* tag) {
  return tag == nullptr ? std::string() : FromFlacPictures(tag->pictureList());
}

std::string FromMp4(TagLib::MP4::Tag* tag) {
  if (tag == nullptr || !tag->contains("covr")) return {};
  auto list = tag->item("covr").toCoverArtList();
  if (list.isEmpty()) return {};
  auto data = list.front().data();
  return std::string(data.data(), data.size());
}

// Opens the file with the TagLib class for its container; the cover comes out through `cover`.
std::unique_ptr<TagLib::File> OpenTagged(const std::filesystem::path& input, const MediaFormat& f,
                                         std::string& cover) {
  const char* path = input.c_str();
  if (f.container == "mp3") {
    auto file = std::make_unique<TagLib::MPEG::File>(path);
    if (file->isValid()) cover = FromId3(file->ID3v2Tag());
    return file;
  }
  if (f.container == "flac") {
    auto file = std::make_unique<TagLib::FLAC::File>(path);
    if (file->isValid()) cover = FromFlacPictures(file->pictureList());
    return file;
  }
  if (f.container == "ogg") {
    if (f.codec == "vorbis") {
      auto file = std::make_unique<TagLib::Ogg::Vorbis::File>(path);
      if (file->isValid()) cover = FromXiph(file->tag());
      return file;
    }
    if (f.codec == "opus") {
      auto file = std::make_unique<TagLib::Ogg::Opus::File>(path);
      if (file->isValid()) cover = FromXiph(file->tag());
      return file;
    }
    if (f.codec == "flac") {
      auto file = std::make_unique<TagLib::Ogg::FLAC::File>(path);
      if (file->isValid()) cover = FromXiph(file->tag());
      return file;
    }
    return nullptr;
  }
  if (f.container == "mov") {
    auto file = std::make_unique<TagLib::MP4::File>(path);
    if (file->isValid()) cover = FromMp4(file->tag());
    return file;
  }
  if (f.container == "wav") {
    auto file = std::make_unique<TagLib::RIFF::WAV::File>(path);
    if (file->isValid()) cover = FromId3(file->ID3v2Tag());
    return file;
  }
  if (f.container == "aiff") {
    auto file = std::make_unique<TagLib::RIFF::AIFF::File>(path);
    if (file->isValid()) cover = FromId3(file->tag());
    return file;
  }
  return nullptr;
}

std::string Meta(const AVDictionary* dict, const char* key) {
  const AVDictionaryEntry* e = av_dict_get(dict, key, nullptr, 0);
  return e == nullptr || e->value == nullptr ? std::string() : std::string(e->value);
}

// libavformat keeps tags on the container or (Ogg) on the stream.
std::string AvTag(const AudioInput& in, const char* key) {
  std::string v = Meta(in.format->metadata, key);
  if (v.empty()) v = Meta(in.format->streams[in.stream_index]->metadata, key);
  return v;
}

std::optional<int> LeadingNumber(const std::string& s) {
  int value = 0, digits = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || digits == 9) break;
    value = value * 10 + (c - '0');
    ++digits;
  }
  if (digits == 0 || value == 0) return std::nullopt;
  return value;
}

}  // namespace

TagsAndCover ReadTagsAndCover(const std::filesystem::path& input, const AudioInput& in) {
  TagsAndCover out;
  MediaTags& t = out.tags;
  std::unique_ptr<TagLib::File> file = OpenTagged(input, in.info, out.cover);
  if (file && file->isValid() && file->tag() != nullptr) {
    const TagLib::Tag* tag = file->tag();
    t.title = tag->title().to8Bit(true);
    t.artist = tag->artist().to8Bit(true);
    t.album = tag->album().to8Bit(true);
    t.genre = tag->genre().to8Bit(true);
    if (tag->year() > 0) t.year = static_cast<int>(tag->year());
    if (tag->track() > 0) t.track_number = static_cast<int>(tag->track());
  }
  if (t.title.empty()) t.title = AvTag(in, "title");
  if (t.artist.empty()) t.artist = AvTag(in, "artist");
  if (t.album.empty()) t.album = AvTag(in, "album");
  if (t.genre.empty()) t.genre = AvTag(in, "genre");
  if (!t.year) t.year = LeadingNumber(AvTag(in, "date"));
  if (!t.track_number) t.track_number = LeadingNumber(AvTag(in, "track"));
  if (out.cover.empty() && in.cover_stream_index >= 0) {
    const AVPacket& pic = in.format->streams[in.cover_stream_index]->attached_pic;
    if (pic.data != nullptr && pic.size > 0) {
      out.cover.assign(reinterpret_cast<const char*>(pic.data), static_cast<std::size_t>(pic.size));
    }
  }
  if (out.cover.size() > kMaxPictureBytes) out.cover.clear();
  return out;
}

namespace {

AVCodecID PictureCodec(const std::string& b) {
  auto starts = [&b](std::string_view magic, std::size_t at = 0) {
    return b.size() >= at + magic.size() && b.compare(at, magic.size(), magic) == 0;
  };
  if (starts("\xFF\xD8\xFF")) return AV_CODEC_ID_MJPEG;
  if (starts("\x89PNG\r\n\x1A\n")) return AV_CODEC_ID_PNG;
  if (starts("GIF8")) return AV_CODEC_ID_GIF;
  if (starts("BM")) return AV_CODEC_ID_BMP;
  if (starts("RIFF") && starts("WEBP", 8)) return AV_CODEC_ID_WEBP;
  return AV_CODEC_ID_NONE;
}

}  // namespace

Status WriteCoverJpeg(const std::string& picture, const std::filesystem::path& out, int max_side) {
  AVCodecID id = PictureCodec(picture);
  if (id == AV_CODEC_ID_NONE) return Unprocessable("cover: unknown image format");
  const AVCodec* decoder = avcodec_find_decoder(id);
  if (decoder == nullptr) return Unprocessable("cover: no decoder");
  CodecPtr dec(avcodec_alloc_context3(decoder));
  if (!dec) return Internal("cover: out of memory");
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "max_pixels", "67108864", 0);  // 8192 x 8192: no decompression bombs
  int err = avcodec_open2(dec.get(), decoder, &opts);
  av_dict_free(&opts);
  if (err < 0) return Unprocessable("cover: " + AvErrorText(err));

  PacketPtr pkt = NewPacket();
  if (av_new_packet(pkt.get(), static_cast<int>(picture.size())) < 0)
    return Internal("cover: out of memory");
  std::copy(picture.begin(), picture.end(), pkt->data);
  FramePtr frame = NewFrame();
  err = avcodec_send_packet(dec.get(), pkt.get());
  if (err >= 0) avcodec_send_packet(dec.get(), nullptr);
  if (err >= 0) err = avcodec_receive_frame(dec.get(), frame.get());
  if (err < 0) return Unprocessable("cover: " + AvErrorText(err));
  if (frame->width <= 0 || frame->height <= 0) return Unprocessable("cover: empty image");

  int w = frame->width, h = frame->height;
  if (w > max_side || h > max_side) {
    if (w >= h) {
      h = std::max(1, static_cast<int>(static_cast<int64_t>(h) * max_side / w));
      w = max_side;
    } else {
      w = std::max(1, static_cast<int>(static_cast<int64_t>(w) * max_side / h));
      h = max_side;
    }
  }
  const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (encoder == nullptr) return Internal("cover: no JPEG encoder");
  CodecPtr enc(avcodec_alloc_context3(encoder));
  if (!enc) return Internal("cover: out of memory");
  enc->width = w;
  enc->height = h;
  enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * 3;
  err = avcodec_open2(enc.get(), encoder, nullptr);
  if (err < 0) return Internal("cover: cannot open the JPEG encoder: " + AvErrorText(err));

  SwsPtr sws(sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
                            w, h, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!sws) return Unprocessable("cover: unsupported pixel format");
  FramePtr scaled = NewFrame();
  scaled->format = AV_PIX_FMT_YUVJ420P;
  scaled->width = w;
  scaled->height = h;
  if (av_frame_get_buffer(scaled.get(), 0) < 0) return Internal("cover: out of memory");
  sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, scaled->data,
            scaled->linesize);
  scaled->quality = enc->global_quality;
  scaled->pts = 0;

  err = avcodec_send_frame(enc.get(), scaled.get());
  if (err >= 0) avcodec_send_frame(enc.get(), nullptr);
  PacketPtr jpeg = NewPacket();
  if (err >= 0) err = avcodec_receive_packet(enc.get(), jpeg.get());
  if (err < 0) return Internal("cover: JPEG encoding failed: " + AvErrorText(err));

  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) return Internal("cover: cannot create " + out.filename().string());
  bool written = std::fwrite(jpeg->data, 1, static_cast<std::size_t>(jpeg->size), f) ==
                 static_cast<std::size_t>(jpeg->size);
  if (std::fclose(f) != 0 || !written)
    return Internal("cover: cannot write " + out.filename().string());
  return Ok();
}

}  // namespace veza::media
