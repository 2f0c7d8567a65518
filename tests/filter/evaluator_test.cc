// Evaluator tests over the RFC 7643 §8.2 example user and a few hand-made resources.
#include "scim/filter/evaluator.h"

#include <boost/test/unit_test.hpp>

#include "filter/test_registry.h"
#include "scim/common/json.h"
#include "scim/filter/parser.h"
#include "support/test_json.h"

namespace scim::filter {
namespace {

using testing::TypeOf;
using testing::WidgetRegistry;

const char* kUser = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
           "givenName": "Barbara", "middleName": "Jane"},
  "displayName": "Babs Jensen",
  "nickName": "",
  "title": "Tour Guide",
  "userType": "Employee",
  "active": true,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"type": "mobile"}, {}],
  "ims": [],
  "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides",
              "type": "direct"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  },
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
           "lastModified": "2011-05-13T04:42:34Z",
           "version": "W/\"3694e05e9dff591\""}
})json";

const char* kWidget = R"json({
  "id": "w1",
  "code": "AbC-1",
  "count": 10,
  "score": 2.5,
  "enabled": false,
  "since": "2020-06-01T12:00:00+02:00",
  "blob": "AAEC",
  "tags": ["Red", "green", ""],
  "nums": [1, 5, 9],
  "parts": [
    {"value": "bolt", "kind": "Metal", "weight": 3, "at": "2021-01-01T00:00:00Z", "primary": true},
    {"value": "nut", "kind": "metal", "weight": 7}
  ],
  "spec": {"size": 1.5},
  "urn:scimd:test:schemas:extension:2.0:Widget": {"level": 4, "owner": {"value": "o1"}},
  "meta": {"resourceType": "Widget", "created": "2020-01-01T00:00:00.000Z",
           "lastModified": "2020-01-02T00:00:00.000Z"}
})json";

json::Document Doc(const char* text) { return scim::testing::ParseJson(text); }

bool Eval(std::string_view filter, const char* resource, std::string_view type = "User") {
  const auto& registry = WidgetRegistry();
  auto bound = ParseAndBind(filter, registry, TypeOf(registry, type));
  BOOST_TEST_REQUIRE(bound.ok(), filter << ": " << (bound.ok() ? "" : bound.error().detail));
  json::Document doc = Doc(resource);
  return Matches(*bound, doc);
}

