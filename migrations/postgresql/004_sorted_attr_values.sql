-- sortBy on a singular attribute kept in attr_values (name.familyName, title, enterprise
-- department...) pages by walking an index in sort order instead of sorting every resource: the
-- look-up indexes end with resource_id, the tie-breaker of the order (RFC 7644 §3.4.2.3).
-- attr_values.resource_id takes resources.id's "C" collation: a comparison between the two
-- columns otherwise runs in "C", which an index in the default collation cannot serve.
DROP INDEX attr_values_lookup;
DROP INDEX attr_values_num;
ALTER TABLE attr_values ALTER COLUMN resource_id TYPE TEXT COLLATE "C";
CREATE INDEX attr_values_lookup ON attr_values (tenant, resource_type, path, value_lc, resource_id);
CREATE INDEX attr_values_num ON attr_values (tenant, resource_type, path, num, resource_id);
