-- Track takedowns (admin dashboard): a moderator hides a track from everyone but its owner, with
-- a reason, until it is restored. taken_down_at NULL is a live track. Every listing filter in the
-- services reads the one condition in services/tracks/track_repository.h (kListedTracks).
ALTER TABLE tracks ADD COLUMN taken_down_at INTEGER;
ALTER TABLE tracks ADD COLUMN takedown_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN taken_down_by TEXT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX tracks_taken_down ON tracks (taken_down_at, id) WHERE taken_down_at IS NOT NULL;

-- Search lists only what anyone may see: a taken-down track leaves the index's listed set.
DROP TRIGGER search_tracks_au;
CREATE TRIGGER search_tracks_au AFTER UPDATE OF title, artist, album, genre, visibility, state, duration_ms, taken_down_at ON tracks BEGIN
  UPDATE search_documents SET
    listed = new.visibility = 'public' AND new.state = 'ready' AND new.taken_down_at IS NULL,
    title = new.title,
    subtitle = trim(new.artist || ' ' || new.album),
    tags = trim(new.genre || ' ' || coalesce((SELECT username FROM users WHERE id = new.owner_id), '')),
    genre = new.genre,
    duration_ms = new.duration_ms
  WHERE kind = 'track' AND ref_id = new.id;
END;
