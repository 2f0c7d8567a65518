-- scimd schema, PostgreSQL dialect. Every row carries its tenant.
CREATE TABLE resources (
  tenant TEXT NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  resource_type TEXT NOT NULL,          -- 'User' | 'Group'
  user_name TEXT,
  user_name_lc TEXT COLLATE "C",                    -- lower(userName): unique per tenant (RFC 7643 §4.1.1 caseExact=false)
  external_id TEXT COLLATE "C",                   -- caseExact (RFC 7643 §3.1)
  display_name TEXT,
  display_name_lc TEXT COLLATE "C",
  active SMALLINT,                     -- 1, 0 or NULL
  created TEXT COLLATE "C" NOT NULL,    -- canonical UTC timestamps, sort as text
  last_modified TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  password_hash TEXT,
  data JSONB NOT NULL,                  -- the resource JSON without id, meta, members, groups, password
  PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX resources_user_name ON resources (tenant, resource_type, user_name_lc);
CREATE INDEX resources_external_id ON resources (tenant, resource_type, external_id);
CREATE INDEX resources_display_name ON resources (tenant, resource_type, display_name_lc);
CREATE INDEX resources_created ON resources (tenant, resource_type, created, id);
CREATE INDEX resources_last_modified ON resources (tenant, resource_type, last_modified, id);
CREATE INDEX resources_type_id ON resources (tenant, resource_type, id);

-- One row per leaf value of every attribute without a column above (emails.value, name.familyName,
-- enterprise employeeNumber, ...): indexed look-ups for filters. `path` is the lower-cased
-- qualified name; `ord` the element index in a multi-valued attribute (0 when singular), so that
-- sub-attributes of one element can be matched together (emails[type eq "work" and value co "x"]).
CREATE TABLE attr_values (
  tenant TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  path TEXT NOT NULL,
  ord INTEGER NOT NULL,
  value TEXT,
  value_lc TEXT COLLATE "C",
  num DOUBLE PRECISION
);
CREATE INDEX attr_values_lookup ON attr_values (tenant, resource_type, path, value_lc);
CREATE INDEX attr_values_num ON attr_values (tenant, resource_type, path, num);
CREATE INDEX attr_values_resource ON attr_values (tenant, resource_id);

-- Group membership, one row per member: adding or removing one member touches one row.
CREATE TABLE group_members (
  tenant TEXT NOT NULL,
  group_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  member_type TEXT NOT NULL,            -- 'User' | 'Group'
  PRIMARY KEY (tenant, group_id, member_id)
);
-- Covering, so `groups.value`/User.groups look-ups never touch the table (nor scan without ANALYZE).
CREATE INDEX group_members_member ON group_members (tenant, member_id, group_id, member_type);

-- Transactional outbox: written in the same transaction as the change it describes.
CREATE TABLE outbox (
  seq BIGSERIAL PRIMARY KEY,
  tenant TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  event TEXT NOT NULL,                  -- created | replaced | patched | deleted
  version BIGINT NOT NULL,
  payload TEXT NOT NULL,                -- JSON: resource snapshot and/or member delta
  created TEXT NOT NULL
);
CREATE INDEX outbox_resource ON outbox (tenant, resource_id, seq);

CREATE TABLE audit_log (
  seq BIGSERIAL PRIMARY KEY,
  tenant TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (tenant, time);
CREATE INDEX audit_log_resource ON audit_log (tenant, resource_id, seq);

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT,
  revoked TEXT
);
