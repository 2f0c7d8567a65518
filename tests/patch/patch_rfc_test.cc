// The examples of RFC 7644 §3.5.2.1, §3.5.2.2 and §3.5.2.3, request bodies verbatim (whitespace
// normalized; the two path-less examples get back the closing brace the RFC text lost, RFC 7644
// errata ID 8096), applied to the RFC 7643 §8.2 User and a Group.

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

BOOST_AUTO_TEST_SUITE(patch_rfc7644)

// §3.5.2.1: "The following example shows how to add a member to a group."
BOOST_AUTO_TEST_CASE(add_member_to_group) {
  json::Document group = BaseGroup();
  json::Document before = BaseGroup();
  Run run;
  auto r = run(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[
       {
        "op":"add",
        "path":"members",
        "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         }
        ]
       }
     ]
   })json",
               group);
  const PatchOutcome& out = Ok(r);
  BOOST_REQUIRE_EQUAL(out.members.added.size(), 1u);
  BOOST_CHECK_EQUAL(out.members.added[0].value, "2819c223-7f76-453a-919d-413861904646");
  BOOST_CHECK_EQUAL(out.members.added[0].display, "Babs Jensen");
  BOOST_CHECK(!out.members.replace_all);
  BOOST_CHECK(!out.members.remove_all);
  BOOST_CHECK(out.members.removed.empty());
  BOOST_CHECK(out.modified);
  BOOST_CHECK(Contains(out.changed_attributes, "members"));
  // Membership never goes into the resource, and no member list was loaded.
  BOOST_CHECK(group == before);
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// §3.5.2.1: "how to add one or more attributes to a User resource without using a "path"".
constexpr std::string_view kAddWithoutPath = R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"add",
       "value":{
         "emails":[
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
     }}]
   })json";

BOOST_AUTO_TEST_CASE(add_attributes_without_path_value_already_present) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), kAddWithoutPath, user));
  // "If the target location already contains the value specified, no changes SHOULD be made":
  // the home email is not added twice.
  const json::Value& emails = *Get(user, "emails");
  BOOST_REQUIRE_EQUAL(emails.Size(), 2u);
  BOOST_CHECK_EQUAL(Str(emails[1], "value"), "babs@jensen.org");
  // "nickname" is written under the schema's spelling.
  BOOST_CHECK_EQUAL(Str(user, "nickName"), "Babs");
  BOOST_CHECK(Get(user, "nickname") == nullptr);
  BOOST_CHECK(out.modified);
  BOOST_CHECK(Contains(out.changed_attributes, "nickName"));
  BOOST_CHECK(!Contains(out.changed_attributes, "emails"));
}

BOOST_AUTO_TEST_CASE(add_attributes_without_path_appends) {
  json::Document user = PlainUser();
  const PatchOutcome& out = Ok(Patch(UserType(), kAddWithoutPath, user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"value":"babs@jensen.org","type":"home"}])");
  BOOST_CHECK_EQUAL(Str(user, "nickName"), "Babs");
  BOOST_CHECK(Contains(out.changed_attributes, "emails"));
}

BOOST_AUTO_TEST_CASE(add_same_value_again_changes_nothing) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails",
                      "value": [{"value": "babs@jensen.org", "type": "home"}]},
                     {"op": "add", "path": "displayName", "value": "Babs Jensen"}]})json",
                                     user));
  // §3.5.2.1: "Unless other operations change the resource, this operation SHALL NOT change the
  // modify timestamp of the resource."
  BOOST_CHECK(!out.modified);
  BOOST_CHECK(out.changed_attributes.empty());
  BOOST_CHECK(user == before);
}

// §3.5.2.1: "If the target location specifies a complex attribute, a set of sub-attributes SHALL
// be specified" and the existing ones are kept.
BOOST_AUTO_TEST_CASE(add_to_complex_attribute_merges) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "name",
                      "value": {"middleName": "Jane", "givenName": "Babs"}}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "name"), R"({"formatted": "Ms. Barbara J Jensen, III",
      "familyName": "Jensen", "givenName": "Babs", "middleName": "Jane"})");
}

