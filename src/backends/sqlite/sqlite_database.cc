#include "backends/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/log.h"
#include "ports/sql_transaction_rules.h"

namespace veza {
namespace {

constexpr int kDefaultReaders = 4;
constexpr int kMaxReaders = 64;
constexpr int kDefaultBusyTimeoutMs = 5000;
// Distinct SQL strings cached per connection; repositories use a bounded set of constant
// strings, so the cache is only flushed when something builds SQL dynamically.
constexpr std::size_t kStatementCacheMax = 256;

// After "UNIQUE constraint failed: t.c" keep "t.c": names no values and no SQL.
std::string ConstraintDetail(const char* msg) {
  std::string_view m = msg ? msg : "";
  auto pos = m.find(": ");
  return pos == std::string_view::npos ? std::string() : std::string(m.substr(pos + 2));
}

std::string WithDetail(std::string base, const std::string& detail) {
  if (!detail.empty()) base += ": " + detail;
  return base;
}

// Maps an SQLite result code to a client-safe Error; the raw message and the SQL go to the log.
Error MapError(sqlite3* db, int rc, std::string_view sql) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  if ((ext & 0xff) != (rc & 0xff)) ext = rc;  // errcode is stale if rc came from elsewhere
  const char* raw = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  Error err;
  bool expected = false;  // constraint violations are normal control flow for callers
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: {
      expected = true;
      std::string detail = ConstraintDetail(raw);
      switch (ext) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_ROWID:
          err = Conflict(WithDetail("unique constraint violated", detail));
          break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
          err = InvalidArgument("foreign key constraint violated");
          break;
        case SQLITE_CONSTRAINT_NOTNULL:
          err = InvalidArgument(WithDetail("not-null constraint violated", detail));
          break;
        case SQLITE_CONSTRAINT_CHECK:
          err = InvalidArgument(WithDetail("check constraint violated", detail));
          break;
        default:
          err = InvalidArgument("constraint violated");
          break;
      }
      break;
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      err = Unavailable("database is busy, retry later");
      break;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      err = Unavailable("database storage error");
      break;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      err = InvalidArgument("value not accepted by the database");
      break;
    default:
      err = Internal("database error");
      break;
  }
  boost::json::object fields{
      {"code", ext}, {"error", raw ? raw : ""}, {"sql", std::string(TruncatedSql(sql))}};
  if (expected) {
    log::Debug("sqlite statement failed", std::move(fields));
  } else {
    log::Warn("sqlite statement failed", std::move(fields));
  }
  return err;
}

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One sqlite3 handle and its statement cache. Used by one thread at a time (the pools below
// guarantee it), so it needs no lock of its own; the handle is opened with NOMUTEX.
class Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  ~Connection() {
    ClearCache();
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const { return db_; }

  // Returns the cached prepared statement for sql (reset, ready to bind), or nullptr when sql
  // holds no statement at all (empty or comments).
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return MapError(db_, rc, sql);
    if (stmt == nullptr) return static_cast<sqlite3_stmt*>(nullptr);
    // PostgreSQL refuses several statements in one parameterized query; refuse them here too
    // rather than silently ignoring everything after the first.
    std::string_view rest = sql.substr(static_cast<std::size_t>(tail - sql.data()));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_stmt* next = nullptr;
      int rc2 = sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &next, nullptr);
      bool more = rc2 != SQLITE_OK || next != nullptr;
      sqlite3_finalize(next);
      if (more) {
        sqlite3_finalize(stmt);
        log::Warn("sqlite query has several statements", {{"sql", std::string(TruncatedSql(sql))}});
        return Internal("database query must be a single statement");
      }
    }
    if (cache_.size() >= kStatementCacheMax) ClearCache();
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  // Runs sql without parameters or results (BEGIN, COMMIT, scripts).
  Status Exec(std::string_view sql) {
    std::string text(sql);
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) return MapError(db_, rc, sql);
    return Ok();
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  void RollbackIfOpen() {
    if (InTransaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  void ClearCache() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, TransparentHash, std::equal_to<>> cache_;
};

// Parses the N of a "$N" parameter name; 0 when it is not of that form.
std::size_t PlaceholderNumber(const char* name) {
  if (name == nullptr || name[0] != '$') return 0;
  std::size_t n = 0;
  const char* end = name + std::strlen(name);
  auto [p, ec] = std::from_chars(name + 1, end, n);
  if (ec != std::errc() || p != end) return 0;
  return n;
}

Status Bind(sqlite3* db, sqlite3_stmt* stmt, std::string_view sql,
            const std::vector<SqlValue>& params) {
  int count = sqlite3_bind_parameter_count(stmt);
  std::vector<bool> used(params.size(), false);
  for (int j = 1; j <= count; ++j) {
    const char* name = sqlite3_bind_parameter_name(stmt, j);
    std::size_t n = PlaceholderNumber(name);
    if (n == 0) {
      log::Warn("sqlite query uses an unsupported placeholder",
                {{"placeholder", name ? name : "?"}, {"sql", std::string(TruncatedSql(sql))}});
      return Internal("database query uses an unsupported placeholder (use $1, $2, ...)");
    }
    if (n > params.size()) {
      log::Warn(
          "sqlite query parameter missing",
          {{"placeholder", name}, {"given", params.size()}, {"sql", std::string(TruncatedSql(sql))}});
      return Internal("database query parameter $" + std::to_string(n) + " was not given");
    }
    used[n - 1] = true;
    const SqlValue& v = params[n - 1];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, j);
    } else if (auto* i = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, j, *i);
    } else if (auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, j, *d);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      // PostgreSQL text cannot hold NUL; refuse it here too so both backends agree.
      if (s->find('\0') != std::string::npos) {
        return InvalidArgument("text value contains a NUL byte");
      }
      rc = sqlite3_bind_text64(stmt, j, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else if (auto* b = std::get_if<Blob>(&v)) {
      // A null pointer would bind NULL, so an empty blob needs zeroblob to stay a blob.
      rc = b->bytes.empty()
               ? sqlite3_bind_zeroblob(stmt, j, 0)
               : sqlite3_bind_blob64(stmt, j, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) return MapError(db, rc, sql);
  }
  for (std::size_t k = 0; k < used.size(); ++k) {
    if (!used[k]) {
      log::Warn("sqlite query parameter unused",
                {{"parameter", k + 1}, {"sql", std::string(TruncatedSql(sql))}});
      return Internal("database query parameter $" + std::to_string(k + 1) + " is not used");
    }
  }
  return Ok();
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return std::int64_t{sqlite3_column_int64(stmt, col)};
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      int n = sqlite3_column_bytes(stmt, col);
      return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      int n = sqlite3_column_bytes(stmt, col);
      // Zero-length blobs come back as a null pointer.
      return Blob{p && n > 0 ? std::string(p, static_cast<std::size_t>(n)) : std::string()};
    }
    default:
      return std::monostate{};
  }
}

