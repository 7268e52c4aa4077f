#pragma once
// Mailer backend `smtp://[user:pass@]host:port?from=noreply@example.com&starttls=true`:
// plain-text mail over SMTP through libcurl, blocking, with timeouts (connect 5 s, whole
// exchange 30 s). starttls=true requires STARTTLS with a verified certificate (the system CA
// store); false (the default) sends in clear text, for a relay on the same host or a test
// server. user:pass (percent-encoded) log in with SMTP AUTH, which libcurl only does over TLS
// unless the server offers it in clear. `from` is required.
#include <memory>
#include <string_view>

#include "ports/mailer.h"

namespace veza {

// Checks the URL and pings the server (connect + EHLO + NOOP + QUIT): an unreachable server
// fails startup with kUnavailable.
Result<std::unique_ptr<Mailer>> OpenSmtpMailer(std::string_view url);

}  // namespace veza
