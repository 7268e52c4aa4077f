#pragma once
// Picks each port's backend by URL scheme, once, at startup (Envoy-style registry).
#include <memory>
#include <string_view>

#include "ports/blob_store.h"
#include "ports/cache.h"
#include "ports/database.h"
#include "ports/event_bus.h"
#include "ports/http_fetcher.h"
#include "ports/image_processor.h"
#include "ports/mailer.h"
#include "ports/media_processor.h"
#include "server/config.h"

namespace veza::server {

struct Backends {
  std::unique_ptr<Database> database;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<EventBus> bus;
  std::unique_ptr<Cache> cache;
  std::unique_ptr<Mailer> mailer;  // outbox:// writes to database, so it is opened after it
  std::unique_ptr<MediaProcessor> media;  // FFmpeg in child processes, opened by the app with ServeOptions::media
  std::unique_ptr<HttpFetcher> http;  // outbound calls (OAuth providers); libcurl
  std::unique_ptr<ImageProcessor> images;  // avatars; FFmpeg libraries in process
};

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url);
Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url);
// inproc:// keeps its work queue's jobs in db (table queued_jobs).
Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url, Database& db);
Result<std::unique_ptr<Cache>> OpenCache(std::string_view url);
Result<std::unique_ptr<Mailer>> OpenMailer(std::string_view url, Database& db);

// Opens all five; the first failure names the setting and the (redacted) URL.
Result<Backends> OpenBackends(const BackendUrls& urls);

}  // namespace veza::server
