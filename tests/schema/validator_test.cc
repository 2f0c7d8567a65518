#include "scim/schema/validator.h"

#include <boost/test/unit_test.hpp>

#include "schema/schema_fixture.h"

namespace scim::schema {
namespace {

using testing::Contains;
using testing::Embedded;
using testing::ErrorOf;
using testing::Member;
using testing::ParseJson;
using testing::Str;

const std::string kEnterprise(kEnterpriseUserSchema);
const std::string kUserUrn(kUserSchema);

// Normalizes `text` as a create of `type`; requires success.
json::Document Normalized(const ResourceType& type, const std::string& text,
                          const Registry& registry = Embedded()) {
  json::Document input = ParseJson(text);
  json::Document out;
  Status status = NormalizeResource(registry, type, input, WriteMode::kCreate, nullptr, out);
  BOOST_REQUIRE_MESSAGE(status.ok(), "NormalizeResource failed: " << ErrorOf(status));
  return out;
}

json::Document NormalizedUser(const std::string& attributes_json) {
  return Normalized(testing::UserType(),
                    R"({"schemas": [")" + kUserUrn + R"("], )" + attributes_json + "}");
}

// Normalizes `text` and requires failure with `code` and a detail containing `detail`.
void ExpectError(const ResourceType& type, const std::string& text, ErrorCode code,
                 const std::string& detail, const Registry& registry = Embedded()) {
  json::Document input = ParseJson(text);
  json::Document out;
  Status status = NormalizeResource(registry, type, input, WriteMode::kCreate, nullptr, out);
  BOOST_REQUIRE_MESSAGE(!status.ok(), "accepted: " << text);
  BOOST_TEST(std::string(ErrorCodeName(status.error().code)) == ErrorCodeName(code),
             status.error().detail);
  BOOST_TEST(Contains(status.error().detail, detail), status.error().detail);
}

void ExpectUserError(const std::string& attributes_json, ErrorCode code,
                     const std::string& detail) {
  ExpectError(testing::UserType(),
              R"({"schemas": [")" + kUserUrn + R"("], )" + attributes_json + "}", code, detail);
}

BOOST_AUTO_TEST_SUITE(ValidatorBasics)

BOOST_AUTO_TEST_CASE(MinimalUser) {
  json::Document out = NormalizedUser(R"("userName": "bjensen")");
  BOOST_TEST(json::Serialize(out) ==
             R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen"})");
}

BOOST_AUTO_TEST_CASE(NamesAreRewrittenToCanonicalSpelling) {
  json::Document out = Normalized(testing::UserType(), R"({
      "SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],
      "USERNAME": "bjensen", "Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
      "Emails": [{"VALUE": "b@example.com", "Type": "work"}]})");
  BOOST_TEST(Str(&(*Member(out, "schemas"))[0]) == kUserUrn);
  BOOST_TEST(Str(Member(out, "userName")) == "bjensen");
  const json::Value* name = Member(out, "name");
  BOOST_REQUIRE(name != nullptr);
  BOOST_TEST(Str(Member(*name, "givenName")) == "Barbara");
  BOOST_TEST(Str(Member(*name, "familyName")) == "Jensen");
  BOOST_TEST(Str(Member((*Member(out, "emails"))[0], "value")) == "b@example.com");
}

BOOST_AUTO_TEST_CASE(CommonAttributes) {
  json::Document out = NormalizedUser(R"("userName": "b", "id": "client-chosen",
      "externalId": "ext-1", "meta": {"resourceType": "User", "version": "W/\"1\""})");
  BOOST_TEST(Member(out, "id") == nullptr);
  BOOST_TEST(Member(out, "meta") == nullptr);
  BOOST_TEST(Str(Member(out, "externalId")) == "ext-1");
  ExpectUserError(R"("userName": "b", "externalId": 7)", ErrorCode::kInvalidValue, "externalId");
}

BOOST_AUTO_TEST_CASE(NotAnObject) {
  ExpectError(testing::UserType(), R"(["userName"])", ErrorCode::kInvalidSyntax, "JSON object");
}

BOOST_AUTO_TEST_CASE(PasswordIsKept) {
  json::Document out = NormalizedUser(R"("userName": "b", "password": "s3cret!")");
  BOOST_TEST(Str(Member(out, "password")) == "s3cret!");
}

BOOST_AUTO_TEST_CASE(DuplicateAttribute) {
  ExpectUserError(R"("userName": "a", "USERNAME": "b")", ErrorCode::kInvalidSyntax,
                  "'userName' given more than once");
  ExpectUserError(R"("userName": "a", "name": {"givenName": "x", "GivenName": "y"})",
                  ErrorCode::kInvalidSyntax, "name.givenName");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ValidatorSchemas)

BOOST_AUTO_TEST_CASE(SchemasMustBePresentAndContainCore) {
  ExpectError(testing::UserType(), R"({"userName": "b"})", ErrorCode::kInvalidSyntax, "schemas");
  ExpectError(testing::UserType(), R"({"schemas": "x", "userName": "b"})",
              ErrorCode::kInvalidSyntax, "schemas");
  ExpectError(testing::UserType(), R"({"schemas": [")" + kEnterprise + R"("], "userName": "b"})",
              ErrorCode::kInvalidSyntax, "must contain " + kUserUrn);
  ExpectError(testing::UserType(), R"({"schemas": [1], "userName": "b"})",
              ErrorCode::kInvalidSyntax, "schemas");
}

BOOST_AUTO_TEST_CASE(UnknownSchema) {
  ExpectError(testing::UserType(),
              R"({"schemas": [")" + kUserUrn + R"(", "urn:example:custom"], "userName": "b"})",
              ErrorCode::kInvalidSyntax, "unknown schema \"urn:example:custom\"");
  // The enterprise extension belongs to User, not to Group.
  ExpectError(testing::GroupType(),
              R"({"schemas": [")" + std::string(kGroupSchema) + R"(", ")" + kEnterprise +
                  R"("], "displayName": "g"})",
              ErrorCode::kInvalidSyntax, "unknown schema");
}

