#include "api/http/email_routes.h"

#include <boost/json/object.hpp>
#include <initializer_list>

#include "api/http/auth_routes.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {



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
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto st = co_await RunBlocking(workers, [&] { return email.RequestVerification(who->user_id); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Json(bhttp::status::accepted, json::object{{"status", "sent"}}, ctx.request);
             });

  router.Add(bhttp::verb::post, "/api/v1/auth/email/verify", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = ParseStringFields(ctx, {{"token", 128}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto st = co_await RunBlocking(workers, [&] { return email.VerifyEmail(fields.value()[0]); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return NoContent(ctx);
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/password/forgot", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = ParseStringFields(ctx, {{"email", 254}});
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
    auto fields = ParseStringFields(ctx, {{"token", 128}, {"new_password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto st = co_await RunBlocking(workers, [&] { return email.ResetPassword(f[0], f[1]); });
    if (!st.ok()) co_return Problem(st.error(), ctx);
    co_return NoContent(ctx);
  });
}

}  // namespace veza::http
