// The notification service on every database backend (SQLite and PostgreSQL): store then publish
// on notify.user.<id>, cursor pages newest first, unread filter and count, mark read by ids or
// up to an id (only one's own), kind validation, snippets; chat's DM and invite notifications.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/cache_memory/memory_cache.h"
#include "services/auth/user_repository.h"
#include "services/chat/chat_service.h"
#include "services/notifications/notification_service.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

using notifications::NewNotification;

class NotificationContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(db_->ok());
    ASSERT_OK(ApplyMigrations(db_->db(), EmbeddedMigrations(db_->db().Dialect())));
    bus_ = NewInprocEventBus({}, nullptr).value();
    cache_ = NewMemoryCache({}, &clock_);
    notifications_ = std::make_unique<notifications::NotificationService>(db_->db(), *bus_, clock_);
    chat_ = std::make_unique<chat::ChatService>(db_->db(), *bus_, *cache_, clock_, notifications_.get());
  }

  std::string MakeUser(const std::string& name) {
    UserRepository users(db_->db());
    auto u = users.Create({name, name + "@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", name}, 1000);
    EXPECT_OK(u);
    return u.ok() ? u->id : "";
  }

  // Waits until pred holds (bus handlers run on another thread).
  template <class Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 100 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return pred();
  }

  SystemClock clock_;
  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<notifications::NotificationService> notifications_;
  std::unique_ptr<chat::ChatService> chat_;
};

TEST_P(NotificationContractTest, NotifyStoresThenPublishesOnTheUsersSubject) {
  std::string alice = MakeUser("alice"), bob = MakeUser("bob");
  std::mutex mu;
  std::vector<Event> seen;
  auto sub = bus_->Subscribe("notify.user.*", [&](const Event& e) {
    std::lock_guard lock(mu);
    seen.push_back(e);
  });
  ASSERT_OK(sub);
  auto n = notifications_->Notify({bob, "mention", alice, "message", "m-1", std::nullopt, "hey @bob"});
  ASSERT_OK(n);
  EXPECT_EQ(n->kind, "mention");
  EXPECT_FALSE(n->read_at.has_value());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return !seen.empty();
  }));
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].subject, notifications::UserSubject(bob));
  auto o = boost::json::parse(seen[0].payload).as_object();
  EXPECT_EQ(o.at("id").as_string(), n->id);
  EXPECT_EQ(o.at("actor").as_string(), alice);
  EXPECT_EQ(o.at("actor_username").as_string(), "alice") << "clients name the actor without another request";
  EXPECT_EQ(o.at("text").as_string(), "hey @bob");
  EXPECT_TRUE(o.at("read_at").is_null());
  EXPECT_TRUE(o.at("room").is_null());

  auto page = notifications_->List(bob, "", 10, false);
  ASSERT_OK(page);
  ASSERT_EQ(page->notifications.size(), 1u);
  EXPECT_EQ(page->notifications[0].id, n->id);
  EXPECT_EQ(page->notifications[0].actor_username, "alice");
  EXPECT_EQ(page->unread_count, 1);
  // Alice has none: a user's notifications are theirs only.
  EXPECT_EQ(notifications_->List(alice, "", 10, false)->notifications.size(), 0u);
}

