// The moderation service on every database backend (SQLite and PostgreSQL): the word list and
// its filter, reports with context and resolution, mutes and bans with expiry and lifting,
// kicks, message deletion, the audit log and the events that close sockets.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "backends/bus_inproc/inproc_event_bus.h"
#include "backends/cache_memory/memory_cache.h"
#include "manual_clock.h"
#include "services/auth/user_repository.h"
#include "services/chat/chat_service.h"
#include "services/moderation/lexicon_classifier.h"
#include "services/moderation/moderation_service.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using moderation::Action;
using moderation::ActionKind;

std::string S(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

class ModerationContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(db_->ok());
    ASSERT_OK(ApplyMigrations(db_->db(), EmbeddedMigrations(db_->db().Dialect())));
    bus_ = NewInprocEventBus({}, nullptr).value();
    cache_ = NewMemoryCache({}, &clock_);
    chat_ = std::make_unique<chat::ChatService>(db_->db(), *bus_, *cache_, clock_);
    moderation::ModerationOptions options;
    options.spam.caps_min_letters = 1000;  // these tests shout freely
    moderation_ = std::make_unique<moderation::ModerationService>(db_->db(), *bus_, clock_, classifier_, options);
    auto sub = bus_->Subscribe(moderation::kModerationSubject, [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(json::parse(e.payload).as_object());
    });
    ASSERT_OK(sub);
    sub_ = std::move(sub).value();
    mod_ = MakeUser("mod");
    alice_ = MakeUser("alice");
    bob_ = MakeUser("bob");
    auto room = chat_->CreateRoom(mod_, {"lobby", "", chat::RoomKind::kPublic, 0});
    ASSERT_OK(room);
    room_ = room->id;
    // Deleted messages go out on the room's subject, as chat tombstones.
    auto room_sub = bus_->Subscribe(chat::RoomSubject(room_), [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(json::parse(e.payload).as_object());
    });
    ASSERT_OK(room_sub);
    room_sub_ = std::move(room_sub).value();
    ASSERT_OK(chat_->Join(alice_, room_));
    ASSERT_OK(chat_->Join(bob_, room_));
  }

  std::string MakeUser(const std::string& name) {
    UserRepository users(db_->db());
    auto u = users.Create({name, name + "@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", name}, 1000);
    EXPECT_OK(u);
    return u.ok() ? u->id : "";
  }
  std::string Say(const std::string& user, const std::string& text) {
    auto m = chat_->Send(user, room_, "c" + std::to_string(++sent_), text);
    EXPECT_OK(m);
    return m.ok() ? m->id : "";
  }
  std::int64_t Count(const std::string& sql) {
    auto r = db_->db().Query(sql);
    EXPECT_OK(r);
    return r.ok() ? r->rows.at(0).Int(0) : -1;
  }
  // The events published so far, waiting up to 5 s for at least `at_least` (the bus delivers
  // on its own thread).
  std::vector<json::object> Events(std::size_t at_least = 1) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu_);
        if (events_.size() >= at_least) return events_;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard lock(mu_);
    return events_;
  }
  Action Act(ActionKind kind, const std::string& user, std::optional<std::chrono::seconds> duration = std::nullopt,
             bool global = false) {
    Action a;
    a.kind = kind;
    a.user_id = user;
    a.room_id = global ? "" : room_;
    a.global = global;
    a.duration = duration;
    a.reason = "contract test";
    return a;
  }

  test::ManualClock clock_;
  moderation::LexiconClassifier classifier_;
  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<chat::ChatService> chat_;
  std::unique_ptr<moderation::ModerationService> moderation_;
  // Declared before sub_ so that they outlive it: a late bus delivery still finds them.
  std::mutex mu_;
  std::vector<json::object> events_;
  std::unique_ptr<Subscription> sub_;
  std::unique_ptr<Subscription> room_sub_;
  std::string mod_, alice_, bob_, room_;
  int sent_ = 0;
};