BOOST_AUTO_TEST_CASE(ExtensionObject) {
  json::Document out = Normalized(testing::UserType(), R"({
      "schemas": [")" + kUserUrn + R"(", ")" + kEnterprise +
                                                           R"("], "userName": "b",
      "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {
        "EmployeeNumber": "701984", "manager": {"value": "m1", "displayName": "Boss"}}})");
  const json::Value* ext = Member(out, kEnterprise.c_str());
  BOOST_REQUIRE(ext != nullptr);
  BOOST_TEST(Str(Member(*ext, "employeeNumber")) == "701984");
  const json::Value* manager = Member(*ext, "manager");
  BOOST_TEST(Str(Member(*manager, "value")) == "m1");
  BOOST_TEST(Member(*manager, "displayName") == nullptr);  // readOnly: dropped
}

BOOST_AUTO_TEST_CASE(ExtensionUrnMissingFromSchemasIsAdded) {
  json::Document out =
      NormalizedUser(R"("userName": "b", ")" + kEnterprise + R"(": {"department": "Sales"})");
  const json::Value& schemas = *Member(out, "schemas");
  BOOST_REQUIRE(schemas.Size() == 2u);
  BOOST_TEST(Str(&schemas[1]) == kEnterprise);
  BOOST_TEST(Str(Member(*Member(out, kEnterprise.c_str()), "department")) == "Sales");
}

BOOST_AUTO_TEST_CASE(FlattenedExtensionKeyIsMovedUnderItsUrn) {
  json::Document out =
      NormalizedUser(R"("userName": "b", ")" + kEnterprise + R"(:department": "Sales")");
  BOOST_TEST(Member(out, (kEnterprise + ":department").c_str()) == nullptr);
  BOOST_TEST(Str(Member(*Member(out, kEnterprise.c_str()), "department")) == "Sales");
}