// Binds, steps to completion and resets one prepared statement.
Result<QueryResult> Run(Connection& conn, sqlite3_stmt* stmt, std::string_view sql,
                        const std::vector<SqlValue>& params) {
  sqlite3* db = conn.handle();
  // Reset on every exit so the statement never holds a read snapshot or bound buffers.
  struct ResetOnExit {
    sqlite3_stmt* s;
    ~ResetOnExit() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};
  VEZA_TRY(Bind(db, stmt, sql, params));
  QueryResult out;
  int cols = sqlite3_column_count(stmt);
  out.columns.reserve(static_cast<std::size_t>(cols));
  for (int c = 0; c < cols; ++c) {
    const char* name = sqlite3_column_name(stmt, c);
    out.columns.emplace_back(name ? name : "");
  }
  sqlite3_int64 before = sqlite3_total_changes64(db);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<SqlValue> values;
    values.reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) values.push_back(ColumnValue(stmt, c));
    out.rows.emplace_back(std::move(values));
  }
  if (rc != SQLITE_DONE) return MapError(db, rc, sql);
  // sqlite3_changes() keeps the count of the last DML statement, so only trust it when this
  // statement changed something (DDL and SELECT report 0, as on PostgreSQL).
  if (sqlite3_total_changes64(db) != before) out.affected_rows = sqlite3_changes64(db);
  return out;
}

