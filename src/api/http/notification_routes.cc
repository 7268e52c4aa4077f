#include "api/http/notification_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>

#include "api/http/auth_routes.h"
#include "api/http/query_params.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

Result<bool> BoolParam(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || it->second == "false" || it->second == "0") return false;
  if (it->second == "true" || it->second == "1") return true;
  return InvalidArgument("query parameter '" + name + "' must be true or false");
}

Result<int> LimitParam(const std::map<std::string, std::string>& params) {
  auto it = params.find("limit");
  if (it == params.end()) return 50;
  int v = 0;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || p != it->second.data() + it->second.size() || v < 1 || v > notifications::kMaxPage) {
    return InvalidArgument("query parameter 'limit' must be 1.." + std::to_string(notifications::kMaxPage));
  }
  return v;
}

struct ReadRequest {
  std::vector<std::string> ids;
  std::optional<std::string> up_to;
};

// {"ids": [id, ...]} or {"up_to": id}.
Result<ReadRequest> ParseReadRequest(const RequestContext& ctx) {
  VEZA_ASSIGN_OR_RETURN(json::value v, ParseJsonBody(ctx));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  ReadRequest r;
  for (const auto& kv : v.as_object()) {
    if (kv.key() == "ids") {
      if (!kv.value().is_array()) return InvalidArgument("field 'ids' must be an array of strings");
      if (kv.value().as_array().size() > static_cast<std::size_t>(notifications::kMaxPage)) {
        return InvalidArgument("field 'ids' holds at most " + std::to_string(notifications::kMaxPage) + " ids");
      }
      for (const auto& id : kv.value().as_array()) {
        if (!id.is_string() || id.as_string().size() > 64) {
          return InvalidArgument("field 'ids' must be an array of notification ids");
        }
        r.ids.emplace_back(id.as_string());
      }
      if (r.ids.empty()) return InvalidArgument("field 'ids' must not be empty");
    } else if (kv.key() == "up_to") {
      if (!kv.value().is_string() || kv.value().as_string().size() > 64) {
        return InvalidArgument("field 'up_to' must be a notification id");
      }
      r.up_to = std::string(kv.value().as_string());
    } else {
      return InvalidArgument("unknown field '" + std::string(kv.key()) + "'");
    }
  }
  if (r.ids.empty() == !r.up_to.has_value()) return InvalidArgument("give 'ids' or 'up_to', not both or neither");
  return r;
}

}  // namespace

void AddNotificationRoutes(Router& router, auth::AuthService& auth,
                           notifications::NotificationService& notifications, asio::thread_pool& workers) {
  router.Add(bhttp::verb::get, "/api/v1/notifications", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto params = QueryParams(ctx.query, {"cursor", "limit", "unread_only"});
    if (!params.ok()) co_return Problem(params.error(), ctx);
    auto unread_only = BoolParam(*params, "unread_only");
    if (!unread_only.ok()) co_return Problem(unread_only.error(), ctx);
    auto limit = LimitParam(*params);
    if (!limit.ok()) co_return Problem(limit.error(), ctx);
    std::string cursor = params->count("cursor") ? params->at("cursor") : "";
    auto page = co_await RunBlocking(
        workers, [&] { return notifications.List(who->user_id, cursor, *limit, *unread_only); });
    if (!page.ok()) co_return Problem(page.error(), ctx);
    json::array items;
    for (const auto& n : page->notifications) items.push_back(json::parse(notifications::NotificationJson(n)));
    json::object body;
    body["notifications"] = std::move(items);
    body["next_cursor"] = page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor);
    body["unread_count"] = page->unread_count;
    co_return Json(bhttp::status::ok, body, ctx.request);
  });

  router.Add(bhttp::verb::post, "/api/v1/notifications/read", [&](RequestContext& ctx) -> asio::awaitable<Response> {
    auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
    if (!who.ok()) co_return AuthProblem(who.error(), ctx);
    auto request = ParseReadRequest(ctx);
    if (!request.ok()) co_return Problem(request.error(), ctx);
    auto marked = co_await RunBlocking(
        workers, [&] { return notifications.MarkRead(who->user_id, request->ids, request->up_to); });
    if (!marked.ok()) co_return Problem(marked.error(), ctx);
    auto unread = co_await RunBlocking(workers, [&] { return notifications.UnreadCount(who->user_id); });
    if (!unread.ok()) co_return Problem(unread.error(), ctx);
    co_return Json(bhttp::status::ok, {{"marked", *marked}, {"unread_count", *unread}}, ctx.request);
  });

  router.Add(bhttp::verb::get, "/api/v1/notifications/unread-count",
             [&](RequestContext& ctx) -> asio::awaitable<Response> {
               auto who = co_await RunBlocking(workers, [&] { return Authenticate(auth, ctx); });
               if (!who.ok()) co_return AuthProblem(who.error(), ctx);
               auto unread = co_await RunBlocking(workers, [&] { return notifications.UnreadCount(who->user_id); });
               if (!unread.ok()) co_return Problem(unread.error(), ctx);
               co_return Json(bhttp::status::ok, {{"unread_count", *unread}}, ctx.request);
             });
}

}  // namespace veza::http
