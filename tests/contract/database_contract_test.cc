// Contract tests of the Database port, run against every backend: "sqlite" (a fresh file per
// test) and "postgres" (a fresh database per test on the server named by
// VEZA_TEST_POSTGRES_URL, created and dropped here so tests can run in parallel).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/postgres/postgres_database.h"
#include "backends/sqlite/sqlite_database.h"
#include "ports/database.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

using std::chrono::steady_clock;

// A printable, type-tagged form of a value, so mismatches show both type and content.
std::string Show(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (auto* i = std::get_if<std::int64_t>(&v)) return "int64:" + std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return "double:" + std::string(buf, p);
  }
  if (auto* s = std::get_if<std::string>(&v)) return "text:\"" + *s + "\"";
  std::string hex = "blob[" + std::to_string(std::get<Blob>(v).bytes.size()) + "]:";
  for (unsigned char c : std::get<Blob>(v).bytes) {
    static const char* kDigits = "0123456789abcdef";
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

class DatabaseContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    db_ = std::move(test_db_->owned());
    url_ = test_db_->url();
    db_name_ = test_db_->name();
    admin_ = test_db_->admin();
  }

  void TearDown() override {
    db_.reset();  // before the database is dropped
    test_db_.reset();
  }

  bool IsPostgres() const { return GetParam() == "postgres"; }
  std::string BlobType() const { return IsPostgres() ? "BYTEA" : "BLOB"; }

  // url_ plus backend-specific options.
  std::string UrlWith(std::string_view sqlite_opts, std::string_view postgres_opts) const {
    return test::AddUrlParam(url_, IsPostgres() ? postgres_opts : sqlite_opts);
  }

  std::int64_t Count(std::string_view table) {
    auto r = db_->Query("SELECT COUNT(*) FROM " + std::string(table));
    EXPECT_OK(r);
    if (!r.ok() || r->rows.size() != 1) return -1;
    return r->rows[0].Int(0);
  }

  void CreateKv() {
    ASSERT_OK(db_->ExecScript("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, n BIGINT)"));
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::string db_name_;
  std::string url_;
  Database* admin_ = nullptr;  // PostgreSQL only
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseContractTest, ReportsDialectAndPings) {
  EXPECT_EQ(db_->Dialect(), GetParam());
  EXPECT_OK(db_->Ping());
  auto r = db_->Query("SELECT 1");
  ASSERT_OK(r);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(Show(r->rows[0].Value(0)), "int64:1");
}

TEST_P(DatabaseContractTest, MigrationsApplyOnceAndAreRecorded) {
  // Every migration must exist for both dialects, under the same version and name.
  const auto& sqlite = EmbeddedMigrations("sqlite");
  const auto& postgres = EmbeddedMigrations("postgres");
  ASSERT_FALSE(sqlite.empty());
  ASSERT_FALSE(postgres.empty());
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
    EXPECT_EQ(sqlite[i].name, postgres[i].name);
  }

  const auto& migrations = EmbeddedMigrations(db_->Dialect());
  auto first = ApplyMigrations(*db_, migrations);
  ASSERT_OK(first);
  std::vector<int> versions;
  for (const Migration& m : migrations) versions.push_back(m.version);
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(*first, versions);

  auto second = ApplyMigrations(*db_, migrations);
  ASSERT_OK(second);
  EXPECT_TRUE(second->empty());

  // A second node opening the same store finds nothing to do either.
  auto other = test::OpenDatabaseUrl(url_);
  ASSERT_OK(other);
  auto third = ApplyMigrations(**other, migrations);
  ASSERT_OK(third);
  EXPECT_TRUE(third->empty());

  auto rows =
      db_->Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), migrations.size());
  for (std::size_t i = 0; i < rows->rows.size(); ++i) {
    EXPECT_EQ(rows->rows[i].Int(0), versions[i]);
    EXPECT_FALSE(rows->rows[i].Text(1).empty());
    EXPECT_FALSE(rows->rows[i].Text(2).empty());
  }

  // The initial schema is there.
  auto ins =
      db_->Query("INSERT INTO instance_settings (key, value, updated_at) VALUES ($1, $2, $3)",
                 {SqlValue{std::string("site_name")}, SqlValue{std::string("Veza")},
                  SqlValue{std::string("2026-01-01T00:00:00Z")}});
  ASSERT_OK(ins);
  EXPECT_EQ(ins->affected_rows, 1);
}

