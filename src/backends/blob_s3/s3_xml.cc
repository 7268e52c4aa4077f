#include "backends/blob_s3/s3_xml.h"

#include <charconv>
#include <cstring>

namespace veza::s3 {
namespace {

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsNameEnd(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Finds the element starting at or after `from`; returns its content and sets *end past it.
std::optional<std::string_view> FindFrom(std::string_view xml, std::string_view name,
                                         std::size_t from, std::size_t* end) {
  std::string open = "<" + std::string(name);
  std::string close = "</" + std::string(name) + ">";
  std::size_t pos = from;
  for (;;) {
    pos = xml.find(open, pos);
    if (pos == std::string_view::npos) return std::nullopt;
    std::size_t after = pos + open.size();
    if (after < xml.size() && IsNameEnd(xml[after])) break;
    pos = after;  // "<KeyCount" while looking for "<Key"
  }
  std::size_t tag_end = xml.find('>', pos);
  if (tag_end == std::string_view::npos) return std::nullopt;
  if (xml[tag_end - 1] == '/') {  // <Name/>
    *end = tag_end + 1;
    return std::string_view();
  }
  std::size_t content_start = tag_end + 1;
  std::size_t close_pos = xml.find(close, content_start);
  if (close_pos == std::string_view::npos) return std::nullopt;
  *end = close_pos + close.size();
  return xml.substr(content_start, close_pos - content_start);
}

bool ParseUint(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseFixed(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> ToUnix(int y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
         mi * 60 + s;
}

std::string Text(std::string_view xml, std::string_view name) {
  std::size_t end = 0;
  auto raw = FindFrom(xml, name, 0, &end);
  return raw ? XmlUnescape(*raw) : std::string();
}

}  // namespace

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '&') {
      out += c;
      continue;
    }
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += c;
      continue;
    }
    std::string_view ref = text.substr(i + 1, semi - i - 1);
    if (ref == "amp")
      out += '&';
    else if (ref == "lt")
      out += '<';
    else if (ref == "gt")
      out += '>';
    else if (ref == "quot")
      out += '"';
    else if (ref == "apos")
      out += '\'';
    else if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
          cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        out += c;
        continue;
      }
      AppendUtf8(out, cp);
    } else {
      out += c;
      continue;
    }
    i = semi;
  }
  return out;
}

std::optional<std::string_view> XmlFindElement(std::string_view xml, std::string_view name) {
  std::size_t end = 0;
  return FindFrom(xml, name, 0, &end);
}

std::vector<std::string_view> XmlFindAll(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    std::size_t end = 0;
    auto found = FindFrom(xml, name, pos, &end);
    if (!found) break;
    out.push_back(*found);
    pos = end;
  }
  return out;
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  if (!XmlFindElement(xml, "ListBucketResult")) {
    return Internal("s3: ListObjectsV2 reply is not a ListBucketResult document");
  }
  ListPage page;
  for (std::string_view contents : XmlFindAll(xml, "Contents")) {
    BlobInfo info;
    info.key = Text(contents, "Key");
    if (info.key.empty()) return Internal("s3: ListObjectsV2 entry without a Key");
    if (!ParseUint(Text(contents, "Size"), info.size)) {
      return Internal("s3: ListObjectsV2 entry with a bad Size");
    }
    info.etag = StripQuotes(Text(contents, "ETag"));
    info.modified_unix = ParseIso8601(Text(contents, "LastModified")).value_or(0);
    page.items.push_back(std::move(info));
  }
  // Entries never hold an IsTruncated or NextContinuationToken, so the first match is the
  // listing's own, wherever S3 puts it relative to the entries.
  std::string truncated = Text(xml, "IsTruncated");
  page.truncated = truncated == "true";
  page.next_token = Text(xml, "NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return Internal("s3: truncated ListObjectsV2 reply without a NextContinuationToken");
  }
  return page;
}

std::optional<S3ErrorBody> ParseErrorBody(std::string_view xml) {
  auto error = XmlFindElement(xml, "Error");
  if (!error) return std::nullopt;
  S3ErrorBody out;
  out.code = Text(*error, "Code");
  out.message = Text(*error, "Message");
  return out;
}

Result<std::string> ParseUploadId(std::string_view xml) {
  auto result = XmlFindElement(xml, "InitiateMultipartUploadResult");
  if (!result) return Internal("s3: CreateMultipartUpload reply without a result");
  std::string id = Text(*result, "UploadId");
  if (id.empty()) return Internal("s3: CreateMultipartUpload reply without an UploadId");
  return id;
}

Result<std::string> ParseCompleteEtag(std::string_view xml) {
  if (auto error = ParseErrorBody(xml)) {
    return Unavailable("s3: CompleteMultipartUpload failed: " + error->code + ": " +
                       error->message);
  }
  auto result = XmlFindElement(xml, "CompleteMultipartUploadResult");
  if (!result) return Internal("s3: CompleteMultipartUpload reply without a result");
  return StripQuotes(Text(*result, "ETag"));
}

std::optional<std::int64_t> ParseIso8601(std::string_view s) {
  // 2009-10-12T17:50:30.000Z
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (!ParseFixed(s, 0, 4, y) || !ParseFixed(s, 5, 2, mo) || !ParseFixed(s, 8, 2, d) ||
      !ParseFixed(s, 11, 2, h) || !ParseFixed(s, 14, 2, mi) || !ParseFixed(s, 17, 2, sec)) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  std::string_view zone = s.substr(i);
  if (zone != "Z" && zone != "z" && zone != "+00:00" && !zone.empty()) return std::nullopt;
  return ToUnix(y, mo, d, h, mi, sec);
}

std::optional<std::int64_t> ParseHttpDate(std::string_view s) {
  // IMF-fixdate: "Wed, 12 Oct 2009 17:50:00 GMT"
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s = s.substr(comma + 2);
  if (s.size() < 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' || s[17] != ':' ||
      s.substr(20) != " GMT") {
    return std::nullopt;
  }
  int d, y, h, mi, sec;
  if (!ParseFixed(s, 0, 2, d) || !ParseFixed(s, 7, 4, y) || !ParseFixed(s, 12, 2, h) ||
      !ParseFixed(s, 15, 2, mi) || !ParseFixed(s, 18, 2, sec)) {
    return std::nullopt;
  }
  int mo = 0;
  for (int i = 0; i < 12; ++i) {
    if (s.substr(3, 3) == kMonths[i]) mo = i + 1;
  }
  if (mo == 0) return std::nullopt;
  return ToUnix(y, mo, d, h, mi, sec);
}

}  // namespace veza::s3
