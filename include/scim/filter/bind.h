#pragma once
// The binder: resolves every attribute path of a parsed filter (ast.h) against the schema
// registry for one resource type and types its literals, producing a BoundFilter, the only form
// the evaluator (evaluator.h) and the SQL compiler (src/store/filter_sql.h) accept.
//
// What binding guarantees about a BoundFilter (RFC 7644 §3.4.2.2):
//   - Every kCompare node names a resolved, filterable attribute (never `returned: never`, so
//     `password` is rejected). A comparison on a complex attribute without sub-attribute uses its
//     `value` sub-attribute (`emails co "x"` is emails.value, `members eq "id"` members.value);
//     `pr` on a complex attribute keeps the complex attribute (present = some sub-attribute has a
//     non-empty value).
//   - `ne` does not appear: `a ne v` is bound as `not (a eq v)`, so a resource WITHOUT the
//     attribute matches `ne` (it does "not equal" v), and on a multi-valued attribute `ne` matches
//     when no value equals v. `a eq null` is bound as `not (a pr)` and `a ne null` as `a pr`
//     (RFC 7643 §2.5: null and unassigned are the same state).
//   - Literals have the attribute's type: kBoolean for boolean attributes (also from the strings
//     "true"/"false" in any case, as Entra sends), kNumber for integer/decimal (also from a
//     numeric string), kDateTime in canonical form (scim::NormalizeTimestamp) for dateTime, and
//     kString otherwise (a bare number or boolean given for a string attribute becomes its text).
//   - Operators fit the type: gt/ge/lt/le on boolean or binary, co/sw/ew on boolean, integer,
//     decimal or dateTime, any operator but pr on a complex attribute without `value`, and a
//     dateTime compared with a string that is not an xsd:dateTime are all kInvalidFilter.
//   - Inside a value path `emails[type eq "work"]`, inner paths are sub-attributes of the parent
//     and are bound as the full path (emails.type); the parent must be complex.
//
// A BoundFilter points into the Registry it was bound against (ResolvedPath holds Attribute
// pointers): the registry must outlive it. BoundFilter is a copyable value type.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scim/common/result.h"
#include "scim/filter/ast.h"
#include "scim/schema/registry.h"

namespace scim::filter {

// A comparison value after binding.
struct BoundValue {
  enum class Type { kNone, kString, kNumber, kBoolean, kDateTime };
  Type type = Type::kNone;  // kNone only for `pr`
  // kString: the string; kDateTime: canonical "YYYY-MM-DDTHH:MM:SS.mmmZ"; kNumber: the number
  // as written; kBoolean: "true"/"false".
  std::string text;
  double number = 0;     // kNumber
  bool boolean = false;  // kBoolean
};

struct BoundNode {
  enum class Kind { kCompare, kAnd, kOr, kNot, kValuePath };
  Kind kind = Kind::kCompare;
  // kCompare: eq, co, sw, ew, gt, ge, lt, le or pr (never ne, see above).
  CompareOp op = CompareOp::kPr;
  // kCompare: the attribute compared (its Leaf() is simple, except for `pr` on a complex one).
  // kValuePath: the complex attribute whose elements the child filter selects.
  schema::ResolvedPath path;
  BoundValue value;                 // kCompare unless op == kPr
  std::vector<BoundNode> children;  // kAnd/kOr: 2 or more; kNot, kValuePath: 1

  // Debug form, e.g. `not (emails.value eq "x")`, `emails[type eq "work"]`.
  std::string ToString() const;
};

struct BoundFilter {
  BoundNode root;
  std::string ToString() const { return root.ToString(); }
};

// Binds a parsed filter for `type`. Errors are kInvalidFilter naming the offending path or value.
Result<BoundFilter> Bind(const Node& filter, const schema::Registry& registry,
                         const schema::ResourceType& type);

// ParseFilter + Bind.
Result<BoundFilter> ParseAndBind(std::string_view text, const schema::Registry& registry,
                                 const schema::ResourceType& type);

// A PATCH path bound for `type` (RFC 7644 §3.5.2).
struct BoundPath {
  schema::ResolvedPath attribute;  // the top-level attribute (sub_attribute == nullptr)
  // The elements of `attribute` the operation applies to (its inner paths are bound like a value
  // path's: emails[type eq "work"] → emails.type). Use with MatchesElement (evaluator.h).
  std::optional<BoundFilter> value_filter;
  // The attribute the operation targets: `attribute`, or attribute.sub for "name.familyName" and
  // "emails[type eq \"work\"].value".
  schema::ResolvedPath target;
};

// Binds a PATCH path. Unknown attributes or sub-attributes, and a value filter on an attribute
// that is not complex, are kInvalidPath; errors inside the brackets are kInvalidFilter.
Result<BoundPath> BindPath(const PatchPath& path, const schema::Registry& registry,
                           const schema::ResourceType& type);

}  // namespace scim::filter
