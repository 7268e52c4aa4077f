#include "api/http/email_routes.h"

#include <boost/json/object.hpp>
#include <initializer_list>

#include "api/http/auth_routes.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Field {
  std::string_view name;
  std::size_t max;
};

// The body as an object of exactly the named string fields, each at most max bytes; else 400.
Result<std::vector<std::string>> StringFields(const RequestContext& ctx, std::initializer_list<Field> fields) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  const json::object& obj = body.as_object();
  for (const auto& kv : obj) {
    bool known = false;
    for (const Field& f : fields) known = known || kv.key() == f.name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
  }
  std::vector<std::string> out;
  for (const Field& f : fields) {
    auto it = obj.find(f.name);
    if (it == obj.end()) return InvalidArgument("missing field '" + std::string(f.name) + "'");
    if (!it->value().is_string()) return InvalidArgument("field '" + std::string(f.name) + "' must be a string");
    const json::string& s = it->value().as_string();
    if (s.size() > f.max) {
      return InvalidArgument("field '" + std::string(f.name) + "' is longer than " + std::to_string(f.max) + " bytes");
    }
    out.emplace_back(s.data(), s.size());
  }
  return out;
}

StringResponse Unauthorized(const Error& e, const RequestContext& ctx) {
  StringResponse res = Problem(e, ctx);
  if (e.code == ErrorCode::kUnauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"veza\"");
  return res;
}

StringResponse NoContent(const RequestContext& ctx) {
  auto res = Text(bhttp::status::no_content, "", "text/plain", ctx.request);
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

}  // namespace

void AddEmailRoutes(Router& router, auth::AuthService& auth, auth::EmailService& email,
                    asio::thread_pool& workers) {
  router.Add(bhttp::verb::post, "/api/v1/auth/email/verify/request",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return Unauthorized(who.error(), ctx);
               auto st = co_await RunBlocking(workers, [&] { return email.RequestVerification(who->user_id); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Json(bhttp::status::accepted, json::object{{"status", "sent"}}, ctx.request);
             });

  router.Add(bhttp::verb::post, "/api/v1/auth/email/verify", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"token", 128}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto st = co_await RunBlocking(workers, [&] { return email.VerifyEmail(fields.value()[0]); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return NoContent(ctx);
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/password/forgot", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"email", 254}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    std::string ip = ctx.remote_address;
    auto st = co_await RunBlocking(workers, [&] { return email.ForgotPassword(fields.value()[0], ip); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    // The same answer whether or not an account has this address.
    co_return Json(bhttp::status::accepted,
                   json::object{{"status", "accepted"},
                                {"detail", "If an account has this address, a reset link is on its way."}},
                   ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/password/reset", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"token", 128}, {"new_password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto st = co_await RunBlocking(workers, [&] { return email.ResetPassword(f[0], f[1]); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return NoContent(ctx);
  });
}

}  // namespace veza::http