TEST_P(DatabaseContractTest, RoundTripsEveryValueType) {
  ASSERT_OK(
      db_->ExecScript("CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, "
                      "d DOUBLE PRECISION, s TEXT, b " +
                      BlobType() + ")"));
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  struct Case {
    std::int64_t id;
    SqlValue i, d, s, b;
  };
  const std::vector<Case> cases = {
      {1, std::numeric_limits<std::int64_t>::min(), -1.5, std::string(), Blob{}},
      {2, std::numeric_limits<std::int64_t>::max(), 1e300,
       std::string("héllo wörld ✓ 🎵 日本語 \"double\" 'single' \\ back$1slash"), Blob{all_bytes}},
      {3, std::int64_t{0}, 0.1, std::string("plain"), Blob{std::string("\0\0\x01", 3)}},
      {4, std::int64_t{-1}, std::numeric_limits<double>::infinity(),
       std::string("multi\nline\ttab"), Blob{"\\x41 looks escaped"}},
      {5, std::int64_t{42}, 123456789.125, std::string("🎶"), Blob{std::string(100000, '\xff')}},
      {6, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
  };
  for (const Case& c : cases) {
    auto r = db_->Query("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
                        {SqlValue{c.id}, c.i, c.d, c.s, c.b});
    ASSERT_OK(r) << "case " << c.id;
    EXPECT_EQ(r->affected_rows, 1);
  }
  auto r = db_->Query("SELECT id, i, d, s, b FROM vals ORDER BY id");
  ASSERT_OK(r);
  EXPECT_EQ(r->columns, (std::vector<std::string>{"id", "i", "d", "s", "b"}));
  ASSERT_EQ(r->rows.size(), cases.size());
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Row& row = r->rows[k];
    const Case& c = cases[k];
    ASSERT_EQ(row.size(), 5u);
    EXPECT_EQ(Show(row.Value(0)), Show(SqlValue{c.id}));
    EXPECT_EQ(Show(row.Value(1)), Show(c.i)) << "case " << c.id;
    EXPECT_EQ(Show(row.Value(2)), Show(c.d)) << "case " << c.id;
    EXPECT_EQ(Show(row.Value(3)), Show(c.s)) << "case " << c.id;
    EXPECT_EQ(Show(row.Value(4)), Show(c.b)) << "case " << c.id;
  }
  const Row& nulls = r->rows.back();
  for (std::size_t col = 1; col < 5; ++col) {
    EXPECT_TRUE(nulls.IsNull(col));
    EXPECT_EQ(nulls.OptionalText(col), std::nullopt);
  }

  // Parameters selected back directly keep their type where both dialects can say it.
  auto direct = db_->Query("SELECT CAST($1 AS BIGINT), CAST($2 AS DOUBLE PRECISION), $3, $4",
                           {SqlValue{std::numeric_limits<std::int64_t>::max()}, SqlValue{2.5},
                            SqlValue{std::string("ünï")}, SqlValue{Blob{all_bytes}}});
  ASSERT_OK(direct);
  ASSERT_EQ(direct->rows.size(), 1u);
  EXPECT_EQ(Show(direct->rows[0].Value(0)), "int64:9223372036854775807");
  EXPECT_EQ(Show(direct->rows[0].Value(1)), "double:2.5");
  EXPECT_EQ(Show(direct->rows[0].Value(2)), Show(SqlValue{std::string("ünï")}));
  EXPECT_EQ(Show(direct->rows[0].Value(3)), Show(SqlValue{Blob{all_bytes}}));

  // Text cannot carry NUL bytes (PostgreSQL's rule); binary data goes in a Blob.
  auto nul = db_->Query("INSERT INTO vals (id, s) VALUES ($1, $2)",
                        {SqlValue{std::int64_t{7}}, SqlValue{std::string("a\0b", 3)}});
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, ErrorCode::kInvalidArgument);

  // Filtering by a blob and by unicode text matches exactly.
  auto by_blob = db_->Query("SELECT id FROM vals WHERE b = $1", {SqlValue{Blob{all_bytes}}});
  ASSERT_OK(by_blob);
  ASSERT_EQ(by_blob->rows.size(), 1u);
  EXPECT_EQ(by_blob->rows[0].Int(0), 2);
  auto by_text = db_->Query("SELECT id FROM vals WHERE s = $1", {SqlValue{std::string("🎶")}});
  ASSERT_OK(by_text);
  ASSERT_EQ(by_text->rows.size(), 1u);
  EXPECT_EQ(by_text->rows[0].Int(0), 5);
}

