#include "server/config.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace veza::server {
namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// A 32-byte key in base64 (standard or url-safe, padding optional).
std::optional<std::string> DecodeKey(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '=' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  auto raw = auth::Base64UrlDecode(text);
  if (!raw || raw->size() != 32) return std::nullopt;
  return raw;
}

// Durations are given in seconds (fractions allowed) to keep flags and env simple.
std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
}


// CLI11's TOML reader, refusing settings without a value: for `listen = []` CLI11 hands the
// option no value at all and its conversion reads one that is not there (the process crashed;
// found by the config fuzz target). "++" and "--" are CLI11's own section markers.
class TomlWithValues : public CLI::ConfigBase {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigBase::from_config(input);
    for (const CLI::ConfigItem& item : items) {
      if (item.inputs.empty() && item.name != "++" && item.name != "--") {
        throw CLI::ConversionError("the setting '" + item.fullname() + "' in the config file has no value");
      }
    }
    return items;
  }
};

// Holds the values CLI11 writes into while it parses; reset before every parse.
struct ParsedValues {
  CommandLine cl;
  std::string listen = "127.0.0.1:8080";
  std::string roles = "http,ws,grpc,media";
  std::string cors_origins;
  std::string trusted_proxies;
  std::string log_level = "info";
  double header_timeout = 10, body_timeout = 60, idle_timeout = 75, write_timeout = 60, grace = 15;
  std::string tls_cert, tls_key;
  double media_cpu = 600, media_timeout = 1800, media_max_duration = 3 * 3600;
  double upload_expiry = 24 * 3600, stream_url_ttl = 6 * 3600;
  std::string staging_dir = ServeOptions{}.tracks.staging_dir.string();
  std::vector<std::string> oauth_specs;
  std::string data_key, data_key_file, previous_data_keys;
  double qualified_window = 1800;
  double classifier_timeout = 2.0, repeat_window = 60, burst_window = 10, new_account_age = 600, word_refresh = 5;
  std::string classifier_failure = "open";
  double presence_ttl = 60;
};

}  // namespace

// CLI11 builds each option with a linear search through those already added: building the
// ~100 options costs far more than parsing a command line (the config fuzz target spent 90% of
// its time there), so a parser is built once and may parse many times.
class CommandLineParser::Impl {
 public:
  Impl() { Build(); }
  Result<CommandLine> Parse(int argc, const char* const* argv, ParseExit& exit);

 private:
  void Build();

  ParsedValues v;
  CLI::App app{"veza: music and chat for music makers, in one binary."};
  CLI::App* serve = nullptr;
  CLI::App* migrate = nullptr;
  CLI::App* version = nullptr;
  CLI::App* set_role = nullptr;
  CLI::App* media_worker = nullptr;
};

