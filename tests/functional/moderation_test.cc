// Chat moderation against the real binary over HTTP and WebSocket (docs/moderation.md): the word
// filter and spam rules on live messages, reports and the moderators' queue, mutes, kicks and
// bans (a banned socket leaves the room at once and cannot rejoin), the REST surface's bad input,
// and the HTTP classifier backend against a real local model server.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>

#include "api_test.h"
#include "chat_client.h"
#include "http_client.h"

namespace veza {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using namespace std::chrono_literals;

using test::ChatClient;

std::string S(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

class ModerationTest : public test::ApiTest {
 protected:
  struct User {
    std::string id, token, name;
  };
  User Register(const std::string& name, const std::string& role = "user") {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = json::parse(r.body).as_object();
    User u{S(o.at("user").as_object(), "id"), S(o, "access_token"), name};
    if (role != "user") Sql("UPDATE users SET role='" + role + "' WHERE id='" + u.id + "'");
    return u;
  }
  std::string CreateRoom(const User& owner, const std::string& name) {
    auto r = Post("/api/v1/chat/rooms", R"({"name":")" + name + R"("})", owner.token);
    EXPECT_EQ(r.status, 201) << r.body;
    return S(json::parse(r.body).as_object(), "id");
  }
  std::unique_ptr<ChatClient> Connect(const User& u) {
    auto ticket = Post("/api/v1/chat/ticket", "", u.token);
    EXPECT_EQ(ticket.status, 200) << ticket.body;
    auto s = std::make_unique<ChatClient>();
    s->SkipPresence(true);
    EXPECT_FALSE(s->Connect(veza_->port(), S(json::parse(ticket.body).as_object(), "ticket"), std::chrono::seconds(5)));
    auto hello = s->Next();
    EXPECT_TRUE(hello && S(*hello, "type") == "hello");
    return s;
  }
  // Joins over the socket; returns the answer frame ("joined" or "error"), skipping live
  // messages of other rooms.
  json::object Join(ChatClient& s, const std::string& room) {
    s.Send({{"type", "join"}, {"room", room}});
    for (int i = 0; i < 20; ++i) {
      auto f = s.Next();
      if (!f) break;
      if (S(*f, "type") == "joined" || S(*f, "type") == "error") return *f;
    }
    ADD_FAILURE() << "no answer to join";
    return {};
  }
  // The next live message whose body is body, skipping others.
  std::optional<json::object> MessageWithBody(ChatClient& s, const std::string& body) {
    for (int i = 0; i < 20; ++i) {
      auto f = s.NextOfType("message");
      if (!f) return std::nullopt;
      if (S(f->at("message").as_object(), "body") == body) return f;
    }
    return std::nullopt;
  }
  // Sends and returns the answer frame for it ("ack" or "error"), skipping live messages.
  json::object Say(ChatClient& s, const std::string& room, const std::string& body) {
    std::string id = "c" + std::to_string(++client_ids_);
    s.Send({{"type", "send"}, {"room", room}, {"client_id", id}, {"body", body}});
    for (int i = 0; i < 20; ++i) {
      auto f = s.Next();
      if (!f) break;
      if (S(*f, "type") == "ack" || S(*f, "type") == "error") return *f;
    }
    ADD_FAILURE() << "no answer to send";
    return {};
  }
  // Proves nothing else is queued for s: a ping's pong comes next (frames are in order).
  void ExpectNothingPending(ChatClient& s) {
    s.Send({{"type", "ping"}});
    auto f = s.Next();
    ASSERT_TRUE(f);
    EXPECT_EQ(S(*f, "type"), "pong") << json::serialize(*f);
  }
  test::HttpResponse Delete(const std::string& target, const std::string& body, const std::string& token) {
    return Send("DELETE", target, body, token);
  }
  int client_ids_ = 0;
};

TEST_F(ModerationTest, WordFilterMasksAndBlocksLiveMessages) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice"), bob = Register("bob");
  auto added = Post("/api/v1/moderation/words", R"({"word":"Shit","action":"mask"})", mona.token);
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(S(json::parse(added.body).as_object(), "word"), "shit");
  ASSERT_EQ(Post("/api/v1/moderation/words", R"({"word":"nazi","action":"block"})", mona.token).status, 201);
  ExpectProblem(Post("/api/v1/moderation/words", R"({"word":"shit","action":"block"})", mona.token), 409);

  std::string room = CreateRoom(mona, "lobby");
  auto a = Connect(alice);
  auto b = Connect(bob);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  ASSERT_EQ(S(Join(*b, room), "type"), "joined");

  auto ack = Say(*a, room, "well sh1t, that $h!!!t is l0ud");
  ASSERT_EQ(S(ack, "type"), "ack") << json::serialize(ack);
  EXPECT_EQ(S(ack.at("message").as_object(), "body"), "well ****, that ****** is l0ud");
  EXPECT_TRUE(MessageWithBody(*b, "well ****, that ****** is l0ud")) << "others get the masked text";

  auto refused = Say(*a, room, "you n.4.z.1");
  EXPECT_EQ(S(refused, "type"), "error");
  EXPECT_EQ(S(refused, "code"), "message_blocked");
  EXPECT_EQ(S(refused, "reason"), "word_filter");
  EXPECT_EQ(S(refused, "ref"), "c2");
  ExpectNothingPending(*b);  // nobody saw it
  auto history = Send("GET", "/api/v1/chat/rooms/" + room + "/messages", "", bob.token);
  EXPECT_EQ(json::parse(history.body).at("messages").as_array().size(), 1u);

  // The socket keeps working after a refusal.
  EXPECT_EQ(S(Say(*a, room, "sorry"), "type"), "ack");
}

class ModerationSpamTest : public ModerationTest {
 protected:
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--moderation-repeat-limit", "2", "--moderation-max-links", "2", "--moderation-new-account-age", "3600",
            "--moderation-burst-limit", "8"};
  }
};

