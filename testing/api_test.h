#pragma once
// A fixture for functional tests of the REST API: starts the real binary on the embedded
// defaults in a fresh working directory, with helpers to call it and check problem answers.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <vector>

#include "http_client.h"
#include "veza_process.h"

namespace veza::test {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--no-access-log"};
    for (auto& a : ExtraServeArgs()) args.push_back(a);
    veza_ = std::make_unique<VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(veza_->Start()) << veza_->Log();
  }
  virtual std::vector<std::string> ExtraServeArgs() const { return {}; }

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
};

}  // namespace veza::test
