-- How many times an operator re-queued a failed delivery (scimd sync retry, admin API). Each
-- re-queue starts a new life of the delivery: a fresh Idempotency-Key (a target that cached the
-- refusal would replay it forever otherwise) and, when a later change of the resource already
-- reached the target, the resource's current state instead of the old event's.
ALTER TABLE deliveries ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0;
