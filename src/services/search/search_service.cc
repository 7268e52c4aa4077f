#include "services/search/search_service.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "services/search/search_text.h"

namespace veza::search {

namespace {

// A trigram-only match must be at least this close (MatchScore) to be shown: "midnigt" still
// finds "Midnight", "moon" does not find "Noon".
constexpr double kFuzzyThreshold = 0.45;
constexpr int kFuzzyCandidates = 200;
// At most this many matches are scored (bm25 on SQLite, ts_rank on PostgreSQL), the newest first.
// Scoring is what costs (about 1.5 µs a match): a two-letter prefix or the trigrams of a
// misspelling match a large part of a big catalogue, and ranking all of them took 15-25 ms
// with 100k tracks. Queries with fewer matches (nearly all typed ones) rank exactly as before;
// broader ones rank the newest kScoredMatches. On SQLite a filtered query is not capped: the filter
// applies after the cap and could leave nothing of the newest, unless the index applies it
// too (a genre, in the words index: SqliteGenreTerm). PostgreSQL applies every filter before
// the cap (PgRankedMatches), so there every query is capped. See docs/search.md.
constexpr int kScoredMatches = 1000;

// " ORDER BY rowid DESC LIMIT n" for the FTS subquery when it is capped.
std::string ScoredMatchesCap(bool capped) {
  return capped ? " ORDER BY rowid DESC LIMIT " + std::to_string(kScoredMatches) : "";
}

// SQLite: the genre filter as an FTS5 term on the tags column (which holds the genre), so
// that the words index narrows the matches before they are scored; the SQL filter still has
// the final say. Empty when the genre has no letter or digit (FTS would see no token).
std::string SqliteGenreTerm(const Query& q) {
  if (std::none_of(q.genre.begin(), q.genre.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); }))
    return "";
  std::string phrase;
  for (char c : q.genre) phrase += c == '"' ? std::string("\"\"") : std::string(1, c);
  return " AND tags:\"" + phrase + "\"";
}

// Whether the newest kScoredMatches may be all that is scored: a filter the index cannot
// apply (duration, dates) could leave nothing of them.
bool Cappable(const Query& q, bool genre_in_index) {
  return !(q.min_duration_ms || q.max_duration_ms || q.created_after_ms || q.created_before_ms) &&
         (q.genre.empty() || genre_in_index);
}

bool IsPostgres(Database& db) { return db.Dialect() == "postgres"; }

// PostgreSQL: the documents whose words match the tsquery `words_source` (a FROM item naming
// its column `words`, e.g. kPgPlainWords) and the filters, ranked. As on SQLite, only the
// newest kScoredMatches matches are ranked. The planner sees the query's words (PQexecParams
// plans with the values) and picks the cheaper way to the newest matches: for a broad query
// ("sat" matches 7,880 of 100k tracks) it walks the primary key backwards and stops after
// kScoredMatches, reading ~12k rows instead of every match's heap page (20 -> 5 ms); for a
// narrow one it takes the matches from the GIN index and sorts them.
std::string PgRankedMatches(std::string_view words_source, const std::string& filters) {
  return "SELECT c.id, c.ref_id, c.title, c.subtitle FROM (SELECT d.id, d.ref_id, d.title, d.subtitle, "
         "d.popularity, d.words, f.words AS query FROM search_documents d, " +
         std::string(words_source) + " WHERE d.words @@ f.words" + filters + " ORDER BY d.id DESC LIMIT " +
         std::to_string(kScoredMatches) +
         ") c ORDER BY ts_rank(c.words, c.query, 1) DESC, c.popularity DESC, c.id DESC";
}

// PostgreSQL: the query words $1 folded once (0090_search_unaccent). unaccent costs ~25 µs a
// call; written inline, a generic plan re-folds it for every row the index hands back (67 ms
// instead of 38 ms for "gol" at 100k tracks). OFFSET 0 keeps the subquery from being pulled up.
// ASCII text is its own fold (the terms are lower-cased and Latin letters folded already), so
// it is passed as it is: the planner then sees the value and estimates as before 0090.
constexpr std::string_view kPgFoldedWords =
    "(SELECT to_tsquery('simple', search_fold($1)) AS words OFFSET 0) f";
constexpr std::string_view kPgPlainWords = "(SELECT to_tsquery('simple', $1) AS words) f";

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// SQLite: the FTS tables hold the kind (0083_search_by_kind), so a search for the few users,
// rooms or playlists does not walk the index entries of every matching track. Tracks are most
// of the index: filtering them by kind inside FTS would only add work.
std::string SqliteKindFilter(Kind kind) {
  if (kind == Kind::kTrack) return "";
  return "kind:\"" + std::string(KindName(kind)) + "\" AND ";
}

