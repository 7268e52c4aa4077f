#pragma once
// SQLite backend of the Database port, for single-node installs.
//
// URL: sqlite://./data/veza.db (relative to the working directory) or sqlite:///abs/path.db.
// Optional query parameters: readers=N (reader connections, default 4, 1..64) and
// busy_timeout_ms=N (how long a writer waits for the write lock, default 5000).
//
// Concurrency: one writer connection serialized by a mutex plus a pool of read-only reader
// connections (WAL mode lets readers run while the writer writes). Database::Query prepares the
// statement on a reader and moves it to the writer when sqlite3_stmt_readonly() says it writes.
// Transaction() holds the writer for its whole duration (BEGIN IMMEDIATE), so transactions never
// see SQLITE_BUSY from this process and concurrent writers simply queue.
//
// Semantics kept identical to the PostgreSQL backend (the contract tests check both):
// - A failed statement inside Transaction() aborts the transaction: later statements fail and
//   the transaction rolls back even if fn returns ok. Use INSERT ... ON CONFLICT instead of
//   "try insert, catch conflict" inside a transaction.
// - Database::Query/ExecScript/Transaction called from inside fn (instead of the session fn is
//   given) fail with kInternal rather than deadlocking.
// - Query takes exactly one statement; every $N it references must be given and every given
//   parameter must be referenced. BEGIN/COMMIT/ROLLBACK through Query are refused.
// - affected_rows is set for INSERT/UPDATE/DELETE only (0 for SELECT and DDL).
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/database.h"

namespace veza {

Result<std::unique_ptr<Database>> OpenSqliteDatabase(std::string_view url);

}  // namespace veza
