#!/usr/bin/env python3
"""Issue 12 read path: two scimd binaries side by side on one seeded database, with profiles.

    read_path.py --db sqlite|postgresql [--before BIN] [--after BIN] [--users 10000]
                 [--rounds 3] [--seconds 8] [--conns 16] [--profile] [--statements]
                 [--pages-only] [--keep]

BEFORE (default /work/main/build/scimd) and AFTER (default build/scimd of this tree) serve the
same database, seeded by seed.py (SQL inside the database, migrated by AFTER; seed.py rebuilds
resource_counts). Endpoints, each driven by wrk (-t2 -cCONNS, keep-alive) with a Lua script that
varies the user on every request:

    get      GET /Users/{id}
    eq       GET /Users?filter=userName eq "..."
    page     GET /Users?count=100&startIndex=1          (unfiltered page of 100: totalResults)
    deep     GET /Users?count=100&startIndex=<N/2>      (a deep startIndex)
    patch    PATCH /Users/{id}  replace title
    post     POST /Users        (new userNames, distinct per binary)
    healthz  GET /healthz                                (no database: the reference)

Rounds alternate BEFORE/AFTER per endpoint so the shared machine's noise hits both alike; the
report gives each binary's median req/s and p50, and AFTER/BEFORE. --pages-only runs page and
deep with one connection (-t1 -c1: the latency of one request alone), for the 1M-user check.

--profile: for each binary and endpoint, `perf record -F 499 -p PID` (no call graphs: the build
has no frame pointers) during a wrk run; self time per symbol bucketed into stages (HTTP, JSON
parse, JSON write/DOM, auth, schema/projection, filter, store C++, SQLite, libpq/SOCI, kernel,
libc/allocator); plus CPU seconds of scimd and PostgreSQL per request.

--statements (PostgreSQL): transactions committed per request (every statement outside a
transaction is one, DEALLOCATE included), 500 sequential keep-alive requests per endpoint and
binary, from pg_stat_database (exact, not subject to noise; the idle servers' background
polling is included).

--db postgresql uses an already running cluster: --pg-url (default
postgresql://scim@127.0.0.1:56203/) and --pg-data for CPU accounting.
"""

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

LUA = r"""
local N = %(n)d
local KIND = "%(kind)s"
local TAG = "%(tag)s"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Accept"] = "application/scim+json"
wrk.headers["Connection"] = "keep-alive"
-- wrk.format with a headers table uses only that table
local JSON = {["Content-Type"] = "application/scim+json", ["Authorization"] = "Bearer %(token)s",
              ["Accept"] = "application/scim+json", ["Connection"] = "keep-alive"}
local function enc(s)
  return (s:gsub("[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end
local function hashed_id(n, variant)
  local h = (n * 2654435761) %% 4294967296
  return string.format("%%08x-0000-4000-%%s000-%%012x", h, variant, n)
end
local counter = 0

setup = function(thread) counter = counter + 1; thread:set("tid", counter) end
init = function(args) math.randomseed(tid * 7919 + os.time()); seq = 0 end
request = function()
  local i = math.random(1, N)
  seq = seq + 1
  if KIND == "get" then
    return wrk.format("GET", "/scim/v2/Users/" .. hashed_id(i, "8"))
  elseif KIND == "eq" then
    return wrk.format("GET", "/scim/v2/Users?filter=" .. enc("userName eq \"User" .. i .. "@example.com\""))
  elseif KIND == "page" then
    return wrk.format("GET", "/scim/v2/Users?count=100&startIndex=1")
  elseif KIND == "deep" then
    return wrk.format("GET", "/scim/v2/Users?count=100&startIndex=" .. math.floor(N / 2))
  elseif KIND == "patch" then
    return wrk.format("PATCH", "/scim/v2/Users/" .. hashed_id(i, "8"),
      JSON,
      '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"T' .. math.random(1, 1000000) .. '"}]}')
  elseif KIND == "post" then
    return wrk.format("POST", "/scim/v2/Users", JSON,
      '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. TAG .. "-" .. tid ..
      "-" .. seq .. "-" .. math.random(1, 1000000000) .. '@post.example.com","name":{"familyName":"P"},' ..
      '"emails":[{"value":"p' .. seq .. '@post.example.com","type":"work"}]}')
  else
    return wrk.format("GET", "/healthz")
  end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT {\"requests\":%%d,\"duration_us\":%%d,\"p50\":%%d,\"p99\":%%d,\"err_status\":%%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status))
end
"""

