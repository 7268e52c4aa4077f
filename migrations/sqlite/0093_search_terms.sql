-- PostgreSQL's distinct-words table for misspelt searches (0093_search_terms there). SQLite
-- finds misspellings through its FTS5 trigram index (0070_search) and needs nothing here.
SELECT 1;