BOOST_AUTO_TEST_CASE(ExtensionErrors) {
  ExpectUserError(R"("userName": "b", ")" + kEnterprise + R"(": {"shoeSize": "42"})",
                  ErrorCode::kInvalidSyntax, "unknown attribute '" + kEnterprise + ":shoeSize'");
  ExpectUserError(R"("userName": "b", ")" + kEnterprise + R"(": "Sales")", ErrorCode::kInvalidValue,
                  "must be an object");
  ExpectUserError(R"("userName": "b", ")" + kEnterprise + R"(": {"manager": {"value": 5}})",
                  ErrorCode::kInvalidValue, kEnterprise + ":manager.value");
}

BOOST_AUTO_TEST_CASE(ScimdGroupKindCanonicalValues) {
  const std::string head = R"({"schemas": [")" + std::string(kGroupSchema) +
                           R"("], "displayName": "Shop 1", ")" + std::string(kScimdGroupSchema);
  json::Document out = Normalized(testing::GroupType(), head + R"(": {"kind": "Store",
      "location": "Lyon", "address": "1 rue X", "phone": "+33 1"}})");
  const json::Value* ext = Member(out, std::string(kScimdGroupSchema).c_str());
  BOOST_REQUIRE(ext != nullptr);
  BOOST_TEST(Str(Member(*ext, "kind")) == "store");  // re-spelled canonically
  BOOST_TEST(Str(Member(*ext, "location")) == "Lyon");
  ExpectError(testing::GroupType(), head + R"(": {"kind": "warehouse"}})", ErrorCode::kInvalidValue,
              "\"warehouse\" is not one of: organization, store");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ValidatorAttributes)

BOOST_AUTO_TEST_CASE(UnknownAttribute) {
  ExpectUserError(R"("userName": "b", "shoeSize": 42)", ErrorCode::kInvalidSyntax,
                  "unknown attribute 'shoeSize'");
  ExpectUserError(R"("userName": "b", "name": {"nick": "x"})", ErrorCode::kInvalidSyntax,
                  "unknown attribute 'name.nick'");
  ExpectUserError(R"("userName": "b", "urn:example:x:foo": 1)", ErrorCode::kInvalidSyntax,
                  "urn:example:x:foo");
}

BOOST_AUTO_TEST_CASE(WrongTypes) {
  ExpectUserError(R"("userName": 42)", ErrorCode::kInvalidValue,
                  "'userName': expected type string");
  ExpectUserError(R"("userName": "b", "active": 1)", ErrorCode::kInvalidValue,
                  "'active': expected type boolean");
  ExpectUserError(R"("userName": "b", "name": "Barbara Jensen")", ErrorCode::kInvalidValue,
                  "'name': expected a complex value");
  ExpectUserError(R"("userName": "b", "emails": ["b@example.com"])", ErrorCode::kInvalidValue,
                  "'emails'");
  ExpectUserError(R"("userName": "b", "emails": [{"value": "b@x", "primary": "maybe"}])",
                  ErrorCode::kInvalidValue, "'emails.primary': expected type boolean");
  ExpectUserError(R"("userName": "b", "profileUrl": {"href": "x"})", ErrorCode::kInvalidValue,
                  "'profileUrl': expected type reference");
  ExpectUserError(R"("userName": "b", "x509Certificates": [{"value": 12}])",
                  ErrorCode::kInvalidValue, "'x509Certificates.value': expected type binary");
}

BOOST_AUTO_TEST_CASE(SingleValuedRejectsArrays) {
  ExpectUserError(R"("userName": "b", "displayName": ["a", "b"])", ErrorCode::kInvalidValue,
                  "'displayName': single-valued");
  ExpectUserError(R"("userName": "b", "name": {"givenName": ["a"]})", ErrorCode::kInvalidValue,
                  "'name.givenName': single-valued");
}

