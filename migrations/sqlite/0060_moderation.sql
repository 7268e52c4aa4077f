-- Chat moderation (issue 6 item 5): the word filter, user reports on messages, and sanctions
-- (mutes and bans, per room or global, with an optional expiry). Every moderator action also
-- writes a row to audit_log. Times are Unix ms.
CREATE TABLE moderation_words (
  id TEXT PRIMARY KEY,
  word TEXT NOT NULL UNIQUE,              -- folded to lowercase letters; a trailing '*' matches as a prefix
  action TEXT NOT NULL CHECK (action IN ('block', 'mask')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- A report keeps a copy of the message, so it still reads after the message is deleted.
CREATE TABLE moderation_reports (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  message_seq INTEGER NOT NULL,
  message_body TEXT NOT NULL,
  message_created_at INTEGER NOT NULL,
  reporter_id TEXT NOT NULL,
  reported_user_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  resolution TEXT NOT NULL DEFAULT '',    -- the action taken: dismiss, delete_message, mute, kick, ban
  resolved_by TEXT,
  resolved_at INTEGER,
  created_at INTEGER NOT NULL,
  UNIQUE (message_id, reporter_id)
);
CREATE INDEX moderation_reports_status ON moderation_reports (status, created_at, id);

-- room_id '' is a global sanction. expires_at NULL: until lifted. lifted_at set: no longer active.
CREATE TABLE moderation_sanctions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('mute', 'ban')),
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  lifted_by TEXT,
  lifted_at INTEGER
);
CREATE INDEX moderation_sanctions_user ON moderation_sanctions (user_id, kind);
CREATE INDEX moderation_sanctions_created ON moderation_sanctions (created_at, id);
