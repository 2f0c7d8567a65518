#pragma once
// /Bulk (RFC 7644 §3.7), independent of HTTP.
//
// Order: operations run in the order written, except that an operation referring to
// "bulkId:<x>" (in its data or its path, §3.7.2) runs after the POST that creates <x>, wherever
// that POST is in the request. POSTs that refer to each other in a circle (§3.7.1) are created
// first without those references and linked after by a PATCH, all in one savepoint: when that is
// impossible (a reference in an attribute the create needs) every operation of the circle gets
// 409 and none of them leaves anything behind.
//
// Transactions: operations commit in groups (up to kBulkOperationsPerTransaction) instead of one
// transaction each; each operation still succeeds or fails alone (a savepoint), and when a
// group's commit fails every operation of the group reports that error.
//
// failOnErrors: after that many errors the remaining operations are not attempted and each of
// them is reported as failed (412, "not attempted"), so the client can tell them from the ones
// that ran (§3.7.3: "failing the remaining operations").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/service/resource_service.h"

namespace scim::service {

inline constexpr size_t kBulkOperationsPerTransaction = 1000;

// The outcome of one operation, for the BulkResponse.
struct BulkOutcome {
  std::string method;  // as the client wrote it, upper-cased
  std::optional<std::string> bulk_id;
  std::optional<std::string> location;  // absent only for a failed POST (§3.7.3)
  std::optional<std::string> version;
  int success_status = 200;    // 201 for POST, 204 for DELETE, else 200 (when ok)
  std::optional<Error> error;  // set when the operation failed
};

struct BulkLimits {
  int64_t max_operations = 1000;
};

// Validates the request (Operations, methods, paths, unique bulkIds) and runs it. Errors of the
// request as a whole: kInvalidSyntax (malformed), kPayloadTooLarge (more than max_operations,
// §3.7.4). Otherwise one outcome per operation, in the order of the request.
Result<std::vector<BulkOutcome>> RunBulk(ResourceService& service, const RequestContext& ctx,
                                         const json::Value& request, const BulkLimits& limits);

// The number of operations a BulkRequest holds (0 when it has no Operations array): what a
// Bulk request counts for against a rate limit.
int64_t CountBulkOperations(const json::Value& request);

}  // namespace scim::service
