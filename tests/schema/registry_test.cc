#include "scim/schema/registry.h"

#include <boost/test/unit_test.hpp>

#include "schema/schema_fixture.h"
#include "scim/common/strings.h"

namespace scim::schema {
namespace {

using testing::Contains;
using testing::Embedded;
using testing::Member;
using testing::Str;

const Attribute& UserAttr(std::string_view name) {
  const Attribute* a = Embedded().FindSchema(kUserSchema)->FindAttribute(name);
  BOOST_REQUIRE_MESSAGE(a != nullptr, "User has no " << name);
  return *a;
}

BOOST_AUTO_TEST_SUITE(RegistryLoad)

BOOST_AUTO_TEST_CASE(EmbeddedHasTheFiveSchemasAndTwoResourceTypes) {
  const Registry& r = Embedded();
  BOOST_TEST(r.schemas().size() == 5u);
  BOOST_TEST(r.resource_types().size() == 2u);
  BOOST_TEST(r.FindSchema(kUserSchema) != nullptr);
  BOOST_TEST(r.FindSchema(kGroupSchema) != nullptr);
  BOOST_TEST(r.FindSchema(kEnterpriseUserSchema) != nullptr);
  BOOST_TEST(r.FindSchema(kScimdGroupSchema) != nullptr);
  BOOST_TEST(r.FindSchema("urn:scimd:params:scim:schemas:extension:2.0:User") != nullptr);
  BOOST_TEST(r.FindSchema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER") != nullptr);
  BOOST_TEST(r.FindSchema("urn:nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(UserHasEveryRfc7643Attribute) {
  const Schema& user = *Embedded().FindSchema(kUserSchema);
  for (const char* name : {"userName",        "name",         "displayName",  "nickName",
                           "profileUrl",      "title",        "userType",     "preferredLanguage",
                           "locale",          "timezone",     "active",       "password",
                           "emails",          "phoneNumbers", "ims",          "photos",
                           "addresses",       "groups",       "entitlements", "roles",
                           "x509Certificates"}) {
    BOOST_TEST(user.FindAttribute(name) != nullptr, name);
  }
  BOOST_TEST(user.attributes.size() == 21u);
}

BOOST_AUTO_TEST_CASE(UserNameCharacteristics) {
  const Attribute& a = UserAttr("USERNAME");
  BOOST_TEST(a.name == "userName");
  BOOST_TEST((a.type == AttributeType::kString));
  BOOST_TEST(!a.case_exact);
  BOOST_TEST(a.required);
  BOOST_TEST((a.uniqueness == Uniqueness::kServer));
  BOOST_TEST((a.mutability == Mutability::kReadWrite));
  BOOST_TEST((a.returned == Returned::kDefault));
}

BOOST_AUTO_TEST_CASE(PasswordIsWriteOnlyAndNeverReturned) {
  const Attribute& a = UserAttr("password");
  BOOST_TEST((a.mutability == Mutability::kWriteOnly));
  BOOST_TEST((a.returned == Returned::kNever));
}

BOOST_AUTO_TEST_CASE(MultiValuedComplexAttributes) {
  const Attribute& emails = UserAttr("emails");
  BOOST_TEST(emails.multi_valued);
  BOOST_TEST((emails.type == AttributeType::kComplex));
  BOOST_TEST(emails.sub_attributes.size() == 4u);
  const Attribute* type = emails.FindSub("TYPE");
  BOOST_REQUIRE(type != nullptr);
  BOOST_TEST((type->canonical_values == std::vector<std::string>{"work", "home", "other"}));
  BOOST_TEST((emails.FindSub("primary")->type == AttributeType::kBoolean));
  BOOST_TEST((UserAttr("photos").FindSub("value")->type == AttributeType::kReference));
  BOOST_TEST((UserAttr("x509Certificates").FindSub("value")->type == AttributeType::kBinary));
  BOOST_TEST(UserAttr("addresses").FindSub("streetAddress") != nullptr);
  BOOST_TEST(UserAttr("phoneNumbers").FindSub("type")->canonical_values.size() == 6u);
}

BOOST_AUTO_TEST_CASE(GroupsOfUserAreReadOnly) {
  const Attribute& groups = UserAttr("groups");
  BOOST_TEST((groups.mutability == Mutability::kReadOnly));
  const Attribute* ref = groups.FindSub("$ref");
  BOOST_REQUIRE(ref != nullptr);
  BOOST_TEST((ref->mutability == Mutability::kReadOnly));
  BOOST_TEST((ref->reference_types == std::vector<std::string>{"User", "Group"}));
}

BOOST_AUTO_TEST_CASE(EnterpriseManagerSubAttributes) {
  const Schema& ent = *Embedded().FindSchema(kEnterpriseUserSchema);
  for (const char* name :
       {"employeeNumber", "costCenter", "organization", "division", "department", "manager"}) {
    BOOST_TEST(ent.FindAttribute(name) != nullptr, name);
  }
  const Attribute& manager = *ent.FindAttribute("manager");
  BOOST_TEST(!manager.multi_valued);
  BOOST_TEST(manager.sub_attributes.size() == 3u);
  BOOST_TEST((manager.FindSub("value")->mutability == Mutability::kReadWrite));
  BOOST_TEST((manager.FindSub("$ref")->type == AttributeType::kReference));
  BOOST_TEST((manager.FindSub("$ref")->reference_types == std::vector<std::string>{"User"}));
  BOOST_TEST((manager.FindSub("displayName")->mutability == Mutability::kReadOnly));
}

BOOST_AUTO_TEST_CASE(GroupSchemas) {
  const Schema& group = *Embedded().FindSchema(kGroupSchema);
  BOOST_TEST(group.FindAttribute("displayName")->required);
  const Attribute& members = *group.FindAttribute("members");
  BOOST_TEST(members.multi_valued);
  BOOST_TEST((members.FindSub("value")->mutability == Mutability::kImmutable));
  BOOST_TEST(
      (members.FindSub("type")->canonical_values == std::vector<std::string>{"User", "Group"}));
  BOOST_TEST((members.FindSub("display")->mutability == Mutability::kReadWrite));
  const Schema& ext = *Embedded().FindSchema(kScimdGroupSchema);
  BOOST_TEST((ext.FindAttribute("kind")->canonical_values ==
              std::vector<std::string>{"organization", "store"}));
  for (const char* name : {"location", "address", "phone"}) {
    BOOST_TEST((ext.FindAttribute(name)->type == AttributeType::kString), name);
  }
}

BOOST_AUTO_TEST_CASE(ResourceTypes) {
  const Registry& r = Embedded();
  const ResourceType* user = r.FindResourceTypeByEndpoint("/users");
  BOOST_REQUIRE(user != nullptr);
  BOOST_TEST(user->name == "User");
  BOOST_TEST(user->schema == std::string(kUserSchema));
  BOOST_REQUIRE(user->extensions.size() == 2u);
  BOOST_TEST(user->extensions[0].schema == std::string(kEnterpriseUserSchema));
  BOOST_TEST(!user->extensions[0].required);
  BOOST_TEST(user->extensions[1].schema ==
             std::string("urn:scimd:params:scim:schemas:extension:2.0:User"));
  BOOST_TEST(!user->extensions[1].required);
  const ResourceType* group = r.FindResourceType("group");
  BOOST_REQUIRE(group != nullptr);
  BOOST_TEST(group->endpoint == "/Groups");
  BOOST_REQUIRE(group->extensions.size() == 1u);
  BOOST_TEST(group->extensions[0].schema == std::string(kScimdGroupSchema));
  std::vector<const Schema*> schemas = r.SchemasOf(*user);
  BOOST_REQUIRE(schemas.size() == 3u);
  BOOST_TEST(schemas[0]->id == std::string(kUserSchema));
  BOOST_TEST(schemas[1]->id == std::string(kEnterpriseUserSchema));
}

BOOST_AUTO_TEST_CASE(CommonAttributes) {
  const Attribute& id = CommonAttribute("id");
  BOOST_TEST((id.mutability == Mutability::kReadOnly));
  BOOST_TEST((id.returned == Returned::kAlways));
  BOOST_TEST(id.case_exact);
  BOOST_TEST((id.uniqueness == Uniqueness::kServer));
  const Attribute& external_id = CommonAttribute("EXTERNALID");
  BOOST_TEST(external_id.name == "externalId");
  BOOST_TEST((external_id.mutability == Mutability::kReadWrite));
  BOOST_TEST(external_id.case_exact);
  const Attribute& meta = CommonAttribute("meta");
  BOOST_TEST((meta.mutability == Mutability::kReadOnly));
  BOOST_TEST((meta.FindSub("created")->type == AttributeType::kDateTime));
  BOOST_TEST((meta.FindSub("lastModified")->type == AttributeType::kDateTime));
  BOOST_TEST((meta.FindSub("location")->type == AttributeType::kReference));
  BOOST_TEST(meta.FindSub("version") != nullptr);
  BOOST_TEST(meta.FindSub("resourceType") != nullptr);
  BOOST_TEST(FindCommonAttribute("userName") == nullptr);
}

BOOST_AUTO_TEST_CASE(LoadDirectoryMatchesEmbedded) {
  auto loaded = Registry::LoadDirectory(std::string(SCIMD_SOURCE_DIR) + "/scim-schemas");
  BOOST_REQUIRE_MESSAGE(loaded.ok(), testing::ErrorOf(loaded));
  BOOST_TEST((*loaded)->schemas().size() == Embedded().schemas().size());
  BOOST_TEST((*loaded)->resource_types().size() == Embedded().resource_types().size());
  auto missing = Registry::LoadDirectory("/nonexistent/scim-schemas");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST((missing.error().code == ErrorCode::kInternal));
}

BOOST_AUTO_TEST_SUITE_END()

// Bad schema files: each fails with kInvalidValue naming the file.
BOOST_AUTO_TEST_SUITE(RegistryLoadErrors)

void ExpectLoadError(const std::string& text, const std::string& expected_detail) {
  auto loaded = Registry::LoadFromTexts({{"bad.json", text}});
  BOOST_REQUIRE_MESSAGE(!loaded.ok(), "loaded: " << text);
  BOOST_TEST((loaded.error().code == ErrorCode::kInvalidValue));
  BOOST_TEST(Contains(loaded.error().detail, "bad.json"), loaded.error().detail);
  BOOST_TEST(Contains(loaded.error().detail, expected_detail), loaded.error().detail);
}

BOOST_AUTO_TEST_CASE(MalformedJson) { ExpectLoadError(R"({"id": "urn:x",})", "malformed JSON"); }

BOOST_AUTO_TEST_CASE(NeitherSchemaNorResourceType) {
  ExpectLoadError(R"({"id": "urn:x"})", "neither a schema");
  ExpectLoadError(R"("text")", "expected a JSON object or array");
  ExpectLoadError(R"([1])", "array entries must be JSON objects");
}

BOOST_AUTO_TEST_CASE(BadAttributes) {
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "a", "type": "strang"}]})",
                  "unknown type \"strang\"");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"type": "string"}]})", "missing \"name\"");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "a"}]})", "missing \"type\"");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "a", "type": "complex"}]})",
                  "subAttributes");
  ExpectLoadError(
      R"({"id": "urn:x", "attributes": [{"name": "a", "type": "string", "returned": "sometimes"}]})",
      "unknown returned");
  ExpectLoadError(
      R"({"id": "urn:x", "attributes": [{"name": "a", "type": "string", "multiValued": "yes"}]})",
      "must be a boolean");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "a", "type": "string"},
                                                     {"name": "A", "type": "string"}]})",
                  "duplicate attribute");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "a.b", "type": "string"}]})",
                  "not a valid attribute name");
  ExpectLoadError(R"({"id": "urn:x", "attributes": [{"name": "c", "type": "complex",
      "subAttributes": [{"name": "d", "type": "complex", "subAttributes": []}]}]})",
                  "attribute 'c.d'");
}

