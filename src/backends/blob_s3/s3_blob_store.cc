#include "backends/blob_s3/s3_blob_store.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <chrono>
#include <thread>

#include "backends/blob_s3/http_client.h"
#include "backends/blob_s3/s3_options.h"
#include "backends/blob_s3/s3_xml.h"
#include "backends/blob_s3/sigv4.h"
#include "base/log.h"
#include "base/url.h"

namespace veza {
namespace {

namespace http = boost::beast::http;
using s3::HttpResponse;

constexpr int kAttempts = 3;                       // 5xx and transport failures are retried
constexpr std::size_t kErrorBodyLimit = 1 << 20;   // S3 error documents are small
constexpr std::size_t kReplyBodyLimit = 32 << 20;  // a 1000-key listing is a few hundred KB
constexpr std::size_t kMaxParts = 10000;           // an S3 rule

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t total = 0;
};

// "bytes 0-9/1234".
std::optional<ContentRange> ParseContentRange(std::string_view value) {
  auto number = [](std::string_view s, std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  };
  if (!value.starts_with("bytes ")) return std::nullopt;
  value.remove_prefix(6);
  auto dash = value.find('-');
  auto slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) {
    return std::nullopt;
  }
  ContentRange out;
  if (!number(value.substr(0, dash), out.first) ||
      !number(value.substr(dash + 1, slash - dash - 1), out.last) ||
      !number(value.substr(slash + 1), out.total) || out.last < out.first) {
    return std::nullopt;
  }
  return out;
}

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string etag;  // unquoted
  std::string last_modified;
  std::optional<std::uint64_t> content_length;
};

// What every reader, writer and the store share: options, signer and connection pool. Held by
// shared_ptr so a reader or writer outliving its store still works.
class S3Core {
 public:
  explicit S3Core(s3::S3Options options)
      : options_(std::move(options)),
        signer_(options_.credentials, options_.region, "s3"),
        http_(ConnectEndpoint(options_), s3::HttpTimeouts{}),
        host_header_(http_.endpoint().HostHeader()) {}

  const s3::S3Options& options() const { return options_; }

  // "bucket 'b' at https://s3.eu-west-1.amazonaws.com", for messages. Never the credentials.
  std::string Describe() const {
    return "bucket " + Quoted(options_.bucket) + " at " + options_.endpoint.ToString();
  }

  std::string BucketPath() const { return options_.path_style ? "/" + options_.bucket : "/"; }
  std::string ObjectPath(std::string_view key) const {
    std::string out = options_.path_style ? "/" + options_.bucket + "/" : "/";
    out += key;
    return out;
  }

  // A signed request. `headers` are extra headers to sign (lowercase names).
  http::request<http::string_body> Build(http::verb verb, const std::string& path,
                                         const sigv4::Pairs& query, sigv4::Pairs headers = {},
                                         std::string body = {}) const {
    std::string amz_date = sigv4::FormatAmzDate(std::chrono::system_clock::now());
    sigv4::Request signable;
    signable.method = std::string(http::to_string(verb));
    signable.path = path;
    signable.query = query;
    signable.payload_hash = sigv4::Sha256Hex(body);  // bodies are at most one part, in memory
    signable.headers = std::move(headers);
    signable.headers.emplace_back("host", host_header_);
    signable.headers.emplace_back("x-amz-content-sha256", signable.payload_hash);
    signable.headers.emplace_back("x-amz-date", amz_date);
    if (!options_.credentials.session_token.empty()) {
      signable.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
    }
    std::string authorization = signer_.Authorization(signable, amz_date);

    // The target carries exactly the encoding that was signed.
    std::string target = sigv4::UriEncode(path, false);
    std::string query_string = sigv4::CanonicalQueryString(query);
    if (!query_string.empty()) target += "?" + query_string;
    http::request<http::string_body> request{verb, target, 11};
    for (const auto& [name, value] : signable.headers) request.set(name, value);
    request.set(http::field::authorization, authorization);
    request.set(http::field::user_agent, "veza");
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
  }