void CommandLineParser::Impl::Build() {
  CommandLine& cl = v.cl;
  ServeOptions& o = cl.options;
  auto& spam = o.moderation.spam;
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("veza ") + VEZA_VERSION_STRING);
  app.set_config("--config", "", "Config file (TOML: key = value, names as the long flags)");
  app.get_config_ptr()->envname("VEZA_CONFIG");
  app.config_formatter(std::make_shared<TomlWithValues>());


  // Every option lives on the main app, so a config file is one flat list of `name = value`
  // and options may stand before or after the subcommand name.
  app.add_option("--database", o.backends.database, "Database URL: sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB")
      ->envname("VEZA_DATABASE")->capture_default_str();
  app.add_option("--blobs", o.backends.blobs, "Blob store URL: file://DIR or s3://BUCKET?endpoint=URL&region=R")
      ->envname("VEZA_BLOBS")->capture_default_str();
  app.add_option("--bus", o.backends.bus, "Event bus URL: inproc:// or nats://HOST:PORT")
      ->envname("VEZA_BUS")->capture_default_str();
  app.add_option("--cache", o.backends.cache, "Cache URL: memory://[?max_entries=N] or redis://HOST:PORT[/DB]")
      ->envname("VEZA_CACHE")->capture_default_str();
  app.add_option("--mail", o.backends.mail, "Mailer URL: outbox:// (stored in the database) or smtp://[USER:PASS@]HOST:PORT?from=ADDRESS[&starttls=true]")
      ->envname("VEZA_MAIL")->capture_default_str();
  app.add_option("--public-url", o.public_url, "Public base URL of the web app, for links in mail")
      ->envname("VEZA_PUBLIC_URL")->capture_default_str();
  app.add_option("--oauth-provider", v.oauth_specs,
                 "Sign-in provider, repeatable: preset=google|github|discord or issuer=URL or endpoints, "
                 "with client_id=ID,client_secret_file=PATH (docs/configuration.md)")
      ->envname("VEZA_OAUTH_PROVIDERS")->expected(1);
  app.add_option("--data-key", v.data_key, "Base64 of 32 random bytes sealing secrets at rest (prefer --data-key-file)")
      ->envname("VEZA_DATA_KEY");
  app.add_option("--data-key-file", v.data_key_file, "File holding the --data-key")
      ->envname("VEZA_DATA_KEY_FILE")->check(CLI::ExistingFile);
  app.add_option("--auth-attempts-per-minute", o.auth_attempts_per_minute_per_ip,
                 "Sign-in and sign-up attempts one client address may make per minute (429 past it)")
      ->envname("VEZA_AUTH_ATTEMPTS_PER_MINUTE")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--previous-data-keys", v.previous_data_keys, "Comma-separated old data keys, kept until secrets are resealed")
      ->envname("VEZA_PREVIOUS_DATA_KEYS");
  app.add_option("--log-level", v.log_level, "debug, info, warn or error")
      ->envname("VEZA_LOG_LEVEL")->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  serve = app.add_subcommand("serve", "Run the server (the default command)");
  migrate = app.add_subcommand("migrate", "Apply database migrations and exit");
  version = app.add_subcommand("version", "Print the version and exit");
  set_role = app.add_subcommand("set-role", "Give an account a role (user, moderator, admin, super_admin) and exit");
  set_role->add_option("username", cl.target_username, "The account's username")->required();
  set_role->add_option("role", cl.target_role, "The new role")
      ->required()
      ->check(CLI::IsMember({"user", "moderator", "admin", "super_admin"}));
  set_role->fallthrough();
  // The child process of the media backend; not for people, so hidden from --help.
  media_worker = app.add_subcommand("media-worker", "Run one media job in this process");
  media_worker->group("");
  media_worker->add_option("op", cl.media_worker.op, "probe or process")
      ->required()
      ->check(CLI::IsMember({"probe", "process"}));
  media_worker->add_option("input", cl.media_worker.input, "The uploaded file")->required();
  media_worker->add_option("out_dir", cl.media_worker.out_dir, "Directory for the outputs (process)");
  media_worker->add_option("--progress-fd", cl.media_worker.progress_fd, "Descriptor for progress lines");
  media_worker->fallthrough();
  // Options of the main app may also follow the subcommand name.
  serve->fallthrough();
  migrate->fallthrough();

  app.add_option("--listen", v.listen, "Comma-separated HOST:PORT addresses for HTTP")
      ->envname("VEZA_LISTEN")->capture_default_str();
  app.add_option("--roles", v.roles, "Comma-separated roles this node runs: http, ws, grpc, media")
      ->envname("VEZA_ROLES")->capture_default_str();
  app.add_option("--web-root", o.web_root, "Directory of the built web app (served at /)")
      ->envname("VEZA_WEB_ROOT")->capture_default_str();
  app.add_option("--io-threads", o.io_threads, "IO threads (0: one per core)")
      ->envname("VEZA_IO_THREADS")->capture_default_str()->check(CLI::Range(0, 256));
  app.add_option("--worker-threads", o.worker_threads, "Threads for blocking work (0: max(4, 2 per core))")
      ->envname("VEZA_WORKER_THREADS")->capture_default_str()->check(CLI::Range(0, 1024));
  app.add_option("--max-body", o.http.max_body_bytes, "Largest request body in bytes (uploads excepted)")
      ->envname("VEZA_MAX_BODY")->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("--max-header", o.http.max_header_bytes, "Largest request header block in bytes")
      ->envname("VEZA_MAX_HEADER")->capture_default_str()->check(CLI::Range(1024, 1 << 20));
  app.add_option("--max-connections", o.http.max_connections, "Open connections before new ones are refused")
      ->envname("VEZA_MAX_CONNECTIONS")->capture_default_str();
  app.add_option("--header-timeout", v.header_timeout, "Seconds from a request's first byte to its last header byte")
      ->envname("VEZA_HEADER_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--body-timeout", v.body_timeout, "Seconds to receive a request body")
      ->envname("VEZA_BODY_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--idle-timeout", v.idle_timeout, "Seconds a keep-alive connection may wait for its next request")
      ->envname("VEZA_IDLE_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--write-timeout", v.write_timeout, "Seconds to send a response")
      ->envname("VEZA_WRITE_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--shutdown-grace", v.grace, "Seconds in-flight requests get to finish on SIGTERM/SIGINT")
      ->envname("VEZA_SHUTDOWN_GRACE")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--access-log,!--no-access-log", o.http.access_log, "Log one JSON line per request")
      ->envname("VEZA_ACCESS_LOG")->capture_default_str();
  app.add_option("--trusted-proxies", v.trusted_proxies,
                 "Comma-separated addresses or networks of proxies whose X-Forwarded-For names the client")
      ->envname("VEZA_TRUSTED_PROXIES");
  app.add_option("--cors-origins", v.cors_origins, "Comma-separated origins allowed to call the API from browsers (* for any)")
      ->envname("VEZA_CORS_ORIGINS");
  app.add_flag("--cors-credentials", o.http.cors.allow_credentials, "Allow credentials on cross-origin calls")
      ->envname("VEZA_CORS_CREDENTIALS");
  app.add_option("--media-cpu-seconds", v.media_cpu, "CPU seconds one media job may use before it is stopped")
      ->envname("VEZA_MEDIA_CPU_SECONDS")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  app.add_option("--media-memory-mb", o.media.memory_mb, "Address space of one media job, in MiB")
      ->envname("VEZA_MEDIA_MEMORY_MB")->capture_default_str()->check(CLI::Range(int64_t{256}, int64_t{1} << 20));
  app.add_option("--media-max-output-mb", o.media.max_output_mb, "Largest file one media job may write, in MiB")
      ->envname("VEZA_MEDIA_MAX_OUTPUT_MB")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app.add_option("--media-timeout", v.media_timeout, "Wall-clock seconds one media job may take")
      ->envname("VEZA_MEDIA_TIMEOUT")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--media-max-duration", v.media_max_duration, "Longest audio accepted, in seconds (default 3 h)")
      ->envname("VEZA_MEDIA_MAX_DURATION")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--tls-cert", v.tls_cert, "PEM certificate chain; with --tls-key serves HTTPS (reloaded on SIGHUP)")
      ->envname("VEZA_TLS_CERT")->check(CLI::ExistingFile);
  app.add_option("--tls-key", v.tls_key, "PEM private key for --tls-cert")
      ->envname("VEZA_TLS_KEY")->check(CLI::ExistingFile);

  app.add_option("--media-workers", o.media_workers, "Media jobs run at once on a node with the media role")
      ->envname("VEZA_MEDIA_WORKERS")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--storage-quota", o.tracks.storage_quota_bytes, "Bytes of originals (and unfinished uploads) each user may store")
      ->envname("VEZA_STORAGE_QUOTA")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-upload", o.tracks.max_upload_bytes, "Largest audio file in bytes")
      ->envname("VEZA_MAX_UPLOAD")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--staging-dir", v.staging_dir, "Directory for uploads in progress and media job temp files")
      ->envname("VEZA_STAGING_DIR")->capture_default_str();
  app.add_option("--upload-expiry", v.upload_expiry, "Seconds an idle resumable upload is kept")
      ->envname("VEZA_UPLOAD_EXPIRY")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--stream-url-ttl", v.stream_url_ttl, "Seconds a signed stream URL stays valid (rounded up to the hour)")
      ->envname("VEZA_STREAM_URL_TTL")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--cdn-base-url", o.cdn_base_url, "CloudFront distribution URL in front of the S3 blob store")
      ->envname("VEZA_CDN_BASE_URL");
  app.add_option("--cdn-key-pair-id", o.cdn_key_pair_id, "CloudFront key pair (or public key) id for signed URLs")
      ->envname("VEZA_CDN_KEY_PAIR_ID");
  app.add_option("--cdn-private-key-file", o.cdn_private_key_file, "PEM RSA private key matching --cdn-key-pair-id")
      ->envname("VEZA_CDN_PRIVATE_KEY_FILE")->check(CLI::ExistingFile);
  app.add_option("--analytics-qualified-window", v.qualified_window,
                 "Seconds in which one listener's qualified plays of a track count once")
      ->envname("VEZA_ANALYTICS_QUALIFIED_WINDOW")->capture_default_str()->check(CLI::Range(0.0, 31.0 * 86400));
  app.add_option("--analytics-country-header", o.analytics.country_header,
                 "Request header with the listener's ISO country code, set by a trusted proxy (default: none, no countries)")
      ->envname("VEZA_ANALYTICS_COUNTRY_HEADER");

  // Chat moderation (docs/moderation.md).
  app.add_option("--moderation-classifier-url", o.moderation_classifier.url,
                 "External moderation model: http(s) URL each chat message is POSTed to (empty: the local lexicon)")
      ->envname("VEZA_MODERATION_CLASSIFIER_URL");
  app.add_option("--moderation-classifier-timeout", v.classifier_timeout, "Seconds to wait for the moderation model")
      ->envname("VEZA_MODERATION_CLASSIFIER_TIMEOUT")->capture_default_str()->check(CLI::Range(0.01, 60.0));
  app.add_option("--moderation-classifier-failure", v.classifier_failure,
                 "When the moderation model fails: open (messages pass) or closed (messages are refused)")
      ->envname("VEZA_MODERATION_CLASSIFIER_FAILURE")->capture_default_str()->check(CLI::IsMember({"open", "closed"}));
  app.add_option("--moderation-lexicon-threshold", o.moderation_lexicon_threshold,
                 "Score (0..1) at which the local lexicon classifier refuses a message")
      ->envname("VEZA_MODERATION_LEXICON_THRESHOLD")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--moderation-repeat-limit", spam.repeat_limit, "Identical messages a user may send within the repeat window")
      ->envname("VEZA_MODERATION_REPEAT_LIMIT")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--moderation-repeat-window", v.repeat_window, "Seconds over which identical messages are counted")
      ->envname("VEZA_MODERATION_REPEAT_WINDOW")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  app.add_option("--moderation-burst-limit", spam.burst_limit, "Messages a user may send within the burst window (0: no limit)")
      ->envname("VEZA_MODERATION_BURST_LIMIT")->capture_default_str()->check(CLI::Range(0, 10000));
  app.add_option("--moderation-burst-window", v.burst_window, "Seconds over which a user's messages are counted")
      ->envname("VEZA_MODERATION_BURST_WINDOW")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  app.add_option("--moderation-max-links", spam.max_links, "Links allowed in one chat message")
      ->envname("VEZA_MODERATION_MAX_LINKS")->capture_default_str()->check(CLI::Range(0, 1000));
  app.add_option("--moderation-new-account-age", v.new_account_age, "Seconds an account counts as new (for links)")
      ->envname("VEZA_MODERATION_NEW_ACCOUNT_AGE")->capture_default_str()->check(CLI::Range(0.0, 1e8));
  app.add_option("--moderation-new-account-max-links", spam.new_account_max_links, "Links a new account may post in one message")
      ->envname("VEZA_MODERATION_NEW_ACCOUNT_MAX_LINKS")->capture_default_str()->check(CLI::Range(0, 1000));
  app.add_option("--moderation-caps-ratio", spam.caps_ratio, "Share of capital letters (0..1) above which a message is shouting")
      ->envname("VEZA_MODERATION_CAPS_RATIO")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--moderation-caps-min-letters", spam.caps_min_letters, "Letters a message needs before the caps rule applies")
      ->envname("VEZA_MODERATION_CAPS_MIN_LETTERS")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--moderation-word-list-refresh", v.word_refresh, "Seconds a node keeps the word list before reading it again")
      ->envname("VEZA_MODERATION_WORD_LIST_REFRESH")->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_option("--chat-presence-ttl", v.presence_ttl,
                 "Seconds within which the users of a node that died without closing its sockets go offline")
      ->envname("VEZA_CHAT_PRESENCE_TTL")->capture_default_str()->check(CLI::Range(0.3, 86400.0));

  // Precedence: command line > environment > config file > defaults. CLI11 alone would rank
  // the config file above the environment, so set variables are turned into arguments placed
  // before the user's own (the last occurrence wins).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  for (auto* opt : app.get_options()) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_option("--oauth-provider")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

