-- Audit log of administrative actions (role changes, suspensions). Append-only: rows are never
-- updated or deleted by the application. actor_id and target_id carry no foreign key on purpose,
-- so the record outlives a deleted account. details is a JSON object as text. Times are Unix ms.
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  actor_id TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
-- The admin user list pages by (created_at, id).
CREATE INDEX users_created ON users (created_at, id);
