// libFuzzer target for the Operations of a BulkRequest (RFC 7644 §3.7): json::Parse →
// service::ParseBulkOperations → service::PlanBulk. Beyond "no crash, no leak, no sanitizer
// report" it checks the promises of src/service/bulk_plan.h:
//   - every operation appears in exactly one step, and a step's operations are in request order;
//   - a step with more than one operation is marked circular;
//   - an operation referring to a bulkId that another step's POST defines comes after that step;
//   - malformed operations are invalidSyntax.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DSCIMD_FUZZ=ON -DSCIMD_TESTS=OFF
//        cmake --build build-fuzz --target fuzz_bulk
// Run:   build-fuzz/tests/fuzz/fuzz_bulk -max_total_time=30 tests/fuzz/corpus/bulk

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_invariant.h"
#include "scim/common/json.h"
#include "service/bulk_plan.h"

namespace {

using namespace scim;
using fuzzing::Fail;

void CheckPlan(const std::vector<service::BulkOperation>& ops,
               const std::vector<service::BulkStep>& plan, std::string_view input) {
  std::vector<int> step_of(ops.size(), -1);
  for (size_t s = 0; s < plan.size(); ++s) {
    const auto& step = plan[s];
    if (step.operations.empty()) Fail("empty step", input);
    if (step.operations.size() > 1 && !step.circular) Fail("a group that is not circular", input);
    for (size_t k = 0; k < step.operations.size(); ++k) {
      size_t i = step.operations[k];
      if (i >= ops.size() || step_of[i] != -1) Fail("operation planned twice or unknown", input);
      if (k > 0 && step.operations[k - 1] >= i) Fail("step not in request order", input);
      step_of[i] = static_cast<int>(s);
    }
  }
  for (int s : step_of) {
    if (s == -1) Fail("operation left out of the plan", input);
  }
  std::map<std::string, size_t> creator;
  for (const auto& op : ops) {
    if (op.method == "POST") creator[*op.bulk_id] = op.index;
  }
  for (const auto& op : ops) {
    for (const auto& ref : op.references) {
      auto it = creator.find(ref);
      if (it == creator.end()) continue;
      if (step_of[it->second] > step_of[op.index]) {
        Fail("operation planned before the POST it refers to", input, ref);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  json::Document doc;
  if (!json::Parse(input, doc).ok() || !doc.IsArray() || doc.Size() > 200) return 0;
  auto ops = service::ParseBulkOperations(doc);
  if (!ops.ok()) {
    if (ops.error().code != ErrorCode::kInvalidSyntax) Fail("parse error not invalidSyntax", input);
    return 0;
  }
  CheckPlan(*ops, service::PlanBulk(*ops), input);
  return 0;
}
