#pragma once
// Small string utilities shared by every module.

#include <string>
#include <string_view>
#include <vector>

namespace scim {

// ASCII lower-casing (SCIM attribute names, URNs, operators, canonical values: identifiers that
// are ASCII by definition). Non-ASCII bytes are left as they are. Attribute VALUES compared
// case-insensitively (caseExact=false, RFC 7643 §2.2) use FoldCase instead.
std::string ToLower(std::string_view s);

// The case-folded form of a caseExact=false value, the one key for "equal ignoring case"
// everywhere: the filter evaluator, PATCH value filters and value comparisons, and the store's
// lower-cased columns (resources.user_name_lc / display_name_lc, attr_values.value_lc), which the
// SQL compares with literals folded by this same function.
//
// Folding: Unicode FULL case folding (CaseFolding.txt statuses C+F, ICU U_FOLD_CASE_DEFAULT, so
// no Turkic special-casing: "I" folds to "i", U+0130 "İ" to "i" + U+0307, U+0131 "ı" stays) of
// the NFC form of `s`, normalized to NFC again (folding can leave a decomposed sequence). Thus
// "JÜRGEN", "jürgen" and "ju" U+0308 "rgen" fold alike, "Straße" and "STRASSE" fold to "strasse",
// and "Σ", "σ", "ς" to "σ". Pure ASCII input takes a fast path that equals ASCII lower-casing
// (which is what full folding and NFC do to ASCII). Input that is not valid UTF-8 is
// ASCII-lower-cased as it is (the JSON parser and filter parser reject such input before).
// Changing this function changes stored keys: a migration must re-fold them (store migration
// 008 does it in C++).
std::string FoldCase(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
std::vector<std::string> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);

}  // namespace scim
