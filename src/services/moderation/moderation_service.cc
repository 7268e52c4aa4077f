#include "services/moderation/moderation_service.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>

#include "base/ids.h"
#include "base/keyset_cursor.h"
#include "base/log.h"

namespace veza::moderation {
namespace {

namespace json = boost::json;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 100;

Result<int> PageSize(int limit) {
  if (limit == 0) return kDefaultPage;
  if (limit < 1 || limit > kMaxPage) return InvalidArgument("limit must be 1.." + std::to_string(kMaxPage));
  return limit;
}

std::optional<std::int64_t> OptionalInt(const Row& row, std::size_t i) {
  if (row.IsNull(i)) return std::nullopt;
  return row.Int(i);
}

const char* const kSanctionColumns =
    "id, kind, user_id, room_id, reason, created_by, created_at, expires_at, lifted_at, COALESCE(lifted_by, '')";

Sanction SanctionFromRow(const Row& row, std::int64_t now_ms) {
  Sanction s;
  s.id = row.Text(0);
  s.kind = row.Text(1) == "ban" ? SanctionKind::kBan : SanctionKind::kMute;
  s.user_id = row.Text(2);
  s.room_id = row.Text(3);
  s.reason = row.Text(4);
  s.created_by = row.Text(5);
  s.created_at = row.Int(6);
  s.expires_at = OptionalInt(row, 7);
  s.lifted_at = OptionalInt(row, 8);
  s.lifted_by = row.Text(9);
  s.active = !s.lifted_at && (!s.expires_at || *s.expires_at > now_ms);
  return s;
}

const char* const kReportSelect =
    "SELECT r.id, r.message_id, r.room_id, COALESCE(cr.name, ''), r.message_seq, r.message_body, "
    "r.message_created_at, r.reporter_id, COALESCE(u1.username, ''), r.reported_user_id, COALESCE(u2.username, ''), "
    "r.reason, r.status, r.resolution, COALESCE(r.resolved_by, ''), r.resolved_at, r.created_at, "
    "CASE WHEN m.id IS NULL OR m.deleted_at IS NOT NULL THEN 1 ELSE 0 END "
    "FROM moderation_reports r LEFT JOIN chat_rooms cr ON cr.id = r.room_id "
    "LEFT JOIN users u1 ON u1.id = r.reporter_id LEFT JOIN users u2 ON u2.id = r.reported_user_id "
    "LEFT JOIN chat_messages m ON m.id = r.message_id ";

Report ReportFromRow(const Row& row) {
  Report r;
  r.id = row.Text(0);
  r.message_id = row.Text(1);
  r.room_id = row.Text(2);
  r.room_name = row.Text(3);
  r.message = {r.message_id, row.Int(4), row.Text(9), row.Text(5), row.Int(6)};
  r.reporter_id = row.Text(7);
  r.reporter_name = row.Text(8);
  r.reported_user_id = row.Text(9);
  r.reported_user_name = row.Text(10);
  r.reason = row.Text(11);
  r.status = row.Text(12);
  r.resolution = row.Text(13);
  r.resolved_by = row.Text(14);
  r.resolved_at = OptionalInt(row, 15);
  r.created_at = row.Int(16);
  r.message_deleted = row.Int(17) == 1;
  return r;
}

std::string EvictEvent(std::string_view user, std::string_view room, std::string_view reason) {
  json::object o;
  o["kind"] = "evict";
  o["user"] = user;
  o["room"] = room;
  o["reason"] = reason;
  return json::serialize(o);
}

std::string Details(std::initializer_list<std::pair<std::string_view, json::value>> fields) {
  json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return json::serialize(o);
}

}  // namespace

std::string RefusalFrame(const Refusal& refusal, std::string_view ref) {
  json::object o;
  o["type"] = "error";
  o["code"] = refusal.code;
  o["reason"] = refusal.reason;
  o["message"] = refusal.message;
  if (!ref.empty()) o["ref"] = ref;
  if (refusal.until_ms) o["until"] = *refusal.until_ms;
  return json::serialize(o);
}

std::string_view SanctionKindName(SanctionKind kind) { return kind == SanctionKind::kBan ? "ban" : "mute"; }

std::string_view ActionKindName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDismiss: return "dismiss";
    case ActionKind::kDeleteMessage: return "delete_message";
    case ActionKind::kMute: return "mute";
    case ActionKind::kKick: return "kick";
    case ActionKind::kBan: return "ban";
  }
  return "dismiss";
}

