#pragma once
// The one place each ErrorCode meets its wire forms.
#include <string_view>

#include "base/error.h"

namespace veza {

struct ErrorWireForms {
  int http_status;           // RFC 9457 problem+json status
  std::string_view title;    // short, human, stable
  int grpc_code;             // grpc::StatusCode value
  int ws_code;               // error frame code in docs/websocket.md
};

const ErrorWireForms& WireForms(ErrorCode code);

}  // namespace veza
