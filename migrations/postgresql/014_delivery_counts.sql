-- Sync status and /metrics at a large backlog (issues 11 and 12, store/delivery_status.cc).
--
-- delivery_counts: how many deliveries each (target, tenant) has per status, without COUNT(*)
-- over the deliveries. The triggers below add each statement's changes (+1 per row inserted or
-- moved into a status, -1 per row deleted or moved out of one) in the statement's own
-- transaction, so the sum over the shards equals COUNT(*) at every commit and a rolled-back
-- change counts nothing. Every write goes to the shard of its backend (pg_backend_pid(), which
-- no two live connections share): concurrent transactions of any number of scimd processes never
-- wait for one another's counter rows and cannot deadlock on them. Shard 0 holds the initial
-- fill and what FoldDeliveryCounts folds in from the shards of ended backends. A shard may go
-- negative; only the sum means anything.
CREATE TABLE delivery_counts (
  target TEXT NOT NULL,
  tenant TEXT NOT NULL,
  status TEXT NOT NULL,
  shard INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (target, tenant, status, shard)
);
-- Statement-level triggers with transition tables: one aggregated upsert per statement (a claim
-- moving a batch of rows touches two counter rows per tenant, not two per delivery).
CREATE FUNCTION scimd_delivery_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO delivery_counts AS c (target, tenant, status, shard, n) SELECT target, tenant, status, pg_backend_pid(), COUNT(*) FROM delivery_rows_new GROUP BY target, tenant, status ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n; RETURN NULL; END $$;
CREATE FUNCTION scimd_delivery_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO delivery_counts AS c (target, tenant, status, shard, n) SELECT target, tenant, status, pg_backend_pid(), SUM(d) FROM (SELECT target, tenant, status, 1 AS d FROM delivery_rows_new UNION ALL SELECT target, tenant, status, -1 AS d FROM delivery_rows_old) x GROUP BY target, tenant, status HAVING SUM(d) <> 0 ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n; RETURN NULL; END $$;
CREATE FUNCTION scimd_delivery_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO delivery_counts AS c (target, tenant, status, shard, n) SELECT target, tenant, status, pg_backend_pid(), -COUNT(*) FROM delivery_rows_old GROUP BY target, tenant, status ON CONFLICT (target, tenant, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n; RETURN NULL; END $$;
-- Creating the triggers locks deliveries against writes until this migration commits, so the
-- fill below counts exactly the rows the triggers will not see.
CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS delivery_rows_new
  FOR EACH STATEMENT EXECUTE FUNCTION scimd_delivery_counts_insert();
CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries
  REFERENCING OLD TABLE AS delivery_rows_old NEW TABLE AS delivery_rows_new
  FOR EACH STATEMENT EXECUTE FUNCTION scimd_delivery_counts_update();
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS delivery_rows_old
  FOR EACH STATEMENT EXECUTE FUNCTION scimd_delivery_counts_delete();
INSERT INTO delivery_counts (target, tenant, status, shard, n)
  SELECT target, tenant, status, 0, COUNT(*) FROM deliveries GROUP BY target, tenant, status;

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
