-- Issue 10: tenants as records, API-key usage, and an audit log an auditor accepts.

-- A tenant: the boundary of every SCIM and admin request. `disabled` is when it was disabled
-- (NULL: enabled); a disabled tenant's tokens get 401.
CREATE TABLE tenants (
  name TEXT PRIMARY KEY,
  display_name TEXT,
  disabled TEXT,
  created TEXT NOT NULL
);
-- Tokens made without --tenant belonged to "default" (the HTTP layer mapped '' to it).
UPDATE api_tokens SET tenant = 'default' WHERE tenant = '';
INSERT INTO tenants (name, created)
  SELECT tenant, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM
    (SELECT tenant FROM api_tokens UNION SELECT DISTINCT tenant FROM resources) t;

-- Usage of each key, kept in memory by the server and written back now and then.
ALTER TABLE api_tokens ADD COLUMN last_used TEXT;
ALTER TABLE api_tokens ADD COLUMN request_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX api_tokens_tenant ON api_tokens (tenant, name);

-- Who (client address, request id) and what (changed attributes, old and new values, as JSON).
ALTER TABLE audit_log ADD COLUMN client TEXT;
ALTER TABLE audit_log ADD COLUMN request_id TEXT;
ALTER TABLE audit_log ADD COLUMN changes TEXT;
-- Newest first, per tenant, by cursor.
CREATE INDEX audit_log_tenant_seq ON audit_log (tenant, seq);

-- A manual sync for one target (POST /admin/v1/sync/resources/{id}?target=NAME): the other
-- targets' fan-out passes over the event. NULL: every target, as for every write.
ALTER TABLE outbox ADD COLUMN only_target TEXT;

-- A tenant's deliveries (admin lists, newest first) and one resource's delivery history.
CREATE INDEX deliveries_tenant ON deliveries (tenant, id);
CREATE INDEX deliveries_tenant_resource ON deliveries (tenant, resource_id, id);