BOOST_AUTO_TEST_CASE(ResourceTypeWithUnknownSchema) {
  ExpectLoadError(R"({"name": "Thing", "endpoint": "/Things", "schema": "urn:missing"})",
                  "unknown schema 'urn:missing'");
  ExpectLoadError(R"({"name": "Thing", "endpoint": "Things", "schema": "urn:missing"})",
                  "must start with '/'");
}

BOOST_AUTO_TEST_CASE(DuplicateSchemaAcrossFiles) {
  const char* schema = R"({"id": "urn:x", "attributes": []})";
  auto loaded = Registry::LoadFromTexts({{"one.json", schema}, {"two.json", schema}});
  BOOST_REQUIRE(!loaded.ok());
  BOOST_TEST(Contains(loaded.error().detail, "two.json"), loaded.error().detail);
  BOOST_TEST(Contains(loaded.error().detail, "one.json"), loaded.error().detail);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(RegistryJson)

BOOST_AUTO_TEST_CASE(SchemaRepresentation) {
  json::Document doc;
  const Schema& user = *Embedded().FindSchema(kUserSchema);
  Embedded().SchemaToJson(user, "https://h/scim/v2", doc, doc.GetAllocator());
  BOOST_TEST(Str(&Member(doc, "schemas")->GetArray()[0]) ==
             "urn:ietf:params:scim:schemas:core:2.0:Schema");
  BOOST_TEST(Str(Member(doc, "id")) == std::string(kUserSchema));
  BOOST_TEST(Str(Member(doc, "name")) == "User");
  const json::Value* meta = Member(doc, "meta");
  BOOST_TEST(Str(Member(*meta, "resourceType")) == "Schema");
  BOOST_TEST(Str(Member(*meta, "location")) ==
             "https://h/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
  const json::Value& attributes = *Member(doc, "attributes");
  BOOST_REQUIRE(attributes.Size() == 21u);
  const json::Value& user_name = attributes[0];
  BOOST_TEST(Str(Member(user_name, "name")) == "userName");
  BOOST_TEST(Str(Member(user_name, "type")) == "string");
  BOOST_TEST(Member(user_name, "required")->GetBool());
  BOOST_TEST(!Member(user_name, "caseExact")->GetBool());
  BOOST_TEST(Str(Member(user_name, "uniqueness")) == "server");
  BOOST_TEST(Str(Member(user_name, "mutability")) == "readWrite");
  BOOST_TEST(Member(user_name, "subAttributes") == nullptr);
  BOOST_TEST(Member(attributes[1], "subAttributes")->Size() == 6u);
}

BOOST_AUTO_TEST_CASE(SchemaRepresentationLoadsBackUnchanged) {
  for (const Schema& schema : Embedded().schemas()) {
    json::Document doc;
    Embedded().SchemaToJson(schema, "http://x", doc, doc.GetAllocator());
    auto again = Registry::LoadFromTexts({{"round.json", json::Serialize(doc)}});
    BOOST_REQUIRE_MESSAGE(again.ok(), testing::ErrorOf(again));
    json::Document doc2;
    (*again)->SchemaToJson((*again)->schemas()[0], "http://x", doc2, doc2.GetAllocator());
    BOOST_TEST(json::Serialize(doc) == json::Serialize(doc2));
  }
}

BOOST_AUTO_TEST_CASE(ResourceTypeRepresentation) {
  json::Document doc;
  Embedded().ResourceTypeToJson(testing::UserType(), "https://h/scim/v2", doc, doc.GetAllocator());
  BOOST_TEST(Str(&Member(doc, "schemas")->GetArray()[0]) ==
             "urn:ietf:params:scim:schemas:core:2.0:ResourceType");
  BOOST_TEST(Str(Member(doc, "id")) == "User");
  BOOST_TEST(Str(Member(doc, "endpoint")) == "/Users");
  BOOST_TEST(Str(Member(doc, "schema")) == std::string(kUserSchema));
  const json::Value& ext = (*Member(doc, "schemaExtensions"))[0];
  BOOST_TEST(Str(Member(ext, "schema")) == std::string(kEnterpriseUserSchema));
  BOOST_TEST(!Member(ext, "required")->GetBool());
  const json::Value* meta = Member(doc, "meta");
  BOOST_TEST(Str(Member(*meta, "resourceType")) == "ResourceType");
  BOOST_TEST(Str(Member(*meta, "location")) == "https://h/scim/v2/ResourceTypes/User");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::schema
