#pragma once
// Track takedowns (admin dashboard): a moderator takes a track down with a reason, or restores
// it. A taken-down track is hidden from everyone but its owner and moderators (the listing
// filter kListedTracks and TrackService::MaySee), and none of its files is served (404). Each
// action writes audit_log in the same transaction, then notifies the owner (kinds `takedown` and
// `restore`, no actor). The caller checks the moderator role (api/http/authorization); an owner
// has no way to undo a takedown: only these calls touch the takedown columns.
// Blocking (database): call it from the worker pool.
#include <string>
#include <string_view>

#include "ports/clock.h"
#include "ports/database.h"
#include "services/notifications/notification_service.h"
#include "services/tracks/track_repository.h"

namespace veza::moderation {

inline constexpr std::size_t kMaxTakedownReasonBytes = 500;

class TrackTakedowns {
 public:
  TrackTakedowns(Database& db, notifications::NotificationService& notifications, const Clock& clock)
      : db_(db), repo_(db), notifications_(notifications), clock_(clock) {}

  // kInvalidArgument for an empty or too long reason; kNotFound for no such track. Taking down
  // a track already down replaces the reason (and is audited again).
  Result<tracks::Track> TakeDown(std::string_view actor_id, std::string_view track_id, std::string_view reason);
  // kConflict when the track is not taken down.
  Result<tracks::Track> Restore(std::string_view actor_id, std::string_view track_id);
  Result<tracks::TrackPage> List(std::string_view cursor, int limit) { return repo_.ListTakenDown(cursor, limit); }
  Result<tracks::TrackRepository::StateCounts> CountStates() { return repo_.CountStates(); }

 private:
  void NotifyOwner(const tracks::Track& track, std::string_view actor_id, std::string_view kind, std::string text);
  std::int64_t NowMs() const;

  Database& db_;
  tracks::TrackRepository repo_;
  notifications::NotificationService& notifications_;
  const Clock& clock_;
};

}  // namespace veza::moderation
