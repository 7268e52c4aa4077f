#include "server/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "veza_process.h"
#include <algorithm>

namespace veza::server {
namespace {

Result<CommandLine> Parse(std::vector<std::string> args, ParseExit& exit) {
  args.insert(args.begin(), "veza");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), exit);
}

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("VEZA_LISTEN");
    unsetenv("VEZA_DATABASE");
    unsetenv("VEZA_ACCESS_LOG");
    unsetenv("VEZA_MEDIA_MEMORY_MB");
  }
  ParseExit exit_{0, ""};
};

TEST_F(ConfigTest, DefaultsAreTheEmbeddedBackends) {
  auto cl = Parse({}, exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_EQ(cl->command, Command::kServe);
  EXPECT_EQ(cl->options.backends.database, "sqlite://./data/veza.db");
  EXPECT_EQ(cl->options.backends.blobs, "file://./data/blobs");
  EXPECT_EQ(cl->options.backends.bus, "inproc://");
  EXPECT_EQ(cl->options.backends.cache, "memory://");
  EXPECT_EQ(cl->options.http.listen, std::vector<std::string>{"127.0.0.1:8080"});
  EXPECT_EQ(cl->options.roles.size(), 4u);
  EXPECT_GE(cl->options.io_threads, 1);
  EXPECT_GE(cl->options.worker_threads, 4);
}

TEST_F(ConfigTest, CommandLineBeatsEnvironmentBeatsConfigFile) {
  veza::test::TempDir dir;
  auto file = dir.path() / "veza.toml";
  std::ofstream(file) << "listen = \"127.0.0.1:1001\"\ndatabase = \"sqlite://file.db\"\nidle-timeout = 5\n";
  auto from_file = Parse({"--config", file.string()}, exit_);
  ASSERT_TRUE(from_file.ok()) << exit_.text;
  EXPECT_EQ(from_file->options.http.listen[0], "127.0.0.1:1001");
  EXPECT_EQ(from_file->options.http.idle_timeout, std::chrono::milliseconds(5000));

  setenv("VEZA_LISTEN", "127.0.0.1:1002", 1);
  auto from_env = Parse({"serve", "--config", file.string()}, exit_);
  EXPECT_EQ(from_env->options.http.listen[0], "127.0.0.1:1002");
  EXPECT_EQ(from_env->options.backends.database, "sqlite://file.db");

  auto from_flag = Parse({"serve", "--config", file.string(), "--listen", "127.0.0.1:1003,[::1]:1004"}, exit_);
  EXPECT_EQ(from_flag->options.http.listen, (std::vector<std::string>{"127.0.0.1:1003", "[::1]:1004"}));
}

TEST_F(ConfigTest, AReusedParserStartsFromTheDefaultsEveryTime) {
  // What each command line gives, from a fresh parser and from one parser reused in turn.
  auto summary = [](const Result<CommandLine>& cl, const ParseExit& exit) {
    if (!cl.ok()) return "error " + std::to_string(exit.exit_code) + ": " + exit.text;
    const ServeOptions& o = cl->options;
    std::string s = std::to_string(static_cast<int>(cl->command)) + " " + o.backends.database + " " +
                    std::to_string(o.http.idle_timeout.count()) + " " + std::to_string(o.http.access_log) + " " +
                    std::to_string(o.media.memory_mb) + " " + std::to_string(o.moderation.spam.repeat_limit) + " " +
                    std::to_string(o.roles.size()) + " " + std::to_string(o.oauth_providers.size()) + " " +
                    std::to_string(o.http.cors.allowed_origins.size()) + " " + cl->target_username;
    for (const auto& l : o.http.listen) s += " " + l;
    return s;
  };
  std::vector<std::vector<std::string>> lines = {
      {"--listen", "127.0.0.1:1,127.0.0.1:2", "--database", "postgres://db/x", "--idle-timeout", "3",
       "--no-access-log", "--media-memory-mb", "512", "--moderation-repeat-limit", "9", "--roles", "http",
       "--cors-origins", "https://a.example,https://b.example"},
      {},
      {"set-role", "alice", "admin"},
      {"--idle-timeout", "-1"},
      {"serve"},
      {"--oauth-provider", "github:id:secret"},
      {"migrate"},
      {"--bogus"},
      {},
  };
  CommandLineParser reused;
  for (const auto& line : lines) {
    std::vector<std::string> args = line;
    args.insert(args.begin(), "veza");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    ParseExit fresh_exit{0, ""}, reused_exit{0, ""};
    auto fresh = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), fresh_exit);
    auto again = reused.Parse(static_cast<int>(argv.size()), argv.data(), reused_exit);
    EXPECT_EQ(summary(again, reused_exit), summary(fresh, fresh_exit)) << "after: " << (line.empty() ? "(nothing)" : line[0]);
  }
}

