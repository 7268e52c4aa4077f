#pragma once
// Mailer port: sends one plain-text email. SMTP (smtp://) in production; the outbox backend
// (outbox://, the default) stores each message in the database's `outbox` table and logs a line,
// so a fresh install works without a mail server. Calls block: run them on the worker pool.
//
// Rules every backend keeps (tests/contract/mailer_contract_test.cc):
// - Send either hands the message on (to the SMTP server or the outbox table) and returns ok, or
//   returns an error: kInvalidArgument for a bad address or header injection (CR/LF in `to` or
//   `subject`), kUnavailable when the server or database cannot be reached.
// - Logs and error messages never hold the body: it carries single-use tokens.
#include <string>

#include "base/result.h"

namespace veza {

struct MailMessage {
  std::string to;         // one address, e.g. "alice@example.com"
  std::string subject;    // one line
  std::string text_body;  // UTF-8 plain text
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual Status Send(const MailMessage& message) = 0;
  // SMTP: connect + EHLO + QUIT. Outbox: the database's Ping.
  virtual Status Ping() = 0;
};

// The checks shared by every backend: one address of 3..254 bytes with one '@', and no CR, LF
// or other control characters in `to` or `subject` (header injection).
Status ValidateMailMessage(const MailMessage& message);

}  // namespace veza
