#pragma once
// Tracks, plays and tus uploads in the database, with portable SQL over the Database port (the
// same statements run on SQLite and PostgreSQL; tests/contract/track_repo_contract_test.cc runs
// them on both). Lists page by id (UUIDv7, so newest first is id descending).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/database.h"
#include "ports/media_processor.h"

namespace veza::tracks {

enum class Visibility { kPublic, kUnlisted, kPrivate };
enum class TrackState { kUploaded, kProcessing, kReady, kFailed };
std::string_view VisibilityName(Visibility v);
std::optional<Visibility> ParseVisibility(std::string_view name);
std::string_view TrackStateName(TrackState s);

// The one definition of "anyone may find it": listings, feeds, profiles and search use it
// (with the alias t for tracks). Playable adds unlisted tracks, which are readable by id.
inline constexpr std::string_view kListedTracks =
    "(t.visibility = 'public' AND t.state = 'ready' AND t.taken_down_at IS NULL)";
inline constexpr std::string_view kPlayableTracks =
    "(t.visibility <> 'private' AND t.state = 'ready' AND t.taken_down_at IS NULL)";

// A moderator's takedown: the track is hidden from everyone but its owner (who sees the reason)
// and moderators, and no URL serves its files, until it is restored.
struct Takedown {
  std::int64_t at_ms = 0;
  std::string reason;
};

struct Track {
  std::string id;
  std::string owner_id;
  std::string owner_username;
  std::string title;
  bool title_from_filename = false;
  std::string artist, album, genre;
  std::optional<int> year;
  std::optional<int> track_number;
  std::string description;
  Visibility visibility = Visibility::kPublic;
  TrackState state = TrackState::kUploaded;
  std::string failure_reason;
  int progress = 0;
  int attempts = 0;
  MediaFormat format;
  std::optional<MediaLoudness> loudness;
  int waveform_points = 0;
  bool has_cover = false;
  std::string original_key;
  std::int64_t original_size = 0;
  std::string original_content_type;
  std::string original_filename;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<Takedown> takedown;
};

struct NewTrack {
  std::string id;  // chosen by the caller: the original is stored under it before the row exists
  std::string owner_id;
  std::string title;
  bool title_from_filename = false;
  Visibility visibility = Visibility::kPublic;
  std::string original_key;
  std::int64_t original_size = 0;
  std::string original_content_type;
  std::string original_filename;
};

// Fields an owner edits; nullopt leaves a field as it is. year/track_number hold 0 to clear.
struct TrackEdit {
  std::optional<std::string> title, artist, album, genre, description;
  std::optional<int> year, track_number;
  std::optional<Visibility> visibility;
};

struct TrackPage {
  std::vector<Track> tracks;
  std::string next_cursor;  // empty on the last page
};

struct Upload {
  std::string id;
  std::string owner_id;
  std::int64_t length = 0;
  std::int64_t received = 0;
  std::string filename, content_type, title;
  Visibility visibility = Visibility::kPublic;
  std::optional<std::string> track_id;
  std::int64_t expires_at_ms = 0;
  std::int64_t created_at_ms = 0;
};

class TrackRepository {
 public:
  explicit TrackRepository(Database& db) : db_(db) {}

  Result<Track> Create(const NewTrack& track, std::int64_t now_ms);
  Result<Track> FindById(std::string_view id);
  // The tracks with these ids that exist, in no particular order (at most 100 ids; malformed
  // ids are skipped).
  Result<std::vector<Track>> FindByIds(const std::vector<std::string>& ids);
  // Public, ready tracks, newest first.
  Result<TrackPage> ListPublic(std::string_view cursor, int limit);
  // One owner's tracks, newest first: every one (include_hidden) or only public ready ones.
  Result<TrackPage> ListByOwner(std::string_view owner_id, bool include_hidden,
                                std::string_view cursor, int limit);
  // How many tracks are in each state, and how many are taken down (the admin system page:
  // uploaded + processing is the media queue's depth).
  struct StateCounts {
    std::int64_t uploaded = 0, processing = 0, ready = 0, failed = 0, taken_down = 0;
  };
  Result<StateCounts> CountStates();
  // Taken-down tracks, most recently uploaded first; limit 0 is 50.
  Result<TrackPage> ListTakenDown(std::string_view cursor, int limit);
  // The id of the account with this username (case-insensitive), kNotFound otherwise.
  Result<std::string> OwnerIdByUsername(std::string_view username);
  Status Edit(std::string_view id, const TrackEdit& edit, std::int64_t now_ms);
  Status Delete(std::string_view id);

  // Media jobs. Claim moves an uploaded track (or one whose previous worker's lease ran out) to
  // processing and counts the attempt; kConflict when the track is ready, failed or leased.
  Result<Track> ClaimForProcessing(std::string_view id, std::int64_t now_ms, std::int64_t lease_ms);
  // Also renews the worker's lease to lease_until_ms: a live worker keeps its track.
  Status SetProgress(std::string_view id, int percent, std::int64_t now_ms, std::int64_t lease_until_ms);
  // Facts from the report; tags fill only the fields still empty (the title when it came from
  // the file name).
  Status MarkReady(std::string_view id, const MediaReport& report, std::int64_t now_ms);
  Status MarkFailed(std::string_view id, std::string_view reason, std::int64_t now_ms);
  // Gives the job back (the next attempt may claim it at once).
  // refund_attempt: the attempt failed for a dependency's outage, not for the file, and does
  // not count towards max_attempts.
  Status ReleaseLease(std::string_view id, std::int64_t now_ms, bool refund_attempt = false);
  // Ids of tracks still waiting for the pipeline (uploaded or processing), oldest first.
  Result<std::vector<std::string>> ListPending();

  // Bytes an owner's originals and unfinished uploads take.
  Result<std::int64_t> StorageUsed(std::string_view owner_id);

  Status RecordPlay(std::string_view track_id, std::optional<std::string> user_id,
                    std::int64_t now_ms);
  Result<std::int64_t> CountPlays(std::string_view track_id);

  // tus uploads.
  Result<Upload> CreateUpload(const Upload& upload);
  Result<Upload> FindUpload(std::string_view id);
  // Moves received from expected_offset to new_received; kConflict when it is not at expected.
  Status AdvanceUpload(std::string_view id, std::int64_t expected_offset, std::int64_t new_received,
                       std::int64_t expires_at_ms);
  Status FinishUpload(std::string_view id, std::string_view track_id);
  Status DeleteUpload(std::string_view id);
  // Unfinished uploads whose expiry passed.
  Result<std::vector<Upload>> ListExpiredUploads(std::int64_t now_ms, int limit);

 private:
  Result<TrackPage> ListWhere(std::string where, std::vector<SqlValue> params,
                              std::string_view cursor, int limit);
  Database& db_;
};

}  // namespace veza::tracks
