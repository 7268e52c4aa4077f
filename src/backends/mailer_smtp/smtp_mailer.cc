#include "backends/mailer_smtp/smtp_mailer.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstring>
#include <ctime>
#include <mutex>

namespace veza {
namespace {

constexpr long kConnectTimeoutMs = 5000;
constexpr long kTotalTimeoutMs = 30000;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

struct Settings {
  std::string server;  // smtp://host:port
  std::string host;
  std::string user;
  std::string password;
  std::string from;
  bool starttls = false;
};

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string Base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// RFC 2047 encoded word for non-ASCII subjects.
std::string HeaderText(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  return "=?UTF-8?B?" + Base64(s) + "?=";
}

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The message in RFC 5322 form with CRLF line ends; libcurl does the dot-stuffing.
std::string Render(const Settings& s, const MailMessage& m) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string domain = s.from.substr(s.from.find('@') + 1);
  std::string out;
  out += "Date: " + std::string(date) + "\r\n";
  out += "From: " + s.from + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + HeaderText(m.subject) + "\r\n";
  out += "Message-ID: <" + RandomHex(16) + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  for (std::size_t i = 0; i < m.text_body.size(); ++i) {
    char c = m.text_body[i];
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

struct Reader {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t ReadCallback(char* buffer, std::size_t size, std::size_t nitems, void* userdata) {
  auto* r = static_cast<Reader*>(userdata);
  std::size_t n = std::min(size * nitems, r->data.size() - r->pos);
  std::memcpy(buffer, r->data.data() + r->pos, n);
  r->pos += n;
  return n;
}

std::size_t Discard(char*, std::size_t size, std::size_t nmemb, void*) { return size * nmemb; }

class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(Settings s) : s_(std::move(s)) {}

  Status Send(const MailMessage& m) override {
    VEZA_TRY(ValidateMailMessage(m));
    CurlPtr curl(curl_easy_init());
    if (!curl) return Internal("smtp: cannot start libcurl");
    Configure(curl.get());
    std::string data = Render(s_, m);
    Reader reader{data};
    std::string from = "<" + s_.from + ">";
    SlistPtr rcpt(curl_slist_append(nullptr, ("<" + m.to + ">").c_str()));
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, ReadCallback);
    curl_easy_setopt(curl.get(), CURLOPT_READDATA, &reader);
    curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
    return Perform(curl.get(), "send");
  }

  Status Ping() override {
    CurlPtr curl(curl_easy_init());
    if (!curl) return Internal("smtp: cannot start libcurl");
    Configure(curl.get());
    // Without MAIL_RCPT or upload, libcurl runs one command after EHLO, then QUIT.
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, "NOOP");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
    return Perform(curl.get(), "ping");
  }

 private:
  void Configure(CURL* c) const {
    curl_easy_setopt(c, CURLOPT_URL, s_.server.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kTotalTimeoutMs);
    if (s_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!s_.user.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, s_.user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, s_.password.c_str());
    }
  }

  Status Perform(CURL* c, std::string_view what) const {
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) return Ok();
    long response = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
    std::string msg = "smtp " + std::string(what) + " via " + s_.host + ": " + curl_easy_strerror(rc);
    if (response != 0) msg += " (server replied " + std::to_string(response) + ")";
    // A permanent (5xx) refusal of a message is about the message (e.g. the recipient).
    if (what == "send" && response >= 500 && response < 600) return InvalidArgument(msg);
    return Unavailable(msg);
  }

  Settings s_;
};

}  // namespace

Result<std::unique_ptr<Mailer>> OpenSmtpMailer(std::string_view url) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "smtp" || parsed->host().empty()) {
    return InvalidArgument("smtp: URL must look like smtp://[user:pass@]host:port?from=ADDRESS[&starttls=true]");
  }
  Settings s;
  s.host = std::string(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "25";
  s.server = "smtp://" + std::string(parsed->encoded_host()) + ":" + port;
  if (parsed->has_userinfo()) {
    s.user = std::string(parsed->user());
    s.password = std::string(parsed->password());
  }
  for (auto p : parsed->params()) {
    if (p.key == "from") {
      s.from = p.value;
    } else if (p.key == "starttls") {
      if (p.value != "true" && p.value != "false") return InvalidArgument("smtp: starttls must be true or false");
      s.starttls = p.value == "true";
    } else {
      return InvalidArgument("smtp: unknown option '" + std::string(p.key) + "' (known: from, starttls)");
    }
  }
  if (!ValidateMailMessage({s.from, "", ""}).ok()) {
    return InvalidArgument("smtp: the from option must be one address, e.g. from=noreply@example.com");
  }
  auto mailer = std::make_unique<SmtpMailer>(std::move(s));
  VEZA_TRY(mailer->Ping());
  return std::unique_ptr<Mailer>(std::move(mailer));
}

}  // namespace veza