KINDS = ["healthz", "get", "eq", "page", "deep", "patch", "post"]


def wrk(port, token, kind, n, seconds, threads, conns, tag, workdir):
    script = os.path.join(workdir, "%s-%s.lua" % (kind, tag))
    with open(script, "w") as f:
        f.write(LUA % {"n": n, "kind": kind, "tag": tag, "token": token})
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "-s", script,
                          "http://127.0.0.1:%d" % port], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"RESULT (\{.*\})", out)
    r = json.loads(m.group(1))
    if r["err_status"]:
        sys.exit("%s %s: %d non-2xx answers" % (tag, kind, r["err_status"]))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


# Stages for a flat profile: first matching rule wins (dso, then symbol, regexes).
STAGES = [
    ("kernel (syscalls: network, files)", r"\[kernel", None),
    ("SQLite", r"libsqlite3", None),
    ("libpq / SOCI", r"libpq|libsoci", None),
    ("auth (token hash, cache)", None, r"scim::auth|[Ss]ha256|SHA256|TokenCache|sha256_block"),
    ("schema / projection", None, r"scim::schema::"),
    ("filter (parse, bind, SQL)", None, r"scim::filter::|CompileFilter|FilterSql"),
    ("JSON parse (rapidjson Reader)", None, r"GenericReader|ParseStream|scim::json::Parse"),
    ("JSON write / DOM (rapidjson)", None, r"rapidjson|scim::json::"),
    ("store C++ (rows, SQL text)", None, r"scim::store::"),
    ("service / patch", None, r"scim::service::|scim::patch::"),
    ("HTTP (Pistache, routing)", r"pistache", r"Pistache|scim::http::"),
    ("Unicode (ICU)", r"libicu", None),
    ("libc / allocator / libstdc++", r"libc\.|libc-|libstdc\+\+|ld-linux|libm\.", None),
    ("OpenSSL", r"libcrypto|libssl", None),
]


def profile(pid, seconds, workdir, label):
    data = os.path.join(workdir, "perf-%s.data" % label)
    rec = subprocess.Popen(["perf", "record", "-q", "-F", "499", "-p", str(pid), "-o", data, "--",
                            "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return rec, data


def summarize(data):
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort",
                          "dso,sym", "--percent-limit", "0", "-q"], capture_output=True, text=True).stdout
    buckets = collections.Counter()
    top = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip()
        if "[k]" in line:
            dso = "[kernel"
        stage = "other"
        for name, dso_re, sym_re in STAGES:
            if (dso_re and re.search(dso_re, dso)) or (sym_re and re.search(sym_re, sym)):
                stage = name
                break
        buckets[stage] += pct
        if len(top) < 8:
            top.append("%.1f%% %s %s" % (pct, dso, sym[:90]))
    return buckets, top


