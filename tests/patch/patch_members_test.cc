// Group membership: operations on `members` become a MemberDelta (never written into the
// resource); the current member list is loaded only for filters other than `value eq`.

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

std::string Ops(std::string_view operations) {
  return R"({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": )" +
         std::string(operations) + "}";
}

Run WithMembers() {
  Run run;
  run.members = {{"u1", "User", "Babs Jensen"},
                 {"u2", "User", "James Smith"},
                 {"g1", "Group", "Tour Guides EU"},
                 {"g2", "Group", "Tour Guides US"}};
  return run;
}

BOOST_AUTO_TEST_SUITE(patch_members)

BOOST_AUTO_TEST_CASE(remove_by_other_filter_loads_members_once) {
  json::Document group = BaseGroup();
  Run run = WithMembers();
  const PatchOutcome& out = Ok(run(GroupType(), Ops(R"([
      {"op": "remove", "path": "members[type eq \"Group\"]"},
      {"op": "remove", "path": "members[display co \"smith\"]"}])"),
                                   group));
  BOOST_CHECK_EQUAL(run.loads, 1);
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"g1", "g2", "u2"}));
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK(!out.members.remove_all);
}

BOOST_AUTO_TEST_CASE(filters_see_the_earlier_operations_of_the_request) {
  json::Document group = BaseGroup();
  Run run = WithMembers();
  const PatchOutcome& out = Ok(run(GroupType(), Ops(R"([
      {"op": "add", "path": "members", "value": [{"value": "g9", "type": "Group"},
                                                 {"value": "u9", "type": "User"}]},
      {"op": "remove", "path": "members[value eq \"g1\"]"},
      {"op": "remove", "path": "members[type eq \"Group\"]"}])"),
                                   group));
  // g9 was added by this request and removed again; g1 was already removed.
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"u9"}));
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"g1", "g2", "g9"}));
}

BOOST_AUTO_TEST_CASE(add_then_remove_and_remove_then_add) {
  json::Document group = BaseGroup();
  Run run;
  const PatchOutcome& out = Ok(run(GroupType(), Ops(R"([
      {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
      {"op": "remove", "path": "members[value eq \"a\"]"},
      {"op": "remove", "path": "members", "value": [{"value": "c"}]},
      {"op": "add", "path": "members", "value": {"value": "c", "display": "C"}}])"),
                                   group));
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"b", "c"}));
  BOOST_CHECK_EQUAL(out.members.added[1].display, "C");
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"a"}));
  BOOST_CHECK_EQUAL(run.loads, 0);
}

BOOST_AUTO_TEST_CASE(duplicates_are_added_once) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), Ops(R"([
      {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "a", "type": "User"}]},
      {"op": "add", "path": "members", "value": [{"value": "a"}]}])"),
                                     group));
  BOOST_REQUIRE_EQUAL(out.members.added.size(), 1u);
  BOOST_CHECK_EQUAL(out.members.added[0].type, "User");
}

BOOST_AUTO_TEST_CASE(remove_all_then_add) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), Ops(R"([
      {"op": "remove", "path": "members[value eq \"x\"]"},
      {"op": "remove", "path": "members"},
      {"op": "add", "path": "members", "value": [{"value": "a"}]}])"),
                                     group));
  BOOST_CHECK(out.members.remove_all);
  BOOST_CHECK(!out.members.replace_all);
  BOOST_CHECK(out.members.removed.empty());
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"a"}));
}

BOOST_AUTO_TEST_CASE(replace_then_remove) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), Ops(R"([
      {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
      {"op": "remove", "path": "members[value eq \"a\"]"}])"),
                                     group));
  BOOST_CHECK(out.members.replace_all);
  BOOST_CHECK(out.members.removed.empty());
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"b"}));
}

BOOST_AUTO_TEST_CASE(replace_with_empty_list_empties_the_group) {
  json::Document group = BaseGroup();
  const PatchOutcome& out =
      Ok(Patch(GroupType(), Ops(R"([{"op": "replace", "path": "members", "value": []}])"), group));
  BOOST_CHECK(out.members.replace_all);
  BOOST_CHECK(out.members.added.empty());
  BOOST_CHECK(!out.members.empty());
  BOOST_CHECK(out.modified);
}

