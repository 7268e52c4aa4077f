// The chat service's rules on every database backend (SQLite and PostgreSQL): sequences without
// gaps under concurrent senders, idempotent resends, visibility, DMs, history pages, tickets.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/cache_memory/memory_cache.h"
#include "services/auth/user_repository.h"
#include "services/chat/chat_service.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

class ChatContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(db_->ok());
    ASSERT_OK(ApplyMigrations(db_->db(), EmbeddedMigrations(db_->db().Dialect())));
    bus_ = NewInprocEventBus({}, nullptr).value();
    cache_ = NewMemoryCache({}, &clock_);
    chat_ = std::make_unique<chat::ChatService>(db_->db(), *bus_, *cache_, clock_);
  }

  std::string MakeUser(const std::string& name) {
    UserRepository users(db_->db());
    auto u = users.Create({name, name + "@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", name}, 1000);
    EXPECT_OK(u);
    return u.ok() ? u->id : "";
  }

  SystemClock clock_;
  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<chat::ChatService> chat_;
};

TEST_P(ChatContractTest, ConcurrentSendersGetGaplessUniqueSequences) {
  std::string owner = MakeUser("owner");
  auto room = chat_->CreateRoom(owner, {"busy", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(room);
  std::vector<std::string> senders;
  for (int i = 0; i < 4; ++i) {
    senders.push_back(MakeUser("sender" + std::to_string(i)));
    ASSERT_OK(chat_->Join(senders.back(), room->id));
  }
  // Every committed message is published: count them on the bus as well.
  std::atomic<int> published{0};
  auto sub = bus_->Subscribe(chat::RoomSubject(room->id), [&](const Event&) { published++; });
  ASSERT_OK(sub);
  constexpr int kEach = 15;
  std::mutex mu;
  std::vector<std::int64_t> seqs;
  std::vector<std::thread> threads;
  for (const std::string& sender : senders) {
    threads.emplace_back([&, sender] {
      for (int i = 0; i < kEach; ++i) {
        auto m = chat_->Send(sender, room->id, "c" + std::to_string(i), "hello");
        EXPECT_OK(m);
        if (m.ok()) {
          std::lock_guard lock(mu);
          seqs.push_back(m->seq);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(seqs.begin(), seqs.end());
  ASSERT_EQ(seqs.size(), senders.size() * kEach);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<std::int64_t>(i + 1));
  for (int i = 0; i < 100 && published.load() < static_cast<int>(seqs.size()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(published.load(), static_cast<int>(seqs.size()));
  auto got = chat_->GetRoom(owner, room->id);
  ASSERT_OK(got);
  EXPECT_EQ(got->last_seq, static_cast<std::int64_t>(seqs.size()));
}

TEST_P(ChatContractTest, ResendReturnsTheStoredMessage) {
  std::string a = MakeUser("alice");
  auto room = chat_->CreateRoom(a, {"r", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(room);
  auto first = chat_->Send(a, room->id, "k1", "once");
  auto second = chat_->Send(a, room->id, "k1", "different body, same key");
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ(second->body, "once");
  auto other = chat_->CreateRoom(a, {"r2", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(other);
  auto elsewhere = chat_->Send(a, other->id, "k1", "x");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kConflict);
}

TEST_P(ChatContractTest, ABatchGivesEachRequestItsOwnOutcomeAndPublishesInSeqOrder) {
  std::string a = MakeUser("alice"), b = MakeUser("bob"), outsider = MakeUser("eve");
  auto room = chat_->CreateRoom(a, {"one", "", chat::RoomKind::kPublic, 0});
  auto other = chat_->CreateRoom(b, {"two", "", chat::RoomKind::kPublic, 0});
  auto secret = chat_->CreateRoom(a, {"secret", "", chat::RoomKind::kPrivate, 0});
  ASSERT_OK(room);
  ASSERT_OK(other);
  ASSERT_OK(secret);
  ASSERT_OK(chat_->Join(b, room->id));
  auto earlier = chat_->Send(a, room->id, "k0", "before the batch");
  ASSERT_OK(earlier);
  std::mutex mu;
  std::vector<std::int64_t> published;
  auto sub = bus_->Subscribe(chat::RoomSubject(room->id), [&](const Event& e) {
    auto v = boost::json::parse(e.payload).as_object();
    std::lock_guard lock(mu);
    published.push_back(v.at("message").as_object().at("seq").as_int64());
  });
  ASSERT_OK(sub);

  std::vector<chat::SendRequest> batch = {
      {a, room->id, "k1", "first", ""},
      {b, other->id, "k1", "other room, same key, other sender", ""},
      {outsider, room->id, "e1", "not joined", ""},
      {outsider, secret->id, "e2", "private room", ""},
      {a, room->id, "k0", "a resend after a lost ack", ""},
      {b, room->id, "k2", "second", earlier->id},
      {a, room->id, "k1", "the same key twice in one batch", ""},
      {a, room->id, "k3", "", ""},
      {a, other->id, "k4", "a room alice never joined", ""},
      {b, room->id, "k3", "third", ""},
  };
  auto out = chat_->SendMany(batch);
  ASSERT_EQ(out.size(), batch.size());
  ASSERT_OK(out[0]);
  EXPECT_EQ(out[0]->seq, 2);
  ASSERT_OK(out[1]);
  EXPECT_EQ(out[1]->seq, 1);
  ASSERT_FALSE(out[2].ok());
  EXPECT_EQ(out[2].error().code, ErrorCode::kPermissionDenied);
  ASSERT_FALSE(out[3].ok());
  EXPECT_EQ(out[3].error().code, ErrorCode::kNotFound);
  ASSERT_OK(out[4]);
  EXPECT_EQ(out[4]->id, earlier->id);
  EXPECT_EQ(out[4]->body, "before the batch");
  ASSERT_OK(out[5]);
  EXPECT_EQ(out[5]->seq, 3);
  EXPECT_EQ(out[5]->reply_to, earlier->id);
  ASSERT_OK(out[6]);
  EXPECT_EQ(out[6]->id, out[0]->id);  // one message, not two
  ASSERT_FALSE(out[7].ok());
  EXPECT_EQ(out[7].error().code, ErrorCode::kInvalidArgument);
  ASSERT_FALSE(out[8].ok());
  EXPECT_EQ(out[8].error().code, ErrorCode::kPermissionDenied);
  ASSERT_OK(out[9]);
  EXPECT_EQ(out[9]->seq, 4);

  auto history = chat_->History(a, room->id, std::nullopt, 0, 100);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 4u);
  for (std::size_t i = 0; i < history->size(); ++i) EXPECT_EQ((*history)[i].seq, static_cast<std::int64_t>(i + 1));
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (published.size() >= 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(published, (std::vector<std::int64_t>{2, 3, 4}));  // new messages only, in seq order
}

TEST_P(ChatContractTest, AStatementFailingInABatchFailsOnlyItsRequest) {
  std::string a = MakeUser("alice");
  auto room = chat_->CreateRoom(a, {"one", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(room);
  // A trigger stands for any statement failing (another node's resend winning the unique
  // check, a lost connection): the batch is rolled back and each request stored alone.
  if (GetParam() == "sqlite") {
    ASSERT_OK(db_->db().ExecScript("CREATE TRIGGER refuse_explode BEFORE INSERT ON chat_messages "
                                   "WHEN NEW.body = 'explode' BEGIN SELECT RAISE(ABORT, 'refused'); END;"));
  } else {
    ASSERT_OK(db_->db().ExecScript(
        "CREATE FUNCTION refuse_explode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.body = 'explode' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; "
        "CREATE TRIGGER refuse_explode BEFORE INSERT ON chat_messages "
        "FOR EACH ROW EXECUTE FUNCTION refuse_explode();"));
  }
  auto out = chat_->SendMany({{a, room->id, "k1", "before", ""},
                              {a, room->id, "k2", "explode", ""},
                              {a, room->id, "k3", "after", ""}});
  ASSERT_EQ(out.size(), 3u);
  ASSERT_OK(out[0]);
  ASSERT_OK(out[2]);
  EXPECT_FALSE(out[1].ok());
  auto history = chat_->History(a, room->id, std::nullopt, 0, 100);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].body, "before");
  EXPECT_EQ((*history)[1].body, "after");
  EXPECT_EQ((*history)[1].seq, (*history)[0].seq + 1);  // the refused one left no gap
}

TEST_P(ChatContractTest, PrivateRoomsAreNotFoundForOutsiders) {
  std::string a = MakeUser("alice"), b = MakeUser("bob");
  auto room = chat_->CreateRoom(a, {"secret", "", chat::RoomKind::kPrivate, 0});
  ASSERT_OK(room);
  for (auto r : {chat_->GetRoom(b, room->id), chat_->Join(b, room->id)}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  }
  auto send = chat_->Send(b, room->id, "x", "hi");
  ASSERT_FALSE(send.ok());
  EXPECT_EQ(send.error().code, ErrorCode::kNotFound);
  auto listed = chat_->ListRooms(b, 100);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
  auto add = chat_->AddMember(b, room->id, b);
  ASSERT_FALSE(add.ok());
  EXPECT_EQ(add.error().code, ErrorCode::kNotFound);
  ASSERT_OK(chat_->AddMember(a, room->id, b));
  EXPECT_OK(chat_->Send(b, room->id, "x", "hi"));
}

TEST_P(ChatContractTest, DirectRoomIsOneRoomWhoeverOpensItFirst) {
  std::string a = MakeUser("alice"), b = MakeUser("bob");
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = i % 2 ? chat_->DirectRoom(a, b) : chat_->DirectRoom(b, a);
      EXPECT_OK(r);
      if (r.ok()) ids[i] = r->id;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  auto unknown = chat_->DirectRoom(a, "01890000-0000-7000-8000-000000000000");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_P(ChatContractTest, HistoryPagesBothWays) {
  std::string a = MakeUser("alice");
  auto room = chat_->CreateRoom(a, {"h", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(room);
  for (int i = 1; i <= 5; ++i) ASSERT_OK(chat_->Send(a, room->id, "m" + std::to_string(i), std::to_string(i)));
  auto newest = chat_->History(a, room->id, std::nullopt, std::nullopt, 2);
  ASSERT_OK(newest);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].seq, 5);
  EXPECT_EQ((*newest)[1].seq, 4);
  EXPECT_EQ((*newest)[0].sender_username, "alice") << "history names the author";
  auto older = chat_->History(a, room->id, 4, std::nullopt, 10);
  ASSERT_OK(older);
  ASSERT_EQ(older->size(), 3u);
  EXPECT_EQ(older->front().seq, 3);
  auto after = chat_->History(a, room->id, std::nullopt, 3, 10);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ(after->front().seq, 4);
  for (int bad : {0, 101}) EXPECT_FALSE(chat_->History(a, room->id, std::nullopt, std::nullopt, bad).ok());
  EXPECT_FALSE(chat_->History(a, room->id, 3, 1, 10).ok());
}

TEST_P(ChatContractTest, TicketsRedeemOnce) {
  auto ticket = chat_->IssueTicket("user-1", "session-1");
  ASSERT_OK(ticket);
  auto owner = chat_->RedeemTicket(*ticket);
  ASSERT_OK(owner);
  EXPECT_EQ(owner->user_id, "user-1");
  EXPECT_EQ(owner->session_id, "session-1");
  auto again = chat_->RedeemTicket(*ticket);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(chat_->RedeemTicket("short").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
