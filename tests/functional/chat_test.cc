// Chat over real WebSockets and REST against the real binary (protocol: docs/websocket.md).
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <atomic>
#include <map>
#include <set>

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

class ChatTest : public test::ApiTest {
 protected:
  struct User {
    std::string id, token;
  };
  User Register(const std::string& name) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":"violet kettle 93 drums"})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = json::parse(r.body).as_object();
    return {Str(o.at("user").as_object(), "id"), Str(o, "access_token")};
  }
  std::string Ticket(const User& u) {
    auto r = Post("/api/v1/chat/ticket", "", u.token);
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(json::parse(r.body).as_object(), "ticket");
  }
  std::string CreateRoom(const User& owner, const std::string& name, const std::string& kind = "public") {
    auto r = Post("/api/v1/chat/rooms", R"({"name":")" + name + R"(","kind":")" + kind + "\"}", owner.token);
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(json::parse(r.body).as_object(), "id");
  }
  // A connected client that has read its hello frame.
  std::unique_ptr<ChatClient> Connect(const User& u) {
    auto c = std::make_unique<ChatClient>();
    EXPECT_FALSE(c->Connect(veza_->port(), Ticket(u)));
    auto hello = c->Next();
    EXPECT_TRUE(hello && hello->at("type").as_string() == "hello");
    return c;
  }
  static json::object Frame(json::object o) { return o; }
};

TEST_F(ChatTest, TwoUsersChatWithAcksSequencesAndLiveDelivery) {
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(alice, "beats");
  auto a = Connect(alice);
  auto b = Connect(bob);
  auto a2 = Connect(alice);
  // The admin dashboard's live figures: sockets and distinct users online on this node.
  std::string metrics = Send("GET", "/metrics", "", "").body;
  EXPECT_NE(metrics.find("\nveza_chat_sockets 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nveza_chat_users_online 2\n"), std::string::npos) << metrics;
  a2.reset();
  a->Send(Frame({{"type", "join"}, {"room", room}}));
  auto joined = a->NextOfType("joined");
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->at("room").as_object().at("my_role").as_string(), "owner");
  b->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(b->NextOfType("joined"));

  a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "a-1"}, {"body", "hi bob"}}));
  auto ack = a->NextOfType("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->at("client_id").as_string(), "a-1");
  EXPECT_EQ(ack->at("message").as_object().at("seq").as_int64(), 1);

  auto live = b->NextOfType("message");
  ASSERT_TRUE(live);
  const auto& m = live->at("message").as_object();
  EXPECT_EQ(m.at("body").as_string(), "hi bob");
  EXPECT_EQ(m.at("sender").as_string(), alice.id);
  EXPECT_EQ(m.at("sender_username").as_string(), "alice");
  EXPECT_EQ(m.at("seq").as_int64(), 1);

  b->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "b-1"}, {"body", "hey alice ✓"}}));
  auto back = a->NextOfType("message");
  ASSERT_TRUE(back);
  // a's own message comes back live too (clients drop repeats by seq); skip to bob's.
  if (back->at("message").as_object().at("seq").as_int64() == 1) back = a->NextOfType("message");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at("message").as_object().at("body").as_string(), "hey alice ✓");
  EXPECT_EQ(back->at("message").as_object().at("seq").as_int64(), 2);

  // History over REST and over the socket agree.
  auto h = Send("GET", "/api/v1/chat/rooms/" + room + "/messages?after=0", "", bob.token);
  ASSERT_EQ(h.status, 200) << h.body;
  auto msgs = json::parse(h.body).as_object().at("messages").as_array();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].as_object().at("seq").as_int64(), 1);
  b->Send(Frame({{"type", "history"}, {"room", room}, {"before", 3}, {"limit", 1}}));
  auto hist = b->NextOfType("history");
  ASSERT_TRUE(hist);
  ASSERT_EQ(hist->at("messages").as_array().size(), 1u);
  EXPECT_EQ(hist->at("messages").as_array()[0].as_object().at("seq").as_int64(), 2);
}

TEST_F(ChatTest, ResendWithTheSameClientIdYieldsOneMessage) {
  User alice = Register("alice");
  std::string room = CreateRoom(alice, "idem");
  auto a = Connect(alice);
  a->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(a->NextOfType("joined"));
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "same"}, {"body", "once"}}));
    auto ack = a->NextOfType("ack");
    ASSERT_TRUE(ack);
    ids.insert(std::string(ack->at("message").as_object().at("id").as_string()));
  }
  EXPECT_EQ(ids.size(), 1u);
  auto h = Send("GET", "/api/v1/chat/rooms/" + room + "/messages", "", alice.token);
  EXPECT_EQ(json::parse(h.body).as_object().at("messages").as_array().size(), 1u);
}

TEST_F(ChatTest, ReconnectResumesFromTheLastSeenSequenceWithoutGaps) {
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(alice, "resume");
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + room + "/join", "", bob.token).status, 200);
  auto a = Connect(alice);
  a->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(a->NextOfType("joined"));
  for (int i = 1; i <= 3; ++i) {
    a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "m" + std::to_string(i)},
                        {"body", "msg " + std::to_string(i)}}));
    ASSERT_TRUE(a->NextOfType("ack"));
  }
  // Bob saw up to seq 1, then reconnects.
  auto b = Connect(bob);
  b->Send(Frame({{"type", "join"}, {"room", room}, {"after", 1}}));
  auto joined = b->NextOfType("joined");
  ASSERT_TRUE(joined);
  auto missed = joined->at("missed").as_array();
  ASSERT_EQ(missed.size(), 2u);
  EXPECT_EQ(missed[0].as_object().at("seq").as_int64(), 2);
  EXPECT_EQ(missed[1].as_object().at("seq").as_int64(), 3);
  EXPECT_FALSE(joined->at("more").as_bool());
}

