-- Diacritics in search: the FTS5 word index already folds them (unicode61 remove_diacritics 2,
-- 0070_search) and the query terms are folded by the search service; PostgreSQL needed its own
-- folded words and trigram indexes (postgres/0090_search_unaccent). Nothing to change here.
SELECT 1;