// Runs one statement outside Transaction() and makes sure it did not leave a transaction open
// (BEGIN through Query would otherwise leak into the next user of the connection).
Result<QueryResult> RunAutocommit(Connection& conn, sqlite3_stmt* stmt, std::string_view sql,
                                  const std::vector<SqlValue>& params) {
  Result<QueryResult> r = Run(conn, stmt, sql, params);
  if (conn.InTransaction()) {
    conn.RollbackIfOpen();
    log::Warn("sqlite query left a transaction open", {{"sql", std::string(TruncatedSql(sql))}});
    return Internal("transaction control statements are not allowed; use Database::Transaction");
  }
  return r;
}

// The session handed to Transaction's fn: the writer connection, with PostgreSQL's rule that
// the first failed statement aborts the transaction.
class TxSession final : public SqlSession, public AbortOnFirstError {
 public:
  explicit TxSession(Connection& conn) : conn_(conn) {}

  Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    if (aborted()) return AbortedError();
    Result<sqlite3_stmt*> stmt = conn_.Prepare(sql);
    if (!stmt.ok()) return Fail(stmt.take_error());
    if (*stmt == nullptr) return QueryResult{};
    Result<QueryResult> r = Run(conn_, *stmt, sql, params);
    if (!conn_.InTransaction()) return Fail(EndedError("sqlite", sql));
    if (!r.ok()) return Fail(r.take_error());
    return r;
  }

  Status ExecScript(std::string_view sql) override {
    if (aborted()) return AbortedError();
    Status st = conn_.Exec(sql);
    if (!conn_.InTransaction()) return Fail(EndedError("sqlite", sql));
    if (!st.ok()) return Fail(st.take_error());
    return Ok();
  }

 private:
  Connection& conn_;
};

// Copies the write-ahead log back into the database file on its own thread and connection.
// SQLite's automatic checkpoint runs inside whichever commit takes the log past 1,000 pages
// and ends with an fsync, so that commit (a chat message on the single writer, and every
// message queued behind it) waited for the disk: at 700 chat sends/s the p99 delivery of
// bench/chat_fanout was 9.8 ms with it and 2.5 ms without. A PASSIVE checkpoint blocks
// neither the writer nor readers.
class Checkpointer {
 public:
  static constexpr int kLogPages = 1000;  // SQLite's own threshold

  explicit Checkpointer(std::unique_ptr<Connection> conn) : conn_(std::move(conn)), thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Installed on the writer connection: called after each commit with the log's size.
  static int OnCommit(void* self, sqlite3*, const char*, int log_pages) {
    if (log_pages >= kLogPages) static_cast<Checkpointer*>(self)->Wake();
    return SQLITE_OK;
  }