BOOST_AUTO_TEST_CASE(SingleValueForMultiValuedIsWrapped) {
  json::Document out =
      NormalizedUser(R"("userName": "b", "emails": {"value": "b@x", "type": "work"})");
  const json::Value* emails = Member(out, "emails");
  BOOST_REQUIRE(emails != nullptr);
  BOOST_REQUIRE(emails->IsArray());
  BOOST_TEST(emails->Size() == 1u);
  BOOST_TEST(Str(Member((*emails)[0], "value")) == "b@x");
}

BOOST_AUTO_TEST_CASE(EntraStringBooleans) {
  json::Document out = NormalizedUser(R"("userName": "b", "active": "False",
      "emails": [{"value": "b@x", "primary": "True"}])");
  BOOST_REQUIRE(Member(out, "active")->IsBool());
  BOOST_TEST(!Member(out, "active")->GetBool());
  const json::Value* primary = Member((*Member(out, "emails"))[0], "primary");
  BOOST_REQUIRE(primary->IsBool());
  BOOST_TEST(primary->GetBool());
  BOOST_TEST(Member(NormalizedUser(R"("userName": "b", "active": "TRUE")"), "active")->GetBool());
  ExpectUserError(R"("userName": "b", "active": "yes")", ErrorCode::kInvalidValue, "'active'");
}

BOOST_AUTO_TEST_CASE(TypeSubAttributeOfMultiValuedIsNotEnforced) {
  // RFC 7643 §2.4: canonical "type" values are SHOULDs; custom labels pass unchanged.
  json::Document out = NormalizedUser(R"("userName": "b",
      "emails": [{"value": "a@x", "type": "Work"}, {"value": "c@x", "type": "alias"}],
      "phoneNumbers": [{"value": "+1", "type": "mobile-2"}])");
  const json::Value& emails = *Member(out, "emails");
  BOOST_TEST(Str(Member(emails[0], "type")) == "Work");
  BOOST_TEST(Str(Member(emails[1], "type")) == "alias");
  BOOST_TEST(Str(Member((*Member(out, "phoneNumbers"))[0], "type")) == "mobile-2");
}

BOOST_AUTO_TEST_CASE(ReadOnlyAttributesAreDropped) {
  json::Document out = NormalizedUser(R"("userName": "b",
      "groups": [{"value": "g1", "display": "Admins"}])");
  BOOST_TEST(Member(out, "groups") == nullptr);
  // members.display is readWrite and kept.
  json::Document group =
      Normalized(testing::GroupType(),
                 R"({"schemas": [")" + std::string(kGroupSchema) + R"("], "displayName": "g",
          "members": [{"value": "u1", "display": "Barbara", "type": "User"}]})");
  const json::Value& member = (*Member(group, "members"))[0];
  BOOST_TEST(Str(Member(member, "display")) == "Barbara");
  BOOST_TEST(Str(Member(member, "value")) == "u1");
}

BOOST_AUTO_TEST_CASE(NullsAndEmptyArraysAreUnassigned) {
  json::Document out = NormalizedUser(R"("userName": "b", "displayName": null, "emails": [],
      "name": {"givenName": null}, "phoneNumbers": [null], "addresses": [{}],
      ")" + kEnterprise + R"(": {"department": null})");
  BOOST_TEST(json::Serialize(out) ==
             R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b"})");
}

BOOST_AUTO_TEST_CASE(PrimaryAtMostOnce) {
  ExpectUserError(R"("userName": "b", "emails": [{"value": "a@x", "primary": true},
                     {"value": "c@x", "primary": "True"}])",
                  ErrorCode::kInvalidValue, "'emails': more than one value has \"primary\": true");
  json::Document ok = NormalizedUser(R"("userName": "b", "emails": [
      {"value": "a@x", "primary": true}, {"value": "c@x", "primary": false}])");
  BOOST_TEST(Member(ok, "emails")->Size() == 2u);
}

