// The table of `scimd sync status`.
#include "app/sync_text.h"

#include <boost/test/unit_test.hpp>

#include "support/sync_status_fixtures.h"

namespace scim::app {
namespace {

BOOST_AUTO_TEST_SUITE(sync_text)

BOOST_AUTO_TEST_CASE(one_line_per_target) {
  store::TargetStatus crm = testing::BusyTarget("HTTP 503\nsecond line");
  const store::TargetStatus idle = testing::IdleTarget();
  std::string text = SyncStatusText({crm, idle});
  BOOST_TEST(text.find("TARGET") == 0u);
  BOOST_TEST(text.find("LAST_ERROR\n") != std::string::npos);
  BOOST_TEST(
      text.find("crm              crm                 2         1        0         40       1") !=
          std::string::npos,
      text);
  BOOST_TEST(text.find("1.250s  HTTP 503\n") != std::string::npos, text);  // first line only
  BOOST_TEST(text.find("0.000s  -\n") != std::string::npos, text);
  BOOST_TEST(SyncStatusText({}).find("(no delivery targets)\n") != std::string::npos);
  BOOST_TEST(text.find("notice") == std::string::npos, text);
  crm.notices.push_back(testing::DepartmentNotice("Dolibarr defines no extra field 'department'"));
  text = SyncStatusText({crm, idle});
  BOOST_TEST(text.find("\nnotice crm: department: Dolibarr defines no extra field 'department' "
                       "(since 2026-12-07T10:00:00.000Z)\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("paused") == std::string::npos, text);
}

// A paused target (its circuit breaker is open) gets a line under its row: since, next probe,
// reason.
BOOST_AUTO_TEST_CASE(paused_target_line) {
  store::TargetStatus dolibarr;
  dolibarr.name = "dolibarr";
  dolibarr.type = "dolibarr";
  dolibarr = testing::Paused(dolibarr, "POST /thirdparties: HTTP 503", "2026-12-07T10:00:04.000Z");
  std::string text = SyncStatusText({dolibarr});
  BOOST_TEST(
      text.find("\n  paused since 2026-12-07T10:00:00.000Z, next probe "
                "2026-12-07T10:00:04.000Z: POST /thirdparties: HTTP 503\n") != std::string::npos,
      text);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::app
