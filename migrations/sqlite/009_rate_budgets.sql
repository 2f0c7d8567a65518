-- Request budgets shared by every scimd process on this database (issue 11): one token bucket
-- per caller (tenant/token). Processes take slices of it (store::RateBudgets::Take).
CREATE TABLE rate_budgets (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_ms BIGINT NOT NULL
);
