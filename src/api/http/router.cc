#include "api/http/router.h"

#include <stdexcept>

namespace veza::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // "{name}"
  std::string param_name;
  std::string rest_name;        // "{name...}" at the end, if any
  std::map<bhttp::verb, Handler> rest_handlers;
  std::map<bhttp::verb, Handler> handlers;
  std::string pattern;
};

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(bhttp::verb method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern[0] != '/') throw std::invalid_argument("route must start with /");
  Node* node = root_.get();
  auto segments = Split(pattern);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::string_view seg = segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (i + 1 != segments.size()) throw std::invalid_argument("{rest...} must be last");
        node->rest_name = name.substr(0, name.size() - 3);
        node->rest_handlers[method] = std::move(handler);
        node->pattern = std::string(pattern);
        routes_.push_back(std::string(bhttp::to_string(method)) + " " + std::string(pattern));
        return;
      }
      if (!node->param) node->param = std::make_unique<Node>();
      if (!node->param_name.empty() && node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names at " + std::string(pattern));
      }
      node->param_name = name;
      node = node->param.get();
    } else {
      auto& child = node->literals[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  if (node->handlers.count(method)) {
    throw std::invalid_argument("duplicate route " + std::string(pattern));
  }
  node->handlers[method] = std::move(handler);
  node->pattern = std::string(pattern);
  routes_.push_back(std::string(bhttp::to_string(method)) + " " + std::string(pattern));
}

Router::Match Router::Find(bhttp::verb method, std::string_view path) const {
  Match match;
  auto segments = Split(path);
  // Depth-first: literal first, then parameter, then rest; backtracks on dead ends.
  struct Frame {
    const Node* node;
    std::size_t depth;
    std::size_t params;
  };
  const std::map<bhttp::verb, Handler>* found = nullptr;
  std::string_view found_pattern;

  auto pick = [&](const std::map<bhttp::verb, Handler>& handlers) -> const Handler* {
    auto it = handlers.find(method);
    if (it == handlers.end() && method == bhttp::verb::head) it = handlers.find(bhttp::verb::get);
    return it == handlers.end() ? nullptr : &it->second;
  };

  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::function<bool(const Node*, std::size_t)> walk = [&](const Node* node, std::size_t depth) -> bool {
    if (depth == segments.size()) {
      if (node->handlers.empty()) return false;
      if (const Handler* h = pick(node->handlers)) {
        match.handler = h;
        match.pattern = node->pattern;
        match.params = params;
        return true;
      }
      if (!found) {
        found = &node->handlers;
        found_pattern = node->pattern;
      }
      return false;
    }
    std::string_view seg = segments[depth];
    if (auto it = node->literals.find(seg); it != node->literals.end()) {
      if (walk(it->second.get(), depth + 1)) return true;
    }
    if (node->param && !seg.empty()) {
      params.emplace_back(node->param_name, seg);
      if (walk(node->param.get(), depth + 1)) return true;
      params.pop_back();
    }
    if (!node->rest_handlers.empty()) {
      std::size_t offset = static_cast<std::size_t>(seg.data() - path.data());
      std::string_view rest = path.substr(offset);
      if (const Handler* h = pick(node->rest_handlers)) {
        params.emplace_back(node->rest_name, rest);
        match.handler = h;
        match.pattern = node->pattern;
        match.params = params;
        return true;
      }
      if (!found) {
        found = &node->rest_handlers;
        found_pattern = node->pattern;
      }
    }
    return false;
  };
  if (walk(root_.get(), 0)) return match;
  if (found) {
    match.pattern = found_pattern;
    for (const auto& [verb, _] : *found) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += std::string(bhttp::to_string(verb));
      if (verb == bhttp::verb::get) match.allow += ", HEAD";
    }
  }
  return match;
}

std::vector<std::string> Router::Routes() const { return routes_; }

}  // namespace veza::http
