#include "backends/media_ffmpeg/ffmpeg_media_processor.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string_view>
#include <system_error>
#include <vector>

extern "C" {
#include <libavutil/log.h>
}

#include "backends/media_ffmpeg/media_pipeline.h"
#include "backends/media_ffmpeg/report_json.h"
#include "base/log.h"

namespace veza {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxReplyBytes = 8 << 20;  // a report lists a few hundred files at most
constexpr std::size_t kStderrTailBytes = 4096;
constexpr int kProgressFd = 3;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct PipePair {
  Fd read, write;
};

Result<PipePair> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return Unavailable(std::string("media worker: pipe: ") + std::strerror(errno));
  return PipePair{Fd(fds[0]), Fd(fds[1])};
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

double CpuSeconds(const rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct ChildOutcome {
  int status = 0;
  rusage usage{};
  bool timed_out = false;
  std::string reply;
  std::string stderr_tail;
};

class FfmpegMediaProcessor final : public MediaProcessor {
 public:
  explicit FfmpegMediaProcessor(FfmpegMediaOptions options) : options_(std::move(options)) {}

  Result<MediaFormat> Probe(const fs::path& input) override {
    VEZA_ASSIGN_OR_RETURN(std::string reply,
                          Run({"probe", "--", fs::absolute(input).string()}, nullptr));
    return media::DecodeFormatReply(reply);
  }

  Result<MediaReport> Process(const fs::path& input, const fs::path& out_dir,
                              const MediaProgress& progress) override {
    VEZA_ASSIGN_OR_RETURN(std::string reply, Run({"process", "--", fs::absolute(input).string(),
                                                  fs::absolute(out_dir).string()},
                                                 &progress));
    return media::DecodeReportReply(reply);
  }

 private:
  // Runs the worker and returns its stdout when it exited normally.
  Result<std::string> Run(std::vector<std::string> op_args, const MediaProgress* progress) {
    std::vector<std::string> args = {
        options_.worker_binary.string(), "media-worker",
        "--media-max-duration=" + std::to_string(options_.max_duration.count() / 1000.0),
        "--progress-fd=" + std::to_string(kProgressFd)};
    args.insert(args.end(), op_args.begin(), op_args.end());
    VEZA_ASSIGN_OR_RETURN(ChildOutcome child, Spawn(args, progress));
    return Judge(child);
  }

  Result<ChildOutcome> Spawn(const std::vector<std::string>& args, const MediaProgress* progress) {
    // Everything the child needs is prepared before fork: after it, only async-signal-safe
    // calls, since other threads of this process may hold locks.
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    static const char* const kEnv[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", nullptr};
    Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (devnull.get() < 0) return Unavailable("media worker: cannot open /dev/null");
    VEZA_ASSIGN_OR_RETURN(PipePair out, MakePipe());
    VEZA_ASSIGN_OR_RETURN(PipePair err, MakePipe());
    VEZA_ASSIGN_OR_RETURN(PipePair prog, MakePipe());
    const rlim_t cpu = static_cast<rlim_t>(options_.cpu_time.count());
    const rlimit cpu_limit{cpu, cpu + 1};  // SIGXCPU at the soft limit, SIGKILL a second later
    const rlimit mem_limit{static_cast<rlim_t>(options_.memory_mb) << 20,
                           static_cast<rlim_t>(options_.memory_mb) << 20};
    const rlimit out_limit{static_cast<rlim_t>(options_.max_output_mb) << 20,
                           static_cast<rlim_t>(options_.max_output_mb) << 20};
    const rlimit no_core{0, 0};
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) return Unavailable(std::string("media worker: fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the server
      if (::getppid() != parent) ::_exit(127);
      if (::dup2(devnull.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0 ||
          ::dup2(err.write.get(), 2) < 0 || ::dup2(prog.write.get(), kProgressFd) < 0) {
        ::_exit(127);
      }
      ::syscall(SYS_close_range, kProgressFd + 1, ~0U, 0);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::setrlimit(RLIMIT_CPU, &cpu_limit);
      ::setrlimit(RLIMIT_AS, &mem_limit);
      ::setrlimit(RLIMIT_FSIZE, &out_limit);
      ::setrlimit(RLIMIT_CORE, &no_core);  // a crash must not dump user audio to disk
      ::execve(argv[0], argv.data(), const_cast<char* const*>(kEnv));
      ::_exit(127);
    }
    out.write.Reset();
    err.write.Reset();
    prog.write.Reset();
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

    ChildOutcome child;
    const auto deadline = Clock::now() + options_.timeout;
    std::string progress_line;
    bool exited = pidfd.get() < 0;  // without a pidfd, the pipes' EOF stands for the exit
    Fd* pipes[] = {&out.read, &err.read, &prog.read};
    char buf[65536];
    while (true) {
      bool pipes_open = out.read.get() >= 0 || err.read.get() >= 0 || prog.read.get() >= 0;
      if (exited && !pipes_open) break;
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        child.timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
      pollfd fds[4];
      int n = 0;
      for (Fd* p : pipes) fds[n++] = pollfd{p->get(), POLLIN, 0};  // fd -1 is skipped by poll
      fds[n++] = pollfd{exited ? -1 : pidfd.get(), POLLIN, 0};
      int ready =
          ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left, 1 << 30)));
      if (ready < 0 && errno != EINTR) {
        ::kill(pid, SIGKILL);
        break;
      }
      for (int i = 0; i < 3; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          pipes[i]->Reset();
          continue;
        }
        std::string_view chunk(buf, static_cast<std::size_t>(got));
        if (i == 0) {
          if (child.reply.size() + chunk.size() <= kMaxReplyBytes) child.reply += chunk;
        } else if (i == 1) {
          child.stderr_tail += chunk;
          if (child.stderr_tail.size() > kStderrTailBytes) {
            child.stderr_tail.erase(0, child.stderr_tail.size() - kStderrTailBytes);
          }
        } else {
          progress_line += chunk;
          std::size_t nl;
          while ((nl = progress_line.find('\n')) != std::string::npos) {
            int percent = std::atoi(progress_line.substr(0, nl).c_str());
            progress_line.erase(0, nl + 1);
            if (progress != nullptr && *progress) (*progress)(percent);
          }
          if (progress_line.size() > 64) progress_line.clear();
        }
      }
      if (fds[3].fd >= 0 && fds[3].revents != 0) exited = true;
    }
    // Always reaped, whatever happened above: no zombies.
    while (::wait4(pid, &child.status, 0, &child.usage) < 0 && errno == EINTR) {
    }
    return child;
  }

