#include "api/http/auth_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <initializer_list>

#include "api/http/avatar_routes.h"
#include "api/http/web_session.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {


// The request body as an object whose keys are all among allowed (else 400 naming the first
// stranger). Fields are then read with the typed getters below, which also 400 by name.
Result<json::object> ObjectBody(const RequestContext& ctx, std::initializer_list<std::string_view> allowed) {
  VEZA_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(ctx));
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  for (const auto& kv : body.as_object()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || kv.key() == name;
    if (!known) return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
  }
  return std::move(body.as_object());
}

Result<std::optional<std::string>> OptionalString(const json::object& obj, std::string_view name, std::size_t max) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::optional<std::string>();
  if (!it->value().is_string()) return InvalidArgument("field '" + std::string(name) + "' must be a string");
  const json::string& s = it->value().as_string();
  if (s.size() > max) {
    return InvalidArgument("field '" + std::string(name) + "' is longer than " + std::to_string(max) + " bytes");
  }
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

Result<std::optional<std::vector<std::string>>> OptionalStringArray(const json::object& obj, std::string_view name,
                                                                    std::size_t max_items, std::size_t max_bytes) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::optional<std::vector<std::string>>();
  if (!it->value().is_array()) return InvalidArgument("field '" + std::string(name) + "' must be an array of strings");
  const json::array& a = it->value().as_array();
  if (a.size() > max_items) {
    return InvalidArgument("field '" + std::string(name) + "' holds more than " + std::to_string(max_items) + " items");
  }
  std::vector<std::string> out;
  for (const json::value& v : a) {
    if (!v.is_string()) return InvalidArgument("field '" + std::string(name) + "' must be an array of strings");
    if (v.as_string().size() > max_bytes) {
      return InvalidArgument("each item of '" + std::string(name) + "' must be at most " + std::to_string(max_bytes) + " bytes");
    }
    out.emplace_back(v.as_string().data(), v.as_string().size());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// TOTP codes are 6 digits; recovery codes ("7kq2-mx9d-hw4p") fit in 32 bytes as typed.
constexpr std::size_t kMaxCodeBytes = 32;

Status CheckTotpCodeShape(std::string_view code) {
  if (code.size() != 6) return InvalidArgument("field 'code' must be 6 digits");
  for (char c : code) {
    if (c < '0' || c > '9') return InvalidArgument("field 'code' must be 6 digits");
  }
  return Ok();
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

json::array LinksJson(const std::vector<std::string>& links) {
  json::array a;
  for (const std::string& l : links) a.emplace_back(l);
  return a;
}

json::object AccountJson(const auth::Account& a) {
  json::object o = UserJson(a.user);
  o["links"] = LinksJson(a.links);
  o["avatar"] = AvatarJson(a.user.username, a.avatar_hash);
  return o;
}

// What anyone may see: never the email, role, flags or password.
json::object PublicJson(const auth::Account& a) {
  return {{"id", a.user.id},
          {"username", a.user.username},
          {"display_name", a.user.display_name},
          {"bio", a.user.bio},
          {"links", LinksJson(a.links)},
          {"avatar", AvatarJson(a.user.username, a.avatar_hash)},
          {"created_at", a.user.created_at_ms}};
}

StringResponse PrivateJson(const json::value& body, const RequestContext& ctx) {
  auto res = Json(bhttp::status::ok, body, ctx.request);
  res.set(bhttp::field::cache_control, "private, no-store");
  return res;
}

StringResponse NoContent(const RequestContext& ctx) {
  return Text(bhttp::status::no_content, "", "text/plain", ctx.request);
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


std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

boost::json::object PrivateUserJson(const User& u) { return UserJson(u); }

StringResponse SignedInResponse(bhttp::status status, const auth::SignedIn& s, const RequestContext& ctx) {
  json::object body = TokensJson(s.tokens);
  body["user"] = UserJson(s.user);
  bool cookies = WantsCookieSession(ctx);
  if (cookies) {
    // Script must never see the refresh token; it gets the CSRF token to echo instead.
    body.erase("refresh_token");
    body["csrf_token"] = CsrfTokenFor(s.tokens.refresh_token);
  }
  auto res = NoStore(Json(status, body, ctx.request));
  if (cookies) SetSessionCookies(res, s.tokens, NowUnix());
  return res;
}

Result<auth::Principal> Authenticate(auth::AuthService& auth, const RequestContext& ctx) {
  std::string_view header = ctx.request[bhttp::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || !boost::beast::iequals(header.substr(0, kBearer.size()), kBearer)) {
    return Error{ErrorCode::kUnauthenticated, "missing bearer access token"};
  }
  return auth.Authenticate(header.substr(kBearer.size()));
}

void AddAuthRoutes(Router& router, auth::AuthService& auth, asio::thread_pool& workers, std::string public_url,
                   ProfileExtras profile_extras) {
  std::string public_origin = OriginOf(public_url);
  router.Add(bhttp::verb::post, "/api/v1/auth/register", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = ParseStringFields(ctx, {{"username", 64}, {"email", 254}, {"password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Register(f[0], f[1], f[2], client); });
    if (!r.ok()) co_return Problem(r.error(), ctx);
    auto res = SignedInResponse(bhttp::status::created, r.value(), ctx);
    res.set(bhttp::field::location, "/api/v1/users/me");
    co_return res;
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/login", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto fields = ParseStringFields(ctx, {{"login", 254}, {"password", 1024}});
    if (!fields.ok()) co_return Problem(fields.error(), ctx);
    auto& f = fields.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Login(f[0], f[1], client); });
    if (!r.ok()) co_return AuthProblem(r.error(), ctx);
    if (!r->signed_in) {
      // The password was right and the account has TOTP: no tokens until the second step.
      json::object challenge{{"mfa_required", true}, {"mfa_token", r->mfa_token}};
      co_return NoStore(Json(bhttp::status::ok, challenge, ctx.request));
    }
    co_return SignedInResponse(bhttp::status::ok, *r->signed_in, ctx);
  });

  // Second step of a login: {mfa_token, code} or {mfa_token, recovery_code}.
  router.Add(bhttp::verb::post, "/api/v1/auth/login/2fa", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto body = ObjectBody(ctx, {"mfa_token", "code", "recovery_code"});
    if (!body.ok()) co_return Problem(body.error(), ctx);
    auto token = OptionalString(*body, "mfa_token", 128);
    if (!token.ok()) co_return Problem(token.error(), ctx);
    if (!token.value()) co_return Problem(InvalidArgument("missing field 'mfa_token'"), ctx);
    auto code = OptionalString(*body, "code", kMaxCodeBytes);
    if (!code.ok()) co_return Problem(code.error(), ctx);
    auto recovery = OptionalString(*body, "recovery_code", kMaxCodeBytes);
    if (!recovery.ok()) co_return Problem(recovery.error(), ctx);
    if (code.value().has_value() == recovery.value().has_value()) {
      co_return Problem(InvalidArgument("give exactly one of 'code' and 'recovery_code'"), ctx);
    }
    if (code.value()) {
      auto shape = CheckTotpCodeShape(*code.value());
      if (!shape.ok()) co_return Problem(shape.error(), ctx);
    }
    auth::SecondFactor kind = code.value() ? auth::SecondFactor::kTotpCode : auth::SecondFactor::kRecoveryCode;
    std::string secret = code.value() ? *code.value() : *recovery.value();
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.CompleteLogin(*token.value(), kind, secret, client); });
    if (!r.ok()) co_return AuthProblem(r.error(), ctx);
    co_return SignedInResponse(bhttp::status::ok, r.value(), ctx);
  });

  // API clients send {"refresh_token"}; web clients send no body, the refresh cookie and the
  // X-CSRF-Token header, and get fresh cookies back.
  router.Add(bhttp::verb::post, "/api/v1/auth/refresh", [&, public_origin](RequestContext& ctx) -> asio::awaitable<Response> {
    std::string cookie = CookieValue(ctx.request, kRefreshCookie);
    bool cookie_mode = ctx.request.body().empty() && !cookie.empty();
    std::string token;
    if (cookie_mode) {
      if (cookie.size() > 128) co_return AuthProblem(Error{ErrorCode::kUnauthenticated, "refresh token is invalid or expired"}, ctx);
      auto csrf = CheckCsrf(ctx, cookie, public_origin);
      if (!csrf.ok()) co_return Problem(csrf.error(), ctx);
      token = cookie;
    } else {
      auto fields = ParseStringFields(ctx, {{"refresh_token", 128}});
      if (!fields.ok()) co_return Problem(fields.error(), ctx);
      token = fields.value()[0];
    }
    auto client = ClientOf(ctx);
    auto r = co_await RunBlocking(workers, [&] { return auth.Refresh(token, client); });
    if (!r.ok()) {
      auto res = AuthProblem(r.error(), ctx);
      if (cookie_mode) ClearSessionCookies(res);
      co_return res;
    }
    json::object body = TokensJson(r.value());
    if (!cookie_mode) co_return NoStore(Json(bhttp::status::ok, body, ctx.request));
    body.erase("refresh_token");
    body["csrf_token"] = CsrfTokenFor(r->refresh_token);
    auto res = NoStore(Json(bhttp::status::ok, body, ctx.request));
    SetSessionCookies(res, r.value(), NowUnix());
    co_return res;
  });

  auto signed_in = [&](auto action) {
    return [&auth, &workers, action](RequestContext& ctx) -> asio::awaitable<Response> {
      auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
      if (!who.ok()) co_return AuthProblem(who.error(), ctx);
      co_return co_await action(ctx, who.value());
    };
  };

  router.Add(bhttp::verb::post, "/api/v1/auth/logout",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto st = co_await RunBlocking(workers, [&] { return auth.Logout(who); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               auto res = Text(bhttp::status::no_content, "", "text/plain", ctx.request);
               ClearSessionCookies(res);
               co_return res;
             }));

  router.Add(bhttp::verb::post, "/api/v1/auth/logout-all",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto st = co_await RunBlocking(workers, [&] { return auth.LogoutEverywhere(who); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               auto res = Text(bhttp::status::no_content, "", "text/plain", ctx.request);
               ClearSessionCookies(res);
               co_return res;
             }));

  router.Add(bhttp::verb::get, "/api/v1/users/me",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto me = co_await RunBlocking(workers, [&] { return auth.MyAccount(who); });
               if (!me.ok()) co_return Problem(me.error(), ctx);
               co_return PrivateJson(AccountJson(me.value()), ctx);
             }));

  // Byte caps come before the code-point rules of the service: 4 bytes per code point at most.
  router.Add(bhttp::verb::patch, "/api/v1/users/me",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto body = ObjectBody(ctx, {"display_name", "bio", "links"});
               if (!body.ok()) co_return Problem(body.error(), ctx);
               auth::ProfileChanges changes;
               auto name = OptionalString(*body, "display_name", 50 * 4);
               if (!name.ok()) co_return Problem(name.error(), ctx);
               auto bio = OptionalString(*body, "bio", 1000 * 4);
               if (!bio.ok()) co_return Problem(bio.error(), ctx);
               auto links = OptionalStringArray(*body, "links", 5, 200);
               if (!links.ok()) co_return Problem(links.error(), ctx);
               changes.display_name = std::move(name).value();
               changes.bio = std::move(bio).value();
               changes.links = std::move(links).value();
               auto me = co_await RunBlocking(workers, [&] { return auth.UpdateProfile(who, changes); });
               if (!me.ok()) co_return Problem(me.error(), ctx);
               co_return PrivateJson(AccountJson(me.value()), ctx);
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/users/me",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"password", 1024}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               auto st = co_await RunBlocking(workers, [&] { return auth.DeleteAccount(who, f[0]); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return NoContent(ctx);
             }));

  router.Add(bhttp::verb::get, "/api/v1/users/{username}", [&, profile_extras](RequestContext& ctx) -> asio::awaitable<Response> {
    std::string username(ctx.Param("username"));
    const bool signed_in = ctx.request.find(bhttp::field::authorization) != ctx.request.end();
    auto profile = co_await RunBlocking(workers, [&]() -> Result<json::object> {
      std::string viewer_id;
      if (signed_in) {  // optional, but a bad token is refused rather than ignored
        VEZA_ASSIGN_OR_RETURN(auth::Principal who, Authenticate(auth, ctx));
        viewer_id = who.user_id;
      }
      VEZA_ASSIGN_OR_RETURN(auth::Account account, auth.PublicProfile(username));
      json::object o = PublicJson(account);
      if (profile_extras) {
        VEZA_ASSIGN_OR_RETURN(json::object extra, profile_extras(account.user, viewer_id));
        for (auto& kv : extra) o[kv.key()] = kv.value();
      }
      return o;
    });
    if (!profile.ok()) co_return AuthProblem(profile.error(), ctx);
    auto res = Json(bhttp::status::ok, profile.value(), ctx.request);
    // Revalidated on every use, so a suspension or deletion hides the profile at once; a signed-in
    // caller's copy names their own follow state and stays theirs.
    res.set(bhttp::field::cache_control, signed_in ? "private, no-cache" : "no-cache");
    co_return res;
  });

  router.Add(bhttp::verb::post, "/api/v1/auth/change-password",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"current_password", 1024}, {"new_password", 1024}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               auto st = co_await RunBlocking(workers, [&] { return auth.ChangePassword(who, f[0], f[1]); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return NoContent(ctx);
             }));

  router.Add(bhttp::verb::post, "/api/v1/auth/change-email",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"password", 1024}, {"email", 254}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               auto me = co_await RunBlocking(workers, [&] { return auth.ChangeEmail(who, f[0], f[1]); });
               if (!me.ok()) co_return Problem(me.error(), ctx);
               co_return PrivateJson(AccountJson(me.value()), ctx);
             }));

  router.Add(bhttp::verb::get, "/api/v1/auth/sessions",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto sessions = co_await RunBlocking(workers, [&] { return auth.ListSessions(who); });
               if (!sessions.ok()) co_return Problem(sessions.error(), ctx);
               json::array items;
               for (const auth::SessionInfo& s : sessions.value()) {
                 items.push_back(json::object{{"id", s.id},
                                              {"device", s.device},
                                              {"ip", s.ip},
                                              {"created_at", s.created_at_ms},
                                              {"last_used_at", s.last_used_at_ms},
                                              {"current", s.current}});
               }
               co_return PrivateJson(json::object{{"sessions", std::move(items)}}, ctx);
             }));

  router.Add(bhttp::verb::delete_, "/api/v1/auth/sessions/{id}",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               std::string id(ctx.Param("id"));
               auto st = co_await RunBlocking(workers, [&] { return auth.RevokeSession(who, id); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return NoContent(ctx);
             }));

  router.Add(bhttp::verb::post, "/api/v1/auth/2fa/totp",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"password", 1024}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               auto e = co_await RunBlocking(workers, [&] { return auth.StartTotp(who, f[0]); });
               if (!e.ok()) co_return Problem(e.error(), ctx);
               json::array codes;
               for (const std::string& c : e->recovery_codes) codes.emplace_back(c);
               json::object body{{"secret", e->secret_base32},
                                 {"otpauth_uri", e->otpauth_uri},
                                 {"recovery_codes", std::move(codes)}};
               co_return NoStore(Json(bhttp::status::ok, body, ctx.request));
             }));

  router.Add(bhttp::verb::post, "/api/v1/auth/2fa/totp/confirm",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"code", kMaxCodeBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               auto shape = CheckTotpCodeShape(f[0]);
               if (!shape.ok()) co_return Problem(shape.error(), ctx);
               auto st = co_await RunBlocking(workers, [&] { return auth.ConfirmTotp(who, f[0]); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return NoContent(ctx);
             }));

  // code: a current TOTP code or an unused recovery code.
  router.Add(bhttp::verb::delete_, "/api/v1/auth/2fa/totp",
             signed_in([&](RequestContext& ctx, auth::Principal who) -> asio::awaitable<Response> {
               auto fields = ParseStringFields(ctx, {{"password", 1024}, {"code", kMaxCodeBytes}});
               if (!fields.ok()) co_return Problem(fields.error(), ctx);
               auto& f = fields.value();
               if (f[1].empty()) co_return Problem(InvalidArgument("field 'code' must not be empty"), ctx);
               auto st = co_await RunBlocking(workers, [&] { return auth.DisableTotp(who, f[0], f[1]); });
               if (!st.ok()) co_return Problem(st.error(), ctx);
               co_return NoContent(ctx);
             }));

  router.Add(bhttp::verb::get, "/api/v1/auth/jwks.json", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto res = Text(bhttp::status::ok, auth.keys().Jwks(), "application/jwk-set+json", ctx.request);
    res.set(bhttp::field::cache_control, "public, max-age=300");
    co_return res;
  });
}

}  // namespace veza::http
