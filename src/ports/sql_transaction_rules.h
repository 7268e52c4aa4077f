#pragma once
// What both Database backends' transaction sessions share: PostgreSQL's rule that the first
// failed statement aborts the transaction (kept on SQLite too, so services behave alike), and
// the refusal of statements that end the transaction from inside Database::Transaction.
#include <algorithm>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace veza {

// SQL is logged at most this long (never the parameters).
inline constexpr std::size_t kLoggedSqlMax = 300;
inline std::string_view TruncatedSql(std::string_view sql) { return sql.substr(0, kLoggedSqlMax); }

// The databases this thread is inside a Transaction() of. Calling back into the same Database
// (instead of the session handed to fn) could deadlock on the connection the transaction holds,
// so backends refuse it instead.
inline thread_local std::vector<const void*> t_open_transactions;

inline bool InTransactionOn(const void* db) {
  return std::find(t_open_transactions.begin(), t_open_transactions.end(), db) !=
         t_open_transactions.end();
}

// Marks this thread as inside a transaction of db for the mark's lifetime.
class TransactionMark {
 public:
  explicit TransactionMark(const void* db) { t_open_transactions.push_back(db); }
  ~TransactionMark() { t_open_transactions.pop_back(); }
  TransactionMark(const TransactionMark&) = delete;
  TransactionMark& operator=(const TransactionMark&) = delete;
};

// The error (and log line) for such a call.
Error ReentryError();

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
