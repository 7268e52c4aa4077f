#pragma once
// The composition root: the only place that knows every part (ARCHITECTURE.md).
#include "server/config.h"

namespace veza::server {

// Runs `veza serve` until SIGTERM/SIGINT; returns the process exit code.
int Serve(const ServeOptions& options);
// Runs `veza migrate`; returns the process exit code.
int Migrate(const ServeOptions& options);
// Runs `veza set-role USERNAME ROLE` against the configured database; returns the exit code.
int SetRole(const ServeOptions& options, const std::string& username, const std::string& role);

// Runs `veza media-worker OP INPUT [OUT_DIR]`, the child process of the media backend.
int MediaWorker(const MediaWorkerRequest& request);

}  // namespace veza::server
