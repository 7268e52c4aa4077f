#include "ports/sql_transaction_rules.h"

#include <string>

#include "base/log.h"

namespace veza {

Error ReentryError() {
  log::Error("Database called from inside its own Transaction; use the session passed to fn");
  return Internal("database used re-entrantly inside a transaction");
}

Error AbortOnFirstError::Fail(Error e) {
  if (!aborted_) {
    aborted_ = true;
    first_error_ = e;
  }
  return e;
}

Error AbortOnFirstError::AbortedError() const {
  return Error{first_error_.code,
               "transaction aborted by an earlier failed statement: " + first_error_.message};
}

Error AbortOnFirstError::EndedError(std::string_view backend, std::string_view sql) {
  log::Warn(std::string(backend) + " statement ended the transaction",
            {{"sql", std::string(TruncatedSql(sql))}});
  return Internal("transaction control statements are not allowed inside Transaction");
}

}  // namespace veza
