// libFuzzer target for configuration parsing (src/server/config.cc): flags, VEZA_* environment
// variables and the TOML config file, all through one reused CommandLineParser. The input is NUL-separated
// items: "ENV:NAME=value" sets a variable for this run, "FILE:" followed by text becomes the
// config file (passed with --config), anything else is one argv word after "veza".
// Invariant: an accepted command line keeps the documented bounds of the settings it checked.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.h"

using namespace veza::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> words = {"veza"};
  std::vector<std::string> env_names;
  std::string config_text;
  bool has_config = false;
  while (!in.empty() && words.size() < 64) {
    std::string_view item = in.substr(0, in.find('\0'));
    in.remove_prefix(std::min(in.size(), item.size() + 1));
    if (item.rfind("ENV:", 0) == 0) {
      std::string kv(item.substr(4));
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0 || kv.rfind("VEZA_", 0) != 0) continue;
      std::string name = kv.substr(0, eq);
      if (name.find('\0') != std::string::npos) continue;
      setenv(name.c_str(), kv.c_str() + eq + 1, 1);
      env_names.push_back(name);
    } else if (item.rfind("FILE:", 0) == 0) {
      config_text = item.substr(5);
      has_config = true;
    } else {
      words.emplace_back(item);
    }
  }
  static const std::string config_path = "/tmp/veza-config-fuzz-" + std::to_string(getpid()) + ".toml";
  if (has_config) {
    std::ofstream(config_path, std::ios::trunc) << config_text;
    words.push_back("--config");
    words.push_back(config_path);
  }
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  argv.push_back(nullptr);
  ParseExit exit{0, ""};
  // Built once: building CLI11's options cost 90% of each run (config.h).
  static CommandLineParser parser;
  auto parsed = parser.Parse(static_cast<int>(words.size()), argv.data(), exit);
  for (const auto& name : env_names) unsetenv(name.c_str());
  if (parsed) {
    const auto& o = parsed->options;
    if (o.http.listen.empty()) __builtin_trap();
  }
  return 0;
}
