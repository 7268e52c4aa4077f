#pragma once
// PostgreSQL backend of the Database port (libpq).
//
// URL: postgres://user:pass@host:port/db?param=... (postgresql:// too). Every parameter libpq
// knows is passed through; connect_timeout=3, client_encoding=UTF8 and application_name=veza are
// added when absent. Parameters for this backend, stripped before libpq sees the URL:
//   pool_size=N          connections kept at most (default 8)
//   pool_timeout_ms=N    how long a caller waits for a free connection (default 5000) before
//                        getting kUnavailable
//
// Open() connects once, so a wrong URL or a down server fails at startup (within
// connect_timeout) with a message naming host:port and never the password.
// Broken connections (server restart, pg_terminate_backend) are noticed when a connection is
// taken from the pool (a zero-timeout poll finds the server's goodbye) or when a statement
// fails on it; they are then closed and replaced, so the pool recovers when the server does.
//
// Parameters go as text with an unspecified type (the server infers it from context, so an
// int64 can fill a bigint, numeric, boolean or text column); Blob goes as binary bytea.
// Results decode by column type: int2/int4/int8/oid -> int64, float4/float8/numeric -> double,
// bool -> int64 0/1, bytea -> Blob, anything else -> text. A bare `SELECT $1` therefore returns
// text for a non-blob parameter; cast it ($1::bigint) where the type matters.
//
// Semantics shared with the SQLite backend are described in backends/sqlite/sqlite_database.h
// (a failed statement aborts the Transaction, no re-entry from fn, one statement per Query,
// affected_rows only for INSERT/UPDATE/DELETE/MERGE). Transactions run at READ COMMITTED.
#include <memory>
#include <string_view>

#include "base/result.h"
#include "ports/database.h"

namespace veza {

Result<std::unique_ptr<Database>> OpenPostgresDatabase(std::string_view url);

}  // namespace veza
