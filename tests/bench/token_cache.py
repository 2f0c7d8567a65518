#!/usr/bin/env python3
"""GET /Users/{id} with the token cache (issue 12) against a scimd without it, side by side.

Runs two `scimd serve` processes on one database, BEFORE (a binary built without the cache, e.g.
from main before the change) and AFTER (default build/scimd), seeds USERS users, then runs wrk
(-t2 -cCONNS, keep-alive) against each, alternating before/after for ROUNDS rounds so machine
noise hits both alike, and `GET /healthz` of AFTER once per round as the no-database reference.
On PostgreSQL it also counts, for 1,000 sequential keep-alive requests to each binary, the
transactions the database committed (each statement outside a transaction is one) and the index
scans of api_tokens (token look-ups), from pg_stat_database / pg_stat_user_tables: exact
counts, independent of machine noise (background queries of the two idle servers included).

    python3 tests/bench/token_cache.py --before /tmp/scimd-before --db sqlite
    python3 tests/bench/token_cache.py --before /tmp/scimd-before --db postgresql --pg-port 55874

--db postgresql starts a throwaway durable cluster (tests/support/pg_cluster.sh, PG_DURABLE=1)
on --pg-port in /tmp/scimd-bench-tokencache-pg and stops it at the end.
"""

import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import free_port, seed_users, start_serve, wrk_rps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_SCRIPT = os.path.join(ROOT, "tests", "support", "pg_cluster.sh")
PG_DIR = "/tmp/scimd-bench-tokencache-pg"
PSQL = "/usr/lib/postgresql/15/bin/psql"




def cli(binary, *args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout








def pg_value(port, dbname, sql):
    out = subprocess.run([PSQL, "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", "scim",
                          "-d", dbname, "-c", sql], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def pg_counters(port, dbname):
    # Backends flush their statistics when idle for up to 10 s (PostgreSQL 15): wait for that.
    time.sleep(11)
    commits = pg_value(port, dbname, "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                     f"WHERE datname = '{dbname}'")
    scans = pg_value(port, dbname, "SELECT COALESCE(idx_scan, 0) + COALESCE(seq_scan, 0) FROM "
                                   "pg_stat_user_tables WHERE relname = 'api_tokens'")
    return commits, scans


def statements_per_request(port, dbname, server_port, token, path, requests=1000):
    before = pg_counters(port, dbname)
    conn = http.client.HTTPConnection("127.0.0.1", server_port)
    for _ in range(requests):
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"GET {path}: {resp.status}")
    conn.close()
    after = pg_counters(port, dbname)
    return [(a - b) / requests for a, b in zip(after, before)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="scimd binary without the token cache")
    parser.add_argument("--after", default=os.path.join(ROOT, "build", "scimd"))
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=55874)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--users", type=int, default=10000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="scimd-tokencache-bench-")
    procs = []
    pg = args.db == "postgresql"
    try:
        with open(os.path.join(workdir, "bench.yaml"), "w", encoding="utf-8") as f:
            f.write("limits: {rate_limit_per_minute: 0}\nlog: {access: false}\n")
        if pg:
            subprocess.run(["bash", PG_SCRIPT, "start", PG_DIR, str(args.pg_port)], check=True,
                           env=dict(os.environ, PG_DURABLE="1"), capture_output=True)
            db = f"postgresql://scim@127.0.0.1:{args.pg_port}/scim"
        else:
            db = f"sqlite:{workdir}/bench.db"
        cli(args.after, "migrate", "--db", db)
        token = cli(args.after, "token", "create", "--db", db, "--name", "bench", "--scopes",
                    "scim:read,scim:write").strip().splitlines()[-1]
        ports = {"before": free_port(), "after": free_port()}
        for name in ("before", "after"):
            procs.append(start_serve(getattr(args, name), workdir, db, ports[name]))
        user = seed_users(ports["after"], token, args.users)
        path = f"/scim/v2/Users/{user}"
        print(f"{args.db}, {args.users} users, wrk -t2 -c{args.conns} -d{args.seconds}s, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        results = {"before": [], "after": [], "healthz": []}
        for r in range(args.rounds):
            for name in ("before", "after"):
                rps = wrk_rps(f"http://127.0.0.1:{ports[name]}{path}", token, args.seconds, args.conns)
                results[name].append(rps)
                print(f"round {r + 1} {name:7s} GET /Users/{{id}} {rps:9.0f} req/s", flush=True)
            rps = wrk_rps(f"http://127.0.0.1:{ports['after']}/healthz", token, args.seconds, args.conns)
            results["healthz"].append(rps)
            print(f"round {r + 1} after   GET /healthz     {rps:9.0f} req/s", flush=True)
        b, a, h = (statistics.median(results[k]) for k in ("before", "after", "healthz"))
        print(f"median: before {b:.0f}, after {a:.0f} req/s (after/before {a / b:.2f}); "
              f"healthz {h:.0f} (after/healthz {a / h:.2f}); load {os.getloadavg()[0]:.1f}")
        if pg:
            for name in ("before", "after"):
                commits, scans = statements_per_request(args.pg_port, "scim", ports[name], token,
                                                        path)
                print(f"{name}: per GET /Users/{{id}}: {commits:.3f} committed transactions, "
                      f"{scans:.3f} api_tokens scans")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        if pg:
            subprocess.run(["bash", PG_SCRIPT, "stop", PG_DIR], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
