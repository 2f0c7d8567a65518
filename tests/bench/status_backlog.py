#!/usr/bin/env python3
"""Status at a large backlog (issues 11 and 12): how long GET /metrics, GET /admin/v1/sync/status
and `scimd sync status` take while every target holds ~USERS pending deliveries.

Setup (once per database, with the --base binary): USERS users are created through /Bulk
(batches of 1,000) while two webhook targets point at closed ports, so the breaker pauses both
and nothing drains; then the first 1,000 users are PUT once more (a second change each) and,
with scimd stopped, 100 of the first changes per target are marked failed with
blocks_resource = 1 (so 100 pending rows per target are blocked) and 50 pending rows per target
get a last_error. The fan-out is complete before the copy (every target's cursor at the last
outbox seq). The database is then copied (SQLite: the file; PostgreSQL: CREATE DATABASE ...
TEMPLATE) and the copy migrated by the --new binary (a fresh copy on every run), so both
binaries read the same backlog.

Timing: ROUNDS rounds, each starting `scimd serve` of base and new in turn (interleaved) on its
own copy with the same targets (still paused) and timing CALLS requests of each endpoint on one
keep-alive connection, plus CLI_CALLS runs of `scimd sync status --db`. Reports p50/p99 (ms) per
binary and endpoint, the CPU seconds per call of scimd + PostgreSQL (every process of the
cluster) and the 1-minute load average. --explain prints EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL)
or EXPLAIN QUERY PLAN with timings (SQLite) of the status statements of both versions.

    /usr/bin/python3 tests/bench/status_backlog.py --db sqlite --base /work/baseline/main-03e9a80/scimd \
        --new build/scimd --explain
    /usr/bin/python3 tests/bench/status_backlog.py --db postgresql --pg-port 55452 \
        --base /work/baseline/main-03e9a80/scimd --new build/scimd --explain

--keep DIR keeps the databases in DIR (and reuses them on the next run with the same DIR, which
skips the setup; PostgreSQL: the cluster's data directory is DIR/pg).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_common import (ENTERPRISE_URN, SOURCE_DIR, USER_URN, Client, Server, children, create_token,
                          free_port, migrate, pg_rows, proc_cpu_seconds, psql, run, sqlite_path)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
PG_SCRIPT = os.path.join(SOURCE_DIR, "tests", "support", "pg_cluster.sh")
TARGETS = ("events", "audit")
BATCH = 1000


def user_data(i, dept="Sales"):
    return {"schemas": [USER_URN, ENTERPRISE_URN], "userName": f"backlog.{i}@hr.example.com",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
            "emails": [{"value": f"backlog.{i}@hr.example.com", "type": "work", "primary": True}],
            "active": True, ENTERPRISE_URN: {"employeeNumber": f"{i:07d}", "department": dept}}


def targets_config():
    """Two webhook targets at closed ports: the breaker pauses them at the first failures."""
    out = ["targets:\n"]
    for name in TARGETS:
        out.append(f"  - name: {name}\n    type: webhook\n"
                   f"    url: http://127.0.0.1:{free_port()}/events\n"
                   "    algorithm: HS256\n    secret: backlog-bench-secret\n")
    out.append("delivery: {breaker: {failures: 1, probe_min_seconds: 60, probe_max_seconds: 3600}}\n")
    return "".join(out)


def sql_rows(db, sql):
    if db.startswith("postgresql"):
        return pg_rows(db, sql)
    out = run(["sqlite3", sqlite_path(db), sql]).stdout
    return [line.split("|") for line in out.splitlines() if line]


def sql_exec(db, sql):
    if db.startswith("postgresql"):
        psql(db, sql)
    else:
        run(["sqlite3", sqlite_path(db)], input=sql)


def bulk(client, ops):
    status, body = client.request("POST", "/scim/v2/Bulk", {"schemas": [BULK_REQUEST],
                                                          "Operations": ops})
    if status != 200:
        sys.exit(f"Bulk answered {status}: {body}")
    return body["Operations"]


def setup(scimd, db, users):
    migrate(scimd, db)
    token = create_token(scimd, db, "backlog")
    started = time.monotonic()
    with Server(scimd, db, extra_config=targets_config()) as server:
        lock = threading.Lock()
        ids = {}
        starts = list(range(0, users, BATCH))

        def worker():
            c = Client(server.port, token)
            while True:
                with lock:
                    if not starts:
                        return
                    start = starts.pop(0)
                ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": user_data(i)}
                       for i in range(start, min(users, start + BATCH))]
                for op in bulk(c, ops):
                    if op["status"] != "201":
                        sys.exit(f"POST failed: {op}")
                    with lock:
                        ids[int(op["bulkId"][1:])] = op["location"].rsplit("/", 1)[1]

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        c = Client(server.port, token)
        ops = [{"method": "PUT", "path": f"/Users/{ids[i]}", "data": user_data(i, "Rerun")}
               for i in range(min(users, 1000))]
        bulk(c, ops)
        print(f"setup: {users} users + {len(ops)} PUTs in {time.monotonic() - started:.0f} s",
              flush=True)
        last = int(sql_rows(db, "SELECT MAX(seq) FROM outbox")[0][0])
        while True:  # the fan-out of every seq to both targets
            done = sql_rows(db, "SELECT COUNT(*) FROM target_cursors WHERE scanned_seq >= %d" % last)
            if int(done[0][0]) == len(TARGETS):
                break
            time.sleep(1)
        print(f"setup: fanned out after {time.monotonic() - started:.0f} s", flush=True)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    # 100 failed rows per target that block the resource's later change (the PUT), 50 pending
    # rows with an error.
    sql_exec(db, f"""