BOOST_AUTO_TEST_CASE(RequiredAttributes) {
  ExpectUserError(R"("displayName": "Barbara")", ErrorCode::kInvalidValue,
                  "required attribute 'userName'");
  ExpectUserError(R"("userName": "")", ErrorCode::kInvalidValue, "required attribute 'userName'");
  ExpectUserError(R"("userName": "   ")", ErrorCode::kInvalidValue, "userName");
  ExpectUserError(R"("userName": null)", ErrorCode::kInvalidValue, "userName");
  ExpectError(testing::GroupType(), R"({"schemas": [")" + std::string(kGroupSchema) + R"("]})",
              ErrorCode::kInvalidValue, "required attribute 'displayName'");
}

BOOST_AUTO_TEST_CASE(OverLongStrings) {
  std::string limit(kMaxStringBytes, 'x');
  json::Document ok = NormalizedUser(R"("userName": ")" + limit + R"(")");
  BOOST_TEST(Member(ok, "userName")->GetStringLength() == kMaxStringBytes);
  ExpectUserError(R"("userName": ")" + limit + R"(x")", ErrorCode::kInvalidValue,
                  "'userName': value too long");
  ExpectUserError(R"("userName": "b", "emails": [{"value": ")" + limit + R"(y"}])",
                  ErrorCode::kInvalidValue, "'emails.value': value too long");
  ExpectUserError(R"("userName": "b", "externalId": ")" + limit + R"(z")", ErrorCode::kInvalidValue,
                  "value too long");
}

BOOST_AUTO_TEST_SUITE_END()

// Types the core schemas lack, and immutability, on the test "Widget" resource type.
BOOST_AUTO_TEST_SUITE(ValidatorWidget)

const char* kWidgetHead = R"({"schemas": ["urn:test:Widget"], "label": "w", )";

json::Document NormalizedWidget(const std::string& attributes_json) {
  return Normalized(testing::WidgetType(), kWidgetHead + attributes_json + "}", testing::Widgets());
}

void ExpectWidgetError(const std::string& attributes_json, ErrorCode code,
                       const std::string& detail) {
  ExpectError(testing::WidgetType(), kWidgetHead + attributes_json + "}", code, detail,
              testing::Widgets());
}

BOOST_AUTO_TEST_CASE(IntegerDecimalBinary) {
  json::Document out =
      NormalizedWidget(R"("count": 9007199254740993, "ratio": 0.5, "blob": "AAEC")");
  BOOST_TEST(Member(out, "count")->GetInt64() == 9007199254740993LL);
  BOOST_TEST(Member(out, "ratio")->GetDouble() == 0.5);
  BOOST_TEST(Str(Member(out, "blob")) == "AAEC");
  BOOST_TEST(Member(NormalizedWidget(R"("ratio": 2)"), "ratio")->GetInt() == 2);
  ExpectWidgetError(R"("count": 1.5)", ErrorCode::kInvalidValue, "'count': expected type integer");
  ExpectWidgetError(R"("count": "3")", ErrorCode::kInvalidValue, "'count'");
  ExpectWidgetError(R"("ratio": "0.5")", ErrorCode::kInvalidValue,
                    "'ratio': expected type decimal");
  ExpectWidgetError(R"("blob": true)", ErrorCode::kInvalidValue, "'blob'");
}

BOOST_AUTO_TEST_CASE(DateTimeIsNormalized) {
  json::Document out = NormalizedWidget(R"("when": "2024-01-02T03:04:05+02:00")");
  BOOST_TEST(Str(Member(out, "when")) == "2024-01-02T01:04:05.000Z");
  ExpectWidgetError(R"("when": "yesterday")", ErrorCode::kInvalidValue,
                    "'when': not a valid dateTime");
  ExpectWidgetError(R"("when": 1700000000)", ErrorCode::kInvalidValue, "'when'");
}

