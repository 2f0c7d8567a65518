-- Fewer index entries per delivery row (issue 12, "deliveries within a second": the PostgreSQL
-- server spent ~2.5 ms of CPU per target call, most of it writing and walking index entries of
-- `deliveries`). A delivery row is written three times (pending by the fan-out, in_flight by the
-- claim, delivered by the outcome) and none of these updates can be HOT (status is in index keys
-- and predicates), so every index with an entry for a version pays for it three times.
--
-- deliveries_due (target, status, next_attempt_at) held an entry for every version of every row
-- (delivered history included) and served only the reaper's look-up of expired leases
-- (store/delivery_claim.cc, ReapExpired), which walked every in_flight entry, dead versions
-- included (320 index entries read per delivery row in the profile, docs/benchmarks.md). The
-- claims walk deliveries_pending and deliveries_tenant_pending; the statements on pending rows
-- by resource walk deliveries_resource. A partial index of the in-flight rows alone serves the
-- reaper: its range `lease_until < now` skips the live leases. `lease_until IS NOT NULL` (true of
-- every in-flight row) keeps it to the reaper's statements, which imply it (`lease_until < $2`):
-- the outcome, release and renewal of a lease (`status = 'in_flight' AND id = ...`) would
-- otherwise be free to walk it, dead entries included, instead of the primary key.
DROP INDEX IF EXISTS deliveries_due;
CREATE INDEX deliveries_in_flight ON deliveries (target, lease_until)
  WHERE status = 'in_flight' AND lease_until IS NOT NULL;
-- UNIQUE (target, seq) and deliveries_seq (seq, migration 007: retention's look-ups by outbox
-- seq) become one unique index on (seq, target): it serves both (the fan-out's ON CONFLICT
-- (target, seq) names the same columns, which is what PostgreSQL matches) with one entry per
-- version instead of two.
CREATE UNIQUE INDEX deliveries_seq_target ON deliveries (seq, target);
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_target_seq_key;
DROP INDEX IF EXISTS deliveries_seq;
-- Dead versions of delivered rows are left in every index until a vacuum; the claims and the
-- reaper walk past those of the pending and in-flight indexes. Vacuum `deliveries` after 5 % of
-- it changed (the default, 20 %, let a 60 s run at 200 writes/s end with more dead versions
-- than live rows) and without the cost delay. delivery_counts (a few rows per target and
-- tenant, rewritten by every statement on deliveries) is vacuumed after 1,000 dead versions;
-- its updates are HOT and its pages keep room for them.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE delivery_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, fillfactor = 50);
