// Requests Okta sends, as documented in "Okta and SCIM Version 2.0" (SCIM 2.0 protocol
// reference), https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
// (sections "Update a specific User (PATCH)", "Update a specific Group name",
// "Update specific Group membership").

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

json::Document OktaGroup() {
  return Json(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
    "displayName": "Test SCIMv2",
    "meta": {"resourceType": "Group"}
  })");
}

BOOST_AUTO_TEST_SUITE(patch_okta)

// "Update a specific User (PATCH)": deactivation.
BOOST_AUTO_TEST_CASE(deactivate_user) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "replace",
            "value": {
                "active": false
            }
        }
    ]
})json",
                                     user));
  BOOST_CHECK(Get(user, "active")->IsBool() && !Get(user, "active")->GetBool());
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"active"}));
  BOOST_CHECK(out.modified);
}

// Deactivating an already inactive user changes nothing (Okta retries).
BOOST_AUTO_TEST_CASE(deactivate_inactive_user_is_not_a_modification) {
  json::Document user = BaseUser();
  constexpr std::string_view kRequest = R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "replace", "value": {"active": false}}]})json";
  Ok(Patch(UserType(), kRequest, user));
  const PatchOutcome& again = Ok(Patch(UserType(), kRequest, user));
  BOOST_CHECK(!again.modified);
  BOOST_CHECK(again.changed_attributes.empty());
}

// "Update a specific Group name": the path-less value carries the group's own id, which is
// readOnly; sending the value it already has is accepted.
BOOST_AUTO_TEST_CASE(update_group_name) {
  json::Document group = OktaGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Test SCIMv2 renamed"
        }
    }]
})json",
                                     group));
  BOOST_CHECK_EQUAL(Str(group, "displayName"), "Test SCIMv2 renamed");
  BOOST_CHECK_EQUAL(Str(group, "id"), "abf4dd94-a4c0-4f67-89c9-76b03340cb9b");
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"displayName"}));
}

// "Update specific Group membership": add.
BOOST_AUTO_TEST_CASE(add_group_member) {
  json::Document group = OktaGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "add",
        "path": "members",
        "value": [{
            "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "display": "test.user@okta.local"
        }]
    }]
})json",
                                   group));
  BOOST_REQUIRE_EQUAL(out.members.added.size(), 1u);
  BOOST_CHECK_EQUAL(out.members.added[0].value, "23a35c27-23d3-4c03-b4c5-6443c09e7173");
  BOOST_CHECK_EQUAL(out.members.added[0].display, "test.user@okta.local");
  BOOST_CHECK(out.members.added[0].type.empty());
  BOOST_CHECK(Get(group, "members") == nullptr);
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// "Update specific Group membership": remove.
BOOST_AUTO_TEST_CASE(remove_group_member) {
  json::Document group = OktaGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "remove",
        "path": "members[value eq \"23a35c27-23d3-4c03-b4c5-6443c09e7173\"]"
    }]
})json",
                                   group));
  BOOST_CHECK(
      (out.members.removed == std::vector<std::string>{"23a35c27-23d3-4c03-b4c5-6443c09e7173"}));
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// Group push can also send a rename together with membership changes in one request.
BOOST_AUTO_TEST_CASE(rename_and_change_members_in_one_request) {
  json::Document group = OktaGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
      {"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
                                  "displayName": "Ops"}},
      {"op": "add", "path": "members", "value": [{"value": "u1", "display": "one@okta.local"}]},
      {"op": "remove", "path": "members[value eq \"u2\"]"}]})json",
                                     group));
  BOOST_CHECK_EQUAL(Str(group, "displayName"), "Ops");
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"u1"}));
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"u2"}));
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"displayName", "members"}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