Result<ActionKind> ParseActionKind(std::string_view name) {
  for (ActionKind k : {ActionKind::kDismiss, ActionKind::kDeleteMessage, ActionKind::kMute, ActionKind::kKick,
                       ActionKind::kBan}) {
    if (ActionKindName(k) == name) return k;
  }
  return InvalidArgument("action must be one of dismiss, delete_message, mute, kick, ban");
}

ModerationService::ModerationService(Database& db, EventBus& bus, const Clock& clock, ContentClassifier& classifier,
                                     ModerationOptions options)
    : db_(db), bus_(bus), clock_(clock), classifier_(classifier), options_(options), spam_(options.spam) {}

std::int64_t ModerationService::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Status ModerationService::CheckReason(std::string_view reason) const {
  if (reason.empty() || reason.size() > options_.max_reason_bytes) {
    return InvalidArgument("reason must be 1.." + std::to_string(options_.max_reason_bytes) + " bytes");
  }
  for (unsigned char c : reason) {
    if (c < 0x20 && c != '\n' && c != '\t') return InvalidArgument("reason must not hold control characters");
  }
  return Ok();
}

void ModerationService::PublishAll(const BusEvents& events) {
  for (const auto& [subject, payload] : events) {
    // Committed already: a lost event leaves sockets open until the next join or send check,
    // which refuses the user anyway.
    if (auto st = bus_.Publish(subject, payload); !st.ok()) {
      log::Warn("moderation publish failed", {{"error", st.error().message}});
    }
  }
}

// ---- the chat path ------------------------------------------------------------------------

Result<std::optional<Sanction>> ModerationService::ActiveSanction(SanctionKind kind, std::string_view user_id,
                                                                  std::string_view room_id) {
  std::int64_t now = NowMs();
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kSanctionColumns +
                                              " FROM moderation_sanctions WHERE user_id = $1 AND kind = $2 "
                                              "AND (room_id = $3 OR room_id = '') AND lifted_at IS NULL "
                                              "AND (expires_at IS NULL OR expires_at > $4) "
                                              "ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END DESC, "
                                              "expires_at DESC LIMIT 1",
                                          {SqlText(user_id), SqlText(SanctionKindName(kind)), SqlText(room_id),
                                           SqlInt(now)}));
  if (r.rows.empty()) return std::optional<Sanction>();
  return std::optional<Sanction>(SanctionFromRow(r.rows[0], now));
}

namespace {
Refusal BanRefusal(const Sanction& s) {
  return {"banned", s.room_id.empty() ? "global" : "room",
          s.room_id.empty() ? "you are banned from chat" : "you are banned from this room", s.expires_at};
}
}  // namespace

Result<std::optional<Refusal>> ModerationService::ReviewJoin(std::string_view user_id, std::string_view room_id) {
  VEZA_ASSIGN_OR_RETURN(auto ban, ActiveSanction(SanctionKind::kBan, user_id, room_id));
  if (ban) return std::optional<Refusal>(BanRefusal(*ban));
  return std::optional<Refusal>();
}

Result<MessageReview> ModerationService::ReviewMessage(std::string_view user_id, std::string_view room_id,
                                                       std::string_view client_id, std::string_view text) {
  MessageReview review;
  VEZA_ASSIGN_OR_RETURN(auto ban, ActiveSanction(SanctionKind::kBan, user_id, room_id));
  if (ban) {
    review.refusal = BanRefusal(*ban);
    return review;
  }
  VEZA_ASSIGN_OR_RETURN(auto mute, ActiveSanction(SanctionKind::kMute, user_id, room_id));
  if (mute) {
    review.refusal = Refusal{"muted", mute->room_id.empty() ? "global" : "room", "you are muted", mute->expires_at};
    return review;
  }
  VEZA_ASSIGN_OR_RETURN(auto filter, Filter());
  FilterResult filtered = filter->Apply(text);
  if (filtered.blocked) {
    review.refusal = Refusal{"message_blocked", "word_filter", "the message contains a blocked word", {}};
    return review;
  }
  VEZA_ASSIGN_OR_RETURN(auto account, db_.Query("SELECT created_at FROM users WHERE id = $1", {SqlText(user_id)}));
  std::int64_t created_at = account.rows.empty() ? 0 : account.rows[0].Int(0);
  SpamVerdict spam = spam_.Check(user_id, client_id, filtered.text, created_at, NowMs());
  if (!spam.allowed) {
    review.refusal = Refusal{"message_blocked", spam.reason, "the message looks like spam (" + spam.reason + ")", {}};
    return review;
  }
  VEZA_ASSIGN_OR_RETURN(Classification c,
                        classifier_.Classify({filtered.text, std::string(user_id), std::string(room_id)}));
  if (c.flagged) {
    review.refusal = Refusal{"message_blocked", c.reason.empty() ? "classifier" : c.reason,
                             "the message was refused by moderation", {}};
    return review;
  }
  review.text = std::move(filtered.text);
  review.masked = filtered.masked;
  return review;
}

