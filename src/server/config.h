#pragma once
// Every setting of `veza`, parsed from flags, VEZA_* environment variables and an optional
// config file (docs/configuration.md lists them). Plain structs handed down explicitly.
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/http/server.h"
#include "backends/media_ffmpeg/ffmpeg_media_processor.h"
#include "backends/moderation_http/http_content_classifier.h"
#include "base/log.h"
#include "base/result.h"
#include "services/analytics/analytics_service.h"
#include "services/tracks/track_service.h"
#include "services/auth/oauth_service.h"
#include "services/moderation/moderation_service.h"

namespace veza::server {

struct BackendUrls {
  std::string database = "sqlite://./data/veza.db";
  std::string blobs = "file://./data/blobs";
  std::string bus = "inproc://";
  std::string cache = "memory://";
  std::string mail = "outbox://";
};

struct ServeOptions {
  BackendUrls backends;
  http::HttpServerOptions http;
  std::set<std::string> roles = {"http", "ws", "grpc", "media"};
  std::string web_root = "./web/dist";
  // Base of the links in mail (password reset, email verification), without a trailing slash.
  std::string public_url = "http://localhost:8080";
  // Outside sign-in providers (--oauth-provider, repeatable; VEZA_OAUTH_PROVIDERS separates
  // entries with ';'). Client secrets live here and must never be logged.
  std::vector<auth::OAuthProvider> oauth_providers;
  // Raw 32-byte keys sealing secrets at rest (--data-key / --data-key-file); empty: generated
  // and kept in the database. Previous keys still open old secrets until they are resealed.
  std::string data_key;
  std::vector<std::string> previous_data_keys;
  // Sign-in and sign-up attempts per client address per minute; behind a shared NAT raise it.
  int auth_attempts_per_minute_per_ip = 30;
  int io_threads = 0;      // 0: one per core
  int worker_threads = 0;  // 0: max(4, 2 per core)
  std::chrono::milliseconds shutdown_grace{15'000};
  FfmpegMediaOptions media;  // limits of each media worker child process
  log::Level log_level = log::Level::kInfo;
  // Tracks, uploads and delivery (issue 5).
  tracks::TrackOptions tracks;
  int media_workers = 1;
  // Signed CloudFront URLs for derived files on a remote blob store: all three or none.
  std::string cdn_base_url, cdn_key_pair_id, cdn_private_key_file;
  // Chat moderation (issue 6 item 5; docs/moderation.md): spam thresholds, and the content
  // classifier (an empty URL: the local lexicon classifier).
  moderation::ModerationOptions moderation;
  HttpClassifierOptions moderation_classifier;
  double moderation_lexicon_threshold = 0.9;
  // Chat presence: a node that dies leaves its users online at most this long (docs/websocket.md).
  chat::PresenceOptions chat_presence;
  // Analytics (issue 7): the qualified-play window and the trusted country header.
  analytics::AnalyticsOptions analytics;
};

enum class Command { kServe, kMigrate, kVersion, kSetRole, kMediaWorker };

struct CommandLine {
  Command command = Command::kServe;
  ServeOptions options;
  // `veza set-role USERNAME ROLE`: how the first admin is made on a fresh install.
  std::string target_username;
  std::string target_role;
  // `veza media-worker` (hidden): the child process the media backend starts for each job.
  MediaWorkerRequest media_worker;
};

// Parses argv. On --help or an error, returns an error whose message is the text to print;
// exit_code tells how to exit (0 for --help).
struct ParseExit {
  int exit_code;
  std::string text;
};
Result<CommandLine> ParseCommandLine(int argc, const char* const* argv, ParseExit& exit);

// The same parse, with the options built once: Parse may be called again, each call starting
// from the defaults (the config fuzz target parses millions of command lines).
class CommandLineParser {
 public:
  CommandLineParser();
  ~CommandLineParser();
  CommandLineParser(const CommandLineParser&) = delete;
  CommandLineParser& operator=(const CommandLineParser&) = delete;
  Result<CommandLine> Parse(int argc, const char* const* argv, ParseExit& exit);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

inline constexpr const char* kAllRoles[] = {"http", "ws", "grpc", "media"};

}  // namespace veza::server
