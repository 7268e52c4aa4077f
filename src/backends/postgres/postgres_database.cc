#include "backends/postgres/postgres_database.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "ports/sql_transaction_rules.h"
#include "base/url.h"

namespace veza {
namespace {

constexpr std::size_t kDefaultPoolSize = 8;
constexpr std::size_t kMaxPoolSize = 256;
constexpr int kDefaultPoolTimeoutMs = 5000;

// Type OIDs from catalog/pg_type.h (a server header that client installs may lack).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;


struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;


// libpq messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string Field(const PGresult* res, int code) {
  const char* v = res ? PQresultErrorField(res, code) : nullptr;
  return v ? v : "";
}

std::string WithDetail(std::string base, const std::string& detail) {
  if (!detail.empty()) base += ": " + detail;
  return base;
}

bool ConnectionLost(PGconn* c) { return PQstatus(c) != CONNECTION_OK; }

// Maps a failed statement to a client-safe Error. Server messages can quote SQL and values
// ('syntax error at or near ...', 'Key (email)=(...) already exists'), so they only go to the
// log, along with the SQL (never the parameters).
Error MapError(PGconn* c, const PGresult* res, std::string_view sql) {
  std::string state = Field(res, PG_DIAG_SQLSTATE);
  std::string primary = Field(res, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = OneLine(PQerrorMessage(c));
  Error err;
  bool expected = false;
  // 08P01 (protocol violation) is what a wrong parameter count gets: a bug, not an outage.
  bool connection_class = state.starts_with("08") && state != "08P01";
  if (ConnectionLost(c) || connection_class || state == "57P01" || state == "57P02" ||
      state == "57P03") {
    err = Unavailable("database connection lost, retry later");
  } else if (state.starts_with("53")) {  // insufficient resources: too many connections, disk
    err = Unavailable("database is overloaded, retry later");
  } else if (state == "23505") {
    expected = true;
    err = Conflict(WithDetail("unique constraint violated", Field(res, PG_DIAG_CONSTRAINT_NAME)));
  } else if (state == "23P01") {
    expected = true;
    err =
        Conflict(WithDetail("exclusion constraint violated", Field(res, PG_DIAG_CONSTRAINT_NAME)));
  } else if (state == "23503") {
    expected = true;
    err = InvalidArgument("foreign key constraint violated");
  } else if (state == "23502") {
    expected = true;
    err = InvalidArgument(
        WithDetail("not-null constraint violated", Field(res, PG_DIAG_COLUMN_NAME)));
  } else if (state == "23514") {
    expected = true;
    err = InvalidArgument(
        WithDetail("check constraint violated", Field(res, PG_DIAG_CONSTRAINT_NAME)));
  } else if (state.starts_with("23")) {
    expected = true;
    err = InvalidArgument("constraint violated");
  } else if (state.starts_with("22")) {
    err = InvalidArgument("value not accepted by the database");
  } else if (state == "40001") {
    err = Conflict("concurrent update conflict, retry");
  } else if (state == "40P01" || state == "55P03") {
    err = Unavailable("database lock conflict, retry later");
  } else if (state == "57014") {
    err = Timeout("database statement timed out");
  } else {
    err = Internal("database error");
  }
  boost::json::object fields{
      {"sqlstate", state}, {"error", primary}, {"sql", std::string(TruncatedSql(sql))}};
  if (expected) {
    log::Debug("postgres statement failed", std::move(fields));
  } else {
    log::Warn("postgres statement failed", std::move(fields));
  }
  return err;
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest exact round trip
  return std::string(buf, p);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Blob DecodeBytea(const char* text, int len) {
  if (len >= 2 && text[0] == '\\' && text[1] == 'x') {  // hex output (the default since 9.0)
    Blob b;
    b.bytes.reserve(static_cast<std::size_t>(len - 2) / 2);
    for (int i = 2; i + 1 < len; i += 2) {
      int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
      if (hi < 0 || lo < 0) break;
      b.bytes.push_back(static_cast<char>(hi << 4 | lo));
    }
    return b;
  }
  std::size_t n = 0;  // bytea_output = escape
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
  Blob b;
  if (raw) {
    b.bytes.assign(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
  }
  return b;
}

SqlValue DecodeValue(Oid type, const char* text, int len) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text, text + len, v);
      if (ec == std::errc() && p == text + len) return v;
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double v = 0;
      auto [p, ec] = std::from_chars(text, text + len, v);
      if (ec == std::errc() && p == text + len) return v;
      // from_chars rejects "Infinity"/"NaN" spellings on some libraries; strtod does not.
      return std::strtod(std::string(text, static_cast<std::size_t>(len)).c_str(), nullptr);
    }
    case kBoolOid:
      return std::int64_t{len > 0 && text[0] == 't' ? 1 : 0};
    case kByteaOid:
      return DecodeBytea(text, len);
    default:
      break;
  }
  return std::string(text, static_cast<std::size_t>(len));
}