Result<CommandLine> CommandLineParser::Impl::Parse(int argc, const char* const* argv, ParseExit& exit) {
  v = ParsedValues{};
  app.clear();
  CommandLine& cl = v.cl;
  ServeOptions& o = cl.options;
  auto& spam = o.moderation.spam;
  std::vector<std::string> args;
  for (const CLI::Option* opt : app.get_options()) {
    const std::string& env = opt->get_envname();
    if (env.empty() || env == "VEZA_CONFIG" || opt->get_lnames().empty()) continue;
    if (const char* value = std::getenv(env.c_str())) {
      args.push_back("--" + opt->get_lnames().front() + "=" + value);
    }
  }
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector last-argument-first

  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    // CLI11 has a code per error kind; callers only need "help" (0) versus "usage error" (2).
    exit.exit_code = app.exit(e, out, err) == 0 ? 0 : 2;
    exit.text = out.str() + err.str();
    return InvalidArgument(exit.text);
  }

  if (version->parsed()) {
    cl.command = Command::kVersion;
  } else if (migrate->parsed()) {
    cl.command = Command::kMigrate;
  } else if (set_role->parsed()) {
    cl.command = Command::kSetRole;
  } else if (media_worker->parsed()) {
    cl.command = Command::kMediaWorker;
    if (cl.media_worker.op == "process" && cl.media_worker.out_dir.empty()) {
      exit = {2, "media-worker process needs an output directory\n"};
      return InvalidArgument(exit.text);
    }
  }
  if (!log::ParseLevel(v.log_level, o.log_level)) {
    exit = {2, "unknown log level " + v.log_level + "\n"};
    return InvalidArgument(exit.text);
  }
  o.http.listen = SplitList(v.listen);
  if (o.http.listen.empty()) {
    exit = {2, "--listen needs at least one HOST:PORT\n"};
    return InvalidArgument(exit.text);
  }
  o.roles.clear();
  for (const auto& r : SplitList(v.roles)) {
    bool known = false;
    for (const char* k : kAllRoles) known = known || r == k;
    if (!known) {
      exit = {2, "unknown role '" + r + "' (roles: http, ws, grpc, media)\n"};
      return InvalidArgument(exit.text);
    }
    o.roles.insert(r);
  }
  if (o.roles.empty()) {
    exit = {2, "--roles needs at least one role\n"};
    return InvalidArgument(exit.text);
  }
  o.http.cors.allowed_origins = SplitList(v.cors_origins);
  auto proxies = http::TrustedProxies::Parse(SplitList(v.trusted_proxies));
  if (!proxies.ok()) {
    exit = {2, "--trusted-proxies: " + proxies.error().message + "\n"};
    return InvalidArgument(exit.text);
  }
  o.http.trusted_proxies = std::move(*proxies);
  o.http.header_timeout = Seconds(v.header_timeout);
  o.http.body_timeout = Seconds(v.body_timeout);
  o.http.idle_timeout = Seconds(v.idle_timeout);
  o.http.write_timeout = Seconds(v.write_timeout);
  o.shutdown_grace = Seconds(v.grace);
  o.media.cpu_time = std::chrono::seconds(static_cast<long long>(std::ceil(v.media_cpu)));
  o.media.timeout = Seconds(v.media_timeout);
  o.media.max_duration = Seconds(v.media_max_duration);
  cl.media_worker.max_duration = o.media.max_duration;
  while (!o.public_url.empty() && o.public_url.back() == '/') o.public_url.pop_back();
  if (o.public_url.rfind("http://", 0) != 0 && o.public_url.rfind("https://", 0) != 0) {
    exit = {2, "--public-url must start with http:// or https://\n"};
    return InvalidArgument(exit.text);
  }
  if (v.tls_cert.empty() != v.tls_key.empty()) {
    exit = {2, "--tls-cert and --tls-key go together\n"};
    return InvalidArgument(exit.text);
  }
  int cdn_settings = !o.cdn_base_url.empty() + !o.cdn_key_pair_id.empty() + !o.cdn_private_key_file.empty();
  if (cdn_settings != 0 && cdn_settings != 3) {
    exit = {2, "--cdn-base-url, --cdn-key-pair-id and --cdn-private-key-file go together\n"};
    return InvalidArgument(exit.text);
  }
  o.tracks.staging_dir = v.staging_dir;
  o.analytics.qualified_window = std::chrono::milliseconds(static_cast<std::int64_t>(v.qualified_window * 1000));
  o.tracks.upload_expiry = std::chrono::seconds(static_cast<std::int64_t>(v.upload_expiry));
  o.tracks.stream_url_ttl = std::chrono::seconds(static_cast<std::int64_t>(v.stream_url_ttl));
  // VEZA_OAUTH_PROVIDERS holds several entries separated by ';' (flags may too).
  std::vector<std::string> entries;
  for (const std::string& value : v.oauth_specs) {
    std::stringstream in(value);
    std::string entry;
    while (std::getline(in, entry, ';')) {
      std::size_t first = entry.find_first_not_of(" \t\n");
      if (first == std::string::npos) continue;
      entries.push_back(entry.substr(first, entry.find_last_not_of(" \t\n") - first + 1));
    }
  }
  for (const std::string& spec : entries) {
    auto provider = auth::ParseOAuthProvider(spec);
    if (!provider.ok()) {
      exit = {2, provider.error().message + "\n"};
      return InvalidArgument(exit.text);
    }
    for (const auto& existing : o.oauth_providers) {
      if (existing.name == provider->name) {
        exit = {2, "--oauth-provider: the name '" + provider->name + "' is given twice\n"};
        return InvalidArgument(exit.text);
      }
    }
    o.oauth_providers.push_back(std::move(provider).value());
  }
  if (!v.data_key.empty() && !v.data_key_file.empty()) {
    exit = {2, "give --data-key or --data-key-file, not both\n"};
    return InvalidArgument(exit.text);
  }
  if (!v.data_key_file.empty()) {
    std::ifstream in(v.data_key_file);
    std::stringstream ss;
    ss << in.rdbuf();
    v.data_key = ss.str();
  }
  if (!v.data_key.empty()) {
    auto key = DecodeKey(v.data_key);
    if (!key) {
      exit = {2, "--data-key must be base64 of exactly 32 bytes (e.g. openssl rand -base64 32)\n"};
      return InvalidArgument(exit.text);
    }
    o.data_key = *key;
  }
  for (const std::string& text : SplitList(v.previous_data_keys)) {
    auto key = DecodeKey(text);
    if (!key) {
      exit = {2, "--previous-data-keys: each key must be base64 of exactly 32 bytes\n"};
      return InvalidArgument(exit.text);
    }
    o.previous_data_keys.push_back(*key);
  }
  if (!v.tls_cert.empty()) o.http.tls = http::TlsOptions{v.tls_cert, v.tls_key};
  if (!o.moderation_classifier.url.empty() && o.moderation_classifier.url.rfind("http://", 0) != 0 &&
      o.moderation_classifier.url.rfind("https://", 0) != 0) {
    exit = {2, "--moderation-classifier-url must start with http:// or https://\n"};
    return InvalidArgument(exit.text);
  }
  o.moderation_classifier.timeout = Seconds(v.classifier_timeout);
  o.moderation_classifier.fail_open = v.classifier_failure == "open";
  spam.repeat_window = std::chrono::seconds(static_cast<std::int64_t>(std::ceil(v.repeat_window)));
  spam.burst_window = std::chrono::seconds(static_cast<std::int64_t>(std::ceil(v.burst_window)));
  spam.new_account_age = std::chrono::seconds(static_cast<std::int64_t>(std::ceil(v.new_account_age)));
  o.moderation.word_list_refresh = Seconds(v.word_refresh);
  o.chat_presence.ttl = Seconds(v.presence_ttl);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (o.io_threads == 0) o.io_threads = static_cast<int>(cores);
  if (o.worker_threads == 0) o.worker_threads = static_cast<int>(std::max(4u, 2 * cores));
  return cl;
}

CommandLineParser::CommandLineParser() : impl_(std::make_unique<Impl>()) {}
CommandLineParser::~CommandLineParser() = default;

Result<CommandLine> CommandLineParser::Parse(int argc, const char* const* argv, ParseExit& exit) {
  return impl_->Parse(argc, argv, exit);
}

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv, ParseExit& exit) {
  return CommandLineParser().Parse(argc, argv, exit);
}

}  // namespace veza::server
