#pragma once
// A fixture for functional tests of the REST API: starts the real binary on the embedded
// defaults (or on a fresh PostgreSQL database, DatabaseKind) in a fresh working directory, with
// helpers to call it, query its database and check problem answers.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "http_client.h"
#include "test_support.h"
#include "veza_process.h"

namespace veza::test {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--no-access-log"};
    if (DatabaseKind() == "postgres") {
      // A fresh database per test on the server scripts/test-services started.
      pg_base_url_ = Env("VEZA_TEST_POSTGRES_URL");
      ASSERT_FALSE(pg_base_url_.empty()) << "run under scripts/test-services, which starts PostgreSQL";
      pg_database_ = "veza_t_" + std::to_string(::getpid()) + "_" + std::to_string(FreeLoopbackPort());
      ASSERT_EQ(std::system(("psql '" + pg_base_url_ + "' -qAt -c 'CREATE DATABASE " + pg_database_ + "'").c_str()), 0);
      args.push_back("--database");
      args.push_back(PostgresUrl());
    }
    for (auto& a : ExtraServeArgs()) args.push_back(a);
    veza_ = std::make_unique<VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }
  void TearDown() override {
    if (pg_database_.empty()) return;
    if (veza_) veza_->Stop(SIGTERM);
    std::system(("psql '" + pg_base_url_ + "' -qAt -c 'DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)'").c_str());
  }
  virtual std::vector<std::string> ExtraServeArgs() const { return {}; }
  // "sqlite" (the embedded default) or "postgres" (a fresh database on VEZA_TEST_POSTGRES_URL).
  virtual std::string DatabaseKind() const { return "sqlite"; }
  std::string PostgresUrl() const {
    return pg_base_url_.substr(0, pg_base_url_.rfind('/') + 1) + pg_database_;
  }

  // Runs one SQL statement on the test's database with its CLI (sqlite3 or psql) and returns
  // the output: one row per line, columns separated by '|'.
  std::string Sql(const std::string& statement) {
    std::string cmd = DatabaseKind() == "postgres"
                          ? "psql '" + PostgresUrl() + "' -qAt -c \"" + statement + "\""
                          : "sqlite3 -cmd '.timeout 5000' " + (dir_.path() / "data" / "veza.db").string() + " \"" +
                                statement + "\"";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
      ADD_FAILURE() << "popen failed";
      return out;
    }
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    return out;
  }

  // Any method with an optional JSON body and bearer token.
  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& bearer = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers});
  }
  // POST always declaring a JSON body, even an empty one.
  HttpResponse Post(const std::string& target, const std::string& body, const std::string& bearer = "") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {"POST", target, body, headers});
  }

  struct TestAccount {
    std::string id, name, access;
  };
  // A new account (password "violet kettle 93 drums"), signed in.
  TestAccount SignUp(const std::string& name) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    boost::json::object o = boost::json::parse(r.body).as_object();
    return {Str(o.at("user").as_object(), "id"), name, Str(o, "access_token")};
  }

  // A track uploaded by `owner` (5 s of noise as a WAV) and marked ready by hand, for tests
  // that run without the media role; its id, or "" when the upload failed.
  std::string UploadReadyTrack(const TestAccount& owner, const std::string& title,
                               const std::string& visibility = "public", std::int64_t duration_ms = 1000) {
    auto field = [](const std::string& name, const std::string& value) {
      return "--B\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    };
    std::string body = field("title", title) + field("visibility", visibility) +
                       "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n" +
                       NoiseWav(2000, 5) + "\r\n--B--\r\n";
    auto r = Http("127.0.0.1", veza_->port(),
                  {"POST", "/api/v1/tracks", body,
                   {{"Content-Type", "multipart/form-data; boundary=B"}, {"Authorization", "Bearer " + owner.access}}});
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    std::string id = Str(boost::json::parse(r.body).as_object(), "id");
    Sql("UPDATE tracks SET state='ready', duration_ms=" + std::to_string(duration_ms) + " WHERE id='" + id + "'");
    return id;
  }

  static std::string Str(const boost::json::object& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  static void ExpectProblem(const HttpResponse& r, int status, const std::string& detail_part = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << r.body;
    if (!detail_part.empty()) {
      EXPECT_NE(r.body.find(detail_part), std::string::npos) << r.body;
    }
  }

  TempDir dir_;
  std::unique_ptr<VezaProcess> veza_;
  std::string pg_base_url_, pg_database_;
};

}  // namespace veza::test
