#include "backends/media_ffmpeg/report_json.h"

#include <boost/json.hpp>

namespace veza::media {
namespace {

namespace json = boost::json;

constexpr ErrorCode kWorkerCodes[] = {ErrorCode::kUnprocessable,   ErrorCode::kTimeout,
                                      ErrorCode::kUnavailable,     ErrorCode::kInternal,
                                      ErrorCode::kInvalidArgument, ErrorCode::kNotFound};

json::object FormatJson(const MediaFormat& f) {
  return {{"container", f.container},     {"codec", f.codec},
          {"sample_rate", f.sample_rate}, {"channels", f.channels},
          {"duration_ms", f.duration_ms}, {"bit_rate", f.bit_rate},
          {"lossless", f.lossless}};
}

json::value Optional(const std::optional<int>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

std::string Reply(const char* key, json::value v) {
  json::object o{{"ok", true}};
  o[key] = std::move(v);
  return json::serialize(o);
}

// Lookups that fail loudly: a malformed reply is our bug, reported as kInternal.
struct Reader {
  const json::object* o;
  bool ok = true;
  const json::value* Get(std::string_view key) {
    const json::value* v = o == nullptr ? nullptr : o->if_contains(key);
    if (v == nullptr) ok = false;
    return v;
  }
  std::string String(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || !v->is_string()) return ok = false, std::string();
    return std::string(v->get_string());
  }
  int64_t Int(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || !v->is_int64()) return ok = false, 0;
    return v->get_int64();
  }
  double Double(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || !v->is_number()) return ok = false, 0.0;
    return v->to_number<double>();
  }
  bool Bool(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || !v->is_bool()) return ok = false, false;
    return v->get_bool();
  }
  std::optional<int> OptionalInt(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_int64()) return ok = false, std::nullopt;
    return static_cast<int>(v->get_int64());
  }
  Reader Object(std::string_view key) {
    const json::value* v = Get(key);
    if (v == nullptr || !v->is_object()) return ok = false, Reader{nullptr, false};
    return Reader{&v->get_object()};
  }
};

MediaFormat ReadFormat(Reader r, bool& ok) {
  MediaFormat f;
  f.container = r.String("container");
  f.codec = r.String("codec");
  f.sample_rate = static_cast<int>(r.Int("sample_rate"));
  f.channels = static_cast<int>(r.Int("channels"));
  f.duration_ms = r.Int("duration_ms");
  f.bit_rate = r.Int("bit_rate");
  f.lossless = r.Bool("lossless");
  ok = ok && r.ok;
  return f;
}

// Parses the envelope; returns the payload under `key`, or the worker's error.
Result<Reader> Envelope(std::string_view text, const char* key, json::value& holder) {
  boost::system::error_code ec;
  holder = json::parse(text, ec);
  if (ec || !holder.is_object()) return Internal("media worker: unreadable reply");
  Reader top{&holder.get_object()};
  if (top.Bool("ok")) {
    Reader payload = top.Object(key);
    if (!top.ok) return Internal("media worker: reply without " + std::string(key));
    return payload;
  }
  Reader err = top.Object("error");
  std::string code = err.String("code"), message = err.String("message");
  if (!top.ok || !err.ok) return Internal("media worker: unreadable error reply");
  for (ErrorCode c : kWorkerCodes) {
    if (ErrorCodeName(c) == code) return Error(c, message);
  }
  return Internal(message);
}

}  // namespace

std::string EncodeFormatReply(const MediaFormat& format) {
  return Reply("format", FormatJson(format));
}

std::string EncodeReportReply(const MediaReport& r) {
  json::array outputs;
  for (const auto& o : r.outputs) {
    outputs.push_back(
        json::object{{"path", o.path}, {"content_type", o.content_type}, {"size", o.size}});
  }
  json::object report{
      {"format", FormatJson(r.format)},
      {"tags", json::object{{"title", r.tags.title},
                            {"artist", r.tags.artist},
                            {"album", r.tags.album},
                            {"genre", r.tags.genre},
                            {"year", Optional(r.tags.year)},
                            {"track_number", Optional(r.tags.track_number)}}},
      {"loudness", json::object{{"integrated_lufs", r.loudness.integrated_lufs},
                                {"loudness_range_lu", r.loudness.loudness_range_lu},
                                {"true_peak_dbtp", r.loudness.true_peak_dbtp},
                                {"replay_gain_db", r.loudness.replay_gain_db}}},
      {"has_cover", r.has_cover},
      {"waveform_points", r.waveform_points},
      {"outputs", std::move(outputs)},
  };
  return Reply("report", std::move(report));
}

std::string EncodeErrorReply(const Error& error) {
  json::object o{
      {"ok", false},
      {"error", json::object{{"code", ErrorCodeName(error.code)}, {"message", error.message}}}};
  return json::serialize(o);
}

Result<MediaFormat> DecodeFormatReply(std::string_view text) {
  json::value holder;
  VEZA_ASSIGN_OR_RETURN(Reader payload, Envelope(text, "format", holder));
  bool ok = true;
  MediaFormat f = ReadFormat(payload, ok);
  if (!ok) return Internal("media worker: malformed format");
  return f;
}

Result<MediaReport> DecodeReportReply(std::string_view text) {
  json::value holder;
  VEZA_ASSIGN_OR_RETURN(Reader r, Envelope(text, "report", holder));
  bool ok = true;
  MediaReport report;
  report.format = ReadFormat(r.Object("format"), ok);
  Reader t = r.Object("tags");
  report.tags.title = t.String("title");
  report.tags.artist = t.String("artist");
  report.tags.album = t.String("album");
  report.tags.genre = t.String("genre");
  report.tags.year = t.OptionalInt("year");
  report.tags.track_number = t.OptionalInt("track_number");
  Reader l = r.Object("loudness");
  report.loudness.integrated_lufs = l.Double("integrated_lufs");
  report.loudness.loudness_range_lu = l.Double("loudness_range_lu");
  report.loudness.true_peak_dbtp = l.Double("true_peak_dbtp");
  report.loudness.replay_gain_db = l.Double("replay_gain_db");
  report.has_cover = r.Bool("has_cover");
  report.waveform_points = static_cast<int>(r.Int("waveform_points"));
  const json::value* outputs = r.Get("outputs");
  if (outputs == nullptr || !outputs->is_array()) return Internal("media worker: malformed report");
  for (const auto& v : outputs->get_array()) {
    if (!v.is_object()) return Internal("media worker: malformed report");
    Reader o{&v.get_object()};
    MediaOutput out{o.String("path"), o.String("content_type"), o.Int("size")};
    if (!o.ok) return Internal("media worker: malformed report");
    report.outputs.push_back(std::move(out));
  }
  if (!ok || !r.ok || !t.ok || !l.ok) return Internal("media worker: malformed report");
  return report;
}

}  // namespace veza::media
