// Message features on every database backend (SQLite and PostgreSQL): edits, soft deletes,
// replies and threads, mentions and reply notifications, reaction toggles and counts, pins,
// track embeds that never leak private tracks, and the room events each of them publishes.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <thread>

#include "backends/blob_local/local_blob_store.h"
#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/cache_memory/memory_cache.h"
#include "services/auth/user_repository.h"
#include "services/chat/chat_service.h"
#include "services/notifications/notification_service.h"
#include "services/tracks/track_service.h"
#include "base/ids.h"
#include "test_database.h"
#include "test_support.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;

class ChatMessagesContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(db_->ok());
    ASSERT_OK(ApplyMigrations(db_->db(), EmbeddedMigrations(db_->db().Dialect())));
    bus_ = NewInprocEventBus({}, nullptr).value();
    cache_ = NewMemoryCache({}, &clock_);
    auto blobs = OpenLocalBlobStore("file://" + (dir_.path() / "blobs").string());
    ASSERT_OK(blobs);
    blobs_ = std::move(*blobs);
    tracks_ = std::make_unique<tracks::TrackService>(db_->db(), *blobs_, *bus_, nullptr, clock_,
                                                     tracks::TrackOptions{}, "secret");
    notifications_ = std::make_unique<notifications::NotificationService>(db_->db(), *bus_, clock_);
    chat_ = std::make_unique<chat::ChatService>(db_->db(), *bus_, *cache_, clock_, notifications_.get(),
                                                tracks_.get());
    alice_ = MakeUser("alice");
    bob_ = MakeUser("bob");
    carol_ = MakeUser("carol");
    auto room = chat_->CreateRoom(alice_, {"beats", "", chat::RoomKind::kPublic, 0});
    ASSERT_OK(room);
    room_ = room->id;
    ASSERT_OK(chat_->Join(bob_, room_));
    auto sub = bus_->Subscribe(chat::RoomSubject(room_), [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(json::parse(e.payload).as_object());
    });
    ASSERT_OK(sub);
    sub_ = std::move(*sub);
  }

  std::string MakeUser(const std::string& name) {
    UserRepository users(db_->db());
    auto u = users.Create({name, name + "@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", name}, 1000);
    EXPECT_OK(u);
    return u.ok() ? u->id : "";
  }

  std::string MakeTrack(const std::string& owner, const std::string& title, tracks::Visibility visibility) {
    tracks::NewTrack t;
    t.id = NewId();
    t.owner_id = owner;
    t.title = title;
    t.visibility = visibility;
    t.original_key = "originals/" + t.id;
    t.original_filename = title + ".wav";
    t.original_content_type = "audio/wav";
    auto made = tracks_->repository().Create(t, 1000);
    EXPECT_OK(made);
    return t.id;
  }

  // The room events of a type seen so far, waiting briefly for them (bus threads).
  std::vector<json::object> Events(const std::string& type, std::size_t at_least) {
    for (int i = 0; i < 100; ++i) {
      std::vector<json::object> out;
      {
        std::lock_guard lock(mu_);
        for (const auto& e : events_) {
          if (e.at("type").as_string() == type) out.push_back(e);
        }
      }
      if (out.size() >= at_least || i == 99) return out;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {};
  }

  std::vector<notifications::Notification> NotificationsOf(const std::string& user) {
    auto page = notifications_->List(user, "", 100, false);
    EXPECT_OK(page);
    return page.ok() ? page->notifications : std::vector<notifications::Notification>{};
  }

  test::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<tracks::TrackService> tracks_;
  std::unique_ptr<notifications::NotificationService> notifications_;
  std::unique_ptr<chat::ChatService> chat_;
  // Declared before sub_ so that they outlive it: a late bus delivery still finds them.
  std::mutex mu_;
  std::vector<json::object> events_;
  std::unique_ptr<Subscription> sub_;
  std::string alice_, bob_, carol_, room_;
};

