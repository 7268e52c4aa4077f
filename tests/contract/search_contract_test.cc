// Search on every database backend: the index kept by triggers, ranking and typo tolerance over a
// fixture of a few hundred tracks with known answers, filters, and that nothing unlisted leaks.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/ids.h"
#include "services/auth/user_repository.h"
#include "services/search/search_service.h"
#include "test_database.h"
#include "test_support.h"

namespace veza::search {
namespace {

class SearchContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(db(), EmbeddedMigrations(db().Dialect())));
    users_ = std::make_unique<UserRepository>(db());
    search_ = std::make_unique<SearchService>(db());
    owner_ = users_->Create({"studio", "studio@example.com", std::nullopt, "Studio"}, 1)->id;

    // A few hundred unrelated tracks around the ones the queries look for.
    const char* adjectives[] = {"Golden", "Silver", "Quiet",   "Electric", "Broken",
                                "Endless", "Hidden", "Wild",   "Lonely",   "Crystal"};
    const char* nouns[] = {"River",  "Garden", "Highway", "Mirror", "Signal",
                           "Harbor", "Window", "Forest",  "Engine", "Letter"};
    const char* suffixes[] = {"", " Part II", " (Remix)"};
    const char* artists[] = {"Aurora Lane", "The Static", "Mono Tides", "Kite Runner", "Velvet Hours"};
    int n = 0;
    for (const char* a : adjectives)
      for (const char* noun : nouns)
        for (const char* s : suffixes) {
          Track(std::string(a) + " " + noun + s, artists[n % 5], n % 2 ? "rock" : "ambient",
                60'000 + n * 1000, 1000 + n);
          ++n;
        }
    midnight_ = Track("Midnight City", "M83", "Electronic", 243'000, 5000, "Hurry Up, We're Dreaming");
    bohemian_ = Track("Bohemian Rhapsody", "Queen", "Rock", 354'000, 5001);
    teen_ = Track("Smells Like Teen Spirit", "Nirvana", "Grunge", 301'000, 5002);
    clair_ = Track("Clair de Lune", "Claude Debussy", "Classical", 300'000, 5003);
    ocean_quiet_ = Track("Ocean Drive", "Duke Dumont", "House", 206'000, 5004);
    ocean_loved_ = Track("Ocean Drive", "Duke Dumont", "House", 206'000, 5005);
    Plays(ocean_loved_, 7);
    Plays(ocean_quiet_, 2);
    // Never found by anyone.
    private_ = Track("Midnight Secret", "M83", "Electronic", 200'000, 5006, "", "private");
    unlisted_ = Track("Midnight Unlisted", "M83", "Electronic", 200'000, 5007, "", "unlisted");
    processing_ = Track("Midnight Pending", "M83", "Electronic", 200'000, 5008, "", "public", "processing");
  }

  Database& db() { return test_db_->db(); }

  std::string Track(const std::string& title, const std::string& artist, const std::string& genre,
                    std::int64_t duration_ms, std::int64_t created_at, const std::string& album = "",
                    const std::string& visibility = "public", const std::string& state = "ready") {
    std::string id = NewId();
    EXPECT_OK(db().Query(
        "INSERT INTO tracks (id, owner_id, title, artist, album, genre, visibility, state, "
        "duration_ms, original_key, original_size, original_content_type, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 'audio/wav', $11, $11)",
        {SqlText(id), SqlText(owner_), SqlText(title), SqlText(artist), SqlText(album),
         SqlText(genre), SqlText(visibility), SqlText(state), SqlInt(duration_ms),
         SqlText("tracks/" + id + "/original"), SqlInt(created_at)}));
    return id;
  }
  void Plays(const std::string& track, int count) {
    for (int i = 0; i < count; ++i) {
      EXPECT_OK(db().Query("INSERT INTO track_plays (id, track_id, played_at) VALUES ($1, $2, 1)",
                           {SqlText(NewId()), SqlText(track)}));
    }
  }
  std::vector<std::string> Ids(Query q) {
    auto page = search_->Search(q);
    EXPECT_OK(page);
    std::vector<std::string> ids;
    if (page.ok())
      for (const Hit& h : page->hits) ids.push_back(h.id);
    return ids;
  }
  std::vector<std::string> Find(const std::string& text, Kind kind = Kind::kTrack) {
    Query q;
    q.text = text;
    q.kind = kind;
    return Ids(q);
  }
  std::string Top(const std::string& text, Kind kind = Kind::kTrack) {
    auto ids = Find(text, kind);
    return ids.empty() ? "(nothing)" : ids.front();
  }
  static bool Has(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<UserRepository> users_;
  std::unique_ptr<SearchService> search_;
  std::string owner_, midnight_, bohemian_, teen_, clair_, ocean_quiet_, ocean_loved_;
  std::string private_, unlisted_, processing_;
};

TEST_P(SearchContractTest, TypedPartialAndMisspeltQueriesFindTheExpectedTrackFirst) {
  EXPECT_EQ(Top("midnight city"), midnight_);
  EXPECT_EQ(Top("Midnight"), midnight_);
  EXPECT_EQ(Top("midn"), midnight_);           // partial
  EXPECT_EQ(Top("midnigt"), midnight_);        // a letter missing
  EXPECT_EQ(Top("midnihgt city"), midnight_);  // swapped letters
  EXPECT_EQ(Top("m83"), midnight_);            // artist
  EXPECT_EQ(Top("hurry dreaming"), midnight_); // album
  EXPECT_EQ(Top("bohemian rapsody"), bohemian_);
  EXPECT_EQ(Top("queen"), bohemian_);
  EXPECT_EQ(Top("nirvana teen"), teen_);
  EXPECT_EQ(Top("teen spirt"), teen_);
  EXPECT_EQ(Top("debusy"), clair_);
  EXPECT_EQ(Top("clair de lune"), clair_);
  EXPECT_EQ(Top("grunge"), teen_);             // genre
  // Equal text: the more played first.
  auto oceans = Find("ocean drive");
  ASSERT_GE(oceans.size(), 2u);
  EXPECT_EQ(oceans[0], ocean_loved_);
  EXPECT_EQ(oceans[1], ocean_quiet_);
  // Unrelated words find nothing rather than noise.
  EXPECT_TRUE(Find("zzzz qqqq").empty());
  EXPECT_FALSE(Has(Find("moon"), midnight_));
}

TEST_P(SearchContractTest, DiacriticsAreFoldedEitherWay) {
  std::string halo = Track("Halo", "Beyoncé", "Pop", 261'000, 5100);
  std::string sigur = Track("Svefn-g-englar", "Sigur Rós", "Post-rock", 604'000, 5101);
  std::string cafe = Track("Cafe del Mar", "Energy 52", "Trance", 400'000, 5102);
  EXPECT_EQ(Top("Beyonce"), halo);
  EXPECT_EQ(Top("beyoncé halo"), halo);
  EXPECT_EQ(Top("beyon"), halo);       // partial
  EXPECT_EQ(Top("beyonse"), halo);     // misspelt
  EXPECT_EQ(Top("sigur ros"), sigur);
  EXPECT_EQ(Top("Café del Mar"), cafe);  // accents typed that the title lacks
}

TEST_P(SearchContractTest, PrivateUnlistedAndUnreadyTracksAreNeverFound) {
  for (const char* q : {"midnight", "midnight secret", "midnigt secrt", "unlisted",
                               "pending", "m83"}) {
    auto ids = Find(q);
    EXPECT_FALSE(Has(ids, private_)) << q;
    EXPECT_FALSE(Has(ids, unlisted_)) << q;
    EXPECT_FALSE(Has(ids, processing_)) << q;
  }
  // Turning public and ready makes it findable; back to private hides it again.
  ASSERT_OK(db().Query("UPDATE tracks SET visibility = 'public' WHERE id = $1", {SqlText(private_)}));
  EXPECT_TRUE(Has(Find("midnight secret"), private_));
  ASSERT_OK(db().Query("UPDATE tracks SET visibility = 'private' WHERE id = $1", {SqlText(private_)}));
  EXPECT_FALSE(Has(Find("midnight secret"), private_));
  // Renames are indexed; deletions leave nothing behind.
  ASSERT_OK(db().Query("UPDATE tracks SET title = 'Neon Boulevard' WHERE id = $1", {SqlText(midnight_)}));
  EXPECT_EQ(Top("neon boulevard"), midnight_);
  EXPECT_FALSE(Has(Find("midnight city"), midnight_));
  ASSERT_OK(db().Query("DELETE FROM tracks WHERE id = $1", {SqlText(midnight_)}));
  EXPECT_FALSE(Has(Find("neon boulevard"), midnight_));
}

TEST_P(SearchContractTest, FiltersByGenreDurationAndUploadDate) {
  Query q;
  q.text = "midnight";
  q.genre = "electronic";
  EXPECT_EQ(Ids(q), std::vector<std::string>{midnight_});
  q.genre = "rock";
  EXPECT_TRUE(Ids(q).empty());
  Query d;
  d.text = "ocean drive";
  d.min_duration_ms = 200'000;
  d.max_duration_ms = 210'000;
  EXPECT_EQ(Ids(d).size(), 2u);
  d.max_duration_ms = 205'000;
  EXPECT_TRUE(Ids(d).empty());
  Query t;
  t.text = "ocean";
  t.created_after_ms = 5005;
  EXPECT_EQ(Ids(t), std::vector<std::string>{ocean_loved_});
  t.created_after_ms.reset();
  t.created_before_ms = 5005;
  EXPECT_EQ(Ids(t), std::vector<std::string>{ocean_quiet_});
}

// Broad matches are scored newest first up to a cap (search_service.cc); a genre filter is
// applied inside the index as well, so older tracks of the genre are not lost behind newer
// matches of other genres. Genres with quotes or without letters are not FTS syntax.
TEST_P(SearchContractTest, AGenreFilterFindsOldMatchesBehindManyNewerOnes) {
  std::vector<std::string> old_ones;
  for (int i = 0; i < 3; ++i) old_ones.push_back(Track("Tidepool " + std::to_string(i), "Crew", "Hip-Hop \"Live\"", 180'000, 100 + i));
  ASSERT_OK(db().Transaction([&](SqlSession& s) -> Status {
    for (int i = 0; i < 1'200; ++i) {
      std::string id = NewId();
      VEZA_TRY(s.Query(
          "INSERT INTO tracks (id, owner_id, title, artist, album, genre, visibility, state, duration_ms, original_key, "
          "original_size, original_content_type, created_at, updated_at) VALUES ($1, $2, $3, 'Band', '', 'ambient', "
          "'public', 'ready', 180000, $4, 1, 'audio/wav', $5, $5)",
          {SqlText(id), SqlText(owner_), SqlText("Tidepool filler " + std::to_string(i)), SqlText("tracks/" + id),
           SqlInt(10'000 + i)}));
    }
    return Ok();
  }));
  Query q;
  q.text = "tidepool";
  q.genre = "hip-hop \"live\"";
  std::vector<std::string> found = Ids(q);
  std::sort(found.begin(), found.end());
  std::sort(old_ones.begin(), old_ones.end());
  EXPECT_EQ(found, old_ones);
  q.genre = "!!!";
  EXPECT_TRUE(Ids(q).empty());
  q.genre = "ambient";
  EXPECT_EQ(Ids(q).size(), 20u);  // a full page
}

TEST_P(SearchContractTest, PagesAreDisjointAndBounded) {
  Query q;
  q.text = "river";  // 30 filler tracks hold the word
  q.limit = 7;
  std::vector<std::string> all;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = search_->Search(q);
    ASSERT_OK(page);
    for (const Hit& h : page->hits) {
      EXPECT_FALSE(Has(all, h.id));
      all.push_back(h.id);
    }
    if (!page->next_offset) break;
    q.offset = *page->next_offset;
  }
  EXPECT_EQ(all.size(), 30u);
  Query bad;
  bad.text = "   ";
  EXPECT_EQ(search_->Search(bad).error().code, ErrorCode::kInvalidArgument);
  bad.text = std::string(201, 'a');
  EXPECT_EQ(search_->Search(bad).error().code, ErrorCode::kInvalidArgument);
  bad.text = "river";
  bad.limit = 51;
  EXPECT_EQ(search_->Search(bad).error().code, ErrorCode::kInvalidArgument);
  bad.limit = 10;
  bad.offset = kMaxResults;
  EXPECT_EQ(search_->Search(bad).error().code, ErrorCode::kInvalidArgument);
  // Query syntax is text, never operators.
  Query syntax;
  syntax.text = "\"river\" OR NEAR(x y) AND -z ':* & |";
  EXPECT_OK(search_->Search(syntax));
}

TEST_P(SearchContractTest, UsersAndPublicRoomsAreFoundButNotSuspendedUsersOrPrivateRooms) {
  std::string octo = users_->Create({"octocat", "octo@example.com", std::nullopt, "The Octocat"}, 1)->id;
  std::string gone = users_->Create({"octopus", "pus@example.com", std::nullopt, "Gone"}, 1)->id;
  ASSERT_OK(db().Query(db().Dialect() == "postgres" ? "UPDATE users SET suspended = TRUE WHERE id = $1"
                                                    : "UPDATE users SET suspended = 1 WHERE id = $1",
                       {SqlText(gone)}));
  EXPECT_EQ(Top("octo", Kind::kUser), octo);
  EXPECT_EQ(Top("octocta", Kind::kUser), octo);
  EXPECT_FALSE(Has(Find("octopus", Kind::kUser), gone));
  EXPECT_EQ(Top("the octocat", Kind::kUser), octo);  // display name

  std::string lounge = NewId(), hidden = NewId();
  ASSERT_OK(db().Query(
      "INSERT INTO chat_rooms (id, kind, name, topic, owner_id, created_at) VALUES "
      "($1, 'public', 'Synthwave Lounge', 'retro synths', $3, 1), ($2, 'private', 'Synth Secrets', '', $3, 1)",
      {SqlText(lounge), SqlText(hidden), SqlText(octo)}));
  EXPECT_EQ(Find("synth", Kind::kRoom), std::vector<std::string>{lounge});
  EXPECT_FALSE(Has(Find("synth secrets", Kind::kRoom), hidden));
  EXPECT_TRUE(Find("synth", Kind::kTrack).empty());
}

TEST_P(SearchContractTest, PublicPlaylistsAreFoundByTitleOwnerAndDescriptionPrivateOnesNever) {
  std::string dj = users_->Create({"nightowl", "owl@example.com", std::nullopt, "Night Owl"}, 1)->id;
  std::string mixes = NewId(), secret = NewId(), later = NewId();
  ASSERT_OK(db().Query(
      "INSERT INTO playlists (id, owner_id, title, description, visibility, created_at, updated_at) VALUES "
      "($1, $4, 'Sunday Morning Mixes', 'slow coffee jazz', 'public', 1, 1), "
      "($2, $4, 'Sunday Secrets', 'do not share', 'private', 1, 1), "
      "($3, $4, 'Drafts', '', 'private', 1, 1)",
      {SqlText(mixes), SqlText(secret), SqlText(later), SqlText(dj)}));
  EXPECT_EQ(Find("sunday", Kind::kPlaylist), std::vector<std::string>{mixes});
  EXPECT_EQ(Top("sundya morning", Kind::kPlaylist), mixes);  // misspelt
  EXPECT_EQ(Top("nightowl", Kind::kPlaylist), mixes);        // owner
  EXPECT_EQ(Top("coffee jazz", Kind::kPlaylist), mixes);     // description
  EXPECT_TRUE(Find("secrets", Kind::kPlaylist).empty());
  EXPECT_TRUE(Find("sunday", Kind::kTrack).empty());

  // Made public, renamed, made private again, deleted: the index follows every change.
  ASSERT_OK(db().Query("UPDATE playlists SET visibility = 'public', title = 'Rainy Drafts' WHERE id = $1",
                       {SqlText(later)}));
  EXPECT_EQ(Find("rainy", Kind::kPlaylist), std::vector<std::string>{later});
  ASSERT_OK(db().Query("UPDATE playlists SET visibility = 'private' WHERE id = $1", {SqlText(later)}));
  EXPECT_TRUE(Find("rainy", Kind::kPlaylist).empty());
  ASSERT_OK(db().Query("UPDATE users SET username = 'dayowl' WHERE id = $1", {SqlText(dj)}));
  EXPECT_EQ(Top("dayowl", Kind::kPlaylist), mixes);
  ASSERT_OK(db().Query("DELETE FROM playlists WHERE id = $1", {SqlText(mixes)}));
  EXPECT_TRUE(Find("sunday", Kind::kPlaylist).empty());
  auto left = db().Query("SELECT COUNT(*) FROM search_documents WHERE kind = 'playlist' AND ref_id = $1",
                         {SqlText(mixes)});
  ASSERT_OK(left);
  EXPECT_EQ(left->rows[0].Int(0), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchContractTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace veza::search
