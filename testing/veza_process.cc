#include "veza_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace veza::test {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

unsigned short FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("veza-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

VezaProcess::VezaProcess(std::string binary, std::vector<std::string> args,
                         std::vector<std::string> env, fs::path work_dir)
    : binary_(std::move(binary)), args_(std::move(args)), env_(std::move(env)), work_dir_(std::move(work_dir)) {
  std::random_device rd;
  log_file_ = fs::temp_directory_path() / ("veza-log-" + std::to_string(rd()) + std::to_string(getpid()) + ".jsonl");
}

VezaProcess::~VezaProcess() {
  if (Running()) Stop(SIGKILL, std::chrono::seconds(5));
  std::error_code ec;
  fs::remove(log_file_, ec);
}

bool VezaProcess::Start(std::chrono::milliseconds timeout) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    if (!work_dir_.empty() && chdir(work_dir_.c_str()) != 0) _exit(127);
    for (const auto& e : env_) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary_.c_str()));
    for (auto& a : args_) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  static const std::regex kListening(R"re("msg":"listening".*"port":(\d+))re");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string log = Log();
    if (std::regex_search(log, m, kListening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[1]));
      return true;
    }
    if (!Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool VezaProcess::Running() {
  if (pid_ <= 0 || exit_status_ != -1) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

int VezaProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int VezaProcess::Stop(int signo, std::chrono::milliseconds timeout) {
  if (!Running()) return exit_status_;
  kill(pid_, signo);
  int status = Wait(timeout);
  if (status == -1) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
    return -1;
  }
  return status;
}

std::string VezaProcess::Log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace veza::test
