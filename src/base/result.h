#pragma once
// Result<T>: a value or an Error, returned across layers instead of throwing (LevelDB's Status,
// with a payload). Default-constructible so it can travel through Asio completion handlers.
#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "base/error.h"

namespace veza {

template <class T>
class [[nodiscard]] Result {
 public:
  Result() : v_(Error{ErrorCode::kInternal, "result not set"}) {}
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *error_; }
  Error&& take_error() { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;
inline Status Ok() { return {}; }

}  // namespace veza

// Propagates an error from an expression returning Result/Status.
#define VEZA_TRY(expr)                                  \
  do {                                                  \
    auto&& veza_try_result_ = (expr);                   \
    if (!veza_try_result_.ok()) return veza_try_result_.take_error(); \
  } while (0)

#define VEZA_CONCAT_INNER(a, b) a##b
#define VEZA_CONCAT(a, b) VEZA_CONCAT_INNER(a, b)
// VEZA_ASSIGN_OR_RETURN(auto x, Fn()); assigns the value or returns the error.
#define VEZA_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto VEZA_CONCAT(veza_res_, __LINE__) = (expr);                          \
  if (!VEZA_CONCAT(veza_res_, __LINE__).ok())                              \
    return VEZA_CONCAT(veza_res_, __LINE__).take_error();                  \
  lhs = std::move(VEZA_CONCAT(veza_res_, __LINE__)).value()
