#pragma once
// Result<T>: a value or an Error, in the spirit of absl::StatusOr. Status is Result<void>.
// Callers must look at it ([[nodiscard]]).

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "scim/common/error.h"

namespace scim {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(data_); }
  const T& value() const& { assert(ok()); return std::get<0>(data_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace scim

// Returns the error of a failed Status/Result from the enclosing function.
#define SCIM_RETURN_IF_ERROR(expr)              \
  do {                                          \
    auto scim_status_ = (expr);                 \
    if (!scim_status_.ok()) return scim_status_.error(); \
  } while (0)