TEST_F(ModerationSpamTest, RepeatsLinksCapsAndBurstsAreRefusedWithAReason) {
  User owner = Register("owner");
  std::string room = CreateRoom(owner, "lobby");
  auto s = Connect(owner);
  ASSERT_EQ(S(Join(*s, room), "type"), "joined");
  EXPECT_EQ(S(Say(*s, room, "check my mix"), "type"), "ack");
  EXPECT_EQ(S(Say(*s, room, "Check my mix!"), "type"), "ack");
  auto repeat = Say(*s, room, "CHECK  my m1x");
  EXPECT_EQ(S(repeat, "code"), "message_blocked");
  EXPECT_EQ(S(repeat, "reason"), "repeat");
  // A new account (younger than an hour here) posts no links at all.
  auto link = Say(*s, room, "free beats at https://spam.example/now");
  EXPECT_EQ(S(link, "reason"), "new_account_links");
  Sql("UPDATE users SET created_at = 0 WHERE id = '" + owner.id + "'");
  EXPECT_EQ(S(Say(*s, room, "my page: https://example.com/me"), "type"), "ack");
  EXPECT_EQ(S(Say(*s, room, "a.com b.com https://c.example"), "reason"), "links");
  EXPECT_EQ(S(Say(*s, room, "LISTEN TO THIS RIGHT NOW PEOPLE"), "reason"), "caps");
  // Five messages went through so far (acks above); the burst limit is eight in ten seconds.
  int acks = 0;
  std::string reason;
  for (int i = 0; i < 6; ++i) {
    auto f = Say(*s, room, "line number " + std::to_string(i) + " of my lyrics");
    if (S(f, "type") == "ack") ++acks;
    else reason = S(f, "reason");
  }
  EXPECT_EQ(reason, "burst");
  EXPECT_LT(acks, 6);
}

TEST_F(ModerationTest, BannedUserLeavesTheRoomAtOnceAndCannotRejoinUntilLifted) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(bob, "lobby");
  std::string other = CreateRoom(bob, "elsewhere");
  auto a = Connect(alice);
  auto b = Connect(bob);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  ASSERT_EQ(S(Join(*a, other), "type"), "joined");
  ASSERT_EQ(S(Join(*b, room), "type"), "joined");

  auto ban = Post("/api/v1/moderation/sanctions",
                  R"({"action":"ban","user_id":")" + alice.id + R"(","room_id":")" + room +
                      R"(","duration_seconds":3600,"reason":"harassment"})",
                  mona.token);
  ASSERT_EQ(ban.status, 201) << ban.body;
  auto ban_json = json::parse(ban.body).as_object();
  EXPECT_EQ(S(ban_json, "kind"), "ban");
  EXPECT_TRUE(ban_json.at("active").as_bool());

  auto removed = a->Next();  // at once: the very next frame
  ASSERT_TRUE(removed);
  EXPECT_EQ(S(*removed, "type"), "removed");
  EXPECT_EQ(S(*removed, "room"), room);
  EXPECT_EQ(S(*removed, "reason"), "ban");

  // Bob's message no longer reaches alice; the other room still does.
  EXPECT_EQ(S(Say(*b, room, "is she gone?"), "type"), "ack");
  ExpectNothingPending(*a);
  auto refused = Join(*a, room);
  EXPECT_EQ(S(refused, "type"), "error");
  EXPECT_EQ(S(refused, "code"), "banned");
  EXPECT_TRUE(refused.at("until").is_int64());
  auto send = Say(*a, room, "let me back");
  EXPECT_EQ(S(send, "code"), "banned");
  ExpectProblem(Post("/api/v1/chat/rooms/" + room + "/join", "", alice.token), 403);
  EXPECT_EQ(S(Say(*a, other, "still here"), "type"), "ack");

  auto listed = Send("GET", "/api/v1/moderation/sanctions?kind=ban", "", mona.token);
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(json::parse(listed.body).at("sanctions").as_array().size(), 1u);

  auto lifted = Delete("/api/v1/moderation/sanctions/" + S(ban_json, "id"), R"({"reason":"appeal"})", mona.token);
  ASSERT_EQ(lifted.status, 200) << lifted.body;
  EXPECT_FALSE(json::parse(lifted.body).at("active").as_bool());
  ExpectProblem(Delete("/api/v1/moderation/sanctions/" + S(ban_json, "id"), R"({"reason":"again"})", mona.token), 409);
  EXPECT_EQ(S(Join(*a, room), "type"), "joined");
  EXPECT_EQ(S(Say(*b, room, "welcome back"), "type"), "ack");
  EXPECT_TRUE(MessageWithBody(*a, "welcome back")) << "listening again after the lift";

  // Every action is in the audit log.
  User adam = Register("adam", "admin");
  auto audit = Send("GET", "/api/v1/admin/audit-log", "", adam.token);
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("\"moderation.ban\""), std::string::npos);
  EXPECT_NE(audit.body.find("\"moderation.unban\""), std::string::npos);
}

