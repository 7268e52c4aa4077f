#pragma once
// Redis Cache backend (`redis://[[user]:password@]host[:port][/db][?pool_size=8]`), shared by
// every node. Uses hiredis' blocking API over a small pool of connections (connect and command
// timeouts of 2 s). A connection that fails is dropped together with the idle ones (a failure
// usually means Redis restarted) and new ones are made on the next call, so the cache recovers
// by itself once Redis is back; idempotent commands are retried once on a fresh connection.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ports/cache.h"

namespace veza {

struct RedisCacheOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // Redis 6 ACL user; empty for plain AUTH <password>
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT when non-zero
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
};

Result<RedisCacheOptions> ParseRedisCacheUrl(std::string_view url);

// Connects once before returning, so a wrong address or password fails at startup with a
// message naming the server (password redacted).
Result<std::unique_ptr<Cache>> OpenRedisCache(std::string_view url);

}  // namespace veza