TEST_P(DatabaseContractTest, BindsParametersByNumberInAnyOrder) {
  CreateKv();
  auto ins = db_->Query(
      "INSERT INTO kv (n, v, k) VALUES ($3, $1, $2)",
      {SqlValue{std::string("value")}, SqlValue{std::string("key")}, SqlValue{std::int64_t{7}}});
  ASSERT_OK(ins);
  auto r = db_->Query("SELECT k, v, n FROM kv WHERE n = $2 AND k = $1",
                      {SqlValue{std::string("key")}, SqlValue{std::int64_t{7}}});
  ASSERT_OK(r);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].Text(0), "key");
  EXPECT_EQ(r->rows[0].Text(1), "value");
  EXPECT_EQ(r->rows[0].Int(2), 7);

  // One parameter used twice.
  auto twice = db_->Query("SELECT COUNT(*) FROM kv WHERE k = $1 OR v = $1",
                          {SqlValue{std::string("value")}});
  ASSERT_OK(twice);
  EXPECT_EQ(twice->rows[0].Int(0), 1);

  // $10 is the tenth parameter, not $1 followed by a zero.
  std::vector<SqlValue> ten;
  for (int i = 0; i < 9; ++i) ten.push_back(SqlValue{std::int64_t{100 + i}});
  ten.push_back(SqlValue{std::int64_t{7}});
  auto tenth = db_->Query(
      "SELECT COUNT(*) FROM kv WHERE n IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", ten);
  ASSERT_OK(tenth);
  EXPECT_EQ(tenth->rows[0].Int(0), 1);
}

