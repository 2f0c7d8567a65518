#!/usr/bin/env python3
"""PATCH member benchmark (issue 4): add one member to / remove one member from groups of
10, 10,000 and 100,000 members, concurrently, on a fresh database it seeds itself.

    run_patch.py --db URL [--sizes 10,10000,100000] [--clients 4] [--rounds 3] [--duration 8]
                 [--label NAME] [--out results.jsonl] [--pg-data DIR] [--keep-db]

Self-contained and re-runnable:
1. The database URL is wiped and recreated (SQLite file removed; PostgreSQL `DROP DATABASE` /
   `CREATE DATABASE` through the cluster's `postgres` database), then seeded inside the database
   by seed.py (the same rows the store writes): users 1..U with U = max(size) + clients x pool,
   --groups ordinary groups, and one benchmark group per size (`bench-members-<S>`, members:
   users 1..S, id bench_common.bench_group_id(S)). Seeding 100,000 members takes seconds.
2. `scimd serve` (Release binary, rate limit off) runs on it; before every measured run the
   group's membership is checked by SQL to be exactly users 1..S and repaired through SCIM if
   not (extra members removed, missing ones added back, in chunks), so an aborted run never
   poisons the next one. The database is dropped at the end unless --keep-db.
3. --clients worker processes (one keep-alive HTTP/1.1 connection each) all PATCH the same group
   for --duration seconds; client k owns users max(size) + k * pool + 1 .. + pool (never members
   of a benchmark group) and loops over them: PATCH add user u, then PATCH remove user u, so the
   group has S (or S + a few in flight) members throughout. Bodies:
       add     {"schemas":[PatchOp],"Operations":[{"op":"add","path":"members","value":[{"value":"<u>"}]}]}
       remove  {"schemas":[PatchOp],"Operations":[{"op":"remove","path":"members[value eq \"<u>\"]"}]}
   on /scim/v2/Groups/<id>?excludedAttributes=members (answer 200 with the group without its
   members, as Entra asks) or, with --query none, without a query (the server answers 204).
   Every request's latency is taken on the client (time.perf_counter around send + full read),
   per operation; any status other than the expected one is counted and reported.
4. The sizes are measured in --rounds rounds, their order rotated each round (the machine is
   shared: noise then hits every size alike); one unrecorded warm-up run per size first.
   Latencies of all rounds are pooled per size and operation (p50, p90, p99, max); CPU seconds of
   scimd and of the PostgreSQL processes (--pg-data) per PATCH are measured over each run.

Output: one JSON line per run (kind "patch_run") and per size (kind "patch_members") appended to
--out, and the Markdown table of docs/benchmarks.md on stdout (report.py renders it too).
"""

import argparse
import http.client
import json
import multiprocessing
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402
import seed as seeder  # noqa: E402

CHUNK = 1000  # members per repair PATCH


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def member_ids(db, group_id):
    sql = "SELECT member_id FROM group_members WHERE tenant = '%s' AND group_id = '%s'" % (bc.TENANT, group_id)
    if bc.is_pg(db):
        return [r[0] for r in bc.pg_rows(db, sql)]
    conn = sqlite3.connect("file:%s?mode=ro" % bc.sqlite_path(db), uri=True, timeout=60)
    try:
        return [r[0] for r in conn.execute(sql)]
    finally:
        conn.close()


def pg_settings(db):
    rows = bc.pg_rows(db, "SELECT name, setting FROM pg_settings WHERE name IN "
                          "('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'server_version')")
    return {r[0]: r[1] for r in rows}


def patch_body(op, uid):
    if op == "add":
        ops = [{"op": "add", "path": "members", "value": [{"value": uid}]}]
    else:
        ops = [{"op": "remove", "path": 'members[value eq "%s"]' % uid}]
    return json.dumps({"schemas": [bc.PATCH_URN], "Operations": ops}, separators=(",", ":")).encode()


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def stats(values):
    v = sorted(values)
    return {"n": len(v), "p50_ms": percentile(v, 50), "p90_ms": percentile(v, 90),
            "p99_ms": percentile(v, 99), "max_ms": v[-1] if v else None,
            "mean_ms": sum(v) / len(v) if v else None}


# ---------------------------------------------------------------------------------------------
# Membership reset


