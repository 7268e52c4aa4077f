#include "api/http/system_routes.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <future>
#include <memory>

#include "api/http/openapi.h"
#include "base/blocking.h"

namespace veza::http {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Every check runs at once on the worker pool; one that has not answered within the deadline
// counts as down (its thread finishes in the background, bounded by the backend's own timeouts).
struct CheckState {
  std::mutex mu;
  std::vector<std::optional<std::pair<bool, std::string>>> results;
  std::vector<double> latency_ms;
};

asio::awaitable<boost::json::object> RunChecks(asio::thread_pool& workers,
                                               const std::vector<ReadinessCheck>& checks,
                                               bool& all_ok) {
  auto state = std::make_shared<CheckState>();
  state->results.resize(checks.size());
  state->latency_ms.resize(checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    asio::post(workers, [state, i, ping = checks[i].ping] {
      auto start = std::chrono::steady_clock::now();
      Status st = ping();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::lock_guard lock(state->mu);
      state->results[i] = std::make_pair(st.ok(), st.ok() ? std::string() : st.error().message);
      state->latency_ms[i] = ms;
    });
  }
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  auto deadline = std::chrono::steady_clock::now() + 3s;
  for (;;) {
    {
      std::lock_guard lock(state->mu);
      bool done = true;
      for (auto& r : state->results) done = done && r.has_value();
      if (done || std::chrono::steady_clock::now() >= deadline) break;
    }
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  boost::json::object out;
  all_ok = true;
  std::lock_guard lock(state->mu);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    boost::json::object c;
    if (!state->results[i]) {
      c["ok"] = false;
      c["error"] = "no answer within 3s";
      all_ok = false;
    } else {
      c["ok"] = state->results[i]->first;
      c["latency_ms"] = state->latency_ms[i];
      if (!state->results[i]->first) {
        c["error"] = state->results[i]->second;
        all_ok = false;
      }
    }
    out[checks[i].name] = std::move(c);
  }
  co_return out;
}

}  // namespace

void AddSystemRoutes(Router& router, Metrics& metrics, asio::thread_pool& workers,
                     std::vector<ReadinessCheck> checks, SystemInfo info) {
  router.Add(bhttp::verb::get, "/healthz", [](RequestContext& ctx) -> asio::awaitable<Response> {
    auto res = Json(bhttp::status::ok, boost::json::object{{"status", "ok"}}, ctx.request);
    res.set(bhttp::field::cache_control, "no-store");
    co_return res;
  });

  auto shared_checks = std::make_shared<std::vector<ReadinessCheck>>(std::move(checks));
  router.Add(bhttp::verb::get, "/readyz",
             [&workers, shared_checks](RequestContext& ctx) -> asio::awaitable<Response> {
               bool ok = false;
               boost::json::object results = co_await RunChecks(workers, *shared_checks, ok);
               boost::json::object body{{"status", ok ? "ok" : "unavailable"}, {"checks", std::move(results)}};
               auto res = Json(ok ? bhttp::status::ok : bhttp::status::service_unavailable, body, ctx.request);
               res.set(bhttp::field::cache_control, "no-store");
               co_return res;
             });

  router.Add(bhttp::verb::get, "/metrics", [&metrics](RequestContext& ctx) -> asio::awaitable<Response> {
    co_return Text(bhttp::status::ok, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8",
                   ctx.request);
  });

  router.Add(bhttp::verb::get, "/api/v1/openapi.yaml", [](RequestContext& ctx) -> asio::awaitable<Response> {
    auto res = Text(bhttp::status::ok, std::string(OpenApiDocumentText()), "application/yaml", ctx.request);
    res.set(bhttp::field::cache_control, "no-cache");
    co_return res;
  });

  // Built once: it never changes while the process runs.
  auto version_body = std::make_shared<const std::string>(boost::json::serialize(
      boost::json::object{{"name", "veza"}, {"version", info.version}, {"roles", info.roles}}));
  router.Add(bhttp::verb::get, "/api/v1/version", [version_body](RequestContext& ctx) -> asio::awaitable<Response> {
    co_return Text(bhttp::status::ok, *version_body, "application/json", ctx.request);
  });
}

}  // namespace veza::http
