-- Chat: rooms (public, private, direct messages), members, and messages with a per-room
-- sequence. A message is committed here before the server acknowledges it; (sender_id,
-- client_id) is unique so a resend after a lost ack is not stored twice. Times: Unix ms.
CREATE TABLE chat_rooms (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
  name TEXT NOT NULL,
  topic TEXT NOT NULL DEFAULT '',
  owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  dm_key TEXT UNIQUE,                       -- dm: the two user ids, sorted, joined by ':'
  slow_mode_seconds INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE chat_members (
  room_id TEXT NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'moderator', 'member')),
  joined_at INTEGER NOT NULL,
  last_read_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id);

CREATE TABLE chat_messages (
  id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  sender_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  client_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (room_id, seq),
  UNIQUE (sender_id, client_id)
);
