// chat_load: a lean Beast WebSocket load generator for veza's chat protocol (docs/websocket.md)
// and for the Node `ws` peer in bench/chat_fanout/node_server.js, which speaks the same subset.
//
// fanout: opens rooms x members sockets (socket i: room i % rooms, user i / rooms % tokens),
//   each with a fresh ticket (POST /api/v1/chat/ticket), joins its room, then steps the offered
//   `send` rate up. Every `message` frame carries its send time (CLOCK_MONOTONIC ns) in the body,
//   so the delivery latency of every copy is measured. One line per step:
//     step offered=<sends/s> sent=<n> delivered=<msgs/s> p50_ms=<x> p99_ms=<x> errors=<n>
// idle: opens --connections authenticated sockets (hello received, nothing joined), prints
//   "ready <n> sockets ..." and holds them (answering pings) until it is killed.
//
// Several threads, one io_context each; --bind picks the loopback source address so several
// processes can open more sockets than one address has ephemeral ports.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Options {
  std::string mode = "fanout";
  std::string host = "127.0.0.1";
  std::string bind;
  unsigned short port = 0;
  std::vector<std::string> tokens;
  std::vector<std::string> rooms;
  int members = 50;
  int connections = 0;  // idle mode
  int threads = 2;
  int setup_parallel = 16;  // handshakes in flight per thread
  std::vector<double> rates;
  double warm_seconds = 1;
  double step_seconds = 3;
};

// Latency histogram in 10 µs buckets up to 1 s; the last bucket holds everything slower.
constexpr int kBuckets = 100'001;
constexpr std::int64_t kBucketNs = 10'000;

struct Stats {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> errors{0};
  std::unique_ptr<std::atomic<std::uint32_t>[]> histogram{new std::atomic<std::uint32_t>[kBuckets]};
  Stats() { Reset(); }
  void Reset() {
    delivered = 0;
    sent = 0;
    errors = 0;
    for (int i = 0; i < kBuckets; ++i) histogram[i].store(0, std::memory_order_relaxed);
  }
};

struct Conn {
  explicit Conn(asio::io_context& io) : ws(io) {}
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer in;
  std::string out;
  bool writing = false;
  int pending = 0;  // sends asked for while a write was in flight
  std::string room;
};

std::mutex g_error_mu;
std::string g_first_error;

void NoteError(std::string_view what) {
  std::lock_guard lock(g_error_mu);
  if (g_first_error.empty()) g_first_error = std::string(what.substr(0, 300));
}

class Worker {
 public:
  Worker(const Options& o, int index) : o_(o), index_(index) {}

  asio::io_context io;
  Stats stats;
  std::vector<std::unique_ptr<Conn>> conns;
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::atomic<double> rate{0};  // sends per second from this worker

  // Socket numbers this worker opens: i with i % threads == index.
  void Start(int total) {
    for (int i = index_; i < total; i += o_.threads) wanted_.push_back(i);
    for (int k = 0; k < o_.setup_parallel; ++k) {
      asio::co_spawn(io, SetupLoop(), asio::detached);
    }
  }

  void StartSending() {
    send_origin_ = NowNs();
    sent_total_ = 0;
    Tick();
  }

 private:
  asio::awaitable<void> Connect(tcp::socket& s) {
    tcp::endpoint target(asio::ip::make_address(o_.host), o_.port);
    s.open(tcp::v4());
    if (!o_.bind.empty()) s.bind(tcp::endpoint(asio::ip::make_address(o_.bind), 0));
    s.set_option(tcp::no_delay(true));
    co_await s.async_connect(target, asio::use_awaitable);
  }