TEST_F(ChatTest, PrivateRoomsAndDirectMessagesAreInvisibleToOutsiders) {
  User alice = Register("alice"), bob = Register("bob"), eve = Register("eve");
  std::string secret = CreateRoom(alice, "secret", "private");
  // Not listed, not readable, not joinable, not writable for eve: 404 everywhere.
  auto list = Send("GET", "/api/v1/chat/rooms", "", eve.token);
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + secret, "", eve.token), 404);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + secret + "/messages", "", eve.token), 404);
  ExpectProblem(Post("/api/v1/chat/rooms/" + secret + "/join", "", eve.token), 404);
  auto e = Connect(eve);
  e->Send(Frame({{"type", "join"}, {"room", secret}}));
  auto err = e->NextOfType("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code").as_string(), "not_found");
  e->Send(Frame({{"type", "send"}, {"room", secret}, {"client_id", "x"}, {"body", "let me in"}}));
  err = e->NextOfType("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code").as_string(), "not_found");

  // Members added by the owner can read; others cannot add members.
  ExpectProblem(Post("/api/v1/chat/rooms/" + secret + "/members", R"({"user_id":")" + eve.id + "\"}", bob.token), 404);
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + secret + "/members", R"({"user_id":")" + bob.id + "\"}", alice.token).status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/chat/rooms/" + secret, "", bob.token).status, 200);

  // A DM between alice and bob: the same room from both sides, 404 to eve.
  auto dm1 = Post("/api/v1/chat/dm", R"({"user_id":")" + bob.id + "\"}", alice.token);
  auto dm2 = Post("/api/v1/chat/dm", R"({"user_id":")" + alice.id + "\"}", bob.token);
  ASSERT_EQ(dm1.status, 200) << dm1.body;
  std::string dm = Str(json::parse(dm1.body).as_object(), "id");
  EXPECT_EQ(Str(json::parse(dm2.body).as_object(), "id"), dm);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + dm + "/messages", "", eve.token), 404);
}

TEST_F(ChatTest, TicketsAreSingleUseAndRequired) {
  User alice = Register("alice");
  std::string ticket = Ticket(alice);
  ChatClient first;
  ASSERT_FALSE(first.Connect(veza_->port(), ticket));
  ChatClient again;
  EXPECT_EQ(again.Connect(veza_->port(), ticket), websocket::error::upgrade_declined);
  EXPECT_EQ(again.response_status(), 401);
  ChatClient forged;
  EXPECT_EQ(forged.Connect(veza_->port(), std::string(64, 'a')), websocket::error::upgrade_declined);
  ExpectProblem(Post("/api/v1/chat/ticket", ""), 401);
  ExpectProblem(Send("GET", "/ws?ticket=" + ticket, ""), 400, "WebSocket upgrade");
}

TEST_F(ChatTest, BadFramesGetErrorFramesAndTheSocketKeepsWorking) {
  User alice = Register("alice");
  std::string room = CreateRoom(alice, "robust");
  auto a = Connect(alice);
  for (const std::string& bad : std::vector<std::string>{"not json", "[1,2]", R"({"no":"type"})", R"({"type":"dance"})",
                                R"({"type":"join"})", R"({"type":"join","room":42})",
                                R"({"type":"join","room":"not-a-room"})",
                                R"({"type":"send","room":")" + room + R"(","client_id":"c","body":""})",
                                R"({"type":"send","room":")" + room + R"(","client_id":"c","body":"x","extra":1})"}) {
    a->SendRaw(bad);
    auto f = a->Next();
    ASSERT_TRUE(f) << bad;
    EXPECT_EQ(f->at("type").as_string(), "error") << bad;
  }
  // Sending before joining a public room is refused; after joining it works.
  a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "c1"}, {"body", std::string(4001, 'x')}}));
  EXPECT_EQ(a->NextOfType("error")->at("code").as_string(), "invalid_argument");
  a->Send(Frame({{"type", "ping"}}));
  EXPECT_TRUE(a->NextOfType("pong"));
}

TEST_F(ChatTest, OversizedFrameClosesWith1009AndOthersAreUnaffected) {
  User alice = Register("alice"), bob = Register("bob");
  auto a = Connect(alice);
  auto b = Connect(bob);
  a->SendRaw(std::string(20'000, 'x'));
  EXPECT_FALSE(a->Next());
  EXPECT_EQ(a->close_reason().code, 1009);
  b->Send(Frame({{"type", "ping"}}));
  auto pong = b->NextOfType("pong");
  EXPECT_TRUE(pong) << b->last_error().message() << "\nserver log:\n" << veza_->Log();
}

TEST_F(ChatTest, RoomRestValidation) {
  User alice = Register("alice");
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":""})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":"x","kind":"dm"})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":"x","slow_mode_seconds":99999})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":"x","bogus":1})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":")" + std::string(101, 'n') + "\"}", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", "{", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms", R"({"name":"x"})"), 401);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + std::string(36, 'z'), "", alice.token), 404);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms", ""), 401);
  ExpectProblem(Post("/api/v1/chat/dm", R"({"user_id":")" + alice.id + "\"}", alice.token), 400);
}

}  // namespace
}  // namespace veza

namespace veza {
namespace {

TEST_F(ChatTest, SlowModeLimitsMembersButNotTheOwner) {
  User alice = Register("alice"), bob = Register("bob");
  auto r = Post("/api/v1/chat/rooms", R"({"name":"calm","slow_mode_seconds":600})", alice.token);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string room = Str(json::parse(r.body).as_object(), "id");
  auto a = Connect(alice);
  auto b = Connect(bob);
  b->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(b->NextOfType("joined"));
  b->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "b1"}, {"body", "first"}}));
  ASSERT_TRUE(b->NextOfType("ack"));
  b->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "b2"}, {"body", "too soon"}}));
  auto err = b->NextOfType("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code").as_string(), "rate_limited");
  EXPECT_EQ(err->at("ref").as_string(), "b2");
  for (const char* id : {"a1", "a2"}) {
    a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", id}, {"body", "owner"}}));
    EXPECT_TRUE(a->NextOfType("ack")) << id;
  }
}

}  // namespace
}  // namespace veza

#include <unistd.h>

#include <thread>

