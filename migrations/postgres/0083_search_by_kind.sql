-- Search speed (bench/search, docs/benchmarks.md): with 100k tracks, a search for users, rooms
-- or playlists walked the GIN entries of every track sharing its words or trigrams, then
-- dropped them by kind. Partial indexes over the listed documents that are not tracks answer
-- those searches from their own few entries (the queries name the kind and `listed`).
CREATE INDEX search_documents_words_small ON search_documents USING GIN (words)
  WHERE listed AND kind <> 'track';
CREATE INDEX search_documents_trigrams_small ON search_documents USING GIN ((title || ' ' || subtitle) gin_trgm_ops)
  WHERE listed AND kind <> 'track';
