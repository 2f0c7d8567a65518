#pragma once
// Bound SCIM filter (filter/bind.h) → SQL for the tables of migrations/<dialect>/001_initial.sql.
// Pure code: no SOCI calls. Internal to the store module.
//
// Storage the compiled SQL relies on (the contract with the indexer, store/resource_rows.*):
//   - resources r: id, external_id (values as given), user_name + user_name_lc and
//     display_name + display_name_lc (lc = scim::FoldCase(value), full length), active (1/0/NULL),
//     created/last_modified (scim::FormatTimestamp text), resource_type.
//   - group_members m: one row per member of a group (member_type 'User'|'Group').
//   - attr_values v: one row per non-null scalar leaf of every other attribute, core and
//     extension: path = ToLower(ResolvedPath::QualifiedName()), ord = element index in a
//     multi-valued attribute (0 when singular), value = the string ("" included), "true"/"false"
//     or the number's text, value_lc = IndexedValueLc(value), value_lc_full = the whole
//     scim::FoldCase(value) where value_lc is cut short, else NULL (IndexedValueFold), num = the
//     number (integer/decimal attributes only). dateTime values are stored canonical
//     (scim::NormalizeTimestamp).
//   - Case-insensitive comparisons fold the literal with scim::FoldCase (Unicode full case
//     folding, NFC) and compare it with the folded columns; SQL never folds (neither SQLite's
//     lower() nor PostgreSQL's lower() is Unicode case folding), except ASCII lower-casing of
//     columns that hold ASCII only (members.type, meta.resourceType).
//   - Resource ids contain no upper-case ASCII letters (server-generated, lower-case UUIDs):
//     case-insensitive comparisons on ids (members.value, groups.value) lower-case the literal
//     only, so that the (tenant, member_id) index stays usable.
// The semantics are those of filter::Matches (evaluator.h); tests/store/filter_sql_test.cc runs
// both over generated data and compares the results.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scim/common/result.h"
#include "scim/filter/bind.h"
#include "scim/schema/registry.h"
#include "scim/store/database.h"

namespace scim::store {

// SQL text plus its named parameters (name without ':', value as text). Values are never
// spliced into `sql`.
struct SqlFragment {
  std::string sql;
  std::vector<std::pair<std::string, std::string>> params;
};

// attr_values.value_lc holds at most this many bytes (PostgreSQL b-tree entries must stay under
// ~2.7 KB); the compiler adds an exact check on `value` when a literal is long enough to need it.
inline constexpr size_t kMaxIndexedValueBytes = 1000;

// attr_values.value_lc for `value`: scim::FoldCase(value) cut to at most kMaxIndexedValueBytes
// bytes without splitting a UTF-8 sequence. The indexer must use exactly this.
std::string IndexedValueLc(std::string_view value);

// attr_values.value_lc and value_lc_full for `value`: `full` holds the whole folded value when
// `lc` had to be cut, nullopt otherwise.
struct IndexedFold {
  std::string lc;
  std::optional<std::string> full;
};
IndexedFold IndexedValueFold(std::string_view value);

// A boolean SQL expression over the table alias `r` (resources) that is true exactly when the
// filter matches (never NULL, so it can be negated and combined). Parameters are named f0, f1,
// ...; the expression also references :tenant and :rtype, which the caller binds (the outer
// query is expected to restrict r.tenant = :tenant AND r.resource_type = :rtype). Leaves use the
// indexes: resources columns directly, attr_values through (tenant, resource_type, path,
// value_lc | num), group_members through (tenant, member_id) / its primary key.
// kInvalidFilter for attributes that have no storage to filter on: members.display,
// members.$ref, groups.display, groups.$ref, groups.type, meta.location, meta.version.
Result<SqlFragment> CompileFilter(const filter::BoundFilter& filter, Dialect dialect);

// An ORDER BY key expression over `r` for sortBy (RFC 7644 §3.4.2.3), NULL for resources
// without a value. Strings sort by code point (after scim::FoldCase unless caseExact),
// numbers numerically, dateTimes chronologically. A complex attribute sorts by its `value`
// sub-attribute; a multi-valued one by the value of its primary element, else of its first
// element. Parameters are named s0, s1, ... (distinct from the filter's). kInvalidValue for
// attributes that cannot be sorted (members, groups, returned-never, complex without value).
Result<SqlFragment> CompileSortKey(const schema::ResolvedPath& path, Dialect dialect);

// A sortBy whose order an index gives: a singular attribute kept in attr_values (one row per
// resource that has a value) sorted by `column` ("value_lc" or "num"), whose index is
// (tenant, resource_type, path, column, resource_id). Resources without a row for `path` have no
// value. The order is that of CompileSortKey's key, ties broken by resource id.
struct IndexedSort {
  std::string column;
  std::string path;  // attr_values.path
};

// The IndexedSort for `path`, or nullopt when CompileSortKey's correlated key must be used
// (columns of resources, multi-valued attributes, case-exact strings, unsortable attributes).
std::optional<IndexedSort> CompileIndexedSort(const schema::ResolvedPath& path);

// The ORDER BY term for a sort key: resources without a value sort last ascending and first
// descending (descending is the exact reverse of ascending). The caller appends a unique
// tie-breaker (", r.id") for stable paging.
std::string SortTerm(const SqlFragment& key, bool descending);

}  // namespace scim::store
