#include <cstdio>
#include <iostream>

#include "server/app.h"
#include "server/config.h"

int main(int argc, char** argv) {
  veza::server::ParseExit exit{0, ""};
  auto parsed = veza::server::ParseCommandLine(argc, argv, exit);
  if (!parsed.ok()) {
    (exit.exit_code == 0 ? std::cout : std::cerr) << exit.text;
    return exit.exit_code;
  }
  switch (parsed->command) {
    case veza::server::Command::kVersion:
      std::cout << "veza " << VEZA_VERSION_STRING << "\n";
      return 0;
    case veza::server::Command::kMigrate:
      return veza::server::Migrate(parsed->options);
    case veza::server::Command::kSetRole:
      return veza::server::SetRole(parsed->options, parsed->target_username, parsed->target_role);
    case veza::server::Command::kMediaWorker:
      return veza::server::MediaWorker(parsed->media_worker);
    case veza::server::Command::kServe:
      return veza::server::Serve(parsed->options);
  }
  return 2;
}
