#pragma once
// In-memory evaluation of a bound filter over SCIM resource JSON. The semantics are exactly
// those of the SQL compiler (src/store/filter_sql.h); tests/store/filter_sql_test.cc checks that
// both return the same resources:
//   - strings compare case-insensitively (Unicode full case folding of the NFC form,
//     scim::FoldCase, on both sides) unless the attribute is caseExact; co/sw/ew take the literal
//     literally (no wildcards) and apply to the folded strings; gt/ge/lt/le on strings compare
//     bytes (= Unicode code points) after case folding when not caseExact;
//   - integer/decimal compare as numbers (double), dateTime chronologically (both sides
//     normalized with scim::NormalizeTimestamp; a stored value that is not a dateTime never
//     matches), booleans by value; a JSON value of another type than the schema's never matches;
//   - a multi-valued attribute matches when any of its values matches; a value path
//     `emails[type eq "work" and value co "x"]` matches when ONE element satisfies the whole
//     inner filter; an element with no non-null sub-attribute value is treated as absent;
//   - `pr`: the attribute has a value that is not null, not "" and not an empty array/object
//     (for a complex attribute: some sub-attribute of the schema is present);
//   - `not` negates; `ne` was bound as `not eq` (bind.h), so it matches absent attributes.
// Pure functions; thread-safe.

#include "scim/common/json.h"
#include "scim/filter/bind.h"

namespace scim::filter {

// True when `resource` matches. `resource` is a full resource as the service returns it: core
// and common attributes at top level, extension attributes in an object under the extension's
// schema URN, `meta` as an object, `members` (Group) and `groups` (User) as arrays. Member names
// are matched case-insensitively.
bool Matches(const BoundFilter& filter, const json::Value& resource);

// For the PATCH engine: true when one element (an object) of a multi-valued complex attribute
// satisfies `value_filter`, the inner filter of a value path (BoundPath::value_filter). Its
// paths are read relative to the element (emails.type → element["type"]).
bool MatchesElement(const BoundFilter& value_filter, const json::Value& element);

}  // namespace scim::filter
