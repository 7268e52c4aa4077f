#pragma once
// Chat moderation (issue 6 item 5): the word filter list, the spam rules and the content
// classifier applied to every chat message before it is stored; user reports on messages and
// the moderators' queue; mutes, kicks and bans per room or global, with an expiry; deleting a
// message. Every moderator action is written to audit_log (the admin service's log).
//
// Sanctions take effect at once on every node: bans and kicks are published on the EventBus
// subject kModerationSubject, and each node's chat hub removes the user's sockets from the room
// (or closes them, for a global ban). Mutes and bans are re-checked on every join and send.
//
// Who may call what is the transport's business (moderator role and above, global bans admin
// and above: api/http/moderation_routes.cc). Calls block (database, classifier): run them on the
// worker pool.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ports/clock.h"
#include "ports/content_classifier.h"
#include "ports/database.h"
#include "ports/event_bus.h"
#include "services/chat/chat_service.h"
#include "services/moderation/spam_detector.h"
#include "services/moderation/word_filter.h"

namespace veza::moderation {

// Bus subject of sanctions the chat sockets act on: JSON
// {"kind":"evict","user":ID,"room":ID or "" (every room: global ban),"reason":"ban"|"kick"}.
// Deleted messages go out on the room's own subject, as the chat service's tombstones do.
constexpr std::string_view kModerationSubject = "moderation.events";

struct ModerationOptions {
  SpamOptions spam;
  // How long a node keeps the word list before reading it again (changes made on this node
  // apply at once; on other nodes within this time).
  std::chrono::milliseconds word_list_refresh{5000};
  std::size_t max_words = 5000;
  std::size_t max_reason_bytes = 500;
  std::chrono::seconds max_sanction_duration{std::chrono::hours(24 * 366)};
  int context_messages = 3;  // messages shown before and after a reported one
};

// Why a join or a message is refused; the code is the WebSocket error frame's code.
struct Refusal {
  std::string code;     // "banned", "muted", "message_blocked"
  std::string reason;   // "word_filter", "repeat", "burst", "links", "new_account_links", "caps",
                        // "lexicon", "classifier", "classifier_unavailable", "room", "global"
  std::string message;  // for people
  std::optional<std::int64_t> until_ms;  // end of the mute or ban, when it has one
};

// The WebSocket error frame for a refusal (docs/websocket.md): {"type":"error","code":...,
// "reason":...,"message":...,"ref":...,"until":ms (when the mute or ban ends)}.
std::string RefusalFrame(const Refusal& refusal, std::string_view ref);

struct MessageReview {
  std::optional<Refusal> refusal;  // set: refuse the message
  std::string text;                // the text to store (masked words replaced) when allowed
  int masked = 0;
};

struct WordEntry {
  std::string id;
  std::string word;
  WordAction action = WordAction::kMask;
  std::string created_by;
  std::int64_t created_at = 0;
};

enum class SanctionKind { kMute, kBan };
std::string_view SanctionKindName(SanctionKind kind);

struct Sanction {
  std::string id;
  SanctionKind kind = SanctionKind::kMute;
  std::string user_id;
  std::string room_id;  // empty: global
  std::string reason;
  std::string created_by;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> lifted_at;
  std::string lifted_by;
  bool active = false;  // not lifted and not expired, as of the call
};

struct ReportedMessage {
  std::string id;
  std::int64_t seq = 0;
  std::string sender_id;
  std::string body;
  std::int64_t created_at = 0;
};

struct Report {
  std::string id;
  std::string message_id;
  std::string room_id;
  std::string room_name;
  ReportedMessage message;  // the copy taken when reported (survives deletion)
  bool message_deleted = false;
  std::string reporter_id, reporter_name;
  std::string reported_user_id, reported_user_name;
  std::string reason;
  std::string status;      // "open" or "resolved"
  std::string resolution;  // the action taken
  std::string resolved_by;
  std::optional<std::int64_t> resolved_at;
  std::int64_t created_at = 0;
  std::vector<ReportedMessage> context;  // messages around it, by seq (GetReport and ListReports)
};

struct ReportPage {
  std::vector<Report> reports;  // oldest first
  std::string next_cursor;
};

struct SanctionPage {
  std::vector<Sanction> sanctions;  // newest first
  std::string next_cursor;
};

// One moderator action, on a report or directly.
enum class ActionKind { kDismiss, kDeleteMessage, kMute, kKick, kBan };
std::string_view ActionKindName(ActionKind kind);
Result<ActionKind> ParseActionKind(std::string_view name);

struct Action {
  ActionKind kind = ActionKind::kDismiss;
  std::string user_id;     // mute, kick, ban (from the report when resolving one)
  std::string room_id;     // mute, kick, ban; empty with global
  bool global = false;     // mute or ban in every room
  std::optional<std::chrono::seconds> duration;  // mute (required), ban (none: until lifted)
  std::string reason;      // required, 1..max_reason_bytes
};

class ModerationService {
 public:
  ModerationService(Database& db, EventBus& bus, const Clock& clock, ContentClassifier& classifier,
                    ModerationOptions options = {});

