#pragma once
// Small blocking HTTP/1.1 clients for tests: one request per connection, or raw bytes.
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace veza::test {

struct HttpResponse {
  int status = 0;  // 0 when the connection failed or closed before a response
  std::map<std::string, std::string> headers;  // lower-case names
  std::vector<std::string> set_cookies;  // every Set-Cookie header, in order
  std::string body;
  std::string error;

  // The value the response sets for cookie `name` ("" if it sets none), and its whole header.
  std::string Cookie(const std::string& name) const {
    std::string line = SetCookie(name);
    if (line.empty()) return "";
    std::size_t start = name.size() + 1, end = line.find(';');
    return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  std::string SetCookie(const std::string& name) const {
    for (const std::string& c : set_cookies) {
      if (c.compare(0, name.size() + 1, name + "=") == 0) return c;
    }
    return "";
  }

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpRequestSpec {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

HttpResponse Http(const std::string& host, unsigned short port, const HttpRequestSpec& spec,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

inline HttpResponse Get(unsigned short port, const std::string& target,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  return Http("127.0.0.1", port, {"GET", target, "", std::move(headers)});
}

// Sends bytes (possibly in pieces with pauses) and returns everything the server sent back
// until it closed the connection or the timeout passed.
struct RawExchange {
  std::string received;
  bool closed_by_server = false;
  std::chrono::milliseconds elapsed{0};
};
RawExchange SendRaw(unsigned short port, const std::vector<std::string>& pieces,
                    std::chrono::milliseconds pause_between, std::chrono::milliseconds timeout);

}  // namespace veza::test
