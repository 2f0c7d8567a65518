-- Case-insensitive values (caseExact=false: userName, displayName, emails.value, ...) are keyed by
-- scim::FoldCase (Unicode full case folding of the NFC form, computed in C++ with ICU) instead of
-- ASCII lower-casing, so "JÜRGEN" and "jürgen" are one userName. SQL cannot compute that folding,
-- so the store re-folds the existing keys in C++ right after this file, in the same transaction
-- (src/store/case_fold_migration.cc): user_name_lc, display_name_lc, value_lc, and the new
-- value_lc_full, the whole folded value of an attr_values row whose value_lc is cut short (NULL
-- when value_lc holds all of it), which long-value comparisons use instead of lower(value).
ALTER TABLE attr_values ADD COLUMN value_lc_full TEXT;
