// Every error ApplyPatch returns, and atomicity: a failing operation leaves the resource as it was
// (RFC 7644 §3.5.2: "If a single operation encounters an error condition, the original SCIM
// resource MUST be restored, and a failure status SHALL be returned").

#include <boost/test/unit_test.hpp>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

// A resource type with immutable attributes and every simple type (the core User and Group
// schemas have no immutable top-level attribute).
const schema::Registry& DeviceRegistry() {
  static const std::shared_ptr<const schema::Registry> registry = [] {
    auto loaded = schema::Registry::LoadFromTexts({{"device.json", R"({
          "id": "urn:test:params:scim:schemas:core:2.0:Device", "name": "Device",
          "attributes": [
            {"name": "name", "type": "string", "required": true},
            {"name": "serial", "type": "string", "mutability": "immutable"},
            {"name": "firmware", "type": "complex", "subAttributes": [
              {"name": "version", "type": "string"},
              {"name": "builtAt", "type": "dateTime", "mutability": "immutable"}]},
            {"name": "lastSeen", "type": "dateTime"},
            {"name": "ports", "type": "integer", "multiValued": true},
            {"name": "score", "type": "decimal"},
            {"name": "certified", "type": "boolean"}
          ]})"},
                                                   {"types.json", R"({
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
          "id": "Device", "name": "Device", "endpoint": "/Devices",
          "schema": "urn:test:params:scim:schemas:core:2.0:Device"})"}});
    if (!loaded.ok()) BOOST_FAIL("device schema: " + loaded.error().detail);
    return *loaded;
  }();
  return *registry;
}

Result<PatchOutcome> PatchDevice(std::string_view request, json::Document& device) {
  const schema::Registry& registry = DeviceRegistry();
  json::Document body = Json(request);
  return ApplyPatch(registry, *registry.FindResourceType("Device"), body, device, nullptr);
}

json::Document Device() {
  return Json(R"({"schemas": ["urn:test:params:scim:schemas:core:2.0:Device"], "id": "d1",
                  "name": "router", "serial": "SN-1",
                  "firmware": {"version": "1.0", "builtAt": "2024-01-01T00:00:00.000Z"}})");
}

std::string Ops(std::string_view operations) {
  return R"({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": )" +
         std::string(operations) + "}";
}

// Runs a request against BaseUser() and returns the error code; checks the user is unchanged.
ErrorCode UserError(std::string_view request) {
  json::Document user = BaseUser();
  json::Document before = BaseUser();
  auto r = Patch(UserType(), request, user);
  ErrorCode code = CodeOf(r);
  BOOST_CHECK_MESSAGE(user == before, "resource changed by a failed patch: " << request);
  BOOST_CHECK_MESSAGE(r.ok() || !r.error().detail.empty(), "empty error detail");
  return code;
}

ErrorCode GroupError(std::string_view request) {
  json::Document group = BaseGroup();
  json::Document before = BaseGroup();
  Run run;
  ErrorCode code = CodeOf(run(GroupType(), request, group));
  BOOST_CHECK(group == before);
  return code;
}

BOOST_AUTO_TEST_SUITE(patch_errors)

BOOST_AUTO_TEST_CASE(invalid_syntax_of_the_request) {
  for (std::string_view request : {
           R"json([])json",
           R"json({"Operations": [{"op": "add", "path": "title", "value": "x"}]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "Operations": [{"op": "add", "path": "title", "value": "x"}]})json",
           R"json({"schemas": "urn:ietf:params:scim:api:messages:2.0:PatchOp",
                   "Operations": [{"op": "add", "path": "title", "value": "x"}]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": []})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": {"op": "add", "path": "title", "value": "x"}})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": ["add"]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"path": "title", "value": "x"}]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "move", "path": "title", "value": "x"}]})json",
           R"json({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "add", "path": 7, "value": "x"}]})json",
       }) {
    BOOST_CHECK_MESSAGE(UserError(request) == ErrorCode::kInvalidSyntax, request);
  }
}