// §3.5.2.2: "The following example shows how to remove a member from a group" (the RFC prints
// the id shortened; it is an opaque string to the server).
BOOST_AUTO_TEST_CASE(remove_single_member) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove",
       "path":"members[value eq \"2819c223-7f76-...413861904646\"]"
     }]
   })json",
                                   group));
  BOOST_REQUIRE_EQUAL(out.members.removed.size(), 1u);
  BOOST_CHECK_EQUAL(out.members.removed[0], "2819c223-7f76-...413861904646");
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK(!out.members.remove_all);
  BOOST_CHECK_EQUAL(run.loads, 0);  // `value eq` needs no member list
}

// §3.5.2.2: "The following example shows how to remove all members of a group."
BOOST_AUTO_TEST_CASE(remove_all_members) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove","path":"members"
     }]
   })json",
                                   group));
  BOOST_CHECK(out.members.remove_all);
  BOOST_CHECK(!out.members.replace_all);
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK(out.members.removed.empty());
  BOOST_CHECK(!out.members.empty());
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// §3.5.2.2: "how to remove a value from a complex multi-valued attribute".
BOOST_AUTO_TEST_CASE(remove_value_of_complex_multi_valued_attribute) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"remove",
       "path":"emails[type eq \"work\" and value ew \"example.com\"]"
     }]
   })json",
                                     user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"value":"babs@jensen.org","type":"home"}])");
  BOOST_CHECK(Contains(out.changed_attributes, "emails"));
}

// §3.5.2.2: "how to replace all of the members of a group with a different members list"
// (remove, then add).
BOOST_AUTO_TEST_CASE(replace_members_by_remove_then_add) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove",
         "path":"members"
       },
       {
         "op":"add",
         "path":"members",
         "value":[
          {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
          },
          {
           "display": "James Smith",
           "$ref":
   "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210",
           "value": "08e1d05d-121c-4561-8b96-473d93df9210"
          }
         ]
       }
     ]
   })json",
                                     group));
  BOOST_CHECK(out.members.remove_all);
  BOOST_CHECK(out.members.removed.empty());
  BOOST_CHECK(
      (Ids(out.members.added) == std::vector<std::string>{"2819c223-7f76-453a-919d-413861904646",
                                                          "08e1d05d-121c-4561-8b96-473d93df9210"}));
}

// §3.5.2.2, the remove-and-add example; the RFC prints `eq\"` without a space.
BOOST_AUTO_TEST_CASE(remove_by_filter_then_add_member) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove",
         "path":"members[value eq\"2819c223...919d-413861904646\"]"
       },
       {
         "op":"add",
         "path":"members",
         "value": [
           {
             "display": "James Smith",
             "$ref":
   "https://example.com/v2/Users/08e1d05d...473d93df9210",
             "value": "08e1d05d...473d93df9210"
           }
         ]
       }
     ]
   })json",
                                     group));
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"2819c223...919d-413861904646"}));
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"08e1d05d...473d93df9210"}));
  BOOST_CHECK(!out.members.remove_all);
}

// §3.5.2.2: "If "path" is unspecified, the operation fails with HTTP status code 400 and a
// "scimType" error code of "noTarget"."
BOOST_AUTO_TEST_CASE(remove_without_path_is_no_target) {
  json::Document user = BaseUser();
  BOOST_CHECK(CodeOf(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "remove"}]})json",
                           user)) == ErrorCode::kNoTarget);
}