namespace veza {
namespace {

// Two nodes sharing PostgreSQL, NATS and Redis: a message sent on one node reaches a socket on
// the other, in order.
TEST_F(ChatTest, DirectMessageNotificationIsPushedLiveListedAndMarkedRead) {
  User alice = Register("alice"), bob = Register("bob"), carol = Register("carol");
  auto b = Connect(bob);  // bob has not joined the DM room: notifications come to every socket
  auto dm = Post("/api/v1/chat/dm", R"({"user_id":")" + bob.id + "\"}", alice.token);
  ASSERT_EQ(dm.status, 200) << dm.body;
  std::string room = Str(json::parse(dm.body).as_object(), "id");
  auto a = Connect(alice);
  a->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(a->NextOfType("joined"));
  a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "dm-1"}, {"body", "psst bob"}}));
  ASSERT_TRUE(a->NextOfType("ack"));

  auto pushed = b->NextOfType("notification");
  ASSERT_TRUE(pushed);
  const auto& n = pushed->at("notification").as_object();
  EXPECT_EQ(n.at("kind").as_string(), "dm");
  EXPECT_EQ(n.at("actor").as_string(), alice.id);
  EXPECT_EQ(n.at("room").as_string(), room);
  EXPECT_EQ(n.at("object_type").as_string(), "message");
  EXPECT_EQ(n.at("text").as_string(), "psst bob");
  EXPECT_TRUE(n.at("read_at").is_null());
  std::string id(n.at("id").as_string());

  auto list = Send("GET", "/api/v1/notifications", "", bob.token);
  ASSERT_EQ(list.status, 200) << list.body;
  auto lo = json::parse(list.body).as_object();
  ASSERT_EQ(lo.at("notifications").as_array().size(), 1u);
  EXPECT_EQ(lo.at("notifications").as_array()[0].as_object().at("id").as_string(), id);
  EXPECT_EQ(lo.at("unread_count").as_int64(), 1);
  EXPECT_TRUE(lo.at("next_cursor").is_null());
  auto count = Send("GET", "/api/v1/notifications/unread-count", "", bob.token);
  ASSERT_EQ(count.status, 200);
  EXPECT_EQ(json::parse(count.body).at("unread_count").as_int64(), 1);

  // Others see none of bob's, and cannot mark them read.
  auto carols = Send("GET", "/api/v1/notifications", "", carol.token);
  ASSERT_EQ(carols.status, 200);
  EXPECT_EQ(json::parse(carols.body).at("notifications").as_array().size(), 0u);
  auto foreign = Post("/api/v1/notifications/read", R"({"ids":[")" + id + "\"]}", carol.token);
  ASSERT_EQ(foreign.status, 200) << foreign.body;
  EXPECT_EQ(json::parse(foreign.body).at("marked").as_int64(), 0);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/notifications/unread-count", "", bob.token).body)
                .at("unread_count")
                .as_int64(),
            1);

  auto read = Post("/api/v1/notifications/read", R"({"ids":[")" + id + "\"]}", bob.token);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body).at("marked").as_int64(), 1);
  EXPECT_EQ(json::parse(read.body).at("unread_count").as_int64(), 0);
  auto unread = Send("GET", "/api/v1/notifications?unread_only=true", "", bob.token);
  ASSERT_EQ(unread.status, 200);
  EXPECT_EQ(json::parse(unread.body).at("notifications").as_array().size(), 0u);
  auto all = Send("GET", "/api/v1/notifications?unread_only=false&limit=10", "", bob.token);
  ASSERT_EQ(all.status, 200);
  EXPECT_TRUE(json::parse(all.body).at("notifications").as_array()[0].as_object().at("read_at").is_int64());
}

TEST_F(ChatTest, InvitesToPrivateRoomsNotifyAndPageWithCursors) {
  User alice = Register("alice"), bob = Register("bob");
  auto b = Connect(bob);
  std::vector<std::string> rooms;
  for (int i = 0; i < 3; ++i) {
    rooms.push_back(CreateRoom(alice, "secret" + std::to_string(i), "private"));
    auto added = Post("/api/v1/chat/rooms/" + rooms.back() + "/members", R"({"user_id":")" + bob.id + "\"}",
                      alice.token);
    ASSERT_EQ(added.status, 204) << added.body;
    auto pushed = b->NextOfType("notification");
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->at("notification").as_object().at("kind").as_string(), "invite");
    EXPECT_EQ(pushed->at("notification").as_object().at("object_id").as_string(), rooms.back());
  }
  // Two pages of two, newest first, then mark everything up to the newest read.
  auto first = Send("GET", "/api/v1/notifications?limit=2", "", bob.token);
  ASSERT_EQ(first.status, 200) << first.body;
  auto fo = json::parse(first.body).as_object();
  ASSERT_EQ(fo.at("notifications").as_array().size(), 2u);
  EXPECT_EQ(fo.at("notifications").as_array()[0].as_object().at("object_id").as_string(), rooms[2]);
  std::string newest(fo.at("notifications").as_array()[0].as_object().at("id").as_string());
  std::string cursor(fo.at("next_cursor").as_string());
  auto second = Send("GET", "/api/v1/notifications?limit=2&cursor=" + cursor, "", bob.token);
  ASSERT_EQ(second.status, 200) << second.body;
  auto so = json::parse(second.body).as_object();
  ASSERT_EQ(so.at("notifications").as_array().size(), 1u);
  EXPECT_EQ(so.at("notifications").as_array()[0].as_object().at("object_id").as_string(), rooms[0]);
  EXPECT_TRUE(so.at("next_cursor").is_null());
  auto read = Post("/api/v1/notifications/read", R"({"up_to":")" + newest + "\"}", bob.token);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body).at("marked").as_int64(), 3);
  EXPECT_EQ(json::parse(read.body).at("unread_count").as_int64(), 0);
}

TEST_F(ChatTest, NotificationRoutesRejectAnonymousAndMalformedRequests) {
  User bob = Register("bob");
  for (const char* target : {"/api/v1/notifications", "/api/v1/notifications/unread-count"}) {
    auto r = Send("GET", target, "");
    ExpectProblem(r, 401);
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"veza\"");
  }
  ExpectProblem(Post("/api/v1/notifications/read", R"({"up_to":"x"})"), 401);
  ExpectProblem(Send("GET", "/api/v1/notifications", "", "not-a-token"), 401);
  for (const char* query : {"?limit=0", "?limit=101", "?limit=abc", "?unread_only=maybe", "?cursor=nope",
                            "?colour=blue", "?limit=1&limit=2", "?cursor=%zz"}) {
    ExpectProblem(Send("GET", std::string("/api/v1/notifications") + query, "", bob.token), 400);
  }
  const std::string uuid = "0190a8b0-0000-7000-8000-000000000000";
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string("{}"), std::string(R"({"ids":[]})"),
        std::string(R"({"ids":"x"})"), std::string(R"({"ids":[1]})"), std::string(R"({"ids":["x"]})"),
        std::string(R"({"up_to":5})"), std::string(R"({"up_to":"x"})"),
        R"({"ids":[")" + uuid + R"("],"up_to":")" + uuid + "\"}", std::string(R"({"all":true})"),
        R"({"up_to":")" + std::string(100, 'a') + "\"}"}) {
    SCOPED_TRACE(body);
    ExpectProblem(Post("/api/v1/notifications/read", body, bob.token), 400);
  }
  std::string many = R"({"ids":[)";
  for (int i = 0; i < 101; ++i) many += (i ? ",\"" : "\"") + uuid + "\"";
  ExpectProblem(Post("/api/v1/notifications/read", many + "]}", bob.token), 400);
  auto wrong_type = test::Http("127.0.0.1", veza_->port(),
                         {"POST", "/api/v1/notifications/read", R"({"up_to":")" + uuid + "\"}",
                          {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + bob.token}}});
  ExpectProblem(wrong_type, 415);
  ExpectProblem(Post("/api/v1/notifications/read", R"({"up_to":")" + std::string(2 << 20, 'a') + "\"}", bob.token),
                413);
  // A well-formed request for nothing marks nothing.
  auto none = Post("/api/v1/notifications/read", R"({"up_to":")" + uuid + "\"}", bob.token);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(json::parse(none.body).at("marked").as_int64(), 0);
}

