#!/usr/bin/env python3
"""PATCH member benchmark (issue 4): add / remove one member of a group of 10, 10,000, 100,000.

    run_patch.py --db URL --users N --label sqlite-1m [--sizes 10,10000,100000] [--out results.jsonl]

Needs a database seeded by `seed.py seed` with those benchmark groups (bench-members-<size>,
members users 1..size) and N >= 400,000 users: the users added and removed come from a pool
above every group (thread t of wrk uses users 200001 + (t - 1) * 100000 + j).

For each group size, with and without ?excludedAttributes=members on the PATCH, and at two
concurrencies (wrk -t2 -c16, and -t1 -c1 for the cost of one request alone): a warm-up run, then
`wrk --latency -d10s` with a Lua script that alternates, per thread, {"op":"add","path":"members",
"value":[{"value":u_j}]} and {"op":"remove","path":"members[value eq \"u_(j-8)\"]"} (distinct users,
each removed 8 requests of its thread after its add). After each run the pool users still in the
group are removed (one PATCH) so every run starts from a group of exactly <size> members; the
member count is checked before each run.
"""

import argparse
import json
import os
import re
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402
import lua  # noqa: E402
from run_queries import wrk  # noqa: E402

POOL_BASE = 200001
POOL_STRIDE = 100000
LAG = 8


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def member_ids(db, group_id):
    sql = "SELECT member_id FROM group_members WHERE tenant = '%s' AND group_id = '%s'" % (bc.TENANT, group_id)
    if bc.is_pg(db):
        return [r[0] for r in bc.pg_rows(db, sql)]
    conn = sqlite3.connect(bc.sqlite_path(db), timeout=60)
    try:
        return [r[0] for r in conn.execute(sql)]
    finally:
        conn.close()


def group_version(db, group_id):
    sql = "SELECT version FROM resources WHERE tenant = '%s' AND id = '%s'" % (bc.TENANT, group_id)
    if bc.is_pg(db):
        return bc.pg_rows(db, sql)[0][0]
    conn = sqlite3.connect(bc.sqlite_path(db), timeout=60)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def settle(db, group_id):
    """Waits until the server has finished the PATCHes wrk left in flight when it stopped (the
    group's version unchanged for 5 s)."""
    last, stable_since = group_version(db, group_id), time.time()
    deadline = time.time() + 300
    while time.time() < deadline and time.time() - stable_since < 5:
        time.sleep(0.5)
        v = group_version(db, group_id)
        if v != last:
            last, stable_since = v, time.time()