// ---- word filter --------------------------------------------------------------------------

Result<std::shared_ptr<const WordFilter>> ModerationService::Filter() {
  {
    std::lock_guard lock(filter_mu_);
    if (filter_ && clock_.Monotonic() - filter_loaded_ < options_.word_list_refresh) return filter_;
  }
  VEZA_ASSIGN_OR_RETURN(auto words, ListWords());
  std::vector<WordRule> rules;
  for (auto& w : words) rules.push_back({w.word, w.action});
  auto filter = std::make_shared<const WordFilter>(std::move(rules));
  std::lock_guard lock(filter_mu_);
  filter_ = filter;
  filter_loaded_ = clock_.Monotonic();
  return filter;
}

void ModerationService::InvalidateFilter() {
  std::lock_guard lock(filter_mu_);
  filter_.reset();
}

Result<std::vector<WordEntry>> ModerationService::ListWords() {
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, word, action, created_by, created_at FROM moderation_words "
                                          "ORDER BY word"));
  std::vector<WordEntry> out;
  for (const Row& row : r.rows) {
    out.push_back({row.Text(0), row.Text(1), row.Text(2) == "block" ? WordAction::kBlock : WordAction::kMask,
                   row.Text(3), row.Int(4)});
  }
  return out;
}

Result<WordEntry> ModerationService::AddWord(std::string_view actor_id, std::string_view word, WordAction action) {
  VEZA_ASSIGN_OR_RETURN(std::string normalized, NormalizeWordRule(word));
  WordEntry entry{NewId(), normalized, action, std::string(actor_id), NowMs()};
  Status st = db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto count, s.Query("SELECT COUNT(*) FROM moderation_words"));
    if (static_cast<std::size_t>(count.rows.at(0).Int(0)) >= options_.max_words) {
      return InvalidArgument("the word list is full (" + std::to_string(options_.max_words) + " words)");
    }
    VEZA_TRY(s.Query("INSERT INTO moderation_words (id, word, action, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
                     {SqlText(entry.id), SqlText(entry.word), SqlText(WordActionName(action)), SqlText(actor_id),
                      SqlInt(entry.created_at)}));
    return AppendAudit(s, actor_id, "moderation.word.add", "word", entry.id,
                       Details({{"word", json::value(entry.word)}, {"action", json::value(WordActionName(action))}}),
                       entry.created_at);
  });
  if (!st.ok() && st.error().code == ErrorCode::kConflict) return Conflict("the word is already in the list");
  VEZA_TRY(st);
  InvalidateFilter();
  return entry;
}

Result<WordEntry> ModerationService::UpdateWord(std::string_view actor_id, std::string_view id, WordAction action) {
  if (!IsUuid(id)) return NotFound("no such word");
  std::optional<WordEntry> entry;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query("UPDATE moderation_words SET action = $2 WHERE id = $1 "
                                          "RETURNING id, word, action, created_by, created_at",
                                          {SqlText(id), SqlText(WordActionName(action))}));
    if (r.rows.empty()) return NotFound("no such word");
    const Row& row = r.rows[0];
    entry = WordEntry{row.Text(0), row.Text(1), action, row.Text(3), row.Int(4)};
    return AppendAudit(s, actor_id, "moderation.word.update", "word", entry->id,
                       Details({{"word", json::value(entry->word)}, {"action", json::value(WordActionName(action))}}),
                       NowMs());
  }));
  InvalidateFilter();
  return *entry;
}

Status ModerationService::DeleteWord(std::string_view actor_id, std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such word");
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query("DELETE FROM moderation_words WHERE id = $1 RETURNING word", {SqlText(id)}));
    if (r.rows.empty()) return NotFound("no such word");
    return AppendAudit(s, actor_id, "moderation.word.delete", "word", id,
                       Details({{"word", json::value(r.rows[0].Text(0))}}), NowMs());
  }));
  InvalidateFilter();
  return Ok();
}

// ---- reports ------------------------------------------------------------------------------