class Groups:
    def __init__(self, db, client, suffix, expect_status):
        self.db, self.client, self.suffix, self.expect = db, client, suffix, expect_status
        self.base = {}

    def base_ids(self, size):
        if size not in self.base:
            self.base[size] = {bc.user_id(i) for i in range(1, size + 1)}
        return self.base[size]

    def _patch(self, gid, ops):
        st, out = self.client.request("PATCH", "/scim/v2/Groups/%s%s" % (gid, self.suffix),
                                      {"schemas": [bc.PATCH_URN], "Operations": ops})
        if st != self.expect:
            raise RuntimeError("repair PATCH of %s: %d %r" % (gid, st, out))

    def reset(self, size):
        """Makes the group's members exactly users 1..size; returns (extra removed, missing added)."""
        gid = bc.bench_group_id(size)
        want = self.base_ids(size)
        have = set(member_ids(self.db, gid))
        extra, missing = sorted(have - want), sorted(want - have)
        for i in range(0, len(extra), CHUNK):
            self._patch(gid, [{"op": "remove", "path": "members",
                               "value": [{"value": m} for m in extra[i:i + CHUNK]]}])
        for i in range(0, len(missing), CHUNK):
            self._patch(gid, [{"op": "add", "path": "members",
                               "value": [{"value": m} for m in missing[i:i + CHUNK]]}])
        if extra or missing:
            have = set(member_ids(self.db, gid))
            if have != want:
                raise RuntimeError("group %s: %d members after repair, expected users 1..%d"
                                   % (gid, len(have), size))
        return len(extra), len(missing)


# ---------------------------------------------------------------------------------------------
# Load


