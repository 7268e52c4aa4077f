#include "backends/blob_s3/s3_options.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <cstdlib>

namespace veza::s3 {
namespace {

bool ValidBucketName(std::string_view name) {
  // AWS's rules are stricter (3..63, lowercase); S3-compatible servers and legacy buckets are
  // not, so accept what is safe in a host name or a path segment.
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::size_t> ParseSize(std::string_view text) {
  std::size_t multiplier = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        multiplier = 1u << 10;
        break;
      case 'm':
      case 'M':
        multiplier = 1u << 20;
        break;
      case 'g':
      case 'G':
        multiplier = 1u << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  std::size_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return InvalidArgument("s3 url: expected a number, got '" + std::string(text) + "'");
  }
  return value * multiplier;
}

Result<bool> ParseBool(std::string_view name, std::string_view value) {
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  return InvalidArgument("s3 url: " + std::string(name) + " must be true or false");
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return InvalidArgument("s3 url: endpoint '" + std::string(text) + "' is not a URL");
  boost::urls::url_view u = *parsed;
  Endpoint endpoint;
  if (u.scheme() == "https") {
    endpoint.tls = true;
  } else if (u.scheme() != "http") {
    return InvalidArgument("s3 url: endpoint must be http:// or https://");
  }
  endpoint.host = u.host_address();
  if (endpoint.host.empty()) return InvalidArgument("s3 url: endpoint has no host");
  if (u.has_userinfo())
    return InvalidArgument("s3 url: put credentials before the bucket, not in the endpoint");
  std::string_view path = u.encoded_path();
  if (!path.empty() && path != "/") {
    return InvalidArgument("s3 url: endpoint must not have a path");
  }
  if (u.has_query()) return InvalidArgument("s3 url: endpoint must not have a query");
  endpoint.port = u.has_port() ? std::string(u.port()) : (endpoint.tls ? "443" : "80");
  if (endpoint.port.empty()) endpoint.port = endpoint.tls ? "443" : "80";
  return endpoint;
}

Result<S3Options> ParseS3Url(std::string_view url, const EnvLookup& env) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "s3") {
    return InvalidArgument("s3 url must look like s3://bucket?endpoint=...&region=...");
  }
  boost::urls::url_view u = *parsed;
  S3Options options;
  options.bucket = u.host();
  if (!ValidBucketName(options.bucket)) {
    return InvalidArgument("s3 url: '" + options.bucket + "' is not a valid bucket name");
  }
  std::string_view path = u.encoded_path();
  if (!path.empty() && path != "/") {
    return InvalidArgument("s3 url: a key prefix after the bucket is not supported");
  }

  std::optional<std::string> endpoint_text;
  std::optional<bool> path_style;
  for (auto param : u.params()) {
    if (param.key == "endpoint") {
      endpoint_text = param.value;
    } else if (param.key == "region") {
      if (param.value.empty()) return InvalidArgument("s3 url: region is empty");
      options.region = param.value;
    } else if (param.key == "path_style") {
      VEZA_ASSIGN_OR_RETURN(bool value, ParseBool(param.key, param.value));
      path_style = value;
    } else if (param.key == "part_size") {
      VEZA_ASSIGN_OR_RETURN(options.part_size, ParseSize(param.value));
      if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
        return InvalidArgument("s3 url: part_size must be between 5 MiB and 5 GiB");
      }
    } else if (param.key == "list_page_size") {
      VEZA_ASSIGN_OR_RETURN(options.list_page_size, ParseSize(param.value));
      if (options.list_page_size < 1 || options.list_page_size > 1000) {
        return InvalidArgument("s3 url: list_page_size must be between 1 and 1000");
      }
    } else {
      return InvalidArgument("s3 url: unknown option '" + param.key + "'");
    }
  }

  if (endpoint_text) {
    VEZA_ASSIGN_OR_RETURN(options.endpoint, ParseEndpoint(*endpoint_text));
    options.path_style = path_style.value_or(true);
  } else {
    options.endpoint = Endpoint{true, "s3." + options.region + ".amazonaws.com", "443"};
    options.path_style = path_style.value_or(false);
  }

  if (u.has_userinfo()) {
    options.credentials.access_key_id = u.user();
    options.credentials.secret_access_key = u.password();
    if (options.credentials.access_key_id.empty() ||
        options.credentials.secret_access_key.empty()) {
      return InvalidArgument("s3 url: credentials in the URL must be ACCESS_KEY_ID:SECRET@");
    }
  } else {
    options.credentials.access_key_id = env("AWS_ACCESS_KEY_ID").value_or("");
    options.credentials.secret_access_key = env("AWS_SECRET_ACCESS_KEY").value_or("");
    options.credentials.session_token = env("AWS_SESSION_TOKEN").value_or("");
    if (options.credentials.access_key_id.empty() ||
        options.credentials.secret_access_key.empty()) {
      return InvalidArgument(
          "s3: no credentials: put them in the URL (s3://ACCESS_KEY_ID:SECRET@bucket) or set "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
  }
  return options;
}

}  // namespace veza::s3