Result<Report> ModerationService::ReportMessage(std::string_view reporter_id, std::string_view message_id,
                                                std::string_view reason) {
  VEZA_TRY(CheckReason(reason));
  if (!IsUuid(message_id)) return NotFound("no such message");
  std::string id = NewId();
  std::int64_t now = NowMs();
  Status st = db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(
        auto m, s.Query("SELECT m.room_id, m.seq, COALESCE(m.sender_id, ''), m.body, m.created_at, r.kind, "
                        "CASE WHEN mem.user_id IS NULL THEN 0 ELSE 1 END "
                        "FROM chat_messages m JOIN chat_rooms r ON r.id = m.room_id "
                        "LEFT JOIN chat_members mem ON mem.room_id = m.room_id AND mem.user_id = $2 WHERE m.id = $1",
                        {SqlText(message_id), SqlText(reporter_id)}));
    // A message in a room the reporter cannot read does not exist for them.
    if (m.rows.empty() || (m.rows[0].Text(5) != "public" && m.rows[0].Int(6) == 0)) {
      return NotFound("no such message");
    }
    const Row& row = m.rows[0];
    if (row.Text(2) == reporter_id) return InvalidArgument("you cannot report your own message");
    VEZA_TRY(s.Query("INSERT INTO moderation_reports (id, message_id, room_id, message_seq, message_body, "
                     "message_created_at, reporter_id, reported_user_id, reason, created_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     {SqlText(id), SqlText(message_id), SqlText(row.Text(0)), SqlInt(row.Int(1)), SqlText(row.Text(3)),
                      SqlInt(row.Int(4)), SqlText(reporter_id), SqlText(row.Text(2)), SqlText(reason), SqlInt(now)}));
    return Ok();
  });
  if (!st.ok() && st.error().code == ErrorCode::kConflict) return Conflict("you already reported this message");
  VEZA_TRY(st);
  return GetReport(id);
}

Result<ReportPage> ModerationService::ListReports(std::string_view status, std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(int page_size, PageSize(limit));
  if (!status.empty() && status != "open" && status != "resolved") {
    return InvalidArgument("status must be open or resolved");
  }
  std::string sql = kReportSelect;
  std::vector<SqlValue> params;
  std::vector<std::string> where;
  if (!status.empty()) {
    params.push_back(SqlText(status));
    where.push_back("r.status = $" + std::to_string(params.size()));
  }
  if (!cursor.empty()) {
    VEZA_ASSIGN_OR_RETURN(auto after, DecodeCursor(cursor));
    params.push_back(SqlInt(after.first));
    params.push_back(SqlText(after.second));
    std::string a = "$" + std::to_string(params.size() - 1), b = "$" + std::to_string(params.size());
    where.push_back("(r.created_at > " + a + " OR (r.created_at = " + a + " AND r.id > " + b + "))");
  }
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? "WHERE " : " AND ") + where[i];
  sql += " ORDER BY r.created_at, r.id LIMIT " + std::to_string(page_size + 1);
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  ReportPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.reports.size()) == page_size) {
      const Report& last = page.reports.back();
      page.next_cursor = EncodeCursor(last.created_at, last.id);
      break;
    }
    page.reports.push_back(ReportFromRow(row));
  }
  for (Report& report : page.reports) {
    VEZA_ASSIGN_OR_RETURN(auto ctx, db_.Query("SELECT id, seq, COALESCE(sender_id, ''), body, created_at "
                                              "FROM chat_messages WHERE room_id = $1 AND seq >= $2 AND seq <= $3 "
                                              "ORDER BY seq",
                                              {SqlText(report.room_id), SqlInt(report.message.seq - options_.context_messages),
                                               SqlInt(report.message.seq + options_.context_messages)}));
    for (const Row& row : ctx.rows) {
      report.context.push_back({row.Text(0), row.Int(1), row.Text(2), row.Text(3), row.Int(4)});
    }
  }
  return page;
}

Result<Report> ModerationService::GetReport(std::string_view id) {
  if (!IsUuid(id)) return NotFound("no such report");
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(std::string(kReportSelect) + "WHERE r.id = $1", {SqlText(id)}));
  if (r.rows.empty()) return NotFound("no such report");
  Report report = ReportFromRow(r.rows[0]);
  VEZA_ASSIGN_OR_RETURN(auto ctx, db_.Query("SELECT id, seq, COALESCE(sender_id, ''), body, created_at "
                                            "FROM chat_messages WHERE room_id = $1 AND seq >= $2 AND seq <= $3 "
                                            "ORDER BY seq",
                                            {SqlText(report.room_id), SqlInt(report.message.seq - options_.context_messages),
                                             SqlInt(report.message.seq + options_.context_messages)}));
  for (const Row& row : ctx.rows) {
    report.context.push_back({row.Text(0), row.Int(1), row.Text(2), row.Text(3), row.Int(4)});
  }
  return report;
}

