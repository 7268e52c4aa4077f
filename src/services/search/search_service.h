#pragma once
// Search over tracks, users, public rooms and playlists (issue 7). The index is the
// search_documents table, kept by database triggers (migrations 0070_search), so no service has
// to remember to feed it. Two stages, on both databases:
// 1. words: every term as a word prefix (SQLite FTS5 unicode61 with diacritics folded; PostgreSQL
//    tsvector 'simple' with prefix tsquery), ranked by BM25 / ts_rank with the title weighted
//    above artist/album and genre/owner, ties broken by plays;
// 2. trigrams, for misspellings: candidates sharing trigrams with the terms (FTS5 trigram
//    tokenizer; pg_trgm GIN index), re-ranked by MatchScore and kept above a threshold.
// Word matches come first, then trigram-only matches. Only `listed` documents are ever returned
// (public ready tracks, public rooms, users not suspended): nothing private can leak here.
// Calls block (database): run them on the worker pool.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ports/database.h"

namespace veza::search {

enum class Kind { kTrack, kUser, kRoom, kPlaylist };
std::string_view KindName(Kind kind);
std::optional<Kind> ParseKind(std::string_view name);

constexpr int kMaxPage = 50;
// Results beyond this rank are not served: a search is for finding, not for crawling.
constexpr int kMaxResults = 500;

struct Query {
  std::string text;  // 1..kMaxQueryBytes bytes with at least one term
  Kind kind = Kind::kTrack;
  std::string genre;  // exact, case-insensitive; tracks only
  std::optional<std::int64_t> min_duration_ms, max_duration_ms;
  std::optional<std::int64_t> created_after_ms, created_before_ms;
  int offset = 0;
  int limit = 20;
};

struct Hit {
  Kind kind = Kind::kTrack;
  std::string id;
  std::string title;
  std::string subtitle;
  std::optional<std::string> cover_hash;  // playlists with a cover
};

struct Page {
  std::vector<Hit> hits;
  std::optional<int> next_offset;
};

class SearchService {
 public:
  explicit SearchService(Database& db) : db_(db) {}

  Result<Page> Search(const Query& query);

 private:
  struct Candidate {
    std::int64_t doc_id = 0;
    Hit hit;
  };
  Result<std::vector<Candidate>> WordMatches(const Query& q, const std::vector<std::string>& terms,
                                             int max);
  Result<std::string> PgCloseWords(const std::vector<std::string>& terms);
  Result<std::vector<Candidate>> TrigramMatches(const Query& q,
                                                const std::vector<std::string>& terms, int max);
  // " AND ..." for the query's filters, numbering parameters from params.size() + 1.
  std::string Filters(const Query& q, std::vector<SqlValue>& params) const;
  // Fills cover_hash of the playlist hits.
  Status AddPlaylistCovers(std::vector<Hit>& hits);

  Database& db_;
};

}  // namespace veza::search