  // --- on the chat path -----------------------------------------------------------------
  // A refusal when the user is banned from the room (or globally).
  Result<std::optional<Refusal>> ReviewJoin(std::string_view user_id, std::string_view room_id);
  // Bans, mutes, the word filter, the spam rules, then the classifier.
  Result<MessageReview> ReviewMessage(std::string_view user_id, std::string_view room_id,
                                      std::string_view client_id, std::string_view text);

  // --- word filter ----------------------------------------------------------------------
  Result<std::vector<WordEntry>> ListWords();
  Result<WordEntry> AddWord(std::string_view actor_id, std::string_view word, WordAction action);
  Result<WordEntry> UpdateWord(std::string_view actor_id, std::string_view id, WordAction action);
  Status DeleteWord(std::string_view actor_id, std::string_view id);

  // --- reports --------------------------------------------------------------------------
  // Any member who can read the message's room; not one's own message; once per message.
  Result<Report> ReportMessage(std::string_view reporter_id, std::string_view message_id, std::string_view reason);
  // status: "open", "resolved" or "" for both.
  Result<ReportPage> ListReports(std::string_view status, std::string_view cursor, int limit);
  Result<Report> GetReport(std::string_view id);
  // Applies action (its user and room default to the report's) and closes the report;
  // kConflict when it is already resolved.
  Result<Report> ResolveReport(std::string_view actor_id, std::string_view report_id, Action action);

  // --- sanctions and messages -----------------------------------------------------------
  // Applies a mute, kick or ban directly; returns the sanction (none for a kick).
  Result<std::optional<Sanction>> Apply(std::string_view actor_id, const Action& action);
  Result<SanctionPage> ListSanctions(std::optional<SanctionKind> kind, bool active_only, std::string_view user_id,
                                     std::string_view cursor, int limit);
  Result<Sanction> Lift(std::string_view actor_id, std::string_view sanction_id, std::string_view reason);
  Status DeleteMessage(std::string_view actor_id, std::string_view message_id, std::string_view reason);

  // --- per-room staff -------------------------------------------------------------------
  // A room's owner and moderators (room roles) mute, kick and ban in their room, delete its
  // messages and lift its sanctions, and nowhere else; site moderators and admins may too (their
  // global powers stay on the calls above). Room staff never sanction the room's owner or site
  // staff, and a room moderator not another room moderator; site staff never sanction their own
  // rank or above (super_admin excepted). Everything goes to the audit log. Outsiders of a private
  // room get kNotFound; members without the power kPermissionDenied.
  Result<std::optional<Sanction>> ModerateRoom(std::string_view actor_id, std::string_view room_id, Action action);
  Result<Sanction> LiftInRoom(std::string_view actor_id, std::string_view room_id, std::string_view sanction_id,
                              std::string_view reason);
  Status DeleteRoomMessage(std::string_view actor_id, std::string_view room_id, std::string_view message_id,
                           std::string_view reason);
  // The room's sanctions (newest first) for its staff.
  Result<SanctionPage> ListRoomSanctions(std::string_view actor_id, std::string_view room_id, bool active_only,
                                         std::string_view cursor, int limit);

  const ModerationOptions& options() const { return options_; }

 private:
  // (subject, payload) pairs, published once their transaction committed.
  using BusEvents = std::vector<std::pair<std::string, std::string>>;
  std::int64_t NowMs() const;
  Result<std::shared_ptr<const WordFilter>> Filter();
  void InvalidateFilter();
  Result<std::optional<Sanction>> ActiveSanction(SanctionKind kind, std::string_view user_id,
                                                 std::string_view room_id);
  // Whether the actor may moderate the room (and sanction target_id, when given); true when the
  // actor acts as site staff.
  Result<bool> CheckRoomPower(SqlSession& s, std::string_view actor_id, std::string_view room_id,
                              std::string_view target_id);
  Result<SanctionPage> QuerySanctions(std::optional<SanctionKind> kind, bool active_only, std::string_view user_id,
                                      std::string_view room_id, std::string_view cursor, int limit);
  Result<std::optional<Sanction>> ApplyIn(SqlSession& s, std::string_view actor_id, const Action& action,
                                          BusEvents& events);
  Status DeleteMessageIn(SqlSession& s, std::string_view actor_id, std::string_view message_id,
                         std::string_view reason, BusEvents& events);
  void PublishAll(const BusEvents& events);
  Status CheckReason(std::string_view reason) const;

  Database& db_;
  EventBus& bus_;
  const Clock& clock_;
  ContentClassifier& classifier_;
  ModerationOptions options_;
  SpamDetector spam_;
  std::mutex filter_mu_;
  std::shared_ptr<const WordFilter> filter_;
  std::chrono::steady_clock::time_point filter_loaded_{};
};

// Appends one audit_log row in the caller's transaction (details: a JSON object as text).
using chat::AppendAudit;

}  // namespace veza::moderation