UPDATE deliveries SET status = 'failed', blocks_resource = 1, next_attempt_at = NULL,
  last_error = 'gave up: HTTP 503', updated = '{now}'
  WHERE id IN (SELECT MIN(id) FROM deliveries WHERE resource_id IN (SELECT resource_id FROM
    deliveries GROUP BY resource_id HAVING COUNT(*) > {len(TARGETS)} ORDER BY resource_id LIMIT 100)
    GROUP BY target, resource_id);
UPDATE deliveries SET last_error = 'HTTP 502: bad gateway', updated = '{now}'
  WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' ORDER BY id DESC LIMIT 100);
""")
    for row in sql_rows(db, "SELECT target, status, COUNT(*) FROM deliveries GROUP BY target, status "
                            "ORDER BY 1, 2"):
        print("setup:", " ".join(row), flush=True)
    return token


def fanout_run(scimd, db, users, pg_cpu):
    """A fresh database: USERS users through /Bulk with both targets paused; returns the seconds
    until the POSTs are answered and until both targets' fan-out is complete, and the CPU
    seconds of scimd and PostgreSQL meanwhile (the write side of migration 014's triggers and
    indexes: fan-out inserts; claims and outcomes are not exercised here)."""
    migrate(scimd, db)
    token = create_token(scimd, db, "fanout")
    with Server(scimd, db, extra_config=targets_config()) as server:
        c = Client(server.port, token)
        cpu0, pg0 = proc_cpu_seconds(server.proc.pid), pg_cpu.seconds()
        started = time.monotonic()
        for start in range(0, users, BATCH):
            ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": user_data(i)}
                   for i in range(start, min(users, start + BATCH))]
            bulk(c, ops)
        posted = time.monotonic() - started
        last = int(sql_rows(db, "SELECT MAX(seq) FROM outbox")[0][0])
        while int(sql_rows(db, "SELECT COUNT(*) FROM target_cursors WHERE scanned_seq >= %d"
                               % last)[0][0]) < len(TARGETS):
            time.sleep(0.2)
        fanned = time.monotonic() - started
        return (posted, fanned, proc_cpu_seconds(server.proc.pid) - cpu0, pg_cpu.seconds() - pg0)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class PgCpu:
    def __init__(self, data_dir):
        self.pid = None
        if data_dir:
            with open(os.path.join(data_dir, "postmaster.pid")) as f:
                self.pid = int(f.readline())

    def seconds(self):
        if not self.pid:
            return 0.0
        return proc_cpu_seconds(self.pid) + sum(proc_cpu_seconds(c) for c in children(self.pid))


def time_binary(scimd, db, token, config, calls, cli_calls, pg_cpu, results):
    with Server(scimd, db, extra_config=config) as server:
        c = Client(server.port, token)
        for path in ("/metrics", "/admin/v1/sync/status"):
            get = raw_get if path == "/metrics" else Client.get
            get(c, path)  # warm
            cpu0 = proc_cpu_seconds(server.proc.pid) + pg_cpu.seconds()
            for _ in range(calls):
                started = time.monotonic()
                status, _ = get(c, path)
                results.setdefault(path, []).append(time.monotonic() - started)
                if status != 200:
                    sys.exit(f"{path} answered {status}")
            cpu = proc_cpu_seconds(server.proc.pid) + pg_cpu.seconds() - cpu0
            results.setdefault(path + " cpu", []).append(cpu / calls)
    for _ in range(cli_calls):
        started = time.monotonic()
        run([scimd, "sync", "status", "--db", db])
        results.setdefault("scimd sync status", []).append(time.monotonic() - started)


def raw_get(client, path):
    """GET of a text body (the Client parses JSON)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=600)
    conn.request("GET", path, headers={"Authorization": "Bearer " + client.token})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, None


