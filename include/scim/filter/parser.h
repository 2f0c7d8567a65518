#pragma once
// Hand-written recursive-descent parser for the SCIM filter language (RFC 7644 §3.4.2.2,
// Figure 1) and for PATCH paths (RFC 7644 §3.5.2). Pure functions of their input; thread-safe.
//
// Accepted beyond the strict ABNF (what real clients send):
//   - any run of spaces, tabs, CR or LF where the ABNF has SP, and none needed around
//     parentheses/brackets or after a quoted string; whitespace between `not` and `(`;
//   - operators, `and`/`or`/`not` and true/false/null in any letter case;
//   - bare (unquoted) values: a token up to whitespace, ')' or ']' that is not true/false/null
//     or a JSON number is a string (`externalId eq jyoung`);
//   - attribute names may start with '$' ("$ref").
// Rejected: nested value filters (`a[b[c pr]]`), \u0000 in strings, invalid UTF-8, unescaped
// control characters inside strings, more than one sub-attribute (`a.b.c`).

#include <cstddef>
#include <string_view>

#include "scim/common/result.h"
#include "scim/filter/ast.h"

namespace scim::filter {

// Inputs longer than this many bytes are rejected (kInvalidFilter / kInvalidPath).
inline constexpr size_t kMaxFilterLength = 8 * 1024;
// Parentheses, `not (` and value-path brackets may nest at most this deep.
inline constexpr int kMaxFilterDepth = 32;

// Parses a filter (the `filter` query parameter or SearchRequest attribute). On failure returns
// kInvalidFilter with a detail naming the byte offset, e.g.
// "expected comparison operator at offset 17".
Result<Node> ParseFilter(std::string_view text);

// Parses a PATCH path. Syntax errors in the attribute path itself are kInvalidPath; errors in
// the filter between brackets are kInvalidFilter (RFC 7644 §3.5.2, Table 9). Offsets in error
// details are relative to `text` (leading whitespace included).
Result<PatchPath> ParsePath(std::string_view text);

}  // namespace scim::filter
