#include "api/http/message.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>

#include "domain/error_table.h"

namespace veza::http {

StringResponse Problem(const Error& error, unsigned version, bool keep_alive,
                       std::string_view instance, std::string_view request_id) {
  const auto& forms = WireForms(error.code);
  boost::json::object body;
  body["type"] = std::string("https://veza.dev/problems/") + std::string(ErrorCodeName(error.code));
  body["title"] = forms.title;
  body["status"] = forms.http_status;
  body["detail"] = error.message;
  if (!instance.empty()) body["instance"] = instance;
  if (!request_id.empty()) body["request_id"] = request_id;
  StringResponse res{static_cast<bhttp::status>(forms.http_status), version};
  res.set(bhttp::field::content_type, "application/problem+json");
  res.set(bhttp::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

StringResponse Problem(const Error& error, const RequestContext& ctx) {
  return Problem(error, ctx.request.version(), ctx.request.keep_alive(), ctx.path, ctx.request_id);
}

StringResponse Json(bhttp::status status, const boost::json::value& body, const Request& req) {
  StringResponse res{status, req.version()};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

StringResponse Text(bhttp::status status, std::string body, std::string_view content_type,
                    const Request& req) {
  StringResponse res{status, req.version()};
  res.set(bhttp::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Result<boost::json::value> ParseJsonBody(const RequestContext& ctx) {
  std::string_view type = ctx.request[bhttp::field::content_type];
  std::string_view media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  bool is_json = media == "application/json" ||
                 (media.size() > 5 && media.substr(media.size() - 5) == "+json");
  if (!is_json) {
    return Error{ErrorCode::kUnsupportedMediaType, "request body must be application/json"};
  }
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  boost::json::stream_parser parser({}, options);
  std::size_t consumed = parser.write_some(ctx.request.body().data(), ctx.request.body().size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return InvalidArgument("malformed JSON body at byte " + std::to_string(consumed) + ": " +
                           ec.message());
  }
  return parser.release();
}

Result<std::vector<std::string>> ParseStringFields(const RequestContext& ctx,
                                                   std::initializer_list<JsonField> fields) {
  VEZA_ASSIGN_OR_RETURN(boost::json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  const boost::json::object& obj = body.as_object();
  for (const auto& kv : obj) {
    bool known = false;
    for (const JsonField& f : fields) known = known || kv.key() == f.name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
  }
  std::vector<std::string> out;
  for (const JsonField& f : fields) {
    auto it = obj.find(f.name);
    if (it == obj.end()) return InvalidArgument("missing field '" + std::string(f.name) + "'");
    if (!it->value().is_string()) return InvalidArgument("field '" + std::string(f.name) + "' must be a string");
    const boost::json::string& s = it->value().as_string();
    if (s.size() > f.max) {
      return InvalidArgument("field '" + std::string(f.name) + "' is longer than " + std::to_string(f.max) + " bytes");
    }
    out.emplace_back(s.data(), s.size());
  }
  return out;
}

StringResponse AuthProblem(const Error& error, const RequestContext& ctx) {
  StringResponse res = Problem(error, ctx);
  if (error.code == ErrorCode::kUnauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"veza\"");
  return res;
}

unsigned StatusOf(const Response& r) {
  return std::visit([](const auto& m) { return m.result_int(); }, r);
}

std::uint64_t BodySizeOf(const Response& r) {
  return std::visit([](const auto& m) -> std::uint64_t {
    auto len = m.payload_size();
    return len ? *len : 0;
  }, r);
}

}  // namespace veza::http
