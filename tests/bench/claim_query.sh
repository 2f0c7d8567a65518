#!/usr/bin/env bash
# Issue 11, part 1: the claim query before and after the change to store/delivery_sql.h
# (ClaimSql), on a deliveries table of N delivered rows followed by N pending due rows (every row
# its own resource), without statistics and after ANALYZE. Prints the best of 5 runs of each
# query (LIMIT 8, as the dispatcher claims) in ms.
#
#   tests/bench/claim_query.sh [N]                       SQLite (sqlite3 CLI), N defaults to 100000
#   PGURL=postgresql://scim@127.0.0.1:PORT/scim tests/bench/claim_query.sh [N]
#                                                        also PostgreSQL (psql; creates and drops
#                                                        database claim_bench)
set -euo pipefail
N=${1:-100000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NE="NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target AND e.tenant = d.tenant AND e.resource_id = d.resource_id AND e.seq < d.seq AND e.status <> 'delivered' AND (e.status <> 'failed' OR e.blocks_resource = 1))"
SEL="SELECT d.id, d.seq, d.attempts, d.requeues FROM deliveries d WHERE d.target = 'crm' AND d.status = 'pending' AND"
OLD="$SEL d.next_attempt_at <= 5000 AND $NE ORDER BY d.seq LIMIT 8"
NEW_SQLITE="$SEL +d.next_attempt_at <= 5000 AND $NE ORDER BY d.seq, d.next_attempt_at LIMIT 8"
NEW_PG="$SEL d.next_attempt_at <= 5000 AND $NE ORDER BY d.seq, d.next_attempt_at LIMIT 8"
FILL_OUTBOX="INSERT INTO outbox (seq, tenant, resource_type, resource_id, event, version, payload, created) SELECT i, 't1', 'User', 'u' || i, 'created', 1, '{}', '2026-01-01T00:00:00.000Z' FROM g"
FILL_DELIVERIES="INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, status, next_attempt_at, created, updated) SELECT i, 'crm', 't1', 'User', 'u' || i, CASE WHEN i <= $N THEN 'delivered' ELSE 'pending' END, CASE WHEN i <= $N THEN NULL ELSE 1000 END, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM g"

best_sqlite() {  # db sql
  for _ in 1 2 3 4 5; do
    printf '.timer on\n%s;\n' "$2" | sqlite3 "$1" | sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p'
  done | sort -n | head -1 | awk '{printf "%.2f", $1 * 1000}'
}
db=$(mktemp -d)/claim.db
for f in "$SRC"/migrations/sqlite/*.sql; do sqlite3 "$db" <"$f"; done
G="WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 2 * $N)"
sqlite3 "$db" "$G $FILL_OUTBOX" "$G $FILL_DELIVERIES"
for stats in none analyze; do
  [[ $stats == analyze ]] && sqlite3 "$db" "ANALYZE"
  echo "sqlite N=$N stats=$stats old=$(best_sqlite "$db" "$OLD") ms new=$(best_sqlite "$db" "$NEW_SQLITE") ms"
done
rm -rf "$(dirname "$db")"

if [[ -n ${PGURL:-} ]]; then
  psql -q "$PGURL" -c "DROP DATABASE IF EXISTS claim_bench" -c "CREATE DATABASE claim_bench"
  URL=${PGURL%/*}/claim_bench
  for f in "$SRC"/migrations/postgresql/*.sql; do psql -q "$URL" -f "$f" >/dev/null 2>&1; done
  G="WITH g(i) AS (SELECT generate_series(1, 2 * $N))"
  psql -q "$URL" -c "$G $FILL_OUTBOX" -c "$G $FILL_DELIVERIES"
  best_pg() {
    for _ in 1 2 3 4 5; do
      psql -At "$URL" -c "EXPLAIN (ANALYZE, FORMAT TEXT) $1 FOR UPDATE OF d SKIP LOCKED" |
        sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p'
    done | sort -n | head -1
  }
  for stats in none analyze; do
    [[ $stats == analyze ]] && psql -q "$URL" -c "ANALYZE"
    echo "postgresql N=$N stats=$stats old=$(best_pg "$OLD") ms new=$(best_pg "$NEW_PG") ms"
  done
  psql -q "$PGURL" -c "DROP DATABASE claim_bench"
fi