TEST_F(ChatTest, EditDeleteReactionsRepliesAndPinsReachEveryMemberInOrder) {
  User alice = Register("alice"), bob = Register("bob");
  std::string room = CreateRoom(alice, "mixing");
  auto a = Connect(alice);
  auto b = Connect(bob);
  for (auto* c : {a.get(), b.get()}) {
    c->Send(Frame({{"type", "join"}, {"room", room}}));
    ASSERT_TRUE(c->NextOfType("joined"));
  }
  b->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "b-1"}, {"body", "first mix is up"}}));
  auto ack = b->NextOfType("ack");
  ASSERT_TRUE(ack);
  std::string id(ack->at("message").as_object().at("id").as_string());
  EXPECT_TRUE(ack->at("message").as_object().at("reply_to").is_null());
  ASSERT_TRUE(a->NextOfType("message"));

  b->Send(Frame({{"type", "edit"}, {"message", id}, {"body", "first mix is up (v2)"}}));
  auto edited = b->NextOfType("edited");
  ASSERT_TRUE(edited);
  EXPECT_TRUE(edited->at("message").as_object().at("edited_at").is_int64());
  auto seen_edit = a->NextOfType("message_edited");
  ASSERT_TRUE(seen_edit);
  EXPECT_EQ(seen_edit->at("message").as_object().at("body").as_string(), "first mix is up (v2)");
  a->Send(Frame({{"type", "edit"}, {"message", id}, {"body", "not yours"}}));
  auto refused = a->NextOfType("error");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->at("code").as_string(), "permission_denied");

  a->Send(Frame({{"type", "react"}, {"message", id}, {"emoji", "🔥"}}));
  auto reacted = a->NextOfType("reacted");
  ASSERT_TRUE(reacted);
  EXPECT_TRUE(reacted->at("added").as_bool());
  EXPECT_EQ(reacted->at("count").as_int64(), 1);
  auto reaction = b->NextOfType("reaction");
  ASSERT_TRUE(reaction);
  EXPECT_EQ(reaction->at("emoji").as_string(), "🔥");
  EXPECT_EQ(reaction->at("user").as_string(), alice.id);

  // A reply that also mentions bob: one notification (reply), and a thread of one.
  a->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "a-1"}, {"body", "@bob love the kick"},
                      {"reply_to", id}}));
  auto reply_ack = a->NextOfType("ack");
  ASSERT_TRUE(reply_ack);
  EXPECT_EQ(reply_ack->at("message").as_object().at("reply_to").as_string(), id);
  auto note = b->NextOfType("notification");
  ASSERT_TRUE(note);
  EXPECT_EQ(note->at("notification").as_object().at("kind").as_string(), "reply");
  auto thread = Send("GET", "/api/v1/chat/rooms/" + room + "/messages?after=0&thread=" + id, "", bob.token);
  ASSERT_EQ(thread.status, 200) << thread.body;
  auto replies = json::parse(thread.body).at("messages").as_array();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].as_object().at("body").as_string(), "@bob love the kick");
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + room + "/messages?thread=nope", "", bob.token), 400);

  // Pins: the owner pins, a member may not; everyone lists them.
  b->Send(Frame({{"type", "pin"}, {"message", id}}));
  auto no_pin = b->NextOfType("error");
  ASSERT_TRUE(no_pin);
  EXPECT_EQ(no_pin->at("code").as_string(), "permission_denied");
  a->Send(Frame({{"type", "pin"}, {"message", id}, {"pinned", true}}));
  ASSERT_TRUE(a->NextOfType("pinned"));
  auto pin_event = b->NextOfType("pin");
  ASSERT_TRUE(pin_event);
  EXPECT_TRUE(pin_event->at("pinned").as_bool());
  auto pins = Send("GET", "/api/v1/chat/rooms/" + room + "/pins", "", bob.token);
  ASSERT_EQ(pins.status, 200) << pins.body;
  EXPECT_EQ(json::parse(pins.body).at("messages").as_array().size(), 1u);
  b->Send(Frame({{"type", "pins"}, {"room", room}}));
  auto pins_frame = b->NextOfType("pins");
  ASSERT_TRUE(pins_frame);
  EXPECT_EQ(pins_frame->at("messages").as_array().size(), 1u);

  // The author deletes: a tombstone, for everyone.
  b->Send(Frame({{"type", "delete"}, {"message", id}}));
  auto deleted = b->NextOfType("deleted");
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->at("message").as_object().at("deleted").as_bool());
  auto tomb = a->NextOfType("message_deleted");
  ASSERT_TRUE(tomb);
  EXPECT_EQ(tomb->at("message").as_object().at("body").as_string(), "");
  auto history = Send("GET", "/api/v1/chat/rooms/" + room + "/messages?after=0", "", alice.token);
  ASSERT_EQ(history.status, 200);
  auto first = json::parse(history.body).at("messages").as_array()[0].as_object();
  EXPECT_TRUE(first.at("deleted").as_bool());
  EXPECT_EQ(first.at("body").as_string(), "");
  EXPECT_EQ(first.at("reactions").as_array().size(), 0u);
  EXPECT_FALSE(first.at("pinned").as_bool());

  // Bad frames for the new types: error frames, the socket keeps working.
  for (const char* bad : {R"({"type":"edit","message":"x"})", R"({"type":"react","message":"x","emoji":""})",
                          R"({"type":"pin","message":"x","pinned":"yes"})", R"({"type":"delete"})",
                          R"({"type":"react","message":"0190a8b0-0000-7000-8000-000000000000","emoji":"ok"})"}) {
    a->SendRaw(bad);
    auto err = a->NextOfType("error");
    ASSERT_TRUE(err) << bad;
  }
  a->Send(Frame({{"type", "ping"}}));
  EXPECT_TRUE(a->NextOfType("pong"));
}