bool User(std::string_view filter) { return Eval(filter, kUser); }
bool Widget(std::string_view filter) { return Eval(filter, kWidget, "Widget"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(filter_evaluator)

BOOST_AUTO_TEST_CASE(string_equality_respects_case_exact) {
  BOOST_TEST(User("userName eq \"BJENSEN@example.com\""));  // caseExact false
  BOOST_TEST(!User("userName eq \"bjensen\""));
  BOOST_TEST(User("externalId eq \"701984\""));
  BOOST_TEST(User("id eq \"2819c223-7f76-453a-919d-413861904646\""));
  BOOST_TEST(!User("id eq \"2819C223-7F76-453A-919D-413861904646\""));  // id is caseExact
  BOOST_TEST(Widget("code eq \"AbC-1\""));
  BOOST_TEST(!Widget("code eq \"abc-1\""));
  BOOST_TEST(Widget("code co \"bC\""));
  BOOST_TEST(!Widget("code co \"bc\""));
}

BOOST_AUTO_TEST_CASE(substring_operators_are_literal) {
  BOOST_TEST(User("userName sw \"BJEN\""));
  BOOST_TEST(User("userName ew \"@EXAMPLE.com\""));
  BOOST_TEST(User("userName co \"N@EX\""));
  BOOST_TEST(!User("userName co \"%\""));
  BOOST_TEST(!User("userName sw \"b_ensen\""));
  BOOST_TEST(!User("userName co \"*\""));
  BOOST_TEST(User("userName co \"\""));
  BOOST_TEST(User("name.familyName sw \"\""));
}

BOOST_AUTO_TEST_CASE(ordering) {
  BOOST_TEST(User("userName gt \"A\""));
  BOOST_TEST(User("userName gt \"BJENSEN\""));  // case-folded
  BOOST_TEST(!User("userName lt \"bjensen\""));
  BOOST_TEST(User("title ge \"tour guide\""));
  BOOST_TEST(User("title le \"tour guide\""));
  BOOST_TEST(Widget("code lt \"a\""));  // caseExact: 'A' < 'a'
  BOOST_TEST(Widget("count gt 9"));
  BOOST_TEST(!Widget("count gt 10"));
  BOOST_TEST(Widget("count ge 10"));
  BOOST_TEST(Widget("score lt 2.6"));
  BOOST_TEST(Widget("score eq 2.50"));
  BOOST_TEST(Widget("count eq 1e1"));
  BOOST_TEST(Widget("nums gt 8"));
  BOOST_TEST(!Widget("nums gt 9"));
  BOOST_TEST(Widget("nums lt 2 and nums gt 8"));  // different values may satisfy each part
}

BOOST_AUTO_TEST_CASE(datetimes_compare_chronologically) {
  BOOST_TEST(User("meta.lastModified gt \"2011-05-13T04:42:33Z\""));
  BOOST_TEST(User("meta.lastModified eq \"2011-05-13T06:42:34+02:00\""));
  BOOST_TEST(User("meta.lastModified eq \"2011-05-13T04:42:34.000Z\""));
  BOOST_TEST(!User("meta.lastModified gt \"2011-05-13T04:42:34Z\""));
  BOOST_TEST(User("meta.created lt \"2011-01-01T00:00:00Z\""));
  BOOST_TEST(Widget("since eq \"2020-06-01T10:00:00Z\""));
  BOOST_TEST(Widget("since lt \"2020-06-01T10:00:00.001Z\""));
  BOOST_TEST(Widget("parts[at ge \"2021-01-01T00:00:00Z\"]"));
}

BOOST_AUTO_TEST_CASE(booleans) {
  BOOST_TEST(User("active eq true"));
  BOOST_TEST(!User("active eq false"));
  BOOST_TEST(User("active ne false"));
  BOOST_TEST(Widget("enabled eq false"));
  BOOST_TEST(User("emails[primary eq true and type eq \"work\"]"));
  BOOST_TEST(!User("emails[primary eq true and type eq \"home\"]"));
}

BOOST_AUTO_TEST_CASE(multi_valued_any_value) {
  BOOST_TEST(User("emails co \"jensen.org\""));
  BOOST_TEST(User("emails.value ew \".org\""));
  BOOST_TEST(User("emails.type eq \"home\""));
  BOOST_TEST(Widget("tags eq \"RED\""));
  BOOST_TEST(Widget("tags eq \"Green\""));
  BOOST_TEST(!Widget("tags eq \"blue\""));
  BOOST_TEST(Widget("parts.kind eq \"metal\""));
  BOOST_TEST(User("groups.value eq \"E9E30DBA-f08f-4109-8486-d5c6a331660a\""));  // caseExact false
  BOOST_TEST(User("groups eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\""));
}

BOOST_AUTO_TEST_CASE(value_paths_match_within_one_element) {
  BOOST_TEST(User("emails[type eq \"work\" and value co \"@example.com\"]"));
  BOOST_TEST(!User("emails[type eq \"work\" and value co \"jensen.org\"]"));
  BOOST_TEST(User("emails.type eq \"work\" and emails.value co \"jensen.org\""));  // across
  BOOST_TEST(User("emails[type eq \"home\" or value eq \"nobody\"]"));
  BOOST_TEST(User("emails[not (type eq \"work\")]"));
  BOOST_TEST(!User("emails[not (value pr)]"));
  // phoneNumbers[1] has a type but no value; phoneNumbers[2] is empty and does not count.
  BOOST_TEST(User("phoneNumbers[not (value pr)]"));
  BOOST_TEST(!User("phoneNumbers[not (type pr)]"));
  BOOST_TEST(!User("ims[not (type pr)]"));
  BOOST_TEST(Widget("parts[kind eq \"Metal\" and weight lt 5]"));
  BOOST_TEST(!Widget("parts[kind eq \"metal\" and weight lt 5]"));
  BOOST_TEST(
      User("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value sw "
           "\"2611\"]"));
  BOOST_TEST(Widget("urn:scimd:test:schemas:extension:2.0:Widget:owner[value eq \"O1\"]"));
}

BOOST_AUTO_TEST_CASE(presence) {
  BOOST_TEST(User("title pr"));
  BOOST_TEST(!User("nickName pr"));  // ""
  BOOST_TEST(!User("locale pr"));    // absent
  BOOST_TEST(User("name pr"));
  BOOST_TEST(User("emails pr"));
  BOOST_TEST(!User("ims pr"));  // []
  BOOST_TEST(User("phoneNumbers.value pr"));
  BOOST_TEST(User("meta.lastModified pr"));
  BOOST_TEST(!User("x509Certificates pr"));
  BOOST_TEST(Widget("enabled pr"));  // false is a value
  BOOST_TEST(Widget("tags pr"));
  BOOST_TEST(Widget("spec pr"));
  BOOST_TEST(!Widget("spec.label pr"));
  BOOST_TEST(User("employeeNumber pr"));
  BOOST_TEST(User("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"));
  BOOST_TEST(!User("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"));
}

BOOST_AUTO_TEST_CASE(ne_matches_absent_attributes) {
  BOOST_TEST(User("title ne \"Boss\""));
  BOOST_TEST(!User("title ne \"tour guide\""));
  BOOST_TEST(User("locale ne \"en\""));          // absent: does not equal
  BOOST_TEST(!User("emails.type ne \"home\""));  // some value equals
  BOOST_TEST(User("emails.type ne \"other\""));
  BOOST_TEST(User("locale eq null"));
  BOOST_TEST(User("title ne null"));
}

BOOST_AUTO_TEST_CASE(logic_and_precedence) {
  BOOST_TEST(User("title pr and userType eq \"Employee\""));
  BOOST_TEST(User("locale pr or userType eq \"Employee\""));
  BOOST_TEST(User("userType eq \"Intern\" or title pr and active eq true"));
  BOOST_TEST(!User("(userType eq \"Intern\" or title pr) and active eq false"));
  BOOST_TEST(
      User("userType ne \"Employee\" or not (emails co \"example.com\" and emails co "
           "\"example.org\")"));
}

BOOST_AUTO_TEST_CASE(type_mismatches_never_match) {
  const char* odd = R"json({"id": "w2", "count": "10", "enabled": "true", "code": 5,
                             "since": "not a date"})json";
  BOOST_TEST(!Eval("count eq 10", odd, "Widget"));
  BOOST_TEST(!Eval("enabled eq true", odd, "Widget"));
  BOOST_TEST(!Eval("code eq \"5\"", odd, "Widget"));
  BOOST_TEST(!Eval("since lt \"2100-01-01T00:00:00Z\"", odd, "Widget"));
  BOOST_TEST(Eval("count ne 10", odd, "Widget"));
}