# The statements of delivery_status.cc, baseline (main 03e9a80) and new (status-backlog).
BASE_STATEMENTS = [
    ("counts", "SELECT status, COUNT(*) FROM deliveries WHERE target = 'events' GROUP BY status"),
    ("oldest", "SELECT MIN(created) FROM deliveries WHERE target = 'events' "
               "AND status IN ('pending', 'in_flight')"),
    ("blocked", "SELECT COUNT(*) FROM deliveries d WHERE d.target = 'events' AND d.status = 'pending' "
                "AND EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target "
                "AND e.tenant = d.tenant AND e.resource_id = d.resource_id AND e.seq < d.seq "
                "AND e.status <> 'delivered' AND e.status = 'failed' AND e.blocks_resource = 1)"),
    ("last_error", "SELECT last_error FROM deliveries WHERE target = 'events' "
                   "AND status IN ('pending', 'in_flight', 'failed') AND last_error IS NOT NULL "
                   "ORDER BY updated DESC, id DESC LIMIT 1"),
    ("outbox_depth", "SELECT COUNT(*) FROM (SELECT seq FROM outbox WHERE seq > "
                     "(SELECT MIN(scanned_seq) FROM target_cursors) UNION SELECT seq FROM deliveries "
                     "WHERE status <> 'delivered' AND status IN ('pending', 'in_flight')) x"),
    ("blocked, one tenant (the admin API)",
     "SELECT COUNT(*) FROM deliveries d WHERE d.target = 'events' AND d.status = 'pending' "
     "AND d.tenant = 'default' AND EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target "
     "AND e.tenant = d.tenant AND e.resource_id = d.resource_id AND e.seq < d.seq "
     "AND e.status <> 'delivered' AND e.status = 'failed' AND e.blocks_resource = 1)"),
]
NEW_STATEMENTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "status_backlog_new.sql")


def explain(db, label, statements):
    print(f"\n=== {label}: {db.split('/')[-1]}", flush=True)
    for name, sql in statements:
        if db.startswith("postgresql"):
            out = psql(db, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql + ";")
        else:
            out = run(["sqlite3", sqlite_path(db)],
                      input=".timer on\nEXPLAIN QUERY PLAN " + sql + ";\n" + sql + ";\n").stdout
        print(f"--- {name}: {sql}\n{out}", flush=True)


