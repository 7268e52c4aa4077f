#pragma once
// HttpFetcher over libcurl (easy interface, one handle per call: calls are rare and slow
// compared with handle setup, and nothing is shared between threads).
#include <memory>

#include "ports/http_fetcher.h"

namespace veza {

std::unique_ptr<HttpFetcher> MakeCurlHttpFetcher();

}  // namespace veza