  asio::awaitable<std::string> Ticket(tcp::socket& http_socket, beast::flat_buffer& buf, const std::string& token) {
    http::request<http::empty_body> req(http::verb::post, "/api/v1/chat/ticket", 11);
    req.set(http::field::host, o_.host);
    req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::content_length, "0");
    co_await http::async_write(http_socket, req, asio::use_awaitable);
    http::response<http::string_body> res;
    co_await http::async_read(http_socket, buf, res, asio::use_awaitable);
    if (res.result() != http::status::ok) throw std::runtime_error("ticket: HTTP " + std::to_string(res.result_int()) + " " + res.body());
    const std::string& b = res.body();
    auto at = b.find("\"ticket\":\"");
    if (at == std::string::npos) throw std::runtime_error("ticket: no ticket in " + b);
    at += 10;
    co_return b.substr(at, b.find('"', at) - at);
  }

  asio::awaitable<void> SetupLoop() {
    tcp::socket http_socket(io);
    beast::flat_buffer http_buf;
    try {
      co_await Connect(http_socket);
      while (next_ < wanted_.size()) {
        int i = wanted_[next_++];
        const std::string& token = o_.tokens[(o_.rooms.empty() ? i : i / int(o_.rooms.size())) % o_.tokens.size()];
        std::string ticket = co_await Ticket(http_socket, http_buf, token);
        auto c = std::make_unique<Conn>(io);
        co_await Connect(c->ws.next_layer());
        c->ws.set_option(websocket::stream_base::decorator([](websocket::request_type& r) {
          r.set(http::field::user_agent, "veza-chat-load");
        }));
        std::string target = "/ws?ticket=" + ticket;
        co_await c->ws.async_handshake(o_.host, target, asio::use_awaitable);
        c->ws.text(true);
        co_await c->ws.async_read(c->in, asio::use_awaitable);  // hello
        c->in.clear();
        if (!o_.rooms.empty()) {
          c->room = o_.rooms[i % o_.rooms.size()];
          std::string join = R"({"type":"join","room":")" + c->room + R"("})";
          co_await c->ws.async_write(asio::buffer(join), asio::use_awaitable);
          for (;;) {
            co_await c->ws.async_read(c->in, asio::use_awaitable);
            std::string_view f(static_cast<const char*>(c->in.data().data()), c->in.size());
            bool joined = f.find(R"("type":"joined")") != std::string_view::npos;
            if (f.find(R"("type":"error")") != std::string_view::npos) throw std::runtime_error(std::string(f));
            c->in.clear();
            if (joined) break;
          }
        }
        Conn* raw = c.get();
        conns.push_back(std::move(c));
        asio::co_spawn(io, ReadLoop(raw), asio::detached);
        ++ready;
      }
    } catch (const std::exception& e) {
      NoteError(e.what());
      ++failed;
    }
  }

  asio::awaitable<void> ReadLoop(Conn* c) {
    for (;;) {
      auto [ec, n] = co_await c->ws.async_read(c->in, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!stopping_) {
          NoteError("read: " + ec.message());
          stats.errors.fetch_add(1, std::memory_order_relaxed);
        }
        co_return;
      }
      std::string_view f(static_cast<const char*>(c->in.data().data()), c->in.size());
      if (f.substr(0, 40).find(R"("type":"message")") != std::string_view::npos) {
        auto at = f.find(R"("body":"t)");
        if (at != std::string_view::npos) {
          std::int64_t sent_ns = 0;
          for (std::size_t k = at + 9; k < f.size() && f[k] >= '0' && f[k] <= '9'; ++k) sent_ns = sent_ns * 10 + (f[k] - '0');
          std::int64_t bucket = std::clamp<std::int64_t>((NowNs() - sent_ns) / kBucketNs, 0, kBuckets - 1);
          stats.histogram[bucket].fetch_add(1, std::memory_order_relaxed);
          stats.delivered.fetch_add(1, std::memory_order_relaxed);
        }
      } else if (f.substr(0, 40).find(R"("type":"error")") != std::string_view::npos) {
        NoteError(f);
        stats.errors.fetch_add(1, std::memory_order_relaxed);
      }
      c->in.clear();
    }
  }

  void Write(Conn* c) {
    c->writing = true;
    c->out = R"({"type":"send","room":")" + c->room + R"(","client_id":"c)" + std::to_string(index_) + "-" +
             std::to_string(++client_seq_) + R"(","body":"t)" + std::to_string(NowNs()) + R"("})";
    c->ws.async_write(asio::buffer(c->out), [this, c](beast::error_code ec, std::size_t) {
      c->writing = false;
      if (ec) {
        NoteError("write: " + ec.message());
        stats.errors.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (c->pending > 0) {
        --c->pending;
        Write(c);
      }
    });
    stats.sent.fetch_add(1, std::memory_order_relaxed);
  }

  // Every millisecond, sends what the offered rate says is due since the rate was set.
  void Tick() {
    double r = rate.load();
    if (r != last_rate_) {
      last_rate_ = r;
      send_origin_ = NowNs();
      sent_total_ = 0;
    }
    std::int64_t due = std::int64_t(r * double(NowNs() - send_origin_) / 1e9) - sent_total_;
    for (; due > 0 && !conns.empty(); --due) {
      Conn* c = conns[cursor_++ % conns.size()].get();
      ++sent_total_;
      if (c->writing) {
        ++c->pending;
      } else {
        Write(c);
      }
    }
    timer_.expires_after(std::chrono::milliseconds(1));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) Tick();
    });
  }

 public:
  bool stopping_ = false;

 private:
  const Options& o_;
  int index_;
  std::vector<int> wanted_;
  std::size_t next_ = 0;
  std::uint64_t client_seq_ = 0;
  std::size_t cursor_ = 0;
  double last_rate_ = -1;
  std::int64_t send_origin_ = 0;
  std::int64_t sent_total_ = 0;
  asio::steady_timer timer_{io};
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<double> SplitRates(const std::string& s) {
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(std::stod(s.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

void Usage() {
  std::cerr << "usage: chat_load --mode fanout|idle --host H --port P --tokens FILE [--rooms FILE --members 50]\n"
               "                 [--connections N] [--bind ADDR] [--threads T] [--rates r1,r2,...]\n"
               "                 [--warm SECONDS] [--step SECONDS]\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        return argv[++i];
      };
      if (a == "--mode") o.mode = next();
      else if (a == "--host") o.host = next();
      else if (a == "--port") o.port = static_cast<unsigned short>(std::stoi(next()));
      else if (a == "--bind") o.bind = next();
      else if (a == "--tokens") o.tokens = ReadLines(next());
      else if (a == "--rooms") o.rooms = ReadLines(next());
      else if (a == "--members") o.members = std::stoi(next());
      else if (a == "--connections") o.connections = std::stoi(next());
      else if (a == "--threads") o.threads = std::stoi(next());
      else if (a == "--rates") o.rates = SplitRates(next());
      else if (a == "--warm") o.warm_seconds = std::stod(next());
      else if (a == "--step") o.step_seconds = std::stod(next());
      else {
        Usage();
        return 2;
      }
    }
    if (o.port == 0 || o.tokens.empty() || (o.mode == "fanout" && o.rooms.empty())) {
      Usage();
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "chat_load: " << e.what() << "\n";
    return 2;
  }
  if (o.mode == "idle") o.rooms.clear();
  int total = o.mode == "fanout" ? int(o.rooms.size()) * o.members : o.connections;

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(o, t));
  for (auto& w : workers) w->Start(total);
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w] {
      auto guard = asio::make_work_guard(w->io);
      w->io.run();
    });
  }
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    int ready = 0, failed = 0;
    for (auto& w : workers) {
      ready += w->ready;
      failed += w->failed;
    }
    if (failed > 0) {
      std::lock_guard lock(g_error_mu);
      std::fprintf(stderr, "chat_load: setup failed after %d sockets: %s\n", ready, g_first_error.c_str());
      std::_Exit(1);
    }
    if (ready == total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("ready %d sockets in %.1f s\n", total, setup_s);
  std::fflush(stdout);

  if (o.mode == "idle") {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // until killed
  }

  for (auto& w : workers) asio::post(w->io, [&w] { w->StartSending(); });
  auto delivered_so_far = [&] {
    std::uint64_t n = 0;
    for (auto& w : workers) n += w->stats.delivered;
    return n;
  };
  double best_delivered = 0;
  int steps_without_gain = 0;
  for (double offered : o.rates) {
    // Drain what the previous step left queued (up to 5 s), so each step starts empty.
    for (auto& w : workers) w->rate = 0;
    for (int k = 0; k < 50; ++k) {
      std::uint64_t before = delivered_so_far();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (delivered_so_far() == before) break;
    }
    for (auto& w : workers) w->rate = offered / o.threads;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warm_seconds));
    for (auto& w : workers) w->stats.Reset();
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.step_seconds));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::uint64_t delivered = 0, sent = 0, errors = 0;
    std::vector<std::uint64_t> hist(kBuckets, 0);
    for (auto& w : workers) {
      delivered += w->stats.delivered;
      sent += w->stats.sent;
      errors += w->stats.errors;
      for (int b = 0; b < kBuckets; ++b) hist[b] += w->stats.histogram[b].load(std::memory_order_relaxed);
    }
    std::uint64_t counted = 0;
    for (auto h : hist) counted += h;
    auto quantile = [&](double q) {
      std::uint64_t want = std::uint64_t(q * double(counted)), seen = 0;
      for (int b = 0; b < kBuckets; ++b) {
        seen += hist[b];
        if (seen > want) return double(b + 1) * kBucketNs / 1e6;
      }
      return double(kBuckets) * kBucketNs / 1e6;
    };
    std::printf("step offered=%.0f sent=%.0f delivered=%.0f p50_ms=%.2f p99_ms=%.2f errors=%llu\n", offered,
                double(sent) / secs, double(delivered) / secs, counted ? quantile(0.50) : 0.0,
                counted ? quantile(0.99) : 0.0, static_cast<unsigned long long>(errors));
    std::fflush(stdout);
    if (errors > 0) {
      std::lock_guard lock(g_error_mu);
      std::fprintf(stderr, "chat_load: first error: %s\n", g_first_error.c_str());
    }
    // Saturated: two steps in a row without 5 % more delivered; higher rates only queue more.
    double rate_delivered = double(delivered) / secs;
    steps_without_gain = rate_delivered > best_delivered * 1.05 ? 0 : steps_without_gain + 1;
    best_delivered = std::max(best_delivered, rate_delivered);
    if (steps_without_gain >= 2) break;
  }
  std::_Exit(0);
}