def worker(port, token, path, users, start_at, duration, expect_status, out):
    """One client: add user u, remove user u, next u, until the deadline; sends its latencies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json",
               "Accept": "application/scim+json"}
    bodies = [(patch_body("add", u), patch_body("remove", u)) for u in users]
    lat = {"add": [], "remove": []}
    bad = []
    time.sleep(max(0.0, start_at - time.time()))
    t_start = time.time()
    deadline = time.perf_counter() + duration
    j = 0
    try:
        while time.perf_counter() < deadline:
            add, remove = bodies[j % len(bodies)]
            j += 1
            for op, body in (("add", add), ("remove", remove)):
                t0 = time.perf_counter()
                conn.request("PATCH", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                dt = (time.perf_counter() - t0) * 1000.0
                lat[op].append(dt)
                if resp.status != expect_status:
                    bad.append((op, resp.status, data[:200].decode("utf-8", "replace")))
    except Exception as e:  # noqa: BLE001 - reported to the parent
        bad.append(("exception", 0, repr(e)))
    out.send({"add": lat["add"], "remove": lat["remove"], "bad": bad, "t_start": t_start,
              "t_end": time.time()})
    out.close()
    conn.close()


def run_load(port, token, size, clients, pool, pool_base, duration, suffix, expect_status, meter):
    ctx = multiprocessing.get_context("fork")
    gid = bc.bench_group_id(size)
    path = "/scim/v2/Groups/%s%s" % (gid, suffix)
    start_at = time.time() + 0.3
    procs = []
    for k in range(clients):
        users = [bc.user_id(pool_base + k * pool + j) for j in range(1, pool + 1)]
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=worker, args=(port, token, path, users, start_at, duration, expect_status, child))
        p.start()
        child.close()
        procs.append((p, parent))
    load0 = os.getloadavg()[0]
    cpu0 = meter.snapshot() if meter else (0.0, 0.0)
    results = []
    for p, parent in procs:
        results.append(parent.recv())
        p.join()
    cpu1 = meter.snapshot() if meter else (0.0, 0.0)
    add = [x for r in results for x in r["add"]]
    rem = [x for r in results for x in r["remove"]]
    bad = [b for r in results for b in r["bad"]]
    seconds = max(r["t_end"] for r in results) - min(r["t_start"] for r in results)
    n = len(add) + len(rem)
    return {"add": add, "remove": rem, "bad": bad, "seconds": seconds, "requests": n,
            "rps": n / seconds if seconds else 0.0,
            "cpu_ms_scimd": (cpu1[0] - cpu0[0]) * 1000 / max(1, n),
            "cpu_ms_pg": (cpu1[1] - cpu0[1]) * 1000 / max(1, n),
            "load": [load0, os.getloadavg()[0]]}


# ---------------------------------------------------------------------------------------------


def fmt_ms(x):
    return "–" if x is None else ("%.1f" % x if x >= 10 else "%.2f" % x)


def markdown(kind, rows, settings):
    by = {r["group_size"]: r for r in rows}
    sizes = sorted(by)
    print("\n%s (%s)\n" % ({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind], settings))
    print("| members | add ops | remove ops | req/s | add p50 ms | add p99 ms | remove p50 ms | remove p99 ms | CPU ms/PATCH (scimd + pg) | non-2xx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        r = by[s]
        print("| %s | %d | %d | %.0f | %s | %s | %s | %s | %.2f + %.2f | %d |" % (
            "{:,}".format(s), r["add"]["n"], r["remove"]["n"], r["rps"], fmt_ms(r["add"]["p50_ms"]),
            fmt_ms(r["add"]["p99_ms"]), fmt_ms(r["remove"]["p50_ms"]), fmt_ms(r["remove"]["p99_ms"]),
            r["cpu_ms_scimd"], r["cpu_ms_pg"], r["bad"]))
    lo, hi = by[sizes[0]], by[sizes[-1]]
    ratios = []
    for name, a, b in (("add p50", lo["add"]["p50_ms"], hi["add"]["p50_ms"]),
                       ("add p99", lo["add"]["p99_ms"], hi["add"]["p99_ms"]),
                       ("remove p50", lo["remove"]["p50_ms"], hi["remove"]["p50_ms"]),
                       ("remove p99", lo["remove"]["p99_ms"], hi["remove"]["p99_ms"]),
                       ("CPU/PATCH", lo["cpu_ms_scimd"] + lo["cpu_ms_pg"], hi["cpu_ms_scimd"] + hi["cpu_ms_pg"]),
                       ("1/(req/s)", 1 / lo["rps"] if lo["rps"] else None, 1 / hi["rps"] if hi["rps"] else None)):
        ratios.append("%s %s" % (name, "%.2fx" % (b / a) if a and b else "–"))
    print("\nRatio %s/%s: %s" % ("{:,}".format(sizes[-1]), "{:,}".format(sizes[0]), ", ".join(ratios)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="sqlite:PATH or postgresql://.../DBNAME (wiped and recreated)")
    ap.add_argument("--label", help="default: sqlite / postgresql")
    ap.add_argument("--sizes", default="10,10000,100000")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--pool", type=int, default=1000, help="users per client")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per size per round")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--groups", type=int, default=100, help="ordinary groups seeded besides the benchmark groups")
    ap.add_argument("--query", choices=["excl", "none"], default="excl",
                    help="excl: ?excludedAttributes=members (200); none: no query (204)")
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/scimd-bench/results.jsonl")
    ap.add_argument("--pg-data", help="the PostgreSQL data directory, to count its CPU time")
    ap.add_argument("--allow-nondurable", action="store_true",
                    help="run even if PostgreSQL has fsync/synchronous_commit/full_page_writes off")
    ap.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kind = "postgresql" if bc.is_pg(args.db) else "sqlite"
    label = args.label or kind
    pool_base = max(sizes)
    users = pool_base + args.clients * args.pool
    suffix, expect = ("?excludedAttributes=members", 200) if args.query == "excl" else ("", 204)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    if bc.is_pg(args.db):
        settings = pg_settings(args.db.rsplit("/", 1)[0] + "/postgres")
        durable = all(settings.get(k) == "on" for k in ("fsync", "synchronous_commit", "full_page_writes"))
        log("PostgreSQL %s: fsync=%s synchronous_commit=%s full_page_writes=%s shared_buffers=%s" % (
            settings.get("server_version"), settings.get("fsync"), settings.get("synchronous_commit"),
            settings.get("full_page_writes"), settings.get("shared_buffers")))
        if not durable and not args.allow_nondurable:
            sys.exit("run_patch.py: PostgreSQL is not durable (start it with PG_DURABLE=1 tests/support/pg_cluster.sh "
                     "start ...) or pass --allow-nondurable")
        settings_note = "fsync=%s, synchronous_commit=%s, full_page_writes=%s" % (
            settings.get("fsync"), settings.get("synchronous_commit"), settings.get("full_page_writes"))
    else:
        settings = {"synchronous": "FULL (set by scimd)", "journal_mode": "WAL"}
        settings_note = "WAL, synchronous=FULL"

    t0 = time.time()
    seeder.seed(argparse.Namespace(db=args.db, users=users, groups=args.groups, bench_groups=sizes,
                                   fresh=True, scimd=args.scimd))
    log("seeded %d users, %d groups and groups of %s members in %.1f s" % (users, args.groups, sizes, time.time() - t0))

    token = bc.create_token(args.scimd, args.db, "bench-patch-%d" % os.getpid())
    out = open(args.out, "a")
    runs = {s: [] for s in sizes}
    try:
        with bc.Server(args.scimd, args.db, threads=args.server_threads) as srv:
            log("scimd pid %d on port %d: %s" % (srv.proc.pid, srv.port, " ".join(srv.command())))
            client = bc.Client(srv.port, token)
            groups = Groups(args.db, client, suffix, expect)
            meter = bc.CpuMeter(srv.proc.pid, args.pg_data)
            # Pre-flight: the answer is what we expect, and the add and remove really happen.
            for size in sizes:
                gid = bc.bench_group_id(size)
                if groups.reset(size) != (0, 0):
                    raise RuntimeError("seeded group %d is not users 1..%d" % (size, size))
                u = bc.user_id(pool_base + 1)
                for op, n in (("add", size + 1), ("remove", size)):
                    st, body = client.request("PATCH", "/scim/v2/Groups/%s%s" % (gid, suffix),
                                              json.loads(patch_body(op, u)))
                    if st != expect or (expect == 200 and (body.get("id") != gid or "members" in body)):
                        raise RuntimeError("pre-flight %s on group %d: %d %r" % (op, size, st, body))
                    got = len(member_ids(args.db, gid))
                    if got != n:
                        raise RuntimeError("pre-flight %s on group %d: %d members, expected %d" % (op, size, got, n))
            log("pre-flight OK: PATCH answers %d%s; add/remove change the member count" % (
                expect, " without members" if expect == 200 else ""))
            if args.warmup:
                for size in sizes:
                    groups.reset(size)
                    r = run_load(srv.port, token, size, args.clients, args.pool, pool_base, args.warmup,
                                 suffix, expect, None)
                    log("warm-up %6d: %d PATCHes, %d bad" % (size, r["requests"], len(r["bad"])))
            for rnd in range(args.rounds):
                order = sizes[rnd % len(sizes):] + sizes[:rnd % len(sizes)]
                for size in order:
                    fixed = groups.reset(size)
                    r = run_load(srv.port, token, size, args.clients, args.pool, pool_base, args.duration,
                                 suffix, expect, meter)
                    runs[size].append(r)
                    a, m = stats(r["add"]), stats(r["remove"])
                    log("round %d group %6d: %5d add p50 %6.2f p99 %7.2f | %5d remove p50 %6.2f p99 %7.2f ms | "
                        "%.0f req/s cpu/PATCH %.2f+%.2f ms | bad %d | load %.1f→%.1f | reset %s" % (
                            rnd + 1, size, a["n"], a["p50_ms"] or 0, a["p99_ms"] or 0, m["n"], m["p50_ms"] or 0,
                            m["p99_ms"] or 0, r["rps"], r["cpu_ms_scimd"], r["cpu_ms_pg"], len(r["bad"]),
                            r["load"][0], r["load"][1], fixed))
                    for b in r["bad"][:3]:
                        log("  unexpected answer: %r" % (b,))
                    out.write(json.dumps(dict(
                        kind="patch_run", label=label, db=kind, group_size=size, round=rnd + 1,
                        clients=args.clients, query=args.query, seconds=r["seconds"], requests=r["requests"],
                        rps=r["rps"], add=a, remove=m, bad=len(r["bad"]), cpu_ms_scimd=r["cpu_ms_scimd"],
                        cpu_ms_pg=r["cpu_ms_pg"], load=r["load"], reset_before=fixed,
                        time=time.strftime("%Y-%m-%dT%H:%M:%S"))) + "\n")
                    out.flush()
            final = {s: groups.reset(s) for s in sizes}
            log("after the runs, repairs needed: %s; server RSS %s kB" % (final, srv.rss_kb()))
            rss = srv.rss_kb()
    finally:
        if not args.keep_db:
            if bc.is_pg(args.db):
                base, name = args.db.rsplit("/", 1)
                bc.psql(base + "/postgres", 'DROP DATABASE IF EXISTS "%s";\n' % name)
            else:
                for ext in ("", "-wal", "-shm", "-journal"):
                    if os.path.exists(bc.sqlite_path(args.db) + ext):
                        os.remove(bc.sqlite_path(args.db) + ext)
            log("database %s dropped" % args.db)

    rows = []
    cmd = " ".join([os.path.relpath(os.path.abspath(__file__), bc.SOURCE_DIR)] + sys.argv[1:])
    for size in sizes:
        rs = runs[size]
        secs = sum(r["seconds"] for r in rs)
        n = sum(r["requests"] for r in rs)
        row = dict(kind="patch_members", label=label, db=kind, group_size=size, clients=args.clients,
                   rounds=args.rounds, duration=args.duration, query=args.query, users=users,
                   add=stats([x for r in rs for x in r["add"]]),
                   remove=stats([x for r in rs for x in r["remove"]]),
                   rps=n / secs if secs else 0.0, requests=n, bad=sum(len(r["bad"]) for r in rs),
                   cpu_ms_scimd=sum(r["cpu_ms_scimd"] * r["requests"] for r in rs) / max(1, n),
                   cpu_ms_pg=sum(r["cpu_ms_pg"] * r["requests"] for r in rs) / max(1, n),
                   round_p50_add=[stats(r["add"])["p50_ms"] for r in rs],
                   round_p50_remove=[stats(r["remove"])["p50_ms"] for r in rs],
                   load=[min(r["load"][0] for r in rs), max(r["load"][1] for r in rs)],
                   settings=settings, settings_note=settings_note, rss_kb=rss, cmd=cmd,
                   time=time.strftime("%Y-%m-%dT%H:%M:%S"))
        rows.append(row)
        out.write(json.dumps(row) + "\n")
    out.close()
    markdown(kind, rows, settings_note)


if __name__ == "__main__":
    main()
