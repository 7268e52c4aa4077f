#include "server/app.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/http/metrics.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "api/http/static_files.h"
#include "base/log.h"
#include "base/url.h"
#include "backends/media_ffmpeg/ffmpeg_media_processor.h"
#include "backends/moderation_http/http_content_classifier.h"
#include "server/backends.h"
#include "server/routes.h"
#include "services/moderation/lexicon_classifier.h"
#include "services/moderation/moderation_service.h"
#include "services/tracks/media_jobs.h"
#include "services/tracks/upload_service.h"
#include "services/tracks/url_signing.h"

namespace veza::server {

namespace asio = boost::asio;

namespace {

std::string JoinRoles(const std::set<std::string>& roles) {
  std::string out;
  for (const char* r : kAllRoles) {
    if (roles.count(r)) out += (out.empty() ? "" : ",") + std::string(r);
  }
  return out;
}

Result<Backends> OpenAndMigrate(const ServeOptions& options) {
  log::Info("opening backends", {{"database", RedactUrl(options.backends.database)},
                                 {"blobs", RedactUrl(options.backends.blobs)},
                                 {"bus", RedactUrl(options.backends.bus)},
                                 {"cache", RedactUrl(options.backends.cache)},
                                 {"mail", RedactUrl(options.backends.mail)}});
  VEZA_ASSIGN_OR_RETURN(Backends backends, OpenBackends(options.backends));
  auto media = OpenFfmpegMediaProcessor(options.media);
  if (!media.ok()) {
    Error e = media.take_error();
    e.message = "media: " + e.message;
    return e;
  }
  backends.media = std::move(media).value();
  auto applied = ApplyMigrations(*backends.database, EmbeddedMigrations(backends.database->Dialect()));
  if (!applied.ok()) {
    Error e = applied.take_error();
    e.message = "--database: " + e.message;
    return e;
  }
  boost::json::array versions;
  for (int v : applied.value()) versions.push_back(v);
  log::Info("migrations applied", {{"dialect", backends.database->Dialect()}, {"versions", versions}});
  return backends;
}

Result<std::unique_ptr<tracks::CloudFrontSigner>> OpenCdnSigner(const ServeOptions& options) {
  if (options.cdn_base_url.empty()) return std::unique_ptr<tracks::CloudFrontSigner>();
  std::ifstream in(options.cdn_private_key_file);
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in) return InvalidArgument("--cdn-private-key-file: cannot read " + options.cdn_private_key_file);
  return tracks::CloudFrontSigner::Create(options.cdn_base_url, options.cdn_key_pair_id, pem.str());
}

}  // namespace

int Migrate(const ServeOptions& options) {
  log::SetLevel(options.log_level);
  auto backends = OpenAndMigrate(options);
  if (!backends.ok()) {
    log::Error("migrate failed", {{"error", backends.error().message}});
    return 1;
  }
  return 0;
}