Result<Report> ModerationService::ResolveReport(std::string_view actor_id, std::string_view report_id, Action action) {
  VEZA_TRY(CheckReason(action.reason));
  if (!IsUuid(report_id)) return NotFound("no such report");
  BusEvents events;
  std::int64_t now = NowMs();
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    // Claim the report: of two moderators resolving it at once, one wins, the other gets 409.
    VEZA_ASSIGN_OR_RETURN(auto claimed,
                          s.Query("UPDATE moderation_reports SET status = 'resolved', resolution = $2, "
                                  "resolved_by = $3, resolved_at = $4 WHERE id = $1 AND status = 'open' "
                                  "RETURNING message_id, room_id, reported_user_id",
                                  {SqlText(report_id), SqlText(ActionKindName(action.kind)), SqlText(actor_id),
                                   SqlInt(now)}));
    if (claimed.rows.empty()) {
      VEZA_ASSIGN_OR_RETURN(auto exists, s.Query("SELECT 1 FROM moderation_reports WHERE id = $1", {SqlText(report_id)}));
      if (exists.rows.empty()) return NotFound("no such report");
      return Conflict("the report is already resolved");
    }
    std::string message_id = claimed.rows[0].Text(0);
    if (action.user_id.empty()) action.user_id = claimed.rows[0].Text(2);
    if (action.room_id.empty() && !action.global) action.room_id = claimed.rows[0].Text(1);
    // Other open reports of the same message are answered by the same decision.
    VEZA_TRY(s.Query("UPDATE moderation_reports SET status = 'resolved', resolution = $2, resolved_by = $3, "
                     "resolved_at = $4 WHERE message_id = $1 AND status = 'open'",
                     {SqlText(message_id), SqlText(ActionKindName(action.kind)), SqlText(actor_id), SqlInt(now)}));
    VEZA_TRY(AppendAudit(s, actor_id, "moderation.report.resolve", "report", report_id,
                         Details({{"action", json::value(ActionKindName(action.kind))},
                                  {"reason", json::value(action.reason)}}),
                         now));
    switch (action.kind) {
      case ActionKind::kDismiss: return Ok();
      case ActionKind::kDeleteMessage: {
        Status st = DeleteMessageIn(s, actor_id, message_id, action.reason, events);
        // Already deleted (by its author or another moderator): the report is answered anyway.
        if (!st.ok() && st.error().code == ErrorCode::kNotFound) return Ok();
        return st;
      }
      default: {
        VEZA_TRY(ApplyIn(s, actor_id, action, events));
        return Ok();
      }
    }
  }));
  PublishAll(events);
  return GetReport(report_id);
}

// ---- sanctions ----------------------------------------------------------------------------