TEST_F(ModerationTest, GlobalBanClosesEverySocketOfTheUserWith4003) {
  User adam = Register("adam", "admin");
  User alice = Register("alice");
  std::string room = CreateRoom(adam, "lobby");
  auto a1 = Connect(alice);
  auto a2 = Connect(alice);  // not in any room: still closed
  ASSERT_EQ(S(Join(*a1, room), "type"), "joined");
  auto ban = Post("/api/v1/moderation/sanctions",
                  R"({"action":"ban","user_id":")" + alice.id + R"(","global":true,"reason":"spam bot"})", adam.token);
  ASSERT_EQ(ban.status, 201) << ban.body;
  for (ChatClient* s : {a1.get(), a2.get()}) {
    auto f = s->NextOfType("banned");
    ASSERT_TRUE(f);
    EXPECT_EQ(S(*f, "scope"), "global");
    EXPECT_FALSE(s->Next());
    EXPECT_EQ(s->last_error(), websocket::error::closed);
    EXPECT_EQ(s->close_reason().code, 4003);
  }
  auto again = Connect(alice);
  EXPECT_EQ(S(Join(*again, room), "code"), "banned");
}

TEST_F(ModerationTest, MutedUserGetsErrorFramesOthersTalkOn) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(bob, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  auto mute = Post("/api/v1/moderation/sanctions",
                   R"({"action":"mute","user_id":")" + alice.id + R"(","room_id":")" + room +
                       R"(","duration_seconds":2,"reason":"cool down"})",
                   mona.token);
  ASSERT_EQ(mute.status, 201) << mute.body;
  auto refused = Say(*a, room, "hello?");
  EXPECT_EQ(S(refused, "type"), "error");
  EXPECT_EQ(S(refused, "code"), "muted");
  EXPECT_TRUE(refused.at("until").is_int64());
  auto b = Connect(bob);
  ASSERT_EQ(S(Join(*b, room), "type"), "joined");
  EXPECT_EQ(S(Say(*b, room, "I can talk"), "type"), "ack");
  std::this_thread::sleep_for(2100ms);  // the mute expires
  EXPECT_EQ(S(Say(*a, room, "hello again"), "type"), "ack");
}

TEST_F(ModerationTest, KickRemovesFromTheRoomButAllowsRejoining) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice");
  std::string room = CreateRoom(mona, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  auto kick = Post("/api/v1/moderation/sanctions",
                   R"({"action":"kick","user_id":")" + alice.id + R"(","room_id":")" + room + R"(","reason":"off topic"})",
                   mona.token);
  ASSERT_EQ(kick.status, 204) << kick.body;
  auto removed = a->Next();
  ASSERT_TRUE(removed);
  EXPECT_EQ(S(*removed, "type"), "removed");
  EXPECT_EQ(S(*removed, "reason"), "kick");
  EXPECT_EQ(S(Say(*a, room, "hm"), "code"), "permission_denied") << "not a member any more";
  EXPECT_EQ(S(Join(*a, room), "type"), "joined");
  EXPECT_EQ(S(Say(*a, room, "back"), "type"), "ack");
}

TEST_F(ModerationTest, ReportsReachTheQueueWithContextAndAreResolved) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(bob, "lobby");
  auto a = Connect(alice);
  auto b = Connect(bob);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  ASSERT_EQ(S(Join(*b, room), "type"), "joined");
  EXPECT_EQ(S(Say(*b, room, "what do you think of my track?"), "type"), "ack");
  auto bad = Say(*a, room, "it is garbage and so are you");
  ASSERT_EQ(S(bad, "type"), "ack");
  std::string message_id = S(bad.at("message").as_object(), "id");
  EXPECT_EQ(S(Say(*b, room, "wow, ok"), "type"), "ack");

  auto report = Post("/api/v1/moderation/reports", R"({"message_id":")" + message_id + R"(","reason":"insult"})",
                     bob.token);
  ASSERT_EQ(report.status, 201) << report.body;
  std::string report_id = S(json::parse(report.body).as_object(), "id");
  ExpectProblem(Post("/api/v1/moderation/reports", R"({"message_id":")" + message_id + R"(","reason":"insult"})",
                     bob.token),
                409);
  ExpectProblem(Post("/api/v1/moderation/reports", R"({"message_id":")" + message_id + R"(","reason":"me"})",
                     alice.token),
                400);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports", "", bob.token), 403);

  auto queue = Send("GET", "/api/v1/moderation/reports", "", mona.token);
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(queue.Header("cache-control"), "private, no-store");
  auto reports = json::parse(queue.body).at("reports").as_array();
  ASSERT_EQ(reports.size(), 1u);
  const auto& r = reports[0].as_object();
  EXPECT_EQ(S(r, "id"), report_id);
  EXPECT_EQ(S(r.at("message").as_object(), "body"), "it is garbage and so are you");
  EXPECT_EQ(S(r.at("reporter").as_object(), "username"), "bob");
  EXPECT_EQ(S(r.at("reported_user").as_object(), "username"), "alice");
  EXPECT_EQ(r.at("context").as_array().size(), 3u);

  auto resolved = Post("/api/v1/moderation/reports/" + report_id + "/resolve",
                       R"({"action":"delete_message","reason":"insult"})", mona.token);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(S(json::parse(resolved.body).as_object(), "status"), "resolved");
  // Sockets in the room learn the message is gone.
  auto gone = b->NextOfType("message_deleted");
  ASSERT_TRUE(gone);
  EXPECT_EQ(S(gone->at("message").as_object(), "id"), message_id);
  EXPECT_TRUE(gone->at("message").at("deleted").as_bool());
  // History keeps a tombstone in its place (sequences stay gapless), without the words.
  auto history = Send("GET", "/api/v1/chat/rooms/" + room + "/messages", "", bob.token);
  EXPECT_EQ(history.body.find("garbage"), std::string::npos) << history.body;
  EXPECT_NE(history.body.find(message_id), std::string::npos);
  ExpectProblem(Post("/api/v1/moderation/reports/" + report_id + "/resolve", R"({"action":"dismiss","reason":"x"})",
                     mona.token),
                409);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/moderation/reports", "", mona.token).body).at("reports").as_array().size(),
            0u);
  auto one = Send("GET", "/api/v1/moderation/reports/" + report_id, "", mona.token);
  ASSERT_EQ(one.status, 200);
  EXPECT_TRUE(json::parse(one.body).at("message_deleted").as_bool());

  // A moderator deletes a message directly, too.
  auto direct = Say(*a, room, "another one");
  std::string direct_id = S(direct.at("message").as_object(), "id");
  EXPECT_EQ(Delete("/api/v1/moderation/messages/" + direct_id, R"({"reason":"cleanup"})", mona.token).status, 204);
  ExpectProblem(Delete("/api/v1/moderation/messages/" + direct_id, R"({"reason":"cleanup"})", mona.token), 404);
}

