-- sortBy on a singular attribute kept in attr_values (name.familyName, title, enterprise
-- department...) pages by walking an index in sort order instead of sorting every resource: the
-- look-up indexes end with resource_id, the tie-breaker of the order (RFC 7644 §3.4.2.3).
DROP INDEX attr_values_lookup;
DROP INDEX attr_values_num;
CREATE INDEX attr_values_lookup ON attr_values (tenant, resource_type, path, value_lc, resource_id);
CREATE INDEX attr_values_num ON attr_values (tenant, resource_type, path, num, resource_id);
