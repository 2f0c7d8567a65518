#pragma once
// The parsed operations of a BulkRequest and the order to run them in (RFC 7644 §3.7.1, §3.7.2):
// no database, no service, so the ordering can be tested alone.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"

namespace scim::service {

inline constexpr std::string_view kBulkIdPrefix = "bulkId:";

struct BulkOperation {
  size_t index = 0;    // position in the request
  std::string method;  // upper-cased
  std::optional<std::string> bulk_id;
  std::optional<std::string> version;
  std::string path;
  const json::Value* data = nullptr;  // points into the request
  std::set<std::string> references;   // bulkIds named in data or path
};

// One step of the plan: a single operation, or POSTs that refer to each other in a circle.
struct BulkStep {
  std::vector<size_t> operations;  // indexes into the operation list, in request order
  bool circular = false;
};

// Parses Operations. kInvalidSyntax for a malformed operation or a bulkId used by two POSTs.
// `creators`, when given, receives the index of the POST of each bulkId.
Result<std::vector<BulkOperation>> ParseBulkOperations(
    const json::Value& operations, std::map<std::string, size_t>* creators = nullptr);

// Request order, except that an operation runs after the POSTs whose bulkIds it references;
// a circle of such references (or a POST referring to itself) becomes one circular step. Steps
// that wait for nothing keep the request order of their first operation. References to
// bulkIds no POST defines do not constrain the order (they fail when run).
std::vector<BulkStep> PlanBulk(const std::vector<BulkOperation>& operations);

// Whether `value` holds a string "bulkId:<x>" with <x> in `ids` (any depth).
bool ReferencesAny(const json::Value& value, const std::set<std::string>& ids);

// Replaces every "bulkId:<x>" string in `value` by ids[x]. Returns the first <x> not in `ids`.
std::optional<std::string> ResolveBulkIds(json::Value& value,
                                          const std::map<std::string, std::string>& ids,
                                          json::Allocator& alloc);

}  // namespace scim::service
