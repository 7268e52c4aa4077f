#pragma once
// Signed delivery URLs, so <audio> elements, HLS players and CDNs fetch a track's files without
// an Authorization header.
//
// StreamTokens: Veza's own URLs carry "<scope><expires>.<hmac>" as a path segment
// (/api/v1/tracks/{id}/hls/t/{token}/master.m3u8), so relative URIs inside playlists keep the
// token. The MAC is HMAC-SHA256 over "track id|scope|expires" with a secret every node shares
// (instance_settings). Scope 'o' is the owner's (any visibility, the original file too); scope
// 'l' is a listener's and stops working as soon as the track turns private.
//
// CloudFrontSigner: CloudFront signed URLs with a canned policy, exactly as AWS specifies:
// RSA-SHA1 over the policy JSON, base64 with '+' -> '-', '=' -> '_', '/' -> '~'.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ports/database.h"

namespace veza::tracks {

enum class TokenScope { kOwner, kListener };

class StreamTokens {
 public:
  explicit StreamTokens(std::string secret) : secret_(std::move(secret)) {}
  std::string Issue(std::string_view track_id, TokenScope scope, std::int64_t expires_unix) const;
  // The token's scope, or kPermissionDenied when it is malformed, forged, for another track or
  // expired.
  Result<TokenScope> Verify(std::string_view track_id, std::string_view token,
                            std::int64_t now_unix) const;

 private:
  std::string Mac(std::string_view track_id, char scope, std::string_view expires) const;
  std::string secret_;
};

// The shared secret from instance_settings, made by the first node that needs it (nodes starting
// together agree: INSERT ... ON CONFLICT DO NOTHING, then read back).
Result<std::string> LoadOrCreateStreamSecret(Database& db);

class CloudFrontSigner {
 public:
  // base_url: "https://d111111abcdef8.cloudfront.net" (no trailing slash); private_key_pem: the
  // RSA key of the CloudFront key pair (or public key in a key group) named by key_pair_id.
  static Result<std::unique_ptr<CloudFrontSigner>> Create(std::string base_url,
                                                          std::string key_pair_id,
                                                          std::string_view private_key_pem);
  ~CloudFrontSigner();
  // base_url + "/" + path with Expires, Signature and Key-Pair-Id.
  Result<std::string> SignedUrl(std::string_view path, std::int64_t expires_unix) const;
  // The canned policy CloudFront rebuilds from a URL and an expiry.
  static std::string CannedPolicy(std::string_view url, std::int64_t expires_unix);
  // Base64 with CloudFront's URL-safe substitutions.
  static std::string UrlSafeBase64(std::string_view bytes);

 private:
  CloudFrontSigner() = default;
  std::string base_url_, key_pair_id_;
  struct Key;
  std::unique_ptr<Key> key_;
};

}  // namespace veza::tracks
