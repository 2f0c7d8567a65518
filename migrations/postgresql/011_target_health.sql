-- The circuit breaker of each delivery target (issue 12, store::DeliveryStore's target health),
-- shared by every scimd process on this database. A target whose calls fail target-wide
-- (no answer, 5xx) several times in a row is paused: claims take nothing from it but one probe
-- delivery at next_probe_at (milliseconds since the epoch), and the probe interval
-- probe_backoff_ms grows while probes fail. A delivery the target answers closes it.
CREATE TABLE target_health (
  target TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  paused_since_ms BIGINT,
  reason TEXT,
  next_probe_at BIGINT,
  probe_backoff_ms BIGINT NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  updated TEXT NOT NULL
);
