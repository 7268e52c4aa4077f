// The chat service's rules on every database backend (SQLite and PostgreSQL): sequences without
// gaps under concurrent senders, idempotent resends, visibility, DMs, history pages, tickets.
#include <gtest/gtest.h>

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
