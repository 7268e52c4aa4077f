#pragma once
// Database port: a small SQL interface shared by SQLite and PostgreSQL. Queries use `$1`, `$2`
// placeholders in both (SQLite binds them by name). Calls block: run them on the worker pool.
//
// Rules both backends keep (the contract suite in tests/contract enforces them):
// - Query runs exactly one statement; every $N used must be given and every value given used.
// - A failed statement inside Transaction aborts it, even if fn swallows the error (PostgreSQL's
//   rule): use INSERT ... ON CONFLICT rather than catching a conflict.
// - Inside fn use only the SqlSession given; calling the Database again there is refused.
// - PostgreSQL infers parameter types: write CAST($1 AS BIGINT) where the type is not implied.
// - For counters (per-room sequence numbers) use UPDATE ... SET n = n + 1 ... RETURNING n;
//   SQLite has no SELECT ... FOR UPDATE. SQLite runs one write transaction at a time;
//   PostgreSQL runs at READ COMMITTED.
// - Errors: unique violation -> kConflict; other constraint violations -> kInvalidArgument;
//   connection loss, busy or pool exhaustion -> kUnavailable. Messages never hold SQL or values.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace veza {

struct Blob {
  std::string bytes;
};

// A bound parameter or a column value. NULL is std::monostate.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;

// Shorthands for building parameter lists: {SqlText(id), SqlInt(now_ms)}.
inline SqlValue SqlText(std::string_view s) { return SqlValue{std::string(s)}; }
inline SqlValue SqlInt(std::int64_t v) { return SqlValue{v}; }

class Row {
 public:
  explicit Row(std::vector<SqlValue> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool IsNull(std::size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // Typed getters convert text/integer columns so both backends read alike.
  std::int64_t Int(std::size_t i) const;
  double Double(std::size_t i) const;
  std::string Text(std::size_t i) const;
  std::optional<std::string> OptionalText(std::size_t i) const;
  const SqlValue& Value(std::size_t i) const { return values_.at(i); }

 private:
  std::vector<SqlValue> values_;
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected_rows = 0;  // for INSERT/UPDATE/DELETE
};

// One connection's view, valid inside Database::Transaction.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs several statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
};

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

class Database : public SqlSession {
 public:
  // "sqlite" or "postgres": picks the migration set and the rare dialect differences.
  virtual std::string_view Dialect() const = 0;
  // Runs fn inside one transaction on one connection: commits if fn returns ok, else rolls back.
  virtual Status Transaction(const std::function<Status(SqlSession&)>& fn) = 0;
  // Cheap round trip to the server; used by /readyz.
  virtual Status Ping() = 0;
};

// Applies the migrations newer than those recorded in schema_migrations, each in its own
// transaction, in version order. Returns the versions applied.
Result<std::vector<int>> ApplyMigrations(Database& db, const std::vector<Migration>& migrations);
// The migrations compiled into the binary for a dialect (from migrations/<dialect>/).
const std::vector<Migration>& EmbeddedMigrations(std::string_view dialect);

}  // namespace veza
