// libFuzzer target for JSON request bodies. The first byte picks a route's body parser: the
// shared ParseJsonBody (content type, syntax, nesting depth), one of the ParseStringFields
// field lists the routes declare (sign-up, login, password and email changes, ...), or the
// strict parser used for JWT parts and OAuth provider answers; the rest is the body.
// Invariants: accepted string fields have the declared count and bounds; accepted strict
// objects are objects. Route-specific shapes read after ParseJsonBody (track edits, chat
// rooms, comments, admin actions) go through the same parser and then typed getters.
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/message.h"
#include "services/auth/jwt.h"

namespace bhttp = boost::beast::http;
using namespace veza::http;

namespace {

struct FieldList {
  std::vector<JsonField> fields;
};

// Copied from the routes (auth_routes.cc, email_routes.cc); a new list there belongs here too.
const std::vector<FieldList>& Lists() {
  static const std::vector<FieldList> lists = {
      {{{"username", 64}, {"email", 254}, {"password", 1024}}},        // POST /auth/register
      {{{"login", 254}, {"password", 1024}}},                           // POST /auth/login
      {{{"refresh_token", 128}}},                                       // POST /auth/refresh
      {{{"password", 1024}}},                                           // account deletion, 2FA off
      {{{"current_password", 1024}, {"new_password", 1024}}},           // password change
      {{{"password", 1024}, {"email", 254}}},                           // email change
      {{{"code", 32}}},                                                 // TOTP confirm
      {{{"password", 1024}, {"code", 32}}},                             // TOTP disable
      {{{"token", 128}}},                                               // email verification
      {{{"email", 254}}},                                               // password reset request
      {{{"token", 128}, {"new_password", 1024}}},                       // password reset
  };
  return lists;
}

veza::Result<std::vector<std::string>> ParseWith(const RequestContext& ctx, const FieldList& list) {
  switch (list.fields.size()) {
    case 1: return ParseStringFields(ctx, {list.fields[0]});
    case 2: return ParseStringFields(ctx, {list.fields[0], list.fields[1]});
    default: return ParseStringFields(ctx, {list.fields[0], list.fields[1], list.fields[2]});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::uint8_t selector = data[0];
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (selector == 0xff) {
    auto object = veza::auth::ParseStrictJsonObject(body);
    if (object && object->size() > 64) __builtin_trap();
    return 0;
  }
  Request req{bhttp::verb::post, "/api/v1/x", 11};
  // The high bit exercises the content-type check with the variants clients send.
  static constexpr std::string_view kTypes[] = {"application/json", "application/json; charset=utf-8",
                                                "application/problem+json", "text/plain", ""};
  std::string_view type = kTypes[(selector >> 4) % 5];
  if (!type.empty()) req.set(bhttp::field::content_type, type);
  req.body() = std::move(body);
  req.prepare_payload();
  RequestContext ctx{req, "/api/v1/x", "", "fuzz", "127.0.0.1", {}, {}, nullptr, nullptr};
  std::size_t which = selector & 0x0f;
  if (which >= Lists().size()) {
    auto value = ParseJsonBody(ctx);
    if (value && type == "text/plain") __builtin_trap();
    return 0;
  }
  const FieldList& list = Lists()[which];
  auto fields = ParseWith(ctx, list);
  if (!fields) return 0;
  if (fields->size() != list.fields.size()) __builtin_trap();
  for (std::size_t i = 0; i < list.fields.size(); ++i)
    if ((*fields)[i].size() > list.fields[i].max) __builtin_trap();
  return 0;
}
