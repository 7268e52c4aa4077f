-- Social graph, likes, reposts, timestamped comments and playlists (social service). Times are
-- Unix milliseconds; every id is a UUIDv7, so id order is creation order (cursor pagination).
CREATE TABLE follows (
  follower_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (follower_id, followee_id),
  CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followers ON follows (followee_id, id);
CREATE INDEX follows_following ON follows (follower_id, id);

CREATE TABLE track_likes (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, track_id)
);
CREATE INDEX track_likes_user ON track_likes (user_id, id);
CREATE INDEX track_likes_track ON track_likes (track_id, created_at);
CREATE INDEX track_likes_recent ON track_likes (created_at);

CREATE TABLE track_reposts (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, track_id)
);
CREATE INDEX track_reposts_user ON track_reposts (user_id, id);
CREATE INDEX track_reposts_track ON track_reposts (track_id);

-- One level of threading: a reply's reply_to is a top-level comment of the same track.
CREATE TABLE track_comments (
  id TEXT PRIMARY KEY,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  author_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  reply_to TEXT REFERENCES track_comments(id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  at_ms BIGINT NOT NULL,            -- playback position the comment is anchored at
  created_at BIGINT NOT NULL,
  edited_at BIGINT
);
CREATE INDEX track_comments_by_time ON track_comments (track_id, at_ms, id);
CREATE INDEX track_comments_newest ON track_comments (track_id, id);
CREATE INDEX track_comments_replies ON track_comments (reply_to);

CREATE TABLE playlists (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
  collaborative INTEGER NOT NULL DEFAULT 0,
  item_count INTEGER NOT NULL DEFAULT 0,  -- kept in the transaction that adds or removes items
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX playlists_owner ON playlists (owner_id, id);

-- Positions are 0..item_count-1, kept dense by the transactions that add, remove and move.
CREATE TABLE playlist_items (
  playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  added_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (playlist_id, track_id)
);
CREATE INDEX playlist_items_order ON playlist_items (playlist_id, position);
CREATE INDEX playlist_items_track ON playlist_items (track_id);

CREATE TABLE playlist_editors (
  playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (playlist_id, user_id)
);
CREATE INDEX playlist_editors_user ON playlist_editors (user_id);

-- Discover ranks recent plays. Profile counters count one owner's listed tracks (and their
-- plays) through tracks_owner_listed; the home feed walks tracks_listing newest first and the
-- followees' reposts through track_reposts_user.
CREATE INDEX track_plays_recent ON track_plays (played_at);
CREATE INDEX tracks_owner_listed ON tracks (owner_id, visibility, state, id);
