#include "backends/moderation_http/http_content_classifier.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>

#include "base/log.h"

namespace veza {

namespace json = boost::json;

HttpContentClassifier::HttpContentClassifier(HttpFetcher& http, HttpClassifierOptions options)
    : http_(http), options_(std::move(options)) {}

Classification HttpContentClassifier::Failed(std::string_view why) const {
  log::Warn("moderation classifier failed", {{"why", why}, {"fail_open", options_.fail_open}});
  Classification c;
  c.flagged = !options_.fail_open;
  c.reason = "classifier_unavailable";
  return c;
}

Result<Classification> HttpContentClassifier::Classify(const ClassifyRequest& request) {
  FetchRequest fetch;
  fetch.method = "POST";
  fetch.url = options_.url;
  fetch.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  json::object body;
  body["text"] = request.text;
  body["user_id"] = request.user_id;
  body["room_id"] = request.room_id;
  fetch.body = json::serialize(body);
  fetch.timeout = options_.timeout;
  fetch.max_response_bytes = 64 * 1024;
  auto answer = http_.Fetch(fetch);
  if (!answer.ok()) return Failed(answer.error().message);
  if (answer->status != 200) return Failed("status " + std::to_string(answer->status));
  boost::system::error_code ec;
  json::value v = json::parse(answer->body, ec);
  if (ec || !v.is_object()) return Failed("answer is not a JSON object");
  const json::object& o = v.as_object();
  auto flagged = o.find("flagged");
  if (flagged == o.end() || !flagged->value().is_bool()) return Failed("answer has no boolean 'flagged'");
  Classification c;
  c.flagged = flagged->value().as_bool();
  if (auto score = o.find("score"); score != o.end() && score->value().is_number()) {
    c.score = std::clamp(score->value().to_number<double>(), 0.0, 1.0);
  } else {
    c.score = c.flagged ? 1.0 : 0.0;
  }
  if (auto reason = o.find("reason"); reason != o.end() && reason->value().is_string()) {
    // Shown to the sender: keep it short and printable.
    std::string text(std::string_view(reason->value().as_string()).substr(0, 64));
    std::erase_if(text, [](char ch) { return static_cast<unsigned char>(ch) < 0x20; });
    c.reason = text;
  }
  if (c.flagged && c.reason.empty()) c.reason = "classifier";
  return c;
}

}  // namespace veza
