-- Fewer index entries per write (issue 11: 100,000 users through /Bulk; the server's share of a
-- create was ~36 index insertions, and a PUT cannot be a HOT update because last_modified is
-- indexed, so every PUT inserts into every index of `resources` again).
--
-- attr_values_num holds an entry for every attr_values row although only numbers (integer and
-- decimal attributes) have `num`: it is now partial. Every statement that reads it says so:
-- comparisons (`num > $1`, `num = $1`: a strict operator, which PostgreSQL proves implies
-- IS NOT NULL) and the indexed sort (listing.cc: `s.num IS NOT NULL` in HasValue).
DROP INDEX IF EXISTS attr_values_num;
CREATE INDEX attr_values_num ON attr_values (tenant, resource_type, path, num, resource_id) WHERE num IS NOT NULL;
-- The trigram indexes of userName and displayName (co/sw/ew, migration 005) held a NULL entry
-- for every Group (no userName) and every User without a displayName; `col LIKE $1` implies
-- col IS NOT NULL, so the partial indexes serve the same filters. Only where pg_trgm exists.
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN EXECUTE 'DROP INDEX IF EXISTS resources_user_name_contains'; EXECUTE 'DROP INDEX IF EXISTS resources_display_name_contains'; EXECUTE 'CREATE INDEX resources_user_name_contains ON resources USING gin (user_name_lc gin_trgm_ops) WHERE user_name_lc IS NOT NULL'; EXECUTE 'CREATE INDEX resources_display_name_contains ON resources USING gin (display_name_lc gin_trgm_ops) WHERE display_name_lc IS NOT NULL'; END IF; END $$;