TEST_F(ChatTest, TypingPresenceAndReadMarkers) {
  User alice = Register("alice"), bob = Register("bob"), carol = Register("carol");
  std::string room = CreateRoom(alice, "studio");
  auto a = Connect(alice);
  a->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(a->NextOfType("joined"));
  auto b = Connect(bob);
  b->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(b->NextOfType("joined"));
  // Presence frames of one user (a socket also hears its own user's announcements).
  auto presence_of = [](ChatClient& c, const std::string& user) -> std::optional<json::object> {
    for (int i = 0; i < 20; ++i) {
      auto f = c.NextOfType("presence");
      if (!f || !f->contains("user") || f->at("user").as_string() == user) return f;
    }
    return std::nullopt;
  };
  // The next frame that is not a presence announcement.
  auto next_not_presence = [](ChatClient& c) -> std::optional<json::object> {
    for (int i = 0; i < 20; ++i) {
      auto f = c.Next();
      if (!f || f->at("type").as_string() != "presence") return f;
    }
    return std::nullopt;
  };
  auto online = presence_of(*a, bob.id);  // bob's join announces him
  ASSERT_TRUE(online);
  EXPECT_EQ(online->at("status").as_string(), "online");

  // Typing twice within the interval is one event; then a message follows it.
  b->Send(Frame({{"type", "typing"}, {"room", room}}));
  b->Send(Frame({{"type", "typing"}, {"room", room}}));
  b->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "b-1"}, {"body", "done"}}));
  auto typing = next_not_presence(*a);
  ASSERT_TRUE(typing);
  EXPECT_EQ(typing->at("type").as_string(), "typing");
  EXPECT_EQ(typing->at("user").as_string(), bob.id);
  auto next = next_not_presence(*a);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->at("type").as_string(), "message") << json::serialize(*next);
  // Typing in a room one has not joined is refused.
  auto c = Connect(carol);
  c->Send(Frame({{"type", "typing"}, {"room", room}}));
  auto refused = c->NextOfType("error");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->at("code").as_string(), "permission_denied");

  a->Send(Frame({{"type", "presence"}, {"users", json::array{bob.id, carol.id, "nobody"}}}));
  auto presence = presence_of(*a, "(the query's answer has no user)");
  ASSERT_TRUE(presence);
  ASSERT_TRUE(presence->contains("users")) << json::serialize(*presence);
  EXPECT_EQ(presence->at("users").at(bob.id).as_string(), "online");
  EXPECT_EQ(presence->at("users").at(carol.id).as_string(), "online");
  EXPECT_EQ(presence->at("users").at("nobody").as_string(), "offline");
  b->Send(Frame({{"type", "status"}, {"status", "away"}}));
  ASSERT_TRUE(b->NextOfType("status"));
  auto away = presence_of(*a, bob.id);
  ASSERT_TRUE(away);
  EXPECT_EQ(away->at("status").as_string(), "away");
  b.reset();  // bob's only socket closes
  auto offline = presence_of(*a, bob.id);
  ASSERT_TRUE(offline);
  EXPECT_EQ(offline->at("status").as_string(), "offline");

  // Read markers: alice has read nothing of bob's message yet.
  auto rooms = Send("GET", "/api/v1/chat/rooms", "", alice.token);
  ASSERT_EQ(rooms.status, 200);
  auto listed = json::parse(rooms.body).at("rooms").as_array()[0].as_object();
  EXPECT_EQ(listed.at("unread_count").as_int64(), 1);
  a->Send(Frame({{"type", "read"}, {"room", room}, {"seq", 99}}));  // clamped to the last seq
  auto read = a->NextOfType("read");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->at("last_read_seq").as_int64(), 1);
  EXPECT_EQ(read->at("unread_count").as_int64(), 0);
  auto back = Post("/api/v1/chat/rooms/" + room + "/read", R"({"seq":0})", alice.token);  // never moves back
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(json::parse(back.body).at("last_read_seq").as_int64(), 1);
  ExpectProblem(Post("/api/v1/chat/rooms/" + room + "/read", R"({"seq":-1})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms/" + room + "/read", R"({})", alice.token), 400);
  ExpectProblem(Post("/api/v1/chat/rooms/" + room + "/read", R"({"seq":1})", carol.token), 403);
  ExpectProblem(Post("/api/v1/chat/rooms/" + room + "/read", R"({"seq":1})"), 401);
}

TEST_F(ChatTest, RoomManagementRolesAndDeletion) {
  User alice = Register("alice"), bob = Register("bob"), carol = Register("carol");
  std::string room = CreateRoom(alice, "label", "private");
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + room + "/members", R"({"user_id":")" + bob.id + "\"}", alice.token).status,
            204);
  auto b = Connect(bob);
  b->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(b->NextOfType("joined"));

  auto patched = Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"topic":"releases","slow_mode_seconds":5})",
                      alice.token);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body).at("topic").as_string(), "releases");
  EXPECT_EQ(json::parse(patched.body).at("slow_mode_seconds").as_int64(), 5);
  auto updated = b->NextOfType("room_updated");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->at("room").at("topic").as_string(), "releases");
  ExpectProblem(Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"topic":"mine now"})", bob.token), 403);
  ExpectProblem(Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"topic":"x"})", carol.token), 404);
  ExpectProblem(Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"topic":"x"})"), 401);
  for (const char* bad : {R"({"name":""})", R"({"slow_mode_seconds":21601})", R"({"slow_mode_seconds":"5"})",
                          R"({"owner":"me"})", "nope", R"({"topic":5})"}) {
    ExpectProblem(Send("PATCH", "/api/v1/chat/rooms/" + room, bad, alice.token), 400);
  }
  ExpectProblem(Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"name":")" + std::string(101, 'n') + "\"}",
                     alice.token),
                400);

  // Roles: only the owner sets them; a moderator may then edit the room.
  const std::string bob_member = "/api/v1/chat/rooms/" + room + "/members/" + bob.id;
  ExpectProblem(Send("PUT", bob_member, R"({"role":"moderator"})", bob.token), 403);
  ExpectProblem(Send("PUT", bob_member, R"({"role":"owner"})", alice.token), 400);
  ExpectProblem(Send("PUT", "/api/v1/chat/rooms/" + room + "/members/" + carol.id, R"({"role":"moderator"})",
                     alice.token),
                404);
  auto promoted = Send("PUT", bob_member, R"({"role":"moderator"})", alice.token);
  ASSERT_EQ(promoted.status, 204) << promoted.body;
  auto role_event = b->NextOfType("member_role");
  ASSERT_TRUE(role_event);
  EXPECT_EQ(role_event->at("role").as_string(), "moderator");
  EXPECT_EQ(Send("PATCH", "/api/v1/chat/rooms/" + room, R"({"name":"label hq"})", bob.token).status, 200);
  auto members = Send("GET", "/api/v1/chat/rooms/" + room + "/members", "", bob.token);
  ASSERT_EQ(members.status, 200) << members.body;
  auto list = json::parse(members.body).at("members").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("role").as_string(), "owner");
  EXPECT_EQ(list[1].at("role").as_string(), "moderator");
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + room + "/members", "", carol.token), 404);

  // Deleting: not a moderator, not an outsider; the owner does, and the room is gone.
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + room, "", bob.token), 403);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + room, "", carol.token), 404);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + room, ""), 401);
  auto gone = Send("DELETE", "/api/v1/chat/rooms/" + room, "", alice.token);
  ASSERT_EQ(gone.status, 204) << gone.body;
  auto deleted_event = b->NextOfType("room_deleted");
  ASSERT_TRUE(deleted_event);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + room, "", alice.token), 404);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + room, "", alice.token), 404);
}

