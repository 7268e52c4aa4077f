#pragma once
// Mailer backend `outbox://`: each message becomes a row of the `outbox` table (migration
// 0007) in the server's own database, and one log line `mail queued in outbox` names the
// recipient and subject (never the body, which carries tokens). The default, so a fresh
// install works without a mail server; an operator reads pending mail with SQL.
#include <memory>
#include <string_view>

#include "ports/database.h"
#include "ports/mailer.h"

namespace veza {

// url is `outbox://` (no options). db must outlive the mailer.
Result<std::unique_ptr<Mailer>> OpenOutboxMailer(std::string_view url, Database& db);

}  // namespace veza
