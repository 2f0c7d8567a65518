// CanonicalScimTarget: SCIM endpoint names are matched case-insensitively (/scim/v2/users is
// /Users); ids, URNs, queries and other roots are left alone.

#include "http/scim_path_case.h"

#include <boost/test/unit_test.hpp>

namespace scim::http {
namespace {

BOOST_AUTO_TEST_SUITE(scim_path_case)

BOOST_AUTO_TEST_CASE(endpoint_names_get_their_canonical_case) {
  BOOST_TEST(CanonicalScimTarget("/scim/v2/users") == "/scim/v2/Users");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/USERS?filter=userName%20eq%20%22Ab%22") ==
             "/scim/v2/Users?filter=userName%20eq%20%22Ab%22");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/groups/AbC-12") == "/scim/v2/Groups/AbC-12");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/users/.SEARCH") == "/scim/v2/Users/.search");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/serviceproviderconfig") ==
             "/scim/v2/ServiceProviderConfig");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/resourcetypes/user") == "/scim/v2/ResourceTypes/user");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:User") ==
             "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/bulk") == "/scim/v2/Bulk");
  BOOST_TEST(CanonicalScimTarget("/scim/v2/.SEARCH") == "/scim/v2/.search");
}

BOOST_AUTO_TEST_CASE(everything_else_is_unchanged) {
  for (const char* same : {"/scim/v2/Users", "/scim/v2/Users/abc", "/scim/v2/Userss", "/scim/v2/",
                           "/scim/v2", "/SCIM/V2/users", "/admin/v1/tokens", "/console/",
                           "/healthz", "/scim/v2/unknown", "/scim/v2/Users?x=users", "*", ""}) {
    BOOST_TEST(CanonicalScimTarget(same) == same);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::http
