#pragma once
// /Bulk (RFC 7644 §3.7): runs the operations of a BulkRequest in order through ResourceService,
// resolving "bulkId:<id>" references (§3.7.2) to the ids created earlier in the same request.
// Each operation is its own transaction; failOnErrors stops processing after that many errors.

#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/service/resource_service.h"

namespace scim::service {

// The outcome of one operation, for the BulkResponse.
struct BulkOutcome {
  std::string method;               // as the client wrote it, upper-cased
  std::optional<std::string> bulk_id;
  std::optional<std::string> location;
  std::optional<std::string> version;
  int success_status = 200;         // 201 for POST, 204 for DELETE, else 200 (when ok)
  std::optional<Error> error;       // set when the operation failed
};

struct BulkLimits {
  int64_t max_operations = 1000;
};

// Validates the request (schemas, Operations) and runs it. Errors of the request as a whole:
// kInvalidSyntax (malformed), kPayloadTooLarge (more than max_operations, §3.7.4).
Result<std::vector<BulkOutcome>> RunBulk(ResourceService& service, const RequestContext& ctx,
                                         const json::Value& request, const BulkLimits& limits);

}  // namespace scim::service
