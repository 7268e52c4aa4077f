-- Search speed (bench/search, docs/benchmarks.md): with 100k tracks, a search for users, rooms
-- or playlists walked the index entries of every track sharing its words or trigrams, then
-- dropped them by kind (≈10 ms of CPU per kind and stage). The FTS tables now hold the kind as a
-- column, so `kind:user AND {title subtitle tags}:(...)` stays inside the few documents of that
-- kind. The user's terms are confined to the text columns, so ranking is unchanged.
DROP TRIGGER search_documents_ai;
DROP TRIGGER search_documents_ad;
DROP TRIGGER search_documents_au;
DROP TABLE search_words;
DROP TABLE search_trigrams;

CREATE VIRTUAL TABLE search_words USING fts5(
  title, subtitle, tags, kind, content='search_documents', content_rowid='id',
  tokenize="unicode61 remove_diacritics 2", prefix='2 3');
CREATE VIRTUAL TABLE search_trigrams USING fts5(
  title, subtitle, kind, content='search_documents', content_rowid='id', tokenize='trigram');

CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
  INSERT INTO search_words (rowid, title, subtitle, tags, kind) VALUES (new.id, new.title, new.subtitle, new.tags, new.kind);
  INSERT INTO search_trigrams (rowid, title, subtitle, kind) VALUES (new.id, new.title, new.subtitle, new.kind);
END;
CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
  INSERT INTO search_words (search_words, rowid, title, subtitle, tags, kind) VALUES ('delete', old.id, old.title, old.subtitle, old.tags, old.kind);
  INSERT INTO search_trigrams (search_trigrams, rowid, title, subtitle, kind) VALUES ('delete', old.id, old.title, old.subtitle, old.kind);
END;
CREATE TRIGGER search_documents_au AFTER UPDATE OF title, subtitle, tags ON search_documents BEGIN
  INSERT INTO search_words (search_words, rowid, title, subtitle, tags, kind) VALUES ('delete', old.id, old.title, old.subtitle, old.tags, old.kind);
  INSERT INTO search_trigrams (search_trigrams, rowid, title, subtitle, kind) VALUES ('delete', old.id, old.title, old.subtitle, old.kind);
  INSERT INTO search_words (rowid, title, subtitle, tags, kind) VALUES (new.id, new.title, new.subtitle, new.tags, new.kind);
  INSERT INTO search_trigrams (rowid, title, subtitle, kind) VALUES (new.id, new.title, new.subtitle, new.kind);
END;

INSERT INTO search_words (search_words) VALUES ('rebuild');
INSERT INTO search_trigrams (search_trigrams) VALUES ('rebuild');
