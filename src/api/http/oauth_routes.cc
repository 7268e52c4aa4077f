#include "api/http/oauth_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/http/auth_routes.h"
#include "api/http/query_params.h"
#include "api/http/web_session.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int kAttemptCookieSeconds =
    static_cast<int>(std::chrono::seconds(auth::OAuthService::kAttemptTtl).count());

auth::ClientInfo ClientOf(const RequestContext& ctx) {
  return {ctx.remote_address, std::string(ctx.request[bhttp::field::user_agent].substr(0, 200))};
}

// API clients (native apps, tests) ask for JSON; a browser navigation gets redirects.
bool WantsJson(const RequestContext& ctx) {
  return ctx.request[bhttp::field::accept].find("application/json") != std::string_view::npos;
}

StringResponse Redirect(bhttp::status status, const std::string& location,
                        const RequestContext& ctx) {
  auto res = Text(status, "", "text/plain", ctx.request);
  res.set(bhttp::field::location, location);
  res.set(bhttp::field::cache_control, "no-store");
  // The callback URL holds a code; keep it out of the next site's Referer.
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

}  // namespace

void AddOAuthRoutes(Router& router, auth::AuthService& auth, auth::OAuthService& oauth,
                    asio::thread_pool& workers, std::string public_url) {
  router.Add(bhttp::verb::get, "/api/v1/auth/oauth/providers",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               json::array names;
               for (const std::string& n : oauth.ProviderNames())
                 names.push_back(json::object{{"name", n}});
               co_return Json(bhttp::status::ok, json::object{{"providers", std::move(names)}},
                              ctx.request);
             });

  router.Add(bhttp::verb::get, "/api/v1/auth/oauth/{provider}/start",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               std::string provider(ctx.Param("provider"));
               auto started = co_await RunBlocking(workers, [&] { return oauth.Start(provider); });
               if (!started.ok()) co_return Problem(started.error(), ctx);
               auto res = Redirect(bhttp::status::found, started->authorization_url, ctx);
               SetOAuthCookie(res, started->browser_binding, kAttemptCookieSeconds);
               co_return res;
             });

  router.Add(bhttp::verb::post, "/api/v1/auth/oauth/{provider}/link",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               std::string provider(ctx.Param("provider"));
               auto started = co_await RunBlocking(
                   workers, [&] { return oauth.StartLink(who.value(), provider); });
               if (!started.ok()) co_return Problem(started.error(), ctx);
               auto res = Json(bhttp::status::ok,
                               json::object{{"authorization_url", started->authorization_url}},
                               ctx.request);
               res.set(bhttp::field::cache_control, "no-store");
               SetOAuthCookie(res, started->browser_binding, kAttemptCookieSeconds);
               co_return res;
             });

  router.Add(
      bhttp::verb::get, "/api/v1/auth/oauth/{provider}/callback",
      [&, public_url](RequestContext& ctx) -> asio::awaitable<Response> {
        // Providers add parameters of their own (OIDC iss and session_state, Google's authuser,
        // hd and prompt); they are accepted and ignored.
        auto params =
            QueryParams(ctx.query, {"state", "code", "error", "error_description", "error_uri",
                                    "iss", "scope", "session_state", "authuser", "hd", "prompt"});
        if (!params.ok()) co_return Problem(params.error(), ctx);
        auto get = [&](const char* name) {
          auto it = params->find(name);
          return it == params->end() ? std::string() : it->second;
        };
        auth::OAuthCallback cb{get("state"), get("code"), get("error"),
                               CookieValue(ctx.request, kOAuthCookie)};
        std::string provider(ctx.Param("provider"));
        auto client = ClientOf(ctx);
        auto done =
            co_await RunBlocking(workers, [&] { return oauth.Finish(provider, cb, client); });
        if (!done.ok()) {
          auto res = AuthProblem(done.error(), ctx);
          SetOAuthCookie(res, "", 0);
          co_return res;
        }
        bool json_mode = WantsJson(ctx);
        StringResponse res;
        if (done->linked) {
          res = json_mode
                    ? Json(bhttp::status::ok,
                           json::object{{"linked", true}, {"provider", provider}}, ctx.request)
                    : Redirect(bhttp::status::see_other,
                               public_url + "/settings?linked=" + provider, ctx);
        } else if (!done->login->signed_in) {
          const std::string& token = done->login->mfa_token;
          // The fragment never reaches a server log.
          res = json_mode
                    ? Json(bhttp::status::ok,
                           json::object{{"mfa_required", true}, {"mfa_token", token}}, ctx.request)
                    : Redirect(bhttp::status::see_other,
                               public_url + "/login/2fa#mfa_token=" + token, ctx);
        } else if (json_mode) {
          res = SignedInResponse(done->created ? bhttp::status::created : bhttp::status::ok,
                                 *done->login->signed_in, ctx);
        } else {
          res = Redirect(bhttp::status::see_other, public_url + "/", ctx);
          SetSessionCookies(res, done->login->signed_in->tokens,
                            std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
        }
        res.set(bhttp::field::cache_control, "no-store");
        SetOAuthCookie(res, "", 0);
        co_return res;
      });

  router.Add(bhttp::verb::get, "/api/v1/auth/identities",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto list =
                   co_await RunBlocking(workers, [&] { return oauth.ListIdentities(who.value()); });
               if (!list.ok()) co_return Problem(list.error(), ctx);
               json::array items;
               for (const auto& i : list.value()) {
                 items.push_back(json::object{{"id", i.id},
                                              {"provider", i.provider},
                                              {"email", i.email},
                                              {"created_at", i.created_at_ms},
                                              {"last_used_at", i.last_used_at_ms}});
               }
               auto res = Json(bhttp::status::ok, json::object{{"identities", std::move(items)}},
                               ctx.request);
               res.set(bhttp::field::cache_control, "private, no-store");
               co_return res;
             });

  router.Add(bhttp::verb::delete_, "/api/v1/auth/identities/{id}",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               std::string id(ctx.Param("id"));
               auto st =
                   co_await RunBlocking(workers, [&] { return oauth.Unlink(who.value(), id); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             });
}

}  // namespace veza::http
