#include "api/http/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace veza::http {

void Metrics::ObserveRequest(std::string_view route, std::string_view method, unsigned status,
                             double seconds) {
  std::lock_guard lock(mu_);
  // Look up with views first: a known series (nearly every request) costs no allocation.
  auto it = series_.find(std::make_tuple(route, method, status));
  if (it == series_.end()) {
    it = series_.emplace(std::make_tuple(std::string(route), std::string(method), status), Series{}).first;
  }
  Series& s = it->second;
  s.count++;
  s.sum += seconds;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      s.buckets[i]++;
      break;
    }
  }
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::uint64_t ProcessResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::size_t OpenFileDescriptors() {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

std::string Metrics::Render() const {
  std::ostringstream out;
  out << "# HELP veza_http_requests_total HTTP requests by route, method and status.\n"
         "# TYPE veza_http_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    out << "veza_http_requests_total{route=\"" << EscapeLabel(route) << "\",method=\"" << method
        << "\",status=\"" << status << "\"} " << s.count << "\n";
  }
  out << "# HELP veza_http_request_duration_seconds HTTP request latency from first header byte "
         "to response written.\n"
         "# TYPE veza_http_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    std::string labels = "route=\"" + EscapeLabel(route) + "\",method=\"" + method +
                         "\",status=\"" + std::to_string(status) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += s.buckets[i];
      out << "veza_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kLatencyBuckets[i]
          << "\"} " << cumulative << "\n";
    }
    out << "veza_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << s.count
        << "\n";
    out << "veza_http_request_duration_seconds_sum{" << labels << "} " << s.sum << "\n";
    out << "veza_http_request_duration_seconds_count{" << labels << "} " << s.count << "\n";
  }
  out << "# HELP veza_http_requests_in_flight Requests being handled now.\n"
         "# TYPE veza_http_requests_in_flight gauge\n"
         "veza_http_requests_in_flight " << in_flight_.load() << "\n"
      << "# HELP veza_http_connections_open Open client connections.\n"
         "# TYPE veza_http_connections_open gauge\n"
         "veza_http_connections_open " << connections_.load() << "\n";
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
               static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
         "# TYPE process_resident_memory_bytes gauge\n"
         "process_resident_memory_bytes " << ProcessResidentBytes() << "\n"
      << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
         "# TYPE process_cpu_seconds_total counter\n"
         "process_cpu_seconds_total " << cpu << "\n"
      << "# HELP process_open_fds Number of open file descriptors.\n"
         "# TYPE process_open_fds gauge\n"
         "process_open_fds " << OpenFileDescriptors() << "\n";
  for (const auto& g : gauges_) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n"
        << g.name << " " << g.read() << "\n";
  }
  return out.str();
}

}  // namespace veza::http
