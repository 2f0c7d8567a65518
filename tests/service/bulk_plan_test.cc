// The order of a BulkRequest's operations (RFC 7644 §3.7.1, §3.7.2): request order unless a
// bulkId reference needs another operation first; circles become one step.

#include "service/bulk_plan.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "support/test_json.h"

namespace scim::service {
namespace {

using scim::testing::ParseJson;

// A POST of a user named after its bulkId, whose manager is `manager` (a bulkId) if given.
std::string Post(const std::string& bulk_id, const std::string& manager = "") {
  std::string data = "{\"userName\":\"" + bulk_id + "\"";
  if (!manager.empty()) data += ",\"manager\":{\"value\":\"bulkId:" + manager + "\"}";
  return "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"" + bulk_id +
         "\",\"data\":" + data + "}}";
}

std::vector<BulkStep> PlanOf(const std::string& operations_json, json::Document& keep) {
  keep = ParseJson(operations_json);
  auto ops = ParseBulkOperations(keep);
  BOOST_REQUIRE(ops.ok());
  return PlanBulk(*ops);
}

// The plan as text: "0 1 (2 3) 4" (a circle in parentheses).
std::string Describe(const std::vector<BulkStep>& plan) {
  std::string out;
  for (const BulkStep& step : plan) {
    if (!out.empty()) out += " ";
    std::string inner;
    for (size_t i : step.operations) inner += (inner.empty() ? "" : " ") + std::to_string(i);
    out += step.circular ? "(" + inner + ")" : inner;
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(bulk_plan)

BOOST_AUTO_TEST_CASE(without_references_the_request_order_is_kept) {
  json::Document doc;
  BOOST_TEST(Describe(PlanOf("[" + Post("a") + "," + Post("b") + "," + Post("c") + "]", doc)) ==
             "0 1 2");
}

BOOST_AUTO_TEST_CASE(a_reference_to_a_later_post_runs_after_it) {
  json::Document doc;
  // 0 needs 2; 1 is independent and keeps its place before 2.
  std::string ops = "[" + Post("a", "c") + "," + Post("b") + "," + Post("c") + "]";
  BOOST_TEST(Describe(PlanOf(ops, doc)) == "1 2 0");
}

BOOST_AUTO_TEST_CASE(references_in_paths_count) {
  json::Document doc;
  std::string ops =
      "[{\"method\":\"DELETE\",\"path\":\"/Users/bulkId:u\"},"
      "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:u\",\"data\":{}}," +
      Post("u") + "]";
  auto plan = PlanOf(ops, doc);
  BOOST_TEST(Describe(plan) == "2 0 1");
}

BOOST_AUTO_TEST_CASE(circles_become_one_step_after_their_dependencies) {
  json::Document doc;
  // 1 and 2 refer to each other; 2 also needs 3; 0 needs 1.
  std::string ops = "[" + Post("z", "a") + "," + Post("a", "b") + "," +
                    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"b\",\"data\":{"
                    "\"displayName\":\"b\",\"members\":[{\"value\":\"bulkId:a\"},"
                    "{\"value\":\"bulkId:c\"}]}}," +
                    Post("c") + "]";
  BOOST_TEST(Describe(PlanOf(ops, doc)) == "3 (1 2) 0");
}

BOOST_AUTO_TEST_CASE(a_self_reference_is_a_circle) {
  json::Document doc;
  BOOST_TEST(Describe(PlanOf("[" + Post("me", "me") + "," + Post("x") + "]", doc)) == "(0) 1");
}

BOOST_AUTO_TEST_CASE(unknown_bulk_ids_do_not_reorder) {
  json::Document doc;
  BOOST_TEST(Describe(PlanOf("[" + Post("a", "nobody") + "," + Post("b") + "]", doc)) == "0 1");
}

BOOST_AUTO_TEST_CASE(a_long_chain_written_backwards_is_reversed) {
  json::Document doc;
  std::string ops = "[";
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    if (i) ops += ",";
    ops += i + 1 < n ? Post("u" + std::to_string(i), "u" + std::to_string(i + 1))
                     : Post("u" + std::to_string(i));
  }
  auto plan = PlanOf(ops + "]", doc);
  BOOST_REQUIRE(plan.size() == static_cast<size_t>(n));
  BOOST_TEST(plan.front().operations[0] == static_cast<size_t>(n - 1));
  BOOST_TEST(plan.back().operations[0] == 0u);
}

BOOST_AUTO_TEST_CASE(a_bulk_id_of_two_posts_is_refused) {
  json::Document doc = ParseJson("[" + Post("a") + "," + Post("a") + "]");
  auto ops = ParseBulkOperations(doc);
  BOOST_REQUIRE(!ops.ok());
  BOOST_TEST((ops.error().code == ErrorCode::kInvalidSyntax));
}

// What BulkRun looks a missing bulkId up in: only POSTs define one (RFC 7644 §3.7.2).
BOOST_AUTO_TEST_CASE(the_posts_of_each_bulk_id_are_collected) {
  json::Document doc = ParseJson(
      "[" + Post("a") + ",{\"method\":\"DELETE\",\"bulkId\":\"d\",\"path\":\"/Users/x\"}," +
      Post("b", "a") + "]");
  std::map<std::string, size_t> creators;
  BOOST_REQUIRE(ParseBulkOperations(doc, &creators).ok());
  BOOST_TEST((creators == std::map<std::string, size_t>{{"a", 0}, {"b", 2}}));
}

BOOST_AUTO_TEST_CASE(a_post_without_bulk_id_is_refused) {
  json::Document doc = ParseJson("[{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{}}]");
  BOOST_TEST(!ParseBulkOperations(doc).ok());
}

BOOST_AUTO_TEST_CASE(resolving_replaces_known_ids_and_names_the_first_unknown) {
  json::Document doc = ParseJson("{\"a\":\"bulkId:x\",\"b\":[{\"value\":\"BULKID:y\"}]}");
  std::map<std::string, std::string> ids{{"x", "id-x"}};
  auto missing = ResolveBulkIds(doc, ids, doc.GetAllocator());
  BOOST_TEST(missing.value_or("") == "y");
  BOOST_TEST(std::string(doc["a"].GetString()) == "id-x");
  ids["y"] = "id-y";
  BOOST_TEST(!ResolveBulkIds(doc, ids, doc.GetAllocator()).has_value());
  BOOST_TEST(std::string(doc["b"][0]["value"].GetString()) == "id-y");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::service
