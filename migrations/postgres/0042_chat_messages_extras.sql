-- Chat messages gain replies, edits, soft deletes and pins; reactions are one row per
-- (message, user, emoji). A deleted message keeps its row (a tombstone with an empty body) so
-- sequences stay gapless and replies keep their parent. Times: Unix ms.
ALTER TABLE chat_messages ADD COLUMN reply_to TEXT;
ALTER TABLE chat_messages ADD COLUMN edited_at BIGINT;
ALTER TABLE chat_messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE chat_messages ADD COLUMN pinned_at BIGINT;
ALTER TABLE chat_messages ADD COLUMN pinned_by TEXT;
CREATE INDEX chat_messages_thread ON chat_messages (room_id, reply_to, seq);
CREATE INDEX chat_messages_pinned ON chat_messages (room_id, pinned_at);

CREATE TABLE chat_reactions (
  message_id TEXT NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  emoji TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
);