Hit HitFromRow(const Row& r, Kind kind) {
  return Hit{kind, r.Text(1), r.Text(2), r.Text(3), std::nullopt};
}

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kTrack:
      return "track";
    case Kind::kUser:
      return "user";
    case Kind::kRoom:
      return "room";
    case Kind::kPlaylist:
      return "playlist";
  }
  return "track";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kTrack, Kind::kUser, Kind::kRoom, Kind::kPlaylist}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string SearchService::Filters(const Query& q, std::vector<SqlValue>& params) const {
  std::string sql = IsPostgres(db_) ? " AND d.listed" : " AND d.listed = 1";
  auto next = [&](SqlValue v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  sql += " AND d.kind = " + next(SqlText(KindName(q.kind)));
  if (!q.genre.empty()) sql += " AND lower(d.genre) = lower(" + next(SqlText(q.genre)) + ")";
  if (q.min_duration_ms) sql += " AND d.duration_ms >= " + next(SqlInt(*q.min_duration_ms));
  if (q.max_duration_ms) sql += " AND d.duration_ms <= " + next(SqlInt(*q.max_duration_ms));
  if (q.created_after_ms) sql += " AND d.created_at >= " + next(SqlInt(*q.created_after_ms));
  if (q.created_before_ms) sql += " AND d.created_at < " + next(SqlInt(*q.created_before_ms));
  return sql;
}

Result<std::vector<SearchService::Candidate>> SearchService::WordMatches(
    const Query& q, const std::vector<std::string>& terms, int max) {
  std::vector<SqlValue> params;
  std::string match;
  std::string sql;
  if (IsPostgres(db_)) {
    // 'term':* & 'term':*  (terms hold no quotes or operators: see Terms()).
    for (const std::string& t : terms) match += (match.empty() ? "'" : " & '") + t + "':*";
    params.push_back(SqlText(match));
    sql = PgRankedMatches(IsAscii(match) ? kPgPlainWords : kPgFoldedWords, Filters(q, params));
  } else {
    // "term"* "term"*  (implicit AND), in the text columns, of the kind asked for.
    for (const std::string& t : terms) match += (match.empty() ? "\"" : " \"") + t + "\"*";
    std::string genre_term = SqliteGenreTerm(q);
    params.push_back(SqlText(SqliteKindFilter(q.kind) + "{title subtitle tags}:(" + match + ")" + genre_term));
    sql =
        "SELECT d.id, d.ref_id, d.title, d.subtitle FROM (SELECT rowid AS doc, "
        "bm25(search_words, 10.0, 4.0, 1.0, 0.0) AS score FROM search_words WHERE search_words MATCH $1 "
        + ScoredMatchesCap(Cappable(q, !genre_term.empty())) + ") w "
        "JOIN search_documents d ON d.id = w.doc WHERE 1 = 1" +
        Filters(q, params) + " ORDER BY w.score, d.popularity DESC, d.id DESC";
  }
  params.push_back(SqlInt(max));
  sql += " LIMIT $" + std::to_string(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult result, db_.Query(sql, params));
  std::vector<Candidate> out;
  for (const Row& r : result.rows) out.push_back({r.Int(0), HitFromRow(r, q.kind)});
  return out;
}

// PostgreSQL: the catalogue's words close to each term (search_terms, 0093_search_terms; pg_trgm
// similarity over 0.3, the 8 closest), as a tsquery: every term that has close words must
// match one of them, "(midnight | midnite) & (ocean)". Empty when no term has any.
Result<std::string> SearchService::PgCloseWords(const std::vector<std::string>& terms) {
  std::string joined;
  for (const std::string& t : terms) joined += (joined.empty() ? "" : " ") + t;
  VEZA_ASSIGN_OR_RETURN(
      QueryResult close,
      db_.Query("SELECT t.n, s.term FROM (SELECT search_fold(u.q) AS q, u.n FROM "
                "unnest(string_to_array($1, ' ')) WITH ORDINALITY AS u(q, n)) t CROSS JOIN LATERAL "
                "(SELECT term FROM search_terms WHERE term % t.q ORDER BY similarity(term, t.q) DESC, term "
                "LIMIT 8) s ORDER BY t.n",
                {SqlText(joined)}));
  std::string query, group;
  std::int64_t current = -1;
  auto close_group = [&] {
    if (!group.empty()) query += (query.empty() ? "(" : " & (") + group + ")";
    group.clear();
  };
  for (const Row& r : close.rows) {
    if (r.Int(0) != current) {
      close_group();
      current = r.Int(0);
    }
    // A quoted lexeme: a quote inside is doubled, so no word is tsquery syntax.
    std::string word = "'";
    for (char c : r.Text(1)) word += c == '\'' ? std::string("''") : std::string(1, c);
    word += "'";
    group += (group.empty() ? "" : " | ") + word;
  }
  close_group();
  return query;
}

Result<std::vector<SearchService::Candidate>> SearchService::TrigramMatches(
    const Query& q, const std::vector<std::string>& terms, int max) {
  std::vector<std::string> long_terms;
  for (const std::string& t : terms) {
    if (t.size() >= 3) long_terms.push_back(t);
  }
  if (long_terms.empty()) return std::vector<Candidate>{};
  std::vector<SqlValue> params;
  std::string sql;
  if (IsPostgres(db_)) {
    VEZA_ASSIGN_OR_RETURN(std::string close_words, PgCloseWords(long_terms));
    if (close_words.empty()) return std::vector<Candidate>{};
    params.push_back(SqlText(close_words));
    sql = PgRankedMatches(kPgPlainWords, Filters(q, params));
  } else {
    // Any trigram of any term; FTS5's trigram tokenizer matches each as a substring.
    std::string match;
    std::unordered_set<std::string> seen;
    for (const std::string& t : long_terms) {
      for (std::size_t i = 0; i + 3 <= t.size(); ++i) {
        std::string tri = t.substr(i, 3);
        if (seen.insert(tri).second) match += (match.empty() ? "\"" : " OR \"") + tri + "\"";
      }
    }
    params.push_back(SqlText(SqliteKindFilter(q.kind) + "{title subtitle}:(" + match + ")"));
    sql =
        "SELECT d.id, d.ref_id, d.title, d.subtitle FROM (SELECT rowid AS doc, "
        "bm25(search_trigrams, 2.0, 1.0, 0.0) AS score FROM search_trigrams WHERE search_trigrams MATCH $1 "
        + ScoredMatchesCap(Cappable(q, false)) + ") g "
        "JOIN search_documents d ON d.id = g.doc WHERE 1 = 1" +
        Filters(q, params) + " ORDER BY g.score, d.popularity DESC, d.id DESC";
  }
  params.push_back(SqlInt(max));
  sql += " LIMIT $" + std::to_string(params.size());
  VEZA_ASSIGN_OR_RETURN(QueryResult result, db_.Query(sql, params));
  struct Scored {
    double score;
    std::size_t order;
    Candidate candidate;
  };
  std::vector<Scored> scored;
  for (const Row& r : result.rows) {
    Candidate c{r.Int(0), HitFromRow(r, q.kind)};
    double score = MatchScore(terms, c.hit.title + " " + c.hit.subtitle);
    if (score >= kFuzzyThreshold) scored.push_back({score, scored.size(), std::move(c)});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  std::vector<Candidate> out;
  for (Scored& s : scored) out.push_back(std::move(s.candidate));
  return out;
}

Result<Page> SearchService::Search(const Query& q) {
  if (q.text.size() > kMaxQueryBytes)
    return InvalidArgument("q is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  std::vector<std::string> terms = Terms(q.text);
  if (terms.empty()) return InvalidArgument("q must hold at least one letter or digit");
  if (q.limit < 1 || q.limit > kMaxPage)
    return InvalidArgument("limit must be from 1 to " + std::to_string(kMaxPage));
  if (q.offset < 0 || q.offset >= kMaxResults)
    return InvalidArgument("the cursor is past the last result served");
  int wanted = std::min(kMaxResults, q.offset + q.limit + 1);  // +1: is there a next page?

  VEZA_ASSIGN_OR_RETURN(std::vector<Candidate> ranked, WordMatches(q, terms, wanted));
  if (static_cast<int>(ranked.size()) < wanted) {
    VEZA_ASSIGN_OR_RETURN(std::vector<Candidate> fuzzy, TrigramMatches(q, terms, kFuzzyCandidates));
    std::unordered_set<std::int64_t> have;
    for (const Candidate& c : ranked) have.insert(c.doc_id);
    for (Candidate& c : fuzzy) {
      if (static_cast<int>(ranked.size()) >= wanted) break;
      if (have.insert(c.doc_id).second) ranked.push_back(std::move(c));
    }
  }
  Page page;
  for (int i = q.offset; i < static_cast<int>(ranked.size()) && i < q.offset + q.limit; ++i) {
    page.hits.push_back(std::move(ranked[static_cast<std::size_t>(i)].hit));
  }
  int end = q.offset + q.limit;
  if (static_cast<int>(ranked.size()) > end && end < kMaxResults) page.next_offset = end;
  if (q.kind == Kind::kPlaylist) VEZA_TRY(AddPlaylistCovers(page.hits));
  return page;
}

Status SearchService::AddPlaylistCovers(std::vector<Hit>& hits) {
  if (hits.empty()) return Ok();
  std::vector<SqlValue> params;
  std::string in;
  for (const Hit& h : hits) {
    params.push_back(SqlText(h.id));
    in += (in.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  VEZA_ASSIGN_OR_RETURN(
      QueryResult r,
      db_.Query("SELECT id, cover_hash FROM playlists WHERE cover_hash IS NOT NULL AND id IN (" + in + ")", params));
  for (const Row& row : r.rows) {
    for (Hit& h : hits) {
      if (h.id == row.Text(0)) h.cover_hash = row.Text(1);
    }
  }
  return Ok();
}

}  // namespace veza::search
