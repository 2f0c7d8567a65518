#include <boost/test/unit_test.hpp>

#include "schema/schema_fixture.h"
#include "scim/schema/registry.h"

namespace scim::schema {
namespace {

using testing::Contains;
using testing::Embedded;
using testing::GroupType;
using testing::UserType;

ResolvedPath Resolve(const ResourceType& type, std::string_view path) {
  auto r = Embedded().ResolvePath(type, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), "ResolvePath(" << path << "): " << testing::ErrorOf(r));
  return *r;
}

const std::string kEnterprise(kEnterpriseUserSchema);

BOOST_AUTO_TEST_SUITE(ResolvePathTest)

BOOST_AUTO_TEST_CASE(CoreAttributeCaseInsensitive) {
  ResolvedPath p = Resolve(UserType(), "USERNAME");
  BOOST_TEST(p.attribute->name == "userName");
  BOOST_TEST(p.sub_attribute == nullptr);
  BOOST_TEST(p.schema_urn == std::string(kUserSchema));
  BOOST_TEST(!p.in_extension);
  BOOST_TEST(!p.is_common);
  BOOST_TEST(p.CanonicalName() == "userName");
  BOOST_TEST(p.QualifiedName() == "userName");
}

BOOST_AUTO_TEST_CASE(SubAttribute) {
  ResolvedPath p = Resolve(UserType(), "name.GIVENNAME");
  BOOST_TEST(p.attribute->name == "name");
  BOOST_REQUIRE(p.sub_attribute != nullptr);
  BOOST_TEST(p.Leaf().name == "givenName");
  BOOST_TEST(p.CanonicalName() == "name.givenName");
  BOOST_TEST(Resolve(UserType(), "emails.value").CanonicalName() == "emails.value");
  BOOST_TEST(Resolve(GroupType(), "members.$ref").CanonicalName() == "members.$ref");
}

BOOST_AUTO_TEST_CASE(CoreUrnPrefix) {
  ResolvedPath p = Resolve(UserType(), "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName");
  BOOST_TEST(p.QualifiedName() == "name.givenName");
  BOOST_TEST(!p.in_extension);
  ResolvedPath q = Resolve(UserType(), "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName");
  BOOST_TEST(q.CanonicalName() == "userName");
}

BOOST_AUTO_TEST_CASE(ExtensionUrnPrefix) {
  ResolvedPath p = Resolve(UserType(), kEnterprise + ":manager.value");
  BOOST_TEST(p.in_extension);
  BOOST_TEST(p.schema_urn == kEnterprise);
  BOOST_TEST(p.CanonicalName() == "manager.value");
  BOOST_TEST(p.QualifiedName() == kEnterprise + ":manager.value");
  ResolvedPath q = Resolve(UserType(), kEnterprise + ":EMPLOYEENUMBER");
  BOOST_TEST(q.QualifiedName() == kEnterprise + ":employeeNumber");
  ResolvedPath g = Resolve(GroupType(), std::string(kScimdGroupSchema) + ":kind");
  BOOST_TEST(g.in_extension);
  BOOST_TEST(g.attribute->name == "kind");
}

BOOST_AUTO_TEST_CASE(ExtensionAttributeWithoutUrn) {
  ResolvedPath p = Resolve(UserType(), "employeeNumber");
  BOOST_TEST(p.in_extension);
  BOOST_TEST(p.schema_urn == kEnterprise);
  BOOST_TEST(p.QualifiedName() == kEnterprise + ":employeeNumber");
  BOOST_TEST(Resolve(UserType(), "manager.displayName").Leaf().name == "displayName");
  BOOST_TEST(Resolve(GroupType(), "KIND").schema_urn == std::string(kScimdGroupSchema));
}

BOOST_AUTO_TEST_CASE(CoreWinsOverExtension) {
  // "displayName" is core on Group; "organization" exists only in the enterprise extension.
  BOOST_TEST(!Resolve(GroupType(), "displayName").in_extension);
  BOOST_TEST(Resolve(UserType(), "organization").in_extension);
}

BOOST_AUTO_TEST_CASE(CommonAttributes) {
  for (const char* path : {"id", "externalId", "meta"}) {
    ResolvedPath p = Resolve(UserType(), path);
    BOOST_TEST(p.is_common, path);
    BOOST_TEST(p.schema_urn.empty(), path);
    BOOST_TEST(p.QualifiedName() == path);
  }
  for (const char* sub : {"created", "lastModified", "resourceType", "version", "location"}) {
    ResolvedPath p = Resolve(GroupType(), std::string("meta.") + sub);
    BOOST_TEST(p.is_common);
    BOOST_TEST(p.Leaf().name == sub);
  }
  BOOST_TEST((Resolve(UserType(), "META.LASTMODIFIED").Leaf().type == AttributeType::kDateTime));
  BOOST_TEST(Resolve(UserType(), "urn:ietf:params:scim:schemas:core:2.0:User:id").is_common);
}

void ExpectBad(const ResourceType& type, std::string_view path, const std::string& detail) {
  auto r = Embedded().ResolvePath(type, path);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "resolved: " << path);
  BOOST_TEST((r.error().code == ErrorCode::kInvalidPath), path);
  BOOST_TEST(Contains(r.error().detail, detail), r.error().detail);
  BOOST_TEST(Contains(r.error().detail, std::string(path)), r.error().detail);
}

