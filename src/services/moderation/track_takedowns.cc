#include "services/moderation/track_takedowns.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "base/ids.h"
#include "base/log.h"
#include "services/moderation/moderation_service.h"

namespace veza::moderation {

namespace json = boost::json;

std::int64_t TrackTakedowns::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

void TrackTakedowns::NotifyOwner(const tracks::Track& track, std::string_view actor_id, std::string_view kind,
                                  std::string text) {
  // A moderator acting on their own track needs no notice (and Notify refuses one to oneself).
  if (track.owner_id == actor_id) return;
  // No actor: the owner learns what happened and why, not which moderator did it.
  notifications::NewNotification n{track.owner_id, std::string(kind), "", "track", track.id, std::nullopt,
                                   std::move(text)};
  auto sent = notifications_.Notify(n);
  // The takedown itself stands: the owner also sees it on the track.
  if (!sent.ok()) log::Warn("takedown notification failed", {{"track_id", track.id}, {"error", sent.error().message}});
}

Result<tracks::Track> TrackTakedowns::TakeDown(std::string_view actor_id, std::string_view track_id,
                                        std::string_view reason) {
  if (reason.empty()) return InvalidArgument("field 'reason' is required");
  if (reason.size() > kMaxTakedownReasonBytes) return InvalidArgument("field 'reason' is longer than 500 bytes");
  if (!IsUuid(track_id)) return NotFound("no such track");
  std::int64_t now = NowMs();
  Status changed = db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult r,
                          s.Query("UPDATE tracks SET taken_down_at = $2, takedown_reason = $3, taken_down_by = $4 "
                                  "WHERE id = $1 RETURNING id",
                                  {SqlText(track_id), SqlInt(now), SqlText(reason), SqlText(actor_id)}));
    if (r.rows.empty()) return NotFound("no such track");
    json::object details{{"reason", reason}};
    return AppendAudit(s, actor_id, "track.takedown", "track", track_id, json::serialize(details), now);
  });
  VEZA_TRY(changed);
  VEZA_ASSIGN_OR_RETURN(tracks::Track track, repo_.FindById(track_id));
  log::Info("track taken down", {{"track_id", track.id}, {"by", std::string(actor_id)}});
  NotifyOwner(track, actor_id, "takedown", "\"" + track.title + "\" was taken down: " + std::string(reason));
  return track;
}

Result<tracks::Track> TrackTakedowns::Restore(std::string_view actor_id, std::string_view track_id) {
  if (!IsUuid(track_id)) return NotFound("no such track");
  std::int64_t now = NowMs();
  Status changed = db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(QueryResult found,
                          s.Query("SELECT takedown_reason FROM tracks WHERE id = $1 AND taken_down_at IS NOT NULL",
                                  {SqlText(track_id)}));
    if (found.rows.empty()) {
      VEZA_ASSIGN_OR_RETURN(QueryResult any, s.Query("SELECT 1 FROM tracks WHERE id = $1", {SqlText(track_id)}));
      if (any.rows.empty()) return NotFound("no such track");
      return Conflict("the track is not taken down");
    }
    json::object details{{"previous_reason", found.rows[0].Text(0)}};
    VEZA_TRY(s.Query("UPDATE tracks SET taken_down_at = NULL, takedown_reason = '', taken_down_by = NULL "
                     "WHERE id = $1",
                     {SqlText(track_id)}));
    return AppendAudit(s, actor_id, "track.restore", "track", track_id, json::serialize(details), now);
  });
  VEZA_TRY(changed);
  VEZA_ASSIGN_OR_RETURN(tracks::Track track, repo_.FindById(track_id));
  log::Info("track restored", {{"track_id", track.id}, {"by", std::string(actor_id)}});
  NotifyOwner(track, actor_id, "restore", "\"" + track.title + "\" is back");
  return track;
}

}  // namespace veza::moderation
