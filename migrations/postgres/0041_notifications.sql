-- Notifications (issue 6): one row per recipient. kind is an open string checked by the
-- service (notifications::kKinds), so the social service can add kinds without a migration.
-- actor_id is empty for notifications from the system. Times: Unix ms; read_at NULL = unread.
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,                      -- UUIDv7: sorts by creation time (cursor pages)
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  actor_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  object_type TEXT NOT NULL DEFAULT '',
  object_id TEXT NOT NULL DEFAULT '',
  room_id TEXT,
  text TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_user_unread ON notifications (user_id, id) WHERE read_at IS NULL;