TEST_P(ModerationContractTest, WordListIsStoredNormalizedAndFiltersMessages) {
  auto masked = moderation_->AddWord(mod_, "ShÎT", moderation::WordAction::kMask);
  ASSERT_OK(masked);
  EXPECT_EQ(masked->word, "shit");
  ASSERT_OK(moderation_->AddWord(mod_, "nazi", moderation::WordAction::kBlock));
  auto again = moderation_->AddWord(mod_, "SHIT", moderation::WordAction::kBlock);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(moderation_->AddWord(mod_, "two words", moderation::WordAction::kBlock).error().code,
            ErrorCode::kInvalidArgument);

  auto review = moderation_->ReviewMessage(alice_, room_, "a1", "well sh1t happens");
  ASSERT_OK(review);
  EXPECT_FALSE(review->refusal);
  EXPECT_EQ(review->text, "well **** happens");
  EXPECT_EQ(review->masked, 1);
  review = moderation_->ReviewMessage(alice_, room_, "a2", "N.A.Z.I");
  ASSERT_OK(review);
  ASSERT_TRUE(review->refusal);
  EXPECT_EQ(review->refusal->code, "message_blocked");
  EXPECT_EQ(review->refusal->reason, "word_filter");

  // Changes on this node apply at once.
  ASSERT_OK(moderation_->UpdateWord(mod_, masked->id, moderation::WordAction::kBlock));
  EXPECT_TRUE(moderation_->ReviewMessage(alice_, room_, "a3", "shit")->refusal);
  ASSERT_OK(moderation_->DeleteWord(mod_, masked->id));
  EXPECT_FALSE(moderation_->ReviewMessage(alice_, room_, "a4", "shit")->refusal);
  EXPECT_EQ(moderation_->DeleteWord(mod_, masked->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(moderation_->UpdateWord(mod_, "not-an-id", moderation::WordAction::kMask).error().code,
            ErrorCode::kNotFound);

  auto words = moderation_->ListWords();
  ASSERT_OK(words);
  ASSERT_EQ(words->size(), 1u);
  EXPECT_EQ((*words)[0].word, "nazi");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'moderation.word.%'"), 4);
}

TEST_P(ModerationContractTest, ReportsCarryContextAndAreResolvedOnce) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 9; ++i) ids.push_back(Say(i % 2 ? alice_ : mod_, "message " + std::to_string(i)));
  const std::string& reported = ids[4];  // seq 5, by alice

  EXPECT_EQ(moderation_->ReportMessage(alice_, reported, "mine").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(moderation_->ReportMessage(bob_, reported, "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(moderation_->ReportMessage(bob_, "nope", "spam").error().code, ErrorCode::kNotFound);
  auto report = moderation_->ReportMessage(bob_, reported, "insults");
  ASSERT_OK(report);
  EXPECT_EQ(moderation_->ReportMessage(bob_, reported, "again").error().code, ErrorCode::kConflict);
  ASSERT_OK(moderation_->ReportMessage(mod_, reported, "seen it too"));

  // A private room's messages cannot be reported by outsiders: they do not exist for them.
  auto hidden = chat_->CreateRoom(mod_, {"staff", "", chat::RoomKind::kPrivate, 0});
  ASSERT_OK(hidden);
  auto secret = chat_->Send(mod_, hidden->id, "s1", "staff only");
  ASSERT_OK(secret);
  EXPECT_EQ(moderation_->ReportMessage(bob_, secret->id, "curious").error().code, ErrorCode::kNotFound);

  auto page = moderation_->ListReports("open", "", 1);
  ASSERT_OK(page);
  ASSERT_EQ(page->reports.size(), 1u);
  EXPECT_FALSE(page->next_cursor.empty());
  const auto& r = page->reports[0];
  EXPECT_EQ(r.id, report->id);
  EXPECT_EQ(r.message.body, "message 5");
  EXPECT_EQ(r.message.seq, 5);
  EXPECT_EQ(r.reporter_name, "bob");
  EXPECT_EQ(r.reported_user_id, alice_);
  EXPECT_EQ(r.reported_user_name, "alice");
  EXPECT_EQ(r.room_name, "lobby");
  ASSERT_EQ(r.context.size(), 7u);  // seq 2..8
  EXPECT_EQ(r.context.front().seq, 2);
  EXPECT_EQ(r.context.back().seq, 8);
  auto next = moderation_->ListReports("open", page->next_cursor, 1);
  ASSERT_OK(next);
  ASSERT_EQ(next->reports.size(), 1u);
  EXPECT_NE(next->reports[0].id, r.id);
  EXPECT_EQ(moderation_->ListReports("open", "garbage", 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(moderation_->ListReports("closed", "", 10).error().code, ErrorCode::kInvalidArgument);

  Action del = Act(ActionKind::kDeleteMessage, "");
  del.room_id.clear();
  auto resolved = moderation_->ResolveReport(mod_, report->id, del);
  ASSERT_OK(resolved);
  EXPECT_EQ(resolved->status, "resolved");
  EXPECT_EQ(resolved->resolution, "delete_message");
  EXPECT_TRUE(resolved->message_deleted);
  EXPECT_EQ(resolved->message.body, "message 5") << "the report keeps its copy";
  auto history = chat_->History(bob_, room_, std::nullopt, 0, 100);
  ASSERT_OK(history);
  // A tombstone keeps its place (sequences stay gapless), without its words.
  ASSERT_EQ(history->size(), 9u);
  for (const auto& m : *history) {
    if (m.id != reported) continue;
    EXPECT_TRUE(m.deleted);
    EXPECT_EQ(m.body, "");
  }
  // The other report of the same message was answered by the same decision.
  EXPECT_EQ(moderation_->ListReports("open", "", 10)->reports.size(), 0u);
  EXPECT_EQ(moderation_->ListReports("resolved", "", 10)->reports.size(), 2u);
  EXPECT_EQ(moderation_->ResolveReport(mod_, report->id, del).error().code, ErrorCode::kConflict);
  EXPECT_EQ(moderation_->ResolveReport(mod_, "0191d1f0-0000-7000-8000-000000000000", del).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.report.resolve'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.message.delete' AND target_id = '" +
                  reported + "'"),
            1);
  bool deleted_event = false;
  for (int i = 0; i < 500 && !deleted_event; ++i) {  // the bus delivers on its own thread
    std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mu_);
    for (const auto& e : events_) {
      deleted_event = deleted_event || (S(e, "type") == "message_deleted" && S(e.at("message").as_object(), "id") == reported);
    }
  }
  EXPECT_TRUE(deleted_event);
}

TEST_P(ModerationContractTest, ConcurrentResolutionsOfOneReportHaveOneWinner) {
  std::string m = Say(alice_, "contested");
  auto report = moderation_->ReportMessage(bob_, m, "rude");
  ASSERT_OK(report);
  std::atomic<int> won{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = moderation_->ResolveReport(mod_, report->id, Act(ActionKind::kDismiss, ""));
      if (r.ok()) won++;
      else if (r.error().code == ErrorCode::kConflict) conflicts++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(conflicts.load(), 3);
}

TEST_P(ModerationContractTest, MutesStopSendingUntilTheyExpireOrAreLifted) {
  EXPECT_EQ(moderation_->Apply(mod_, Act(ActionKind::kMute, alice_)).error().code, ErrorCode::kInvalidArgument)
      << "a mute needs a duration";
  EXPECT_EQ(moderation_->Apply(mod_, Act(ActionKind::kMute, mod_, 60s)).error().code, ErrorCode::kInvalidArgument)
      << "not oneself";
  auto mute = moderation_->Apply(mod_, Act(ActionKind::kMute, alice_, 60s));
  ASSERT_OK(mute);
  ASSERT_TRUE(*mute);
  auto review = moderation_->ReviewMessage(alice_, room_, "m1", "hello");
  ASSERT_OK(review);
  ASSERT_TRUE(review->refusal);
  EXPECT_EQ(review->refusal->code, "muted");
  ASSERT_TRUE(review->refusal->until_ms);
  EXPECT_EQ(*review->refusal->until_ms, (*mute)->expires_at.value());
  EXPECT_FALSE(moderation_->ReviewMessage(bob_, room_, "m1", "hello")->refusal) << "others unaffected";
  EXPECT_FALSE(moderation_->ReviewJoin(alice_, room_)->has_value()) << "a mute is not a ban";

  clock_.Advance(61s);
  EXPECT_FALSE(moderation_->ReviewMessage(alice_, room_, "m2", "hello again")->refusal);
  EXPECT_EQ(moderation_->ListSanctions(moderation::SanctionKind::kMute, true, "", "", 10)->sanctions.size(), 0u);
  EXPECT_EQ(moderation_->ListSanctions(moderation::SanctionKind::kMute, false, "", "", 10)->sanctions.size(), 1u);

  auto global = moderation_->Apply(mod_, Act(ActionKind::kMute, alice_, 3600s, true));
  ASSERT_OK(global);
  auto other_room = chat_->CreateRoom(bob_, {"elsewhere", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(other_room);
  EXPECT_EQ(moderation_->ReviewMessage(alice_, other_room->id, "m3", "hi")->refusal->reason, "global");
  auto lifted = moderation_->Lift(mod_, (*global)->id, "appeal granted");
  ASSERT_OK(lifted);
  EXPECT_FALSE(lifted->active);
  EXPECT_TRUE(lifted->lifted_at);
  EXPECT_EQ(moderation_->Lift(mod_, (*global)->id, "twice").error().code, ErrorCode::kConflict);
  EXPECT_FALSE(moderation_->ReviewMessage(alice_, other_room->id, "m4", "hi")->refusal);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.mute'"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.unmute'"), 1);
}

TEST_P(ModerationContractTest, BansRemoveTheMemberRefuseJoiningAndAnnounceTheEviction) {
  auto ban = moderation_->Apply(mod_, Act(ActionKind::kBan, alice_, 3600s));
  ASSERT_OK(ban);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chat_members WHERE user_id = '" + alice_ + "' AND room_id = '" + room_ + "'"),
            0);
  auto refusal = moderation_->ReviewJoin(alice_, room_);
  ASSERT_OK(refusal);
  ASSERT_TRUE(refusal->has_value());
  EXPECT_EQ((*refusal)->code, "banned");
  EXPECT_EQ((*refusal)->reason, "room");
  EXPECT_EQ(moderation_->ReviewMessage(alice_, room_, "b1", "let me in")->refusal->code, "banned");
  auto events = Events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(S(events.back(), "kind"), "evict");
  EXPECT_EQ(S(events.back(), "user"), alice_);
  EXPECT_EQ(S(events.back(), "room"), room_);
  EXPECT_EQ(S(events.back(), "reason"), "ban");

  auto other_room = chat_->CreateRoom(bob_, {"elsewhere", "", chat::RoomKind::kPublic, 0});
  ASSERT_OK(other_room);
  EXPECT_FALSE(moderation_->ReviewJoin(alice_, other_room->id)->has_value()) << "a room ban is for one room";

  clock_.Advance(3601s);
  EXPECT_FALSE(moderation_->ReviewJoin(alice_, room_)->has_value()) << "expired";

  auto forever = moderation_->Apply(mod_, Act(ActionKind::kBan, bob_, std::nullopt, true));
  ASSERT_OK(forever);
  EXPECT_FALSE((*forever)->expires_at);
  EXPECT_EQ((*moderation_->ReviewJoin(bob_, other_room->id))->reason, "global");
  EXPECT_EQ(S(Events(2).back(), "room"), "");
  clock_.Advance(24h * 365);
  EXPECT_TRUE(moderation_->ReviewJoin(bob_, room_)->has_value()) << "until lifted";
  auto page = moderation_->ListSanctions(moderation::SanctionKind::kBan, true, "", "", 10);
  ASSERT_OK(page);
  ASSERT_EQ(page->sanctions.size(), 1u);
  EXPECT_EQ(page->sanctions[0].user_id, bob_);
  EXPECT_TRUE(page->sanctions[0].room_id.empty());
  auto bobs = moderation_->ListSanctions(std::nullopt, false, alice_, "", 10);
  ASSERT_OK(bobs);
  EXPECT_EQ(bobs->sanctions.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.ban'"), 2);
}

TEST_P(ModerationContractTest, KickRemovesTheMemberWhoMayJoinAgain) {
  auto kicked = moderation_->Apply(mod_, Act(ActionKind::kKick, alice_));
  ASSERT_OK(kicked);
  EXPECT_FALSE(kicked->has_value());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chat_members WHERE user_id = '" + alice_ + "' AND room_id = '" + room_ + "'"),
            0);
  EXPECT_EQ(S(Events().back(), "reason"), "kick");
  EXPECT_FALSE(moderation_->ReviewJoin(alice_, room_)->has_value());
  EXPECT_OK(chat_->Join(alice_, room_));
  EXPECT_EQ(moderation_->Apply(mod_, Act(ActionKind::kKick, alice_, std::nullopt, true)).error().code,
            ErrorCode::kInvalidArgument);
  Action nowhere = Act(ActionKind::kKick, alice_);
  nowhere.room_id = "0191d1f0-0000-7000-8000-000000000000";
  EXPECT_EQ(moderation_->Apply(mod_, nowhere).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'moderation.kick'"), 1);
}

TEST_P(ModerationContractTest, SanctionPagesWalkNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(moderation_->Apply(mod_, Act(ActionKind::kMute, alice_, std::chrono::seconds(100 + i))));
    clock_.Advance(1ms);
  }
  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto page = moderation_->ListSanctions(std::nullopt, true, "", cursor, 2);
    ASSERT_OK(page);
    for (const auto& s : page->sanctions) seen.push_back(s.id);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
}

TEST_P(ModerationContractTest, DeletingAMessageLeavesOneTombstone) {
  std::string m = Say(alice_, "oops");
  ASSERT_OK(moderation_->DeleteMessage(mod_, m, "cleanup"));
  EXPECT_EQ(moderation_->DeleteMessage(mod_, m, "cleanup").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(moderation_->DeleteMessage(mod_, m, "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chat_messages WHERE id = '" + m + "' AND body = '' AND deleted_at IS NOT NULL"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ModerationContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza
