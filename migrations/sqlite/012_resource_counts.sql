-- totalResults of an unfiltered listing without COUNT(*) (issue 12). Every create adds 1 and every
-- delete adds -1 to one shard row of (tenant, resource_type) in the write's own transaction, so
-- the sum of the shards is exact at every commit and a rolled-back write counts nothing.
-- PostgreSQL writers pick the shard by backend (pg_backend_pid() % 64): concurrent transactions
-- on different connections update different rows, so no row lock is shared by every create.
-- SQLite has one writer at a time and uses shard 0. A shard may go negative; only the sum means
-- anything.
CREATE TABLE resource_counts (
  tenant TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  shard INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (tenant, resource_type, shard)
);
-- The initial fill: what exists now (this migration runs in one transaction).
INSERT INTO resource_counts (tenant, resource_type, shard, n)
  SELECT tenant, resource_type, 0, COUNT(*) FROM resources GROUP BY tenant, resource_type;