QueryResult DecodeResult(const PGresult* res) {
  QueryResult out;
  int fields = PQnfields(res);
  int tuples = PQntuples(res);
  std::vector<Oid> types(static_cast<std::size_t>(fields));
  out.columns.reserve(types.size());
  for (int f = 0; f < fields; ++f) {
    out.columns.emplace_back(PQfname(res, f));
    types[static_cast<std::size_t>(f)] = PQftype(res, f);
  }
  out.rows.reserve(static_cast<std::size_t>(tuples));
  for (int r = 0; r < tuples; ++r) {
    std::vector<SqlValue> values;
    values.reserve(types.size());
    for (int f = 0; f < fields; ++f) {
      if (PQgetisnull(res, r, f)) {
        values.emplace_back(std::monostate{});
      } else {
        values.push_back(DecodeValue(types[static_cast<std::size_t>(f)], PQgetvalue(res, r, f),
                                     PQgetlength(res, r, f)));
      }
    }
    out.rows.emplace_back(std::move(values));
  }
  // Same rule as SQLite: a count only for statements that change rows.
  std::string_view tag = PQcmdStatus(const_cast<PGresult*>(res));
  if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE") ||
      tag.starts_with("MERGE")) {
    out.affected_rows = std::strtoll(PQcmdTuples(const_cast<PGresult*>(res)), nullptr, 10);
  }
  return out;
}

// One parameterized statement on c.
Result<QueryResult> Execute(PGconn* c, std::string_view sql, const std::vector<SqlValue>& params) {
  std::size_t n = params.size();
  std::vector<std::string> text(n);  // sized up front: values point into these strings
  std::vector<const char*> values(n, nullptr);
  std::vector<int> lengths(n, 0);
  std::vector<int> formats(n, 0);
  std::vector<Oid> types(n, 0);  // 0: let the server infer the type from the context
  for (std::size_t i = 0; i < n; ++i) {
    const SqlValue& v = params[i];
    if (auto* iv = std::get_if<std::int64_t>(&v)) {
      text[i] = std::to_string(*iv);
      values[i] = text[i].c_str();
    } else if (auto* dv = std::get_if<double>(&v)) {
      text[i] = DoubleText(*dv);
      values[i] = text[i].c_str();
    } else if (auto* sv = std::get_if<std::string>(&v)) {
      // libpq reads text parameters up to the first NUL, which would silently truncate.
      if (sv->find('\0') != std::string::npos) {
        return InvalidArgument("text value contains a NUL byte");
      }
      values[i] = sv->c_str();
    } else if (auto* bv = std::get_if<Blob>(&v)) {
      values[i] = bv->bytes.data();  // never null, so an empty blob stays non-NULL
      lengths[i] = static_cast<int>(bv->bytes.size());
      formats[i] = 1;
      types[i] = kByteaOid;
    }
  }
  std::string command(sql);
  PgResult res(PQexecParams(c, command.c_str(), static_cast<int>(n), types.data(), values.data(),
                            lengths.data(), formats.data(), /*resultFormat=*/0));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_EMPTY_QUERY) return QueryResult{};
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return MapError(c, res.get(), sql);
  return DecodeResult(res.get());
}

// A statement without parameters or rows (BEGIN/COMMIT/ROLLBACK, scripts). Returns the
// command tag of the last statement.
Result<std::string> Command(PGconn* c, std::string_view sql) {
  std::string command(sql);
  PgResult res(PQexec(c, command.c_str()));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    return MapError(c, res.get(), sql);
  }
  return std::string(PQcmdStatus(res.get()));
}

void NoticeToLog(void*, const char* message) {
  log::Debug("postgres notice", {{"message", OneLine(message ? message : "")}});
}

// A bounded set of connections. Callers block for a free one up to timeout; broken ones are
// closed on the way in or out and replaced by new connections on demand.
class Pool {
 public:
  Pool(std::string conninfo, std::string target, std::string password, std::size_t max_size,
       std::chrono::milliseconds timeout)
      : conninfo_(std::move(conninfo)),
        target_(std::move(target)),
        password_(std::move(password)),
        max_size_(max_size),
        timeout_(timeout) {}

  ~Pool() {
    for (PGconn* c : idle_) PQfinish(c);
  }