TEST_F(ModerationTest, RestRefusesBadInputAndTheWrongCallers) {
  User mona = Register("mona", "moderator");
  User mark = Register("mark", "moderator");
  User adam = Register("adam", "admin");
  User alice = Register("alice");
  std::string room = CreateRoom(mona, "lobby");
  const std::string words = "/api/v1/moderation/words";
  // Unauthenticated, forbidden.
  auto anon = Send("GET", words, "", "");
  ExpectProblem(anon, 401);
  EXPECT_EQ(anon.Header("www-authenticate"), "Bearer realm=\"veza\"");
  ExpectProblem(Send("GET", words, "", alice.token), 403);
  ExpectProblem(Post(words, R"({"word":"x","action":"mask"})", alice.token), 403);
  ExpectProblem(Post("/api/v1/moderation/reports", R"({"message_id":"x","reason":"y"})", ""), 401);
  // Malformed and oversized.
  ExpectProblem(Post(words, "{not json", mona.token), 400);
  ExpectProblem(Post(words, "[]", mona.token), 400);
  ExpectProblem(Post(words, R"({"word":"x","action":"delete"})", mona.token), 400);
  ExpectProblem(Post(words, R"({"word":"x","action":"mask","extra":1})", mona.token), 400);
  ExpectProblem(Post(words, R"({"word":7,"action":"mask"})", mona.token), 400);
  ExpectProblem(Post(words, R"({"word":"sh1t","action":"mask"})", mona.token), 400, "letters");
  ExpectProblem(Post(words, R"({"word":")" + std::string(300, 'a') + R"(","action":"mask"})", mona.token), 400);
  ExpectProblem(test::Http("127.0.0.1", veza_->port(),
                           {"POST", words, "word=x",
                            {{"Content-Type", "application/x-www-form-urlencoded"},
                             {"Authorization", "Bearer " + mona.token}}}),
                415);
  ExpectProblem(Send("PATCH", words + "/not-an-id", R"({"action":"mask"})", mona.token), 404);
  ExpectProblem(Send("DELETE", words + "/0191d1f0-0000-7000-8000-000000000000", "", mona.token), 404);
  ExpectProblem(Post("/api/v1/moderation/reports",
                     R"({"message_id":"0191d1f0-0000-7000-8000-000000000000","reason":")" + std::string(501, 'r') +
                         "\"}",
                     alice.token),
                400);
  ExpectProblem(Post("/api/v1/moderation/reports", R"({"message_id":"0191d1f0-0000-7000-8000-000000000000","reason":"r"})",
                     alice.token),
                404);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports?status=weird", "", mona.token), 400);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports?limit=1000", "", mona.token), 400);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports?cursor=nope", "", mona.token), 400);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports?unknown=1", "", mona.token), 400);
  ExpectProblem(Send("GET", "/api/v1/moderation/sanctions?active=maybe", "", mona.token), 400);
  ExpectProblem(Send("GET", "/api/v1/moderation/reports/nope", "", mona.token), 404);
  const std::string sanctions = "/api/v1/moderation/sanctions";
  auto act = [&](const std::string& body, const User& who) { return Post(sanctions, body, who.token); };
  ExpectProblem(act(R"({"action":"mute","user_id":")" + alice.id + R"(","room_id":")" + room +
                        R"(","reason":"no duration"})",
                    mona),
                400);
  ExpectProblem(act(R"({"action":"mute","user_id":")" + alice.id + R"(","room_id":")" + room +
                        R"(","duration_seconds":-5,"reason":"negative"})",
                    mona),
                400);
  ExpectProblem(act(R"({"action":"ban","user_id":")" + alice.id + R"(","reason":"no room"})", mona), 400);
  ExpectProblem(act(R"({"action":"dismiss","user_id":")" + alice.id + R"(","room_id":")" + room + R"(","reason":"x"})",
                    mona),
                400);
  ExpectProblem(act(R"({"action":"ban","user_id":"0191d1f0-0000-7000-8000-000000000000","room_id":")" + room +
                        R"(","reason":"ghost"})",
                    mona),
                404);
  // Global bans are for admins; nobody sanctions their own rank or above.
  ExpectProblem(act(R"({"action":"ban","user_id":")" + alice.id + R"(","global":true,"reason":"x"})", mona), 403);
  ExpectProblem(act(R"({"action":"ban","user_id":")" + mark.id + R"(","room_id":")" + room + R"(","reason":"x"})", mona),
                403);
  ExpectProblem(act(R"({"action":"ban","user_id":")" + adam.id + R"(","room_id":")" + room + R"(","reason":"x"})", mona),
                403);
  EXPECT_EQ(act(R"({"action":"ban","user_id":")" + mark.id + R"(","room_id":")" + room + R"(","reason":"x"})", adam)
                .status,
            201);
  ExpectProblem(Delete(sanctions + "/0191d1f0-0000-7000-8000-000000000000", R"({"reason":"x"})", mona.token), 404);
  ExpectProblem(Delete(sanctions + "/0191d1f0-0000-7000-8000-000000000000", R"({})", mona.token), 400);
  ExpectProblem(Delete("/api/v1/moderation/messages/0191d1f0-0000-7000-8000-000000000000", R"({"reason":""})",
                       mona.token),
                400);
}

