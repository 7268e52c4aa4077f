#pragma once
// Starts the real `veza` binary for functional tests on a free port and stops it.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace veza::test {

class VezaProcess {
 public:
  // Runs `binary args...` with extra environment entries ("NAME=value") in work_dir; stderr
  // (the JSON log) goes to a file. Start() waits for the "listening" line and reads its port.
  VezaProcess(std::string binary, std::vector<std::string> args,
              std::vector<std::string> env = {}, std::filesystem::path work_dir = {});
  ~VezaProcess();

  // True when the server logged "listening" within timeout; false if it exited or hung.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  unsigned short port() const { return port_; }
  // Sends a signal and waits for exit; returns the exit status (128+signal if killed), or -1
  // on timeout (then the process is SIGKILLed).
  int Stop(int signo, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits for the process to exit by itself; returns the exit status or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool Running();
  std::string Log() const;
  pid_t pid() const { return pid_; }

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::filesystem::path work_dir_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  unsigned short port_ = 0;
};

// A fresh temporary directory removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A loopback TCP port free right now (the kernel picks it; it is released before returning), for
// servers a test starts itself.
unsigned short FreeLoopbackPort();

// The value of an environment variable, or "" when unset.
std::string Env(const char* name);

}  // namespace veza::test