  Result<PGconn*> Acquire(bool startup = false) {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (!idle_.empty()) {
        PGconn* c = idle_.back();
        idle_.pop_back();
        lock.unlock();
        if (StillUsable(c)) return c;
        PQfinish(c);
        log::Info("postgres: dropped a broken pooled connection", {{"target", target_}});
        lock.lock();
        --total_;
        continue;
      }
      if (total_ < max_size_) {
        ++total_;
        lock.unlock();
        Result<PGconn*> c = Connect(startup);
        if (!c.ok()) {
          lock.lock();
          --total_;
          lock.unlock();
          cv_.notify_one();
        }
        return c;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          total_ >= max_size_) {
        log::Warn("postgres: connection pool exhausted",
                  {{"pool_size", max_size_}, {"waited_ms", timeout_.count()}});
        return Unavailable("database connection pool exhausted, retry later");
      }
    }
  }

  void Release(PGconn* c) {
    // Only a healthy connection with no open transaction is safe to hand to the next caller.
    bool reuse = PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
    if (!reuse) PQfinish(c);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (reuse) {
        idle_.push_back(c);
      } else {
        --total_;
      }
    }
    cv_.notify_one();
  }

  // Opens one connection for the pool (counted by the caller). At startup the error names
  // host:port and libpq's reason for the operator; later it reaches API clients, so it stays
  // generic and the details go to the log.
  Result<PGconn*> Connect(bool startup) {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    if (c == nullptr) return Unavailable("postgres: cannot allocate a connection");
    if (PQstatus(c) != CONNECTION_OK) {
      std::string why = Scrub(OneLine(PQerrorMessage(c)));
      PQfinish(c);
      log::Warn("postgres: connect failed", {{"target", target_}, {"error", why}});
      if (!startup) return Unavailable("database unavailable, retry later");
      return Unavailable("postgres: cannot connect to " + target_ + ": " + why);
    }
    PQsetNoticeProcessor(c, NoticeToLog, nullptr);
    return c;
  }

  std::size_t max_size() const { return max_size_; }

 private:
  // An idle connection has nothing to say: if its socket is readable, the server has sent a
  // goodbye (shutdown, restart, pg_terminate_backend) or closed it, so it is not reused.
  static bool StillUsable(PGconn* c) {
    if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) return false;
    pollfd p{PQsocket(c), POLLIN, 0};
    if (p.fd < 0) return false;
    int n = ::poll(&p, 1, 0);
    return n == 0;
  }

  // Some libpq URI errors quote the whole URI; never let the password through.
  std::string Scrub(std::string text) const {
    if (password_.size() < 3) return text;
    for (std::size_t pos; (pos = text.find(password_)) != std::string::npos;) {
      text.replace(pos, password_.size(), "***");
    }
    return text;
  }

  const std::string conninfo_;
  const std::string target_;
  const std::string password_;
  const std::size_t max_size_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PGconn*> idle_;
  std::size_t total_ = 0;  // idle + leased + being opened
};

class Lease {
 public:
  Lease(Pool& pool, PGconn* c) : pool_(pool), c_(c) {}
  ~Lease() { pool_.Release(c_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  PGconn* get() const { return c_; }

 private:
  Pool& pool_;
  PGconn* c_;
};

// Rolls back whatever a statement run outside Transaction() left open (BEGIN through Query).
Status EnsureIdle(PGconn* c, std::string_view sql) {
  if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) == PQTRANS_IDLE) return Ok();
  PgResult(PQexec(c, "ROLLBACK"));
  log::Warn("postgres query left a transaction open", {{"sql", std::string(TruncatedSql(sql))}});
  return Internal("transaction control statements are not allowed; use Database::Transaction");
}