  // Sends, retrying transport failures and 5xx replies with a short backoff. Returns the
  // response with its header read, whatever its status.
  Result<std::unique_ptr<HttpResponse>> Send(http::request<http::string_body>& request, bool head,
                                             std::string_view what, int attempts) {
    for (int attempt = 1;; ++attempt) {
      auto response = http_.Send(request, head);
      bool transient = !response.ok() || (*response)->status() >= 500;
      if (!transient || attempt >= attempts) {
        if (!response.ok()) {
          Error e = response.take_error();
          return Error{e.code, "s3: " + std::string(what) + ": " + e.message};
        }
        return response;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * (attempt - 1))));
    }
  }

  // Send() and read the whole (small) body; a non-2xx status becomes an error.
  Result<Reply> Execute(http::request<http::string_body>& request, bool head, std::string_view what,
                        int attempts = kAttempts) {
    VEZA_ASSIGN_OR_RETURN(auto response, Send(request, head, what, attempts));
    Reply reply;
    reply.status = response->status();
    bool ok = reply.status / 100 == 2;
    auto body = response->ReadAll(ok ? kReplyBodyLimit : kErrorBodyLimit);
    if (!body.ok()) {
      Error e = body.take_error();
      return Error{e.code, "s3: " + std::string(what) + ": " + e.message};
    }
    reply.body = std::move(*body);
    if (!ok) return ErrorFrom(reply.status, reply.body, what);
    reply.etag = s3::StripQuotes(response->Header("ETag"));
    reply.last_modified = std::string(response->Header("Last-Modified"));
    reply.content_length = response->ContentLength();
    return reply;
  }

  Error ErrorFrom(unsigned status, std::string_view body, std::string_view what) const {
    std::string detail;
    auto parsed = s3::ParseErrorBody(body);
    if (parsed && !parsed->code.empty()) {
      detail = parsed->code;
      if (!parsed->message.empty()) detail += ": " + parsed->message;
    } else if (status == 404) {
      detail = "not found";  // HEAD replies carry no error document
    } else {
      detail = "HTTP " + std::to_string(status);
    }
    std::string message = "s3: " + std::string(what) + ": " + detail;
    switch (status) {
      case 404:
        return {ErrorCode::kNotFound, message};
      case 416:
        return {ErrorCode::kRangeNotSatisfiable, message};
      case 401:
      case 403:
        return {ErrorCode::kPermissionDenied, message};
      case 409:
        return {ErrorCode::kConflict, message};
      case 412:
        return {ErrorCode::kPreconditionFailed, message};
      case 429:
        return {ErrorCode::kUnavailable, message};
      case 301:
      case 307:
        return {ErrorCode::kInternal,
                message + " (is the bucket in another region? set region= in the s3 url)"};
      default:
        return {status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal, message};
    }
  }

  // A ListObjectsV2 request: used by List, and with max-keys=0 as the cheapest check that the
  // endpoint answers, the bucket exists and the credentials are accepted.
  Result<s3::ListPage> ListPage(std::string_view prefix, std::string_view start_after,
                                std::string_view token, std::size_t max_keys, int attempts) {
    sigv4::Pairs query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
    if (!prefix.empty()) query.emplace_back("prefix", std::string(prefix));
    if (!token.empty()) {
      query.emplace_back("continuation-token", std::string(token));
    } else if (!start_after.empty()) {
      query.emplace_back("start-after", std::string(start_after));
    }
    auto request = Build(http::verb::get, BucketPath(), query);
    VEZA_ASSIGN_OR_RETURN(
        Reply reply,
        Execute(request, false, prefix.empty() ? "list" : "list " + Quoted(prefix), attempts));
    return s3::ParseListObjectsV2(reply.body);
  }

  std::string PresignedUrl(std::string_view key, std::chrono::seconds expires) const {
    std::string path = ObjectPath(key);
    std::string amz_date = sigv4::FormatAmzDate(std::chrono::system_clock::now());
    std::string query = signer_.PresignQuery("GET", path, {}, host_header_, amz_date, expires);
    return std::string(options_.endpoint.tls ? "https://" : "http://") + host_header_ +
           sigv4::UriEncode(path, false) + "?" + query;
  }

 private:
  static s3::Endpoint ConnectEndpoint(const s3::S3Options& options) {
    s3::Endpoint endpoint = options.endpoint;
    if (!options.path_style) endpoint.host = options.bucket + "." + endpoint.host;
    return endpoint;
  }

  s3::S3Options options_;
  sigv4::Signer signer_;
  s3::HttpClient http_;
  std::string host_header_;
};

// --- reader ----------------------------------------------------------------------------------