TEST_P(DatabaseContractTest, MissingOrUnusedParameterIsAnErrorNotACrash) {
  CreateKv();
  auto missing =
      db_->Query("SELECT k FROM kv WHERE k = $1 AND v = $2", {SqlValue{std::string("only one")}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInternal) << missing.error().message;
  auto unused = db_->Query("SELECT k FROM kv WHERE k = $1",
                           {SqlValue{std::string("a")}, SqlValue{std::string("extra")}});
  ASSERT_FALSE(unused.ok());
  EXPECT_EQ(unused.error().code, ErrorCode::kInternal) << unused.error().message;
  EXPECT_OK(db_->Ping());
}

TEST_P(DatabaseContractTest, ReportsAffectedRows) {
  CreateKv();
  for (int i = 0; i < 3; ++i) {
    auto r = db_->Query(
        "INSERT INTO kv (k, v, n) VALUES ($1, $2, $3)",
        {SqlValue{"k" + std::to_string(i)}, SqlValue{std::string("v")}, SqlValue{std::int64_t{i}}});
    ASSERT_OK(r);
    EXPECT_EQ(r->affected_rows, 1);
  }
  auto upd = db_->Query("UPDATE kv SET v = $1 WHERE n >= $2",
                        {SqlValue{std::string("w")}, SqlValue{std::int64_t{1}}});
  ASSERT_OK(upd);
  EXPECT_EQ(upd->affected_rows, 2);
  auto none = db_->Query("UPDATE kv SET v = $1 WHERE n > $2",
                         {SqlValue{std::string("x")}, SqlValue{std::int64_t{99}}});
  ASSERT_OK(none);
  EXPECT_EQ(none->affected_rows, 0);
  auto sel = db_->Query("SELECT k FROM kv");
  ASSERT_OK(sel);
  EXPECT_EQ(sel->rows.size(), 3u);
  EXPECT_EQ(sel->affected_rows, 0);
  auto ret = db_->Query("UPDATE kv SET n = n + 10 WHERE k = $1 RETURNING n",
                        {SqlValue{std::string("k0")}});
  ASSERT_OK(ret);
  ASSERT_EQ(ret->rows.size(), 1u);
  EXPECT_EQ(ret->rows[0].Int(0), 10);
  EXPECT_EQ(ret->affected_rows, 1);
  auto del = db_->Query("DELETE FROM kv");
  ASSERT_OK(del);
  EXPECT_EQ(del->affected_rows, 3);
}

TEST_P(DatabaseContractTest, UniqueViolationIsConflict) {
  CreateKv();
  const std::vector<SqlValue> row = {SqlValue{std::string("dup-key-value")},
                                     SqlValue{std::string("v")}};
  ASSERT_OK(db_->Query("INSERT INTO kv (k, v) VALUES ($1, $2)", row));
  auto again = db_->Query("INSERT INTO kv (k, v) VALUES ($1, $2)", row);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict) << again.error().message;
  // Client-safe: no SQL text, no offending value.
  EXPECT_EQ(again.error().message.find("INSERT"), std::string::npos) << again.error().message;
  EXPECT_EQ(again.error().message.find("dup-key-value"), std::string::npos)
      << again.error().message;

  ASSERT_OK(db_->Query("INSERT INTO kv (k, v) VALUES ($1, $2)",
                       {SqlValue{std::string("other")}, SqlValue{std::string("v")}}));
  auto upd = db_->Query("UPDATE kv SET k = $1 WHERE k = $2",
                        {SqlValue{std::string("dup-key-value")}, SqlValue{std::string("other")}});
  ASSERT_FALSE(upd.ok());
  EXPECT_EQ(upd.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Count("kv"), 2);

  // The sanctioned way around it works on both dialects.
  auto upsert = db_->Query(
      "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      {SqlValue{std::string("dup-key-value")}, SqlValue{std::string("new")}});
  ASSERT_OK(upsert);
  EXPECT_EQ(upsert->affected_rows, 1);
}

TEST_P(DatabaseContractTest, OtherConstraintViolationsAreInvalidArgument) {
  ASSERT_OK(db_->ExecScript(
      "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
      "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES parent(id),"
      " qty BIGINT CHECK (qty >= 0));"));
  ASSERT_OK(db_->Query("INSERT INTO parent (id) VALUES ($1)", {SqlValue{std::int64_t{1}}}));

  auto orphan = db_->Query("INSERT INTO child (id, parent_id) VALUES ($1, $2)",
                           {SqlValue{std::int64_t{1}}, SqlValue{std::int64_t{999}}});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code, ErrorCode::kInvalidArgument) << orphan.error().message;

  auto null_parent = db_->Query("INSERT INTO child (id, parent_id) VALUES ($1, $2)",
                                {SqlValue{std::int64_t{2}}, SqlValue{}});
  ASSERT_FALSE(null_parent.ok());
  EXPECT_EQ(null_parent.error().code, ErrorCode::kInvalidArgument);

  auto negative = db_->Query(
      "INSERT INTO child (id, parent_id, qty) VALUES ($1, $2, $3)",
      {SqlValue{std::int64_t{3}}, SqlValue{std::int64_t{1}}, SqlValue{std::int64_t{-5}}});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, ErrorCode::kInvalidArgument);

  EXPECT_EQ(Count("child"), 0);
}

