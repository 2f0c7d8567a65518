#!/usr/bin/env bash
# Runs every scimd benchmark of docs/benchmarks.md end to end:
#
#   tests/bench/run_all.sh [STEP...]        steps: pg seed fidelity queries plans patch stop
#                                          (default: all of them, in that order)
#
# Environment: SCIMD_BIN (default /work/build-bench/scimd), BENCH_DIR (default /tmp/scimd-bench:
# SQLite files, results.jsonl, generated Lua scripts, logs), BENCH_PG_DIR (default
# /tmp/scimd-bench-pg) and BENCH_PG_PORT (default 55873) for the throwaway PostgreSQL cluster,
# SIZES (default "1000 100000 1000000"), PATCH_ARGS (extra arguments of run_patch.py, e.g.
# "--clients 8 --rounds 3 --duration 8").
#
# PostgreSQL: tests/support/pg_cluster.sh starts the cluster with PG_DURABLE=1 (no fsync=off etc.
# on its command line, which would override ALTER SYSTEM); this script sets shared_buffers = 2GB
# and effective_cache_size = 12GB, turns fsync, synchronous_commit and full_page_writes off for
# the seed step only and back ON after it (ALTER SYSTEM + restart, checked with SHOW), so that
# PostgreSQL commits are as durable as SQLite's (scimd runs SQLite with synchronous=FULL).
#
# The patch step is self-contained: run_patch.py seeds its own fresh databases (SQLite file
# $BENCH_DIR/sqlite-patch.db, PostgreSQL database scim_patch) with groups of 10, 10,000 and
# 100,000 members, and drops them at the end; it needs only the pg step before it:
#   tests/bench/run_all.sh pg patch stop
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export SCIMD_BIN=${SCIMD_BIN:-/work/build-bench/scimd}
BENCH_DIR=${BENCH_DIR:-/tmp/scimd-bench}
PG_DIR=${BENCH_PG_DIR:-/tmp/scimd-bench-pg}
PG_PORT=${BENCH_PG_PORT:-55873}
PG_BIN=/usr/lib/postgresql/15/bin
SIZES=${SIZES:-"1000 100000 1000000"}
PATCH_ARGS=${PATCH_ARGS:-}
PG_URL=postgresql://scim@127.0.0.1:$PG_PORT
RESULTS=$BENCH_DIR/results.jsonl
mkdir -p "$BENCH_DIR"

steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(pg seed fidelity queries plans patch stop)

label() { case $1 in 1000) echo 1k ;; 100000) echo 100k ;; 1000000) echo 1m ;; *) echo "$1" ;; esac; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
note() { echo "== $(date +%H:%M:%S) $*" | tee -a "$BENCH_DIR/run.log"; }

pg_restart() {
  as_pg "$PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/postgres.log -w -t 120 -m fast restart" >/dev/null
}

step_pg() {
  note "PostgreSQL cluster in $PG_DIR on port $PG_PORT"
  PG_DURABLE=1 bash "$ROOT/tests/support/pg_cluster.sh" start "$PG_DIR" "$PG_PORT"
  "$PG_BIN/psql" -X -q -d "$PG_URL/postgres" -c "ALTER SYSTEM SET shared_buffers = '2GB'" \
    -c "ALTER SYSTEM SET effective_cache_size = '12GB'" -c "ALTER SYSTEM SET max_wal_size = '8GB'"
  pg_restart
}

durable_pg() {  # $1 = on | off
  "$PG_BIN/psql" -X -q -d "$PG_URL/postgres" -c "ALTER SYSTEM SET fsync = $1" \
    -c "ALTER SYSTEM SET synchronous_commit = $1" -c "ALTER SYSTEM SET full_page_writes = $1"
  pg_restart
  local got
  got=$("$PG_BIN/psql" -X -A -t -d "$PG_URL/postgres" -c "SELECT string_agg(setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit')")
  [[ "$got" == "$1 $1 $1" ]] || { note "PostgreSQL durability settings are '$got', not $1 (command-line options override ALTER SYSTEM: was the cluster started with PG_DURABLE=1?)"; exit 1; }
  note "PostgreSQL fsync/synchronous_commit/full_page_writes = $1"
}

