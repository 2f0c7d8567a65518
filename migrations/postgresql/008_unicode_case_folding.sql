-- Case-insensitive values (caseExact=false: userName, displayName, emails.value, ...) are keyed by
-- scim::FoldCase (Unicode full case folding of the NFC form, computed in C++ with ICU) instead of
-- ASCII lower-casing, so "JÜRGEN" and "jürgen" are one userName. SQL cannot compute that folding
-- (lower() is not full case folding), so the store re-folds the existing keys in C++ right after
-- this file, in the same transaction (src/store/case_fold_migration.cc): user_name_lc,
-- display_name_lc, value_lc, and the new value_lc_full, the whole folded value of an attr_values
-- row whose value_lc is cut short (NULL when value_lc holds all of it). co/ew filters on
-- attr_values now match COALESCE(value_lc_full, value_lc): the trigram index of migration 005 on
-- the ASCII-lower-cased value is replaced by one on that expression.
ALTER TABLE attr_values ADD COLUMN value_lc_full TEXT COLLATE "C";
DROP INDEX IF EXISTS attr_values_contains;
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN EXECUTE 'CREATE INDEX attr_values_contains ON attr_values USING gin ((COALESCE(value_lc_full, value_lc)) gin_trgm_ops)'; END IF; END $$;
