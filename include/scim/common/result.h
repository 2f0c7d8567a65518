#pragma once
// Result<T, E>: a value or an error, in the spirit of absl::StatusOr / std::expected. The error
// type is scim::Error unless a module needs its own (adapters: CallError, which keeps the HTTP
// status and Retry-After a delivery decision needs). Status is Result<void>. Callers must look at
// it ([[nodiscard]]).

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "scim/common/error.h"

namespace scim {

template <class T, class E = Error>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, std::decay_t<E>>,
                "a Result's value and error types must differ");

 public:
  using value_type = T;
  using error_type = E;

  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(E error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& {
    assert(!ok());
    return std::get<1>(data_);
  }
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

 private:
  std::variant<T, E> data_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  Result(E error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const& {
    assert(!ok());
    return *error_;
  }
  E&& error() && {
    assert(!ok());
    return std::move(*error_);
  }

 private:
  std::optional<E> error_;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace scim

// Returns the error of a failed Status/Result from the enclosing function (the void form of
// SCIM_TRY).
#define SCIM_RETURN_IF_ERROR(expr)                       \
  do {                                                   \
    auto scim_status_ = (expr);                          \
    if (!scim_status_.ok()) return scim_status_.error(); \
  } while (0)

// SCIM_TRY(declaration, expr): evaluates `expr` (a Result); when it failed, returns its error
// from the enclosing function; otherwise declares `declaration` with the value moved out:
//   SCIM_TRY(auto user, store.Get(id));   // user is the T of Result<T>
//   SCIM_TRY(const auto& rows, LoadRows());
// It expands to statements (standard C++, no statement expression), so it is used where a
// declaration may stand, not as a sub-expression or the body of an unbraced if.
#define SCIM_TRY_CONCAT_INNER_(a, b) a##b
#define SCIM_TRY_CONCAT_(a, b) SCIM_TRY_CONCAT_INNER_(a, b)
#define SCIM_TRY_IMPL_(result, declaration, expr)     \
  auto result = (expr);                               \
  if (!result.ok()) return std::move(result).error(); \
  declaration = std::move(result).value()
#define SCIM_TRY(declaration, expr) \
  SCIM_TRY_IMPL_(SCIM_TRY_CONCAT_(scim_try_result_, __LINE__), declaration, expr)