int Serve(const ServeOptions& options) {
  log::SetLevel(options.log_level);
  std::string roles = JoinRoles(options.roles);
  log::Info("starting", {{"version", VEZA_VERSION_STRING}, {"roles", roles}});

  auto opened = OpenAndMigrate(options);
  if (!opened.ok()) {
    log::Error("startup failed", {{"error", opened.error().message}});
    return 1;
  }
  Backends backends = std::move(opened).value();

  asio::io_context ioc(options.io_threads);
  asio::thread_pool workers(static_cast<std::size_t>(options.worker_threads));

  http::Metrics metrics;
  http::Router router;
  http::StaticFiles static_files(options.web_root);
  SystemClock clock;
  auth::AuthOptions auth_options;
  auth_options.data_key = options.data_key;
  auth_options.previous_data_keys = options.previous_data_keys;
  auth_options.max_logins_per_minute_per_ip = options.auth_attempts_per_minute_per_ip;
  auth::AuthService auth(*backends.database, *backends.cache, clock, auth_options);
  if (Status started = auth.Start(); !started.ok()) {
    log::Error("startup failed", {{"error", "auth: " + started.error().message}});
    return 1;
  }
  auth::AdminService admin(*backends.database, *backends.cache, clock);
  // Ended sessions reach every node's open chat sockets at once (they close with 4001).
  auto announce_sessions_ended = [bus = backends.bus.get()](std::string_view user_id) {
    if (auto st = bus->Publish(auth::kSessionsEndedSubject, std::string(user_id)); !st.ok()) {
      log::Warn("sessions-ended event not published; sockets close at their next heartbeat",
                {{"error", st.error().message}});
    }
  };
  auth.SetSessionsEndedSink(announce_sessions_ended);
  admin.SetSessionsEndedSink(announce_sessions_ended);
  auth::EmailOptions email_options;
  email_options.public_url = options.public_url;
  auth::EmailService email(*backends.database, *backends.cache, *backends.mailer, clock, email_options);
  notifications::NotificationService notifications(*backends.database, *backends.bus, clock);
  auth::OAuthOptions oauth_options{options.oauth_providers, options.public_url};
  auth::OAuthService oauth(*backends.database, *backends.cache, *backends.http, clock, auth, oauth_options);
  for (const auto& p : options.oauth_providers) {
    log::Info("sign-in provider", {{"name", p.name}, {"client_id", p.client_id}});  // never the secret
  }
  auth::AvatarService avatars(*backends.database, *backends.blobs, *backends.images, clock);
  auto stream_secret = tracks::LoadOrCreateStreamSecret(*backends.database);
  if (!stream_secret.ok()) {
    log::Error("startup failed", {{"error", "tracks: " + stream_secret.error().message}});
    return 1;
  }
  auto cdn = OpenCdnSigner(options);
  if (!cdn.ok()) {
    log::Error("startup failed", {{"error", cdn.error().message}});
    return 1;
  }
  tracks::TrackService tracks(*backends.database, *backends.blobs, *backends.bus, backends.media.get(), clock,
                              options.tracks, std::move(stream_secret).value(), std::move(cdn).value());
  tracks::UploadService uploads(tracks, clock);
  // Chat moderation: the local lexicon classifier unless an external model is configured.
  std::unique_ptr<ContentClassifier> classifier;
  if (options.moderation_classifier.url.empty()) {
    classifier = std::make_unique<moderation::LexiconClassifier>(options.moderation_lexicon_threshold);
  } else {
    classifier = std::make_unique<HttpContentClassifier>(*backends.http, options.moderation_classifier);
    log::Info("moderation classifier", {{"url", RedactUrl(options.moderation_classifier.url)},
                                        {"fail_open", options.moderation_classifier.fail_open}});
  }
  moderation::ModerationService moderation(*backends.database, *backends.bus, clock, *classifier, options.moderation);
  chat::ChatService chat(*backends.database, *backends.bus, *backends.cache, clock, &notifications, &tracks);
  chat.ConfigurePresence(options.chat_presence);
  search::SearchService search(*backends.database);
  social::SocialService social(*backends.database, tracks, clock);
  // Social events become notifications (stored per user, pushed live on every node).
  social.SetEventSink([&notifications](const social::SocialEvent& e) {
    using Kind = social::SocialEvent::Kind;
    notifications::NewNotification n;
    n.user_id = e.recipient_id;
    n.actor_id = e.actor.id;
    n.text = e.text.substr(0, 200);
    switch (e.kind) {
      case Kind::kFollow: n.kind = "follow"; n.object_type = "user"; n.object_id = e.actor.id; break;
      case Kind::kLike: n.kind = "like"; n.object_type = "track"; n.object_id = e.track_id; break;
      case Kind::kRepost: n.kind = "repost"; n.object_type = "track"; n.object_id = e.track_id; break;
      case Kind::kComment:
      case Kind::kReply: n.kind = "comment"; n.object_type = "track"; n.object_id = e.track_id; break;
      case Kind::kPlaylistAdd:
      case Kind::kPlaylistInvite: n.kind = "playlist"; n.object_type = "playlist"; n.object_id = e.playlist_id; break;
    }
    if (auto done = notifications.Notify(n); !done.ok()) {
      log::Warn("social notification not stored", {{"kind", n.kind}, {"error", done.error().message}});
    }
  });
  analytics::AnalyticsService analytics(*backends.database, *backends.bus, clock, options.analytics);
  if (Status started = analytics.Start(); !started.ok()) {
    log::Error("startup failed", {{"error", "analytics: " + started.error().message}});
    return 1;
  }
  social::PlaylistCoverService playlist_covers(*backends.database, *backends.blobs, *backends.images, social);
  moderation::TrackTakedowns takedowns(*backends.database, notifications, clock);
  RegisterRoutes(router, {metrics, workers, backends, auth, admin, email, chat, tracks, uploads, oauth, avatars,
                          search, notifications, roles, options.public_url, social, analytics, playlist_covers,
                          &moderation, &takedowns});
  if (options.roles.count("http")) {
    // Play events are aggregated where they are received; the work queue spreads them anyway.
    analytics.StartConsumers(1);
    // Abandoned uploads are swept at least once a minute (sooner with a short expiry).
    uploads.StartSweeper(std::min<std::chrono::milliseconds>(std::chrono::minutes(1), options.tracks.upload_expiry));
  }

  std::unique_ptr<tracks::MediaJobRunner> media_jobs;
  if (options.roles.count("media")) {
    if (backends.media == nullptr) {
      log::Warn("role enabled", {{"role", "media"}, {"state", "no media processor in this build; tracks wait"}});
    } else {
      tracks::MediaJobOptions job_options;
      job_options.workers = options.media_workers;
      job_options.temp_dir = options.tracks.staging_dir / "media";
      media_jobs = std::make_unique<tracks::MediaJobRunner>(tracks, *backends.blobs, *backends.bus, *backends.media,
                                                            clock, job_options);
      if (Status started = media_jobs->Start(); !started.ok()) {
        log::Error("startup failed", {{"error", "media workers: " + started.error().message}});
        return 1;
      }
    }
  }

  // Every node listens: health, readiness and metrics are how operators and load balancers see
  // it, whatever its roles; the routes behind the listener follow the roles (RegisterRoutes).
  std::unique_ptr<http::HttpServer> server;
  {
    const bool serves_web = options.roles.count("http") && static_files.Enabled();
    http::HttpServerOptions http_options = options.http;
    http_options.io_threads = options.io_threads;
    server = std::make_unique<http::HttpServer>(ioc, http_options, router, metrics,
                                                serves_web ? &static_files : nullptr);
    auto bound = server->Listen();
    if (!bound.ok()) {
      log::Error("startup failed", {{"error", bound.error().message}});
      return 1;
    }
    for (const auto& ep : bound.value()) {
      log::Info("listening", {{"address", ep.address().to_string()},
                              {"port", ep.port()},
                              {"tls", options.http.tls.has_value()}});
    }
    if (options.roles.count("http") && !static_files.Enabled()) {
      log::Info("web app not built; serving the API only", {{"web_root", options.web_root}});
    }
    server->Start();
  }
  if (options.roles.count("grpc")) log::Info("role enabled", {{"role", "grpc"}, {"state", "no services yet"}});

  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          if (server && options.http.tls) {
            Status st = server->ReloadTls();
            if (st.ok()) log::Info("TLS certificate reloaded");
            else log::Error("TLS reload failed; keeping the old certificate", {{"error", st.error().message}});
          }
          signals.async_wait(on_signal);
          return;
        }
        log::Info("shutting down", {{"signal", signo},
                                    {"grace_ms", static_cast<std::int64_t>(options.shutdown_grace.count())}});
        signals.cancel();
        if (server) {
          server->Stop(options.shutdown_grace, [&ioc] { ioc.stop(); });
        } else {
          ioc.stop();
        }
      };
  signals.async_wait(on_signal);

  std::vector<std::thread> io_threads;
  for (int i = 1; i < options.io_threads; ++i) io_threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : io_threads) t.join();
  workers.join();
  if (media_jobs) media_jobs->Stop();
  uploads.Stop();
  analytics.Stop();
  log::Info("stopped");
  return 0;
}

}  // namespace veza::server
