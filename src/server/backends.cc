#include "server/backends.h"

#include <functional>
#include <map>

#include "backends/blob_local/local_blob_store.h"
#include "backends/blob_s3/s3_blob_store.h"
#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/bus_nats/nats_event_bus.h"
#include "backends/cache_memory/memory_cache.h"
#include "backends/cache_redis/redis_cache.h"
#include "backends/http_curl/curl_http_fetcher.h"
#include "backends/image_ffmpeg/ffmpeg_image_processor.h"
#include "backends/mailer_outbox/outbox_mailer.h"
#include "backends/mailer_smtp/smtp_mailer.h"
#include "backends/postgres/postgres_database.h"
#include "backends/sqlite/sqlite_database.h"
#include "base/url.h"

namespace veza::server {
namespace {

std::string_view SchemeOf(std::string_view url) {
  auto pos = url.find("://");
  return pos == std::string_view::npos ? std::string_view() : url.substr(0, pos);
}

template <class Port>
using Factory = std::function<Result<std::unique_ptr<Port>>(std::string_view)>;

template <class Port>
Result<std::unique_ptr<Port>> Open(std::string_view what, std::string_view url,
                                   const std::map<std::string, Factory<Port>, std::less<>>& registry) {
  std::string_view scheme = SchemeOf(url);
  auto it = registry.find(scheme);
  if (it == registry.end()) {
    std::string known;
    for (const auto& [name, _] : registry) known += (known.empty() ? "" : ", ") + name + "://";
    return InvalidArgument(std::string(what) + ": unknown URL scheme in '" + RedactUrl(url) +
                           "' (known: " + known + ")");
  }
  return it->second(url);
}

}  // namespace

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url) {
  static const std::map<std::string, Factory<Database>, std::less<>> registry = {
      {"sqlite", OpenSqliteDatabase},
      {"postgres", OpenPostgresDatabase},
      {"postgresql", OpenPostgresDatabase},
  };
  return Open<Database>("database", url, registry);
}

Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url) {
  static const std::map<std::string, Factory<BlobStore>, std::less<>> registry = {
      {"file", OpenLocalBlobStore},
      {"s3", OpenS3BlobStore},
  };
  return Open<BlobStore>("blobs", url, registry);
}

Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url, Database& db) {
  const std::map<std::string, Factory<EventBus>, std::less<>> registry = {
      {"inproc", [&db](std::string_view u) { return OpenInprocEventBus(u, &db); }},
      {"nats", OpenNatsEventBus},
  };
  return Open<EventBus>("bus", url, registry);
}

Result<std::unique_ptr<Cache>> OpenCache(std::string_view url) {
  static const std::map<std::string, Factory<Cache>, std::less<>> registry = {
      {"memory", OpenMemoryCache},
      {"redis", OpenRedisCache},
  };
  return Open<Cache>("cache", url, registry);
}

Result<std::unique_ptr<Mailer>> OpenMailer(std::string_view url, Database& db) {
  const std::map<std::string, Factory<Mailer>, std::less<>> registry = {
      {"outbox", [&db](std::string_view u) { return OpenOutboxMailer(u, db); }},
      {"smtp", OpenSmtpMailer},
  };
  return Open<Mailer>("mail", url, registry);
}

Result<Backends> OpenBackends(const BackendUrls& urls) {
  Backends b;
  auto wrap = [](std::string_view setting, std::string_view url, Error e) {
    e.message = "--" + std::string(setting) + " " + RedactUrl(url) + ": " + e.message;
    return e;
  };
  auto db = OpenDatabase(urls.database);
  if (!db.ok()) return wrap("database", urls.database, db.take_error());
  b.database = std::move(db).value();
  auto blobs = OpenBlobStore(urls.blobs);
  if (!blobs.ok()) return wrap("blobs", urls.blobs, blobs.take_error());
  b.blobs = std::move(blobs).value();
  auto bus = OpenEventBus(urls.bus, *b.database);
  if (!bus.ok()) return wrap("bus", urls.bus, bus.take_error());
  b.bus = std::move(bus).value();
  auto cache = OpenCache(urls.cache);
  if (!cache.ok()) return wrap("cache", urls.cache, cache.take_error());
  b.cache = std::move(cache).value();
  auto mailer = OpenMailer(urls.mail, *b.database);
  if (!mailer.ok()) return wrap("mail", urls.mail, mailer.take_error());
  b.mailer = std::move(mailer).value();
  b.http = MakeCurlHttpFetcher();
  b.images = MakeFfmpegImageProcessor();
  return b;
}

}  // namespace veza::server