BOOST_AUTO_TEST_CASE(BadPaths) {
  ExpectBad(UserType(), "nickname2", "unknown attribute 'nickname2'");
  ExpectBad(UserType(), "name.nickName", "unknown sub-attribute 'nickName'");
  ExpectBad(UserType(), "userName.first", "has no sub-attributes");
  ExpectBad(UserType(), "name.givenName.x", "malformed");
  ExpectBad(UserType(), "", "malformed");
  ExpectBad(UserType(), "name.", "malformed");
  ExpectBad(UserType(), "urn:example:unknown:attr", "unknown schema 'urn:example:unknown'");
  ExpectBad(UserType(), kEnterprise + ":nope", "unknown attribute 'nope'");
  ExpectBad(UserType(), kEnterprise, "a schema URN is not an attribute");
  ExpectBad(UserType(), "emails[type eq \"work\"].value", "unknown attribute");
  ExpectBad(GroupType(), "employeeNumber", "unknown attribute");
  ExpectBad(GroupType(), kEnterprise + ":employeeNumber", "unknown schema");
  ExpectBad(GroupType(), "meta.etag", "unknown sub-attribute");
}

BOOST_AUTO_TEST_CASE(FilterErrorsAreInvalidFilter) {
  auto r = Embedded().ResolvePath(UserType(), "bogus", /*for_filter=*/true);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == ErrorCode::kInvalidFilter));
}

BOOST_AUTO_TEST_CASE(AmbiguousExtensionAttribute) {
  auto registry = Registry::LoadFromTexts({
      {"core.json", R"({"id": "urn:t:Core", "attributes": [{"name": "a", "type": "string"}]})"},
      {"e1.json", R"({"id": "urn:t:E1", "attributes": [{"name": "x", "type": "string"}]})"},
      {"e2.json", R"({"id": "urn:t:E2", "attributes": [{"name": "x", "type": "string"}]})"},
      {"type.json", R"({"name": "T", "endpoint": "/T", "schema": "urn:t:Core",
        "schemaExtensions": [{"schema": "urn:t:E1"}, {"schema": "urn:t:E2"}]})"},
  });
  BOOST_REQUIRE_MESSAGE(registry.ok(), testing::ErrorOf(registry));
  const ResourceType& type = *(*registry)->FindResourceType("T");
  auto r = (*registry)->ResolvePath(type, "x");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(Contains(r.error().detail, "ambiguous"));
  auto e2 = (*registry)->ResolvePath(type, "urn:t:E2:x");
  BOOST_REQUIRE(e2.ok());
  BOOST_TEST(e2->schema_urn == "urn:t:E2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::schema
