#pragma once
// The folded copies of values kept for case-insensitive look-ups (attr_values.value_lc and
// value_lc_full, IndexedValueFold in filter_sql.h) and the rules for narrowing a comparison through
// them with a prefix. Internal to the store module.

#include <optional>
#include <string>
#include <string_view>

#include "store/filter_sql.h"

namespace scim::store {

// Literals up to this many bytes can be compared with value_lc alone: a truncated value_lc is
// longer than this, so it can neither equal such a literal nor be a prefix of it.
inline constexpr size_t kShortLiteral = kMaxIndexedValueBytes - 4;

bool IsAscii(std::string_view s);

// For a case-exact `sw` literal `lit` on a value that also has a folded column: a prefix that the
// folded form of every value starting with `lit` starts with (cut to kShortLiteral bytes when the
// folded column is `truncated`), or nullopt when there is no safe one. FoldCase works on the NFC
// form, and NFC can compose the literal's last character with what follows it ("e" + U+0301 is
// "é"), so the last character is left out; and only for ASCII literals, where nothing before the
// last character can change (ASCII characters are NFC starters).
std::optional<std::string> CaseExactFoldedPrefix(std::string_view lit, bool truncated);

}  // namespace scim::store
