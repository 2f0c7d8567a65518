#!/usr/bin/env python3
"""Issue 3 target check: the cost of `eq` / `sw` look-ups at N_large users vs N_small users.

    target_check.py --small-db URL --small-users 1000 --large-db URL --large-users 1000000 \
        --label sqlite [--pg-data DIR] [--rounds 5] [--duration 5]

The machine is shared (other builds run on the same 2 cores), so the two sizes are measured
interleaved: one scimd per database runs for the whole check, and each round runs, for every
query, `wrk -t1 -c1 -d5s --latency` (one request at a time: latency is the cost) against the small
database and then against the large one. Reported per size and query: the median over the rounds
of p50, p99 and CPU time per request (scimd + PostgreSQL), and the large/small ratios.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402
import lua  # noqa: E402
from run_queries import wrk  # noqa: E402

QUERIES = ["userName eq", "externalId eq", "emails.value eq", "name.familyName sw", "GET /Users/{id}"]


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small-db", required=True)
    ap.add_argument("--small-users", type=int, required=True)
    ap.add_argument("--large-db", required=True)
    ap.add_argument("--large-users", type=int, required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--pg-data")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--out", default="/tmp/scimd-bench/results.jsonl")
    ap.add_argument("--work-dir", default="/tmp/scimd-bench")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    sizes = [(args.small_db, args.small_users), (args.large_db, args.large_users)]
    tokens = [bc.create_token(args.scimd, db, "bench-target-%d" % int(time.time())) for db, _ in sizes]
    runs = {}
    with bc.Server(args.scimd, sizes[0][0]) as s0, bc.Server(args.scimd, sizes[1][0]) as s1:
        servers = [s0, s1]
        meters = [bc.CpuMeter(s.proc.pid, args.pg_data) for s in servers]
        scripts = {}
        for k, (db, n) in enumerate(sizes):
            for q in QUERIES:
                path = os.path.join(args.work_dir, "target-%s-%d-%s.lua" % (args.label, n, q.replace(" ", "_").replace("/", "_")))
                with open(path, "w") as f:
                    f.write(lua.query_script(n, tokens[k], q))
                scripts[(k, q)] = path
                wrk(path, servers[k].port, 1, 1, 2)  # warm-up
        for rnd in range(args.rounds):
            for q in QUERIES:
                for k in (0, 1):
                    r = wrk(scripts[(k, q)], servers[k].port, 1, 1, args.duration, meter=meters[k])
                    runs.setdefault((k, q), []).append(r)
                    log("round %d %-20s %8d users: p50 %.2f ms p99 %.2f ms cpu/req %.2f ms (load %.1f)" % (
                        rnd + 1, q, sizes[k][1], r["p50"] / 1000, r["p99"] / 1000,
                        r["cpu_ms_scimd"] + r["cpu_ms_pg"], os.getloadavg()[0]))
                    if r["non2xx"] or r["err_connect"] or r["err_read"] or r["err_timeout"]:
                        raise RuntimeError("errors in %s" % r["cmd"])
    with open(args.out, "a") as out:
        for q in QUERIES:
            med = {}
            for k in (0, 1):
                rs = runs[(k, q)]
                med[k] = {
                    "p50_ms": statistics.median(r["p50"] / 1000 for r in rs),
                    "p99_ms": statistics.median(r["p99"] / 1000 for r in rs),
                    "rps": statistics.median(r["rps"] for r in rs),
                    "cpu_ms": statistics.median(r["cpu_ms_scimd"] + r["cpu_ms_pg"] for r in rs),
                    "p50_runs": [round(r["p50"] / 1000, 3) for r in rs],
                    "cpu_runs": [round(r["cpu_ms_scimd"] + r["cpu_ms_pg"], 3) for r in rs],
                }
            ratio_p50 = med[1]["p50_ms"] / med[0]["p50_ms"]
            ratio_cpu = med[1]["cpu_ms"] / med[0]["cpu_ms"]
            log("%-20s p50 %.2f -> %.2f ms (%.2fx)  cpu/req %.2f -> %.2f ms (%.2fx)" % (
                q, med[0]["p50_ms"], med[1]["p50_ms"], ratio_p50, med[0]["cpu_ms"], med[1]["cpu_ms"], ratio_cpu))
            out.write(json.dumps(dict(kind="target", label=args.label, query=q, small_users=args.small_users,
                                      large_users=args.large_users, small=med[0], large=med[1],
                                      ratio_p50=ratio_p50, ratio_cpu=ratio_cpu, rounds=args.rounds,
                                      duration=args.duration, cmd=runs[(0, q)][0]["cmd"],
                                      time=time.strftime("%Y-%m-%dT%H:%M:%S"))) + "\n")


if __name__ == "__main__":
    main()
