-- Tracks, their plays and resumable uploads (tracks service). Times are Unix milliseconds.
-- A track's files live in the BlobStore under tracks/{id}/: the untouched original and what
-- the media pipeline derives from it (HLS ladder, progressive files, waveform, cover).
CREATE TABLE tracks (
  id TEXT PRIMARY KEY,                 -- UUIDv7: ids sort by creation time (cursor pagination)
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  title_from_filename INTEGER NOT NULL DEFAULT 0,  -- 1: the title tag may replace it
  artist TEXT NOT NULL DEFAULT '',
  album TEXT NOT NULL DEFAULT '',
  genre TEXT NOT NULL DEFAULT '',
  year INTEGER,
  track_number INTEGER,
  description TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private')),
  state TEXT NOT NULL DEFAULT 'uploaded' CHECK (state IN ('uploaded', 'processing', 'ready', 'failed')),
  failure_reason TEXT NOT NULL DEFAULT '',
  progress INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until BIGINT NOT NULL DEFAULT 0,  -- a media worker holds the job until then
  container TEXT NOT NULL DEFAULT '',
  codec TEXT NOT NULL DEFAULT '',
  sample_rate INTEGER NOT NULL DEFAULT 0,
  channels INTEGER NOT NULL DEFAULT 0,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  bit_rate BIGINT NOT NULL DEFAULT 0,
  lossless INTEGER NOT NULL DEFAULT 0,
  loudness_lufs DOUBLE PRECISION,
  loudness_range_lu DOUBLE PRECISION,
  true_peak_dbtp DOUBLE PRECISION,
  replay_gain_db DOUBLE PRECISION,
  waveform_points INTEGER NOT NULL DEFAULT 0,
  has_cover INTEGER NOT NULL DEFAULT 0,
  original_key TEXT NOT NULL,
  original_size BIGINT NOT NULL,
  original_content_type TEXT NOT NULL,
  original_filename TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX tracks_listing ON tracks (visibility, state, id);
CREATE INDEX tracks_owner ON tracks (owner_id, id);
CREATE INDEX tracks_pending ON tracks (state);

-- One row per play, for analytics. The listener is NULL for anonymous plays.
CREATE TABLE track_plays (
  id TEXT PRIMARY KEY,
  track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  played_at BIGINT NOT NULL
);
CREATE INDEX track_plays_track ON track_plays (track_id, played_at);

-- tus uploads in progress. The bytes are in a staging file on the node that created the upload.
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  length BIGINT NOT NULL,
  received BIGINT NOT NULL DEFAULT 0,
  filename TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private')),
  track_id TEXT,                       -- set once the upload became a track
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_expiry ON uploads (expires_at);
