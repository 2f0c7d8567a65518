-- `active eq true|false` (audits of who is disabled) counts from an index instead of the table.
-- (co/ew need no index of their own on SQLite: they read value_lc from attr_values_lookup.)
CREATE INDEX resources_active ON resources (tenant, resource_type, active);
