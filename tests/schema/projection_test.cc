#include "scim/schema/projection.h"

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

// A stored User with a value for most kinds of attribute (password included, to prove that
// "never" wins even if one slipped into storage).
std::string StoredUser() {
  return R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ")" + kEnterprise + R"("],
    "id": "u1", "externalId": "ext-1",
    "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00.000Z",
             "lastModified": "2024-01-02T00:00:00.000Z", "location": "http://h/Users/u1",
             "version": "W/\"3\""},
    "userName": "bjensen", "displayName": "Barbara", "password": "hash",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "c@x", "type": "home"}],
    "groups": [{"value": "g1", "display": "Admins"}],
    ")" + kEnterprise +
         R"(": {"employeeNumber": "42", "department": "Sales",
                              "manager": {"value": "m1", "displayName": "Boss"}}})";
}

AttributeSelection Select(const ResourceType& type, std::string_view attributes,
                          std::string_view excluded) {
  auto sel = ParseSelection(Embedded(), type, attributes, excluded);
  BOOST_REQUIRE_MESSAGE(sel.ok(), ErrorOf(sel));
  return *sel;
}

// Projects the stored user and returns it serialized.
std::string ProjectUser(std::string_view attributes, std::string_view excluded) {
  json::Document doc = ParseJson(StoredUser());
  AttributeSelection sel = Select(testing::UserType(), attributes, excluded);
  Project(Embedded(), testing::UserType(), sel, doc, doc.GetAllocator());
  return json::Serialize(doc);
}

json::Document ProjectUserDoc(std::string_view attributes, std::string_view excluded) {
  return ParseJson(ProjectUser(attributes, excluded));
}

std::vector<std::string> Keys(const json::Value& object) {
  std::vector<std::string> keys;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    keys.emplace_back(json::View(it->name));
  }
  return keys;
}

using Strings = std::vector<std::string>;

BOOST_AUTO_TEST_SUITE(ParseSelectionTest)

BOOST_AUTO_TEST_CASE(CanonicalizesPaths) {
  AttributeSelection sel =
      Select(testing::UserType(),
             "USERNAME, urn:ietf:params:scim:schemas:core:2.0:User:name.givenName,employeenumber,"
             "META.LASTMODIFIED",
             "Emails.Value," + kEnterprise + ":MANAGER");
  BOOST_TEST((sel.attributes == Strings{"userName", "name.givenName",
                                        kEnterprise + ":employeeNumber", "meta.lastModified"}));
  BOOST_TEST((sel.excluded_attributes == Strings{"emails.value", kEnterprise + ":manager"}));
}

BOOST_AUTO_TEST_CASE(EmptyItemsSkippedDuplicatesRemoved) {
  AttributeSelection sel = Select(testing::UserType(), "userName,,  ,USERNAME", "");
  BOOST_TEST((sel.attributes == Strings{"userName"}));
  BOOST_TEST(sel.excluded_attributes.empty());
  AttributeSelection none = Select(testing::UserType(), "", "");
  BOOST_TEST(none.attributes.empty());
}

BOOST_AUTO_TEST_CASE(SchemasIsAccepted) {
  AttributeSelection sel = Select(testing::UserType(), "Schemas,userName", "");
  BOOST_TEST((sel.attributes == Strings{"schemas", "userName"}));
}

BOOST_AUTO_TEST_CASE(ExtensionUrnAlone) {
  AttributeSelection sel = Select(testing::UserType(), "",
                                  "urn:ietf:params:scim:schemas:extension:"
                                  "ENTERPRISE:2.0:User");
  BOOST_TEST((sel.excluded_attributes == Strings{kEnterprise}));
}

BOOST_AUTO_TEST_CASE(BadPathIsInvalidPath) {
  auto sel = ParseSelection(Embedded(), testing::UserType(), "userName,shoeSize", "");
  BOOST_REQUIRE(!sel.ok());
  BOOST_TEST((sel.error().code == ErrorCode::kInvalidPath));
  BOOST_TEST(Contains(sel.error().detail, "shoeSize"));
  auto excluded = ParseSelection(Embedded(), testing::GroupType(), "", "members.nope");
  BOOST_REQUIRE(!excluded.ok());
  BOOST_TEST((excluded.error().code == ErrorCode::kInvalidPath));
  BOOST_TEST(!ParseSelection(Embedded(), testing::GroupType(), "employeeNumber", "").ok());
}

