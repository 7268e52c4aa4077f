// The social repository (follows, likes, reposts, comments, playlists, feeds) on every database
// backend, through the migrations veza ships. Hidden tracks (private, unlisted, not ready) must
// never show in another reader's lists or counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "base/ids.h"
#include "services/auth/user_repository.h"
#include "services/social/social_repository.h"
#include "services/tracks/track_repository.h"
#include "test_database.h"
#include "test_support.h"

namespace veza::social {
namespace {

using tracks::NewTrack;
using tracks::Track;
using tracks::TrackRepository;
using tracks::Visibility;

class SocialRepoContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(test_db_->db(), EmbeddedMigrations(test_db_->db().Dialect())));
    tracks_ = std::make_unique<TrackRepository>(test_db_->db());
    users_ = std::make_unique<UserRepository>(test_db_->db());
    repo_ = std::make_unique<SocialRepository>(test_db_->db());
    alice_ = users_->Create({"Alice", "alice@example.com", std::nullopt, "Alice"}, 1)->id;
    bob_ = users_->Create({"bob", "bob@example.com", std::nullopt, "Bob"}, 1)->id;
    carol_ = users_->Create({"carol", "carol@example.com", std::nullopt, "Carol"}, 1)->id;
  }

  std::string MakeTrack(const std::string& owner, Visibility v = Visibility::kPublic, bool ready = true) {
    NewTrack n;
    n.id = NewId();
    n.owner_id = owner;
    n.title = "t";
    n.visibility = v;
    n.original_key = "tracks/" + n.id + "/original";
    n.original_size = 10;
    n.original_content_type = "audio/wav";
    EXPECT_OK(tracks_->Create(n, 1000));
    if (ready) {
      EXPECT_OK(tracks_->ClaimForProcessing(n.id, 2000, 60'000));
      MediaReport r;
      r.format.duration_ms = 60'000;
      EXPECT_OK(tracks_->MarkReady(n.id, r, 3000));
    }
    return n.id;
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<TrackRepository> tracks_;
  std::unique_ptr<UserRepository> users_;
  std::unique_ptr<SocialRepository> repo_;
  std::string alice_, bob_, carol_;
};

TEST_P(SocialRepoContractTest, FollowsAreIdempotentAndPageWithoutGapsOrRepeats) {
  EXPECT_EQ(repo_->FindUser("ALICE")->id, alice_);
  EXPECT_EQ(repo_->FindUser("nobody").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(*repo_->Follow(bob_, alice_, 10));
  EXPECT_FALSE(*repo_->Follow(bob_, alice_, 11));
  EXPECT_EQ(repo_->Follow(alice_, alice_, 12).error().code, ErrorCode::kInvalidArgument);
  std::vector<std::string> followers = {bob_};
  for (int i = 0; i < 4; ++i) {
    std::string id = users_->Create({"fan" + std::to_string(i), "fan" + std::to_string(i) + "@example.com",
                                     std::nullopt, ""}, 1)->id;
    ASSERT_TRUE(*repo_->Follow(id, alice_, 20 + i));
    followers.push_back(id);
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = repo_->ListFollowers(alice_, cursor, 2);
    ASSERT_OK(page);
    EXPECT_LE(page->users.size(), 2u);
    for (const auto& f : page->users) EXPECT_TRUE(seen.insert(f.user.id).second) << "repeated";
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen, std::set<std::string>(followers.begin(), followers.end()));
  EXPECT_EQ(pages, 3);
  auto following = repo_->ListFollowing(bob_, "", 10);
  ASSERT_OK(following);
  ASSERT_EQ(following->users.size(), 1u);
  EXPECT_EQ(following->users[0].user.username, "Alice");
  EXPECT_EQ(repo_->ListFollowers(alice_, "not-a-cursor", 2).error().code, ErrorCode::kInvalidArgument);

  EXPECT_TRUE(*repo_->Unfollow(bob_, alice_));
  EXPECT_FALSE(*repo_->Unfollow(bob_, alice_));
  EXPECT_FALSE(*repo_->IsFollowing(bob_, alice_));
  EXPECT_EQ(repo_->CountsForProfile(alice_)->followers, 4);
}

TEST_P(SocialRepoContractTest, LikesAndRepostsToggleAndTheLikesListHidesWhatOthersMayNotSee) {
  std::string open = MakeTrack(alice_);
  std::string secret = MakeTrack(alice_, Visibility::kPrivate);
  std::string unlisted = MakeTrack(alice_, Visibility::kUnlisted);
  std::string pending = MakeTrack(alice_, Visibility::kPublic, false);
  for (const auto& t : {open, secret, unlisted, pending}) EXPECT_TRUE(*repo_->Like(alice_, t, 10));
  EXPECT_FALSE(*repo_->Like(alice_, open, 11));
  EXPECT_TRUE(*repo_->Like(bob_, open, 12));
  EXPECT_TRUE(*repo_->Repost(bob_, open, 13));
  EXPECT_FALSE(*repo_->Repost(bob_, open, 14));
  auto counts = repo_->CountsForTrack(open, bob_);
  EXPECT_EQ(counts->likes, 2);
  EXPECT_EQ(counts->reposts, 1);
  EXPECT_TRUE(counts->liked && counts->reposted) << "bob's own state comes with the counts";
  EXPECT_FALSE(repo_->CountsForTrack(open, "")->liked) << "nobody's";

  auto as_bob = repo_->ListLikes(alice_, {bob_, false}, "", 10);
  ASSERT_OK(as_bob);
  EXPECT_EQ(as_bob->track_ids, std::vector<std::string>{open});
  auto as_alice = repo_->ListLikes(alice_, {alice_, false}, "", 10);
  EXPECT_EQ(as_alice->track_ids.size(), 4u);
  // Paging through the owner's view.
  auto first = repo_->ListLikes(alice_, {alice_, false}, "", 3);
  EXPECT_EQ(first->track_ids.size(), 3u);
  auto second = repo_->ListLikes(alice_, {alice_, false}, first->next_cursor, 3);
  EXPECT_EQ(second->track_ids.size(), 1u);
  EXPECT_TRUE(second->next_cursor.empty());

  EXPECT_TRUE(*repo_->Unlike(bob_, open));
  EXPECT_TRUE(*repo_->Unrepost(bob_, open));
  EXPECT_EQ(repo_->CountsForTrack(open, "")->likes, 1);
  EXPECT_EQ(repo_->CountsForTrack(open, "")->reposts, 0);
  // Liking a track that does not exist is refused by the foreign key.
  EXPECT_FALSE(repo_->Like(bob_, NewId(), 15).ok());
}

TEST_P(SocialRepoContractTest, ProfileCountsAreExactAndCountOnlyListedTracks) {
  std::string open = MakeTrack(alice_);
  std::string second = MakeTrack(alice_);
  std::string secret = MakeTrack(alice_, Visibility::kPrivate);
  MakeTrack(alice_, Visibility::kUnlisted);
  MakeTrack(alice_, Visibility::kPublic, false);
  ASSERT_OK(repo_->Follow(bob_, alice_, 1));
  ASSERT_OK(repo_->Follow(carol_, alice_, 1));
  ASSERT_OK(repo_->Follow(alice_, carol_, 1));
  ASSERT_OK(tracks_->RecordPlay(open, bob_, 5));
  ASSERT_OK(tracks_->RecordPlay(open, std::nullopt, 6));
  ASSERT_OK(tracks_->RecordPlay(second, carol_, 7));
  ASSERT_OK(tracks_->RecordPlay(secret, alice_, 8));  // a private track's plays stay private
  ASSERT_OK(repo_->Like(alice_, open, 9));
  ASSERT_OK(repo_->Like(alice_, secret, 9));
  std::string bobs = MakeTrack(bob_);
  ASSERT_OK(repo_->Like(alice_, bobs, 9));

  auto c = repo_->CountsForProfile(alice_);
  ASSERT_OK(c);
  EXPECT_EQ(c->followers, 2);
  EXPECT_EQ(c->following, 1);
  EXPECT_EQ(c->tracks, 2);
  EXPECT_EQ(c->plays, 3);
  EXPECT_EQ(c->likes, 2);
  // Deleting a track takes its plays and likes out of every count at once.
  ASSERT_OK(tracks_->Delete(open));
  c = repo_->CountsForProfile(alice_);
  EXPECT_EQ(c->tracks, 1);
  EXPECT_EQ(c->plays, 1);
  EXPECT_EQ(c->likes, 1);
}

TEST_P(SocialRepoContractTest, CommentsPageByTimeAndByNewestAndRepliesGoWithTheirComment) {
  std::string track = MakeTrack(alice_);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    Comment c;
    c.id = NewId();
    c.track_id = track;
    c.author.id = i % 2 ? bob_ : carol_;
    c.body = "comment " + std::to_string(i);
    c.at_ms = (5 - i) * 1000 + (i == 4 ? 1000 : 0);  // 5000, 4000, 3000, 2000, 2000
    c.created_at_ms = 100 + i;
    auto saved = repo_->AddComment(c);
    ASSERT_OK(saved);
    ids.push_back(saved->id);
  }
  Comment reply;
  reply.id = NewId();
  reply.track_id = track;
  reply.author.id = alice_;
  reply.reply_to = ids[0];
  reply.body = "thanks";
  reply.at_ms = 5000;
  reply.created_at_ms = 200;
  ASSERT_OK(repo_->AddComment(reply));

  std::vector<std::int64_t> times;
  std::set<std::string> seen;
  std::string cursor;
  do {
    auto page = repo_->ListComments(track, CommentOrder::kByTime, cursor, 2);
    ASSERT_OK(page);
    for (const auto& c : page->comments) {
      times.push_back(c.at_ms);
      EXPECT_TRUE(seen.insert(c.id).second);
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));

  auto newest = repo_->ListComments(track, CommentOrder::kNewest, "", 10);
  ASSERT_OK(newest);
  ASSERT_EQ(newest->comments.size(), 6u);
  for (std::size_t i = 1; i < newest->comments.size(); ++i)
    EXPECT_GT(newest->comments[i - 1].id, newest->comments[i].id);
  EXPECT_EQ(repo_->ListComments(track, CommentOrder::kByTime, "12_nope", 2).error().code,
            ErrorCode::kInvalidArgument);

  ASSERT_OK(repo_->EditComment(ids[1], "edited", 300));
  auto edited = repo_->FindComment(ids[1]);
  EXPECT_EQ(edited->body, "edited");
  EXPECT_EQ(edited->edited_at_ms.value_or(0), 300);
  EXPECT_EQ(repo_->CountsForTrack(track, "")->comments, 6);
  ASSERT_OK(repo_->DeleteComment(ids[0]));
  EXPECT_EQ(repo_->FindComment(reply.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(repo_->CountsForTrack(track, "")->comments, 4);
  EXPECT_EQ(repo_->DeleteComment(ids[0]).error().code, ErrorCode::kNotFound);
}

TEST_P(SocialRepoContractTest, PlaylistItemsKeepADenseOrderThroughAddMoveAndRemove) {
  Playlist p;
  p.id = NewId();
  p.owner.id = alice_;
  p.title = "Mix";
  p.created_at_ms = 1;
  ASSERT_OK(repo_->CreatePlaylist(p));
  std::vector<std::string> t;
  for (int i = 0; i < 4; ++i) t.push_back(MakeTrack(bob_));
  for (const auto& id : t) ASSERT_OK(repo_->AddItem(p.id, id, std::nullopt, alice_, 10));
  EXPECT_EQ(repo_->AddItem(p.id, t[0], std::nullopt, alice_, 11).error().code, ErrorCode::kConflict);
  auto order = [&](const Reader& reader) {
    std::vector<std::string> out;
    auto page = repo_->ListItems(p.id, reader, "", 100);
    EXPECT_OK(page);
    for (std::size_t i = 0; i < page->items.size(); ++i) {
      EXPECT_EQ(page->items[i].position, static_cast<int>(i));
      out.push_back(page->items[i].track_id);
    }
    return out;
  };
  Reader anyone{"", false};
  EXPECT_EQ(order(anyone), t);
  ASSERT_OK(repo_->MoveItem(p.id, t[3], 0, 12));
  EXPECT_EQ(order(anyone), (std::vector<std::string>{t[3], t[0], t[1], t[2]}));
  ASSERT_OK(repo_->MoveItem(p.id, t[3], 99, 13));  // clamped to the end
  EXPECT_EQ(order(anyone), t);
  std::string inserted = MakeTrack(alice_);
  ASSERT_OK(repo_->AddItem(p.id, inserted, 1, alice_, 14));
  EXPECT_EQ(order(anyone), (std::vector<std::string>{t[0], inserted, t[1], t[2], t[3]}));
  ASSERT_OK(repo_->RemoveItem(p.id, t[1], 15));
  EXPECT_EQ(repo_->RemoveItem(p.id, t[1], 16).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(order(anyone), (std::vector<std::string>{t[0], inserted, t[2], t[3]}));

  // A deleted track leaves the playlist; the next change closes the gap.
  ASSERT_OK(tracks_->Delete(t[0]));
  ASSERT_OK(repo_->MoveItem(p.id, t[3], 0, 17));
  auto rows = test_db_->db().Query("SELECT position FROM playlist_items WHERE playlist_id = $1 ORDER BY position",
                                   {SqlText(p.id)});
  ASSERT_OK(rows);
  for (std::size_t i = 0; i < rows->rows.size(); ++i) EXPECT_EQ(rows->rows[i].Int(0), static_cast<std::int64_t>(i));

  // Paging by offset.
  auto first = repo_->ListItems(p.id, anyone, "", 2);
  ASSERT_OK(first);
  EXPECT_EQ(first->next_cursor, "2");
  auto second = repo_->ListItems(p.id, anyone, first->next_cursor, 2);
  ASSERT_OK(second);
  EXPECT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].position, 2);
  EXPECT_EQ(repo_->ListItems(p.id, anyone, "-1", 2).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo_->AddItem(NewId(), t[1], std::nullopt, alice_, 18).error().code, ErrorCode::kNotFound);
}

TEST_P(SocialRepoContractTest, PrivateTracksInAPlaylistAreNeitherListedNorCountedForOthers) {
  Playlist p;
  p.id = NewId();
  p.owner.id = alice_;
  p.title = "Mixed";
  p.created_at_ms = 1;
  ASSERT_OK(repo_->CreatePlaylist(p));
  std::string open = MakeTrack(bob_);
  std::string bobs_secret = MakeTrack(bob_, Visibility::kPrivate);
  std::string unlisted = MakeTrack(bob_, Visibility::kUnlisted);
  std::string open2 = MakeTrack(carol_);
  for (const auto& id : {open, bobs_secret, unlisted, open2})
    ASSERT_OK(repo_->AddItem(p.id, id, std::nullopt, alice_, 10));

  auto ids = [&](const Reader& reader) {
    std::vector<std::string> out;
    auto page = repo_->ListItems(p.id, reader, "", 100);
    EXPECT_OK(page);
    for (const auto& i : page->items) out.push_back(i.track_id);
    return out;
  };
  EXPECT_EQ(ids({carol_, false}), (std::vector<std::string>{open, unlisted, open2}));
  EXPECT_EQ(*repo_->CountVisibleItems(p.id, {carol_, false}), 3);
  EXPECT_EQ(*repo_->CountVisibleItems(p.id, {"", false}), 3);
  EXPECT_EQ(ids({bob_, false}).size(), 4u);  // his own private track
  EXPECT_EQ(*repo_->CountVisibleItems(p.id, {"", true}), 4);  // moderators
  // The position a reader sees is a rank among what they see: no gap gives the hidden one away.
  auto page = repo_->ListItems(p.id, {carol_, false}, "", 100);
  EXPECT_EQ(page->items[1].position, 1);
}

TEST_P(SocialRepoContractTest, PlaylistsEditListAndEditors) {
  Playlist open;
  open.id = NewId();
  open.owner.id = alice_;
  open.title = "Open";
  open.created_at_ms = 1;
  ASSERT_OK(repo_->CreatePlaylist(open));
  Playlist closed = open;
  closed.id = NewId();
  closed.title = "Closed";
  closed.is_public = false;
  ASSERT_OK(repo_->CreatePlaylist(closed));
  EXPECT_EQ(repo_->ListPlaylists(alice_, false, "", 10)->playlists.size(), 1u);
  EXPECT_EQ(repo_->ListPlaylists(alice_, true, "", 10)->playlists.size(), 2u);
  auto paged = repo_->ListPlaylists(alice_, true, "", 1);
  EXPECT_FALSE(paged->next_cursor.empty());
  EXPECT_EQ(repo_->ListPlaylists(alice_, true, paged->next_cursor, 1)->playlists.size(), 1u);

  PlaylistEdit e;
  e.title = "Renamed";
  e.collaborative = true;
  e.is_public = false;
  ASSERT_OK(repo_->EditPlaylist(open.id, e, 50));
  auto found = repo_->FindPlaylist(open.id);
  ASSERT_OK(found);
  EXPECT_EQ(found->title, "Renamed");
  EXPECT_TRUE(found->collaborative);
  EXPECT_FALSE(found->is_public);
  EXPECT_EQ(found->description, "");
  EXPECT_EQ(found->owner.username, "Alice");
  EXPECT_EQ(found->updated_at_ms, 50);

  EXPECT_TRUE(*repo_->AddEditor(open.id, bob_, 60));
  EXPECT_FALSE(*repo_->AddEditor(open.id, bob_, 61));
  EXPECT_TRUE(*repo_->IsEditor(open.id, bob_));
  EXPECT_EQ(repo_->ListEditors(open.id)->size(), 1u);
  EXPECT_TRUE(*repo_->RemoveEditor(open.id, bob_));
  EXPECT_FALSE(*repo_->IsEditor(open.id, bob_));
  ASSERT_OK(repo_->DeletePlaylist(open.id));
  EXPECT_EQ(repo_->FindPlaylist(open.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(repo_->DeletePlaylist(open.id).error().code, ErrorCode::kNotFound);
}

TEST_P(SocialRepoContractTest, HomeFeedMergesUploadsAndRepostsOfFollowedAccountsNewestFirst) {
  ASSERT_OK(repo_->Follow(alice_, bob_, 1));
  std::set<std::string> expected;
  for (int i = 0; i < 3; ++i) expected.insert(MakeTrack(bob_));
  MakeTrack(bob_, Visibility::kPrivate);
  MakeTrack(bob_, Visibility::kUnlisted);
  MakeTrack(bob_, Visibility::kPublic, false);
  MakeTrack(carol_);  // not followed
  std::string carols = MakeTrack(carol_);
  std::string carols_secret = MakeTrack(carol_, Visibility::kPrivate);
  ASSERT_OK(repo_->Repost(bob_, carols, 5));
  ASSERT_OK(repo_->Repost(bob_, carols_secret, 5));  // the service refuses this; SQL hides it too
  std::set<std::string> seen_tracks;
  std::vector<std::string> event_ids;
  std::string cursor;
  int pages = 0;
  do {
    auto page = repo_->HomeFeed(alice_, cursor, 2);
    ASSERT_OK(page);
    for (const auto& e : page->entries) {
      event_ids.push_back(e.id);
      seen_tracks.insert(e.track_id);
      EXPECT_EQ(e.actor.username, "bob");
      if (e.kind == FeedEntry::Kind::kRepost) {
        EXPECT_EQ(e.track_id, carols);
      }
    }
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  expected.insert(carols);
  EXPECT_EQ(seen_tracks, expected);
  EXPECT_EQ(event_ids.size(), 4u);
  EXPECT_TRUE(std::is_sorted(event_ids.rbegin(), event_ids.rend()));
  EXPECT_TRUE(repo_->HomeFeed(carol_, "", 10)->entries.empty());
  EXPECT_EQ(repo_->HomeFeed(alice_, "x", 10).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(SocialRepoContractTest, DiscoverRanksListedTracksByRecentPlaysAndLikes) {
  std::string hot = MakeTrack(alice_);
  std::string warm = MakeTrack(bob_);
  std::string old = MakeTrack(bob_);
  std::string secret = MakeTrack(alice_, Visibility::kPrivate);
  for (int i = 0; i < 3; ++i) ASSERT_OK(tracks_->RecordPlay(hot, std::nullopt, 10'000 + i));
  ASSERT_OK(repo_->Like(bob_, hot, 10'000));
  ASSERT_OK(tracks_->RecordPlay(warm, std::nullopt, 10'000));
  ASSERT_OK(repo_->Like(alice_, warm, 10'001));
  for (int i = 0; i < 9; ++i) ASSERT_OK(tracks_->RecordPlay(old, std::nullopt, 100 + i));  // before the window
  for (int i = 0; i < 9; ++i) ASSERT_OK(tracks_->RecordPlay(secret, std::nullopt, 10'000 + i));
  auto page = repo_->Discover(5'000, "", 10);
  ASSERT_OK(page);
  ASSERT_EQ(page->tracks.size(), 2u);
  EXPECT_EQ(page->tracks[0].track_id, hot);
  EXPECT_EQ(page->tracks[0].score, 4);
  EXPECT_EQ(page->tracks[1].track_id, warm);
  EXPECT_EQ(page->tracks[1].score, 2);
  auto first = repo_->Discover(5'000, "", 1);
  EXPECT_EQ(first->next_cursor, "1");
  EXPECT_EQ(repo_->Discover(5'000, first->next_cursor, 1)->tracks[0].track_id, warm);
  EXPECT_EQ(repo_->Discover(5'000, "abc", 1).error().code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, SocialRepoContractTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace veza::social
