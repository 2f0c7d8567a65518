// Binder tests: path resolution against the registry, implicit `value`, type checks and
// literal typing (RFC 7644 §3.4.2.2), ne/null rewriting, value paths and PATCH paths.
#include "scim/filter/bind.h"

#include <boost/test/unit_test.hpp>

#include "filter/test_registry.h"
#include "scim/filter/parser.h"

namespace scim::filter {
namespace {

using testing::TypeOf;
using testing::WidgetRegistry;

Result<BoundFilter> BindText(std::string_view text, std::string_view type = "User") {
  const auto& registry = WidgetRegistry();
  return ParseAndBind(text, registry, TypeOf(registry, type));
}

BoundFilter MustBind(std::string_view text, std::string_view type = "User") {
  auto r = BindText(text, type);
  BOOST_TEST_REQUIRE(r.ok(), text << ": " << (r.ok() ? "" : r.error().detail));
  return std::move(*r);
}

std::string BindError(std::string_view text, std::string_view type = "User") {
  auto r = BindText(text, type);
  BOOST_TEST_REQUIRE(!r.ok(), "expected a bind error for: " << text);
  BOOST_TEST(std::string(ErrorCodeName(r.error().code)) == "invalidFilter", text);
  return r.error().detail;
}

int Kind(const BoundNode& n) { return static_cast<int>(n.kind); }
int K(BoundNode::Kind k) { return static_cast<int>(k); }

}  // namespace

BOOST_AUTO_TEST_SUITE(filter_bind)

BOOST_AUTO_TEST_CASE(resolves_paths_case_insensitively) {
  BoundFilter f = MustBind("USERNAME eq \"Bjensen\"");
  BOOST_TEST(Kind(f.root) == K(BoundNode::Kind::kCompare));
  BOOST_TEST(f.root.path.QualifiedName() == "userName");
  BOOST_TEST(!f.root.path.Leaf().case_exact);
  BOOST_TEST(static_cast<int>(f.root.value.type) == static_cast<int>(BoundValue::Type::kString));
  BOOST_TEST(f.root.value.text == "Bjensen");
  BOOST_TEST(MustBind("name.FAMILYNAME sw \"J\"").root.path.QualifiedName() == "name.familyName");
  BOOST_TEST(MustBind("id eq \"abc\"").root.path.is_common);
  BOOST_TEST(MustBind("meta.lastModified pr").root.path.QualifiedName() == "meta.lastModified");
  BoundFilter ext = MustBind("employeeNumber eq \"701984\"");
  BOOST_TEST(ext.root.path.in_extension);
  BOOST_TEST(ext.root.path.QualifiedName() ==
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
  BoundFilter mgr = MustBind(
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"");
  BOOST_TEST(mgr.root.path.QualifiedName() ==
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
  BOOST_TEST(MustBind("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"")
                 .root.path.QualifiedName() == "userName");
  BOOST_TEST(BindError("nickname2 eq \"x\"").find("nickname2") != std::string::npos);
  BOOST_TEST(BindError("name.nope eq \"x\"").find("nope") != std::string::npos);
  BOOST_TEST(BindError("urn:example:nope:foo eq \"x\"").find("urn:example:nope") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(complex_without_sub_attribute_uses_value) {
  BoundFilter f = MustBind("emails co \"example.com\"");
  BOOST_TEST(f.root.path.QualifiedName() == "emails.value");
  BoundFilter m = MustBind("members eq \"2819c223\"", "Group");
  BOOST_TEST(m.root.path.QualifiedName() == "members.value");
  BOOST_TEST(MustBind("groups eq \"g1\"").root.path.QualifiedName() == "groups.value");
  BOOST_TEST(BindError("name eq \"x\"") ==
             "complex attribute 'name' needs a sub-attribute to be compared");
  // pr on a complex attribute keeps the complex attribute.
  BoundFilter pr = MustBind("name pr");
  BOOST_TEST(pr.root.path.sub_attribute == nullptr);
  BOOST_TEST(pr.root.path.QualifiedName() == "name");
  BOOST_TEST(MustBind("emails pr").root.path.QualifiedName() == "emails");
}

BOOST_AUTO_TEST_CASE(never_returned_is_not_filterable) {
  BOOST_TEST(BindError("password eq \"secret\"") ==
             "attribute 'password' cannot be used in a filter");
  BindError("password pr");
  BindError("secret eq \"x\"", "Widget");
}

BOOST_AUTO_TEST_CASE(ne_and_null_rewriting) {
  BoundFilter ne = MustBind("title ne \"boss\"");
  BOOST_TEST(Kind(ne.root) == K(BoundNode::Kind::kNot));
  BOOST_TEST(static_cast<int>(ne.root.children[0].op) == static_cast<int>(CompareOp::kEq));
  BOOST_TEST(ne.ToString() == "not (title eq \"boss\")");
  BoundFilter eq_null = MustBind("title eq null");
  BOOST_TEST(eq_null.ToString() == "not (title pr)");
  BOOST_TEST(MustBind("title ne null").ToString() == "title pr");
  BOOST_TEST(MustBind("emails eq null").ToString() == "not (emails pr)");
  BOOST_TEST(BindError("title gt null") == "null can only be compared with eq or ne ('title')");
}

BOOST_AUTO_TEST_CASE(boolean_attributes) {
  BoundFilter t = MustBind("active eq true");
  BOOST_TEST(static_cast<int>(t.root.value.type) == static_cast<int>(BoundValue::Type::kBoolean));
  BOOST_TEST(t.root.value.boolean);
  BOOST_TEST(!MustBind("active eq \"False\"").root.value.boolean);  // Entra sends strings
  BOOST_TEST(MustBind("active eq TRUE").root.value.boolean);
  BOOST_TEST(MustBind("emails[primary eq true]").ToString() == "emails[emails.primary eq true]");
  BOOST_TEST(BindError("active gt true") ==
             "operator 'gt' cannot be used with boolean attribute 'active'");
  BindError("active le false");
  BindError("active co \"t\"");
  BindError("active sw \"t\"");
  BOOST_TEST(BindError("active eq \"yes\"") ==
             "'active' is boolean: expected true or false, got "
             "\"yes\"");
  BindError("active eq 1");
  BOOST_TEST(MustBind("active ne false").ToString() == "not (active eq false)");
}

BOOST_AUTO_TEST_CASE(datetime_attributes) {
  BoundFilter f = MustBind("meta.lastModified gt \"2011-05-13T04:42:34Z\"");
  BOOST_TEST(static_cast<int>(f.root.value.type) == static_cast<int>(BoundValue::Type::kDateTime));
  BOOST_TEST(f.root.value.text == "2011-05-13T04:42:34.000Z");
  BOOST_TEST(MustBind("meta.created ge \"2011-05-13T06:42:34.5+02:00\"").root.value.text ==
             "2011-05-13T04:42:34.500Z");
  BOOST_TEST(MustBind("meta.created lt 2011-05-13T04:42:34Z").root.value.text ==
             "2011-05-13T04:42:34.000Z");  // bare
  BOOST_TEST(BindError("meta.lastModified gt \"yesterday\"") ==
             "'meta.lastModified' is a dateTime: \"yesterday\" is not an xsd:dateTime");
  BindError("meta.created eq 2011");
  BindError("meta.created sw \"2011\"");
  BindError("meta.created co \"2011-05-13T04:42:34Z\"");
  BOOST_TEST(MustBind("since le \"2020-01-01T00:00:00Z\"", "Widget").root.value.text ==
             "2020-01-01T00:00:00.000Z");
  BOOST_TEST(MustBind("parts[at gt \"2020-01-01T00:00:00Z\"]", "Widget").ToString() ==
             "parts[parts.at gt \"2020-01-01T00:00:00.000Z\"]");
}

BOOST_AUTO_TEST_CASE(numeric_attributes) {
  BoundFilter f = MustBind("count gt 5", "Widget");
  BOOST_TEST(static_cast<int>(f.root.value.type) == static_cast<int>(BoundValue::Type::kNumber));
  BOOST_TEST(f.root.value.number == 5.0);
  BOOST_TEST(MustBind("count le \"7\"", "Widget").root.value.number == 7.0);
  BOOST_TEST(MustBind("score ge -1.25", "Widget").root.value.number == -1.25);
  BOOST_TEST(MustBind("nums eq 3", "Widget").root.path.QualifiedName() == "nums");
  BOOST_TEST(MustBind("level ge 2", "Widget").root.path.QualifiedName() ==
             "urn:scimd:test:schemas:extension:2.0:Widget:level");
  BOOST_TEST(BindError("count co 5", "Widget") ==
             "operator 'co' cannot be used with numeric attribute 'count'");
  BindError("count sw 5", "Widget");
  BindError("count eq \"abc\"", "Widget");
  BindError("count eq true", "Widget");
  BindError("score eq \"inf\"", "Widget");
}

BOOST_AUTO_TEST_CASE(string_binary_reference) {
  BoundFilter bare = MustBind("externalId eq 12345");
  BOOST_TEST(static_cast<int>(bare.root.value.type) == static_cast<int>(BoundValue::Type::kString));
  BOOST_TEST(bare.root.value.text == "12345");
  BOOST_TEST(MustBind("externalId eq jyoung").root.value.text == "jyoung");
  BOOST_TEST(MustBind("title eq true").root.value.text == "true");
  BOOST_TEST(MustBind("externalId eq 1.50").root.value.text == "1.50");
  BOOST_TEST(MustBind("blob eq \"AAEC\"", "Widget").root.value.text == "AAEC");
  BOOST_TEST(BindError("blob gt \"x\"", "Widget") ==
             "operator 'gt' cannot be used with binary attribute 'blob'");
  BindError("x509Certificates.value lt \"x\"");
  BOOST_TEST((MustBind("link sw \"https://\"", "Widget").root.path.Leaf().type ==
              schema::AttributeType::kReference));
  BOOST_TEST(MustBind("profileUrl gt \"a\"").root.path.QualifiedName() == "profileUrl");
}

BOOST_AUTO_TEST_CASE(value_paths) {
  BoundFilter f = MustBind("emails[type eq \"work\" and value co \"@example.com\"]");
  BOOST_TEST(Kind(f.root) == K(BoundNode::Kind::kValuePath));
  BOOST_TEST(f.root.path.QualifiedName() == "emails");
  const BoundNode& inner = f.root.children.at(0);
  BOOST_TEST(Kind(inner) == K(BoundNode::Kind::kAnd));
  BOOST_TEST(inner.children[0].path.QualifiedName() == "emails.type");
  BOOST_TEST(inner.children[1].path.QualifiedName() == "emails.value");
  BOOST_TEST(MustBind("members[value eq \"x\" and type eq \"User\"]", "Group").ToString() ==
             "members[members.value eq \"x\" and members.type eq \"User\"]");
  BOOST_TEST(MustBind("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value "
                      "eq \"m1\"]")
                 .ToString() ==
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[urn:ietf:params:"
             "scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m1\"]");
  BOOST_TEST(MustBind("emails[not (type ne \"work\")]").ToString() ==
             "emails[not (not (emails.type eq \"work\"))]");
  BOOST_TEST(BindError("userName[value eq \"x\"]") ==
             "value filter on 'userName', which is not a complex attribute");
  BindError("emails[nope eq \"x\"]");
  BindError("emails[emails.type eq \"x\"]");
  BindError("emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq \"x\"]");
}

BOOST_AUTO_TEST_CASE(bound_filter_is_a_copyable_value) {
  BoundFilter a = MustBind("emails[type eq \"work\"] or userName sw \"b\"");
  BoundFilter b = a;
  BOOST_TEST(b.ToString() == a.ToString());
  std::optional<BoundFilter> opt = b;
  BOOST_TEST(opt->ToString() == a.ToString());
}

BOOST_AUTO_TEST_CASE(patch_paths) {
  const auto& registry = WidgetRegistry();
  const auto& user = TypeOf(registry, "User");
  auto bind = [&](std::string_view text, const schema::ResourceType& type) -> Result<BoundPath> {
    auto parsed = ParsePath(text);
    if (!parsed.ok()) return parsed.error();
    return BindPath(*parsed, registry, type);
  };
  auto p = bind("emails[type eq \"work\"].value", user);
  BOOST_TEST_REQUIRE(p.ok(), (p.ok() ? "" : p.error().detail));
  BOOST_TEST(p->attribute.QualifiedName() == "emails");
  BOOST_TEST(p->target.QualifiedName() == "emails.value");
  BOOST_TEST_REQUIRE(p->value_filter.has_value());
  BOOST_TEST(p->value_filter->ToString() == "emails.type eq \"work\"");

  auto name = bind("name.familyName", user);
  BOOST_TEST_REQUIRE(name.ok());
  BOOST_TEST(name->attribute.QualifiedName() == "name");
  BOOST_TEST(name->target.QualifiedName() == "name.familyName");
  BOOST_TEST(!name->value_filter.has_value());

  auto members = bind("members[value eq \"2819c223\"]", TypeOf(registry, "Group"));
  BOOST_TEST_REQUIRE(members.ok());
  BOOST_TEST(members->target.QualifiedName() == "members");
  BOOST_TEST(members->value_filter->ToString() == "members.value eq \"2819c223\"");

  auto mgr = bind("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", user);
  BOOST_TEST_REQUIRE(mgr.ok());
  BOOST_TEST(mgr->target.in_extension);

  auto code = [&](std::string_view text) {
    auto r = bind(text, user);
    BOOST_TEST_REQUIRE(!r.ok(), text);
    return std::string(ErrorCodeName(r.error().code));
  };
  BOOST_TEST(code("nope") == "invalidPath");
  BOOST_TEST(code("name.nope") == "invalidPath");
  BOOST_TEST(code("userName[value pr]") == "invalidPath");
  BOOST_TEST(code("emails[nope eq \"x\"]") == "invalidFilter");
  BOOST_TEST(code("emails[primary gt true]") == "invalidFilter");
  BOOST_TEST(code("emails[type eq \"work\"].nope") == "invalidPath");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::filter
