#include "domain/error_table.h"

namespace veza {

const ErrorWireForms& WireForms(ErrorCode code) {
  // grpc codes: OK=0 INVALID_ARGUMENT=3 DEADLINE_EXCEEDED=4 NOT_FOUND=5 ALREADY_EXISTS=6
  // PERMISSION_DENIED=7 RESOURCE_EXHAUSTED=8 FAILED_PRECONDITION=9 OUT_OF_RANGE=11
  // UNIMPLEMENTED=12 INTERNAL=13 UNAVAILABLE=14 UNAUTHENTICATED=16
  static const ErrorWireForms kInvalid{400, "Bad Request", 3, 4000};
  static const ErrorWireForms kUnauth{401, "Unauthorized", 16, 4001};
  static const ErrorWireForms kDenied{403, "Forbidden", 7, 4003};
  static const ErrorWireForms kNotFound{404, "Not Found", 5, 4004};
  static const ErrorWireForms kMethod{405, "Method Not Allowed", 12, 4005};
  static const ErrorWireForms kConflict{409, "Conflict", 6, 4009};
  static const ErrorWireForms kPrecondition{412, "Precondition Failed", 9, 4012};
  static const ErrorWireForms kTooLarge{413, "Content Too Large", 8, 4013};
  static const ErrorWireForms kRange{416, "Range Not Satisfiable", 11, 4016};
  static const ErrorWireForms kMedia{415, "Unsupported Media Type", 3, 4015};
  static const ErrorWireForms kUnprocessable{422, "Unprocessable Content", 3, 4022};
  static const ErrorWireForms kRate{429, "Too Many Requests", 8, 4029};
  static const ErrorWireForms kUnavailable{503, "Service Unavailable", 14, 5003};
  static const ErrorWireForms kTimeout{504, "Gateway Timeout", 4, 5004};
  static const ErrorWireForms kInternal{500, "Internal Server Error", 13, 5000};
  switch (code) {
    case ErrorCode::kInvalidArgument: return kInvalid;
    case ErrorCode::kUnauthenticated: return kUnauth;
    case ErrorCode::kPermissionDenied: return kDenied;
    case ErrorCode::kNotFound: return kNotFound;
    case ErrorCode::kMethodNotAllowed: return kMethod;
    case ErrorCode::kConflict: return kConflict;
    case ErrorCode::kPreconditionFailed: return kPrecondition;
    case ErrorCode::kPayloadTooLarge: return kTooLarge;
    case ErrorCode::kRangeNotSatisfiable: return kRange;
    case ErrorCode::kUnsupportedMediaType: return kMedia;
    case ErrorCode::kUnprocessable: return kUnprocessable;
    case ErrorCode::kRateLimited: return kRate;
    case ErrorCode::kUnavailable: return kUnavailable;
    case ErrorCode::kTimeout: return kTimeout;
    case ErrorCode::kInternal: return kInternal;
  }
  return kInternal;
}

}  // namespace veza