class S3Reader final : public BlobReader {
 public:
  // `length`: the bytes this read must deliver, no more and no fewer.
  S3Reader(std::shared_ptr<S3Core> core, BlobInfo info, std::unique_ptr<HttpResponse> response,
           std::uint64_t length)
      : core_(std::move(core)),
        info_(std::move(info)),
        response_(std::move(response)),
        remaining_(length) {}

  const BlobInfo& Info() const override { return info_; }

  Result<std::string> Read(std::size_t max) override {
    // A body longer than asked for (s3rver answers "bytes=0-0" with the whole object) is cut
    // here; the connection then is not reused, as its response was not read to the end.
    if (remaining_ == 0 || max == 0) return std::string();
    auto chunk =
        response_->ReadSome(static_cast<std::size_t>(std::min<std::uint64_t>(max, remaining_)));
    if (!chunk.ok()) {
      Error e = chunk.take_error();
      return Error{e.code, "s3: read " + Quoted(info_.key) + ": " + e.message};
    }
    if (chunk->empty()) {
      return Unavailable("s3: read " + Quoted(info_.key) + ": body ended " +
                         std::to_string(remaining_) + " bytes early");
    }
    remaining_ -= chunk->size();
    return chunk;
  }

 private:
  std::shared_ptr<S3Core> core_;  // outlives response_, which points into its pool
  BlobInfo info_;
  std::unique_ptr<HttpResponse> response_;
  std::uint64_t remaining_;
};

// --- writer ----------------------------------------------------------------------------------

class S3Writer final : public BlobWriter {
 public:
  S3Writer(std::shared_ptr<S3Core> core, std::string key, std::string content_type)
      : core_(std::move(core)),
        key_(std::move(key)),
        content_type_(std::move(content_type)),
        part_size_(core_->options().part_size) {}

  ~S3Writer() override {
    if (!completed_ && !upload_id_.empty()) Abort();
  }

  Status Write(std::string_view bytes) override {
    if (failed_) return *failed_;
    if (finished_) return Internal("s3: write to " + Quoted(key_) + " after Commit");
    while (!bytes.empty()) {
      // Only flush once more bytes arrive, so an object of exactly one part is a single PUT.
      if (buffer_.size() == part_size_) {
        Status flushed = FlushPart();
        if (!flushed.ok()) return Fail(flushed.take_error());
      }
      std::size_t take = std::min(part_size_ - buffer_.size(), bytes.size());
      if (buffer_.size() + take > buffer_.capacity()) {
        // Grow geometrically but never past one part: memory stays bounded by part_size.
        buffer_.reserve(
            std::min(part_size_, std::max(buffer_.size() + take, 2 * buffer_.capacity())));
      }
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      total_ += take;
    }
    return Ok();
  }

  Result<BlobInfo> Commit() override {
    if (failed_) return *failed_;
    if (finished_) return Internal("s3: Commit of " + Quoted(key_) + " called twice");
    finished_ = true;
    auto etag = upload_id_.empty() ? PutSingle() : CompleteMultipart();
    if (!etag.ok()) return Fail(etag.take_error());
    completed_ = true;
    BlobInfo info;
    info.key = key_;
    info.size = total_;
    info.etag = std::move(*etag);
    info.modified_unix = NowUnix();
    return info;
  }

 private:
  Error Fail(Error error) {
    failed_ = error;
    return error;
  }

  Result<std::string> PutSingle() {
    auto request = core_->Build(http::verb::put, core_->ObjectPath(key_), {},
                                {{"content-type", content_type_}}, std::move(buffer_));
    buffer_ = std::string();
    VEZA_ASSIGN_OR_RETURN(Reply reply, core_->Execute(request, false, "put " + Quoted(key_)));
    return reply.etag;
  }