def statements(db, port, token, path_fn, requests, method="GET", body_fn=None):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for k in range(requests):
        body = body_fn(k) if body_fn else None
        headers = {"Authorization": "Bearer " + token, "Connection": "keep-alive"}
        if body:
            headers["Content-Type"] = "application/scim+json"
        conn.request(method, path_fn(k), body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status >= 300:
            sys.exit("%s %s: %d" % (method, path_fn(k), resp.status))
    conn.close()


def memory_kb(pid):
    """VmRSS, RssAnon (heap: what an operator budgets), RssFile (mapped file pages, e.g. the
    SQLite readers' mmap: clean, shared, the kernel can drop them) of `pid`, in kB."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out


def pg_commits(db):
    time.sleep(11)  # PostgreSQL 15 backends flush their statistics within 10 s of going idle
    name = db.rsplit("/", 1)[1]
    return int(bc.pg_rows(db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE "
                              "datname = '%s'" % name)[0][0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    ap.add_argument("--before", default="/work/main/build/scimd")
    ap.add_argument("--after", default=os.path.join(bc.SOURCE_DIR, "build", "scimd"))
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--statements", action="store_true")
    ap.add_argument("--pages-only", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="the database is already seeded")
    ap.add_argument("--pg-url", default="postgresql://scim@127.0.0.1:56203/")
    ap.add_argument("--pg-data", default="/tmp/wt3-pg/data")
    ap.add_argument("--sqlite-dir", default="/tmp/wt3-bench")
    ap.add_argument("--idle", type=int, default=4, help="seconds idle before the second memory reading")
    ap.add_argument("--out", default=None, help="append results as JSON lines")
    args = ap.parse_args()
    os.makedirs(args.sqlite_dir, exist_ok=True)
    pg = args.db == "postgresql"
    db = (args.pg_url + "readpath_%d" % args.users) if pg else \
        "sqlite:%s/readpath-%d.db" % (args.sqlite_dir, args.users)
    if not args.reuse:
        t = time.time()
        subprocess.run([sys.executable, os.path.join(bc.HERE, "seed.py"), "seed", "--db", db, "--users",
                        str(args.users), "--groups", "100", "--bench-groups", "", "--fresh",
                        "--scimd", args.after], check=True)
        print("seeded %d users in %.0f s" % (args.users, time.time() - t), flush=True)
    # BEFORE (main) does not maintain resource_counts: POSTs it served in an earlier run left
    # them short. Rebuild them from the rows, as seed.py does.
    resync = ["DELETE FROM resource_counts", "INSERT INTO resource_counts (tenant, resource_type, "
              "shard, n) SELECT tenant, resource_type, 0, COUNT(*) FROM resources GROUP BY tenant, "
              "resource_type"]
    if pg:
        bc.psql(db, "BEGIN;\n" + ";\n".join(resync) + ";\nCOMMIT;\n")
    else:
        import sqlite3
        with sqlite3.connect(bc.sqlite_path(db)) as conn:
            for stmt in resync:
                conn.execute(stmt)
    token = bc.create_token(args.after, db, "bench-%d" % time.time())
    kinds = ["page", "deep"] if args.pages_only else args.kinds.split(",")
    threads, conns = (1, 1) if args.pages_only else (2, args.conns)
    workdir = tempfile.mkdtemp(prefix="readpath-")
    results = collections.defaultdict(list)
    profiles = {}
    with bc.Server(args.before, db) as before, bc.Server(args.after, db) as after:
        servers = {"before": before, "after": after}
        # The two binaries must agree on what they answer (totalResults, the user).
        c_b, c_a = bc.Client(before.port, token), bc.Client(after.port, token)
        for path in ("/scim/v2/Users?count=1", "/scim/v2/Groups?count=1",
                     "/scim/v2/Users/" + bc.user_id(7)):
            sb, jb = c_b.get(path)
            sa, ja = c_a.get(path)
            for j in (jb, ja):
                if isinstance(j, dict):
                    j.pop("meta", None)
                    for r in j.get("Resources", []):
                        r.pop("meta", None)
            norm = lambda j: re.sub(r"127\.0\.0\.1:\d+", "HOST", json.dumps(j, sort_keys=True))  # noqa
            if sb != sa or norm(jb) != norm(ja):
                sys.exit("before and after differ on %s:\n%s\n%s" % (path, jb, ja))
        print("before and after answer alike (totalResults %s)" % c_a.get("/scim/v2/Users?count=0")[1]
              ["totalResults"], flush=True)
        for rnd in range(args.rounds):
            for kind in kinds:
                order = ["before", "after"] if rnd % 2 == 0 else ["after", "before"]
                for label in order:
                    srv = servers[label]
                    meter = bc.CpuMeter(srv.proc.pid, args.pg_data if pg else None)
                    c0 = meter.snapshot()
                    rec = None
                    if args.profile and rnd == 0:
                        rec, data = profile(srv.proc.pid, args.seconds, workdir, "%s-%s" % (label, kind))
                    r = wrk(srv.port, token, kind, args.users, args.seconds, threads, conns,
                            "%s%d" % (label, rnd), workdir)
                    c1 = meter.snapshot()
                    r["scimd_cpu_ms"] = (c1[0] - c0[0]) * 1000 / max(1, r["requests"])
                    r["pg_cpu_ms"] = (c1[1] - c0[1]) * 1000 / max(1, r["requests"])
                    if rec:
                        rec.wait()
                        profiles[(label, kind)] = summarize(data)
                    results[(label, kind)].append(r)
                    print("round %d %-7s %-6s %8.0f req/s p50 %6.2f ms p99 %7.2f ms cpu %.2f+%.2f ms"
                          % (rnd + 1, kind, label, r["rps"], r["p50"] / 1000, r["p99"] / 1000,
                             r["scimd_cpu_ms"], r["pg_cpu_ms"]), flush=True)
        stmt = {}
        if args.statements and pg:
            n = 500
            probes = {
                "get": ("GET", lambda k: "/scim/v2/Users/" + bc.user_id(1 + k % args.users), None),
                "eq": ("GET", lambda k: "/scim/v2/Users?filter=" +
                       bc.q('userName eq "User%d@example.com"' % (1 + k % args.users)), None),
                "page": ("GET", lambda k: "/scim/v2/Users?count=100&startIndex=1", None),
                "patch": ("PATCH", lambda k: "/scim/v2/Users/" + bc.user_id(1 + k % args.users),
                          lambda k: json.dumps({"schemas": [bc.PATCH_URN], "Operations": [
                              {"op": "replace", "path": "title", "value": "S%d-%f" % (k, time.time())}]})),
                "post": ("POST", lambda k: "/scim/v2/Users", lambda k: json.dumps({
                    "schemas": [bc.USER_URN], "userName": "stmt-%f-%d@example.com" % (time.time(), k)})),
            }
            last = pg_commits(db)
            for kind, (method, path_fn, body_fn) in probes.items():
                for label in ("before", "after"):
                    statements(db, servers[label].port, token, path_fn, n, method, body_fn)
                    now = pg_commits(db)
                    stmt[(label, kind)] = (now - last) / n
                    last = now
                    print("statements per %s (%s): %.3f" % (kind, label, stmt[(label, kind)]), flush=True)
        rss = {label: memory_kb(srv.proc.pid) for label, srv in servers.items()}
        # The SQLite writer's page cache is handed back after 2 s without writes (AFTER).
        time.sleep(args.idle)
        rss_idle = {label: memory_kb(srv.proc.pid) for label, srv in servers.items()}
    print("\n| %s, %d users | before req/s | after req/s | after/before | before p50 ms | after p50 ms | "
          "CPU ms/req before -> after (scimd + pg) |" % (args.db, args.users))
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for kind in kinds:
        b, a = results[("before", kind)], results[("after", kind)]
        if not b:
            continue
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        rb, ra = med(b, "rps"), med(a, "rps")
        summary[kind] = {"before_rps": rb, "after_rps": ra, "before_p50_ms": med(b, "p50") / 1000,
                         "after_p50_ms": med(a, "p50") / 1000}
        print("| %s | %s | %s | **%.2f** | %.2f | %.2f | %.2f+%.2f -> %.2f+%.2f |" % (
            kind, " · ".join("%.0f" % r["rps"] for r in b), " · ".join("%.0f" % r["rps"] for r in a),
            ra / rb, med(b, "p50") / 1000, med(a, "p50") / 1000, med(b, "scimd_cpu_ms"),
            med(b, "pg_cpu_ms"), med(a, "scimd_cpu_ms"), med(a, "pg_cpu_ms")))
    if "healthz" in summary:
        for kind in ("get", "eq"):
            if kind in summary:
                print("%s / healthz (after): %.2f; (before): %.2f" % (
                    kind, summary[kind]["after_rps"] / summary["healthz"]["after_rps"],
                    summary[kind]["before_rps"] / summary["healthz"]["before_rps"]))
    if stmt:
        print("\n| statements per request (PostgreSQL) | before | after |\n|---|---|---|")
        for kind in ("get", "eq", "page", "patch", "post"):
            print("| %s | %.3f | %.3f |" % (kind, stmt[("before", kind)], stmt[("after", kind)]))
    for (label, kind), (buckets, top) in sorted(profiles.items()):
        total = sum(buckets.values()) or 1
        print("\nprofile %s %s: " % (label, kind) + ", ".join(
            "%s %.0f%%" % (k, v * 100 / total) for k, v in buckets.most_common()))
        for t in top:
            print("    " + t)
    print("memory kB right after the run:", rss)
    print("memory kB after %d s idle:" % args.idle, rss_idle)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps({"db": args.db, "users": args.users, "summary": summary,
                                "statements": {"%s/%s" % k: v for k, v in stmt.items()},
                                "rss_kb": rss, "rss_idle_kb": rss_idle, "time": time.time()}) + "\n")


if __name__ == "__main__":
    main()
