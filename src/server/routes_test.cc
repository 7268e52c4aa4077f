#include "server/routes.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "api/http/openapi.h"
#include "services/moderation/lexicon_classifier.h"
#include "veza_process.h"

namespace veza::server {
namespace {

TEST(Routes, EveryRouteIsInTheOpenApiDocumentAndBack) {
  http::Router router;
  http::Metrics metrics;
  boost::asio::thread_pool workers(1);
  veza::test::TempDir dir;
  auto backends = OpenBackends({"sqlite://" + (dir.path() / "db.sqlite").string(),
                                "file://" + (dir.path() / "blobs").string(), "inproc://", "memory://",
                                "outbox://"});
  ASSERT_TRUE(backends.ok()) << backends.error().message;
  SystemClock clock;
  auth::AuthService auth(*backends->database, *backends->cache, clock, {});
  auth::AdminService admin(*backends->database, *backends->cache, clock);
  auth::EmailService email(*backends->database, *backends->cache, *backends->mailer, clock, {});
  notifications::NotificationService notifications(*backends->database, *backends->bus, clock);
  tracks::TrackService tracks(*backends->database, *backends->blobs, *backends->bus, nullptr, clock, {}, "secret");
  tracks::UploadService uploads(tracks, clock);
  chat::ChatService chat(*backends->database, *backends->bus, *backends->cache, clock, &notifications, &tracks);
  auth::OAuthService oauth(*backends->database, *backends->cache, *backends->http, clock, auth, {});
  auth::AvatarService avatars(*backends->database, *backends->blobs, *backends->images, clock);
  moderation::LexiconClassifier classifier;
  moderation::ModerationService moderation(*backends->database, *backends->bus, clock, classifier);
  search::SearchService search(*backends->database);
  social::SocialService social(*backends->database, tracks, clock);
  analytics::AnalyticsService analytics(*backends->database, *backends->bus, clock, {});
  social::PlaylistCoverService covers(*backends->database, *backends->blobs, *backends->images, social);
  moderation::TrackTakedowns takedowns(*backends->database, notifications, clock);
  RegisterRoutes(router, {metrics, workers, backends.value(), auth, admin, email, chat, tracks, uploads, oauth, avatars,
                          search, notifications, "http,ws", "http://localhost:8080", social, analytics, covers, &moderation,
                          &takedowns});

  auto documented = http::OpenApiOperations(http::OpenApiDocumentText());
  ASSERT_FALSE(documented.empty());
  for (const std::string& route : router.Routes()) {
    EXPECT_NE(std::find(documented.begin(), documented.end(), route), documented.end())
        << route << " is served but missing from docs/api/openapi.yaml";
  }
  auto served = router.Routes();
  for (const std::string& op : documented) {
    EXPECT_NE(std::find(served.begin(), served.end(), op), served.end())
        << op << " is documented but not served";
  }
  workers.join();
}

TEST(Routes, HasRoleReadsTheCommaSeparatedList) {
  EXPECT_TRUE(HasRole("http,ws,media", "ws"));
  EXPECT_TRUE(HasRole("media", "media"));
  EXPECT_FALSE(HasRole("http,media", "ws"));
  EXPECT_FALSE(HasRole("https", "http"));
  EXPECT_FALSE(HasRole("", "http"));
}

TEST(OpenApiOperations, ReadsPathsAndMethodsOnly) {
  auto ops = http::OpenApiOperations(
      "openapi: 3.1.0\npaths:\n  /a/{id}:\n    get:\n      summary: x\n    delete:\n      x: 1\n"
      "    parameters:\n      - name: id\ncomponents:\n  /not-a-path:\n    get:\n");
  EXPECT_EQ(ops, (std::vector<std::string>{"GET /a/{id}", "DELETE /a/{id}"}));
}

}  // namespace
}  // namespace veza::server
