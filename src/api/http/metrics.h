#pragma once
// Prometheus metrics of the HTTP layer and the process, rendered in the text exposition format.
// Request series are keyed by route pattern (never the raw path) so cardinality stays bounded.
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace veza::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  void ObserveRequest(std::string_view route, std::string_view method, unsigned status,
                      double seconds);
  void RequestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  std::int64_t OpenConnections() const { return connections_.load(std::memory_order_relaxed); }
  std::int64_t InFlight() const { return in_flight_.load(std::memory_order_relaxed); }

  // A gauge read when /metrics is scraped (e.g. a backend's health or a pool's size).
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  std::string Render() const;

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, Series, std::less<>> series_;
  std::vector<Gauge> gauges_;
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> connections_{0};
};

// Resident set size of this process in bytes (from /proc/self/statm).
std::uint64_t ProcessResidentBytes();

}  // namespace veza::http
