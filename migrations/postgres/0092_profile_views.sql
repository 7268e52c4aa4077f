-- Profile page views (issue 7): counted like track views, once per viewer and profile per
-- window (--analytics-qualified-window). analytics_profile_views makes a replayed view id a
-- no-op; analytics_profile_view_windows is the abuse window; the daily table is what creators read.
CREATE TABLE analytics_profile_views (
  listener_key TEXT NOT NULL,
  view_id TEXT NOT NULL,
  profile_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  viewed_at BIGINT NOT NULL,
  PRIMARY KEY (listener_key, view_id)
);

CREATE TABLE analytics_profile_view_windows (
  profile_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  listener_key TEXT NOT NULL,
  counted_at BIGINT NOT NULL,
  PRIMARY KEY (profile_id, listener_key)
);

CREATE TABLE analytics_profile_daily (
  profile_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  day BIGINT NOT NULL,
  views BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (profile_id, day)
);
