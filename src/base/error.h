#pragma once
// The one error vocabulary of Veza. Every layer returns these as values; each code maps once
// (src/domain/error_table.cc) to an HTTP status, a gRPC status and a WebSocket error code.
#include <string>
#include <string_view>

namespace veza {

enum class ErrorCode {
  kInvalidArgument,    // malformed or semantically wrong input
  kUnauthenticated,    // no or bad credentials
  kPermissionDenied,   // authenticated, but not allowed
  kNotFound,
  kMethodNotAllowed,
  kConflict,           // already exists, version mismatch
  kPreconditionFailed, // conditional request failed
  kPayloadTooLarge,
  kRangeNotSatisfiable,
  kUnsupportedMediaType,
  kUnprocessable,      // well-formed but cannot be processed (e.g. corrupt audio)
  kRateLimited,
  kUnavailable,        // a dependency is down; retry later
  kTimeout,
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // safe to show to the client: never secrets, never raw SQL

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
};

inline Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
inline Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Error Timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }

}  // namespace veza
