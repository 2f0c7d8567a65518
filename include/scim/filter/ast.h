#pragma once
// The parsed (unbound) form of a SCIM filter, RFC 7644 §3.4.2.2. It knows nothing of schemas:
// attribute paths are kept as written and literals as JSON scalars. filter::Bind turns it into a
// BoundFilter (bind.h), which is what the evaluator and the SQL compiler consume.
//
// Every node is a plain value type (copyable, movable); children are held by value.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scim::filter {

// The comparison operators of RFC 7644 §3.4.2.2 Table 3, plus `pr` (present).
enum class CompareOp { kEq, kNe, kCo, kSw, kEw, kGt, kGe, kLt, kLe, kPr };

// "eq", "ne", ... as written in filters (lower case).
const char* CompareOpName(CompareOp op);

// An attribute path: attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.4.2.2, Figure 1).
// For "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", `uri` is
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `name` "manager" and `sub_attr`
// "value": the URN ends at the last ':' before the attribute name, so it may contain dots ("2.0").
struct AttrPath {
  std::string uri;       // schema URN without the trailing ':'; empty when absent
  std::string name;      // attribute name as written (case preserved; matching is case-insensitive)
  std::string sub_attr;  // sub-attribute name; empty when absent
  size_t offset = 0;     // byte offset of the path in the parsed text

  // The path as text, e.g. "urn:...:User:manager.value" or "name.familyName".
  std::string ToString() const;
};

// A comparison value: compValue = false / null / true / number / string (JSON, RFC 7159).
// A bare (unquoted) token that is not true/false/null or a JSON number is a string, which is
// what Microsoft Entra sends (`externalId eq jyoung`).
struct Literal {
  enum class Kind { kString, kNumber, kBoolean, kNull };
  Kind kind = Kind::kNull;
  // kString: the unescaped content (valid UTF-8, no NUL). kNumber: the number as written.
  // kBoolean: "true"/"false". kNull: "null".
  std::string text;
  double number = 0;               // kNumber
  std::optional<int64_t> integer;  // kNumber without fraction or exponent that fits in int64
  bool boolean = false;            // kBoolean
  bool bare = false;               // written without quotes
  size_t offset = 0;               // byte offset in the parsed text

  // JSON form: a quoted, escaped string, or the number / true / false / null as written.
  std::string ToJson() const;
};

// One node of a parsed filter.
//   kCompare:   `attr op value`, or `attr pr` (op == kPr, value unused).
//   kAnd, kOr:  two or more children (a chain `a and b and c` is one node with three children);
//               `and` binds tighter than `or`.
//   kNot:       `not ( child )`, one child.
//   kValuePath: `attr [ child ]`, one child: the filter applied to each element of `attr`; the
//               attribute paths inside it are relative to `attr` (name only).
struct Node {
  enum class Kind { kCompare, kAnd, kOr, kNot, kValuePath };
  Kind kind = Kind::kCompare;
  size_t offset = 0;              // byte offset where the node starts in the parsed text
  AttrPath attr;                  // kCompare, kValuePath
  CompareOp op = CompareOp::kPr;  // kCompare
  Literal value;                  // kCompare unless op == kPr
  std::vector<Node> children;     // kAnd, kOr, kNot, kValuePath

  // A canonical text form that parses back to an equal tree: operators in lower case, strings
  // JSON-escaped, nested and/or groups in parentheses.
  std::string ToString() const;
};

// Structural equality, ignoring offsets and the `bare` flag (for round-trip tests).
bool SameTree(const Node& a, const Node& b);

// A PATCH operation path, RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr], i.e.
// `attr [ "[" valFilter "]" ] [ "." subAttr ]`. Examples: "userName", "name.familyName",
// "emails[type eq \"work\"].value", "members[value eq \"2819c223\"]",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
struct PatchPath {
  AttrPath attr;                     // the top-level attribute (uri and name; sub_attr is empty)
  std::optional<Node> value_filter;  // the filter between brackets, if any
  std::string sub_attr;              // the sub-attribute (before or after the brackets), or ""
  std::string text;                  // the path as given, trimmed

  std::string ToString() const;
};

}  // namespace scim::filter
