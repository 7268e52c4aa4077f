-- Analytics (issue 7): aggregates fed by play events from the EventBus work queue. Days are
-- whole UTC days since 1970-01-01. Listener keys are "u:<user id>" or "a:<salted hash>" (never
-- an IP address). Each *_sessions/*_views row is what makes a replayed event a no-op.
CREATE TABLE analytics_play_sessions (
  listener_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  qualified INTEGER NOT NULL DEFAULT 0,   -- 0 not yet, 1 counted, 2 reached but inside the window
  completed INTEGER NOT NULL DEFAULT 0,
  stop_bucket INTEGER,                    -- 0..19 stopped there, 20 listened to the end
  PRIMARY KEY (listener_key, session_id)
);
CREATE INDEX analytics_play_sessions_started ON analytics_play_sessions (started_at);

CREATE TABLE analytics_views (
  listener_key TEXT NOT NULL,
  view_id TEXT NOT NULL,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  viewed_at INTEGER NOT NULL,
  PRIMARY KEY (listener_key, view_id)
);

CREATE TABLE analytics_track_daily (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  plays INTEGER NOT NULL DEFAULT 0,
  qualified_plays INTEGER NOT NULL DEFAULT 0,
  listeners INTEGER NOT NULL DEFAULT 0,
  completions INTEGER NOT NULL DEFAULT 0,
  views INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (track_id, day)
);

-- Who listened to a track on a day: unique listeners per day, and distinct over any range.
CREATE TABLE analytics_track_listeners (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  listener_key TEXT NOT NULL,
  PRIMARY KEY (track_id, day, listener_key)
);

-- When a listener's last counted qualified play of a track was: the abuse window.
CREATE TABLE analytics_qualified_windows (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  listener_key TEXT NOT NULL,
  counted_at INTEGER NOT NULL,
  PRIMARY KEY (track_id, listener_key)
);

CREATE TABLE analytics_retention (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  stops INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (track_id, day, bucket)
);

CREATE TABLE analytics_track_countries (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  country TEXT NOT NULL,
  plays INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (track_id, day, country)
);

-- Per-day social and instance figures are read from their own tables by creation time
-- (users_created exists since 0004).
CREATE INDEX track_reposts_track_time ON track_reposts (track_id, created_at);
CREATE INDEX track_comments_track_time ON track_comments (track_id, created_at);
CREATE INDEX tracks_created ON tracks (created_at);
CREATE INDEX chat_messages_created ON chat_messages (created_at);