// The HTTP classifier against a real local model server (tests/tools/moderation-classifier.mjs).
class ModerationClassifierTest : public ModerationTest {
 protected:
  void SetUp() override {
    model_ = std::make_unique<test::VezaProcess>(
        "/usr/bin/node", std::vector<std::string>{VEZA_SOURCE_DIR "/tests/tools/moderation-classifier.mjs", "0"});
    ASSERT_TRUE(model_->Start()) << model_->Log();
    ModerationTest::SetUp();
  }
  std::vector<std::string> ExtraServeArgs() const override {
    return {"--moderation-classifier-url", "http://127.0.0.1:" + std::to_string(model_->port()) + "/",
            "--moderation-classifier-timeout", "0.5", "--moderation-classifier-failure", Failure()};
  }
  virtual std::string Failure() const { return "closed"; }
  int Requests() {
    auto r = test::Get(model_->port(), "/requests");
    return std::stoi(r.body);
  }
  std::unique_ptr<test::VezaProcess> model_;
};

TEST_F(ModerationClassifierTest, FlaggedMessagesAreRefusedAndFailuresFailClosed) {
  User alice = Register("alice");
  std::string room = CreateRoom(alice, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  EXPECT_EQ(S(Say(*a, room, "a friendly message"), "type"), "ack");
  auto flagged = Say(*a, room, "FLAGME please");
  EXPECT_EQ(S(flagged, "code"), "message_blocked");
  EXPECT_EQ(S(flagged, "reason"), "toxicity");
  for (const char* failing : {"SLOWME", "BREAKME", "JUNKME"}) {
    auto start = std::chrono::steady_clock::now();
    auto f = Say(*a, room, std::string(failing) + " now");
    EXPECT_EQ(S(f, "code"), "message_blocked") << failing;
    EXPECT_EQ(S(f, "reason"), "classifier_unavailable") << failing;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms) << failing << ": the timeout bounds the wait";
  }
  EXPECT_EQ(Requests(), 5);
  // The word filter runs before the model: a blocked word never leaves the node.
  User mona = Register("mona", "moderator");
  ASSERT_EQ(Post("/api/v1/moderation/words", R"({"word":"nazi","action":"block"})", mona.token).status, 201);
  EXPECT_EQ(S(Say(*a, room, "nazi"), "reason"), "word_filter");
  EXPECT_EQ(Requests(), 5);
}

class ModerationClassifierFailOpenTest : public ModerationClassifierTest {
 protected:
  std::string Failure() const override { return "open"; }
};