BOOST_AUTO_TEST_CASE(member_names_are_case_insensitive) {
  const char* odd = R"json({"ID": "x", "USERNAME": "Alice", "Name": {"GIVENNAME": "Al"},
    "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"EmployeeNumber": "7"}})json";
  BOOST_TEST(Eval("userName eq \"alice\"", odd));
  BOOST_TEST(Eval("name.givenName eq \"al\"", odd));
  BOOST_TEST(Eval("employeeNumber eq \"7\"", odd));
}

BOOST_AUTO_TEST_CASE(matches_element_for_patch) {
  const auto& registry = WidgetRegistry();
  const auto& user = TypeOf(registry, "User");
  auto path = ParsePath("emails[type eq \"work\" and not (value ew \".org\")].value");
  BOOST_TEST_REQUIRE(path.ok());
  auto bound = BindPath(*path, registry, user);
  BOOST_TEST_REQUIRE(bound.ok());
  json::Document doc = Doc(kUser);
  const auto& emails = doc["emails"].GetArray();
  BOOST_TEST(MatchesElement(*bound->value_filter, emails[0]));
  BOOST_TEST(!MatchesElement(*bound->value_filter, emails[1]));
  json::Document empty = Doc("{}");
  BOOST_TEST(!MatchesElement(*bound->value_filter, empty));
  json::Document not_object = Doc("[1]");
  BOOST_TEST(!MatchesElement(*bound->value_filter, not_object));

  auto members = ParsePath("members[value eq \"2819C223\"]");
  BOOST_TEST_REQUIRE(members.ok());
  auto mb = BindPath(*members, registry, TypeOf(registry, "Group"));
  BOOST_TEST_REQUIRE(mb.ok());
  json::Document member = Doc(R"({"value": "2819c223", "type": "User"})");
  BOOST_TEST(MatchesElement(*mb->value_filter, member));  // members.value is not caseExact
  // not(...) on an element lacking the attribute matches, as for resources.
  auto nt = ParsePath("emails[not (type eq \"work\")]");
  auto nb = BindPath(*nt, registry, user);
  BOOST_TEST_REQUIRE(nb.ok());
  json::Document no_type = Doc(R"({"value": "x@y"})");
  BOOST_TEST(MatchesElement(*nb->value_filter, no_type));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::filter
