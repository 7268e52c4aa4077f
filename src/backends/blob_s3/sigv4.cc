#include "backends/blob_s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace veza::sigv4 {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and collapses runs of spaces into one, as the canonical-headers rule says
// (the "get-header-value-trim" vector collapses spaces inside quotes too).
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string UriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQueryString(const Pairs& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k, true), UriEncode(v, true));
  // Sorted by encoded name, then by encoded value (repeated names: "get-vanilla-query-order-*").
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

CanonicalRequest BuildCanonicalRequest(const Request& request) {
  // Lowercased names, sorted; repeated names joined with ',' in their original order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string& joined = headers[ToLower(name)];
    if (!joined.empty()) joined += ',';
    joined += CanonicalHeaderValue(value);
  }
  CanonicalRequest out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name;
    canonical_headers += ':';
    canonical_headers += value;
    canonical_headers += '\n';
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  std::string path = request.path.empty() ? "/" : UriEncode(request.path, false);
  out.text.reserve(256);
  out.text += request.method;
  out.text += '\n';
  out.text += path;
  out.text += '\n';
  out.text += CanonicalQueryString(request.query);
  out.text += '\n';
  out.text += canonical_headers;
  out.text += '\n';
  out.text += out.signed_headers;
  out.text += '\n';
  out.text += request.payload_hash;
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

Signer::Signer(Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string Signer::Scope(std::string_view amz_date) const {
  std::string out(amz_date.substr(0, 8));
  out += '/';
  out += region_;
  out += '/';
  out += service_;
  out += "/aws4_request";
  return out;
}

std::string Signer::SigningKey(std::string_view date) const {
  std::string k_date = HmacSha256("AWS4" + credentials_.secret_access_key, date);
  std::string k_region = HmacSha256(k_date, region_);
  std::string k_service = HmacSha256(k_region, service_);
  return HmacSha256(k_service, "aws4_request");
}

std::string Signer::Sign(std::string_view amz_date, std::string_view canonical_request) const {
  std::string to_sign = StringToSign(amz_date, Scope(amz_date), canonical_request);
  return HexEncode(HmacSha256(SigningKey(amz_date.substr(0, 8)), to_sign));
}

std::string Signer::Authorization(const Request& request, std::string_view amz_date) const {
  CanonicalRequest canonical = BuildCanonicalRequest(request);
  std::string out(kAlgorithm);
  out += " Credential=";
  out += credentials_.access_key_id;
  out += '/';
  out += Scope(amz_date);
  out += ", SignedHeaders=";
  out += canonical.signed_headers;
  out += ", Signature=";
  out += Sign(amz_date, canonical.text);
  return out;
}

std::string Signer::PresignQuery(std::string_view method, std::string_view path, const Pairs& query,
                                 std::string_view host, std::string_view amz_date,
                                 std::chrono::seconds expires) const {
  Request request;
  request.method = std::string(method);
  request.path = std::string(path);
  request.query = query;
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential",
                             credentials_.access_key_id + "/" + Scope(amz_date));
  request.query.emplace_back("X-Amz-Date", std::string(amz_date));
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  // For S3 the session token is a signed query parameter, not a header.
  if (!credentials_.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  request.query.emplace_back("X-Amz-SignedHeaders", "host");
  request.headers = {{"host", std::string(host)}};
  request.payload_hash = std::string(kUnsignedPayload);
  CanonicalRequest canonical = BuildCanonicalRequest(request);
  std::string out = CanonicalQueryString(request.query);
  out += "&X-Amz-Signature=";
  out += Sign(amz_date, canonical.text);
  return out;
}

}  // namespace veza::sigv4
