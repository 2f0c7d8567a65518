-- Delivery of outbox events to the configured targets (src/delivery). Times used for scheduling
-- (next_attempt_at, lease_until) are Unix epoch milliseconds; created/updated are the canonical
-- text timestamps shown by the admin API.

-- One row per (target, outbox event) the target handles. status: pending | in_flight |
-- delivered | failed. blocks_resource = 1 on a failed row that gave up after retrying (the target
-- was unreachable): later changes of the same resource wait for it until it is re-queued. A row
-- the target refused outright (blocks_resource = 0) does not hold later changes back.
-- next_attempt_at is NULL unless the row is pending, which keeps the planner's estimate of
-- "due now" (next_attempt_at <= now) close to the number of due rows.
CREATE TABLE deliveries (
  id BIGSERIAL PRIMARY KEY,
  seq BIGINT NOT NULL REFERENCES outbox (seq),
  target TEXT NOT NULL,
  tenant TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,                -- set only while pending
  lease_owner TEXT,
  lease_until BIGINT,
  last_error TEXT,
  blocks_resource SMALLINT NOT NULL DEFAULT 0,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  UNIQUE (target, seq)
);
CREATE INDEX deliveries_due ON deliveries (target, status, next_attempt_at);
-- Claims take due rows in seq order: walking only the pending ones keeps a backlog at the end of
-- a long history from turning each claim into a scan of every delivered row.
CREATE INDEX deliveries_pending ON deliveries (target, seq, next_attempt_at)
  WHERE status = 'pending';
-- Only undelivered rows: the per-resource ordering check never walks a resource's history.
CREATE INDEX deliveries_resource ON deliveries (target, tenant, resource_id, seq)
  WHERE status <> 'delivered';

-- The id each target gave each resource.
CREATE TABLE target_links (
  target TEXT NOT NULL,
  tenant TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  external_id TEXT NOT NULL,
  updated TEXT NOT NULL,
  PRIMARY KEY (target, tenant, resource_id)
);
CREATE INDEX target_links_resource ON target_links (tenant, resource_id);

-- How far each target has been fanned out of the outbox: every seq <= last_seq has its deliveries
-- row (or is not handled by the target). scanned_seq, gaps and horizon_* are PostgreSQL's
-- bookkeeping for sequence values whose transactions had not committed when scanned (unused on
-- SQLite, where writers serialize and last_seq = scanned_seq).
CREATE TABLE target_cursors (
  target TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  scanned_seq BIGINT NOT NULL DEFAULT 0,
  gaps TEXT NOT NULL DEFAULT '',
  horizon_seq BIGINT,
  horizon_xid BIGINT,
  updated TEXT NOT NULL
);

-- The fan-out's settled horizon (src/delivery/delivery_queue.h) needs every transaction that
-- takes an outbox seq to have its transaction id already: this default assigns it first, so the
-- outbox row may be the first write of its transaction.
CREATE OR REPLACE FUNCTION scimd_outbox_next_seq() RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$ BEGIN PERFORM pg_current_xact_id(); RETURN nextval('outbox_seq_seq'); END $$;
ALTER TABLE outbox ALTER COLUMN seq SET DEFAULT scimd_outbox_next_seq();