Result<std::optional<Sanction>> ModerationService::ApplyIn(SqlSession& s, std::string_view actor_id,
                                                           const Action& action, BusEvents& events) {
  if (action.kind == ActionKind::kDismiss || action.kind == ActionKind::kDeleteMessage) {
    return InvalidArgument("a direct action is mute, kick or ban");
  }
  if (!IsUuid(action.user_id)) return NotFound("no such user");
  if (action.user_id == actor_id) return InvalidArgument("moderators do not sanction themselves");
  VEZA_ASSIGN_OR_RETURN(auto user, s.Query("SELECT id FROM users WHERE id = $1", {SqlText(action.user_id)}));
  if (user.rows.empty()) return NotFound("no such user");
  if (action.global && !action.room_id.empty()) return InvalidArgument("give room_id or global, not both");
  if (action.kind == ActionKind::kKick && action.global) return InvalidArgument("a kick is from one room");
  if (!action.global) {
    if (!IsUuid(action.room_id)) return InvalidArgument("room_id is required unless global");
    VEZA_ASSIGN_OR_RETURN(auto room, s.Query("SELECT kind FROM chat_rooms WHERE id = $1", {SqlText(action.room_id)}));
    if (room.rows.empty()) return NotFound("no such room");
  }
  std::int64_t now = NowMs();
  if (action.duration) {
    if (action.duration->count() < 1 || *action.duration > options_.max_sanction_duration) {
      return InvalidArgument("duration_seconds must be 1.." + std::to_string(options_.max_sanction_duration.count()));
    }
  } else if (action.kind == ActionKind::kMute) {
    return InvalidArgument("a mute needs duration_seconds");
  }
  std::optional<std::int64_t> expires;
  if (action.duration) expires = now + action.duration->count() * 1000;
  json::object details;
  details["reason"] = action.reason;
  details["room_id"] = action.room_id;
  details["global"] = action.global;
  if (expires) details["expires_at"] = *expires;

  if (action.kind == ActionKind::kKick) {
    VEZA_TRY(s.Query("DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'",
                     {SqlText(action.room_id), SqlText(action.user_id)}));
    VEZA_TRY(AppendAudit(s, actor_id, "moderation.kick", "user", action.user_id, json::serialize(details), now));
    events.emplace_back(kModerationSubject, EvictEvent(action.user_id, action.room_id, "kick"));
    return std::optional<Sanction>();
  }
  Sanction sanction;
  sanction.id = NewId();
  sanction.kind = action.kind == ActionKind::kBan ? SanctionKind::kBan : SanctionKind::kMute;
  sanction.user_id = action.user_id;
  sanction.room_id = action.room_id;
  sanction.reason = action.reason;
  sanction.created_by = std::string(actor_id);
  sanction.created_at = now;
  sanction.expires_at = expires;
  sanction.active = true;
  VEZA_TRY(s.Query("INSERT INTO moderation_sanctions (id, kind, user_id, room_id, reason, created_by, created_at, "
                   "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   {SqlText(sanction.id), SqlText(SanctionKindName(sanction.kind)), SqlText(sanction.user_id),
                    SqlText(sanction.room_id), SqlText(sanction.reason), SqlText(actor_id), SqlInt(now),
                    expires ? SqlInt(*expires) : SqlValue{}}));
  details["sanction_id"] = sanction.id;
  VEZA_TRY(AppendAudit(s, actor_id, sanction.kind == SanctionKind::kBan ? "moderation.ban" : "moderation.mute", "user",
                       action.user_id, json::serialize(details), now));
  if (sanction.kind == SanctionKind::kBan) {
    if (!action.global) {
      // Out of the room now; back in only by joining (or an invite) after the ban ends.
      VEZA_TRY(s.Query("DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'",
                       {SqlText(action.room_id), SqlText(action.user_id)}));
    }
    events.emplace_back(kModerationSubject, EvictEvent(action.user_id, action.room_id, "ban"));
  }
  return std::optional<Sanction>(std::move(sanction));
}

Result<std::optional<Sanction>> ModerationService::Apply(std::string_view actor_id, const Action& action) {
  VEZA_TRY(CheckReason(action.reason));
  BusEvents events;
  std::optional<Sanction> sanction;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(sanction, ApplyIn(s, actor_id, action, events));
    return Ok();
  }));
  PublishAll(events);
  return sanction;
}

Result<SanctionPage> ModerationService::ListSanctions(std::optional<SanctionKind> kind, bool active_only,
                                                      std::string_view user_id, std::string_view cursor, int limit) {
  return QuerySanctions(kind, active_only, user_id, {}, cursor, limit);
}

Result<SanctionPage> ModerationService::QuerySanctions(std::optional<SanctionKind> kind, bool active_only,
                                                       std::string_view user_id, std::string_view room_id,
                                                       std::string_view cursor, int limit) {
  VEZA_ASSIGN_OR_RETURN(int page_size, PageSize(limit));
  std::int64_t now = NowMs();
  std::string sql = std::string("SELECT ") + kSanctionColumns + " FROM moderation_sanctions";
  std::vector<SqlValue> params;
  std::vector<std::string> where;
  if (kind) {
    params.push_back(SqlText(SanctionKindName(*kind)));
    where.push_back("kind = $" + std::to_string(params.size()));
  }
  if (!user_id.empty()) {
    params.push_back(SqlText(user_id));
    where.push_back("user_id = $" + std::to_string(params.size()));
  }
  if (!room_id.empty()) {
    params.push_back(SqlText(room_id));
    where.push_back("room_id = $" + std::to_string(params.size()));
  }
  if (active_only) {
    params.push_back(SqlInt(now));
    where.push_back("lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $" + std::to_string(params.size()) + ")");
  }
  if (!cursor.empty()) {
    VEZA_ASSIGN_OR_RETURN(auto before, DecodeCursor(cursor));
    params.push_back(SqlInt(before.first));
    params.push_back(SqlText(before.second));
    std::string a = "$" + std::to_string(params.size() - 1), b = "$" + std::to_string(params.size());
    where.push_back("(created_at < " + a + " OR (created_at = " + a + " AND id < " + b + "))");
  }
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(page_size + 1);
  VEZA_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  SanctionPage page;
  for (const Row& row : r.rows) {
    if (static_cast<int>(page.sanctions.size()) == page_size) {
      const Sanction& last = page.sanctions.back();
      page.next_cursor = EncodeCursor(last.created_at, last.id);
      break;
    }
    page.sanctions.push_back(SanctionFromRow(row, now));
  }
  return page;
}

