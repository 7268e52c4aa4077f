#include "ports/database.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "base/time.h"

namespace veza {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

std::int64_t Row::Int(std::size_t i) const {
  return std::visit(Overloaded{
                        [](std::monostate) -> std::int64_t { return 0; },
                        [](std::int64_t v) { return v; },
                        [](double v) { return static_cast<std::int64_t>(v); },
                        [](const std::string& s) {
                          std::int64_t v = 0;
                          std::from_chars(s.data(), s.data() + s.size(), v);
                          return v;
                        },
                        [](const Blob&) -> std::int64_t { return 0; },
                    },
                    values_.at(i));
}

double Row::Double(std::size_t i) const {
  return std::visit(Overloaded{
                        [](std::monostate) { return 0.0; },
                        [](std::int64_t v) { return static_cast<double>(v); },
                        [](double v) { return v; },
                        [](const std::string& s) { return std::strtod(s.c_str(), nullptr); },
                        [](const Blob&) { return 0.0; },
                    },
                    values_.at(i));
}

std::string Row::Text(std::size_t i) const {
  return std::visit(Overloaded{
                        [](std::monostate) { return std::string(); },
                        [](std::int64_t v) { return std::to_string(v); },
                        [](double v) { return std::to_string(v); },
                        [](const std::string& s) { return s; },
                        [](const Blob& b) { return b.bytes; },
                    },
                    values_.at(i));
}

std::optional<std::string> Row::OptionalText(std::size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

Result<std::vector<int>> ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  // Nodes starting together against one PostgreSQL must not run migrations side by side (even
  // CREATE TABLE IF NOT EXISTS races there): each step takes a transaction-scoped advisory lock.
  // SQLite needs none: its write transactions already run one at a time.
  auto serialize = [&](SqlSession& tx) -> Status {
    if (db.Dialect() != "postgres") return Ok();
    VEZA_TRY(tx.Query("SELECT pg_advisory_xact_lock(7265626)"));  // any constant, same on every node
    return Ok();
  };
  VEZA_TRY(db.Transaction([&](SqlSession& tx) -> Status {
    VEZA_TRY(serialize(tx));
    return tx.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)");
  }));
  std::vector<Migration> sorted = migrations;
  std::sort(sorted.begin(), sorted.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  std::vector<int> applied;
  for (const Migration& m : sorted) {
    // Checked inside the transaction so two nodes starting together apply each migration once:
    // the loser's INSERT into schema_migrations fails on the primary key and rolls back.
    bool ran = false;
    Status st = db.Transaction([&](SqlSession& tx) -> Status {
      VEZA_TRY(serialize(tx));
      VEZA_ASSIGN_OR_RETURN(QueryResult seen,
                            tx.Query("SELECT version FROM schema_migrations WHERE version = $1",
                                     {SqlValue{std::int64_t{m.version}}}));
      if (!seen.rows.empty()) return Ok();
      VEZA_TRY(tx.ExecScript(m.sql));
      VEZA_TRY(tx.Query(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
          {SqlValue{std::int64_t{m.version}}, SqlValue{m.name},
           SqlValue{FormatRfc3339(std::chrono::system_clock::now())}}));
      ran = true;
      return Ok();
    });
    if (!st.ok()) {
      return Error{st.error().code,
                   "migration " + std::to_string(m.version) + " (" + m.name + "): " + st.error().message};
    }
    if (ran) applied.push_back(m.version);
  }
  return applied;
}

}  // namespace veza