def reset_group(db, client, size):
    """Removes every member that is not one of users 1..size; returns how many it removed."""
    gid = bc.bench_group_id(size)
    settle(db, gid)
    ids = member_ids(db, gid)
    extra = [m for m in ids if int(m[-12:], 16) > size]
    if extra:
        body = {"schemas": [bc.PATCH_URN], "Operations": [
            {"op": "remove", "path": "members", "value": [{"value": m} for m in extra]}]}
        st, out = client.request("PATCH", "/scim/v2/Groups/%s?excludedAttributes=members" % gid, body)
        if st != 200:
            raise RuntimeError("cleanup PATCH: %d %r" % (st, out))
        ids = member_ids(db, gid)
    if len(ids) != size:
        raise RuntimeError("group %s has %d members, expected %d" % (gid, len(ids), size))
    return len(extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--sizes", default="10,10000,100000")
    ap.add_argument("--out", default="/tmp/scimd-bench/results.jsonl")
    ap.add_argument("--work-dir", default="/tmp/scimd-bench")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--interleaved-rounds", type=int, default=0,
                    help="instead of the variants: this many rounds of excl-c1 runs, sizes alternating")
    ap.add_argument("--variants", default="excl-c16,excl-c1,full-c16,full-c1",
                    help="which of excl-c16, excl-c1, full-c16, full-c1 to run")
    ap.add_argument("--pool-base", type=int, default=POOL_BASE)
    ap.add_argument("--pool-stride", type=int, default=POOL_STRIDE)
    ap.add_argument("--pg-data", help="the PostgreSQL data directory, to count its CPU time")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    if args.users < args.pool_base + 2 * args.pool_stride - 1 or args.pool_base <= max(int(s) for s in args.sizes.split(",")):
        sys.exit("run_patch.py: the user pool %d + 2 x %d must lie above the groups and within the users"
                 % (args.pool_base, args.pool_stride))
    os.makedirs(args.work_dir, exist_ok=True)
    kind = "postgresql" if bc.is_pg(args.db) else "sqlite"
    token = bc.create_token(args.scimd, args.db, "bench-patch-%s-%d" % (args.label, int(time.time())))
    out = open(args.out, "a")
    sizes = [int(s) for s in args.sizes.split(",")]
    with bc.Server(args.scimd, args.db, threads=args.server_threads) as srv:
        log("scimd pid %d on port %d: %s" % (srv.proc.pid, srv.port, " ".join(srv.command())))
        client = bc.Client(srv.port, token)
        meter = bc.CpuMeter(srv.proc.pid, args.pg_data)
        for size in ([] if args.interleaved_rounds else sizes):
            gid = bc.bench_group_id(size)
            for exclude in (True, False):
                for threads, conns in ((2, 16), (1, 1)):
                    if "%s-c%d" % ("excl" if exclude else "full", conns) not in args.variants:
                        continue
                    reset_group(args.db, client, size)
                    path = os.path.join(args.work_dir, "%s-patch-%d-%s.lua" % (args.label, size, "excl" if exclude else "full"))
                    with open(path, "w") as f:
                        f.write(lua.patch_script(args.users, token, gid, args.pool_base, args.pool_stride, LAG, exclude))
                    if args.warmup:
                        wrk(path, srv.port, threads, conns, args.warmup)
                        reset_group(args.db, client, size)
                    r = wrk(path, srv.port, threads, conns, args.duration, meter=meter)
                    leftovers = reset_group(args.db, client, size)
                    log("group %6d %-13s -t%d -c%-2d %8.1f req/s  p50 %8.2f ms  p99 %8.2f ms  cpu/req %.2f+%.2f ms  non2xx %d  errors %s  (%d left over)"
                        % (size, "excl=members" if exclude else "full response", threads, conns, r["rps"],
                           r["p50"] / 1000, r["p99"] / 1000, r["cpu_ms_scimd"], r["cpu_ms_pg"], r["non2xx"],
                           [r["err_connect"], r["err_read"], r["err_write"], r["err_timeout"]], leftovers))
                    out.write(json.dumps(dict(
                        kind="patch", label=args.label, db=kind, users=args.users, group_size=size,
                        exclude_members=exclude, conns=conns, threads=threads, rps=r["rps"],
                        p50_ms=r["p50"] / 1000, p90_ms=r["p90"] / 1000, p99_ms=r["p99"] / 1000,
                        max_ms=r["max"] / 1000, requests=r["requests"], non2xx=r["non2xx"],
                        bytes=r["bytes"], cpu_ms_scimd=r["cpu_ms_scimd"], cpu_ms_pg=r["cpu_ms_pg"],
                        errors=[r["err_connect"], r["err_read"], r["err_write"], r["err_timeout"]],
                        duration=args.duration, cmd=r["cmd"], script=path, time=time.strftime("%Y-%m-%dT%H:%M:%S"),
                        loadavg=os.getloadavg())) + "\n")
                    out.flush()
        if args.interleaved_rounds:
            # Issue 4 target: one PATCH at a time (-t1 -c1, excludedAttributes=members), the group
            # sizes alternating round after round so that the shared machine's load hits them alike.
            runs = {}
            scripts = {}
            for size in sizes:
                path = os.path.join(args.work_dir, "%s-patch-%d-excl.lua" % (args.label, size))
                with open(path, "w") as f:
                    f.write(lua.patch_script(args.users, token, bc.bench_group_id(size), args.pool_base,
                                             args.pool_stride, LAG, True))
                scripts[size] = path
            for rnd in range(args.interleaved_rounds):
                for size in sizes:
                    reset_group(args.db, client, size)
                    r = wrk(scripts[size], srv.port, 1, 1, args.duration, meter=meter)
                    runs.setdefault(size, []).append(r)
                    log("round %d group %6d: p50 %.2f ms p99 %.2f ms cpu/req %.2f ms non2xx %d (load %.1f)" % (
                        rnd + 1, size, r["p50"] / 1000, r["p99"] / 1000, r["cpu_ms_scimd"] + r["cpu_ms_pg"],
                        r["non2xx"], os.getloadavg()[0]))
            reset_group(args.db, client, sizes[0])
            med = {size: {"p50_ms": statistics.median(r["p50"] / 1000 for r in rs),
                          "p99_ms": statistics.median(r["p99"] / 1000 for r in rs),
                          "rps": statistics.median(r["rps"] for r in rs),
                          "cpu_ms": statistics.median(r["cpu_ms_scimd"] + r["cpu_ms_pg"] for r in rs),
                          "non2xx": sum(r["non2xx"] for r in rs)} for size, rs in runs.items()}
            for size in sizes:
                log("group %6d: p50 %.2f ms (%.2fx of %d)  cpu/req %.2f ms (%.2fx)" % (
                    size, med[size]["p50_ms"], med[size]["p50_ms"] / med[sizes[0]]["p50_ms"], sizes[0],
                    med[size]["cpu_ms"], med[size]["cpu_ms"] / med[sizes[0]]["cpu_ms"]))
            out.write(json.dumps(dict(kind="patch_target", label=args.label, db=kind, users=args.users,
                                      sizes=sizes, medians={str(k): v for k, v in med.items()},
                                      rounds=args.interleaved_rounds, duration=args.duration,
                                      cmd=runs[sizes[0]][0]["cmd"], time=time.strftime("%Y-%m-%dT%H:%M:%S"))) + "\n")
            out.flush()
        log("server RSS %s kB" % srv.rss_kb())


if __name__ == "__main__":
    main()
