#include "backends/mailer_outbox/outbox_mailer.h"

#include <chrono>

#include "base/ids.h"
#include "base/log.h"

namespace veza {
namespace {

class OutboxMailer final : public Mailer {
 public:
  explicit OutboxMailer(Database& db) : db_(db) {}

  Status Send(const MailMessage& m) override {
    VEZA_TRY(ValidateMailMessage(m));
    std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    std::string id = NewId();
    VEZA_TRY(db_.Query(
        "INSERT INTO outbox (id, to_address, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        {SqlValue{id}, SqlValue{m.to}, SqlValue{m.subject}, SqlValue{m.text_body}, SqlValue{now_ms}}));
    log::Info("mail queued in outbox", {{"id", id}, {"to", m.to}, {"subject", m.subject}});
    return Ok();
  }

  Status Ping() override { return db_.Ping(); }

 private:
  Database& db_;
};

}  // namespace

Result<std::unique_ptr<Mailer>> OpenOutboxMailer(std::string_view url, Database& db) {
  if (url != "outbox://") return InvalidArgument("outbox:// takes no host, path or options");
  return std::unique_ptr<Mailer>(std::make_unique<OutboxMailer>(db));
}

}  // namespace veza