 private:
  void Wake() {
    {
      std::lock_guard lock(mu_);
      due_ = true;
    }
    cv_.notify_one();
  }

  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return due_ || stop_; });
      if (stop_) return;
      due_ = false;
      lock.unlock();
      int log_pages = 0, copied = 0;
      int rc = sqlite3_wal_checkpoint_v2(conn_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {  // BUSY: another checkpoint is running
        log::Warn("sqlite checkpoint failed", {{"error", sqlite3_errstr(rc)}, {"log_pages", log_pages}});
      }
      lock.lock();
    }
  }

  std::unique_ptr<Connection> conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false;   // guarded by mu_
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::unique_ptr<Connection> writer, std::vector<std::unique_ptr<Connection>> readers,
                 std::unique_ptr<Connection> checkpoints, int busy_timeout_ms)
      : checkpointer_(std::move(checkpoints)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        busy_timeout_(busy_timeout_ms) {
    for (auto& r : readers_) idle_readers_.push_back(r.get());
    sqlite3_wal_hook(writer_->handle(), &Checkpointer::OnCommit, &checkpointer_);
  }

  std::string_view Dialect() const override { return "sqlite"; }

  Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    if (InTransactionOn(this)) return ReentryError();
    {
      ReaderLease reader(*this);
      VEZA_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, reader->Prepare(sql));
      if (stmt == nullptr) return QueryResult{};
      if (sqlite3_stmt_readonly(stmt)) return RunAutocommit(*reader, stmt, sql, params);
    }
    WriterLease writer(*this);
    VEZA_TRY(writer.Acquire());
    VEZA_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, writer_->Prepare(sql));
    if (stmt == nullptr) return QueryResult{};
    return RunAutocommit(*writer_, stmt, sql, params);
  }

  Status ExecScript(std::string_view sql) override {
    if (InTransactionOn(this)) return ReentryError();
    WriterLease writer(*this);
    VEZA_TRY(writer.Acquire());
    Status st = writer_->Exec(sql);
    if (writer_->InTransaction()) {
      // A script that failed between its own BEGIN and COMMIT.
      writer_->RollbackIfOpen();
      if (st.ok()) return Internal("script left a transaction open");
    }
    return st;
  }

  Status Transaction(const std::function<Status(SqlSession&)>& fn) override {
    if (InTransactionOn(this)) return ReentryError();
    WriterLease writer(*this);
    VEZA_TRY(writer.Acquire());
    TransactionMark mark(this);
    // Rolls back if fn throws, so the writer is never handed on mid-transaction.
    struct RollbackOnExit {
      Connection& c;
      ~RollbackOnExit() { c.RollbackIfOpen(); }
    } guard{*writer_};
    VEZA_TRY(writer_->Exec("BEGIN IMMEDIATE"));
    TxSession session(*writer_);
    Status result = fn(session);
    if (result.ok() && session.aborted()) {
      const Error& first = session.first_error();
      result =
          Error{first.code, "transaction aborted by an earlier failed statement: " + first.message};
    }
    if (!result.ok()) return result;  // the guard rolls back
    return writer_->Exec("COMMIT");
  }

  Status Ping() override {
    ReaderLease reader(*this);
    VEZA_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, reader->Prepare("SELECT 1"));
    VEZA_ASSIGN_OR_RETURN(QueryResult r, Run(*reader, stmt, "SELECT 1", {}));
    if (r.rows.size() != 1 || r.rows[0].Int(0) != 1) return Internal("database ping failed");
    return Ok();
  }

 private:
  // Exclusive use of one reader connection; blocks while all are busy (reads are short and
  // never wait on the writer in WAL mode, so the wait is bounded by other reads).
  class ReaderLease {
   public:
    explicit ReaderLease(SqliteDatabase& db) : db_(db) {
      std::unique_lock<std::mutex> lock(db_.readers_mu_);
      db_.readers_cv_.wait(lock, [&] { return !db_.idle_readers_.empty(); });
      conn_ = db_.idle_readers_.back();
      db_.idle_readers_.pop_back();
    }
    ~ReaderLease() {
      {
        std::lock_guard<std::mutex> lock(db_.readers_mu_);
        db_.idle_readers_.push_back(conn_);
      }
      db_.readers_cv_.notify_one();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Connection* operator->() const { return conn_; }
    Connection& operator*() const { return *conn_; }

   private:
    SqliteDatabase& db_;
    Connection* conn_ = nullptr;
  };

  // Exclusive use of the writer connection. Acquire waits like SQLite's busy_timeout would, so
  // a long transaction makes other writers fail with kUnavailable instead of piling up forever.
  // (A flag under a plain mutex rather than std::timed_mutex, whose pthread_mutex_clocklock
  // ThreadSanitizer cannot see.)
  class WriterLease {
   public:
    explicit WriterLease(SqliteDatabase& db) : db_(db) {}
    ~WriterLease() {
      if (!held_) return;
      {
        std::lock_guard<std::mutex> lock(db_.writer_mu_);
        db_.writer_busy_ = false;
      }
      db_.writer_cv_.notify_one();
    }
    WriterLease(const WriterLease&) = delete;
    WriterLease& operator=(const WriterLease&) = delete;

    Status Acquire() {
      std::unique_lock<std::mutex> lock(db_.writer_mu_);
      if (!db_.writer_cv_.wait_for(lock, db_.busy_timeout_, [&] { return !db_.writer_busy_; })) {
        log::Warn("sqlite writer busy", {{"waited_ms", db_.busy_timeout_.count()}});
        return Unavailable("database is busy, retry later");
      }
      db_.writer_busy_ = held_ = true;
      return Ok();
    }

   private:
    SqliteDatabase& db_;
    bool held_ = false;
  };

  Checkpointer checkpointer_;  // first: outlives the writer, whose commits may wake it
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  bool writer_busy_ = false;  // guarded by writer_mu_; the writer itself is used outside it
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<Connection*> idle_readers_;
  std::chrono::milliseconds busy_timeout_;
};

Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, bool reader,
                                                   int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Unavailable("sqlite: cannot open " + path + ": " + msg);
  }
  auto conn = std::make_unique<Connection>(raw);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // mmap_size: pages are read through a shared mapping instead of a pread and a copy into each
  // connection's own 2 MiB page cache; at 100k tracks a search re-read most of its pages from
  // the kernel every time (copy_to_iter and page-cache lookups were the top of a perf profile).
  // The mapping is address space, not memory: the pages are the kernel's page cache either way.
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;";
  // Writers leave checkpoints to the Checkpointer's thread (below).
  pragmas += reader ? " PRAGMA query_only=ON;" : " PRAGMA wal_autocheckpoint=0;";
  if (Status st = conn->Exec(pragmas); !st.ok()) {
    return Unavailable("sqlite: cannot configure " + path + ": " + st.error().message);
  }
  return conn;
}