TEST_P(ChatMessagesContractTest, AuthorEditsOthersCannotAndTheEditIsPublished) {
  auto m = chat_->Send(bob_, room_, "b1", "helo");
  ASSERT_OK(m);
  auto edited = chat_->Edit(bob_, m->id, "hello");
  ASSERT_OK(edited);
  EXPECT_EQ(edited->body, "hello");
  ASSERT_TRUE(edited->edited_at.has_value());
  EXPECT_EQ(edited->seq, m->seq);
  EXPECT_EQ(chat_->Edit(alice_, m->id, "owner rewrites").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(chat_->Edit(bob_, m->id, "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chat_->Edit(bob_, "nope", "x").error().code, ErrorCode::kNotFound);
  auto events = Events("message_edited", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("message").as_object().at("body").as_string(), "hello");
  auto history = chat_->History(alice_, room_, std::nullopt, std::nullopt, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].body, "hello");
  EXPECT_TRUE((*history)[0].edited_at.has_value());
}

TEST_P(ChatMessagesContractTest, DeleteLeavesATombstoneForAuthorOrModeratorOnly) {
  auto mine = chat_->Send(bob_, room_, "b1", "oops");
  auto theirs = chat_->Send(alice_, room_, "a1", "owner's words");
  ASSERT_OK(mine);
  ASSERT_OK(theirs);
  ASSERT_OK(chat_->Join(carol_, room_));
  EXPECT_EQ(chat_->Delete(carol_, mine->id).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(chat_->Delete(bob_, theirs->id).error().code, ErrorCode::kPermissionDenied);
  auto deleted = chat_->Delete(bob_, mine->id);
  ASSERT_OK(deleted);
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->body, "");
  ASSERT_OK(chat_->Delete(bob_, mine->id));  // twice is once
  auto by_owner = chat_->Send(carol_, room_, "c1", "spam");
  ASSERT_OK(by_owner);
  ASSERT_OK(chat_->Delete(alice_, by_owner->id));  // the room owner moderates
  EXPECT_EQ(chat_->Edit(bob_, mine->id, "undo").error().code, ErrorCode::kConflict);
  auto history = chat_->History(alice_, room_, std::nullopt, 0, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 3u);  // sequences stay gapless: the tombstones keep their seq
  EXPECT_TRUE((*history)[0].deleted);
  EXPECT_EQ((*history)[0].body, "");
  EXPECT_FALSE((*history)[1].deleted);
  EXPECT_TRUE((*history)[2].deleted);
  auto events = Events("message_deleted", 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("message").as_object().at("id").as_string(), mine->id);
  EXPECT_EQ(events[0].at("message").as_object().at("body").as_string(), "");
}

TEST_P(ChatMessagesContractTest, RepliesFormThreadsAndNotifyTheAuthor) {
  auto root = chat_->Send(alice_, room_, "a1", "what do you think of the mix?");
  ASSERT_OK(root);
  auto r1 = chat_->Send(bob_, room_, "b1", "kick is too loud", root->id);
  ASSERT_OK(r1);
  EXPECT_EQ(r1->reply_to, root->id);
  ASSERT_OK(chat_->Send(bob_, room_, "b2", "unrelated"));
  ASSERT_OK(chat_->Send(alice_, room_, "a2", "agreed", root->id));  // own thread: no notification
  auto thread = chat_->History(alice_, room_, std::nullopt, 0, 10, root->id);
  ASSERT_OK(thread);
  ASSERT_EQ(thread->size(), 2u);
  EXPECT_EQ((*thread)[0].body, "kick is too loud");
  EXPECT_EQ((*thread)[1].body, "agreed");
  EXPECT_EQ(chat_->History(alice_, room_, std::nullopt, 0, 10, "bad").error().code, ErrorCode::kInvalidArgument);
  // Replying to a message of another room, or to none, is refused.
  auto other = chat_->CreateRoom(alice_, {"other", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(other);
  auto elsewhere = chat_->Send(alice_, other->id, "a3", "cross", root->id);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(chat_->Send(alice_, room_, "a4", "x", "not-an-id").error().code, ErrorCode::kInvalidArgument);

  auto alices = NotificationsOf(alice_);
  ASSERT_EQ(alices.size(), 1u);
  EXPECT_EQ(alices[0].kind, "reply");
  EXPECT_EQ(alices[0].actor_id, bob_);
  EXPECT_EQ(alices[0].object_id, r1->id);
  EXPECT_TRUE(NotificationsOf(bob_).empty());
}

TEST_P(ChatMessagesContractTest, MentionsNotifyMembersOnceAndNeverOutsiders) {
  ASSERT_OK(chat_->Send(alice_, room_, "a1", "@BOB and @bob, also @carol and @alice and mail@bob.com"));
  auto bobs = NotificationsOf(bob_);
  ASSERT_EQ(bobs.size(), 1u);  // once, case-insensitive; not for the e-mail address
  EXPECT_EQ(bobs[0].kind, "mention");
  EXPECT_EQ(bobs[0].room_id, room_);
  EXPECT_TRUE(NotificationsOf(carol_).empty());  // not a member of the room
  EXPECT_TRUE(NotificationsOf(alice_).empty());  // not oneself
  // Mentioned and replied to: one notification, the reply.
  auto root = chat_->Send(bob_, room_, "b1", "root");
  ASSERT_OK(root);
  ASSERT_OK(chat_->Send(alice_, room_, "a2", "@bob see above", root->id));
  bobs = NotificationsOf(bob_);
  ASSERT_EQ(bobs.size(), 2u);
  EXPECT_EQ(bobs[0].kind, "reply");
  EXPECT_EQ(chat::MentionedUsernames("hi @Zed_1. @zed_1 @ab @x-y-z- a@b"),
            (std::vector<std::string>{"zed_1", "x-y-z"}));
}

TEST_P(ChatMessagesContractTest, ReactionsToggleWithCountsAndMine) {
  auto m = chat_->Send(alice_, room_, "a1", "new track out");
  ASSERT_OK(m);
  auto first = chat_->React(bob_, m->id, "🔥");
  ASSERT_OK(first);
  EXPECT_TRUE(first->added);
  EXPECT_EQ(first->count, 1);
  auto second = chat_->React(alice_, m->id, "🔥");
  ASSERT_OK(second);
  EXPECT_EQ(second->count, 2);
  ASSERT_OK(chat_->React(bob_, m->id, "👍"));
  auto history = chat_->History(bob_, room_, std::nullopt, std::nullopt, 10);
  ASSERT_OK(history);
  const auto& reactions = (*history)[0].reactions;
  ASSERT_EQ(reactions.size(), 2u);
  const auto& fire = reactions[0].emoji == "🔥" ? reactions[0] : reactions[1];
  EXPECT_EQ(fire.emoji, "🔥");
  EXPECT_EQ(fire.count, 2);
  EXPECT_TRUE(fire.mine);
  auto removed = chat_->React(bob_, m->id, "🔥");  // toggle off
  ASSERT_OK(removed);
  EXPECT_FALSE(removed->added);
  EXPECT_EQ(removed->count, 1);
  auto seen_by_carol = chat_->History(carol_, room_, std::nullopt, std::nullopt, 10);
  ASSERT_OK(seen_by_carol);
  for (const auto& r : (*seen_by_carol)[0].reactions) EXPECT_FALSE(r.mine);
  // Limits: 1..32 bytes, no spaces; members only.
  EXPECT_EQ(chat_->React(bob_, m->id, "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chat_->React(bob_, m->id, std::string(33, 'x')).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chat_->React(bob_, m->id, "a b").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chat_->React(carol_, m->id, "👍").error().code, ErrorCode::kPermissionDenied);
  auto events = Events("reaction", 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].at("added").as_bool(), false);
  EXPECT_EQ(events[3].at("count").as_int64(), 1);
}

TEST_P(ChatMessagesContractTest, OwnersAndModeratorsPinAndEveryReaderListsPins) {
  auto m = chat_->Send(bob_, room_, "b1", "rules: be nice");
  ASSERT_OK(m);
  EXPECT_EQ(chat_->Pin(bob_, m->id, true).error().code, ErrorCode::kPermissionDenied);
  auto pinned = chat_->Pin(alice_, m->id, true);
  ASSERT_OK(pinned);
  EXPECT_TRUE(pinned->pinned);
  auto pins = chat_->Pins(carol_, room_);  // a public room: any reader
  ASSERT_OK(pins);
  ASSERT_EQ(pins->size(), 1u);
  EXPECT_EQ((*pins)[0].id, m->id);
  ASSERT_OK(chat_->Pin(alice_, m->id, false));
  EXPECT_TRUE(chat_->Pins(bob_, room_)->empty());
  auto secret = chat_->CreateRoom(alice_, {"secret", "", chat::RoomKind::kPrivate, 0});
  ASSERT_OK(secret);
  EXPECT_EQ(chat_->Pins(bob_, secret->id).error().code, ErrorCode::kNotFound);
  auto events = Events("pin", 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].at("pinned").as_bool());
  EXPECT_FALSE(events[1].at("pinned").as_bool());
}

TEST_P(ChatMessagesContractTest, TrackEmbedsShowWhatTheViewerMaySeeAndLiveFramesNoPrivateTrack) {
  std::string open = MakeTrack(alice_, "Open Song", tracks::Visibility::kPublic);
  std::string hidden = MakeTrack(alice_, "Hidden Song", tracks::Visibility::kPrivate);
  auto m = chat_->Send(alice_, room_, "a1",
                       "listen: https://veza.example/tracks/" + open + " and track:" + hidden + " and track:" +
                           "01890000-0000-7000-8000-000000000000");
  ASSERT_OK(m);
  ASSERT_EQ(m->embeds.size(), 2u);  // the sender (owner) sees both; the unknown id embeds nothing
  EXPECT_EQ(m->embeds[0].title, "Open Song");
  EXPECT_EQ(m->embeds[0].owner_username, "alice");
  auto bobs = chat_->History(bob_, room_, std::nullopt, std::nullopt, 10);
  ASSERT_OK(bobs);
  ASSERT_EQ((*bobs)[0].embeds.size(), 1u);
  EXPECT_EQ((*bobs)[0].embeds[0].track_id, open);
  auto live = Events("message", 1);
  ASSERT_EQ(live.size(), 1u);
  std::string frame = json::serialize(live[0]);
  EXPECT_EQ(frame.find("Hidden Song"), std::string::npos) << frame;
  EXPECT_NE(frame.find("Open Song"), std::string::npos) << frame;
  EXPECT_EQ(chat::ReferencedTrackIds("track:" + open + " /tracks/" + open).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatMessagesContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
