// service::ParseAttributeSelection and ApplyValueFilters: attributes=emails[type eq "work"] returns
// only the elements the filter selects; bad filters are refused.

#include "scim/service/selection.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace scim::service {
namespace {

const schema::Registry& Registry() {
  static auto registry = *schema::Registry::LoadEmbedded();
  return *registry;
}

const schema::ResourceType& UserType() { return *Registry().FindResourceType("User"); }

std::string Filtered(const std::string& attributes) {
  json::Document doc;
  BOOST_REQUIRE(json::Parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id":"u1","userName":"bjensen","meta":{"resourceType":"User"},
      "emails":[{"value":"w@x","type":"work"},{"value":"h@x","type":"home","primary":true},
                {"value":"J\u00dcRGEN@x","type":"Work"}],
      "phoneNumbers":[{"value":"1","type":"home"}]})",
                            doc)
                    .ok());
  auto selection = ParseAttributeSelection(Registry(), UserType(), attributes, "");
  BOOST_REQUIRE_MESSAGE(selection.ok(), (selection.ok() ? "" : selection.error().detail));
  ApplyValueFilters(Registry(), UserType(), *selection, doc, doc.GetAllocator());
  schema::Project(Registry(), UserType(), *selection, doc, doc.GetAllocator());
  return json::Serialize(doc);
}

BOOST_AUTO_TEST_SUITE(selection)

BOOST_AUTO_TEST_CASE(value_filter_keeps_only_selected_elements) {
  std::string out = Filtered(R"(emails[type eq "work"])");
  BOOST_TEST(out.find(R"("value":"w@x")") != std::string::npos, out);
  BOOST_TEST(out.find("JÜRGEN@x") != std::string::npos, out);  // "Work": caseExact=false
  BOOST_TEST(out.find("h@x") == std::string::npos, out);
  BOOST_TEST(out.find("userName") == std::string::npos, out);
  BOOST_TEST(out.find("phoneNumbers") == std::string::npos, out);
  BOOST_TEST(out.find(R"("id":"u1")") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(sub_attribute_after_the_filter_and_several_filters) {
  std::string out = Filtered(R"(emails[primary eq true].value,userName)");
  BOOST_TEST(out.find(R"("emails":[{"value":"h@x"}])") != std::string::npos, out);
  BOOST_TEST(out.find("bjensen") != std::string::npos, out);
  out = Filtered(R"(emails[value sw "w"],emails[type eq "home"])");
  BOOST_TEST(out.find("w@x") != std::string::npos, out);
  BOOST_TEST(out.find("h@x") != std::string::npos, out);
  BOOST_TEST(out.find("JÜRGEN") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(no_selected_element_leaves_the_attribute_out) {
  std::string out = Filtered(R"(emails[type eq "other"],userName)");
  BOOST_TEST(out.find("emails") == std::string::npos, out);
  BOOST_TEST(out.find("bjensen") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(bad_filters_are_refused) {
  auto bad = ParseAttributeSelection(Registry(), UserType(), R"(emails[type xx "work"])", "");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.error().code == ErrorCode::kInvalidFilter));
  auto unknown = ParseAttributeSelection(Registry(), UserType(), R"(emails[shoe eq "1"])", "");
  BOOST_TEST(!unknown.ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::service
