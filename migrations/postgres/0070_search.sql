-- Search (issue 7): one row per findable thing, kept by triggers on the tables it mirrors.
-- Words: a weighted tsvector ('simple' configuration: titles are in every language, so no
-- stemming) for typed and partial (prefix) queries; trigrams (pg_trgm) for misspelt ones.
-- Only what anyone may see is `listed`: public ready tracks, public rooms, users not suspended.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_documents (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('track', 'user', 'room', 'playlist')),
  ref_id TEXT NOT NULL,
  listed BOOLEAN NOT NULL,
  title TEXT NOT NULL,
  subtitle TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',
  genre TEXT NOT NULL DEFAULT '',
  duration_ms BIGINT NOT NULL DEFAULT 0,
  popularity BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  words TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A') ||
    setweight(to_tsvector('simple', subtitle), 'B') ||
    setweight(to_tsvector('simple', tags), 'C')) STORED,
  UNIQUE (kind, ref_id)
);
CREATE INDEX search_documents_words ON search_documents USING GIN (words);
CREATE INDEX search_documents_trigrams ON search_documents USING GIN ((title || ' ' || subtitle) gin_trgm_ops);
CREATE INDEX search_documents_popular ON search_documents (kind, listed, popularity);

CREATE FUNCTION search_track_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_documents WHERE kind = 'track' AND ref_id = OLD.id;
    RETURN OLD;
  END IF;
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, genre, duration_ms, created_at)
  VALUES ('track', NEW.id, NEW.visibility = 'public' AND NEW.state = 'ready', NEW.title,
          trim(NEW.artist || ' ' || NEW.album),
          trim(NEW.genre || ' ' || coalesce((SELECT username FROM users WHERE id = NEW.owner_id), '')),
          NEW.genre, NEW.duration_ms, NEW.created_at)
  ON CONFLICT (kind, ref_id) DO UPDATE SET
    listed = EXCLUDED.listed, title = EXCLUDED.title, subtitle = EXCLUDED.subtitle,
    tags = EXCLUDED.tags, genre = EXCLUDED.genre, duration_ms = EXCLUDED.duration_ms;
  RETURN NEW;
END $$;
CREATE TRIGGER search_tracks AFTER INSERT OR DELETE OR
  UPDATE OF title, artist, album, genre, visibility, state, duration_ms ON tracks
  FOR EACH ROW EXECUTE FUNCTION search_track_sync();

CREATE FUNCTION search_play_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE search_documents SET popularity = popularity + 1 WHERE kind = 'track' AND ref_id = NEW.track_id;
  RETURN NEW;
END $$;
CREATE TRIGGER search_track_plays AFTER INSERT ON track_plays FOR EACH ROW EXECUTE FUNCTION search_play_count();

CREATE FUNCTION search_user_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_documents WHERE kind = 'user' AND ref_id = OLD.id;
    RETURN OLD;
  END IF;
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  VALUES ('user', NEW.id, NOT NEW.suspended, NEW.username, NEW.display_name, NEW.created_at)
  ON CONFLICT (kind, ref_id) DO UPDATE SET
    listed = EXCLUDED.listed, title = EXCLUDED.title, subtitle = EXCLUDED.subtitle;
  RETURN NEW;
END $$;
CREATE TRIGGER search_users AFTER INSERT OR DELETE OR UPDATE OF username, display_name, suspended ON users
  FOR EACH ROW EXECUTE FUNCTION search_user_sync();

CREATE FUNCTION search_room_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_documents WHERE kind = 'room' AND ref_id = OLD.id;
    RETURN OLD;
  END IF;
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  VALUES ('room', NEW.id, NEW.kind = 'public', NEW.name, NEW.topic, NEW.created_at)
  ON CONFLICT (kind, ref_id) DO UPDATE SET
    listed = EXCLUDED.listed, title = EXCLUDED.title, subtitle = EXCLUDED.subtitle;
  RETURN NEW;
END $$;
CREATE TRIGGER search_rooms AFTER INSERT OR DELETE OR UPDATE OF name, topic, kind ON chat_rooms
  FOR EACH ROW EXECUTE FUNCTION search_room_sync();

INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  SELECT 'user', id, NOT suspended, username, display_name, created_at FROM users;
INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, genre, duration_ms, popularity, created_at)
  SELECT 'track', t.id, t.visibility = 'public' AND t.state = 'ready', t.title, trim(t.artist || ' ' || t.album),
         trim(t.genre || ' ' || coalesce(u.username, '')), t.genre, t.duration_ms,
         (SELECT count(*) FROM track_plays p WHERE p.track_id = t.id), t.created_at
  FROM tracks t LEFT JOIN users u ON u.id = t.owner_id;
INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  SELECT 'room', id, kind = 'public', name, topic, created_at FROM chat_rooms;