TEST_F(ChatTest, EndedSessionsCloseTheirSocketsAtOnceWith4001) {
  User bob = Register("bob");
  auto b = Connect(bob);
  auto logout = Post("/api/v1/auth/logout", "", bob.token);
  ASSERT_EQ(logout.status, 204) << logout.body;
  while (b->Next()) {
  }
  EXPECT_EQ(b->close_reason().code, 4001) << b->last_error().message();
  EXPECT_EQ(std::string(b->close_reason().reason.c_str()), "session ended");
  // Before the first heartbeat's ping: the close came from the sessions-ended event, not the
  // heartbeat's periodic check (25 s).
  EXPECT_EQ(b->pings(), 0);

  // An admin suspending a user closes every socket of theirs the same way.
  User ada = Register("ada"), carl = Register("carl");
  Sql("UPDATE users SET role = 'admin' WHERE id = '" + ada.id + "'");
  auto c1 = Connect(carl), c2 = Connect(carl);
  auto suspend = Send("PATCH", "/api/v1/admin/users/" + carl.id, R"({"suspended":true,"reason":"spam"})", ada.token);
  ASSERT_EQ(suspend.status, 200) << suspend.body;
  for (auto* c : {c1.get(), c2.get()}) {
    while (c->Next()) {
    }
    EXPECT_EQ(c->close_reason().code, 4001) << c->last_error().message();
    EXPECT_EQ(c->pings(), 0);
  }
}

TEST_F(ChatTest, SlowConsumerIsClosedWith4008AndTheRoomKeepsFlowing) {
  User alice = Register("alice"), sam = Register("sam");
  std::string room = CreateRoom(alice, "firehose");
  // 95 long messages: each history page of them is ~380 KB.
  auto filler = Connect(alice);
  filler->Send(Frame({{"type", "join"}, {"room", room}}));
  ASSERT_TRUE(filler->NextOfType("joined"));
  for (int i = 0; i < 95; ++i) {
    // Each body different: the moderation spam rules refuse the same text sent again and again.
    std::string word = {'k', static_cast<char>('a' + i % 26), 'q', static_cast<char>('a' + i / 26), ' '};
    std::string body;
    while (body.size() < 3900) body += word;
    filler->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "f" + std::to_string(i)},
                             {"body", body}}));
    ASSERT_TRUE(filler->NextOfType("ack", 1000));
  }
  auto slow = std::make_unique<ChatClient>();
  slow->SetReceiveBuffer(4096);
  ASSERT_FALSE(slow->Connect(veza_->port(), Ticket(sam)));
  slow->Send(Frame({{"type", "join"}, {"room", room}}));
  // Ask for far more than the socket buffers hold, and read nothing.
  for (int i = 0; i < 45; ++i) slow->Send(Frame({{"type", "history"}, {"room", room}, {"limit", 100}}));
  // Then the room keeps talking: these frames pile up in sam's queue past its limit (256).
  std::vector<User> talkers;
  std::vector<std::unique_ptr<ChatClient>> sockets;
  for (int t = 0; t < 4; ++t) {
    talkers.push_back(Register("talker" + std::to_string(t)));
    sockets.push_back(Connect(talkers.back()));
    sockets.back()->Send(Frame({{"type", "join"}, {"room", room}}));
    ASSERT_TRUE(sockets.back()->NextOfType("joined"));
  }
  // Everyone else keeps up: each talker's sends are acknowledged while sam reads nothing.
  for (int i = 0; i < 90; ++i) {
    for (int t = 0; t < 4; ++t) {
      sockets[t]->Send(Frame({{"type", "send"}, {"room", room}, {"client_id", "t" + std::to_string(i)},
                                   {"body", "tick k" + std::string{static_cast<char>('a' + i % 26), 'q', static_cast<char>('a' + i / 26)}}}));
    }
    // Other talkers' messages and presence frames come in between: skip as many as were sent.
    for (int t = 0; t < 4; ++t) ASSERT_TRUE(sockets[t]->NextOfType("ack", 1000)) << "talker " << t << " message " << i;
  }
  // Now sam reads: some backlog, then the close with 4008, long before everything.
  int frames = 0;
  while (slow->Next()) ++frames;
  EXPECT_EQ(slow->close_reason().code, 4008) << slow->last_error().message() << " after " << frames << " frames";
  EXPECT_LT(frames, 3 + 45 + 4 + 360);  // hello, joined, own presence, pages, talkers' presence, talk
  // The room is fine: a new socket of sam's joins and catches up.
  auto again = Connect(sam);
  again->Send(Frame({{"type", "join"}, {"room", room}, {"after", 90}}));
  auto joined = again->NextOfType("joined");
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->at("missed").as_array().size(), 100u);
  EXPECT_TRUE(joined->at("more").as_bool());
}