BOOST_AUTO_TEST_CASE(remove_single_valued_and_sub_attribute) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "remove", "path": "displayName"},
                     {"op": "remove", "path": "name.givenName"},
                     {"op": "remove", "path": "phoneNumbers"}]})json",
                                     user));
  BOOST_CHECK(Get(user, "displayName") == nullptr);
  BOOST_CHECK(Get(user, "phoneNumbers") == nullptr);
  SCIM_CHECK_JSON(*Get(user, "name"),
                  R"({"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen"})");
  BOOST_CHECK(Contains(out.changed_attributes, "displayName"));
  BOOST_CHECK(Contains(out.changed_attributes, "name"));
  BOOST_CHECK(Contains(out.changed_attributes, "phoneNumbers"));
}

// "If no other values remain after removal of the selected values, the multi-valued attribute
// SHALL be considered unassigned."
BOOST_AUTO_TEST_CASE(remove_last_value_unassigns_attribute) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}]})json",
           user));
  BOOST_CHECK(Get(user, "phoneNumbers") == nullptr);
}

BOOST_AUTO_TEST_CASE(remove_with_filter_matching_nothing_is_a_no_op) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "remove", "path": "emails[type eq \"other\"]"}]})json",
                                     user));
  BOOST_CHECK(!out.modified);
  BOOST_CHECK(user == before);
}

BOOST_AUTO_TEST_CASE(remove_last_extension_attribute_drops_extension) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [
        {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"},
        {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
        {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]})json",
                                     user));
  BOOST_CHECK(Get(user, kEnterprise) == nullptr);
  SCIM_CHECK_JSON(*Get(user, "schemas"), R"(["urn:ietf:params:scim:schemas:core:2.0:User"])");
  BOOST_CHECK(Contains(out.changed_attributes, std::string(kEnterprise) + ":employeeNumber"));
  BOOST_CHECK(Contains(out.changed_attributes, std::string(kEnterprise) + ":manager"));
}

// §3.5.2.3: "how to replace all of the members of a group with a different members list in a
// single replace operation".
BOOST_AUTO_TEST_CASE(replace_members) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"members",
       "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         },
         {
           "display": "James Smith",
           "$ref":
   "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210",
           "value": "08e1d05d-121c-4561-8b96-473d93df9210"
         }
       ]
     }]
   })json",
                                   group));
  BOOST_CHECK(out.members.replace_all);
  BOOST_CHECK(!out.members.remove_all);
  BOOST_CHECK(out.members.removed.empty());
  BOOST_REQUIRE_EQUAL(out.members.added.size(), 2u);
  BOOST_CHECK_EQUAL(out.members.added[1].value, "08e1d05d-121c-4561-8b96-473d93df9210");
  BOOST_CHECK_EQUAL(out.members.added[1].display, "James Smith");
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// §3.5.2.3: "how to change a User's entire "work" address, using a "valuePath" filter".
BOOST_AUTO_TEST_CASE(replace_work_address) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"]",
       "value":
       {
         "type": "work",
         "streetAddress": "911 Universal City Plaza",
         "locality": "Hollywood",
         "region": "CA",
         "postalCode": "91608",
         "country": "US",
         "formatted":
   "911 Universal City Plaza\nHollywood, CA 91608 US",
         "primary": true
       }
     }]
   })json",
                                     user));
  const json::Value& addresses = *Get(user, "addresses");
  BOOST_REQUIRE_EQUAL(addresses.Size(), 2u);
  SCIM_CHECK_JSON(addresses[0], R"({"type": "work", "streetAddress": "911 Universal City Plaza",
      "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US",
      "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true})");
  BOOST_CHECK_EQUAL(Str(addresses[1], "streetAddress"), "456 Hollywood Blvd");
  BOOST_CHECK(Contains(out.changed_attributes, "addresses"));
}

// §3.5.2.3: "how to change a specific sub-attribute "streetAddress" of complex attribute
// "emails" selected by a "valuePath" filter" (the RFC's text says emails; the path is addresses).
BOOST_AUTO_TEST_CASE(replace_street_address_via_filter) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"].streetAddress",
       "value":"1010 Broadway Ave"
     }]
   })json",
           user));
  const json::Value& addresses = *Get(user, "addresses");
  BOOST_CHECK_EQUAL(Str(addresses[0], "streetAddress"), "1010 Broadway Ave");
  BOOST_CHECK_EQUAL(Str(addresses[0], "locality"), "Hollywood");
  BOOST_CHECK_EQUAL(Str(addresses[1], "streetAddress"), "456 Hollywood Blvd");
}