Result<Sanction> ModerationService::Lift(std::string_view actor_id, std::string_view sanction_id,
                                         std::string_view reason) {
  VEZA_TRY(CheckReason(reason));
  if (!IsUuid(sanction_id)) return NotFound("no such sanction");
  std::int64_t now = NowMs();
  std::optional<Sanction> lifted;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query(std::string("UPDATE moderation_sanctions SET lifted_at = $2, lifted_by = $3 "
                                                      "WHERE id = $1 AND lifted_at IS NULL RETURNING ") +
                                              kSanctionColumns,
                                          {SqlText(sanction_id), SqlInt(now), SqlText(actor_id)}));
    if (r.rows.empty()) {
      VEZA_ASSIGN_OR_RETURN(auto exists, s.Query("SELECT 1 FROM moderation_sanctions WHERE id = $1", {SqlText(sanction_id)}));
      if (exists.rows.empty()) return NotFound("no such sanction");
      return Conflict("the sanction is already lifted");
    }
    lifted = SanctionFromRow(r.rows[0], now);
    return AppendAudit(s, actor_id, lifted->kind == SanctionKind::kBan ? "moderation.unban" : "moderation.unmute",
                       "user", lifted->user_id,
                       Details({{"sanction_id", json::value(lifted->id)}, {"room_id", json::value(lifted->room_id)},
                                {"reason", json::value(reason)}}),
                       now);
  }));
  return *lifted;
}

Status ModerationService::DeleteMessageIn(SqlSession& s, std::string_view actor_id, std::string_view message_id,
                                          std::string_view reason, BusEvents& events) {
  if (!IsUuid(message_id)) return NotFound("no such message");
  // The same tombstone as an author's delete: the sequence stays gapless and every member's
  // client replaces the message in place.
  VEZA_ASSIGN_OR_RETURN(chat::Message m, chat::TombstoneMessageIn(s, message_id, NowMs()));
  VEZA_TRY(AppendAudit(s, actor_id, "moderation.message.delete", "message", message_id,
                       Details({{"room_id", json::value(m.room_id)}, {"seq", json::value(m.seq)},
                                {"sender_id", json::value(m.sender_id)}, {"reason", json::value(reason)}}),
                       NowMs()));
  events.emplace_back(chat::RoomSubject(m.room_id), chat::MessageFrame("message_deleted", m));
  return Ok();
}

Status ModerationService::DeleteMessage(std::string_view actor_id, std::string_view message_id,
                                        std::string_view reason) {
  VEZA_TRY(CheckReason(reason));
  BusEvents events;
  VEZA_TRY(db_.Transaction(
      [&](SqlSession& s) -> Status { return DeleteMessageIn(s, actor_id, message_id, reason, events); }));
  PublishAll(events);
  return Ok();
}

// ---- per-room staff ----------------------------------------------------------------------

namespace {
int SiteRank(std::string_view role) {
  if (role == "moderator") return 1;
  if (role == "admin") return 2;
  if (role == "super_admin") return 3;
  return 0;
}
bool IsRoomStaffRole(std::string_view role) { return role == "owner" || role == "moderator"; }
}  // namespace