BOOST_AUTO_TEST_CASE(no_target) {
  // §3.5.2.2: remove without path.
  BOOST_CHECK(UserError(Ops(R"([{"op": "remove"}])")) == ErrorCode::kNoTarget);
  BOOST_CHECK(UserError(Ops(R"([{"op": "Remove", "path": ""}])")) == ErrorCode::kNoTarget);
  // §3.5.2.3: a filter matching no element of a non-empty attribute.
  BOOST_CHECK(UserError(Ops(R"([{"op": "replace", "path": "emails[type eq \"other\"]",
                                  "value": {"value": "o@example.com"}}])")) ==
              ErrorCode::kNoTarget);
  // add with a filter that matches nothing and is not a conjunction of `eq` terms.
  BOOST_CHECK(UserError(Ops(R"([{"op": "add", "path": "emails[value co \"zzz\"].type",
                                  "value": "other"}])")) == ErrorCode::kNoTarget);
}

BOOST_AUTO_TEST_CASE(invalid_path) {
  for (std::string_view ops : {
           R"([{"op": "add", "path": "nosuchattribute", "value": "x"}])",
           R"([{"op": "replace", "path": "name.nosuchsub", "value": "x"}])",
           R"([{"op": "replace", "path": "urn:example:unknown:schema:title", "value": "x"}])",
           R"([{"op": "remove", "path": "emails[type eq \"work\"].nosuchsub"}])",
           R"([{"op": "replace", "value": {"nosuchattribute": "x"}}])",
           R"([{"op": "replace", "value": {"name.nosuchsub": "x"}}])",
           // A value filter on a single-valued or simple attribute.
           R"([{"op": "replace", "path": "name[givenName eq \"Barbara\"]", "value": {}}])",
           R"([{"op": "replace", "path": "userName[value eq \"x\"]", "value": "y"}])",
           // A sub-attribute of every element of a multi-valued attribute.
           R"([{"op": "replace", "path": "emails.value", "value": "x@example.com"}])",
           R"([{"op": "add", "path": "emails.type", "value": "work"}])",
       }) {
    BOOST_CHECK_MESSAGE(UserError(Ops(ops)) == ErrorCode::kInvalidPath, ops);
  }
  // Sub-attributes of members, and add with a members filter.
  BOOST_CHECK(GroupError(Ops(R"([{"op": "replace", "path": "members[value eq \"u1\"].display",
                                   "value": "x"}])")) == ErrorCode::kInvalidPath);
  BOOST_CHECK(GroupError(Ops(R"([{"op": "add", "path": "members[value eq \"u1\"]",
                                   "value": {"value": "u1"}}])")) == ErrorCode::kInvalidPath);
}

BOOST_AUTO_TEST_CASE(invalid_filter_inside_brackets) {
  BOOST_CHECK(UserError(Ops(R"([{"op": "remove", "path": "emails[type eq]"}])")) ==
              ErrorCode::kInvalidFilter);
  BOOST_CHECK(UserError(Ops(R"([{"op": "remove", "path": "emails[type zz \"work\"]"}])")) ==
              ErrorCode::kInvalidFilter);
}

BOOST_AUTO_TEST_CASE(mutability_of_required_attributes) {
  // §3.5.2.2: removing a required attribute.
  BOOST_CHECK(UserError(Ops(R"([{"op": "remove", "path": "userName"}])")) ==
              ErrorCode::kMutability);
  BOOST_CHECK(UserError(Ops(R"([{"op": "replace", "path": "userName", "value": null}])")) ==
              ErrorCode::kMutability);
  BOOST_CHECK(UserError(Ops(R"([{"op": "replace", "value": {"userName": null}}])")) ==
              ErrorCode::kMutability);
  BOOST_CHECK(GroupError(Ops(R"([{"op": "Remove", "path": "displayName"}])")) ==
              ErrorCode::kMutability);
}

BOOST_AUTO_TEST_CASE(mutability_of_read_only_attributes) {
  for (std::string_view ops : {
           R"([{"op": "replace", "path": "id", "value": "another-id"}])",
           R"([{"op": "remove", "path": "id"}])",
           R"([{"op": "replace", "value": {"id": "another-id"}}])",
           R"([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}])",
           R"([{"op": "add", "path": "meta", "value": {"created": "2020-01-01T00:00:00Z"}}])",
           R"([{"op": "remove", "path": "meta"}])",
           // `groups` of a User is readOnly (RFC 7643 §4.1.2).
           R"([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}])",
           R"([{"op": "remove", "path": "groups"}])",
           // A readOnly sub-attribute named by the path.
           R"([{"op": "replace",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
                "value": "Someone Else"}])",
       }) {
    BOOST_CHECK_MESSAGE(UserError(Ops(ops)) == ErrorCode::kMutability, ops);
  }
}

