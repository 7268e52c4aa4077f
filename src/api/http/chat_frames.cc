#include "api/http/chat_frames.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <initializer_list>

namespace veza::http {
namespace {

namespace json = boost::json;

// Bounds the frame texts may hold (the services check content; this checks shape and size).
constexpr std::size_t kIdBytes = 64;
constexpr std::size_t kBodyBytes = 4000;
constexpr std::size_t kEmojiBytes = 32;
constexpr std::size_t kReasonBytes = 500;

struct FieldRule {
  std::string_view name;
  bool required = false;
};

Status OnlyFields(const json::object& o, std::initializer_list<FieldRule> rules) {
  for (const auto& kv : o) {
    if (kv.key() == "type") continue;
    bool known = false;
    for (const auto& r : rules) known = known || kv.key() == r.name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
  }
  for (const auto& r : rules) {
    if (r.required && !o.contains(r.name)) return InvalidArgument("field '" + std::string(r.name) + "' is required");
  }
  return Ok();
}

Status Text(const json::object& o, std::string_view name, std::size_t max, std::string& out) {
  auto it = o.find(name);
  if (it == o.end()) return Ok();
  if (!it->value().is_string()) return InvalidArgument("field '" + std::string(name) + "' must be a string");
  if (it->value().as_string().size() > max) {
    return InvalidArgument("field '" + std::string(name) + "' is longer than " + std::to_string(max) + " bytes");
  }
  out = std::string(it->value().as_string());
  return Ok();
}

Status Integer(const json::object& o, std::string_view name, std::optional<std::int64_t>& out) {
  auto it = o.find(name);
  if (it == o.end()) return Ok();
  if (it->value().is_int64()) {
    out = it->value().as_int64();
    return Ok();
  }
  if (it->value().is_uint64()) return InvalidArgument("field '" + std::string(name) + "' is too large");
  return InvalidArgument("field '" + std::string(name) + "' must be an integer");
}

}  // namespace

Result<ClientFrame> ParseClientFrame(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;  // frames are flat; deep nesting is an attack, not a frame
  json::value v = json::parse(text, ec, {}, options);
  if (ec || !v.is_object()) return InvalidArgument("frames are JSON objects");
  const json::object& o = v.as_object();
  auto type_it = o.find("type");
  if (type_it == o.end() || !type_it->value().is_string()) {
    return InvalidArgument("every frame has a string 'type'");
  }
  ClientFrame f;
  f.type = std::string(type_it->value().as_string());
  const std::string& t = f.type;
  if (t == "ping") {
    VEZA_TRY(OnlyFields(o, {}));
  } else if (t == "join") {
    VEZA_TRY(OnlyFields(o, {{"room", true}, {"after"}}));
    VEZA_TRY(Integer(o, "after", f.after));
  } else if (t == "leave" || t == "pins" || t == "typing") {
    VEZA_TRY(OnlyFields(o, {{"room", true}}));
  } else if (t == "send") {
    VEZA_TRY(OnlyFields(o, {{"room", true}, {"client_id", true}, {"body", true}, {"reply_to"}}));
    VEZA_TRY(Text(o, "client_id", kIdBytes, f.client_id));
    VEZA_TRY(Text(o, "body", kBodyBytes, f.body));
    VEZA_TRY(Text(o, "reply_to", kIdBytes, f.reply_to));
  } else if (t == "history") {
    VEZA_TRY(OnlyFields(o, {{"room", true}, {"before"}, {"after"}, {"limit"}, {"thread"}}));
    VEZA_TRY(Integer(o, "before", f.before));
    VEZA_TRY(Integer(o, "after", f.after));
    VEZA_TRY(Integer(o, "limit", f.limit));
    VEZA_TRY(Text(o, "thread", kIdBytes, f.thread));
  } else if (t == "edit") {
    VEZA_TRY(OnlyFields(o, {{"message", true}, {"body", true}}));
    VEZA_TRY(Text(o, "body", kBodyBytes, f.body));
  } else if (t == "delete") {
    VEZA_TRY(OnlyFields(o, {{"message", true}}));
  } else if (t == "react") {
    VEZA_TRY(OnlyFields(o, {{"message", true}, {"emoji", true}}));
    VEZA_TRY(Text(o, "emoji", kEmojiBytes, f.emoji));
  } else if (t == "pin") {
    VEZA_TRY(OnlyFields(o, {{"message", true}, {"pinned"}}));
    if (auto it = o.find("pinned"); it != o.end()) {
      if (!it->value().is_bool()) return InvalidArgument("field 'pinned' must be true or false");
      f.pinned = it->value().as_bool();
    }
  } else if (t == "read") {
    VEZA_TRY(OnlyFields(o, {{"room", true}, {"seq", true}}));
    VEZA_TRY(Integer(o, "seq", f.seq));
  } else if (t == "status") {
    VEZA_TRY(OnlyFields(o, {{"status", true}}));
    VEZA_TRY(Text(o, "status", 16, f.status));
    if (f.status != "away" && f.status != "online") return InvalidArgument("status must be away or online");
  } else if (t == "presence") {
    VEZA_TRY(OnlyFields(o, {{"users", true}}));
    const json::value& users = o.at("users");
    if (!users.is_array() || users.as_array().size() > kMaxPresenceQuery) {
      return InvalidArgument("field 'users' must be an array of at most " + std::to_string(kMaxPresenceQuery) +
                             " user ids");
    }
    for (const auto& u : users.as_array()) {
      if (!u.is_string() || u.as_string().size() > kIdBytes) return InvalidArgument("user ids are strings");
      f.users.emplace_back(u.as_string());
    }
  } else if (t == "moderate") {
    VEZA_TRY(OnlyFields(o, {{"room", true}, {"action", true}, {"user", true}, {"reason", true}, {"duration_seconds"}}));
    VEZA_TRY(Text(o, "action", 16, f.action));
    VEZA_TRY(Text(o, "user", kIdBytes, f.user));
    VEZA_TRY(Text(o, "reason", kReasonBytes, f.reason));
    VEZA_TRY(Integer(o, "duration_seconds", f.duration_seconds));
    if (f.action != "mute" && f.action != "kick" && f.action != "ban") {
      return InvalidArgument("action must be mute, kick or ban");
    }
  } else {
    return InvalidArgument("unknown frame type '" + t + "'");
  }
  VEZA_TRY(Text(o, "room", kIdBytes, f.room));
  VEZA_TRY(Text(o, "message", kIdBytes, f.message));
  return f;
}

}  // namespace veza::http