TEST_F(ModerationClassifierFailOpenTest, FailuresLetMessagesThrough) {
  User alice = Register("alice");
  std::string room = CreateRoom(alice, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  EXPECT_EQ(S(Say(*a, room, "SLOWME but fine"), "type"), "ack");
  EXPECT_EQ(S(Say(*a, room, "BREAKME but fine"), "type"), "ack");
  EXPECT_EQ(S(Say(*a, room, "FLAGME still refused"), "reason"), "toxicity");
}

TEST_F(ModerationTest, LocalLexiconClassifierRefusesThreats) {
  User alice = Register("alice");
  std::string room = CreateRoom(alice, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  auto f = Say(*a, room, "just k1ll yourse1f");
  EXPECT_EQ(S(f, "code"), "message_blocked");
  EXPECT_EQ(S(f, "reason"), "lexicon");
  EXPECT_EQ(S(Say(*a, room, "this bassline could kill"), "type"), "ack");
}

// The same ban flow on PostgreSQL.
class ModerationPostgresTest : public ModerationTest {
 protected:
  std::string DatabaseKind() const override { return "postgres"; }
};

TEST_F(ModerationPostgresTest, BanAndReportFlowOnPostgres) {
  User mona = Register("mona", "moderator");
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(bob, "lobby");
  auto a = Connect(alice);
  ASSERT_EQ(S(Join(*a, room), "type"), "joined");
  auto said = Say(*a, room, "spam spam");
  ASSERT_EQ(S(said, "type"), "ack");
  auto report = Post("/api/v1/moderation/reports",
                     R"({"message_id":")" + S(said.at("message").as_object(), "id") + R"(","reason":"spam"})", bob.token);
  ASSERT_EQ(report.status, 201) << report.body;
  auto resolved = Post("/api/v1/moderation/reports/" + S(json::parse(report.body).as_object(), "id") + "/resolve",
                       R"({"action":"ban","duration_seconds":600,"reason":"spam"})", mona.token);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  auto removed = a->NextOfType("removed");
  ASSERT_TRUE(removed);
  EXPECT_EQ(S(Join(*a, room), "code"), "banned");
}

// ---- per-room staff: a room's owner and moderators moderate their room, and only it ----------

class RoomStaffTest : public ModerationTest {
 protected:
  std::string Sanctions(const std::string& room) { return "/api/v1/chat/rooms/" + room + "/sanctions"; }
  std::string Sanction(const std::string& action, const User& target, const std::string& extra = "") {
    return R"({"action":")" + action + R"(","user_id":")" + target.id + R"(","reason":"room rules")" + extra + "}";
  }
  void MakeRoomModerator(const User& owner, const std::string& room, const User& member) {
    ASSERT_EQ(Post("/api/v1/chat/rooms/" + room + "/join", "", member.token).status, 200);
    auto r = Send("PUT", "/api/v1/chat/rooms/" + room + "/members/" + member.id, R"({"role":"moderator"})", owner.token);
    ASSERT_EQ(r.status, 204) << r.body;
  }
  // The answer to a moderate frame ("moderated" or "error"), skipping live frames.
  json::object Moderate(ChatClient& s, const std::string& room, const std::string& action, const User& target,
                        std::optional<std::int64_t> duration = std::nullopt) {
    json::object f{{"type", "moderate"}, {"room", room}, {"action", action}, {"user", target.id}, {"reason", "room rules"}};
    if (duration) f["duration_seconds"] = *duration;
    s.Send(f);
    for (int i = 0; i < 20; ++i) {
      auto answer = s.Next();
      if (!answer) break;
      if (S(*answer, "type") == "moderated" || S(*answer, "type") == "error") return *answer;
    }
    ADD_FAILURE() << "no answer to moderate";
    return {};
  }
};

TEST_F(RoomStaffTest, RoomModeratorBansMutesKicksAndDeletesInTheirRoomOnly) {
  User owen = Register("owen"), rita = Register("rita"), zoe = Register("zoe");
  User alice = Register("alice"), bob = Register("bob"), carl = Register("carl");
  User mona = Register("mona", "moderator");
  std::string lobby = CreateRoom(owen, "lobby"), other = CreateRoom(zoe, "other");
  MakeRoomModerator(owen, lobby, rita);
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + other + "/join", "", rita.token).status, 200);
  auto a = Connect(alice), b = Connect(bob), c = Connect(carl), r = Connect(rita);
  for (ChatClient* s : {a.get(), b.get(), c.get()}) ASSERT_EQ(S(Join(*s, lobby), "type"), "joined");
  ASSERT_EQ(S(Join(*a, other), "type"), "joined");
  ASSERT_EQ(S(Join(*r, lobby), "type"), "joined");

  // Ban over REST: alice leaves the room at once and cannot rejoin; the other room is untouched.
  auto ban = Post(Sanctions(lobby), Sanction("ban", alice, R"(,"duration_seconds":3600)"), rita.token);
  ASSERT_EQ(ban.status, 201) << ban.body;
  auto ban_json = json::parse(ban.body).as_object();
  EXPECT_EQ(S(ban_json, "kind"), "ban");
  EXPECT_EQ(S(ban_json, "room_id"), lobby);
  auto removed = a->NextOfType("removed");
  ASSERT_TRUE(removed);
  EXPECT_EQ(S(*removed, "room"), lobby);
  EXPECT_EQ(S(Join(*a, lobby), "code"), "banned");
  EXPECT_EQ(S(Say(*a, other, "still here"), "type"), "ack");
  // Not in a room where rita is a plain member.
  ExpectProblem(Post(Sanctions(other), Sanction("ban", alice, R"(,"duration_seconds":60)"), rita.token), 403);
  ExpectProblem(Post(Sanctions(other), Sanction("kick", alice), rita.token), 403);

  // Mute over the socket: bob gets muted frames, others talk on.
  auto muted = Moderate(*r, lobby, "mute", bob, 600);
  ASSERT_EQ(S(muted, "type"), "moderated") << json::serialize(muted);
  EXPECT_EQ(S(muted.at("sanction").as_object(), "kind"), "mute");
  EXPECT_TRUE(muted.at("sanction").at("expires_at").is_int64());
  EXPECT_EQ(S(Say(*b, lobby, "hello?"), "code"), "muted");
  EXPECT_EQ(S(Say(*c, lobby, "I can talk"), "type"), "ack");
  auto elsewhere = Moderate(*r, other, "mute", bob, 600);
  EXPECT_EQ(S(elsewhere, "code"), "permission_denied") << json::serialize(elsewhere);

  // Kick over the socket: carl is out of the room but may come back.
  auto kicked = Moderate(*r, lobby, "kick", carl);
  ASSERT_EQ(S(kicked, "type"), "moderated") << json::serialize(kicked);
  EXPECT_TRUE(kicked.at("sanction").is_null());
  auto carl_removed = c->NextOfType("removed");
  ASSERT_TRUE(carl_removed);
  EXPECT_EQ(S(*carl_removed, "reason"), "kick");
  EXPECT_EQ(S(Join(*c, lobby), "type"), "joined");

  // Deleting a message of their room (REST, with a reason), not of another room.
  auto said = Say(*c, lobby, "buy cheap followers");
  ASSERT_EQ(S(said, "type"), "ack");
  std::string message = S(said.at("message").as_object(), "id");
  ExpectProblem(Delete("/api/v1/chat/rooms/" + other + "/messages/" + message, R"({"reason":"spam"})", rita.token), 403);
  ExpectProblem(Delete("/api/v1/chat/rooms/" + other + "/messages/" + message, R"({"reason":"spam"})", zoe.token), 404);
  auto deleted = Delete("/api/v1/chat/rooms/" + lobby + "/messages/" + message, R"({"reason":"spam"})", rita.token);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  auto tombstone = c->NextOfType("message_deleted");
  ASSERT_TRUE(tombstone);
  EXPECT_EQ(S(tombstone->at("message").as_object(), "id"), message);
  auto other_said = Say(*a, other, "zoe's room");
  ASSERT_EQ(S(other_said, "type"), "ack");
  ExpectProblem(Delete("/api/v1/chat/rooms/" + other + "/messages/" + S(other_said.at("message").as_object(), "id"),
                       R"({"reason":"spam"})", rita.token),
                403);
  // The socket's own delete frame works for room staff too, and is audited.
  auto said_again = Say(*c, lobby, "more spam");
  ASSERT_EQ(S(said_again, "type"), "ack");
  r->Send({{"type", "delete"}, {"message", S(said_again.at("message").as_object(), "id")}});
  ASSERT_TRUE(r->NextOfType("deleted"));

  // Room staff do not sanction the owner, site staff, or (moderators) each other.
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", owen), rita.token), 403);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", mona), rita.token), 403);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", rita), rita.token), 403);
  User max = Register("max");
  MakeRoomModerator(owen, lobby, max);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", max), rita.token), 403);
  EXPECT_EQ(Post(Sanctions(lobby), Sanction("kick", max), owen.token).status, 204) << "the owner may";

  // The room's sanctions, for its staff; lifting the ban lets alice back in.
  auto listed = Send("GET", Sanctions(lobby), "", rita.token);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(json::parse(listed.body).at("sanctions").as_array().size(), 2u);  // the ban and the mute
  ExpectProblem(Send("GET", Sanctions(other), "", rita.token), 403);
  ExpectProblem(Delete(Sanctions(other) + "/" + S(ban_json, "id"), R"({"reason":"appeal"})", zoe.token), 404);
  auto lifted = Delete(Sanctions(lobby) + "/" + S(ban_json, "id"), R"({"reason":"appeal"})", rita.token);
  ASSERT_EQ(lifted.status, 200) << lifted.body;
  EXPECT_FALSE(json::parse(lifted.body).at("active").as_bool());
  EXPECT_EQ(S(Join(*a, lobby), "type"), "joined");

  // Site moderators keep their powers in any room; room staff do not lift what site staff set.
  auto site_ban = Post(Sanctions(lobby), Sanction("ban", carl, R"(,"duration_seconds":60)"), mona.token);
  ASSERT_EQ(site_ban.status, 201) << site_ban.body;
  std::string site_ban_id = S(json::parse(site_ban.body).as_object(), "id");
  ExpectProblem(Delete(Sanctions(lobby) + "/" + site_ban_id, R"({"reason":"appeal"})", rita.token), 403);
  EXPECT_EQ(Delete(Sanctions(lobby) + "/" + site_ban_id, R"({"reason":"appeal"})", mona.token).status, 200);

  // Every action is in the audit log, by whom it was.
  User adam = Register("adam", "admin");
  auto audit = Send("GET", "/api/v1/admin/audit-log?limit=100", "", adam.token);
  ASSERT_EQ(audit.status, 200) << audit.body;
  for (const char* action : {"\"moderation.ban\"", "\"moderation.mute\"", "\"moderation.kick\"", "\"moderation.unban\"",
                             "\"moderation.message.delete\"", "\"chat.message.delete\""}) {
    EXPECT_NE(audit.body.find(action), std::string::npos) << action;
  }
  EXPECT_NE(audit.body.find(rita.id), std::string::npos);
}

