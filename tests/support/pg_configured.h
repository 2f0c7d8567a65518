#pragma once
// Boost.Test precondition for unit cases that need a real PostgreSQL: they run when
// SCIMD_TEST_PG_URL names one (ctest sets it for the *_postgresql entries, against the throwaway
// cluster) and are reported as skipped otherwise.

#include <boost/test/unit_test.hpp>
#include <cstdlib>

namespace scim::testing {

struct PostgresConfigured {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    const char* url = std::getenv("SCIMD_TEST_PG_URL");
    boost::test_tools::assertion_result result(url != nullptr && *url != '\0');
    result.message() << "SCIMD_TEST_PG_URL is not set";
    return result;
  }
};

}  // namespace scim::testing