TEST_P(DatabaseContractTest, SyntaxErrorIsAnErrorNotACrash) {
  auto bad = db_->Query("SELEC wat FROM nowhere WHERE x = $1", {SqlValue{std::int64_t{1}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_EQ(bad.error().message.find("SELEC"), std::string::npos) << bad.error().message;

  auto missing_table = db_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing_table.ok());
  EXPECT_EQ(missing_table.error().message.find("no_such_table"), std::string::npos);

  EXPECT_FALSE(db_->ExecScript("CREATE TABLE ok_one (x BIGINT); CREAT TABLE broken (").ok());
  EXPECT_OK(db_->Query(""));  // an empty query is no statement, not a crash
  EXPECT_OK(db_->Ping());
}

TEST_P(DatabaseContractTest, QueryRunsOneStatementAndExecScriptRunsMany) {
  auto two = db_->Query("CREATE TABLE a (x BIGINT); CREATE TABLE b (y BIGINT)");
  EXPECT_FALSE(two.ok());
  EXPECT_OK(db_->Query("SELECT 1;"));  // a trailing semicolon is still one statement
  ASSERT_OK(
      db_->ExecScript("-- a comment\nCREATE TABLE a (x BIGINT);\nCREATE TABLE b (y BIGINT);\n"
                      "INSERT INTO a (x) VALUES (1);\nINSERT INTO b (y) VALUES (2);\n"));
  EXPECT_EQ(Count("a"), 1);
  EXPECT_EQ(Count("b"), 1);
}

TEST_P(DatabaseContractTest, TransactionControlThroughQueryIsRefused) {
  CreateKv();
  EXPECT_FALSE(db_->Query("BEGIN").ok());
  // The connection went back clean: a write now is committed and visible from elsewhere.
  ASSERT_OK(db_->Query("INSERT INTO kv (k, v) VALUES ($1, $2)",
                       {SqlValue{std::string("a")}, SqlValue{std::string("b")}}));
  auto other = test::OpenDatabaseUrl(url_);
  ASSERT_OK(other);
  auto r = (*other)->Query("SELECT COUNT(*) FROM kv");
  ASSERT_OK(r);
  EXPECT_EQ(r->rows[0].Int(0), 1);

  Status st = db_->Transaction([](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("COMMIT"));
    return Ok();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_OK(db_->Ping());
}

TEST_P(DatabaseContractTest, TransactionCommits) {
  CreateKv();
  Status st = db_->Transaction([](SqlSession& tx) -> Status {
    for (const char* k : {"a", "b"}) {
      VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ($1, $2)",
                        {SqlValue{std::string(k)}, SqlValue{std::string("v")}}));
    }
    // Reads inside the transaction see its own writes.
    VEZA_ASSIGN_OR_RETURN(QueryResult r, tx.Query("SELECT COUNT(*) FROM kv"));
    if (r.rows.empty() || r.rows[0].Int(0) != 2) return Internal("own writes not visible");
    return Ok();
  });
  ASSERT_OK(st);
  EXPECT_EQ(Count("kv"), 2);
}

TEST_P(DatabaseContractTest, TransactionRollsBackWhenFnFails) {
  CreateKv();
  Status st = db_->Transaction([](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ($1, $2)",
                      {SqlValue{std::string("a")}, SqlValue{std::string("v")}}));
    VEZA_TRY(tx.ExecScript("INSERT INTO kv (k, v) VALUES ('b', 'v')"));
    return InvalidArgument("changed my mind");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message, "changed my mind");
  EXPECT_EQ(Count("kv"), 0);
  // The connection is usable for the next transaction.
  ASSERT_OK(db_->Transaction([](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ('c', 'v')"));
    return Ok();
  }));
  EXPECT_EQ(Count("kv"), 1);
}

TEST_P(DatabaseContractTest, FailedStatementAbortsTransaction) {
  CreateKv();
  bool later_failed = false;
  Status st = db_->Transaction([&](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ('a', 'v')"));
    auto dup = tx.Query("INSERT INTO kv (k, v) VALUES ('a', 'v')");
    if (dup.ok()) return Internal("duplicate insert succeeded");
    // PostgreSQL semantics on both backends: nothing more runs in this transaction.
    later_failed = !tx.Query("INSERT INTO kv (k, v) VALUES ('b', 'v')").ok();
    return Ok();  // swallowing the error does not commit a half-done transaction
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict) << st.error().message;
  EXPECT_TRUE(later_failed);
  EXPECT_EQ(Count("kv"), 0);
}

TEST_P(DatabaseContractTest, ReentrantUseInsideTransactionIsRefused) {
  CreateKv();
  Status inner = Ok();
  Status st = db_->Transaction([&](SqlSession& tx) -> Status {
    inner = db_->ExecScript("INSERT INTO kv (k, v) VALUES ('x', 'y')");  // wrong handle
    return Ok();
  });
  EXPECT_OK(st);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, ErrorCode::kInternal);
  EXPECT_EQ(Count("kv"), 0);
}