BOOST_AUTO_TEST_CASE(MultiValuedSimple) {
  json::Document out = NormalizedWidget(R"("tags": "solo")");
  BOOST_REQUIRE(Member(out, "tags")->IsArray());
  BOOST_TEST(Str(&(*Member(out, "tags"))[0]) == "solo");
  ExpectWidgetError(R"("tags": [["nested"]])", ErrorCode::kInvalidValue, "nested arrays");
}

BOOST_AUTO_TEST_CASE(RequiredSubAttributeAndCanonicalValue) {
  json::Document out = NormalizedWidget(R"("spec": {"level": "HIGH", "note": "n"})");
  BOOST_TEST(Str(Member(*Member(out, "spec"), "level")) == "high");
  ExpectWidgetError(R"("spec": {"note": "n"})", ErrorCode::kInvalidValue, "'spec.level'");
  ExpectWidgetError(R"("spec": {"level": "medium"})", ErrorCode::kInvalidValue, "medium");
}

BOOST_AUTO_TEST_CASE(RequestReturnedAttributeIsAccepted) {
  BOOST_TEST(Str(Member(NormalizedWidget(R"("secret": "s")"), "secret")) == "s");
}

Status Replace(const std::string& existing_json, const std::string& input_json,
               json::Document& out) {
  json::Document existing = ParseJson(existing_json);
  json::Document input = ParseJson(input_json);
  return NormalizeResource(testing::Widgets(), testing::WidgetType(), input, WriteMode::kReplace,
                           &existing, out);
}

BOOST_AUTO_TEST_CASE(ImmutableOnReplace) {
  const std::string existing = R"({"schemas": ["urn:test:Widget"], "id": "1", "label": "w",
      "serial": "SN-1", "spec": {"code": "C1", "level": "low"}})";
  json::Document out;
  Status changed = Replace(existing, std::string(kWidgetHead) + R"("serial": "SN-2"})", out);
  BOOST_REQUIRE(!changed.ok());
  BOOST_TEST((changed.error().code == ErrorCode::kMutability));
  BOOST_TEST(Contains(changed.error().detail, "'serial' is immutable"));

  Status sub_changed = Replace(
      existing,
      std::string(kWidgetHead) + R"("serial": "SN-1", "spec": {"code": "C2", "level": "low"}})",
      out);
  BOOST_REQUIRE(!sub_changed.ok());
  BOOST_TEST((sub_changed.error().code == ErrorCode::kMutability));
  BOOST_TEST(Contains(sub_changed.error().detail, "'spec.code'"));

  Status same =
      Replace(existing, std::string(kWidgetHead) + R"("serial": "SN-1", "count": 2})", out);
  BOOST_REQUIRE_MESSAGE(same.ok(), ErrorOf(same));
  BOOST_TEST(Member(out, "count")->GetInt() == 2);
}

BOOST_AUTO_TEST_CASE(OmittedImmutableKeepsStoredValue) {
  const std::string existing = R"({"schemas": ["urn:test:Widget"], "label": "w",
      "serial": "SN-1", "spec": {"code": "C1", "level": "low"}})";
  json::Document out;
  Status status =
      Replace(existing, std::string(kWidgetHead) + R"("spec": {"level": "high"}})", out);
  BOOST_REQUIRE_MESSAGE(status.ok(), ErrorOf(status));
  BOOST_TEST(Str(Member(out, "serial")) == "SN-1");
  BOOST_TEST(Str(Member(*Member(out, "spec"), "code")) == "C1");
  BOOST_TEST(Str(Member(*Member(out, "spec"), "level")) == "high");
}

