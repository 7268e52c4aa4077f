#pragma once
// Routes by method and path pattern. Patterns are literal segments and "{name}" parameters
// ("/api/v1/users/{username}"), plus an optional trailing "{name...}" that takes the rest.
// Literal segments win over parameters. HEAD falls back to the GET route.
// Find does not allocate unless the path is known with other methods only (405).
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/message.h"

namespace veza::http {

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Throws std::invalid_argument for a malformed or duplicate pattern (a programming error).
  // A pattern the admission rule refuses is not added.
  void Add(bhttp::verb method, std::string_view pattern, Handler handler, RouteOptions options = {});
  // Until the next call, Add keeps only the routes whose pattern `admit` accepts (a node's
  // --roles decide which routes it serves); nullptr admits everything again.
  void AdmitOnly(std::function<bool(std::string_view pattern)> admit) { admit_ = std::move(admit); }

  struct Match {
    const Handler* handler = nullptr;
    const RouteOptions* options = nullptr;  // with handler
    std::string_view pattern;
    PathParams params;
    // When handler is null: true if the path exists with other methods (405), listed here.
    std::string allow;
  };
  // Views in params point into path and into the router; path must outlive the match.
  Match Find(bhttp::verb method, std::string_view path) const;
  // Every registered "METHOD pattern", for the OpenAPI coverage test.
  std::vector<std::string> Routes() const;

 private:
  struct Node;
  struct Endpoint;
  struct Allowed;
  bool Walk(const Node& node, std::string_view path, std::size_t pos, bhttp::verb method, Match& match,
            Allowed& allowed) const;
  std::unique_ptr<Node> root_;
  std::vector<std::string> routes_;
  std::function<bool(std::string_view)> admit_;
};

}  // namespace veza::http