Result<bool> ModerationService::CheckRoomPower(SqlSession& s, std::string_view actor_id, std::string_view room_id,
                                               std::string_view target_id) {
  if (!IsUuid(room_id)) return NotFound("no such room");
  VEZA_ASSIGN_OR_RETURN(auto room, s.Query("SELECT kind, owner_id FROM chat_rooms WHERE id = $1", {SqlText(room_id)}));
  if (room.rows.empty()) return NotFound("no such room");
  std::string owner_id = room.rows[0].Text(1);
  // (site role, room role) of a user; the room's owner_id is its owner whatever the member rows say.
  auto roles_of = [&](std::string_view user_id) -> Result<std::pair<std::string, std::string>> {
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query("SELECT u.role, COALESCE(m.role, '') FROM users u LEFT JOIN chat_members m "
                                          "ON m.user_id = u.id AND m.room_id = $2 WHERE u.id = $1",
                                          {SqlText(user_id), SqlText(room_id)}));
    if (r.rows.empty()) return NotFound("no such user");
    return std::pair(r.rows[0].Text(0), user_id == owner_id ? std::string("owner") : r.rows[0].Text(1));
  };
  VEZA_ASSIGN_OR_RETURN(auto actor, roles_of(actor_id));
  const auto& [actor_site, actor_room] = actor;
  bool site_staff = SiteRank(actor_site) >= SiteRank("moderator");
  if (!site_staff && !IsRoomStaffRole(actor_room)) {
    if (room.rows[0].Text(0) != "public" && actor_room.empty()) return NotFound("no such room");
    return Error{ErrorCode::kPermissionDenied, "only the room's owner and moderators moderate it"};
  }
  if (target_id.empty()) return site_staff;
  if (!IsUuid(target_id)) return NotFound("no such user");
  VEZA_ASSIGN_OR_RETURN(auto target, roles_of(target_id));
  const auto& [target_site, target_room] = target;
  if (site_staff) {
    if (actor_site != "super_admin" && SiteRank(target_site) >= SiteRank(actor_site)) {
      return Error{ErrorCode::kPermissionDenied, "staff of your rank or above are not sanctioned by you"};
    }
    return true;
  }
  if (SiteRank(target_site) > 0) return Error{ErrorCode::kPermissionDenied, "site staff are not sanctioned by room staff"};
  if (target_room == "owner" || (target_room == "moderator" && actor_room != "owner")) {
    return Error{ErrorCode::kPermissionDenied, "the room's owner and moderators are not sanctioned by you"};
  }
  return false;
}

Result<std::optional<Sanction>> ModerationService::ModerateRoom(std::string_view actor_id, std::string_view room_id,
                                                                Action action) {
  if (action.kind != ActionKind::kMute && action.kind != ActionKind::kKick && action.kind != ActionKind::kBan) {
    return InvalidArgument("action must be one of mute, kick, ban");
  }
  if (action.global) return InvalidArgument("a room's staff sanction in that room only");
  VEZA_TRY(CheckReason(action.reason));
  action.room_id = std::string(room_id);
  BusEvents events;
  std::optional<Sanction> sanction;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(CheckRoomPower(s, actor_id, room_id, action.user_id));
    VEZA_ASSIGN_OR_RETURN(sanction, ApplyIn(s, actor_id, action, events));
    return Ok();
  }));
  PublishAll(events);
  return sanction;
}

Result<Sanction> ModerationService::LiftInRoom(std::string_view actor_id, std::string_view room_id,
                                               std::string_view sanction_id, std::string_view reason) {
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_ASSIGN_OR_RETURN(bool site_staff, CheckRoomPower(s, actor_id, room_id, {}));
    if (!IsUuid(sanction_id)) return NotFound("no such sanction");
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query("SELECT u.role FROM moderation_sanctions x LEFT JOIN users u "
                                          "ON u.id = x.created_by WHERE x.id = $1 AND x.room_id = $2",
                                          {SqlText(sanction_id), SqlText(room_id)}));
    if (r.rows.empty()) return NotFound("no such sanction in this room");
    if (!site_staff && SiteRank(r.rows[0].Text(0)) > 0) {
      return Error{ErrorCode::kPermissionDenied, "a sanction by site staff is lifted by site staff"};
    }
    return Ok();
  }));
  return Lift(actor_id, sanction_id, reason);
}

Status ModerationService::DeleteRoomMessage(std::string_view actor_id, std::string_view room_id,
                                            std::string_view message_id, std::string_view reason) {
  VEZA_TRY(CheckReason(reason));
  BusEvents events;
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(CheckRoomPower(s, actor_id, room_id, {}));
    if (!IsUuid(message_id)) return NotFound("no such message");
    VEZA_ASSIGN_OR_RETURN(auto r, s.Query("SELECT 1 FROM chat_messages WHERE id = $1 AND room_id = $2",
                                          {SqlText(message_id), SqlText(room_id)}));
    if (r.rows.empty()) return NotFound("no such message in this room");
    return DeleteMessageIn(s, actor_id, message_id, reason, events);
  }));
  PublishAll(events);
  return Ok();
}

Result<SanctionPage> ModerationService::ListRoomSanctions(std::string_view actor_id, std::string_view room_id,
                                                          bool active_only, std::string_view cursor, int limit) {
  VEZA_TRY(db_.Transaction([&](SqlSession& s) -> Status {
    VEZA_TRY(CheckRoomPower(s, actor_id, room_id, {}));
    return Ok();
  }));
  return QuerySanctions(std::nullopt, active_only, {}, room_id, cursor, limit);
}

}  // namespace veza::moderation