class TxSession final : public SqlSession, public AbortOnFirstError {
 public:
  explicit TxSession(PGconn* c) : c_(c) {}

  Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    if (aborted()) return AbortedError();
    Result<QueryResult> r = Execute(c_, sql, params);
    if (!r.ok()) return Fail(r.take_error());
    if (!StillInTransaction()) return Fail(EndedError("postgres", sql));
    return r;
  }

  Status ExecScript(std::string_view sql) override {
    if (aborted()) return AbortedError();
    Result<std::string> r = Command(c_, sql);
    if (!r.ok()) return Fail(r.take_error());
    if (!StillInTransaction()) return Fail(EndedError("postgres", sql));
    return Ok();
  }

 private:
  bool StillInTransaction() const { return PQtransactionStatus(c_) == PQTRANS_INTRANS; }

  PGconn* c_;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  std::string_view Dialect() const override { return "postgres"; }

  Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    if (InTransactionOn(this)) return ReentryError();
    VEZA_ASSIGN_OR_RETURN(PGconn * c, pool_->Acquire());
    Lease lease(*pool_, c);
    Result<QueryResult> r = Execute(c, sql, params);
    VEZA_TRY(EnsureIdle(c, sql));
    return r;
  }

  Status ExecScript(std::string_view sql) override {
    if (InTransactionOn(this)) return ReentryError();
    VEZA_ASSIGN_OR_RETURN(PGconn * c, pool_->Acquire());
    Lease lease(*pool_, c);
    Result<std::string> r = Command(c, sql);
    VEZA_TRY(EnsureIdle(c, sql));
    if (!r.ok()) return r.take_error();
    return Ok();
  }

  Status Transaction(const std::function<Status(SqlSession&)>& fn) override {
    if (InTransactionOn(this)) return ReentryError();
    VEZA_ASSIGN_OR_RETURN(PGconn * c, pool_->Acquire());
    // If fn throws, the lease sees the open transaction and closes the connection.
    Lease lease(*pool_, c);
    TransactionMark mark(this);
    VEZA_TRY(Command(c, "BEGIN"));
    TxSession session(c);
    Status result = fn(session);
    if (result.ok() && session.aborted()) {
      const Error& first = session.first_error();
      result =
          Error{first.code, "transaction aborted by an earlier failed statement: " + first.message};
    }
    if (!result.ok()) {
      if (!ConnectionLost(c)) PgResult(PQexec(c, "ROLLBACK"));
      return result;
    }
    Result<std::string> tag = Command(c, "COMMIT");
    if (!tag.ok()) {
      if (ConnectionLost(c)) {
        return Unavailable("database connection lost during commit; the outcome is unknown");
      }
      return tag.take_error();
    }
    if (*tag != "COMMIT") {  // the server answers ROLLBACK when the transaction had failed
      log::Warn("postgres transaction rolled back at commit", {{"tag", *tag}});
      return Internal("database transaction was rolled back");
    }
    return Ok();
  }

  Status Ping() override {
    // A second try covers a connection that died between the pool's check and the query.
    for (int attempt = 0;; ++attempt) {
      VEZA_ASSIGN_OR_RETURN(PGconn * c, pool_->Acquire());
      Lease lease(*pool_, c);
      Result<QueryResult> r = Execute(c, "SELECT 1", {});
      if (r.ok()) {
        if (r->rows.size() != 1 || r->rows[0].Int(0) != 1) return Internal("database ping failed");
        return Ok();
      }
      if (attempt > 0 || !ConnectionLost(c)) return r.take_error();
    }
  }

 private:
  std::unique_ptr<Pool> pool_;
};

bool ParsePositive(std::string_view text, std::size_t& out) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v == 0) return false;
  out = v;
  return true;
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgresDatabase(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "postgres" && parsed->scheme() != "postgresql")) {
    return InvalidArgument("postgres: URL must look like postgres://user@host:port/db");
  }
  if (!PQisthreadsafe()) return Internal("postgres: libpq built without thread safety");
  boost::urls::url u = *parsed;

  std::size_t pool_size = kDefaultPoolSize;
  std::size_t timeout_ms = kDefaultPoolTimeoutMs;
  auto params = u.params();
  for (auto it = params.begin(); it != params.end();) {
    auto p = *it;
    if (p.key == "pool_size") {
      if (!ParsePositive(p.value, pool_size) || pool_size > kMaxPoolSize) {
        return InvalidArgument("postgres: pool_size must be between 1 and 256");
      }
      it = params.erase(it);
    } else if (p.key == "pool_timeout_ms") {
      if (!ParsePositive(p.value, timeout_ms)) {
        return InvalidArgument("postgres: pool_timeout_ms must be a positive integer");
      }
      it = params.erase(it);
    } else {
      ++it;
    }
  }
  // Fail fast when the server is unreachable, speak UTF-8 whatever the server's default, and
  // show up as veza in pg_stat_activity.
  if (!params.contains("connect_timeout")) params.append({"connect_timeout", "3"});
  if (!params.contains("client_encoding")) params.append({"client_encoding", "UTF8"});
  if (!params.contains("application_name")) params.append({"application_name", "veza"});

  std::string host = u.has_authority() && !u.host().empty() ? std::string(u.host()) : "localhost";
  if (params.contains("host")) host = (*params.find("host")).value;
  std::string port = u.has_port() ? std::string(u.port()) : "5432";
  if (params.contains("port")) port = (*params.find("port")).value;
  std::string target = host + ":" + port;
  std::string password = u.has_password() ? std::string(u.password()) : "";
  if (params.contains("password")) password = (*params.find("password")).value;

  auto pool = std::make_unique<Pool>(std::string(u.buffer()), target, password, pool_size,
                                     std::chrono::milliseconds(timeout_ms));
  // Connect once now: a wrong URL or a down server must stop startup, not the first request.
  VEZA_ASSIGN_OR_RETURN(PGconn * first, pool->Acquire(/*startup=*/true));
  pool->Release(first);
  log::Info("postgres database open",
            {{"url", RedactUrl(url)}, {"pool_size", pool_size}, {"pool_timeout_ms", timeout_ms}});
  return std::unique_ptr<Database>(new PostgresDatabase(std::move(pool)));
}

}  // namespace veza
