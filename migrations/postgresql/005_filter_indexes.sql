-- `co` and `ew` filters (emails.value co "smith", userName co "adm") match inside values, which a
-- b-tree cannot serve: without help they read every value of the attribute. pg_trgm (PostgreSQL
-- contrib, a "trusted" extension since PostgreSQL 13, so the database owner may create it) gives
-- trigram indexes that answer LIKE '%...%'. The indexes are on exactly the expressions the filter
-- compiler matches (src/store/filter_sql.cc): the ASCII-lower-cased attr_values.value and the
-- lower-cased userName/displayName columns. Where the extension cannot be created, scimd works as
-- before (co/ew then scan) and says so in the server log of this migration.
DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm is not available (%): co/ew filters will scan', SQLERRM; END $$;
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN EXECUTE 'CREATE INDEX attr_values_contains ON attr_values USING gin (translate(value, ''ABCDEFGHIJKLMNOPQRSTUVWXYZ'', ''abcdefghijklmnopqrstuvwxyz'') gin_trgm_ops)'; EXECUTE 'CREATE INDEX resources_user_name_contains ON resources USING gin (user_name_lc gin_trgm_ops)'; EXECUTE 'CREATE INDEX resources_display_name_contains ON resources USING gin (display_name_lc gin_trgm_ops)'; END IF; END $$;
-- `active eq true|false` (audits of who is disabled) counts from an index instead of the table.
-- Not on SQLite: where sqlite_stat1 predates it (no statistics for it), SQLite's planner takes it
-- for selective and drives list queries from it (sortBy=name.familyName went from 0.1 to 10 s).
CREATE INDEX resources_active ON resources (tenant, resource_type, active);