TEST_F(RoomStaffTest, PlainMembersOutsidersAndBadInputAreRefused) {
  User owen = Register("owen"), bob = Register("bob"), eve = Register("eve"), alice = Register("alice");
  std::string lobby = CreateRoom(owen, "lobby");
  auto created = Post("/api/v1/chat/rooms", R"({"name":"hideout","kind":"private"})", owen.token);
  ASSERT_EQ(created.status, 201);
  std::string hideout = S(json::parse(created.body).as_object(), "id");
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + lobby + "/join", "", bob.token).status, 200);
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + lobby + "/join", "", alice.token).status, 200);
  auto b = Connect(bob);
  ASSERT_EQ(S(Join(*b, lobby), "type"), "joined");
  auto said = Say(*b, lobby, "hi");
  std::string message = S(said.at("message").as_object(), "id");

  // A plain member: 403 everywhere, over REST and the socket.
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", alice), bob.token), 403);
  ExpectProblem(Post(Sanctions(lobby), Sanction("mute", alice, R"(,"duration_seconds":60)"), bob.token), 403);
  ExpectProblem(Send("GET", Sanctions(lobby), "", bob.token), 403);
  ExpectProblem(Delete("/api/v1/chat/rooms/" + lobby + "/messages/" + message, R"({"reason":"x"})", alice.token), 403);
  EXPECT_EQ(S(Moderate(*b, lobby, "ban", alice), "code"), "permission_denied");
  b->Send({{"type", "delete"}, {"message", message}});  // bob's own message: fine, and no staff action
  ASSERT_TRUE(b->NextOfType("deleted"));
  // An outsider of a private room does not learn it exists; nobody anonymous gets anywhere.
  ExpectProblem(Post(Sanctions(hideout), Sanction("kick", alice), eve.token), 404);
  ExpectProblem(Send("GET", Sanctions(hideout), "", eve.token), 404);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", alice), ""), 401);
  ExpectProblem(Send("GET", Sanctions(lobby), "", ""), 401);
  ExpectProblem(Delete(Sanctions(lobby) + "/00000000-0000-7000-8000-000000000000", R"({"reason":"x"})", ""), 401);
  ExpectProblem(Delete("/api/v1/chat/rooms/" + lobby + "/messages/" + message, R"({"reason":"x"})", ""), 401);

  // Malformed, oversized and out-of-range input from the owner.
  ExpectProblem(Post(Sanctions(lobby), "{not json", owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), "[]", owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", alice, R"(,"global":true)"), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("kick", alice, R"(,"room_id":"x")"), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("dismiss", alice), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("delete_message", alice), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("mute", alice), owen.token), 400);  // a mute needs a duration
  ExpectProblem(Post(Sanctions(lobby), Sanction("mute", alice, R"(,"duration_seconds":0)"), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), Sanction("mute", alice, R"(,"duration_seconds":99999999999)"), owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby), R"({"action":"kick","user_id":")" + alice.id + R"("})", owen.token), 400);
  ExpectProblem(Post(Sanctions(lobby),
                     R"({"action":"kick","user_id":")" + alice.id + R"(","reason":")" + std::string(501, 'r') + "\"}",
                     owen.token),
                400);
  ExpectProblem(Post(Sanctions(lobby), R"({"action":"kick","user_id":"nobody","reason":"x"})", owen.token), 404);
  ExpectProblem(Post(Sanctions("not-a-room"), Sanction("kick", alice), owen.token), 404);
  ExpectProblem(Post(Sanctions("00000000-0000-7000-8000-000000000000"), Sanction("kick", alice), owen.token), 404);
  ExpectProblem(Send("GET", Sanctions(lobby) + "?active=maybe", "", owen.token), 400);
  ExpectProblem(Send("GET", Sanctions(lobby) + "?limit=0", "", owen.token), 400);
  ExpectProblem(Send("GET", Sanctions(lobby) + "?colour=red", "", owen.token), 400);
  ExpectProblem(Delete(Sanctions(lobby) + "/not-an-id", R"({"reason":"x"})", owen.token), 404);
  ExpectProblem(Delete(Sanctions(lobby) + "/00000000-0000-7000-8000-000000000000", R"({"reason":"x"})", owen.token), 404);
  ExpectProblem(Delete(Sanctions(lobby) + "/00000000-0000-7000-8000-000000000000", R"({})", owen.token), 400);
  ExpectProblem(Delete("/api/v1/chat/rooms/" + lobby + "/messages/nope", R"({"reason":"x"})", owen.token), 404);
  ExpectProblem(Delete("/api/v1/chat/rooms/" + lobby + "/messages/" + message, R"({"why":"x"})", owen.token), 400);
  auto o = Connect(owen);
  for (const char* bad : {R"({"type":"moderate","room":"r","action":"nuke","user":"u","reason":"x"})",
                          R"({"type":"moderate","room":"r","action":"kick","user":"u"})",
                          R"({"type":"moderate","room":"r","action":"kick","user":"u","reason":"x","global":true})",
                          R"({"type":"moderate","room":"r","action":"mute","user":"u","reason":"x","duration_seconds":"1"})"}) {
    o->Send(json::parse(bad).as_object());
    auto answer = o->NextOfType("error");
    ASSERT_TRUE(answer) << bad;
    EXPECT_EQ(S(*answer, "code"), "invalid_argument") << bad;
  }
  EXPECT_EQ(S(Moderate(*o, lobby, "mute", alice, 0), "code"), "invalid_argument");
  EXPECT_EQ(S(Moderate(*o, lobby, "mute", alice), "code"), "invalid_argument");  // no duration
  EXPECT_EQ(S(Moderate(*o, "00000000-0000-7000-8000-000000000000", "kick", alice), "code"), "not_found");
  ExpectNothingPending(*o);
}

}  // namespace
}  // namespace veza
