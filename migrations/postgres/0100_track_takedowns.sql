-- Track takedowns (admin dashboard): a moderator hides a track from everyone but its owner, with
-- a reason, until it is restored. taken_down_at NULL is a live track. Every listing filter in the
-- services reads the one condition in services/tracks/track_repository.h (kListedTracks).
ALTER TABLE tracks ADD COLUMN taken_down_at BIGINT;
ALTER TABLE tracks ADD COLUMN takedown_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN taken_down_by TEXT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX tracks_taken_down ON tracks (taken_down_at, id) WHERE taken_down_at IS NOT NULL;

-- Search lists only what anyone may see: a taken-down track leaves the index's listed set.
CREATE OR REPLACE FUNCTION search_track_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_documents WHERE kind = 'track' AND ref_id = OLD.id;
    RETURN OLD;
  END IF;
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, genre, duration_ms, created_at)
  VALUES ('track', NEW.id, NEW.visibility = 'public' AND NEW.state = 'ready' AND NEW.taken_down_at IS NULL,
          NEW.title, trim(NEW.artist || ' ' || NEW.album),
          trim(NEW.genre || ' ' || coalesce((SELECT username FROM users WHERE id = NEW.owner_id), '')),
          NEW.genre, NEW.duration_ms, NEW.created_at)
  ON CONFLICT (kind, ref_id) DO UPDATE SET
    listed = EXCLUDED.listed, title = EXCLUDED.title, subtitle = EXCLUDED.subtitle,
    tags = EXCLUDED.tags, genre = EXCLUDED.genre, duration_ms = EXCLUDED.duration_ms;
  RETURN NEW;
END $$;
DROP TRIGGER search_tracks ON tracks;
CREATE TRIGGER search_tracks AFTER INSERT OR DELETE OR
  UPDATE OF title, artist, album, genre, visibility, state, duration_ms, taken_down_at ON tracks
  FOR EACH ROW EXECUTE FUNCTION search_track_sync();