TEST_P(DatabaseContractTest, ConcurrentWritersInTransactionsAllCommit) {
  ASSERT_OK(db_->ExecScript(
      "CREATE TABLE items (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, seq BIGINT NOT NULL)"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status st = db_->Transaction([&](SqlSession& tx) -> Status {
          // Read-modify-write of this owner's own rows, plus the insert.
          VEZA_ASSIGN_OR_RETURN(
              QueryResult seen,
              tx.Query("SELECT COUNT(*) FROM items WHERE owner = $1", {SqlValue{std::int64_t{t}}}));
          std::int64_t seq = seen.rows[0].Int(0);
          if (seq != i)
            return Internal("owner saw " + std::to_string(seq) + " rows, want " +
                            std::to_string(i));
          VEZA_TRY(tx.Query(
              "INSERT INTO items (id, owner, seq) VALUES ($1, $2, $3)",
              {SqlValue{std::int64_t{t * 1000 + i}}, SqlValue{std::int64_t{t}}, SqlValue{seq}}));
          return Ok();
        });
        if (!st.ok()) {
          ++failures;
          errors[t] = st.error().message;
        }
      }
    });
  }
  // Readers alongside: never an error, and the count never goes backwards.
  std::atomic<int> reader_errors{0};
  std::atomic<int> went_backwards{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (writing.load()) {
        auto q = db_->Query("SELECT COUNT(*) FROM items");
        if (!q.ok()) {
          ++reader_errors;
          continue;
        }
        std::int64_t n = q->rows[0].Int(0);
        if (n < last) ++went_backwards;
        last = n;
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  for (auto& r : readers) r.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(reader_errors.load(), 0);
  EXPECT_EQ(went_backwards.load(), 0);
  EXPECT_EQ(Count("items"), kThreads * kPerThread);
}

TEST_P(DatabaseContractTest, WaitingForABusyWriterIsBoundedAndUnavailable) {
  CreateKv();
  // One writer at a time: SQLite's single writer, or a one-connection PostgreSQL pool.
  auto small = test::OpenDatabaseUrl(UrlWith("busy_timeout_ms=300", "pool_size=1&pool_timeout_ms=300"));
  ASSERT_OK(small);
  Database& db = **small;
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> release_f = release.get_future().share();
  std::thread holder([&] {
    Status st = db.Transaction([&](SqlSession& tx) -> Status {
      VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ('held', 'v')"));
      started.set_value();
      release_f.wait_for(std::chrono::seconds(10));
      return Ok();
    });
    EXPECT_OK(st);
  });
  started.get_future().wait();
  auto t0 = steady_clock::now();
  Status blocked = db.Transaction([](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ('late', 'v')"));
    return Ok();
  });
  auto waited = steady_clock::now() - t0;
  release.set_value();
  holder.join();
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable) << blocked.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(3));
  EXPECT_EQ(Count("kv"), 1);
}