step_seed() {
  durable_pg off
  for n in $SIZES; do
    l=$(label "$n")
    note "seed sqlite $n"
    python3 "$HERE/seed.py" seed --fresh --db "sqlite:$BENCH_DIR/sqlite-$l.db" --users "$n" 2>&1 | tee -a "$BENCH_DIR/seed.log"
    note "seed postgresql $n"
    python3 "$HERE/seed.py" seed --fresh --db "$PG_URL/scim_$l" --users "$n" 2>&1 | tee -a "$BENCH_DIR/seed.log"
  done
  durable_pg on
  for n in $SIZES; do
    l=$(label "$n")
    python3 "$HERE/seed.py" verify --db "sqlite:$BENCH_DIR/sqlite-$l.db" --users "$n" 2>&1 | tee -a "$BENCH_DIR/seed.log"
    python3 "$HERE/seed.py" verify --db "$PG_URL/scim_$l" --users "$n" 2>&1 | tee -a "$BENCH_DIR/seed.log"
  done
  ls -la "$BENCH_DIR"/*.db | tee -a "$BENCH_DIR/seed.log"
  "$PG_BIN/psql" -X -d "$PG_URL/postgres" -c "SELECT datname, pg_size_pretty(pg_database_size(datname)) FROM pg_database WHERE datname LIKE 'scim_%' ORDER BY 1" | tee -a "$BENCH_DIR/seed.log"
}

step_fidelity() {
  note "fidelity"
  python3 "$HERE/seed.py" fidelity --db "sqlite:$BENCH_DIR/fidelity-seeded.db" --api-db "sqlite:$BENCH_DIR/fidelity-api.db" 2>&1 | tee -a "$BENCH_DIR/fidelity.log"
  python3 "$HERE/seed.py" fidelity --db "$PG_URL/fidelity_seeded" --api-db "$PG_URL/fidelity_api" 2>&1 | tee -a "$BENCH_DIR/fidelity.log"
}

step_queries() {
  for n in $SIZES; do
    l=$(label "$n")
    note "queries sqlite $n"
    python3 "$HERE/run_queries.py" --db "sqlite:$BENCH_DIR/sqlite-$l.db" --users "$n" --label "sqlite-$l" \
      --out "$RESULTS" --work-dir "$BENCH_DIR" 2>&1 | tee -a "$BENCH_DIR/queries.log"
    note "queries postgresql $n"
    python3 "$HERE/run_queries.py" --db "$PG_URL/scim_$l" --users "$n" --label "postgresql-$l" \
      --pg-data "$PG_DIR/data" --out "$RESULTS" --work-dir "$BENCH_DIR" 2>&1 | tee -a "$BENCH_DIR/queries.log"
  done
}

step_plans() {
  local n l
  n=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
  l=$(label "$n")
  note "plans at $n"
  python3 "$HERE/plans.py" --pg-db "$PG_URL/scim_$l" --pg-log "$PG_DIR/postgres.log" --small-pg-db "$PG_URL/scim_1k" \
    --sqlite-db "sqlite:$BENCH_DIR/sqlite-$l.db" --users "$n" --out "$BENCH_DIR/plans-$l.md"
}

step_patch() {
  # shellcheck disable=SC2086  # PATCH_ARGS is a list of words
  note "patch sqlite (fresh database, groups of 10 / 10,000 / 100,000 members) $PATCH_ARGS"
  python3 "$HERE/run_patch.py" --db "sqlite:$BENCH_DIR/sqlite-patch.db" --out "$RESULTS" $PATCH_ARGS \
    2>&1 | tee -a "$BENCH_DIR/patch.log" || note "patch sqlite FAILED"
  durable_pg on  # refuses to go on unless the cluster really is durable
  note "patch postgresql (fresh database scim_patch) $PATCH_ARGS"
  # shellcheck disable=SC2086
  python3 "$HERE/run_patch.py" --db "$PG_URL/scim_patch" --pg-data "$PG_DIR/data" --out "$RESULTS" $PATCH_ARGS \
    2>&1 | tee -a "$BENCH_DIR/patch.log" || note "patch postgresql FAILED"
}

step_stop() {
  note "stopping PostgreSQL"
  bash "$ROOT/tests/support/pg_cluster.sh" stop "$PG_DIR"
}

for s in "${steps[@]}"; do
  "step_$s"
done
note "done: results in $RESULTS"
