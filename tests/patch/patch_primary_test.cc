// "primary" on multi-valued attributes: RFC 7643 §2.4 allows "primary": true on at most one value,
// and RFC 7644 §3.5.2 says a PATCH that sets it on one value clears it on the others. These cases
// merge new values into existing ones, where the value that was primary before may be written
// again (merged or re-sent) without being the one the request makes primary.

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

constexpr std::string_view kWorkHomeEmails =
    R"([{"value":"bjensen@example.com","type":"work","primary":false},
        {"value":"babs@jensen.org","type":"home","primary":true}])";

BOOST_AUTO_TEST_SUITE(patch_primary)

// The client re-sends the old primary (merged, no "primary" given) next to the new primary one
// (also merged): the old one must lose "primary", not make the request fail.
BOOST_AUTO_TEST_CASE(add_moving_primary_to_merged_value_while_resending_old_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails", "value": [
          {"value": "babs@jensen.org", "type": "home", "primary": true},
          {"value": "bjensen@example.com", "type": "work"}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), kWorkHomeEmails);
}

// The same with the old primary first and a new value (appended, not merged) made primary.
BOOST_AUTO_TEST_CASE(add_new_primary_value_while_resending_old_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails", "value": [
          {"value": "bjensen@example.com", "type": "work", "display": "Work"},
          {"value": "b@example.org", "type": "other", "primary": true}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":false,
                       "display":"Work"},
                      {"value":"babs@jensen.org","type":"home"},
                      {"value":"b@example.org","type":"other","primary":true}])");
}

// Path-less add (§3.5.2.1 "the target location is assumed to be the resource itself") merges the
// same way.
BOOST_AUTO_TEST_CASE(pathless_add_merging_values_moves_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "value": {"emails": [
          {"value": "bjensen@example.com", "type": "work"},
          {"value": "babs@jensen.org", "type": "home", "primary": "True"}]}}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), kWorkHomeEmails);
}

// One value given twice, primary both times, is one primary value, not two.
BOOST_AUTO_TEST_CASE(add_same_primary_value_twice_is_one_primary) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails", "value": [
          {"value": "a@example.com", "type": "work", "primary": true},
          {"value": "a@example.com", "type": "work", "primary": true}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"a@example.com","type":"work","primary":true}])");
}

// The same, merging into the existing primary value, next to an unrelated new value.
BOOST_AUTO_TEST_CASE(add_existing_primary_value_twice_keeps_it_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails", "value": [
          {"value": "babs@jensen.org", "type": "home", "primary": true},
          {"value": "c@example.org", "type": "other"},
          {"value": "babs@jensen.org", "type": "home", "primary": true}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":false},
                      {"value":"babs@jensen.org","type":"home","primary":true},
                      {"value":"c@example.org","type":"other"}])");
}

// A value set primary and then, later in the same array, not primary ends up not primary and
// the existing primary value keeps its flag.
BOOST_AUTO_TEST_CASE(add_primary_then_not_primary_keeps_old_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails", "value": [
          {"value": "babs@jensen.org", "type": "home", "primary": true},
          {"value": "babs@jensen.org", "type": "home", "primary": false}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":true},
                      {"value":"babs@jensen.org","type":"home","primary":false}])");
}

// Writing a value that is already primary without touching "primary" keeps it primary.
BOOST_AUTO_TEST_CASE(filtered_add_to_old_primary_keeps_it_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails[type pr].display", "value": "x"}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":true,"display":"x"},
                      {"value":"babs@jensen.org","type":"home","display":"x"}])");
}

// A filtered replace of several values, one of them the old primary, while a later operation
// moves primary: each operation leaves one primary.
BOOST_AUTO_TEST_CASE(operations_in_sequence_leave_one_primary) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [
          {"op": "replace", "path": "emails[type pr].display", "value": "x"},
          {"op": "add", "path": "emails", "value": {"value": "c@example.org", "primary": true}},
          {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":false,"display":"x"},
                      {"value":"babs@jensen.org","type":"home","display":"x","primary":true},
                      {"value":"c@example.org","primary":false}])");
}

// Two different values made primary by one operation stay an error (kInvalidValue), as in a PUT
// (schema::NormalizeResource, test PrimaryAtMostOnce), whichever way they are written.
void ExpectTwoPrimariesRejected(std::string_view operation) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  std::string request =
      R"({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [)" +
      std::string(operation) + "]}";
  auto r = Patch(UserType(), request, user);
  BOOST_CHECK_MESSAGE(CodeOf(r) == ErrorCode::kInvalidValue, operation);
  BOOST_CHECK(user == before);
}

BOOST_AUTO_TEST_CASE(two_primaries_by_one_operation_are_invalid) {
  ExpectTwoPrimariesRejected(R"({"op": "add", "path": "emails", "value": [
      {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": true}]})");
  ExpectTwoPrimariesRejected(R"({"op": "add", "path": "emails", "value": [
      {"value": "bjensen@example.com", "type": "work", "primary": true},
      {"value": "babs@jensen.org", "type": "home", "primary": true}]})");
  ExpectTwoPrimariesRejected(R"({"op": "add", "value": {"emails": [
      {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": true}]}})");
  ExpectTwoPrimariesRejected(R"({"op": "replace", "value": {"emails": [
      {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": true}]}})");
  ExpectTwoPrimariesRejected(
      R"({"op": "replace", "path": "emails[type pr].primary", "value": true})");
  ExpectTwoPrimariesRejected(
      R"({"op": "add", "path": "emails[type pr]", "value": {"primary": true}})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
