#include "api/http/auth_routes.h"

#include <boost/json/object.hpp>
#include <initializer_list>

#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The request body as an object holding only the named string fields, each present and at most
// max bytes: anything else is a 400 that names the field.
struct Field {
  std::string_view name;
  std::size_t max;
};
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

auth::ClientInfo ClientOf(const RequestContext& ctx) {
  return {ctx.remote_address, std::string(ctx.request[bhttp::field::user_agent].substr(0, 200))};
}

json::object UserJson(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"bio", u.bio},
          {"role", RoleName(u.role)},
          {"email", u.email},
          {"email_verified", u.email_verified},
          {"created_at", u.created_at_ms}};
}

json::object TokensJson(const auth::TokenPair& t) {
  return {{"token_type", "Bearer"},
          {"access_token", t.access_token},
          {"access_expires_at", t.access_expires_at},
          {"refresh_token", t.refresh_token},
          {"refresh_expires_at", t.refresh_expires_at},
          {"session_id", t.session_id}};
}

StringResponse NoStore(StringResponse res) {
  // Token responses must never be cached (RFC 6749 section 5.1).
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

StringResponse Unauthorized(const Error& e, const RequestContext& ctx) {
  StringResponse res = Problem(e, ctx);
  if (e.code == ErrorCode::kUnauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"veza\"");
  return res;
}

}  // namespace

Result<auth::Principal> Authenticate(auth::AuthService& auth, const RequestContext& ctx) {
  std::string_view header = ctx.request[bhttp::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || !boost::beast::iequals(header.substr(0, kBearer.size()), kBearer)) {
    return Error{ErrorCode::kUnauthenticated, "missing bearer access token"};
  }
  return auth.Authenticate(header.substr(kBearer.size()));
}

void AddAuthRoutes(Router& router, auth::AuthService& auth, asio::thread_pool& workers) {
  router.Add(bhttp::verb::post, "/api/v1/auth/register", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"username", 64}, {"email", 254}, {"password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Register(f[0], f[1], f[2], client); });
    if (!r.ok()) co_return Problem(r.error(), ctx);
    json::object body = TokensJson(r->tokens);
    body["user"] = UserJson(r->user);
    auto res = NoStore(Json(bhttp::status::created, body, ctx.request));
    res.set(bhttp::field::location, "/api/v1/users/me");
    co_return res;
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/login", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"login", 254}, {"password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Login(f[0], f[1], client); });
    if (!r.ok()) co_return Unauthorized(r.error(), ctx);
    json::object body = TokensJson(r->tokens);
    body["user"] = UserJson(r->user);
    co_return NoStore(Json(bhttp::status::ok, body, ctx.request));
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/refresh", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = StringFields(ctx, {{"refresh_token", 128}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Refresh(f[0], client); });
    if (!r.ok()) co_return Unauthorized(r.error(), ctx);
    co_return NoStore(Json(bhttp::status::ok, TokensJson(r.value()), ctx.request));
  });

  auto signed_in = [&](auto action) {
    return [&auth, &workers, action](RequestContext& ctx) -> asio::awaitable<Response> {
      auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
      if (!who.ok()) co_return Unauthorized(who.error(), ctx);
      co_return co_await action(ctx, who.value());
    };
  };

  router.Add(bhttp::verb::post, "/api/v1/auth/logout",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto st = co_await RunBlocking(workers, [&] { return auth.Logout(who); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             }));

  router.Add(bhttp::verb::post, "/api/v1/auth/logout-all",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto st = co_await RunBlocking(workers, [&] { return auth.LogoutEverywhere(who); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
             }));

  router.Add(bhttp::verb::get, "/api/v1/users/me",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto me = co_await RunBlocking(workers, [&] { return auth.Me(who); });
               if (!me.ok()) co_return Problem(me.error(), ctx);
               auto res = Json(bhttp::status::ok, UserJson(me.value()), ctx.request);
               res.set(bhttp::field::cache_control, "private, no-store");
               co_return res;
             }));

  router.Add(bhttp::verb::get, "/api/v1/auth/jwks.json", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto res = Text(bhttp::status::ok, auth.keys().Jwks(), "application/jwk-set+json", ctx.request);
    res.set(bhttp::field::cache_control, "public, max-age=300");
    co_return res;
  });
}

}  // namespace veza::http