// Vendors' test suites send attributes=emails[type eq "work"]: the path without its filter is
// selected and the item is kept for the service, which filters the elements.
BOOST_AUTO_TEST_CASE(ValueFilteredPathsInAttributes) {
  AttributeSelection sel = Select(testing::UserType(),
                                  "userName,emails[type eq \"a,b]\"],emails[type eq "
                                  "\"work\"].value," +
                                      std::string("urn:ietf:params:scim:schemas:core:2.0:User:"
                                                  "phoneNumbers[type eq \"x\"]"),
                                  "");
  BOOST_TEST((sel.attributes == Strings{"userName", "emails", "emails.value", "phoneNumbers"}));
  BOOST_TEST((sel.value_filtered ==
              Strings{"emails[type eq \"a,b]\"]", "emails[type eq \"work\"].value",
                      "urn:ietf:params:scim:schemas:core:2.0:User:phoneNumbers[type eq \"x\"]"}));
  for (const char* bad :
       {"emails[type eq \"work\"", "userName[value eq \"x\"]", "name[givenName eq \"x\"]",
        "emails[type eq \"w\"]x", "nope[type eq \"w\"]"}) {
    auto refused = ParseSelection(Embedded(), testing::UserType(), bad, "");
    BOOST_TEST_REQUIRE(!refused.ok(), bad);
    BOOST_TEST((refused.error().code == ErrorCode::kInvalidPath), bad);
  }
  // excludedAttributes stays plain paths.
  BOOST_TEST(!ParseSelection(Embedded(), testing::UserType(), "", "emails[type eq \"work\"]").ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ProjectTest)

BOOST_AUTO_TEST_CASE(DefaultDropsOnlyNeverReturned) {
  json::Document doc = ProjectUserDoc("", "");
  BOOST_TEST(Member(doc, "password") == nullptr);
  BOOST_TEST((Keys(doc) == Strings{"schemas", "id", "externalId", "meta", "userName", "displayName",
                                   "name", "emails", "groups", kEnterprise}));
  BOOST_TEST(Keys(*Member(doc, "meta")).size() == 5u);
  BOOST_TEST(Member(doc, "emails")->Size() == 2u);
}

BOOST_AUTO_TEST_CASE(AttributesKeepsListedPlusAlwaysReturned) {
  json::Document doc = ProjectUserDoc("userName", "");
  BOOST_TEST((Keys(doc) == Strings{"schemas", "id", "meta", "userName"}));
  BOOST_TEST((Keys(*Member(doc, "meta")) == Strings{"resourceType"}));
}

BOOST_AUTO_TEST_CASE(SubAttributeSelection) {
  json::Document doc = ProjectUserDoc("name.familyName,emails.value", "");
  BOOST_TEST((Keys(*Member(doc, "name")) == Strings{"familyName"}));
  const json::Value& emails = *Member(doc, "emails");
  BOOST_REQUIRE(emails.Size() == 2u);
  BOOST_TEST((Keys(emails[0]) == Strings{"value"}));
  BOOST_TEST(Str(Member(emails[1], "value")) == "c@x");
}

BOOST_AUTO_TEST_CASE(ParentSelectionKeepsAllItsSubAttributes) {
  json::Document doc = ProjectUserDoc("name,emails", "");
  BOOST_TEST((Keys(*Member(doc, "name")) == Strings{"givenName", "familyName"}));
  BOOST_TEST((Keys((*Member(doc, "emails"))[0]) == Strings{"value", "type", "primary"}));
  json::Document both = ProjectUserDoc("name,name.givenName", "");
  BOOST_TEST((Keys(*Member(both, "name")) == Strings{"givenName", "familyName"}));
}

BOOST_AUTO_TEST_CASE(MetaSubAttribute) {
  json::Document doc = ProjectUserDoc("meta.lastModified", "");
  BOOST_TEST((Keys(*Member(doc, "meta")) == Strings{"resourceType", "lastModified"}));
}

BOOST_AUTO_TEST_CASE(ExcludedAttributes) {
  json::Document doc = ProjectUserDoc("", "emails,meta,name.givenName,externalId");
  BOOST_TEST(Member(doc, "emails") == nullptr);
  BOOST_TEST(Member(doc, "externalId") == nullptr);
  BOOST_TEST((Keys(*Member(doc, "meta")) == Strings{"resourceType"}));
  BOOST_TEST((Keys(*Member(doc, "name")) == Strings{"familyName"}));
  BOOST_TEST(Str(Member(doc, "userName")) == "bjensen");
}

BOOST_AUTO_TEST_CASE(AlwaysReturnedCannotBeExcluded) {
  json::Document doc = ProjectUserDoc("", "id,schemas");
  BOOST_TEST(Str(Member(doc, "id")) == "u1");
  BOOST_TEST(Member(doc, "schemas") != nullptr);
}

BOOST_AUTO_TEST_CASE(NeverReturnedCannotBeRequested) {
  json::Document doc = ProjectUserDoc("password", "");
  BOOST_TEST(Member(doc, "password") == nullptr);
  BOOST_TEST((Keys(doc) == Strings{"schemas", "id", "meta"}));
}

BOOST_AUTO_TEST_CASE(ExtensionAttributes) {
  json::Document doc = ProjectUserDoc(kEnterprise + ":manager.value", "");
  BOOST_TEST((Keys(doc) == Strings{"schemas", "id", "meta", kEnterprise}));
  const json::Value& ext = *Member(doc, kEnterprise.c_str());
  BOOST_TEST((Keys(ext) == Strings{"manager"}));
  BOOST_TEST((Keys(*Member(ext, "manager")) == Strings{"value"}));

  json::Document short_name = ProjectUserDoc("employeeNumber", "");
  BOOST_TEST((Keys(*Member(short_name, kEnterprise.c_str())) == Strings{"employeeNumber"}));

  json::Document whole = ProjectUserDoc(kEnterprise, "");
  BOOST_TEST(Keys(*Member(whole, kEnterprise.c_str())).size() == 3u);
}

BOOST_AUTO_TEST_CASE(EmptyExtensionIsRemovedButStaysInSchemas) {
  json::Document doc = ProjectUserDoc("userName", "");
  BOOST_TEST(Member(doc, kEnterprise.c_str()) == nullptr);
  BOOST_TEST(Member(doc, "schemas")->Size() == 2u);
  json::Document excluded = ProjectUserDoc("", kEnterprise);
  BOOST_TEST(Member(excluded, kEnterprise.c_str()) == nullptr);
  json::Document partly =
      ProjectUserDoc("", kEnterprise + ":department," + kEnterprise + ":manager");
  BOOST_TEST((Keys(*Member(partly, kEnterprise.c_str())) == Strings{"employeeNumber"}));
}

BOOST_AUTO_TEST_CASE(ReturnedRequest) {
  const Registry& r = testing::Widgets();
  const ResourceType& type = testing::WidgetType();
  const char* stored =
      R"({"schemas": ["urn:test:Widget"], "id": "w1", "label": "w", "secret": "s"})";
  for (auto [attributes, excluded, expect_secret] : {std::tuple{"", "", false},
                                                     {"label", "", false},
                                                     {"secret", "", true},
                                                     {"", "label", false}}) {
    json::Document doc = ParseJson(stored);
    auto sel = ParseSelection(r, type, attributes, excluded);
    BOOST_REQUIRE(sel.ok());
    Project(r, type, *sel, doc, doc.GetAllocator());
    BOOST_TEST((Member(doc, "secret") != nullptr) == expect_secret,
               "attributes=" << attributes << " excluded=" << excluded);
    BOOST_TEST(Member(doc, "id") != nullptr);
  }
}

BOOST_AUTO_TEST_CASE(GroupMembers) {
  const char* stored = R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
      "displayName": "Admins", "members": [{"value": "u1", "type": "User", "display": "B"}]})";
  json::Document doc = ParseJson(stored);
  Project(Embedded(), testing::GroupType(), Select(testing::GroupType(), "", "members"), doc,
          doc.GetAllocator());
  BOOST_TEST((Keys(doc) == Strings{"schemas", "id", "displayName"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(MayReturnTest)

bool May(const ResourceType& type, std::string_view attributes, std::string_view excluded,
         std::string_view path) {
  return schema::MayReturn(Embedded(), type, Select(type, attributes, excluded), path);
}

BOOST_AUTO_TEST_CASE(Members) {
  const ResourceType& group = testing::GroupType();
  BOOST_TEST(May(group, "", "", "members"));
  BOOST_TEST(!May(group, "", "members", "members"));
  BOOST_TEST(!May(group, "", "MEMBERS", "members.value"));
  BOOST_TEST(!May(group, "displayName", "", "members"));
  BOOST_TEST(May(group, "members.value", "", "members"));
  BOOST_TEST(May(group, "members.value", "", "members.value"));
  BOOST_TEST(!May(group, "members.value", "", "members.display"));
  BOOST_TEST(May(group, "", "members.display", "members"));
}

BOOST_AUTO_TEST_CASE(ReturnedCharacteristics) {
  const ResourceType& user = testing::UserType();
  BOOST_TEST(May(user, "userName", "", "id"));
  BOOST_TEST(May(user, "userName", "", "meta.resourceType"));
  BOOST_TEST(!May(user, "userName", "", "meta.created"));
  BOOST_TEST(!May(user, "", "", "password"));
  BOOST_TEST(!May(user, "password", "", "password"));
  BOOST_TEST(May(user, "", "", "groups"));
  BOOST_TEST(!May(user, "", "groups", "groups"));
  BOOST_TEST(May(user, kEnterprise, "", "manager.value"));
  BOOST_TEST(!May(user, "", kEnterprise, "employeeNumber"));
  BOOST_TEST(!May(user, "", "", "shoeSize"));
  BOOST_TEST(May(user, "userName", "schemas", "schemas"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::schema
