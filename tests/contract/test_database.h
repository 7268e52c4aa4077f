#pragma once
// A throw-away database for one test: a fresh SQLite file in a temp dir, or a fresh database on
// the PostgreSQL server named by VEZA_TEST_POSTGRES_URL (created here, dropped at the end), so
// tests can run in parallel against one server.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "backends/postgres/postgres_database.h"
#include "backends/sqlite/sqlite_database.h"
#include "ports/database.h"
#include "test_support.h"

namespace veza::test {

inline std::string AddUrlParam(std::string url, std::string_view kv) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += kv;
  return url;
}

inline std::string WithDatabaseName(const std::string& url, const std::string& name) {
  boost::urls::url u = *boost::urls::parse_uri(url);
  u.set_path("/" + name);
  return std::string(u.buffer());
}

inline Result<std::unique_ptr<Database>> OpenDatabaseUrl(const std::string& url) {
  if (url.starts_with("sqlite:")) return OpenSqliteDatabase(url);
  return OpenPostgresDatabase(url);
}

class TestDatabase {
 public:
  // dialect: "sqlite" or "postgres". Check ok() (failures are already reported to gtest).
  explicit TestDatabase(const std::string& dialect) {
    if (dialect == "sqlite") {
      std::string templ = (std::filesystem::temp_directory_path() / "veza-db-test-XXXXXX").string();
      if (::mkdtemp(templ.data()) == nullptr) {
        ADD_FAILURE() << "mkdtemp failed";
        return;
      }
      dir_ = templ;
      url_ = "sqlite://" + dir_ + "/test.db";  // dir_ is absolute: sqlite:///tmp/...
    } else {
      const char* admin = std::getenv("VEZA_TEST_POSTGRES_URL");
      if (admin == nullptr || *admin == '\0') {
        ADD_FAILURE() << "VEZA_TEST_POSTGRES_URL is not set. The postgres tests need a real server: "
                         "run them under scripts/test-services, e.g. "
                         "`scripts/test-services run -- ctest --test-dir build -R Database`";
        return;
      }
      admin_url_ = admin;
      auto a = OpenPostgresDatabase(AddUrlParam(admin_url_, "pool_size=1"));
      if (!IsOk(a)) {
        ADD_FAILURE() << IsOk(a).message();
        return;
      }
      admin_ = std::move(*a);
      db_name_ = "veza_t_" + RandomToken();
      if (auto r = admin_->Query("CREATE DATABASE " + db_name_ + " TEMPLATE template0"); !r.ok()) {
        ADD_FAILURE() << r.error().message;
        return;
      }
      url_ = WithDatabaseName(admin_url_, db_name_);
    }
    auto db = OpenDatabaseUrl(url_);
    if (!IsOk(db)) {
      ADD_FAILURE() << IsOk(db).message();
      return;
    }
    db_ = std::move(*db);
  }

  ~TestDatabase() {
    db_.reset();
    if (admin_) {
      EXPECT_OK(admin_->Query("DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)"));
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool ok() const { return db_ != nullptr; }
  Database& db() { return *db_; }
  std::unique_ptr<Database>& owned() { return db_; }
  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& name() const { return db_name_; }
  Database* admin() { return admin_.get(); }

 private:
  std::string dir_, admin_url_, db_name_, url_;
  std::unique_ptr<Database> admin_;
  std::unique_ptr<Database> db_;
};

}  // namespace veza::test