BOOST_AUTO_TEST_CASE(pathless_values_with_members) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), Ops(R"([
      {"op": "add", "value": {"members": [{"value": "a", "type": "User"}],
                              "displayName": "Guides"}},
      {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group": {
                                  "displayName": "Tour Guides"}}}])"),
                                     group));
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"a"}));
  BOOST_CHECK_EQUAL(out.members.added[0].type, "User");
  BOOST_CHECK(Get(group, "members") == nullptr);
  // displayName went to "Guides" and back: unchanged overall.
  BOOST_CHECK_EQUAL(Str(group, "displayName"), "Tour Guides");
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"displayName", "members"}));

  json::Document other = BaseGroup();
  const PatchOutcome& replaced = Ok(Patch(
      GroupType(), Ops(R"([{"op": "replace", "value": {"members": [{"value": "z"}]}}])"), other));
  BOOST_CHECK(replaced.members.replace_all);
}

BOOST_AUTO_TEST_CASE(replace_selected_member) {
  json::Document group = BaseGroup();
  Run run = WithMembers();
  const PatchOutcome& out = Ok(run(GroupType(), Ops(R"([
      {"op": "replace", "path": "members[value eq \"u1\"]",
       "value": {"value": "u7", "display": "New"}}])"),
                                   group));
  BOOST_CHECK_EQUAL(run.loads, 1);
  BOOST_CHECK((out.members.removed == std::vector<std::string>{"u1"}));
  BOOST_CHECK((Ids(out.members.added) == std::vector<std::string>{"u7"}));

  // §3.5.2.3: no match → noTarget.
  json::Document other = BaseGroup();
  Run again = WithMembers();
  BOOST_CHECK(CodeOf(again(GroupType(), Ops(R"([
      {"op": "replace", "path": "members[value eq \"nobody\"]", "value": {"value": "u7"}}])"),
                           other)) == ErrorCode::kNoTarget);
}

BOOST_AUTO_TEST_CASE(members_is_not_a_user_attribute) {
  json::Document user = BaseUser();
  BOOST_CHECK(CodeOf(Patch(UserType(), Ops(R"([
      {"op": "add", "path": "members", "value": [{"value": "u1"}]}])"),
                           user)) == ErrorCode::kInvalidPath);
}

BOOST_AUTO_TEST_CASE(no_member_operation_no_member_change) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(
      GroupType(), Ops(R"([{"op": "replace", "path": "displayName", "value": "X"}])"), group));
  BOOST_CHECK(out.members.empty());
  BOOST_CHECK(!Contains(out.changed_attributes, "members"));
}

// The scimd Group extension (organization/store mapping), path-less with its URN.
BOOST_AUTO_TEST_CASE(group_extension_attributes) {
  json::Document group = BaseGroup();
  const PatchOutcome& out = Ok(Patch(GroupType(), Ops(R"([
      {"op": "add", "value": {"urn:scimd:params:scim:schemas:extension:2.0:Group": {
          "kind": "store", "location": "Paris"}}}])"),
                                     group));
  SCIM_CHECK_JSON(*Get(group, "urn:scimd:params:scim:schemas:extension:2.0:Group"),
                  R"({"kind": "store", "location": "Paris"})");
  SCIM_CHECK_JSON(*Get(group, "schemas"),
                  R"(["urn:ietf:params:scim:schemas:core:2.0:Group",
                      "urn:scimd:params:scim:schemas:extension:2.0:Group"])");
  BOOST_CHECK(
      Contains(out.changed_attributes, "urn:scimd:params:scim:schemas:extension:2.0:Group:kind"));
}

// canonicalValues are stored in the schema's spelling, as a POST or PUT stores them (found by
// tests/fuzz/fuzz_patch: PATCH stored "Organization" where PUT stores "organization"); the
// suggested "type" values of multi-valued attributes keep the client's spelling, as in PUT.
BOOST_AUTO_TEST_CASE(canonical_values_in_the_schema_spelling) {
  json::Document group = BaseGroup();
  Ok(Patch(GroupType(), Ops(R"([{"op": "add", "value": "Organization",
      "path": "urn:scimd:params:scim:schemas:extension:2.0:Group:kind"}])"),
           group));
  SCIM_CHECK_JSON(*Get(group, "urn:scimd:params:scim:schemas:extension:2.0:Group"),
                  R"({"kind": "organization"})");
  const PatchOutcome& same = Ok(Patch(GroupType(), Ops(R"([{"op": "replace",
      "value": {"urn:scimd:params:scim:schemas:extension:2.0:Group": {"kind": "ORGANIZATION"}}}])"),
                                      group));
  BOOST_CHECK(!same.modified);

  json::Document user = PlainUser();
  Ok(Patch(UserType(), Ops(R"([{"op": "add", "path": "emails",
      "value": [{"value": "a@example.com", "type": "Work"}]}])"),
           user));
  SCIM_CHECK_JSON(*Get(user, "emails"), R"([{"value": "a@example.com", "type": "Work"}])");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