  Status FlushPart() {
    if (upload_id_.empty()) {
      auto request = core_->Build(http::verb::post, core_->ObjectPath(key_), {{"uploads", ""}},
                                  {{"content-type", content_type_}});
      VEZA_ASSIGN_OR_RETURN(Reply reply,
                            core_->Execute(request, false, "start upload of " + Quoted(key_)));
      VEZA_ASSIGN_OR_RETURN(upload_id_, s3::ParseUploadId(reply.body));
    }
    if (part_etags_.size() >= kMaxParts) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "s3: " + Quoted(key_) + " needs more than 10000 parts; raise part_size"};
    }
    std::string number = std::to_string(part_etags_.size() + 1);
    auto request =
        core_->Build(http::verb::put, core_->ObjectPath(key_),
                     {{"partNumber", number}, {"uploadId", upload_id_}}, {}, std::move(buffer_));
    buffer_ = std::string();
    VEZA_ASSIGN_OR_RETURN(
        Reply reply,
        core_->Execute(request, false, "upload part " + number + " of " + Quoted(key_)));
    if (reply.etag.empty()) return Internal("s3: UploadPart reply without an ETag");
    part_etags_.push_back(std::move(reply.etag));
    return Ok();
  }

  Result<std::string> CompleteMultipart() {
    if (!buffer_.empty()) VEZA_TRY(FlushPart());  // the last part may be short
    std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (std::size_t i = 0; i < part_etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             XmlEscape("\"" + part_etags_[i] + "\"") + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    auto request =
        core_->Build(http::verb::post, core_->ObjectPath(key_), {{"uploadId", upload_id_}},
                     {{"content-type", "application/xml"}}, std::move(xml));
    VEZA_ASSIGN_OR_RETURN(Reply reply,
                          core_->Execute(request, false, "complete upload of " + Quoted(key_)));
    return s3::ParseCompleteEtag(reply.body);
  }

  void Abort() {
    auto request =
        core_->Build(http::verb::delete_, core_->ObjectPath(key_), {{"uploadId", upload_id_}});
    auto reply = core_->Execute(request, false, "abort upload of " + Quoted(key_), 1);
    if (!reply.ok()) {
      // The parts stay billed until a lifecycle rule expires incomplete uploads.
      log::Warn("s3 multipart upload not aborted",
                {{"key", key_}, {"error", reply.error().message}});
    }
  }

  std::shared_ptr<S3Core> core_;
  std::string key_;
  std::string content_type_;
  std::size_t part_size_;
  std::string buffer_;  // at most one part
  std::uint64_t total_ = 0;
  std::string upload_id_;
  std::vector<std::string> part_etags_;  // unquoted
  std::optional<Error> failed_;
  bool finished_ = false;   // Commit was called
  bool completed_ = false;  // the object exists
};

// --- store -----------------------------------------------------------------------------------

class S3BlobStore final : public BlobStore {
 public:
  explicit S3BlobStore(std::shared_ptr<S3Core> core) : core_(std::move(core)) {}

  Result<std::unique_ptr<BlobWriter>> OpenWriter(std::string_view key,
                                                 std::string_view content_type) override {
    VEZA_TRY(ValidateBlobKey(key));
    std::string type(content_type.empty() ? "application/octet-stream" : content_type);
    return std::unique_ptr<BlobWriter>(new S3Writer(core_, std::string(key), std::move(type)));
  }

  Result<std::unique_ptr<BlobReader>> OpenReader(std::string_view key,
                                                 std::optional<ByteRange> range) override {
    VEZA_TRY(ValidateBlobKey(key));
    sigv4::Pairs headers;
    // {0, whole} is no range at all: it must also work on an empty object.
    bool ranged = range && (range->offset != 0 || range->length);
    if (ranged) {
      if (range->length && *range->length == 0) return InvalidArgument("empty byte range");
      std::string value = "bytes=" + std::to_string(range->offset) + "-";
      if (range->length) value += std::to_string(range->offset + *range->length - 1);
      headers.emplace_back("range", std::move(value));
    }
    std::string what = "get " + Quoted(key);
    auto request = core_->Build(http::verb::get, core_->ObjectPath(key), {}, std::move(headers));
    VEZA_ASSIGN_OR_RETURN(auto response, core_->Send(request, false, what, kAttempts));
    unsigned status = response->status();
    if (status != 200 && status != 206) {
      auto body = response->ReadAll(kErrorBodyLimit);
      return core_->ErrorFrom(status, body.ok() ? *body : std::string(), what);
    }
    BlobInfo info;
    info.key = std::string(key);
    info.etag = s3::StripQuotes(response->Header("ETag"));
    info.modified_unix = s3::ParseHttpDate(response->Header("Last-Modified")).value_or(0);
    std::uint64_t length = 0;
    if (status == 206) {
      auto content_range = ParseContentRange(response->Header("Content-Range"));
      if (!content_range || !ranged || content_range->first != range->offset) {
        return Internal("s3: " + what + ": 206 reply with an unexpected Content-Range '" +
                        std::string(response->Header("Content-Range")) + "'");
      }
      info.size = content_range->total;
      if (range->offset >= info.size) {  // S3 says 416 here; some look-alikes do not
        return Error{ErrorCode::kRangeNotSatisfiable, "s3: " + what +
                                                          ": range starts past the end (" +
                                                          std::to_string(info.size) + " bytes)"};
      }
      std::uint64_t end = info.size;  // exclusive
      if (range->length && *range->length < end - range->offset)
        end = range->offset + *range->length;
      length = end - range->offset;
      if (content_range->last + 1 < end) {
        return Internal("s3: " + what + ": the server sent a shorter range than asked for");
      }
    } else {
      if (ranged) return Internal("s3: " + what + ": the server ignored the Range header");
      auto content_length = response->ContentLength();
      if (!content_length) return Internal("s3: " + what + ": reply without a Content-Length");
      info.size = length = *content_length;
    }
    return std::unique_ptr<BlobReader>(
        new S3Reader(core_, std::move(info), std::move(response), length));
  }

  Result<BlobInfo> Stat(std::string_view key) override {
    VEZA_TRY(ValidateBlobKey(key));
    auto request = core_->Build(http::verb::head, core_->ObjectPath(key), {});
    VEZA_ASSIGN_OR_RETURN(Reply reply, core_->Execute(request, true, "stat " + Quoted(key)));
    BlobInfo info;
    info.key = std::string(key);
    info.size = reply.content_length.value_or(0);
    info.etag = std::move(reply.etag);
    info.modified_unix = s3::ParseHttpDate(reply.last_modified).value_or(0);
    return info;
  }

  Status Delete(std::string_view key) override {
    VEZA_TRY(ValidateBlobKey(key));
    auto request = core_->Build(http::verb::delete_, core_->ObjectPath(key), {});
    auto reply = core_->Execute(request, false, "delete " + Quoted(key));
    if (!reply.ok() && reply.error().code != ErrorCode::kNotFound) return reply.take_error();
    return Ok();
  }

  Result<std::vector<BlobInfo>> List(std::string_view prefix, std::string_view start_after,
                                     std::size_t limit) override {
    std::vector<BlobInfo> out;
    std::string token;
    while (out.size() < limit) {
      std::size_t want = std::min(core_->options().list_page_size, limit - out.size());
      VEZA_ASSIGN_OR_RETURN(s3::ListPage page,
                            core_->ListPage(prefix, start_after, token, want, kAttempts));
      for (BlobInfo& info : page.items) {
        // Keys written by other tools may not be valid blob keys; callers could not use them.
        if (out.size() == limit || !ValidateBlobKey(info.key).ok()) continue;
        if (info.key <= start_after || !info.key.starts_with(prefix)) continue;
        out.push_back(std::move(info));
      }
      if (!page.truncated) break;
      token = std::move(page.next_token);
    }
    return out;
  }

  Result<std::optional<std::string>> PresignGet(std::string_view key,
                                                std::chrono::seconds expires) override {
    VEZA_TRY(ValidateBlobKey(key));
    if (expires.count() <= 0 || expires > sigv4::kMaxPresignExpiry) {
      return InvalidArgument("presigned URLs must expire within 1 s .. 7 days");
    }
    return std::optional<std::string>(core_->PresignedUrl(key, expires));
  }

  Status Ping() override {
    auto page = core_->ListPage("", "", "", 0, 1);
    if (!page.ok()) return page.take_error();
    return Ok();
  }

 private:
  std::shared_ptr<S3Core> core_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(std::string_view url) {
  VEZA_ASSIGN_OR_RETURN(s3::S3Options options, s3::ParseS3Url(url, s3::ProcessEnv()));
  auto core = std::make_shared<S3Core>(std::move(options));
  // Fail at startup, not at the first upload: the endpoint must answer, the bucket exist and
  // the credentials be accepted. One attempt, so an unreachable endpoint fails fast.
  auto check = core->ListPage("", "", "", 0, 1);
  if (!check.ok()) {
    Error e = check.take_error();
    return Error{e.code, "s3 blob store: cannot use " + core->Describe() + ": " + e.message};
  }
  log::Info("blob store opened", {{"backend", "s3"},
                                  {"url", RedactUrl(url)},
                                  {"bucket", core->options().bucket},
                                  {"endpoint", core->options().endpoint.ToString()}});
  return std::unique_ptr<BlobStore>(new S3BlobStore(std::move(core)));
}

}  // namespace veza
