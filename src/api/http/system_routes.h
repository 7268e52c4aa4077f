#pragma once
// Operational endpoints: /healthz (process alive), /readyz (every backend reachable),
// /metrics (Prometheus), /api/v1/version.
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <vector>

#include "api/http/metrics.h"
#include "api/http/router.h"

namespace veza::http {

struct ReadinessCheck {
  std::string name;              // "database", "blobs", "bus", "cache"
  std::function<Status()> ping;  // blocking; runs on the worker pool
};

struct SystemInfo {
  std::string version;
  std::string roles;
};

void AddSystemRoutes(Router& router, Metrics& metrics, boost::asio::thread_pool& workers,
                     std::vector<ReadinessCheck> checks, SystemInfo info);

}  // namespace veza::http
