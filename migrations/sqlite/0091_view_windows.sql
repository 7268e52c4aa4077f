-- Track views counted like qualified plays: once per listener and track per window
-- (--analytics-qualified-window), so a client inventing fresh view ids still counts once.
-- analytics_views keeps making a replayed event a no-op; this row is the abuse window.
CREATE TABLE analytics_view_windows (
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  listener_key TEXT NOT NULL,
  counted_at INTEGER NOT NULL,
  PRIMARY KEY (track_id, listener_key)
);
