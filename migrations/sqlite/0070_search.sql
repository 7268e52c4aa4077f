-- Search (issue 7): one row per findable thing, kept by triggers on the tables it mirrors, and
-- two FTS5 indexes over it: words (unicode61, diacritics folded, prefixes) for typed and partial
-- queries, and trigrams for misspelt ones. Only what anyone may see is `listed`: public ready
-- tracks, public rooms, users not suspended (playlists join when they land).
CREATE TABLE search_documents (
  id INTEGER PRIMARY KEY,              -- stable rowid for the external-content FTS tables
  kind TEXT NOT NULL CHECK (kind IN ('track', 'user', 'room', 'playlist')),
  ref_id TEXT NOT NULL,
  listed INTEGER NOT NULL,
  title TEXT NOT NULL,
  subtitle TEXT NOT NULL DEFAULT '',   -- artist and album / display name / topic
  tags TEXT NOT NULL DEFAULT '',       -- genre and the owner's username
  genre TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0,
  popularity INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (kind, ref_id)
);
CREATE INDEX search_documents_popular ON search_documents (kind, listed, popularity);

CREATE VIRTUAL TABLE search_words USING fts5(
  title, subtitle, tags, content='search_documents', content_rowid='id',
  tokenize="unicode61 remove_diacritics 2", prefix='2 3');
CREATE VIRTUAL TABLE search_trigrams USING fts5(
  title, subtitle, content='search_documents', content_rowid='id', tokenize='trigram');

CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
  INSERT INTO search_words (rowid, title, subtitle, tags) VALUES (new.id, new.title, new.subtitle, new.tags);
  INSERT INTO search_trigrams (rowid, title, subtitle) VALUES (new.id, new.title, new.subtitle);
END;
CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
  INSERT INTO search_words (search_words, rowid, title, subtitle, tags) VALUES ('delete', old.id, old.title, old.subtitle, old.tags);
  INSERT INTO search_trigrams (search_trigrams, rowid, title, subtitle) VALUES ('delete', old.id, old.title, old.subtitle);
END;
CREATE TRIGGER search_documents_au AFTER UPDATE OF title, subtitle, tags ON search_documents BEGIN
  INSERT INTO search_words (search_words, rowid, title, subtitle, tags) VALUES ('delete', old.id, old.title, old.subtitle, old.tags);
  INSERT INTO search_trigrams (search_trigrams, rowid, title, subtitle) VALUES ('delete', old.id, old.title, old.subtitle);
  INSERT INTO search_words (rowid, title, subtitle, tags) VALUES (new.id, new.title, new.subtitle, new.tags);
  INSERT INTO search_trigrams (rowid, title, subtitle) VALUES (new.id, new.title, new.subtitle);
END;

-- Tracks.
CREATE TRIGGER search_tracks_ai AFTER INSERT ON tracks BEGIN
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, genre, duration_ms, created_at)
  VALUES ('track', new.id, new.visibility = 'public' AND new.state = 'ready', new.title,
          trim(new.artist || ' ' || new.album),
          trim(new.genre || ' ' || coalesce((SELECT username FROM users WHERE id = new.owner_id), '')),
          new.genre, new.duration_ms, new.created_at);
END;
CREATE TRIGGER search_tracks_au AFTER UPDATE OF title, artist, album, genre, visibility, state, duration_ms ON tracks BEGIN
  UPDATE search_documents SET
    listed = new.visibility = 'public' AND new.state = 'ready',
    title = new.title,
    subtitle = trim(new.artist || ' ' || new.album),
    tags = trim(new.genre || ' ' || coalesce((SELECT username FROM users WHERE id = new.owner_id), '')),
    genre = new.genre,
    duration_ms = new.duration_ms
  WHERE kind = 'track' AND ref_id = new.id;
END;
CREATE TRIGGER search_tracks_ad AFTER DELETE ON tracks BEGIN
  DELETE FROM search_documents WHERE kind = 'track' AND ref_id = old.id;
END;
CREATE TRIGGER search_track_plays_ai AFTER INSERT ON track_plays BEGIN
  UPDATE search_documents SET popularity = popularity + 1 WHERE kind = 'track' AND ref_id = new.track_id;
END;

-- Users.
CREATE TRIGGER search_users_ai AFTER INSERT ON users BEGIN
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  VALUES ('user', new.id, new.suspended = 0, new.username, new.display_name, new.created_at);
END;
CREATE TRIGGER search_users_au AFTER UPDATE OF username, display_name, suspended ON users BEGIN
  UPDATE search_documents SET listed = new.suspended = 0, title = new.username, subtitle = new.display_name
  WHERE kind = 'user' AND ref_id = new.id;
END;
CREATE TRIGGER search_users_ad AFTER DELETE ON users BEGIN
  DELETE FROM search_documents WHERE kind = 'user' AND ref_id = old.id;
END;

-- Chat rooms: only public ones are ever listed.
CREATE TRIGGER search_rooms_ai AFTER INSERT ON chat_rooms BEGIN
  INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  VALUES ('room', new.id, new.kind = 'public', new.name, new.topic, new.created_at);
END;
CREATE TRIGGER search_rooms_au AFTER UPDATE OF name, topic, kind ON chat_rooms BEGIN
  UPDATE search_documents SET listed = new.kind = 'public', title = new.name, subtitle = new.topic
  WHERE kind = 'room' AND ref_id = new.id;
END;
CREATE TRIGGER search_rooms_ad AFTER DELETE ON chat_rooms BEGIN
  DELETE FROM search_documents WHERE kind = 'room' AND ref_id = old.id;
END;

-- What existed before this migration.
INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  SELECT 'user', id, suspended = 0, username, display_name, created_at FROM users;
INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, tags, genre, duration_ms, popularity, created_at)
  SELECT 'track', t.id, t.visibility = 'public' AND t.state = 'ready', t.title, trim(t.artist || ' ' || t.album),
         trim(t.genre || ' ' || coalesce(u.username, '')), t.genre, t.duration_ms,
         (SELECT count(*) FROM track_plays p WHERE p.track_id = t.id), t.created_at
  FROM tracks t LEFT JOIN users u ON u.id = t.owner_id;
INSERT INTO search_documents (kind, ref_id, listed, title, subtitle, created_at)
  SELECT 'room', id, kind = 'public', name, topic, created_at FROM chat_rooms;
