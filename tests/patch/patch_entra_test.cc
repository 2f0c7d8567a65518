// Requests Microsoft Entra ID sends, as Microsoft documents them:
//   [tutorial] "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID",
//     https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
//     (section "User operations" / "Group operations": Update User [Multi-valued properties],
//     Update User [Single-valued properties], Disable User, Update Group [Add Members],
//     Update Group [Remove Members], Update Group [Non-member attributes]);
//   [known issues] "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//     Microsoft Entra user provisioning service",
//     https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
//     (the "old" and "new" request forms of the PATCH fixes);
//   [errata 8097] https://www.rfc-editor.org/errata/eid8097 (Entra's add on
//     emails[type eq "work"].value creating the element).

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

BOOST_AUTO_TEST_SUITE(patch_entra)

// [tutorial] Update User [Multi-valued properties]: capitalised "Replace", value filter path.
BOOST_AUTO_TEST_CASE(update_user_multi_valued_properties) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
            {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": "updatedEmail@microsoft.com"
            },
            {
            "op": "Replace",
            "path": "name.familyName",
            "value": "updatedFamilyName"
            }
    ]
})json",
                                     user));
  const json::Value& emails = *Get(user, "emails");
  BOOST_CHECK_EQUAL(Str(emails[0], "value"), "updatedEmail@microsoft.com");
  BOOST_CHECK_EQUAL(Str(emails[0], "type"), "work");
  BOOST_CHECK_EQUAL(Str(emails[1], "value"), "babs@jensen.org");
  BOOST_CHECK_EQUAL(Str(*Get(user, "name"), "familyName"), "updatedFamilyName");
  BOOST_CHECK_EQUAL(Str(*Get(user, "name"), "givenName"), "Barbara");
  BOOST_CHECK(Contains(out.changed_attributes, "emails"));
  BOOST_CHECK(Contains(out.changed_attributes, "name"));
}

// [tutorial] Update User [Single-valued properties].
BOOST_AUTO_TEST_CASE(update_user_single_valued_properties) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    }]
})json",
           user));
  BOOST_CHECK_EQUAL(Str(user, "userName"), "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com");
}

// [tutorial] Disable User.
BOOST_AUTO_TEST_CASE(disable_user) {
  json::Document user = PlainUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": false
        }
    ],
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ]
})json",
                                     user));
  BOOST_REQUIRE(Get(user, "active") != nullptr);
  BOOST_CHECK(Get(user, "active")->IsBool() && !Get(user, "active")->GetBool());
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"active"}));
}

// [known issues] booleans sent as strings ("False"/"True"), stored as JSON booleans.
BOOST_AUTO_TEST_CASE(boolean_sent_as_string) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})json",
           user));
  BOOST_CHECK(Get(user, "active")->IsBool() && !Get(user, "active")->GetBool());
  Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"},
                   {"op": "Replace", "value": {"active": "True"}}]})json",
           user));
  BOOST_CHECK(Get(user, "active")->IsBool() && Get(user, "active")->GetBool());
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"type":"work","primary":true}])");
}

// [known issues] "old" form: a single-valued attribute sent as [{"value": ...}].
BOOST_AUTO_TEST_CASE(old_single_value_array_form) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {
      "op": "Add",
      "path": "nickName",
      "value": [
        {
          "value": "Babs"
        }
      ]
    }
  ]
})json",
           user));
  BOOST_CHECK_EQUAL(Str(user, "nickName"), "Babs");
}

// [known issues] "new" form of the same request.
BOOST_AUTO_TEST_CASE(new_single_value_form) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {
      "op": "add",
      "path": "nickName",
      "value": "Babs"
    }
  ]
})json",
           user));
  BOOST_CHECK_EQUAL(Str(user, "nickName"), "Babs");
}

// [known issues] path-less replace whose keys are paths: dotted sub-attributes, a value filter
// and a full extension URN key.
BOOST_AUTO_TEST_CASE(pathless_replace_with_path_keys) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(UserType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {
      "op": "replace",
      "value": {
        "displayName": "Pvlo",
        "emails[type eq \"work\"].value": "TestBcwqnm@test.microsoft.com",
        "name.givenName": "Gtfd",
        "name.familyName": "Pkqf",
        "externalId": "Eqpj",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Eqpj"
      }
    }
  ]
})json",
                                     user));
  BOOST_CHECK_EQUAL(Str(user, "displayName"), "Pvlo");
  BOOST_CHECK_EQUAL(Str((*Get(user, "emails"))[0], "value"), "TestBcwqnm@test.microsoft.com");
  BOOST_CHECK_EQUAL(Str(*Get(user, "name"), "givenName"), "Gtfd");
  BOOST_CHECK_EQUAL(Str(*Get(user, "name"), "familyName"), "Pkqf");
  BOOST_CHECK_EQUAL(Str(user, "externalId"), "Eqpj");
  BOOST_CHECK_EQUAL(Str(*Get(user, kEnterprise), "employeeNumber"), "Eqpj");
  BOOST_CHECK_EQUAL(Str(*Get(user, kEnterprise), "department"), "Tour Operations");
  // No stray keys with dots or URNs at the top level.
  BOOST_CHECK(Get(user, "name.givenName") == nullptr);
  BOOST_CHECK(
      Get(user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber") ==
      nullptr);
  for (const char* name : {"displayName", "emails", "name", "externalId"}) {
    BOOST_CHECK_MESSAGE(Contains(out.changed_attributes, name), name);
  }
  BOOST_CHECK(Contains(out.changed_attributes, std::string(kEnterprise) + ":employeeNumber"));
}

