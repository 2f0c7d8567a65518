-- Sync status and /metrics at a large backlog (issues 11 and 12, store/delivery_status.cc).
--
-- delivery_counts: how many deliveries each (target, tenant) has per status, without COUNT(*)
-- over the deliveries. The triggers below add +1 per row inserted or moved into a status and -1
-- per row deleted or moved out of one, in the writing statement's own transaction, so the sum
-- equals COUNT(*) at every commit and a rolled-back change counts nothing. SQLite has one writer
-- at a time and uses shard 0 only (the PostgreSQL version shards by backend).
CREATE TABLE delivery_counts (
  target TEXT NOT NULL,
  tenant TEXT NOT NULL,
  status TEXT NOT NULL,
  shard INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (target, tenant, status, shard)
);
CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries BEGIN INSERT INTO delivery_counts (target, tenant, status, shard, n) VALUES (NEW.target, NEW.tenant, NEW.status, 0, 1) ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries WHEN OLD.status <> NEW.status OR OLD.target <> NEW.target OR OLD.tenant <> NEW.tenant BEGIN INSERT INTO delivery_counts (target, tenant, status, shard, n) VALUES (OLD.target, OLD.tenant, OLD.status, 0, -1) ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = n - 1; INSERT INTO delivery_counts (target, tenant, status, shard, n) VALUES (NEW.target, NEW.tenant, NEW.status, 0, 1) ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN INSERT INTO delivery_counts (target, tenant, status, shard, n) VALUES (OLD.target, OLD.tenant, OLD.status, 0, -1) ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = n - 1; END;
INSERT INTO delivery_counts (target, tenant, status, shard, n)
  SELECT target, tenant, status, 0, COUNT(*) FROM deliveries WHERE true
  GROUP BY target, tenant, status;

-- The oldest undelivered row of a (target, tenant): MIN(created) reads one index entry.
-- `created IS NOT NULL` (always true) keeps this index and deliveries_undelivered_seq to the
-- status queries, which say it: the claims' `status = 'pending'` alone does not imply the
-- predicate, so the planner never walks these instead of the claim indexes.
CREATE INDEX deliveries_undelivered_created ON deliveries (target, tenant, created)
  WHERE status IN ('pending', 'in_flight') AND created IS NOT NULL;
-- The failed rows that hold later changes of their resource back (few): the blocked count starts
-- from them.
CREATE INDEX deliveries_blocking ON deliveries (target, tenant, resource_id, seq)
  WHERE status = 'failed' AND blocks_resource = 1;
-- The newest error of a (target, tenant): the rows that carry one (few), newest first.
CREATE INDEX deliveries_last_error ON deliveries (target, tenant, updated, id)
  WHERE last_error IS NOT NULL AND status IN ('pending', 'in_flight', 'failed');
-- The outbox depth of /metrics: the distinct seqs not delivered everywhere, in seq order.
CREATE INDEX deliveries_undelivered_seq ON deliveries (seq)
  WHERE status IN ('pending', 'in_flight') AND created IS NOT NULL;
