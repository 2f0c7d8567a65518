#pragma once
// The C++ half of migration 008 (migrations/*/008_unicode_case_folding.sql): re-folds the stored
// case-insensitive keys with scim::FoldCase, which SQL cannot compute.

#include <soci/soci.h>

#include <functional>
#include <string>

#include "scim/store/database.h"

namespace scim::store {

// The migration version after whose SQL RefoldCaseKeys runs (in the migration's transaction).
inline constexpr int kCaseFoldMigration = 8;

// Recomputes resources.user_name_lc / display_name_lc and attr_values.value_lc / value_lc_full
// of every row whose key can differ from the ASCII lower-casing the earlier migrations stored:
// values with non-ASCII characters, and values longer than the indexed prefix (value_lc_full).
// Rows are read first, then updated (no cursor open over the rows being changed).
// Two existing Users whose userNames fold alike ("JÜRGEN" and "jürgen", created when uniqueness
// was ASCII-only) cannot both take the folded key: the older one (by created, then id) gets it,
// the newer one keeps its old key and is reported through `log`, so start-up does not fail on
// data that was valid; renaming either User lifts the conflict.
void RefoldCaseKeys(soci::session& s, Dialect dialect,
                    const std::function<void(const std::string&)>& log);

}  // namespace scim::store