// §3.5.2.3: "how to replace all values of one or more specific attributes of a User resource".
BOOST_AUTO_TEST_CASE(replace_attributes_without_path) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({ "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "value":{
         "emails":[
           {
             "value":"bjensen@example.com",
             "type":"work",
             "primary":true
           },
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
     }}]
   })json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":true},
                      {"value":"babs@jensen.org","type":"home"}])");
  BOOST_CHECK_EQUAL(Str(user, "nickName"), "Babs");
}

BOOST_AUTO_TEST_CASE(replace_multi_valued_replaces_all_values) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "emails",
                      "value": [{"value": "new@example.com", "type": "other"}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"value":"new@example.com","type":"other"}])");
}

// §3.5.2.3: "Sub-attributes that are not specified in the "value" parameter are left unchanged."
BOOST_AUTO_TEST_CASE(replace_complex_singular_keeps_other_sub_attributes) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "name"), R"({"formatted": "Ms. Barbara J Jensen, III",
      "familyName": "Jensen", "givenName": "Babs"})");
}

// §3.5.2.3: "If the target location is a multi-valued attribute for which a value selection
// filter ("valuePath") has been supplied and no record match was made, the service provider SHALL
// indicate failure by returning HTTP status code 400 and a "scimType" error code of "noTarget"."
BOOST_AUTO_TEST_CASE(replace_with_filter_matching_nothing_is_no_target) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  auto r = Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "addresses[type eq \"other\"].locality",
                      "value": "Paris"}]})json",
                 user);
  BOOST_CHECK(CodeOf(r) == ErrorCode::kNoTarget);
  BOOST_CHECK(user == before);
}

// "If the target location path specifies an attribute that does not exist, the service provider
// SHALL treat the operation as an "add"": an attribute with no value at all.
BOOST_AUTO_TEST_CASE(replace_with_filter_on_unassigned_attribute_adds) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value",
                      "value": "w@example.com"}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"type":"work","value":"w@example.com"}])");
}

BOOST_AUTO_TEST_CASE(replace_attribute_that_does_not_exist_adds_it) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "name.familyName", "value": "Jensen"},
                     {"op": "replace", "path": "title", "value": "Tour Guide"}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "name"), R"({"familyName": "Jensen"})");
  BOOST_CHECK_EQUAL(Str(user, "title"), "Tour Guide");
}

// §3.5.2: "a PATCH operation that sets a value's "primary" sub-attribute to "true" SHALL cause the
// server to automatically set "primary" to "false" for any other values in the array."
BOOST_AUTO_TEST_CASE(primary_true_clears_other_primaries_on_add) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "add", "path": "emails",
                      "value": [{"value": "b@example.org", "type": "other", "primary": true}]}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":false},
                      {"value":"babs@jensen.org","type":"home"},
                      {"value":"b@example.org","type":"other","primary":true}])");
}

BOOST_AUTO_TEST_CASE(primary_true_clears_other_primaries_on_filtered_replace) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "emails[type eq \"home\"].primary",
                      "value": true}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"value":"bjensen@example.com","type":"work","primary":false},
                      {"value":"babs@jensen.org","type":"home","primary":true}])");
}

BOOST_AUTO_TEST_CASE(two_primaries_in_one_operation_are_invalid) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  auto r = Patch(UserType(), R"json({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "path": "emails", "value": [
          {"value": "a@example.com", "type": "work", "primary": true},
          {"value": "b@example.com", "type": "home", "primary": true}]}]})json",
                 user);
  BOOST_CHECK(CodeOf(r) == ErrorCode::kInvalidValue);
  BOOST_CHECK(user == before);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