def new_statements():
    """The new binary's statements (status_backlog_new.sql: `-- name` lines, then the SQL)."""
    out, name, lines = [], None, []
    with open(NEW_STATEMENTS_FILE) as f:
        for line in f:
            if line.startswith("-- "):
                if name:
                    out.append((name, " ".join(lines)))
                name, lines = line[3:].strip(), []
            elif line.strip():
                lines.append(line.strip())
    if name:
        out.append((name, " ".join(lines)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    ap.add_argument("--pg-port", type=int, default=55452)
    ap.add_argument("--base", required=True, help="the baseline scimd")
    ap.add_argument("--new", required=True, help="the scimd under test")
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=20, help="requests per endpoint per round")
    ap.add_argument("--cli-calls", type=int, default=3, help="`scimd sync status` runs per round")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--keep", help="keep (and reuse) the databases in this directory")
    ap.add_argument("--setup-only", action="store_true", help="build the backlog (with --keep)")
    ap.add_argument("--fanout-users", type=int, default=0,
                    help="then, per round, fresh databases: this many users fanned out by each")
    args = ap.parse_args()
    base_bin, new_bin = os.path.abspath(args.base), os.path.abspath(args.new)

    work = args.keep or tempfile.mkdtemp(prefix="status-backlog-")
    os.makedirs(work, exist_ok=True)
    reuse = os.path.exists(os.path.join(work, "token"))
    pg_dir = os.path.join(work, "pg")
    try:
        if args.db == "postgresql":
            if not (reuse and subprocess.run(["bash", PG_SCRIPT, "status", pg_dir]).returncode == 0):
                if reuse:
                    sys.exit(f"{pg_dir} holds no running cluster: remove {work} to set up again")
                run(["bash", PG_SCRIPT, "start", pg_dir, str(args.pg_port)])
            admin = f"postgresql://scim@127.0.0.1:{args.pg_port}/scim"
            base_db = f"postgresql://scim@127.0.0.1:{args.pg_port}/backlog_base"
            new_db = f"postgresql://scim@127.0.0.1:{args.pg_port}/backlog_new"
            if not reuse:
                psql(admin, "CREATE DATABASE backlog_base;")
        else:
            base_db = "sqlite:" + os.path.join(work, "base.db")
            new_db = "sqlite:" + os.path.join(work, "new.db")
        if reuse:
            token = open(os.path.join(work, "token")).read().strip()
        else:
            token = setup(base_bin, base_db, args.users)
            if args.db == "postgresql":
                psql(admin, "VACUUM;")
                psql(base_db, "VACUUM ANALYZE;")
            with open(os.path.join(work, "token"), "w") as f:
                f.write(token)
        if args.setup_only:
            return
        # A fresh copy for the new binary every run (its migrations may have changed).
        if args.db == "postgresql":
            psql(admin, "DROP DATABASE IF EXISTS backlog_new;")
            psql(admin, "CREATE DATABASE backlog_new TEMPLATE backlog_base;")
        else:
            shutil.copy(sqlite_path(base_db), sqlite_path(new_db))
        started = time.monotonic()
        migrate(new_bin, new_db)
        print(f"setup: new binary's migrations on the backlog took "
              f"{time.monotonic() - started:.1f} s", flush=True)
        if args.db == "postgresql":
            psql(new_db, "VACUUM ANALYZE;")
        config = targets_config()
        pg_cpu = PgCpu(os.path.join(pg_dir, "data") if args.db == "postgresql" else None)
        results = {"base": {}, "new": {}}
        for r in range(args.rounds):
            for label, scimd, db in (("base", base_bin, base_db), ("new", new_bin, new_db)):
                time_binary(scimd, db, token, config, args.calls, args.cli_calls, pg_cpu,
                            results[label])
            print(f"round {r + 1} done, load {os.getloadavg()[0]:.1f}", flush=True)
        print(f"\n{args.db}, {args.users} users, {args.rounds} rounds x {args.calls} calls "
              f"(CLI: x {args.cli_calls}), load {os.getloadavg()[0]:.1f}")
        print(f"{'endpoint':<24} {'base p50':>9} {'base p99':>9} {'new p50':>9} {'new p99':>9} "
              f"{'p50 ratio':>9} {'CPU/call base → new (ms)':>26}")
        for key in ("/metrics", "/admin/v1/sync/status", "scimd sync status"):
            b, n = results["base"][key], results["new"][key]
            cpu = ""
            if key + " cpu" in results["base"]:
                cpu = "%.1f → %.1f" % (statistics.mean(results["base"][key + " cpu"]) * 1000,
                                       statistics.mean(results["new"][key + " cpu"]) * 1000)
            print(f"{key:<24} {percentile(b, 50) * 1000:9.1f} {percentile(b, 99) * 1000:9.1f} "
                  f"{percentile(n, 50) * 1000:9.1f} {percentile(n, 99) * 1000:9.1f} "
                  f"{percentile(b, 50) / percentile(n, 50):8.0f}x {cpu:>26}", flush=True)
        if args.fanout_users:
            fanout = {"base": [], "new": []}
            for r in range(args.rounds):
                for label, scimd in (("base", base_bin), ("new", new_bin)):
                    if args.db == "postgresql":
                        psql(admin, "DROP DATABASE IF EXISTS fanout WITH (FORCE);")
                        psql(admin, "CREATE DATABASE fanout;")
                        db = f"postgresql://scim@127.0.0.1:{args.pg_port}/fanout"
                    else:
                        path = os.path.join(work, "fanout.db")
                        for suffix in ("", "-wal", "-shm"):
                            if os.path.exists(path + suffix):
                                os.remove(path + suffix)
                        db = "sqlite:" + path
                    fanout[label].append(fanout_run(scimd, db, args.fanout_users, pg_cpu))
                    print(f"fan-out round {r + 1} {label}: POSTs %.1f s, fanned out %.1f s, "
                          f"scimd CPU %.1f s, PostgreSQL CPU %.1f s" % fanout[label][-1],
                          flush=True)
            print(f"\nfan-out of {args.fanout_users} users to {len(TARGETS)} paused targets "
                  f"(median of {args.rounds}), load {os.getloadavg()[0]:.1f}")
            for label in ("base", "new"):
                runs = fanout[label]
                print(f"{label:<5} POSTs %.1f s, fanned out %.1f s, scimd CPU %.1f s, "
                      f"PostgreSQL CPU %.1f s" % tuple(statistics.median(x[i] for x in runs)
                                                      for i in range(4)), flush=True)
        if args.explain:
            explain(base_db, "base", BASE_STATEMENTS)
            explain(new_db, "new", new_statements())
    finally:
        if not args.keep:
            if args.db == "postgresql":
                subprocess.run(["bash", PG_SCRIPT, "stop", pg_dir])
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