// Two `veza` nodes sharing a fresh PostgreSQL database, Redis and NATS (the test services).
class ChatTwoNodes : public testing::Test {
 protected:
  void StartNodes(std::vector<std::string> extra_args = {}) {
    std::string pg = test::Env("VEZA_TEST_POSTGRES_URL"), redis = test::Env("VEZA_TEST_REDIS_URL"),
                nats = test::Env("VEZA_TEST_NATS_URL");
    ASSERT_FALSE(pg.empty() || redis.empty() || nats.empty()) << "run under scripts/test-services (make test)";
    pg_ = pg;
    db_name_ = "veza_chat_" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("psql -q '" + pg + "' -c 'DROP DATABASE IF EXISTS " + db_name_ +
                           "' -c 'CREATE DATABASE " + db_name_ + "' >/dev/null")
                              .c_str()),
              0);
    std::string url = pg.substr(0, pg.rfind('/') + 1) + db_name_;
    std::vector<std::string> args = {"serve",   "--listen", "127.0.0.1:0", "--database",      url,
                                     "--cache", redis,      "--bus",       nats, "--no-access-log"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    a_ = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(a_->Start()) << a_->Log();
    b_ = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir_.path());
    ASSERT_TRUE(b_->Start()) << b_->Log();
  }
  void TearDown() override {
    if (a_) a_->Stop(SIGTERM);
    if (b_) b_->Stop(SIGTERM);
    if (!db_name_.empty()) {
      std::system(("psql -q '" + pg_ + "' -c 'DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)' >/dev/null").c_str());
    }
  }
  static test::HttpResponse post(unsigned short port, const std::string& target, const std::string& body,
                                 const std::string& token) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return test::Http("127.0.0.1", port, {"POST", target, body, headers});
  }
  struct Account {
    std::string id, token;
  };
  static Account SignUp(unsigned short port, const std::string& name) {
    auto r = post(port, "/api/v1/auth/register",
                  R"({"username":")" + name + R"(","email":")" + name + R"(@example.com","password":"violet kettle 93 drums"})",
                  "");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    auto o = json::parse(r.body).as_object();
    return Account{std::string(o.at("user").at("id").as_string()), std::string(o.at("access_token").as_string())};
  }
  static std::string Ticket(unsigned short port, const std::string& token) {
    auto r = post(port, "/api/v1/chat/ticket", "", token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? std::string(json::parse(r.body).at("ticket").as_string()) : std::string();
  }
  static std::string CreateRoom(unsigned short port, const std::string& name, const std::string& token) {
    auto created = post(port, "/api/v1/chat/rooms", R"({"name":")" + name + R"("})", token);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? std::string(json::parse(created.body).at("id").as_string()) : std::string();
  }

  test::TempDir dir_;
  std::string pg_, db_name_;
  std::unique_ptr<test::VezaProcess> a_, b_;
};

TEST_F(ChatTwoNodes, MessagesCrossNodesInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartNodes());
  test::VezaProcess &a = *a_, &b = *b_;
  std::string alice = SignUp(a.port(), "alice").token, bob = SignUp(a.port(), "bob").token;
  std::string room = CreateRoom(a.port(), "across", alice);
  ASSERT_FALSE(room.empty());
  ChatClient on_a, on_b;
  ASSERT_FALSE(on_a.Connect(a.port(), Ticket(a.port(), alice)));
  ASSERT_FALSE(on_b.Connect(b.port(), Ticket(b.port(), bob)));
  for (ChatClient* c : {&on_a, &on_b}) {
    c->Send(json::object{{"type", "join"}, {"room", room}});
    ASSERT_TRUE(c->NextOfType("joined"));
  }
  constexpr int kMessages = 20;
  for (int i = 1; i <= kMessages; ++i) {
    on_a.Send(json::object{{"type", "send"}, {"room", room}, {"client_id", "x" + std::to_string(i)},
                                {"body", "n" + std::to_string(i)}});
  }
  for (int i = 1; i <= kMessages; ++i) {
    auto m = on_b.NextOfType("message");
    ASSERT_TRUE(m) << "message " << i << " did not reach node B";
    EXPECT_EQ(m->at("message").as_object().at("seq").as_int64(), i);
    EXPECT_EQ(m->at("message").as_object().at("body").as_string(), "n" + std::to_string(i));
  }
}

}  // namespace
}  // namespace veza

namespace veza {
namespace {

// A client sends while the server is killed with SIGKILL: after a restart on the same data,
// every message the client saw acknowledged is in the history exactly once.
TEST(ChatDurability, AcknowledgedMessagesSurviveSigkillExactlyOnce) {
  test::TempDir dir;
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--no-access-log"};
  auto server = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir.path());
  ASSERT_TRUE(server->Start()) << server->Log();
  auto post = [](unsigned short port, const std::string& target, const std::string& body, const std::string& token) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return test::Http("127.0.0.1", port, {"POST", target, body, headers});
  };
  auto reg = post(server->port(), "/api/v1/auth/register",
                  R"({"username":"kim","email":"kim@example.com","password":"violet kettle 93 drums"})", "");
  ASSERT_EQ(reg.status, 201) << reg.body;
  std::string token(json::parse(reg.body).at("access_token").as_string());
  auto created = post(server->port(), "/api/v1/chat/rooms", R"({"name":"durable"})", token);
  ASSERT_EQ(created.status, 201);
  std::string room(json::parse(created.body).at("id").as_string());
  auto ticket = post(server->port(), "/api/v1/chat/ticket", "", token);
  ChatClient client;
  ASSERT_FALSE(client.Connect(server->port(), std::string(json::parse(ticket.body).at("ticket").as_string())));
  client.Send(json::object{{"type", "join"}, {"room", room}});
  ASSERT_TRUE(client.NextOfType("joined"));

