// scim::Result<T, E>: a value or an error, scim::Error by default or a module's own error type
// (the adapters' CallError is Result<T, CallError>).

#include "scim/common/result.h"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace scim {
namespace {

// An error type of its own, as a module would define one.
struct TargetError {
  int http_status = 0;
  std::string message;
};

Result<int> Half(int n) {
  if (n % 2 != 0) return Error(ErrorCode::kInvalidValue, "odd");
  return n / 2;
}

Result<std::string, TargetError> Fetch(int status) {
  if (status != 200) return TargetError{status, "HTTP " + std::to_string(status)};
  return std::string("body");
}

Result<void, TargetError> Send(int status) {
  if (status >= 400) return TargetError{status, "refused"};
  return {};
}

// SCIM_TRY and SCIM_RETURN_IF_ERROR: the error goes back to the caller, the value is declared.
Result<int> Quarter(int n, int* steps) {
  SCIM_TRY(int half, Half(n));
  ++*steps;
  SCIM_TRY(const auto quarter, Half(half));
  ++*steps;
  return quarter;
}

Result<std::unique_ptr<int>> Boxed(int n) {
  if (n < 0) return Error(ErrorCode::kInvalidValue, "negative");
  return std::make_unique<int>(n);
}

Result<int> Unbox(int n) {
  SCIM_TRY(auto box, Boxed(n));  // move-only values move out
  return *box;
}

Result<void, TargetError> SendTwice(int first, int second) {
  SCIM_RETURN_IF_ERROR(Send(first));
  SCIM_TRY(std::string body, Fetch(second));  // own error type: passed back as it is
  return body.empty() ? Result<void, TargetError>(TargetError{0, "empty"})
                      : Result<void, TargetError>();
}

BOOST_AUTO_TEST_SUITE(result)

BOOST_AUTO_TEST_CASE(scim_try_returns_the_error_or_declares_the_value) {
  int steps = 0;
  auto q = Quarter(8, &steps);
  BOOST_TEST(q.ok());
  BOOST_TEST(*q == 2);
  BOOST_TEST(steps == 2);
  steps = 0;
  auto odd = Quarter(6, &steps);  // 6 -> 3 -> odd
  BOOST_TEST(!odd.ok());
  BOOST_TEST(odd.error().detail == "odd");
  BOOST_TEST(steps == 1);
  steps = 0;
  BOOST_TEST(!Quarter(5, &steps).ok());
  BOOST_TEST(steps == 0);
  BOOST_TEST(*Unbox(7) == 7);
  BOOST_TEST(Unbox(-1).error().detail == "negative");
}

BOOST_AUTO_TEST_CASE(scim_try_with_own_error_type) {
  BOOST_TEST(SendTwice(204, 200).ok());
  BOOST_TEST(SendTwice(409, 200).error().http_status == 409);
  BOOST_TEST(SendTwice(204, 502).error().http_status == 502);
  BOOST_TEST(SendTwice(204, 502).error().message == "HTTP 502");
}

BOOST_AUTO_TEST_CASE(default_error_type_is_scim_error) {
  static_assert(std::is_same_v<Result<int>, Result<int, Error>>);
  static_assert(std::is_same_v<Status, Result<void, Error>>);
  static_assert(std::is_same_v<Result<int>::error_type, Error>);
  auto ok = Half(4);
  BOOST_TEST(ok.ok());
  BOOST_TEST(static_cast<bool>(ok));
  BOOST_TEST(*ok == 2);
  auto bad = Half(3);
  BOOST_TEST(!bad.ok());
  BOOST_TEST((bad.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(bad.error().detail == "odd");
}

BOOST_AUTO_TEST_CASE(own_error_type_keeps_its_fields) {
  static_assert(std::is_same_v<Result<std::string, TargetError>::error_type, TargetError>);
  auto ok = Fetch(200);
  BOOST_TEST(ok.ok());
  BOOST_TEST(ok->size() == 4u);
  BOOST_TEST(*ok == "body");
  auto bad = Fetch(503);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.error().http_status == 503);
  BOOST_TEST(bad.error().message == "HTTP 503");
}

BOOST_AUTO_TEST_CASE(void_with_own_error_type) {
  BOOST_TEST(Send(204).ok());
  Result<void, TargetError> refused = Send(409);
  BOOST_TEST(!refused.ok());
  BOOST_TEST(!static_cast<bool>(refused));
  BOOST_TEST(refused.error().http_status == 409);
}

BOOST_AUTO_TEST_CASE(values_and_errors_move_out) {
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(owned).value();
  BOOST_TEST(*taken == 7);
  Result<std::vector<int>, TargetError> list = std::vector<int>{1, 2, 3};
  std::vector<int> moved = *std::move(list);
  BOOST_TEST(moved.size() == 3u);
  TargetError e = Fetch(500).error();
  BOOST_TEST(e.message == "HTTP 500");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim
