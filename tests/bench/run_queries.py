#!/usr/bin/env python3
"""Query benchmark: scimd serve on a seeded database, wrk per query, cursor walk, keep-alive.

    run_queries.py --db URL --users N --label sqlite-1k [--out results.jsonl] [--duration 10]

For each query in lua.QUERIES (the filters vary the looked-up user per request among the seeded
ones): a warm-up wrk run, then `wrk -t2 -c16 -d10s --latency --timeout 60s -s SCRIPT URL`
(no Connection header: plain HTTP/1.1 persistence). A query whose single request takes more than
--slow-threshold (0.2) seconds is measured with -c2 -d30s instead, and marked so; one slower
than --single-only (5) seconds is only timed alone (twice); one that does not answer within
--probe-timeout (120) seconds is recorded as such and cancelled (PostgreSQL). Then the keep-alive
comparison (userName eq with and without -H 'Connection: keep-alive', counting the server's
TIME-WAIT sockets), then a cursor walk of the whole user list, pages of 100, within
--walk-budget seconds. Every result is appended to --out as one JSON line.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402
import lua  # noqa: E402


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def time_wait(port):
    out = subprocess.run(["ss", "-tan", "state", "time-wait"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if ":%d " % port in line + " ")


def wrk(script_path, port, threads, conns, duration, extra=(), timeout="60s", meter=None):
    cpu0 = meter.snapshot() if meter else None
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration, "--latency",
           "--timeout", timeout, *extra, "-s", script_path, "http://127.0.0.1:%d" % port]
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"^RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise RuntimeError("wrk failed: %s\n%s\n%s" % (" ".join(cmd), out.stdout, out.stderr))
    r = json.loads(m.group(1))
    if meter:
        cpu1 = meter.snapshot()
        r["cpu_ms_scimd"] = (cpu1[0] - cpu0[0]) * 1000 / max(1, r["requests"])
        r["cpu_ms_pg"] = (cpu1[1] - cpu0[1]) * 1000 / max(1, r["requests"])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["non2xx"] = r["err_status"]
    r["cmd"] = " ".join(cmd)
    r["stdout"] = out.stdout
    return r


def check_query(client, n, name):
    """One request of `name` for a random user; returns (seconds, body) after checking it."""
    i = random.randint(1, n)
    f = bc.user_fields(i)
    paths = {
        "userName eq": "/scim/v2/Users?filter=" + bc.q('userName eq "%s"' % f["userName"]),
        "externalId eq": "/scim/v2/Users?filter=" + bc.q('externalId eq "%s"' % f["externalId"]),
        "emails.value eq": "/scim/v2/Users?filter=" + bc.q('emails.value eq "%s"' % f["work"]),
        "name.familyName sw": "/scim/v2/Users?filter=" + bc.q('name.familyName sw "%s"' % f["family"]),
        "emails.value co": "/scim/v2/Users?filter=" + bc.q('emails.value co "u%d@home"' % i),
        "GET /Users/{id}": "/scim/v2/Users/" + f["id"],
        "sortBy=name.familyName count=100": "/scim/v2/Users?sortBy=name.familyName&count=100",
        "sortBy=userName count=100": "/scim/v2/Users?sortBy=userName&count=100",
    }
    t = time.perf_counter()
    st, body = client.get(paths[name])
    dt = time.perf_counter() - t
    if st != 200:
        raise RuntimeError("%s: status %d %r" % (name, st, body))
    if name == "GET /Users/{id}":
        assert body["id"] == f["id"] and body["userName"] == f["userName"], body
    elif name.startswith("sortBy"):
        assert body["totalResults"] == n and len(body["Resources"]) == min(n, 100), body["totalResults"]
        key = (lambda r: r["name"]["familyName"].lower()) if "familyName" in name else (lambda r: r["userName"].lower())
        keys = [key(r) for r in body["Resources"]]
        assert keys == sorted(keys), "not sorted"
    else:
        assert body["totalResults"] == 1 and body["Resources"][0]["id"] == f["id"], (name, body)
    return dt


def cursor_walk(client, n, budget):
    pages = items = 0
    lat = []
    cursor = ""
    t0 = time.perf_counter()
    complete = False
    last_id = ""
    while True:
        t = time.perf_counter()
        st, body = client.get("/scim/v2/Users?count=100&cursor=" + bc.q(cursor))
        lat.append(time.perf_counter() - t)
        if st != 200:
            raise RuntimeError("cursor page %d: %d %r" % (pages, st, body))
        ids = [r["id"] for r in body["Resources"]]
        assert all(a < b for a, b in zip([last_id] + ids, ids)), "cursor pages out of order"
        if ids:
            last_id = ids[-1]
        pages += 1
        items += len(ids)
        cursor = body.get("nextCursor")
        if not cursor:
            complete = True
            break
        if time.perf_counter() - t0 > budget:
            break
    total = time.perf_counter() - t0
    if complete:
        assert items == n, "walk saw %d users, expected %d" % (items, n)
    lat.sort()
    return {"pages": pages, "items": items, "seconds": total, "pages_per_s": pages / total,
            "complete": complete, "expected_pages": n // 100 + 1,
            "p50_ms": lat[len(lat) // 2] * 1000, "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--out", default="/tmp/scimd-bench/results.jsonl")
    ap.add_argument("--work-dir", default="/tmp/scimd-bench")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--slow-threshold", type=float, default=0.2)
    ap.add_argument("--single-only", type=float, default=5.0)
    ap.add_argument("--probe-timeout", type=int, default=120)
    ap.add_argument("--walk-budget", type=float, default=180)
    ap.add_argument("--queries", default=",".join(lua.QUERIES))
    ap.add_argument("--no-keepalive", action="store_true")
    ap.add_argument("--no-walk", action="store_true")
    ap.add_argument("--pg-data", help="the PostgreSQL data directory, to count its CPU time")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    kind = "postgresql" if bc.is_pg(args.db) else "sqlite"
    token = bc.create_token(args.scimd, args.db, "bench-%s-%d" % (args.label, int(time.time())))
    out = open(args.out, "a")

    def record(**kw):
        kw.update(label=args.label, db=kind, users=args.users, time=time.strftime("%Y-%m-%dT%H:%M:%S"),
                  loadavg=os.getloadavg())
        out.write(json.dumps(kw) + "\n")
        out.flush()

    with bc.Server(args.scimd, args.db, threads=args.server_threads) as srv:
        log("scimd pid %d on port %d: %s" % (srv.proc.pid, srv.port, " ".join(srv.command())))
        client = bc.Client(srv.port, token)
        meter = bc.CpuMeter(srv.proc.pid, args.pg_data)
        for name in [x for x in args.queries.split(",") if x]:
            # First request alone, bounded: a query that takes longer than --probe-timeout is
            # recorded as such (and cancelled on PostgreSQL), one slower than --single-only is
            # timed alone, one slower than --slow-threshold is loaded with -c2 -d30s only.
            probe_client = bc.Client(srv.port, token, timeout=args.probe_timeout)
            cpu0 = meter.snapshot()
            try:
                first = check_query(probe_client, args.users, name)
            except (TimeoutError, OSError) as e:
                if bc.is_pg(args.db):
                    bc.psql(args.db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE "
                                     "datname = current_database() AND state = 'active' AND pid <> pg_backend_pid();\n")
                log("%-34s single request did not finish within %d s (%s): not loaded" % (name, args.probe_timeout, e))
                record(kind="query", query=name, rps=None, timed_out=True, single_ms=None,
                       probe_timeout_s=args.probe_timeout)
                continue
            if first > args.single_only:
                second = check_query(probe_client, args.users, name)
                cpu1 = meter.snapshot()
                single = (first + second) / 2
                log("%-34s single requests %.1f s and %.1f s: too slow to load, timed alone" % (name, first, second))
                record(kind="query", query=name, rps=None, single_ms=single * 1000, singles_ms=[first * 1000, second * 1000],
                       cpu_ms_scimd=(cpu1[0] - cpu0[0]) * 500, cpu_ms_pg=(cpu1[1] - cpu0[1]) * 500, slow=True)
                continue
            probes = [first] + [check_query(client, args.users, name) for _ in range(2)]
            single = statistics.median(probes)
            slow = single > args.slow_threshold
            conns, duration = (2, max(30, args.duration)) if slow else (args.conns, args.duration)
            path = os.path.join(args.work_dir, "%s-%s.lua" % (args.label, re.sub(r"[^a-zA-Z0-9]+", "_", name)))
            with open(path, "w") as f:
                f.write(lua.query_script(args.users, token, name))
            if args.warmup and not slow:
                wrk(path, srv.port, args.wrk_threads, conns, args.warmup)
            r = wrk(path, srv.port, args.wrk_threads, conns, duration, meter=meter)
            log("%-34s %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  cpu/req %.2f+%.2f ms  non2xx %d  errors %d/%d/%d/%d  (single %.1f ms%s)"
                % (name, r["rps"], r["p50"] / 1000, r["p99"] / 1000, r["cpu_ms_scimd"], r["cpu_ms_pg"], r["non2xx"], r["err_connect"],
                   r["err_read"], r["err_write"], r["err_timeout"], single * 1000, ", SLOW: -c2 -d30s" if slow else ""))
            record(kind="query", query=name, rps=r["rps"], p50_ms=r["p50"] / 1000, p90_ms=r["p90"] / 1000,
                   p99_ms=r["p99"] / 1000, max_ms=r["max"] / 1000, requests=r["requests"],
                   non2xx=r["non2xx"], errors=[r["err_connect"], r["err_read"], r["err_write"], r["err_timeout"]],
                   conns=conns, duration=duration, single_ms=single * 1000, slow=slow, cmd=r["cmd"],
                   cpu_ms_scimd=r["cpu_ms_scimd"], cpu_ms_pg=r["cpu_ms_pg"],
                   script=path)
        if not args.no_keepalive:
            name = "userName eq"
            path = os.path.join(args.work_dir, "%s-keepalive.lua" % args.label)
            with open(path, "w") as f:
                f.write(lua.query_script(args.users, token, name))
            wrk(path, srv.port, args.wrk_threads, args.conns, args.warmup)
            for header in (False, True):
                extra = ["-H", "Connection: keep-alive"] if header else []
                time.sleep(1)
                tw0 = time_wait(srv.port)
                r = wrk(path, srv.port, args.wrk_threads, args.conns, args.duration, extra, meter=meter)
                tw1 = time_wait(srv.port)
                log("keep-alive %-5s %9.1f req/s  p50 %6.2f ms  p99 %6.2f ms  non2xx %d  TIME-WAIT %d -> %d"
                    % (header, r["rps"], r["p50"] / 1000, r["p99"] / 1000, r["non2xx"], tw0, tw1))
                record(kind="keepalive", query=name, header=header, rps=r["rps"], p50_ms=r["p50"] / 1000,
                       p99_ms=r["p99"] / 1000, requests=r["requests"], non2xx=r["non2xx"],
                       errors=[r["err_connect"], r["err_read"], r["err_write"], r["err_timeout"]],
                       time_wait_before=tw0, time_wait_after=tw1, cmd=r["cmd"],
                       cpu_ms_scimd=r["cpu_ms_scimd"], cpu_ms_pg=r["cpu_ms_pg"])
        if not args.no_walk:
            w = cursor_walk(client, args.users, args.walk_budget)
            log("cursor walk: %d/%d pages (%d users) in %.1f s = %.1f pages/s, p50 %.1f ms p99 %.1f ms%s"
                % (w["pages"], w["expected_pages"], w["items"], w["seconds"], w["pages_per_s"], w["p50_ms"],
                   w["p99_ms"], "" if w["complete"] else " (budget reached, partial)"))
            record(kind="walk", **w, budget=args.walk_budget)
        rss = srv.rss_kb()
        log("server RSS %s kB" % rss)
        record(kind="rss", rss_kb=rss)


if __name__ == "__main__":
    main()
