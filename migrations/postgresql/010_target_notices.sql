-- Standing conditions of a target that deliveries do not fail on but an operator should know
-- (issue 13: a Dolibarr without the `department` extra field). One row per (target, topic),
-- written by the delivery engine from DeliveryOutcome::notices, shown by sync status.
-- `since`: when this text was first recorded; `updated`: when it was last confirmed.
CREATE TABLE target_notices (
  target TEXT NOT NULL,
  topic TEXT NOT NULL,
  message TEXT NOT NULL,
  since TEXT NOT NULL,
  updated TEXT NOT NULL,
  PRIMARY KEY (target, topic)
);