TEST_F(ConfigTest, ASettingWithoutAValueInTheConfigFileIsAnError) {
  // CLI11 handed the option no value and its conversion read one that was not there: the
  // process crashed (found by the config fuzz target).
  veza::test::TempDir dir;
  for (const char* text : {"listen = []\n", "listen = [e", "[http]\nlisten = []\n"}) {
    auto file = dir.path() / "veza.toml";
    std::ofstream(file, std::ios::trunc) << text;
    ParseExit exit{0, ""};
    auto cl = Parse({"--config", file.string()}, exit);
    ASSERT_FALSE(cl.ok()) << text;
    EXPECT_EQ(exit.exit_code, 2) << text;
    EXPECT_NE(exit.text.find("has no value"), std::string::npos) << exit.text;
  }
  auto file = dir.path() / "ok.toml";
  std::ofstream(file) << "listen = [\"127.0.0.1:1005\"]\n";
  auto fine = Parse({"--config", file.string()}, exit_);
  ASSERT_TRUE(fine.ok()) << exit_.text;
  EXPECT_EQ(fine->options.http.listen[0], "127.0.0.1:1005");
}

TEST_F(ConfigTest, FlagsMayFollowTheSubcommand) {
  auto cl = Parse({"migrate", "--database", "postgres://db/veza"}, exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_EQ(cl->command, Command::kMigrate);
  EXPECT_EQ(cl->options.backends.database, "postgres://db/veza");
}

TEST_F(ConfigTest, BooleanFromEnvironment) {
  setenv("VEZA_ACCESS_LOG", "false", 1);
  auto cl = Parse({}, exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_FALSE(cl->options.http.access_log);
}

TEST_F(ConfigTest, RejectsBadValuesWithExitTwo) {
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"--roles", "http,dj"}, {"--roles", ""}, {"--listen", ""}, {"--io-threads", "-1"},
           {"--header-timeout", "0"}, {"--log-level", "loud"}, {"--tls-cert", "/nonexistent"},
           {"--unknown"}, {"--max-body", "0"}}) {
    ParseExit exit{0, ""};
    auto cl = Parse(bad, exit);
    EXPECT_FALSE(cl.ok()) << bad[0];
    EXPECT_EQ(exit.exit_code, 2) << bad[0];
    EXPECT_FALSE(exit.text.empty());
  }
}