  Result<std::string> Judge(ChildOutcome& child) {
    auto fail = [&](Error e) {
      log::Warn("media worker failed", {{"error", e.message}, {"stderr", child.stderr_tail}});
      return e;
    };
    if (child.timed_out) {
      return fail(Timeout("media processing took longer than the " +
                          media::DescribeDuration(options_.timeout) + " limit"));
    }
    if (WIFSIGNALED(child.status)) {
      int sig = WTERMSIG(child.status);
      bool cpu_spent = CpuSeconds(child.usage) >= static_cast<double>(options_.cpu_time.count());
      if (sig == SIGXCPU || (sig == SIGKILL && cpu_spent)) {
        return fail(Timeout("media processing used more than its " +
                            std::to_string(options_.cpu_time.count()) + " s CPU-time limit"));
      }
      if (sig == SIGXFSZ) {
        return fail(Timeout("an output file passed the " + std::to_string(options_.max_output_mb) +
                            " MB limit"));
      }
      return fail(Unavailable("media worker killed by " + SignalName(sig)));
    }
    int code = WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1;
    if (code == 127)
      return fail(Internal("media worker could not start " + options_.worker_binary.string()));
    if (code != 0) return fail(Internal("media worker exited with status " + std::to_string(code)));
    return std::move(child.reply);
  }

  FfmpegMediaOptions options_;
};

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::unique_ptr<MediaProcessor>> OpenFfmpegMediaProcessor(
    const FfmpegMediaOptions& options) {
  if (options.worker_binary != "/proc/self/exe" &&
      ::access(options.worker_binary.c_str(), X_OK) != 0) {
    return InvalidArgument("media worker binary " + options.worker_binary.string() +
                           " is not executable");
  }
  if (options.cpu_time.count() < 1)
    return InvalidArgument("media CPU-time limit must be at least 1 s");
  // The worker maps FFmpeg and its codec libraries (about 200 MiB of address space) first.
  if (options.memory_mb < 256) return InvalidArgument("media memory limit must be at least 256 MB");
  if (options.max_output_mb < 1) return InvalidArgument("media output limit must be at least 1 MB");
  if (options.timeout.count() <= 0) return InvalidArgument("media timeout must be positive");
  if (options.max_duration.count() <= 0)
    return InvalidArgument("media maximum duration must be positive");
  return std::unique_ptr<MediaProcessor>(std::make_unique<FfmpegMediaProcessor>(options));
}

int RunMediaWorker(const MediaWorkerRequest& request) {
  av_log_set_level(AV_LOG_ERROR);
  // Each thread's malloc arena reserves 64 MiB of address space; under RLIMIT_AS that is
  // budget better left to the data.
  ::mallopt(M_ARENA_MAX, 2);
  ::signal(SIGPIPE, SIG_IGN);  // a parent gone away must not turn a write into a crash
  media::PipelineLimits limits{request.max_duration};
  std::string reply;
  try {
    if (request.op == "probe") {
      auto format = media::ProbeAudio(request.input, limits);
      reply =
          format.ok() ? media::EncodeFormatReply(*format) : media::EncodeErrorReply(format.error());
    } else if (request.op == "process") {
      int fd = request.progress_fd;
      MediaProgress progress = [fd](int percent) {
        if (fd >= 0) WriteAll(fd, std::to_string(percent) + "\n");
      };
      auto report = media::ProcessAudio(request.input, request.out_dir, limits, progress);
      reply =
          report.ok() ? media::EncodeReportReply(*report) : media::EncodeErrorReply(report.error());
    } else {
      WriteAll(2, "media-worker: unknown operation '" + request.op + "' (probe or process)\n");
      return 2;
    }
  } catch (const std::bad_alloc&) {
    reply = media::EncodeErrorReply(Timeout("out of memory: the media memory limit was reached"));
  } catch (const std::system_error&) {  // a thread could not start: no address space left
    reply = media::EncodeErrorReply(Timeout("out of memory: the media memory limit was reached"));
  }
  WriteAll(1, reply + "\n");
  return 0;
}

}  // namespace veza
