#pragma once
// What both Database backends' transaction sessions share: PostgreSQL's rule that the first
// failed statement aborts the transaction (kept on SQLite too, so services behave alike), and
// the refusal of statements that end the transaction from inside Database::Transaction.
#include <string_view>

#include "base/error.h"

namespace veza {

// SQL is logged at most this long (never the parameters).
inline constexpr std::size_t kLoggedSqlMax = 300;
inline std::string_view TruncatedSql(std::string_view sql) { return sql.substr(0, kLoggedSqlMax); }

class AbortOnFirstError {
 public:
  bool aborted() const { return aborted_; }
  const Error& first_error() const { return first_error_; }

 protected:
  // Records e as the transaction's first failure (if it is) and returns it.
  Error Fail(Error e);
  // The error every statement after the first failure gets.
  Error AbortedError() const;
  // A statement (COMMIT, ROLLBACK, ...) closed the transaction behind Transaction()'s back.
  static Error EndedError(std::string_view backend, std::string_view sql);

 private:
  bool aborted_ = false;
  Error first_error_;
};

}  // namespace veza