TEST_P(NotificationContractTest, RejectsUnknownKindsBadFieldsUnknownUsersAndSelfNotifications) {
  std::string alice = MakeUser("alice"), bob = MakeUser("bob");
  auto unknown_kind = notifications_->Notify({bob, "shout", alice, "", "", std::nullopt, ""});
  ASSERT_FALSE(unknown_kind.ok());
  EXPECT_EQ(unknown_kind.error().code, ErrorCode::kInvalidArgument);
  auto nobody = notifications_->Notify({"0190a8b0-0000-7000-8000-000000000000", "dm", alice, "", "", std::nullopt, ""});
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(notifications_->Notify({bob, "dm", bob, "", "", std::nullopt, ""}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->Notify({bob, "dm", alice, "bad type!", "", std::nullopt, ""}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->Notify({bob, "dm", alice, "", "", std::string("not-a-room"), ""}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->Notify({bob, "dm", alice, "", "", std::nullopt, std::string("\xff\xfe")}).error().code,
            ErrorCode::kInvalidArgument);
  // Every documented kind is accepted, social ones included; a system notification has no actor.
  for (auto kind : notifications::kKinds) {
    EXPECT_OK(notifications_->Notify({bob, std::string(kind), alice, "user", alice, std::nullopt, "x"})) << kind;
  }
  auto system = notifications_->Notify({bob, "invite", "", "", "", std::nullopt, ""});
  ASSERT_OK(system);
  EXPECT_EQ(system->actor_id, "");
  // A long text becomes a snippet cut at a character boundary.
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "é";
  auto snippet = notifications_->Notify({bob, "dm", alice, "", "", std::nullopt, long_text});
  ASSERT_OK(snippet);
  EXPECT_LE(snippet->text.size(), notifications::kMaxTextBytes);
  EXPECT_TRUE(snippet->text.ends_with("…"));
}

TEST_P(NotificationContractTest, CursorPagesUnreadFilterAndMarkRead) {
  std::string alice = MakeUser("alice"), bob = MakeUser("bob");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto n = notifications_->Notify({bob, "reply", alice, "message", "m" + std::to_string(i), std::nullopt,
                                     "n" + std::to_string(i)});
    ASSERT_OK(n);
    ids.push_back(n->id);
  }
  auto other = notifications_->Notify({alice, "reply", bob, "", "", std::nullopt, "for alice"});
  ASSERT_OK(other);
  // UUIDv7 ids sort by millisecond; within one millisecond their order is random. Pages follow
  // id order, so the test does too.
  std::sort(ids.begin(), ids.end());

  // Pages of 3, newest first, no gaps or repeats.
  std::vector<std::string> listed;
  std::string cursor;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = notifications_->List(bob, cursor, 3, false);
    ASSERT_OK(page);
    for (const auto& n : page->notifications) listed.push_back(n.id);
    cursor = page->next_cursor;
    if (cursor.empty()) break;
  }
  ASSERT_EQ(listed, std::vector<std::string>(ids.rbegin(), ids.rend()));
  EXPECT_EQ(notifications_->List(bob, "", 0, false).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->List(bob, "", notifications::kMaxPage + 1, false).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->List(bob, "nope", 10, false).error().code, ErrorCode::kInvalidArgument);

  // By ids: only one's own are marked; a repeat marks nothing more.
  auto marked = notifications_->MarkRead(bob, {ids[0], ids[1], other->id}, std::nullopt);
  ASSERT_OK(marked);
  EXPECT_EQ(*marked, 2);
  EXPECT_EQ(*notifications_->MarkRead(bob, {ids[0]}, std::nullopt), 0);
  EXPECT_EQ(*notifications_->UnreadCount(bob), 5);
  EXPECT_EQ(*notifications_->UnreadCount(alice), 1);
  auto unread = notifications_->List(bob, "", 100, true);
  ASSERT_OK(unread);
  EXPECT_EQ(unread->notifications.size(), 5u);
  EXPECT_EQ(unread->unread_count, 5);
  for (const auto& n : unread->notifications) EXPECT_FALSE(n.read_at.has_value());
  auto all = notifications_->List(bob, "", 100, false);
  ASSERT_OK(all);
  EXPECT_TRUE(all->notifications.back().read_at.has_value());  // ids[0], the oldest

  // Up to an id: everything older too, and nothing of anyone else.
  EXPECT_EQ(*notifications_->MarkRead(bob, {}, ids[4]), 3);
  EXPECT_EQ(*notifications_->UnreadCount(bob), 2);
  // Alice's id as the bound marks bob's remaining ones up to it, never alice's.
  std::int64_t below = std::count_if(ids.begin() + 5, ids.end(), [&](const std::string& id) { return id <= other->id; });
  EXPECT_EQ(*notifications_->MarkRead(bob, {}, other->id), below);
  EXPECT_EQ(*notifications_->UnreadCount(bob), 2 - below);
  EXPECT_EQ(*notifications_->UnreadCount(alice), 1);
  EXPECT_EQ(notifications_->MarkRead(bob, {}, std::nullopt).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->MarkRead(bob, {ids[0]}, ids[1]).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(notifications_->MarkRead(bob, {"x"}, std::nullopt).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(NotificationContractTest, DirectMessagesAndInvitesNotifyTheOtherUserOnly) {
  std::string alice = MakeUser("alice"), bob = MakeUser("bob"), carol = MakeUser("carol");
  auto dm = chat_->DirectRoom(alice, bob);
  ASSERT_OK(dm);
  ASSERT_OK(chat_->Send(alice, dm->id, "c1", "psst bob"));
  ASSERT_OK(chat_->Send(alice, dm->id, "c1", "psst bob"));  // a resend notifies nobody again
  auto bobs = notifications_->List(bob, "", 10, false);
  ASSERT_OK(bobs);
  ASSERT_EQ(bobs->notifications.size(), 1u);
  EXPECT_EQ(bobs->notifications[0].kind, "dm");
  EXPECT_EQ(bobs->notifications[0].actor_id, alice);
  EXPECT_EQ(bobs->notifications[0].room_id, dm->id);
  EXPECT_EQ(bobs->notifications[0].text, "psst bob");
  EXPECT_EQ(*notifications_->UnreadCount(alice), 0);

  // Messages in a public room notify nobody by themselves.
  auto open = chat_->CreateRoom(alice, {"open", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(open);
  ASSERT_OK(chat_->Join(bob, open->id));
  ASSERT_OK(chat_->Send(bob, open->id, "c2", "hello all"));
  EXPECT_EQ(*notifications_->UnreadCount(alice), 0);

  auto secret = chat_->CreateRoom(alice, {"secret", "", chat::RoomKind::kPrivate, 0});
  ASSERT_OK(secret);
  ASSERT_OK(chat_->AddMember(alice, secret->id, carol));
  ASSERT_OK(chat_->AddMember(alice, secret->id, carol));  // already a member: no second invite
  auto carols = notifications_->List(carol, "", 10, false);
  ASSERT_OK(carols);
  ASSERT_EQ(carols->notifications.size(), 1u);
  EXPECT_EQ(carols->notifications[0].kind, "invite");
  EXPECT_EQ(carols->notifications[0].object_type, "room");
  EXPECT_EQ(carols->notifications[0].object_id, secret->id);
  EXPECT_EQ(carols->notifications[0].text, "secret");
}

INSTANTIATE_TEST_SUITE_P(Backends, NotificationContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
