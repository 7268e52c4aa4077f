// libFuzzer target for multipart/form-data uploads (src/api/http/multipart.h). The first byte
// picks how the body is cut into reads (1 to 64 bytes; ×16 over 2 KiB); the rest is the body, under the
// boundary "vezaB0undary". Invariants: the body parsed in pieces gives exactly what it gives
// whole (the same error, or the same fields, file name and file bytes); the limits hold.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http/multipart.h"

using namespace veza;
using namespace veza::http;

namespace {

struct Outcome {
  bool ok = false;
  std::string error;
  std::vector<std::pair<std::string, std::string>> fields;
  bool has_file = false;
  std::string filename, file;
  int file_starts = 0, file_ends = 0;
};

Outcome Parse(std::string_view body, std::size_t piece) {
  Outcome out;
  auto parser = MultipartParser::ForContentType("multipart/form-data; boundary=vezaB0undary");
  if (!parser.ok()) __builtin_trap();
  std::size_t pos = 0;
  while (true) {
    bool eof = pos >= body.size();
    auto step = parser->Next(eof);
    if (!step.ok()) {
      out.error = step.error().message;
      return out;
    }
    switch (*step) {
      case MultipartParser::Step::kDone:
        out.ok = true;
        out.fields = parser->fields();
        out.has_file = parser->has_file();
        out.filename = parser->filename();
        return out;
      case MultipartParser::Step::kFileStart:
        ++out.file_starts;
        break;
      case MultipartParser::Step::kFileData:
        if (parser->file_data().empty()) __builtin_trap();
        out.file.append(parser->file_data());
        break;
      case MultipartParser::Step::kFileEnd:
        ++out.file_ends;
        break;
      case MultipartParser::Step::kNeedMore: {
        if (eof) __builtin_trap();  // Next(eof=true) must not ask for more
        std::size_t n = std::min(piece, body.size() - pos);
        parser->Append(body.substr(pos, n));
        pos += n;
        break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Long bodies in larger pieces: byte-sized reads of 20 KB would spend the run on steps.
  std::size_t piece = (data[0] % 64 + 1) * (size > 2048 ? 16 : 1);
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Outcome whole = Parse(body, body.size() + 1);
  Outcome pieces = Parse(body, piece);
  if (whole.ok != pieces.ok || whole.error != pieces.error) __builtin_trap();
  if (!whole.ok) return 0;
  if (whole.fields != pieces.fields || whole.file != pieces.file || whole.filename != pieces.filename ||
      whole.has_file != pieces.has_file)
    __builtin_trap();
  MultipartLimits limits;
  if (whole.fields.size() > limits.max_fields || whole.filename.size() > 255) __builtin_trap();
  for (const auto& [name, value] : whole.fields)
    if (value.size() > limits.max_field_bytes) __builtin_trap();
  if (whole.file_starts > 1 || whole.file_starts != whole.file_ends || whole.has_file != (whole.file_starts == 1))
    __builtin_trap();
  return 0;
}