TEST_P(DatabaseContractTest, OpensEveryUrlForm) {
  if (IsPostgres()) {
    // Pool options are stripped before libpq sees them; other libpq options pass through.
    auto with_opts = OpenPostgresDatabase(
        test::AddUrlParam(url_, "pool_size=2&pool_timeout_ms=1000&application_name=veza-contract"));
    ASSERT_OK(with_opts);
    EXPECT_OK((*with_opts)->Ping());
    std::string postgresql = url_;
    postgresql.replace(0, std::string("postgres").size(), "postgresql");
    auto long_scheme = OpenPostgresDatabase(postgresql);
    ASSERT_OK(long_scheme);
    EXPECT_OK((*long_scheme)->Ping());
    auto bad_pool = OpenPostgresDatabase(test::AddUrlParam(url_, "pool_size=0"));
    ASSERT_FALSE(bad_pool.ok());
    EXPECT_EQ(bad_pool.error().code, ErrorCode::kInvalidArgument);
  } else {
    // A relative path, with parent directories that do not exist yet.
    std::string rel = "veza-db-test-rel-" + test::RandomToken();
    auto db = OpenSqliteDatabase("sqlite://./" + rel + "/nested/dir/veza.db?readers=2");
    std::error_code ec;
    bool exists = std::filesystem::exists(rel + "/nested/dir/veza.db", ec);
    if (db.ok()) {
      EXPECT_OK((*db)->Ping());
    }
    db = Error{};
    std::filesystem::remove_all(rel, ec);
    EXPECT_TRUE(exists);
    auto mem = OpenSqliteDatabase("sqlite://:memory:");
    ASSERT_FALSE(mem.ok());
    EXPECT_EQ(mem.error().code, ErrorCode::kInvalidArgument);
    auto unknown = OpenSqliteDatabase(url_ + "?bogus=1");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_P(DatabaseContractTest, SqliteCopiesTheLogIntoTheFileWhileOpen) {
  if (IsPostgres()) GTEST_SKIP() << "PostgreSQL checkpoints on its own";
  // Commits no longer checkpoint (that fsync waited inside a commit): a thread of the database
  // does. In WAL mode the file itself grows only by checkpoints, so it growing while the
  // database stays open shows they happen.
  std::string path = url_.substr(std::string("sqlite://").size());
  path = path.substr(0, path.find('?'));
  auto file_size = [&] {
    std::error_code ec;
    auto n = std::filesystem::file_size(path, ec);
    return ec ? std::uintmax_t{0} : n;
  };
  ASSERT_OK(db_->ExecScript("CREATE TABLE chunks (id BIGINT PRIMARY KEY, data BLOB NOT NULL)"));
  const std::uintmax_t before = file_size();
  constexpr int kChunks = 12;  // 12 MiB: ~3,000 pages of 4 KiB, past the 1,000-page threshold
  for (int i = 0; i < kChunks; ++i) {
    ASSERT_OK(db_->Transaction([&](SqlSession& s) -> Status {
      VEZA_TRY(s.Query("INSERT INTO chunks (id, data) VALUES ($1, $2)",
                       {SqlInt(i), SqlValue{Blob{std::string(1 << 20, static_cast<char>('a' + i))}}}));
      return Ok();
    }));
  }
  const std::uintmax_t wanted = before + (8u << 20);
  for (int i = 0; i < 200 && file_size() < wanted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GE(file_size(), wanted) << "the log was not copied into " << path << " while the database was open";
  EXPECT_EQ(Count("chunks"), kChunks);
}

TEST_P(DatabaseContractTest, OpenFailsFastOnUnreachableTarget) {
  if (IsPostgres()) {
    for (std::string url : {"postgres://veza:s3cr3t-pw@127.0.0.1:1/veza",
                            "postgres://veza@127.0.0.1:1/veza?password=s3cr3t-pw"}) {
      auto t0 = steady_clock::now();
      auto r = OpenPostgresDatabase(url);
      auto took = steady_clock::now() - t0;
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
      EXPECT_LT(took, std::chrono::seconds(4));
      EXPECT_NE(r.error().message.find("127.0.0.1:1"), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().message.find("s3cr3t-pw"), std::string::npos) << r.error().message;
    }
  } else {
    auto r = OpenSqliteDatabase("sqlite:///proc/veza-no-such-dir/veza.db");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(r.error().message.find("/proc/veza-no-such-dir"), std::string::npos)
        << r.error().message;
  }
}

TEST_P(DatabaseContractTest, RecoversWhenTheServerDropsConnections) {
  if (!IsPostgres()) GTEST_SKIP() << "SQLite has no server connections to lose";
  CreateKv();
  // Fill the pool with several idle connections.
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        EXPECT_OK(db_->Transaction([](SqlSession& tx) -> Status {
          VEZA_TRY(tx.Query("SELECT pg_sleep(0.2)"));
          return Ok();
        }));
      });
    }
    for (auto& t : threads) t.join();
  }
  // What a server restart does to them, limited to this test's database.
  ASSERT_OK(
      admin_->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    {SqlValue{db_name_}}));
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = admin_->Query("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
                              {SqlValue{db_name_}});
    ASSERT_OK(left);
    if (left->rows[0].Int(0) == 0) break;
    ASSERT_LT(steady_clock::now(), deadline) << "backends did not exit";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_OK(db_->Ping());
  for (int i = 0; i < 8; ++i) {
    EXPECT_OK(db_->Query("INSERT INTO kv (k, v) VALUES ($1, 'v')",
                         {SqlValue{"after-" + std::to_string(i)}}));
  }
  EXPECT_OK(db_->Transaction([](SqlSession& tx) -> Status {
    VEZA_TRY(tx.Query("INSERT INTO kv (k, v) VALUES ('in-tx', 'v')"));
    return Ok();
  }));
  EXPECT_EQ(Count("kv"), 9);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseContractTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace veza
