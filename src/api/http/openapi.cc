#include "api/http/openapi.h"

#include <cctype>

namespace veza {
std::string_view OpenApiDocument();  // generated
}

namespace veza::http {

std::string_view OpenApiDocumentText() { return OpenApiDocument(); }

std::vector<std::string> OpenApiOperations(std::string_view yaml) {
  static constexpr std::string_view kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch"};
  std::vector<std::string> out;
  bool in_paths = false;
  std::string path;
  std::size_t pos = 0;
  while (pos < yaml.size()) {
    std::size_t end = yaml.find('\n', pos);
    if (end == std::string_view::npos) end = yaml.size();
    std::string_view line = yaml.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.find_first_not_of(' ') == std::string_view::npos) continue;
    std::size_t indent = line.find_first_not_of(' ');
    if (indent == 0) {
      in_paths = line.rfind("paths:", 0) == 0;
      continue;
    }
    if (!in_paths) continue;
    std::string_view text = line.substr(indent);
    if (indent == 2 && text.size() > 1 && text[0] == '/' && text.back() == ':') {
      path = std::string(text.substr(0, text.size() - 1));
    } else if (indent == 4 && !path.empty()) {
      for (std::string_view m : kMethods) {
        if (text.size() == m.size() + 1 && text.substr(0, m.size()) == m && text.back() == ':') {
          std::string method(m);
          for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          out.push_back(method + " " + path);
        }
      }
    }
  }
  return out;
}

}  // namespace veza::http