// [known issues] the same request in its "old" form: one Replace per attribute.
BOOST_AUTO_TEST_CASE(replace_multiple_attributes_old_form) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {"op": "Replace", "path": "displayName", "value": "Pvlo"},
    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
    {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
    {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
    {"op": "Replace", "path": "externalId", "value": "Eqpj"},
    {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj"}
  ]
})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"),
                  R"([{"type": "work", "value": "TestBcwqnm@test.microsoft.com"}])");
  SCIM_CHECK_JSON(*Get(user, kEnterprise), R"({"employeeNumber": "Eqpj"})");
  // Writing the first enterprise attribute lists the extension in "schemas".
  SCIM_CHECK_JSON(*Get(user, "schemas"),
                  R"(["urn:ietf:params:scim:schemas:core:2.0:User",
                      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"])");
}

// An extension URN key whose value is an object of that extension's attributes; the enterprise
// manager sent as a bare id (wrapped into {"value": id}).
BOOST_AUTO_TEST_CASE(pathless_add_with_extension_object_and_manager_id) {
  json::Document user = PlainUser();
  Ok(Patch(UserType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {"op": "Add", "value": {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
          "department": "Sales", "costCenter": "4130"}}},
    {"op": "Add",
     "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
     "value": "26118915-6090-4610-87e4-49d8ca9f808d"}
  ]
})json",
           user));
  SCIM_CHECK_JSON(*Get(user, kEnterprise),
                  R"({"department": "Sales", "costCenter": "4130",
                      "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})");
  BOOST_CHECK_EQUAL(Get(user, "schemas")->Size(), 2u);
}

// [errata 8097] add on emails[type eq "work"].value when the user has no work email creates
// {"type": "work", "value": ...}; with a work email present, its value is set.
BOOST_AUTO_TEST_CASE(add_on_filtered_sub_attribute_creates_element) {
  json::Document user = PlainUser();
  constexpr std::string_view kRequest = R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Add", "path": "emails[type eq \"work\"].value",
                    "value": "example@email.com"}]})json";
  Ok(Patch(UserType(), kRequest, user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"type": "work", "value": "example@email.com"}])");

  json::Document other = BaseUser();
  Ok(Patch(UserType(), kRequest, other));
  const json::Value& emails = *Get(other, "emails");
  BOOST_REQUIRE_EQUAL(emails.Size(), 2u);
  BOOST_CHECK_EQUAL(Str(emails[0], "value"), "example@email.com");
  BOOST_CHECK(emails[0]["primary"].GetBool());
}

// [tutorial] Update Group [Add Members] ("$ref": null is accepted).
BOOST_AUTO_TEST_CASE(update_group_add_members) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
})json",
                                     group));
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"f648f8d5ea4e4cd38e9c"}));
  BOOST_CHECK(Get(group, "members") == nullptr);
}

// [tutorial] Update Group [Remove Members]: remove with a `value` array (the pre-2020 form, still
// sent by the customappsso job).
BOOST_AUTO_TEST_CASE(update_group_remove_members_by_value_array) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
})json",
                                   group));
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"f648f8d5ea4e4cd38e9c"}));
  BOOST_CHECK(!out.members.remove_all);
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// [known issues] "new" member removal: a value filter on members.
BOOST_AUTO_TEST_CASE(remove_member_by_filter) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), R"json({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [
    {
      "op": "remove",
      "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"
    }
  ]
})json",
                                   group));
  BOOST_CHECK(
      (out.members.removed == std::vector<std::string>{"7f4bc1a3-285e-48ae-8202-5accb43efb0e"}));
  BOOST_CHECK_EQUAL(run.loads, 0);
}

// [tutorial] Update Group [Non-member attributes].
BOOST_AUTO_TEST_CASE(update_group_non_member_attributes) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    }]
})json",
                                     group));
  BOOST_CHECK_EQUAL(Str(group, "displayName"),
                    "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
  BOOST_CHECK(out.members.empty());
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"displayName"}));
}

// Attribute names are case-insensitive (RFC 7643 §2.1); the resource keeps the schema's spelling.
BOOST_AUTO_TEST_CASE(case_insensitive_attribute_names) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Replace", "path": "UserName", "value": "babs@example.com"},
                   {"op": "Replace", "path": "NAME.GIVENNAME", "value": "Babs"},
                   {"op": "Replace", "path": "Emails[Type eq \"WORK\"].Value", "value": "x@example.com"},
                   {"op": "Replace", "value": {"DisplayName": "B. Jensen"}}]})json",
           user));
  BOOST_CHECK_EQUAL(Str(user, "userName"), "babs@example.com");
  BOOST_CHECK(Get(user, "UserName") == nullptr);
  BOOST_CHECK_EQUAL(Str(*Get(user, "name"), "givenName"), "Babs");
  BOOST_CHECK_EQUAL(Str((*Get(user, "emails"))[0], "value"), "x@example.com");
  BOOST_CHECK_EQUAL(Str(user, "displayName"), "B. Jensen");
}

// Entra clears an attribute with a Remove of the filtered `value`: the element goes.
BOOST_AUTO_TEST_CASE(remove_filtered_value_removes_element) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), R"json({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Remove", "path": "emails[type eq \"work\"].value"}]})json",
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"value":"babs@jensen.org","type":"home"}])");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
