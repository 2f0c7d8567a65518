#pragma once
// Validation and normalization of the resources clients write (POST and PUT bodies, and the
// result of applying a PATCH) against the schema registry. Pure function of its inputs: no I/O,
// safe to call from any thread.

#include <cstddef>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/registry.h"

namespace scim::schema {

enum class WriteMode { kCreate, kReplace };

// Any string value longer than this many bytes is rejected (kInvalidValue "value too long").
inline constexpr size_t kMaxStringBytes = 64 * 1024;

// Normalizes a client resource for storage (RFC 7643 §2, §7; RFC 7644 §3.3, §3.5.1). On success
// `out` holds a new object: "schemas" (canonical URNs), "externalId" if given, the attributes of
// the core schema under their canonical names, and one object per extension under its canonical
// URN. `id`, `meta` and readOnly attributes are dropped; `password` is kept (the service hashes
// and strips it). `existing` is the stored resource for kReplace (else nullptr); it is only read
// for the immutability rule.
//
// Errors (the detail names the attribute path):
//   kInvalidSyntax  not an object; "schemas" missing, not an array of strings, without the core
//                   URN, or with a URN the resource type does not allow ("unknown schema ...");
//                   an attribute unknown to the schemas, or given twice.
//   kInvalidValue   a value of the wrong type; an array for a single-valued attribute; a value
//                   outside canonicalValues; a missing or empty required attribute; a string
//                   over kMaxStringBytes; more than one "primary": true in a multi-valued
//                   attribute.
//   kMutability     kReplace changes an immutable attribute that already has a value.
//
// Tolerated client quirks: booleans sent as "true"/"false" strings in any case (Entra ID); a
// single value or object for a multi-valued attribute (wrapped into an array); an extension
// object whose URN is missing from "schemas" (the URN is added); a top-level key
// "<schema URN>:<attribute>" (moved under the schema it names).
Status NormalizeResource(const Registry& registry, const ResourceType& type,
                         const json::Value& input, WriteMode mode, const json::Value* existing,
                         json::Document& out);

}  // namespace scim::schema
