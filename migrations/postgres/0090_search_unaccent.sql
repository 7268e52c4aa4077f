-- Diacritics folded on PostgreSQL as on SQLite (FTS5 unicode61 remove_diacritics): "Beyonce"
-- finds "Beyoncé" and "beyoncé" finds "Beyonce". unaccent() is STABLE (its dictionary could be
-- changed), so generated columns and index expressions cannot call it; search_fold pins the
-- dictionary (schema-qualified, the two-argument form), which makes it safe to declare
-- IMMUTABLE, the usual recipe. It costs ~25 µs a call, so the folded text is stored once per
-- document (`folded`, for the trigram stage) and the words column is rebuilt over folded text;
-- the queries fold the query text once (src/services/search/search_service.cc).
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

ALTER TABLE search_documents DROP COLUMN words;
ALTER TABLE search_documents
  ADD COLUMN words TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_fold(title)), 'A') ||
    setweight(to_tsvector('simple', search_fold(subtitle)), 'B') ||
    setweight(to_tsvector('simple', search_fold(tags)), 'C')) STORED,
  ADD COLUMN folded TEXT GENERATED ALWAYS AS (search_fold(title || ' ' || subtitle)) STORED;
CREATE INDEX search_documents_words ON search_documents USING GIN (words);
CREATE INDEX search_documents_words_small ON search_documents USING GIN (words)
  WHERE listed AND kind <> 'track';

DROP INDEX search_documents_trigrams;
DROP INDEX search_documents_trigrams_small;
CREATE INDEX search_documents_trigrams ON search_documents USING GIN (folded gin_trgm_ops);
CREATE INDEX search_documents_trigrams_small ON search_documents USING GIN (folded gin_trgm_ops)
  WHERE listed AND kind <> 'track';