TEST_F(ConfigTest, MailAndPublicUrl) {
  auto defaults = Parse({}, exit_);
  ASSERT_TRUE(defaults.ok()) << exit_.text;
  EXPECT_EQ(defaults->options.backends.mail, "outbox://");
  EXPECT_EQ(defaults->options.public_url, "http://localhost:8080");
  auto set = Parse({"--mail", "smtp://mx:25?from=a@b.example", "--public-url", "https://veza.example/"}, exit_);
  ASSERT_TRUE(set.ok()) << exit_.text;
  EXPECT_EQ(set->options.backends.mail, "smtp://mx:25?from=a@b.example");
  EXPECT_EQ(set->options.public_url, "https://veza.example");  // trailing slash dropped
  ParseExit bad{0, ""};
  EXPECT_FALSE(Parse({"--public-url", "ftp://veza.example"}, bad).ok());
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(ConfigTest, TracksSettings) {
  auto defaults = Parse({}, exit_);
  ASSERT_TRUE(defaults.ok()) << exit_.text;
  const ServeOptions& d = defaults->options;
  EXPECT_EQ(d.media_workers, 1);
  EXPECT_EQ(d.tracks.storage_quota_bytes, 10LL << 30);
  EXPECT_EQ(d.tracks.max_upload_bytes, 2LL << 30);
  EXPECT_EQ(d.tracks.staging_dir, "./data/staging");
  EXPECT_EQ(d.tracks.upload_expiry, std::chrono::seconds(86400));
  EXPECT_EQ(d.tracks.stream_url_ttl, std::chrono::seconds(21600));
  EXPECT_TRUE(d.cdn_base_url.empty());

  veza::test::TempDir dir;
  std::string key = (dir.path() / "cdn.pem").string();
  std::ofstream(key) << "pem";
  auto set = Parse({"--media-workers", "3", "--storage-quota", "1000", "--max-upload", "500", "--staging-dir", "/srv/stage",
                    "--upload-expiry", "60", "--stream-url-ttl", "7200", "--cdn-base-url", "https://cdn.example",
                    "--cdn-key-pair-id", "K1", "--cdn-private-key-file", key},
                   exit_);
  ASSERT_TRUE(set.ok()) << exit_.text;
  const ServeOptions& o = set->options;
  EXPECT_EQ(o.media_workers, 3);
  EXPECT_EQ(o.tracks.storage_quota_bytes, 1000);
  EXPECT_EQ(o.tracks.max_upload_bytes, 500);
  EXPECT_EQ(o.tracks.staging_dir, "/srv/stage");
  EXPECT_EQ(o.tracks.upload_expiry, std::chrono::seconds(60));
  EXPECT_EQ(o.tracks.stream_url_ttl, std::chrono::seconds(7200));
  EXPECT_EQ(o.cdn_key_pair_id, "K1");

  for (std::vector<std::string> bad : {std::vector<std::string>{"--cdn-base-url", "https://cdn.example"},
                                       std::vector<std::string>{"--media-workers", "0"},
                                       std::vector<std::string>{"--storage-quota", "-1"},
                                       std::vector<std::string>{"--cdn-private-key-file", "/nonexistent/key.pem"}}) {
    ParseExit e{0, ""};
    EXPECT_FALSE(Parse(bad, e).ok()) << bad[0];
    EXPECT_EQ(e.exit_code, 2) << bad[0];
  }
}

TEST_F(ConfigTest, HelpExitsZero) {
  auto cl = Parse({"--help"}, exit_);
  EXPECT_FALSE(cl.ok());
  EXPECT_EQ(exit_.exit_code, 0);
  EXPECT_NE(exit_.text.find("--database"), std::string::npos);
}

TEST_F(ConfigTest, MediaLimitsComeFromFlagsAndEnvironment) {
  auto defaults = Parse({}, exit_);
  ASSERT_TRUE(defaults.ok()) << exit_.text;
  EXPECT_EQ(defaults->options.media.cpu_time, std::chrono::seconds(600));
  EXPECT_EQ(defaults->options.media.memory_mb, 1024);
  EXPECT_EQ(defaults->options.media.max_duration, std::chrono::hours(3));
  EXPECT_EQ(defaults->options.media.worker_binary, "/proc/self/exe");

  setenv("VEZA_MEDIA_MEMORY_MB", "512", 1);
  auto set = Parse({"--media-cpu-seconds", "30", "--media-max-output-mb", "100", "--media-timeout",
                    "90.5", "--media-max-duration", "600"},
                   exit_);
  ASSERT_TRUE(set.ok()) << exit_.text;
  EXPECT_EQ(set->options.media.cpu_time, std::chrono::seconds(30));
  EXPECT_EQ(set->options.media.memory_mb, 512);
  EXPECT_EQ(set->options.media.max_output_mb, 100);
  EXPECT_EQ(set->options.media.timeout, std::chrono::milliseconds(90'500));
  EXPECT_EQ(set->options.media.max_duration, std::chrono::minutes(10));

  ParseExit bad{0, ""};
  EXPECT_FALSE(Parse({"--media-memory-mb", "8"}, bad).ok());
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(ConfigTest, MediaWorkerIsAHiddenSubcommand) {
  auto cl = Parse({"media-worker", "--media-max-duration=60", "--progress-fd=3", "process", "--",
                   "/in.wav", "/out"},
                  exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_EQ(cl->command, Command::kMediaWorker);
  EXPECT_EQ(cl->media_worker.op, "process");
  EXPECT_EQ(cl->media_worker.input, "/in.wav");
  EXPECT_EQ(cl->media_worker.out_dir, "/out");
  EXPECT_EQ(cl->media_worker.progress_fd, 3);
  EXPECT_EQ(cl->media_worker.max_duration, std::chrono::minutes(1));

  ParseExit bad{0, ""};
  EXPECT_FALSE(Parse({"media-worker", "process", "/in.wav"}, bad).ok());  // no output directory
  EXPECT_EQ(bad.exit_code, 2);
  auto help = Parse({"--help"}, exit_);
  // (--media-workers is a flag of serve; the subcommand itself is not listed)
  EXPECT_EQ(exit_.text.find("\n  media-worker"), std::string::npos) << exit_.text;
}

TEST_F(ConfigTest, OAuthProvidersComeFromFlagsEnvironmentAndConfigFile) {
  veza::test::TempDir dir;
  auto file = dir.path() / "veza.toml";
  std::ofstream(file) << "oauth-provider = [\"preset=discord,client_id=d\"]\n";
  setenv("VEZA_OAUTH_PROVIDERS", "preset=github,client_id=g,client_secret=s; name=corp,issuer=https://idp.example,client_id=c", 1);
  auto names = [](const CommandLine& cl) {
    std::vector<std::string> out;
    for (const auto& p : cl.options.oauth_providers) out.push_back(p.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  // The command line and the environment together; the config file's list only without them.
  auto cl = Parse({"--config", file.string(), "--oauth-provider", "preset=google,client_id=a", "serve"}, exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_EQ(cl->command, Command::kServe);
  EXPECT_EQ(names(*cl), (std::vector<std::string>{"corp", "github", "google"}));
  unsetenv("VEZA_OAUTH_PROVIDERS");
  auto from_file = Parse({"--config", file.string()}, exit_);
  ASSERT_TRUE(from_file.ok()) << exit_.text;
  EXPECT_EQ(names(*from_file), (std::vector<std::string>{"discord"}));

  EXPECT_FALSE(Parse({"--oauth-provider", "preset=google,client_id=a", "--oauth-provider", "preset=google,client_id=b"}, exit_).ok());
  EXPECT_EQ(exit_.exit_code, 2);
  EXPECT_NE(exit_.text.find("twice"), std::string::npos) << exit_.text;
  EXPECT_FALSE(Parse({"--oauth-provider", "preset=google"}, exit_).ok());
  EXPECT_NE(exit_.text.find("client_id"), std::string::npos) << exit_.text;
}

TEST_F(ConfigTest, DataKeysAreBase64Of32Bytes) {
  auto cl = Parse({"--data-key", "q3vJ0aG3mXv6b5S9d2Lw8YkTqR1nZ4cE7uH0pA6sF2M=",
                   "--previous-data-keys", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,q3vJ0aG3mXv6b5S9d2Lw8YkTqR1nZ4cE7uH0pA6sF2M"}, exit_);
  ASSERT_TRUE(cl.ok()) << exit_.text;
  EXPECT_EQ(cl->options.data_key.size(), 32u);
  EXPECT_EQ(cl->options.previous_data_keys.size(), 2u);
  EXPECT_FALSE(Parse({"--data-key", "c2hvcnQ="}, exit_).ok());
  EXPECT_EQ(exit_.exit_code, 2);
  EXPECT_FALSE(Parse({"--previous-data-keys", "nope"}, exit_).ok());
  veza::test::TempDir dir;
  auto key = dir.path() / "key";
  std::ofstream(key) << "q3vJ0aG3mXv6b5S9d2Lw8YkTqR1nZ4cE7uH0pA6sF2M=\n";
  auto from_file = Parse({"--data-key-file", key.string()}, exit_);
  ASSERT_TRUE(from_file.ok()) << exit_.text;
  EXPECT_EQ(from_file->options.data_key, cl->options.data_key);
  EXPECT_FALSE(Parse({"--data-key-file", key.string(), "--data-key", "q3vJ0aG3mXv6b5S9d2Lw8YkTqR1nZ4cE7uH0pA6sF2M="}, exit_).ok());
}

}  // namespace
}  // namespace veza::server
