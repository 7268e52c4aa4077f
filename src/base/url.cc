#include "base/url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace veza {

std::string RedactUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri_reference(text);
  if (!parsed) return "<unparseable url>";
  boost::urls::url u = *parsed;
  if (u.has_password()) u.set_password("***");
  for (auto it = u.params().begin(); it != u.params().end(); ++it) {
    auto param = *it;
    std::string key = param.key;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
        key.find("token") != std::string::npos || key.find("key") != std::string::npos) {
      it = u.params().replace(it, {param.key, "***"});
    }
  }
  return std::string(u.buffer());
}

}  // namespace veza
