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

BOOST_AUTO_TEST_SUITE(result)

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
