#include "backends/http_curl/curl_http_fetcher.h"

#include <curl/curl.h>

#include <mutex>

namespace veza {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

struct Sink {
  std::string* body;
  std::size_t max;
  bool overflow = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

class CurlHttpFetcher final : public HttpFetcher {
 public:
  CurlHttpFetcher() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<FetchResponse> Fetch(const FetchRequest& request) override {
    if (request.url.rfind("https://", 0) != 0 && request.url.rfind("http://", 0) != 0) {
      return InvalidArgument("only http:// and https:// URLs can be fetched");
    }
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Internal("libcurl could not start");
    CURL* c = curl.get();
    FetchResponse out;
    Sink sink{&out.body, request.max_response_bytes};
    curl_slist* list = nullptr;
    for (const auto& [name, value] : request.headers)
      list = curl_slist_append(list, (name + ": " + value).c_str());
    std::unique_ptr<curl_slist, SlistDeleter> headers(list);
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<long long>(5000, request.timeout.count())));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "veza");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.max_response_bytes));
    if (request.method == "POST") {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
      return InvalidArgument("only GET and POST can be fetched");
    }
    CURLcode rc = curl_easy_perform(c);
    if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "the answer from " + Origin(request.url) + " is too large"};
    }
    if (rc != CURLE_OK) {
      return Unavailable("cannot fetch from " + Origin(request.url) + ": " +
                         curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
    char* type = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr)
      out.content_type = type;
    return out;
  }

 private:
  // scheme://host[:port] only: paths and queries may carry codes.
  static std::string Origin(const std::string& url) {
    std::size_t start = url.find("://");
    if (start == std::string::npos) return "?";
    std::size_t end = url.find_first_of("/?#", start + 3);
    return url.substr(0, end);
  }
};

}  // namespace

std::unique_ptr<HttpFetcher> MakeCurlHttpFetcher() { return std::make_unique<CurlHttpFetcher>(); }

}  // namespace veza
