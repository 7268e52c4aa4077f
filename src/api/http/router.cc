#include "api/http/router.h"

#include <algorithm>
#include <stdexcept>

namespace veza::http {

struct Router::Endpoint {
  bhttp::verb method;
  Handler handler;
  RouteOptions options;
};

struct Router::Node {
  // Few children per node: a sorted vector beats a map and keeps lookups allocation-free.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;  // "{name}"
  std::string param_name;
  std::string rest_name;  // "{name...}" at the end, if any
  std::vector<Endpoint> rest_endpoints;
  std::vector<Endpoint> endpoints;
  std::string pattern;
  std::string rest_pattern;

  const Node* Literal(std::string_view seg) const {
    auto it = std::lower_bound(literals.begin(), literals.end(), seg,
                               [](const auto& entry, std::string_view s) { return entry.first < s; });
    return it != literals.end() && it->first == seg ? it->second.get() : nullptr;
  }
  Node& AddLiteral(std::string_view seg) {
    auto it = std::lower_bound(literals.begin(), literals.end(), seg,
                               [](const auto& entry, std::string_view s) { return entry.first < s; });
    if (it == literals.end() || it->first != seg) it = literals.emplace(it, std::string(seg), std::make_unique<Node>());
    return *it->second;
  }
};

struct Router::Allowed {
  const std::vector<Endpoint>* endpoints = nullptr;
  std::string_view pattern;
};

namespace {

// The endpoint for method, with HEAD falling back to GET.
template <class Endpoint>
const Endpoint* Pick(const std::vector<Endpoint>& endpoints, bhttp::verb method) {
  const Endpoint* get = nullptr;
  for (const auto& e : endpoints) {
    if (e.method == method) return &e;
    if (e.method == bhttp::verb::get) get = &e;
  }
  return method == bhttp::verb::head ? get : nullptr;
}

std::vector<std::string_view> SplitPattern(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t i = 1;
  while (i <= pattern.size()) {
    std::size_t j = pattern.find('/', i);
    if (j == std::string_view::npos) j = pattern.size();
    out.push_back(pattern.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(bhttp::verb method, std::string_view pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern[0] != '/') throw std::invalid_argument("route must start with /");
  if (admit_ && !admit_(pattern)) return;
  Node* node = root_.get();
  auto segments = SplitPattern(pattern);
  std::vector<Endpoint>* endpoints = nullptr;
  for (std::size_t i = 0; i < segments.size() && !endpoints; ++i) {
    std::string_view seg = segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (name.size() > 3 && name.ends_with("...")) {
        if (i + 1 != segments.size()) throw std::invalid_argument("{rest...} must be last");
        node->rest_name = name.substr(0, name.size() - 3);
        node->rest_pattern = std::string(pattern);
        endpoints = &node->rest_endpoints;
        break;
      }
      if (!node->param) node->param = std::make_unique<Node>();
      if (!node->param_name.empty() && node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names at " + std::string(pattern));
      }
      node->param_name = name;
      node = node->param.get();
    } else {
      node = &node->AddLiteral(seg);
    }
  }
  if (!endpoints) {
    endpoints = &node->endpoints;
    node->pattern = std::string(pattern);
  }
  for (const auto& e : *endpoints) {
    if (e.method == method) throw std::invalid_argument("duplicate route " + std::string(pattern));
  }
  endpoints->push_back(Endpoint{method, std::move(handler), options});
  routes_.push_back(std::string(bhttp::to_string(method)) + " " + std::string(pattern));
}

// Depth first: literal, then parameter, then rest; backtracks on dead ends. `pos` is the
// offset of the current segment in path. `allowed` remembers the first node that knows the
// path under other methods, for 405.
bool Router::Walk(const Node& node, std::string_view path, std::size_t pos, bhttp::verb method, Match& match,
                  Allowed& allowed) const {
  if (pos > path.size()) {  // every segment consumed
    if (node.endpoints.empty()) return false;
    if (const Endpoint* e = Pick(node.endpoints, method)) {
      match.handler = &e->handler;
      match.options = &e->options;
      match.pattern = node.pattern;
      return true;
    }
    if (!allowed.endpoints) allowed = {&node.endpoints, node.pattern};
    return false;
  }
  std::size_t end = path.find('/', pos);
  if (end == std::string_view::npos) end = path.size();
  std::string_view seg = path.substr(pos, end - pos);
  if (const Node* child = node.Literal(seg)) {
    if (Walk(*child, path, end + 1, method, match, allowed)) return true;
  }
  if (node.param && !seg.empty()) {
    match.params.emplace_back(node.param_name, seg);
    if (Walk(*node.param, path, end + 1, method, match, allowed)) return true;
    match.params.pop_back();
  }
  if (!node.rest_endpoints.empty()) {
    if (const Endpoint* e = Pick(node.rest_endpoints, method)) {
      match.params.emplace_back(node.rest_name, path.substr(pos));
      match.handler = &e->handler;
      match.options = &e->options;
      match.pattern = node.rest_pattern;
      return true;
    }
    if (!allowed.endpoints) allowed = {&node.rest_endpoints, node.rest_pattern};
  }
  return false;
}

Router::Match Router::Find(bhttp::verb method, std::string_view path) const {
  Match match;
  if (path.empty() || path[0] != '/') return match;
  Allowed allowed;
  if (Walk(*root_, path, 1, method, match, allowed)) return match;
  match.params.clear();
  if (allowed.endpoints) {
    match.pattern = allowed.pattern;
    for (const auto& e : *allowed.endpoints) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += std::string(bhttp::to_string(e.method));
      if (e.method == bhttp::verb::get) match.allow += ", HEAD";
    }
  }
  return match;
}

std::vector<std::string> Router::Routes() const { return routes_; }

}  // namespace veza::http
