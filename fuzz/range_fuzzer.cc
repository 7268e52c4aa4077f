// libFuzzer target for Range and the conditional headers. Half the inputs go to
// ParseRangeHeader against a size taken from the input; the other half become a GET to the
// static file server (src/api/http/static_files.cc) over a small web root, with the path,
// Range, If-Range, If-None-Match and Accept-Encoding taken from newline-separated input lines:
// this covers path traversal, ranges, ETags and the precompressed variants together.
// Invariants: a parsed range lies inside the representation; a 206 carries a Content-Range
// matching its body; nothing outside the web root is served.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

#include "api/http/static_files.h"

namespace bhttp = boost::beast::http;
using namespace veza::http;

namespace {

std::filesystem::path& Root() {
  static std::filesystem::path root;
  return root;
}

const StaticFiles& Files() {
  static StaticFiles* files = [] {
    char dir_template[] = "/tmp/veza-range-fuzz-XXXXXX";
    std::filesystem::path root = Root() = mkdtemp(dir_template);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(Root(), ec);
    });
    std::filesystem::create_directories(root / "web" / "assets");
    std::ofstream(root / "web" / "index.html") << "<!doctype html><title>veza</title>";
    std::ofstream(root / "web" / "assets" / "app.js") << std::string(1000, 'j');
    std::ofstream(root / "web" / "assets" / "app.js.gz") << std::string(100, 'z');
    std::ofstream(root / "web" / "assets" / "app.js.br") << std::string(90, 'b');
    std::ofstream(root / "secret.txt") << "outside the web root";
    return new StaticFiles(root / "web");
  }();
  return *files;
}

std::string_view NextLine(std::string_view& in) {
  auto nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  std::uint64_t representation = 0;
  for (int i = 0; i < 8; ++i) representation = (representation << 8) | data[1 + i];
  std::string_view in(reinterpret_cast<const char*>(data) + 9, size - 9);
  if (data[0] & 1) {
    auto range = ParseRangeHeader(in, representation);
    if (range && *range && ((*range)->first > (*range)->last || (*range)->last >= representation)) __builtin_trap();
    return 0;
  }
  std::string path(NextLine(in));
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  Request req{bhttp::verb::get, path, 11};
  static constexpr bhttp::field kHeaders[] = {bhttp::field::range, bhttp::field::if_range, bhttp::field::if_none_match,
                                              bhttp::field::accept_encoding};
  for (bhttp::field f : kHeaders) {
    if (in.empty()) break;
    std::string_view value = NextLine(in);
    if (!value.empty()) req.set(f, value);
  }
  RequestContext ctx{req, path, "", "fuzz", "127.0.0.1", {}, {}, nullptr, nullptr};
  auto res = Files().Serve(ctx);
  if (!res) return 0;
  if (auto* s = std::get_if<StringResponse>(&*res)) {
    if (s->body() == "outside the web root") __builtin_trap();  // problems echo the path: compare whole
    return 0;
  }
  auto& file = std::get<FileResponse>(*res);
  if (file.result() == bhttp::status::ok && BodySizeOf(*res) == 20) __builtin_trap();  // secret.txt
  if (file.result() == bhttp::status::partial_content) {
    std::string_view content_range = file[bhttp::field::content_range];
    if (content_range.rfind("bytes ", 0) != 0) __builtin_trap();
    unsigned long long first = 0, last = 0, total = 0;
    if (std::sscanf(std::string(content_range).c_str(), "bytes %llu-%llu/%llu", &first, &last, &total) != 3)
      __builtin_trap();
    if (first > last || last >= total || last - first + 1 != BodySizeOf(*res)) __builtin_trap();
  }
  return 0;
}