Status EnableWal(Connection& conn, const std::string& path) {
  std::string mode;
  char* msg = nullptr;
  int rc = sqlite3_exec(
      conn.handle(), "PRAGMA journal_mode=WAL",
      [](void* out, int n, char** values, char**) {
        if (n > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, &msg);
  std::string err = msg ? msg : "";
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return Unavailable("sqlite: cannot enable WAL on " + path + ": " + err);
  if (mode != "wal") {
    // Still correct with a rollback journal, only slower: readers then wait for the writer.
    log::Warn("sqlite: WAL mode not available, using rollback journal",
              {{"path", path}, {"journal_mode", mode}});
  }
  return Ok();
}

bool ParsePositive(std::string_view text, int& out) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return false;
  out = v;
  return true;
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(std::string_view url) {
  constexpr std::string_view kScheme = "sqlite://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("sqlite: URL must start with sqlite://");
  }
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string path(rest);
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    // Each pooled connection would get its own private in-memory database.
    return InvalidArgument("sqlite: URL needs a file path, e.g. sqlite://./data/veza.db");
  }

  int readers = kDefaultReaders;
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
  while (!query.empty()) {
    std::string_view item = query.substr(0, query.find('&'));
    query = item.size() < query.size() ? query.substr(item.size() + 1) : std::string_view();
    std::string_view key = item.substr(0, item.find('='));
    std::string_view value =
        key.size() < item.size() ? item.substr(key.size() + 1) : std::string_view();
    if (key == "readers") {
      if (!ParsePositive(value, readers) || readers > kMaxReaders) {
        return InvalidArgument("sqlite: readers must be between 1 and 64");
      }
    } else if (key == "busy_timeout_ms") {
      if (!ParsePositive(value, busy_timeout_ms)) {
        return InvalidArgument("sqlite: busy_timeout_ms must be a positive integer");
      }
    } else if (!key.empty()) {
      return InvalidArgument("sqlite: unknown URL parameter " + std::string(key));
    }
  }

  if (sqlite3_threadsafe() == 0) return Internal("sqlite: library built without thread safety");

  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Unavailable("sqlite: cannot create directory " + parent.string() + ": " +
                         ec.message());
    }
  }

  VEZA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                        OpenConnection(path, /*reader=*/false, busy_timeout_ms));
  VEZA_TRY(EnableWal(*writer, path));
  std::vector<std::unique_ptr<Connection>> pool;
  for (int i = 0; i < readers; ++i) {
    VEZA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> r,
                          OpenConnection(path, /*reader=*/true, busy_timeout_ms));
    pool.push_back(std::move(r));
  }
  VEZA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpoints,
                        OpenConnection(path, /*reader=*/false, busy_timeout_ms));
  log::Info("sqlite database open", {{"path", path}, {"readers", readers}});
  return std::unique_ptr<Database>(
      new SqliteDatabase(std::move(writer), std::move(pool), std::move(checkpoints), busy_timeout_ms));
}

}  // namespace veza
