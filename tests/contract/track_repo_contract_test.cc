// The track repository on every database backend, through the migrations veza ships.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/ids.h"
#include "services/auth/user_repository.h"
#include "services/tracks/track_repository.h"
#include "test_database.h"
#include "test_support.h"

namespace veza::tracks {
namespace {

class TrackRepoContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(test_db_->db(), EmbeddedMigrations(test_db_->db().Dialect())));
    repo_ = std::make_unique<TrackRepository>(test_db_->db());
    users_ = std::make_unique<UserRepository>(test_db_->db());
    alice_ = users_->Create({"Alice", "alice@example.com", std::nullopt, "Alice"}, 1)->id;
    bob_ = users_->Create({"bob", "bob@example.com", std::nullopt, "Bob"}, 1)->id;
  }

  Track Make(const std::string& owner, const std::string& title, Visibility v = Visibility::kPublic,
             std::int64_t size = 1000) {
    NewTrack n;
    n.id = NewId();
    n.owner_id = owner;
    n.title = title;
    n.visibility = v;
    n.original_key = "tracks/" + n.id + "/original";
    n.original_size = size;
    n.original_content_type = "audio/wav";
    n.original_filename = title + ".wav";
    auto t = repo_->Create(n, 1000);
    EXPECT_OK(t);
    return t.ok() ? *t : Track{};
  }

  void Ready(const Track& t) {
    ASSERT_OK(repo_->ClaimForProcessing(t.id, 2000, 60'000));
    MediaReport r;
    r.format.duration_ms = 1234;
    ASSERT_OK(repo_->MarkReady(t.id, r, 3000));
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<TrackRepository> repo_;
  std::unique_ptr<UserRepository> users_;
  std::string alice_, bob_;
};

TEST_P(TrackRepoContractTest, CreatesAndFindsATrackWithItsOwner) {
  Track t = Make(alice_, "First light");
  auto found = repo_->FindById(t.id);
  ASSERT_OK(found);
  EXPECT_EQ(found->owner_id, alice_);
  EXPECT_EQ(found->owner_username, "Alice");
  EXPECT_EQ(found->title, "First light");
  EXPECT_EQ(found->state, TrackState::kUploaded);
  EXPECT_EQ(found->visibility, Visibility::kPublic);
  EXPECT_EQ(found->original_size, 1000);
  EXPECT_EQ(found->original_filename, "First light.wav");
  EXPECT_FALSE(found->year.has_value());
  EXPECT_FALSE(found->loudness.has_value());
  EXPECT_EQ(repo_->FindById("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(repo_->FindById(NewId()).error().code, ErrorCode::kNotFound);
}

TEST_P(TrackRepoContractTest, PublicListingHoldsOnlyReadyPublicTracksNewestFirstInPages) {
  std::vector<std::string> public_ready;
  for (int i = 0; i < 5; ++i) {
    Track t = Make(i % 2 ? alice_ : bob_, "track " + std::to_string(i));
    Ready(t);
    public_ready.push_back(t.id);
  }
  // Newest first is id descending (UUIDv7; ids made within one millisecond order randomly).
  std::sort(public_ready.rbegin(), public_ready.rend());
  Ready(Make(alice_, "hidden", Visibility::kUnlisted));
  Ready(Make(alice_, "secret", Visibility::kPrivate));
  Make(alice_, "still uploading");

  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto page = repo_->ListPublic(cursor, 2);
    ASSERT_OK(page);
    EXPECT_LE(page->tracks.size(), 2u);
    for (const Track& t : page->tracks) seen.push_back(t.id);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(seen, public_ready);
  EXPECT_EQ(repo_->ListPublic("bad cursor", 2).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(TrackRepoContractTest, OwnerListingShowsEverythingToTheOwnerAndPublicReadyToOthers) {
  Ready(Make(alice_, "a"));
  Ready(Make(alice_, "b", Visibility::kPrivate));
  Make(alice_, "c");
  Ready(Make(bob_, "d"));
  EXPECT_EQ(repo_->ListByOwner(alice_, true, "", 10)->tracks.size(), 3u);
  EXPECT_EQ(repo_->ListByOwner(alice_, false, "", 10)->tracks.size(), 1u);
  EXPECT_EQ(*repo_->OwnerIdByUsername("ALICE"), alice_);
  EXPECT_EQ(repo_->OwnerIdByUsername("carol").error().code, ErrorCode::kNotFound);
}

TEST_P(TrackRepoContractTest, EditsKeepWhatIsLeftOutAndZeroClearsNumbers) {
  Track t = Make(alice_, "x");
  TrackEdit e;
  e.title = "New title";
  e.artist = "Alice A.";
  e.year = 2021;
  e.track_number = 4;
  e.visibility = Visibility::kUnlisted;
  ASSERT_OK(repo_->Edit(t.id, e, 5000));
  TrackEdit e2;
  e2.genre = "Ambient";
  e2.year = 0;
  ASSERT_OK(repo_->Edit(t.id, e2, 6000));
  auto found = repo_->FindById(t.id);
  ASSERT_OK(found);
  EXPECT_EQ(found->title, "New title");
  EXPECT_EQ(found->artist, "Alice A.");
  EXPECT_EQ(found->genre, "Ambient");
  EXPECT_FALSE(found->year.has_value());
  EXPECT_EQ(found->track_number.value_or(0), 4);
  EXPECT_EQ(found->visibility, Visibility::kUnlisted);
  EXPECT_EQ(found->updated_at_ms, 6000);
  EXPECT_EQ(repo_->Edit(NewId(), e, 1).error().code, ErrorCode::kNotFound);
}

TEST_P(TrackRepoContractTest, ClaimIsExclusiveUntilTheLeaseEndsAndReadyTracksAreNotClaimedAgain) {
  Track t = Make(alice_, "job");
  auto first = repo_->ClaimForProcessing(t.id, 1000, 500);
  ASSERT_OK(first);
  EXPECT_EQ(first->state, TrackState::kProcessing);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(repo_->ClaimForProcessing(t.id, 1200, 500).error().code, ErrorCode::kConflict);
  auto second = repo_->ClaimForProcessing(t.id, 1600, 500);  // the first worker's lease ran out
  ASSERT_OK(second);
  EXPECT_EQ(second->attempts, 2);
  ASSERT_OK(repo_->SetProgress(t.id, 40, 1700, 2700));  // and the lease is renewed to 2700
  EXPECT_EQ(repo_->FindById(t.id)->progress, 40);
  EXPECT_EQ(repo_->ClaimForProcessing(t.id, 2200, 500).error().code, ErrorCode::kConflict)
      << "a live worker that reports progress keeps its track";
  MediaReport r;
  r.format = {"wav", "pcm_s16le", 44100, 2, 1000, 1411200, true};
  r.tags = {"Tag title", "Tag artist", "", "Genre", 1999, 7};
  r.loudness = {-14, 5, -1, -4};
  r.waveform_points = 100;
  r.has_cover = true;
  ASSERT_OK(repo_->MarkReady(t.id, r, 1800));
  auto ready = repo_->FindById(t.id);
  ASSERT_OK(ready);
  EXPECT_EQ(ready->state, TrackState::kReady);
  EXPECT_EQ(ready->progress, 100);
  EXPECT_EQ(ready->title, "job");  // the uploader's title stays
  EXPECT_EQ(ready->artist, "Tag artist");
  EXPECT_EQ(ready->genre, "Genre");
  EXPECT_EQ(ready->year.value_or(0), 1999);
  EXPECT_EQ(ready->track_number.value_or(0), 7);
  EXPECT_EQ(ready->format.codec, "pcm_s16le");
  EXPECT_EQ(ready->format.duration_ms, 1000);
  EXPECT_TRUE(ready->format.lossless);
  ASSERT_TRUE(ready->loudness.has_value());
  EXPECT_DOUBLE_EQ(ready->loudness->integrated_lufs, -14);
  EXPECT_TRUE(ready->has_cover);
  EXPECT_EQ(repo_->ClaimForProcessing(t.id, 999'999, 500).error().code, ErrorCode::kConflict);
}

TEST_P(TrackRepoContractTest, TitleFromTheFileNameGivesWayToTheTitleTag) {
  NewTrack n;
  n.id = NewId();
  n.owner_id = alice_;
  n.title = "take_03_final";
  n.title_from_filename = true;
  n.original_key = "tracks/" + n.id + "/original";
  n.original_content_type = "audio/flac";
  ASSERT_OK(repo_->Create(n, 1));
  MediaReport r;
  r.tags.title = "Morning";
  ASSERT_OK(repo_->MarkReady(n.id, r, 2));
  EXPECT_EQ(repo_->FindById(n.id)->title, "Morning");
}

TEST_P(TrackRepoContractTest, FailedTracksKeepTheReasonAndPendingListsWhatIsLeft) {
  Track a = Make(alice_, "a"), b = Make(alice_, "b"), c = Make(alice_, "c");
  ASSERT_OK(repo_->ClaimForProcessing(b.id, 1, 10));
  ASSERT_OK(repo_->MarkFailed(c.id, "not an audio file", 2));
  auto failed = repo_->FindById(c.id);
  EXPECT_EQ(failed->state, TrackState::kFailed);
  EXPECT_EQ(failed->failure_reason, "not an audio file");
  std::vector<std::string> expected = {a.id, b.id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(*repo_->ListPending(), expected);
}

TEST_P(TrackRepoContractTest, StorageCountsOriginalsAndUnfinishedUploads) {
  Make(alice_, "a", Visibility::kPublic, 300);
  Make(alice_, "b", Visibility::kPublic, 700);
  Make(bob_, "c", Visibility::kPublic, 5);
  Upload u;
  u.id = NewId();
  u.owner_id = alice_;
  u.length = 50;
  u.expires_at_ms = 10'000;
  u.created_at_ms = 1;
  ASSERT_OK(repo_->CreateUpload(u));
  EXPECT_EQ(*repo_->StorageUsed(alice_), 1050);
  ASSERT_OK(repo_->FinishUpload(u.id, NewId()));
  EXPECT_EQ(*repo_->StorageUsed(alice_), 1000);
  EXPECT_EQ(*repo_->StorageUsed(NewId()), 0);
}

TEST_P(TrackRepoContractTest, UploadOffsetsMoveOnlyFromWhereTheyAre) {
  Upload u;
  u.id = NewId();
  u.owner_id = bob_;
  u.length = 100;
  u.filename = "song.flac";
  u.title = "Song";
  u.visibility = Visibility::kUnlisted;
  u.expires_at_ms = 5000;
  u.created_at_ms = 1;
  ASSERT_OK(repo_->CreateUpload(u));
  ASSERT_OK(repo_->AdvanceUpload(u.id, 0, 40, 6000));
  EXPECT_EQ(repo_->AdvanceUpload(u.id, 0, 80, 6000).error().code, ErrorCode::kConflict);
  ASSERT_OK(repo_->AdvanceUpload(u.id, 40, 100, 7000));
  auto found = repo_->FindUpload(u.id);
  ASSERT_OK(found);
  EXPECT_EQ(found->received, 100);
  EXPECT_EQ(found->expires_at_ms, 7000);
  EXPECT_EQ(found->visibility, Visibility::kUnlisted);
  EXPECT_EQ(found->filename, "song.flac");
  EXPECT_TRUE(repo_->ListExpiredUploads(6999, 10)->empty());
  EXPECT_EQ(repo_->ListExpiredUploads(7001, 10)->size(), 1u);
  ASSERT_OK(repo_->DeleteUpload(u.id));
  EXPECT_EQ(repo_->FindUpload(u.id).error().code, ErrorCode::kNotFound);
}

TEST_P(TrackRepoContractTest, PlaysAreCountedAndGoWithTheTrack) {
  Track t = Make(alice_, "played");
  ASSERT_OK(repo_->RecordPlay(t.id, bob_, 1));
  ASSERT_OK(repo_->RecordPlay(t.id, std::nullopt, 2));
  EXPECT_EQ(*repo_->CountPlays(t.id), 2);
  ASSERT_OK(repo_->Delete(t.id));
  EXPECT_EQ(*repo_->CountPlays(t.id), 0);
  EXPECT_EQ(repo_->Delete(t.id).error().code, ErrorCode::kNotFound);
}

TEST_P(TrackRepoContractTest, VisibilityAndStateAreCheckedByTheSchema) {
  Track t = Make(alice_, "x");
  auto bad = test_db_->db().Query("UPDATE tracks SET visibility = 'friends' WHERE id = $1",
                                  {SqlText(t.id)});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto bad_state =
      test_db_->db().Query("UPDATE tracks SET state = 'lost' WHERE id = $1", {SqlText(t.id)});
  ASSERT_FALSE(bad_state.ok());
}

// Takedowns (services/moderation/track_takedowns) set three columns; the listing filter
// kListedTracks and search's listed flag leave the track out, its owner still lists it.
TEST_P(TrackRepoContractTest, TakenDownTracksLeaveEveryListingButTheOwnersAndAreCounted) {
  Track kept = Make(alice_, "kept"), down = Make(alice_, "down");
  Make(bob_, "waiting");  // uploaded: the media queue
  Ready(kept);
  Ready(down);
  ASSERT_OK(test_db_->db().Query(
      "UPDATE tracks SET taken_down_at = 5000, takedown_reason = 'claim', taken_down_by = $2 WHERE id = $1",
      {SqlText(down.id), SqlText(bob_)}));
  auto listed = repo_->ListPublic("", 10);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->tracks.size(), 1u);
  EXPECT_EQ(listed->tracks[0].id, kept.id);
  EXPECT_EQ(repo_->ListByOwner(alice_, false, "", 10)->tracks.size(), 1u);
  auto mine = repo_->ListByOwner(alice_, true, "", 10);
  ASSERT_OK(mine);
  ASSERT_EQ(mine->tracks.size(), 2u);
  auto found = repo_->FindById(down.id);
  ASSERT_OK(found);
  ASSERT_TRUE(found->takedown.has_value());
  EXPECT_EQ(found->takedown->at_ms, 5000);
  EXPECT_EQ(found->takedown->reason, "claim");
  EXPECT_FALSE(repo_->FindById(kept.id)->takedown.has_value());
  auto taken = repo_->ListTakenDown("", 10);
  ASSERT_OK(taken);
  ASSERT_EQ(taken->tracks.size(), 1u);
  EXPECT_EQ(taken->tracks[0].id, down.id);
  auto counts = repo_->CountStates();
  ASSERT_OK(counts);
  EXPECT_EQ(counts->ready, 2);
  EXPECT_EQ(counts->uploaded, 1);
  EXPECT_EQ(counts->processing, 0);
  EXPECT_EQ(counts->failed, 0);
  EXPECT_EQ(counts->taken_down, 1);
  // Search lists what anyone may find: the trigger follows the takedown both ways.
  auto flag = [&](const std::string& id) {
    auto r = test_db_->db().Query(
        "SELECT CASE WHEN listed THEN 1 ELSE 0 END FROM search_documents WHERE kind = 'track' AND ref_id = $1",
        {SqlText(id)});
    return r.ok() && !r->rows.empty() ? r->rows[0].Int(0) : -1;
  };
  EXPECT_EQ(flag(kept.id), 1);
  EXPECT_EQ(flag(down.id), 0);
  ASSERT_OK(test_db_->db().Query("UPDATE tracks SET taken_down_at = NULL WHERE id = $1", {SqlText(down.id)}));
  EXPECT_EQ(flag(down.id), 1);
  EXPECT_EQ(repo_->ListPublic("", 10)->tracks.size(), 2u);
  EXPECT_EQ(repo_->ListTakenDown("", 10)->tracks.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackRepoContractTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace veza::tracks