  // Send and read acks in one thread (a WebSocket stream is not shared across threads); the
  // server is killed meanwhile, so the last send may be committed without its ack arriving.
  std::set<std::string> acked;
  // The kill comes after 25 acks (not after a fixed time: a loaded machine acks fewer per second),
  // while sends are still going on.
  std::atomic<int> acks{0};
  std::thread killer([&] {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acks.load() < 25 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server->Stop(SIGKILL);
  });
  for (int i = 0;; ++i) {
    try {
      client.Send(json::object{{"type", "send"}, {"room", room}, {"client_id", "k" + std::to_string(i)},
                                    {"body", "message " + std::to_string(i)}});
    } catch (const std::exception&) {
      break;  // the server is gone
    }
    std::optional<json::object> f;
    do f = client.Next();  // its own message also comes back live
    while (f && (f->at("type").as_string() == "message" || f->at("type").as_string() == "presence"));
    if (!f) break;
    ASSERT_EQ(f->at("type").as_string(), "ack") << json::serialize(*f);  // not rate limited: paced below
    acked.insert(std::string(f->at("client_id").as_string()));
    ++acks;
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  killer.join();
  ASSERT_GT(acked.size(), 10u) << "too few messages before the kill to mean anything";

  server = std::make_unique<test::VezaProcess>(VEZA_BINARY, args, std::vector<std::string>{}, dir.path());
  ASSERT_TRUE(server->Start()) << server->Log();
  std::map<std::string, int> stored;
  std::int64_t after = 0;
  for (;;) {
    auto h = test::Get(server->port(), "/api/v1/chat/rooms/" + room + "/messages?limit=100&after=" + std::to_string(after),
                       {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(h.status, 200) << h.body;
    auto page = json::parse(h.body).at("messages").as_array();
    if (page.empty()) break;
    for (const auto& m : page) {
      stored[std::string(m.at("client_id").as_string())]++;
      after = m.at("seq").as_int64();
    }
  }
  for (const auto& id : acked) EXPECT_EQ(stored[id], 1) << id << " was acknowledged";
  for (const auto& [id, n] : stored) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace veza

namespace veza {
namespace {

// A site admin deletes rooms they do not own, public or private (which they cannot even read);
// site moderators and outsiders cannot.
TEST_F(ChatTest, SiteAdminDeletesSomeoneElsesRoom) {
  User owen = Register("owen"), mia = Register("mia"), adam = Register("adam"), mo = Register("mona");
  Sql("UPDATE users SET role='admin' WHERE id='" + adam.id + "'");
  Sql("UPDATE users SET role='moderator' WHERE id='" + mo.id + "'");
  std::string open = CreateRoom(owen, "open house"), closed = CreateRoom(owen, "backroom", "private");
  ASSERT_EQ(Post("/api/v1/chat/rooms/" + open + "/join", "", mia.token).status, 200);
  auto m = Connect(mia);
  m->Send(Frame({{"type", "join"}, {"room", open}}));
  ASSERT_TRUE(m->NextOfType("joined"));

  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + open, "", mia.token), 403);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + open, "", mo.token), 403);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + closed, "", mo.token), 404);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/not-a-room", "", adam.token), 404);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/00000000-0000-7000-8000-000000000000", "", adam.token), 404);

  auto gone = Send("DELETE", "/api/v1/chat/rooms/" + open, "", adam.token);
  ASSERT_EQ(gone.status, 204) << gone.body;
  auto event = m->NextOfType("room_deleted");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->at("room").as_string(), open);
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + open, "", owen.token), 404);

  // A private room the admin is not in: gone as well, for its owner too.
  auto gone_private = Send("DELETE", "/api/v1/chat/rooms/" + closed, "", adam.token);
  ASSERT_EQ(gone_private.status, 204) << gone_private.body;
  ExpectProblem(Send("GET", "/api/v1/chat/rooms/" + closed, "", owen.token), 404);
  ExpectProblem(Send("DELETE", "/api/v1/chat/rooms/" + closed, "", adam.token), 404);
}

// A user online on node A is online from node B; after A is SIGKILLed (no socket closed, no
// count taken back), B sees the user go offline within the presence ttl.
// A node that dies cannot say that its users left: the nodes that saw them online in a room
// tell their own sockets there, once their presence runs out (the ttl).
TEST_F(ChatTwoNodes, ADeadNodesUsersAreAnnouncedOfflineInTheirRooms) {
  ASSERT_NO_FATAL_FAILURE(StartNodes({"--chat-presence-ttl", "4"}));
  test::VezaProcess &a = *a_, &b = *b_;
  Account alice = SignUp(b.port(), "alice"), bob = SignUp(b.port(), "bob");
  std::string room = CreateRoom(b.port(), "wake", bob.token);
  ASSERT_FALSE(room.empty());
  const std::string alice_id = alice.id;
  // Waits for a presence frame about alice with that status (other frames are skipped).
  auto presence_of_alice = [&](ChatClient& c, const std::string& status) {
    for (int i = 0; i < 20; ++i) {
      auto f = c.NextOfType("presence");
      if (!f) return false;
      if (f->at("user").as_string() == alice_id && f->at("status").as_string() == status) return true;
    }
    return false;
  };
  ChatClient on_b;
  ASSERT_FALSE(on_b.Connect(b.port(), Ticket(b.port(), bob.token), 60s));
  on_b.Send(json::object{{"type", "join"}, {"room", room}});
  ASSERT_TRUE(on_b.NextOfType("joined"));
  {
    ChatClient on_a;
    ASSERT_FALSE(on_a.Connect(a.port(), Ticket(a.port(), alice.token)));
    on_a.Send(json::object{{"type", "join"}, {"room", room}});
    ASSERT_TRUE(on_a.NextOfType("joined"));
    ASSERT_TRUE(presence_of_alice(on_b, "online"));
    a.Stop(SIGKILL);
  }
  // Within the 4-s ttl and a heartbeat; the 60-s read timeout is the bound of a loaded machine.
  EXPECT_TRUE(presence_of_alice(on_b, "offline")) << "node B did not announce that alice left with node A";
}

TEST_F(ChatTwoNodes, PresenceIsSeenAcrossNodesAndExpiresWhenANodeDies) {
  ASSERT_NO_FATAL_FAILURE(StartNodes({"--chat-presence-ttl", "4"}));
  test::VezaProcess &a = *a_, &b = *b_;
  Account alice = SignUp(b.port(), "alice"), bob = SignUp(b.port(), "bob");
  ChatClient on_b;
  ASSERT_FALSE(on_b.Connect(b.port(), Ticket(b.port(), bob.token)));
  ASSERT_TRUE(on_b.NextOfType("hello"));
  auto presence_of_alice = [&]() -> std::string {
    on_b.Send(json::object{{"type", "presence"}, {"users", json::array{json::value(alice.id)}}});
    auto f = on_b.NextOfType("presence");
    if (!f || !f->contains("users")) return "no answer";
    return std::string(f->at("users").at(alice.id).as_string());
  };
  EXPECT_EQ(presence_of_alice(), "offline");

  {
    ChatClient on_a;
    ASSERT_FALSE(on_a.Connect(a.port(), Ticket(a.port(), alice.token)));
    ASSERT_TRUE(on_a.NextOfType("hello"));
    // Opening is counted after the hello goes out: poll for it.
    std::string seen;
    for (int i = 0; i < 100 && (seen = presence_of_alice()) != "online"; ++i) std::this_thread::sleep_for(50ms);
    EXPECT_EQ(seen, "online");
    // Past two ttls the heartbeat of node A still keeps alice online.
    std::this_thread::sleep_for(9s);
    EXPECT_EQ(presence_of_alice(), "online");
    a.Stop(SIGKILL);
  }
  // Offline within the 4-s ttl; 30 s is the generous bound of a loaded machine.
  auto killed = std::chrono::steady_clock::now();
  std::string seen = "online";
  while (seen != "offline" && std::chrono::steady_clock::now() - killed < 30s) {
    std::this_thread::sleep_for(200ms);
    seen = presence_of_alice();
  }
  EXPECT_EQ(seen, "offline");
}

}  // namespace
}  // namespace veza