BOOST_AUTO_TEST_CASE(read_only_value_equal_to_the_current_one_is_ignored) {
  json::Document user = BaseUser();
  const PatchOutcome& out = Ok(Patch(
      UserType(), Ops(R"([{"op": "replace", "value": {"id": "2819c223-7f76-453a-919d-413861904646",
                                          "nickName": "Babs"}}])"),
      user));
  BOOST_CHECK((out.changed_attributes == std::vector<std::string>{"nickName"}));
}

BOOST_AUTO_TEST_CASE(read_only_sub_attribute_inside_a_value_is_ignored) {
  json::Document user = BaseUser();
  Ok(Patch(UserType(), Ops(R"([{"op": "replace",
      "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
      "value": {"value": "new-manager", "displayName": "ignored"}}])"),
           user));
  SCIM_CHECK_JSON(*Get(*Get(user, kEnterprise), "manager"),
                  R"({"value": "new-manager", "displayName": "John Smith"})");
}

BOOST_AUTO_TEST_CASE(immutable_attributes) {
  // Changing a set immutable attribute.
  for (std::string_view ops : {
           R"([{"op": "replace", "path": "serial", "value": "SN-2"}])",
           R"([{"op": "add", "path": "serial", "value": "SN-2"}])",
           R"([{"op": "remove", "path": "serial"}])",
           R"([{"op": "replace", "path": "firmware.builtAt", "value": "2025-01-01T00:00:00Z"}])",
       }) {
    json::Document device = Device();
    json::Document before = Device();
    auto r = PatchDevice(Ops(ops), device);
    BOOST_CHECK_MESSAGE(CodeOf(r) == ErrorCode::kMutability, ops);
    BOOST_CHECK(device == before);
  }
  // Same value: accepted, no change.
  json::Document device = Device();
  const PatchOutcome& same =
      Ok(PatchDevice(Ops(R"([{"op": "replace", "path": "serial", "value": "SN-1"}])"), device));
  BOOST_CHECK(!same.modified);
  // Unset immutable attribute: "a client MAY "add" a value to an "immutable" attribute if the
  // attribute had no previous value" (§3.5.2).
  json::Document fresh = Json(R"({"schemas": ["urn:test:params:scim:schemas:core:2.0:Device"],
                                  "id": "d2", "name": "switch"})");
  Ok(PatchDevice(Ops(R"([{"op": "add", "path": "serial", "value": "SN-9"},
                          {"op": "add", "path": "firmware.builtAt",
                           "value": "2024-05-01T12:00:00+02:00"}])"),
                 fresh));
  BOOST_CHECK_EQUAL(Str(fresh, "serial"), "SN-9");
  // dateTimes are stored normalized.
  BOOST_CHECK_EQUAL(Str(*Get(fresh, "firmware"), "builtAt"), "2024-05-01T10:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(invalid_values) {
  for (
      std::string_view ops : {
          R"([{"op": "replace", "path": "active", "value": "maybe"}])",
          R"([{"op": "replace", "path": "active", "value": 1}])",
          R"([{"op": "replace", "path": "userName", "value": 42}])",
          R"([{"op": "replace", "path": "userName", "value": ""}])",
          R"([{"op": "replace", "path": "userName", "value": ["a", "b"]}])",
          R"([{"op": "replace", "path": "name", "value": "Barbara Jensen"}])",
          R"([{"op": "replace", "path": "name", "value": {"nosuchsub": "x"}}])",
          R"([{"op": "add", "path": "emails", "value": ["bjensen@example.com"]}])",
          R"([{"op": "add", "path": "emails", "value": [{"value": 5}]}])",
          R"([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "yes"}])",
          R"([{"op": "add", "path": "title"}])",
          R"([{"op": "replace"}])",
          R"([{"op": "replace", "value": "not an object"}])",
          R"([{"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}}])",
      }) {
    BOOST_CHECK_MESSAGE(UserError(Ops(ops)) == ErrorCode::kInvalidValue, ops);
  }
  for (std::string_view ops : {
           R"([{"op": "replace", "path": "lastSeen", "value": "yesterday"}])",
           R"([{"op": "replace", "path": "score", "value": "high"}])",
           R"([{"op": "add", "path": "ports", "value": [22, 1.5]}])",
           R"([{"op": "add", "path": "ports", "value": ["80"]}])",
           R"([{"op": "replace", "path": "certified", "value": null},
               {"op": "replace", "path": "certified", "value": "nope"}])",
       }) {
    json::Document device = Device();
    BOOST_CHECK_MESSAGE(CodeOf(PatchDevice(Ops(ops), device)) == ErrorCode::kInvalidValue, ops);
  }
  // Member values must be objects with a string "value".
  for (std::string_view ops : {
           R"([{"op": "add", "path": "members", "value": ["u1"]}])",
           R"([{"op": "add", "path": "members", "value": [{"display": "no value"}]}])",
           R"([{"op": "add", "path": "members", "value": [{"value": 17}]}])",
           R"([{"op": "add", "path": "members", "value": [{"value": ""}]}])",
           R"([{"op": "replace", "path": "members", "value": "u1"}])",
           R"([{"op": "Remove", "path": "members", "value": [{"id": "u1"}]}])",
           R"([{"op": "add", "value": {"members": [{"value": "u1", "type": 3}]}}])",
       }) {
    BOOST_CHECK_MESSAGE(GroupError(Ops(ops)) == ErrorCode::kInvalidValue, ops);
  }
}

