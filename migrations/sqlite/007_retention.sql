-- Retention (scim/store/retention.h) looks up and deletes deliveries by outbox seq.
CREATE INDEX IF NOT EXISTS deliveries_seq ON deliveries (seq);
