// libFuzzer target for what the server does with raw request bytes before a handler runs
// (src/api/http/server.cc): Beast's request parser with the server's header and body limits,
// fed whole and then in small pieces (a slow client), then the target split, routed by a Router
// holding every route of docs/api/openapi.yaml, the path percent-decoded the way the static file
// server does, the query parsed, and CORS (preflight and decoration) applied.
// Invariants: feeding in pieces parses the same message as feeding it whole; a route match's
// parameters are non-empty views into the path; nothing crashes, leaks or trips a sanitizer.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>

#include "api/http/cors.h"
#include "api/http/query_params.h"
#include "api/http/router.h"
#include "api/http/static_files.h"

namespace bhttp = boost::beast::http;
using namespace veza::http;

namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // HttpServerOptions defaults
constexpr std::size_t kMaxBodyBytes = 1 << 20;

Router& Routes() {
  static Router* router = [] {
    auto* r = new Router;
    std::ifstream in(VEZA_SOURCE_DIR "/docs/api/openapi.yaml");
    std::string line, path;
    bool in_paths = false;
    std::regex path_re(R"(^  (/[^:]*):\s*$)"), method_re(R"(^    (get|put|post|delete|patch|head|options):)");
    std::smatch m;
    while (std::getline(in, line)) {
      if (line.rfind("paths:", 0) == 0) { in_paths = true; continue; }
      if (!in_paths) continue;
      if (!line.empty() && line[0] != ' ' && line[0] != '#') break;
      if (std::regex_match(line, m, path_re)) { path = m[1]; continue; }
      if (!path.empty() && std::regex_search(line, m, method_re)) {
        try {
          r->Add(bhttp::string_to_verb(std::string(m[1]) == "get" ? "GET"
                                       : std::string(m[1]) == "put" ? "PUT"
                                       : std::string(m[1]) == "post" ? "POST"
                                       : std::string(m[1]) == "delete" ? "DELETE"
                                       : std::string(m[1]) == "patch" ? "PATCH"
                                       : std::string(m[1]) == "head" ? "HEAD" : "OPTIONS"),
                 path, [](RequestContext&) -> boost::asio::awaitable<Response> { co_return StringResponse{}; });
        } catch (const std::exception&) {
          // The router refuses what the document spells differently (e.g. a rest parameter).
        }
      }
    }
    if (r->Routes().size() < 50) __builtin_trap();  // the document moved: fix the path above
    return r;
  }();
  return *router;
}

const Cors& CorsPolicy() {
  static Cors cors([] {
    CorsOptions o;
    o.allowed_origins = {"https://app.example", "http://localhost:5173"};
    o.allow_credentials = true;
    return o;
  }());
  return cors;
}

// Parses `data` through Beast the way the server does; `piece` bytes at a time (0: all at once).
bool Parse(std::string_view data, std::size_t piece, bhttp::request_parser<bhttp::string_body>& parser) {
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  parser.eager(true);
  std::size_t pos = 0;
  std::string pending;
  while (pos < data.size() && !parser.is_done()) {
    std::size_t n = piece ? std::min(piece, data.size() - pos) : data.size() - pos;
    pending.append(data.substr(pos, n));
    pos += n;
    boost::beast::error_code ec;
    std::size_t used = parser.put(boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec == bhttp::error::need_more) continue;
    if (ec) return false;
    // Beast consumes only whole lines; loop until it takes nothing more from what is pending.
    while (!pending.empty() && !parser.is_done()) {
      used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == bhttp::error::need_more || used == 0) break;
      if (ec) return false;
    }
  }
  return parser.is_done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bhttp::request_parser<bhttp::string_body> whole;
  bool whole_ok = Parse(bytes, 0, whole);
  if (size < 16 * 1024) {
    // Beast takes only whole lines, so a header fed in pieces is rescanned per piece: small
    // pieces for short inputs, larger ones for long inputs keep that from dominating the run.
    bhttp::request_parser<bhttp::string_body> pieces;
    bool pieces_ok = Parse(bytes, size < 1024 ? 7 : 97, pieces);
    if (whole_ok != pieces_ok) __builtin_trap();
    if (whole_ok && (whole.get().target() != pieces.get().target() || whole.get().body() != pieces.get().body()))
      __builtin_trap();
  }
  if (!whole.is_header_done()) return 0;
  Request& req = whole.get();
  std::string_view full_target = req.target();
  std::string target(full_target.substr(0, full_target.find('?')));
  std::string_view query =
      full_target.find('?') == std::string_view::npos ? std::string_view() : full_target.substr(full_target.find('?') + 1);
  Router::Match match = Routes().Find(req.method(), target);
  for (const auto& [name, value] : match.params) {
    if (value.empty() || value.data() < target.data() || value.data() + value.size() > target.data() + target.size())
      __builtin_trap();
  }
  (void)DecodePath(target);
  (void)QueryParams(query, {"limit", "cursor", "q", "format", "after", "before"});
  const Cors& cors = CorsPolicy();
  if (cors.IsPreflight(req)) {
    (void)cors.Preflight(req);
  } else {
    StringResponse res{bhttp::status::ok, req.version()};
    cors.Decorate(req, res);
  }
  return 0;
}
