#include <malloc.h>

#include <cstdio>
#include <iostream>

#include "server/app.h"
#include "server/config.h"

int main(int argc, char** argv) {
  // glibc raises its mmap threshold (up to 32 MiB) and its trim threshold (to twice that) each
  // time a large mmapped block is freed, and every argon2id hash frees one (its 19+ MiB work
  // area). After a few sign-ins, work areas came from the heap and tens of MiB of freed memory
  // stayed resident in each worker's arena: RSS 116 MiB before any client instead of ~40, and
  // 6.9 instead of 5.1 KiB per idle WebSocket (docs/benchmarks.md). Fixed thresholds: blocks
  // over 1 MiB are mmapped (returned to the system when freed); up to 4 MiB stay free at a
  // heap's top, so the per-request file buffers (up to 256 KiB) are not returned and faulted
  // in again on every request (trimming at glibc's 128 KiB cost HLS segments 20% of their rate).
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
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