// Found by tests/fuzz/fuzz_resource: a PUT without "spec" kept {"code": "C1"} alone, without the
// required spec.level, and the stored resource no longer validated. The stored required
// sub-attributes are kept with the immutable one.
BOOST_AUTO_TEST_CASE(OmittedComplexWithImmutableSubKeepsItsRequiredSubs) {
  const std::string existing = R"({"schemas": ["urn:test:Widget"], "label": "w",
      "spec": {"code": "C1", "note": "n", "level": "low"}})";
  json::Document out;
  Status status = Replace(existing, std::string(kWidgetHead) + R"("count": 1})", out);
  BOOST_REQUIRE_MESSAGE(status.ok(), ErrorOf(status));
  BOOST_TEST(json::Serialize(*Member(out, "spec")) == R"({"code":"C1","level":"low"})");
  json::Document again;
  json::Document stored = ParseJson(json::Serialize(out));
  Status valid = NormalizeResource(testing::Widgets(), testing::WidgetType(), stored,
                                   WriteMode::kReplace, &stored, again);
  BOOST_TEST(valid.ok(), ErrorOf(valid));
}

// Likewise an extension the PUT left out, brought back by its immutable attribute.
BOOST_AUTO_TEST_CASE(OmittedExtensionWithImmutableAttributeKeepsItsRequired) {
  auto registry = Registry::LoadFromTexts(
      {{"widget.json", testing::kWidgetSchema},
       {"ext.json", R"({"id": "urn:test:WidgetSite", "name": "Site", "attributes": [
           {"name": "site", "type": "string", "required": true},
           {"name": "rack", "type": "integer"},
           {"name": "installedAt", "type": "dateTime", "mutability": "immutable"}]})"},
       {"type.json", R"({"name": "Widget", "endpoint": "/Widgets", "schema": "urn:test:Widget",
           "schemaExtensions": [{"schema": "urn:test:WidgetSite", "required": false}]})"}});
  BOOST_REQUIRE_MESSAGE(registry.ok(), ErrorOf(registry));
  const ResourceType& type = *(*registry)->FindResourceType("Widget");
  json::Document existing = ParseJson(R"({"schemas": ["urn:test:Widget", "urn:test:WidgetSite"],
      "label": "w", "urn:test:WidgetSite": {"site": "Lyon", "rack": 4,
                                           "installedAt": "2024-01-02T00:00:00.000Z"}})");
  json::Document input = ParseJson(std::string(kWidgetHead) + R"("count": 1})");
  json::Document out;
  Status status = NormalizeResource(**registry, type, input, WriteMode::kReplace, &existing, out);
  BOOST_REQUIRE_MESSAGE(status.ok(), ErrorOf(status));
  BOOST_TEST(json::Serialize(*Member(out, "urn:test:WidgetSite")) ==
             R"({"installedAt":"2024-01-02T00:00:00.000Z","site":"Lyon"})");
  BOOST_TEST(json::Serialize(*Member(out, "schemas")) ==
             R"(["urn:test:Widget","urn:test:WidgetSite"])");
}

BOOST_AUTO_TEST_CASE(ImmutableIsFreeOnCreateAndWhenUnset) {
  json::Document out = NormalizedWidget(R"("serial": "SN-9")");
  BOOST_TEST(Str(Member(out, "serial")) == "SN-9");
  Status status = Replace(R"({"schemas": ["urn:test:Widget"], "label": "w"})",
                          std::string(kWidgetHead) + R"("serial": "SN-3"})", out);
  BOOST_REQUIRE_MESSAGE(status.ok(), ErrorOf(status));
  BOOST_TEST(Str(Member(out, "serial")) == "SN-3");
}

BOOST_AUTO_TEST_CASE(GroupMembersMayChangeOnReplace) {
  json::Document existing = ParseJson(R"({"schemas": [")" + std::string(kGroupSchema) +
                                      R"("], "displayName": "g", "members": [{"value": "u1"}]})");
  json::Document input = ParseJson(R"({"schemas": [")" + std::string(kGroupSchema) +
                                   R"("], "displayName": "g", "members": [{"value": "u2"}]})");
  json::Document out;
  Status status = NormalizeResource(Embedded(), testing::GroupType(), input, WriteMode::kReplace,
                                    &existing, out);
  BOOST_REQUIRE_MESSAGE(status.ok(), ErrorOf(status));
  BOOST_TEST(Str(Member((*Member(out, "members"))[0], "value")) == "u2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::schema
