#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace veza::http {

// docs/api/openapi.yaml, compiled into the binary (cmake/embed_file.cmake).
std::string_view OpenApiDocumentText();

// "METHOD /path" for every operation in an OpenAPI YAML document, read from its `paths:`
// block (two-space indentation as docs/api/openapi.yaml is written). Methods are upper case.
std::vector<std::string> OpenApiOperations(std::string_view yaml);

}  // namespace veza::http
