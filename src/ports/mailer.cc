#include "ports/mailer.h"

#include <algorithm>

namespace veza {

namespace {
bool HasControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}
}  // namespace

Status ValidateMailMessage(const MailMessage& message) {
  const std::string& to = message.to;
  if (to.size() < 3 || to.size() > 254 || std::count(to.begin(), to.end(), '@') != 1 ||
      to.front() == '@' || to.back() == '@' || HasControl(to) || to.find(' ') != std::string::npos ||
      to.find('<') != std::string::npos || to.find('>') != std::string::npos ||
      to.find(',') != std::string::npos) {
    return InvalidArgument("mail: invalid recipient address");
  }
  if (message.subject.size() > 998 || HasControl(message.subject)) {
    return InvalidArgument("mail: invalid subject");
  }
  return Ok();
}

}  // namespace veza