BOOST_AUTO_TEST_CASE(typed_values_are_accepted) {
  json::Document device = Device();
  Ok(PatchDevice(Ops(R"([{"op": "add", "path": "ports", "value": [22, 443]},
                         {"op": "add", "path": "ports", "value": 22},
                         {"op": "replace", "path": "score", "value": 0.75},
                         {"op": "replace", "path": "certified", "value": "TRUE"},
                         {"op": "replace", "path": "lastSeen", "value": "2024-02-03T04:05:06Z"}])"),
                 device));
  SCIM_CHECK_JSON(*Get(device, "ports"), "[22, 443]");
  BOOST_CHECK(Get(device, "certified")->GetBool());
  BOOST_CHECK_EQUAL(Str(device, "lastSeen"), "2024-02-03T04:05:06.000Z");
}

// A failing later operation leaves every earlier change undone.
BOOST_AUTO_TEST_CASE(atomicity) {
  json::Document user = BaseUser();
  std::string before = json::Serialize(user);
  auto r = Patch(UserType(), Ops(R"([
      {"op": "replace", "path": "displayName", "value": "Changed"},
      {"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other"}]},
      {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
      {"op": "replace", "path": "id", "value": "hijacked"}])"),
                 user);
  BOOST_CHECK(CodeOf(r) == ErrorCode::kMutability);
  BOOST_CHECK(!r.ok() && r.error().detail.find("Operations[3]") != std::string::npos);
  BOOST_CHECK_EQUAL(json::Serialize(user), before);

  json::Document group = BaseGroup();
  std::string group_before = json::Serialize(group);
  auto g = Patch(GroupType(), Ops(R"([
      {"op": "replace", "path": "displayName", "value": "Changed"},
      {"op": "add", "path": "members", "value": [{"value": "u1"}]},
      {"op": "add", "path": "members", "value": [{"novalue": "u2"}]}])"),
                 group);
  BOOST_CHECK(CodeOf(g) == ErrorCode::kInvalidValue);
  BOOST_CHECK_EQUAL(json::Serialize(group), group_before);
}

// The loader's error comes back as is, and the resource is unchanged.
BOOST_AUTO_TEST_CASE(member_loader_error_is_returned) {
  json::Document group = BaseGroup();
  std::string before = json::Serialize(group);
  json::Document body = Json(Ops(R"([{"op": "replace", "path": "displayName", "value": "X"},
                                     {"op": "remove", "path": "members[type eq \"Group\"]"}])"));
  MemberLoader failing = []() -> Result<std::vector<MemberRef>> {
    return Error(ErrorCode::kUnavailable, "database down");
  };
  auto r = ApplyPatch(Registry(), GroupType(), body, group, failing);
  BOOST_CHECK(CodeOf(r) == ErrorCode::kUnavailable);
  BOOST_CHECK_EQUAL(json::Serialize(group), before);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
