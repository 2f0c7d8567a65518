#!/usr/bin/env python3
"""An HR push through /Bulk (issue 11): USERS users in Bulk requests of BATCH operations sent by
CLIENTS concurrent keep-alive clients, then the same users again as PUTs (an HR re-run), then a
smaller run whose users carry passwords.

Each user has userName, name, a work e-mail, active, and the enterprise employeeNumber and
department. Reports users/s per phase, p50/p99 of a Bulk request, scimd's RSS (before, peak
sampled every 0.2 s, after) and checks that every operation answered 201 (POST) or 200 (PUT) and
that the outbox and audit log hold one entry per write.

    /usr/bin/python3 tests/bench/bulk_load.py --db sqlite
    /usr/bin/python3 tests/bench/bulk_load.py --db postgresql --pg-port 56777
    /usr/bin/python3 tests/bench/bulk_load.py --db sqlite --drain

--drain: scimd delivers to the three fake targets of the issue (Dolibarr, Zoho Books, CRM from
tests/fakes, rate limits off, each its own process); after the POST phase the run waits until
every delivery is done (GET /admin/v1/sync/status and the outbox depth) and reports the drain
time and the latency of single GET /Users/{id} requests sent one after another meanwhile.
Meanwhile a second tenant ("trickle") creates --trickle-rate users per second; each one's
delivery lag per target (answered POST -> its link at that target shows in
GET /admin/v1/sync/links, polled every 0.1 s) tells whether the 100k starve other tenants'
deliveries. CPU seconds of scimd, PostgreSQL (every process of the cluster) and each fake over
the POST phase and the drain are reported (from /proc), and the 1-minute load average.

--db postgresql starts a throwaway durable cluster (tests/support/pg_cluster.sh, PG_DURABLE=1:
fsync and synchronous_commit on) and stops it at the end. SQLite runs with scimd's own
synchronous=FULL.
"""

import argparse
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
from delivery_support import (SECRETS_ENV, metric_value, start_fakes, stop_fakes,  # noqa: E402
                              targets_yaml)

from bench_common import (ENTERPRISE_URN, SOURCE_DIR, USER_URN, Client, Server, children,
                          create_token, migrate, pg_rows, proc_cpu_seconds, run, sqlite_path)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
PG_SCRIPT = os.path.join(SOURCE_DIR, "tests", "support", "pg_cluster.sh")
DEPARTMENTS = ["Sales", "Finance", "Engineering", "Support", "Legal", "Marketing"]


def user_data(run, i, password=False):
    data = {"schemas": [USER_URN, ENTERPRISE_URN], "userName": f"{run}.{i}@hr.example.com",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
            "emails": [{"value": f"{run}.{i}@hr.example.com", "type": "work", "primary": True}],
            "active": i % 10 != 0,
            ENTERPRISE_URN: {"employeeNumber": f"{i:07d}", "department": DEPARTMENTS[i % 6]}}
    if password:
        data["password"] = f"Pw-{run}-{i}-correct-horse"
    return data


def post_batches(run, users, batch, password=False):
    for start in range(0, users, batch):
        yield [{"method": "POST", "path": "/Users", "bulkId": f"u{i}",
                "data": user_data(run, i, password)} for i in range(start, min(users, start + batch))]


def put_batches(run, ids, batch):
    for start in range(0, len(ids), batch):
        ops = []
        for i in range(start, min(len(ids), start + batch)):
            data = user_data(run, i)
            data[ENTERPRISE_URN]["department"] = "Rerun"
            ops.append({"method": "PUT", "path": f"/Users/{ids[i]}", "data": data})
        yield ops


class RssSampler(threading.Thread):
    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.stop = server, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.server.rss_kb() or 0)
            time.sleep(0.2)


def push(server, token, batches, clients, expect):
    """Sends the batches from CLIENTS threads; returns (seconds, latencies, results by bulk)."""
    work = queue.Queue()
    for b in batches:
        work.put(b)
    latencies, failures, locations = [], [], {}
    lock = threading.Lock()

    def client():
        c = Client(server.port, token)
        while True:
            try:
                ops = work.get_nowait()
            except queue.Empty:
                return
            started = time.monotonic()
            status, body = c.request("POST", "/scim/v2/Bulk",
                                     {"schemas": [BULK_REQUEST], "Operations": ops})
            took = time.monotonic() - started
            with lock:
                latencies.append(took)
                if status != 200:
                    failures.append((status, body))
                    continue
                for op in body["Operations"]:
                    if op["status"] != expect:
                        failures.append(op)
                    elif "bulkId" in op:
                        locations[op["bulkId"]] = op["location"].rsplit("/", 1)[1]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    if failures:
        sys.exit(f"{len(failures)} failures, first: {failures[0]}")
    return seconds, latencies, locations


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name, count, seconds, cpu, latencies, rss_before, rss_peak, rss_after):
    print(f"{name:<22} {count:>7} users {seconds:7.1f} s {count / seconds:7.0f} users/s  "
          f"scimd CPU {cpu:6.1f} s   "
          f"Bulk p50 {percentile(latencies, 50) * 1000:6.0f} ms  p99 "
          f"{percentile(latencies, 99) * 1000:6.0f} ms   RSS {rss_before // 1024} -> peak "
          f"{rss_peak // 1024} -> {rss_after // 1024} MB   load {os.getloadavg()[0]:.1f}", flush=True)


def count_rows(db, table):
    if db.startswith("postgresql"):
        return int(pg_rows(db, f"SELECT count(*) FROM {table}")[0][0])
    out = subprocess.run(["sqlite3", sqlite_path(db), f"SELECT count(*) FROM {table}"],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


PG_POSTMASTER = []  # the cluster's postmaster pid, when --db postgresql


def pg_cpu_seconds():
    """CPU seconds of the PostgreSQL cluster (PG_POSTMASTER): the postmaster with its reaped
    children, and every live child; 0 without a cluster."""
    if not PG_POSTMASTER:
        return 0.0
    postmaster = PG_POSTMASTER[0]
    try:
        with open("/proc/%d/stat" % postmaster) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return 0.0
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return proc_cpu_seconds(postmaster) + reaped + sum(proc_cpu_seconds(c)
                                                       for c in children(postmaster))


def run_phase(name, server, token, batches, count, clients, expect, perf_dir=None):
    rss_before = server.rss_kb() or 0
    cpu_before = proc_cpu_seconds(server.proc.pid)
    pg_before = pg_cpu_seconds()
    sampler = RssSampler(server)
    sampler.start()
    perf = None
    if perf_dir:
        # perf record (DWARF call graphs) of scimd during this phase only, into PERF_DIR/<phase>.data.
        out = os.path.join(perf_dir, name.split()[0].lower() + ".data")
        perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "199",
                                 "-p", str(server.proc.pid),
                                 "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    seconds, latencies, locations = push(server, token, batches, clients, expect)
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    sampler.stop.set()
    sampler.join()
    cpu = proc_cpu_seconds(server.proc.pid) - cpu_before
    report(name, count, seconds, cpu, latencies, rss_before, max(sampler.peak, rss_before),
           server.rss_kb() or 0)
    if PG_POSTMASTER:
        pg_cpu = pg_cpu_seconds() - pg_before
        print(f"{'':<22} PostgreSQL server CPU {pg_cpu:6.1f} s; CPU per user: scimd "
              f"{cpu / count * 1000:.2f} ms, server {pg_cpu / count * 1000:.2f} ms", flush=True)
    if PG_STATS:
        pg_stats_report(name, count)
    return locations


PG_STATS = {}  # --pg-stats: {"db": URL, "lsn": WAL position at the start of the phase}


def pg_stats_start(db):
    """--pg-stats: pg_stat_statements loaded (needs a restart: ALTER SYSTEM, which a durable
    cluster leaves to postgresql.conf) and every counter reset."""
    pg_rows(db, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    subprocess.run(["bash", PG_SCRIPT, "restart", PG_STATS["dir"]], check=True,
                   capture_output=True)
    pg_rows(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    pg_rows(db, "ALTER SYSTEM SET pg_stat_statements.track_planning = on")
    pg_rows(db, "SELECT pg_reload_conf()")
    PG_STATS["db"] = db


def pg_stats_reset():
    db = PG_STATS["db"]
    pg_rows(db, "SELECT pg_stat_statements_reset(), pg_stat_reset()")
    PG_STATS["lsn"] = pg_rows(db, "SELECT pg_current_wal_lsn()")[0][0]


def pg_stats_report(name, count):
    """Per phase: WAL bytes per user, the statements by total execution time, and the scans of
    every index of the SCIM tables (which ones no statement of the phase used)."""
    db = PG_STATS["db"]
    wal = int(pg_rows(db, f"SELECT pg_current_wal_lsn() - '{PG_STATS['lsn']}'::pg_lsn")[0][0])
    print(f"{'':<22} WAL {wal / 1e6:.1f} MB, {wal / count:.0f} bytes per user", flush=True)
    rows = pg_rows(db, "SELECT calls, round(total_exec_time::numeric, 0), "
                       "round((total_exec_time / greatest(calls, 1))::numeric, 3), "
                       "round(total_plan_time::numeric, 0), rows, "
                       "shared_blks_hit + shared_blks_read, wal_bytes, "
                       "regexp_replace(left(query, 150), '\s+', ' ', 'g') "
                       "FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12")
    calls, exec_ms = pg_rows(db, "SELECT sum(calls), round(sum(total_exec_time)::numeric, 0) "
                                 "FROM pg_stat_statements")[0]
    print(f"{'':<22} statements: {calls} ({int(calls) / count:.2f} per unit), exec {exec_ms} ms",
          flush=True)
    print(f"{'':<22} top statements: calls, exec ms, ms/call, plan ms, rows, blocks, WAL bytes, "
          "query")
    for r in rows:
        print(f"{'':<24}{r[0]:>8} {r[1]:>8} {r[2]:>8} {r[3]:>8} {r[4]:>8} {r[5]:>9} {r[6]:>11}  "
              f"{r[7]}")
    rows = pg_rows(db, "SELECT relname, indexrelname, idx_scan, pg_relation_size(indexrelid) "
                       "FROM pg_stat_user_indexes WHERE relname IN ('resources', 'attr_values', "
                       "'outbox', 'audit_log', 'resource_counts') ORDER BY relname, indexrelname")
    print(f"{'':<22} index scans (size MB): " + ", ".join(
        f"{r[1]} {r[2]} ({int(r[3]) / 1e6:.0f})" for r in rows), flush=True)
    pg_stats_reset()


def cpu_snapshot(server, fakes):
    out = {"scimd": proc_cpu_seconds(server.proc.pid), "postgresql": pg_cpu_seconds()}
    out.update({k: proc_cpu_seconds(f.proc.pid) for k, f in fakes.items()})
    return out


def cpu_delta(before, after):
    return ", ".join(f"{k} {after[k] - before[k]:.1f}" for k in before)


class Trickle(threading.Thread):
    """Another tenant creating `rate` users per second until stopped; each user's lag per target:
    POST answered -> its link at that target listed by GET /admin/v1/sync/links."""

    TARGETS = ("dolibarr", "zoho", "crm")

    def __init__(self, server, token, rate):
        super().__init__(daemon=True)
        self.server, self.token, self.interval = server, token, 1.0 / rate
        self.stop, self.pending, self.lags = threading.Event(), {}, {t: [] for t in self.TARGETS}
        self.lock = threading.Lock()

    def run(self):
        writer = Client(self.server.port, self.token)
        poller = threading.Thread(target=self.poll, daemon=True)
        poller.start()
        n, due = 0, time.monotonic()
        while not self.stop.is_set():
            data = user_data("trickle", n)
            data["active"] = True  # Zoho gets (and links) active users only
            status, body = writer.request("POST", "/scim/v2/Users", data)
            answered = time.monotonic()
            if status != 201:
                sys.exit(f"trickle POST answered {status}: {body}")
            with self.lock:
                self.pending[body["id"]] = (answered, set(self.TARGETS))
            n += 1
            due += self.interval
            self.stop.wait(max(0.0, due - time.monotonic()))
        poller.join()

    def poll(self):
        client = Client(self.server.port, self.token)
        give_up = None  # 300 s after the stop: whatever is still pending is reported as such
        while True:
            if self.stop.is_set():
                give_up = give_up or time.monotonic() + 300
                if not self.pending or time.monotonic() > give_up:
                    return
            with self.lock:
                outstanding = list(self.pending.items())
            for uid, (answered, missing) in outstanding:
                _, body = client.request("GET", f"/admin/v1/sync/links?resource={uid}")
                now = time.monotonic()
                for link in (body or {}).get("links", []):
                    if link["target"] in missing:
                        missing.discard(link["target"])
                        self.lags[link["target"]].append((now - answered) * 1000)
                if not missing:
                    with self.lock:
                        del self.pending[uid]
            time.sleep(0.1)

    def summary(self):
        parts = []
        for target, lags in self.lags.items():
            if lags:
                parts.append(f"{target} p50 {percentile(lags, 50) / 1000:.1f} s p99 "
                             f"{percentile(lags, 99) / 1000:.1f} s max {max(lags) / 1000:.1f} s "
                             f"({len(lags)})")
        if self.pending:
            parts.append(f"{len(self.pending)} user(s) never linked everywhere")
        return "; ".join(parts)


def drain(server, token, ids, timeout=1800):
    """Seconds until nothing is pending (None when `timeout` passed first: the pending counts per
    target are printed), the GET /Users/{id} latencies (ms) meanwhile, and how long each progress
    poll (GET /admin/v1/sync/status + /metrics) took (ms).

    The GETs run in their own thread, one after another with 0.05 s between them, so a slow
    progress poll does not thin out the latency sample (it did: 121 GETs in 900 s)."""
    client = Client(server.port, token)
    started, latencies, polls = time.monotonic(), [], []
    finished = {}  # target -> s after the start when its pending count first read 0
    done = threading.Event()
    failed = []

    def probe():
        conn, i = Client(server.port, token), 0
        while not done.is_set():
            t = time.monotonic()
            status, _ = conn.request("GET", f"/scim/v2/Users/{ids[i % len(ids)]}")
            latencies.append((time.monotonic() - t) * 1000)
            i += 97
            if status != 200:
                failed.append(status)
                return
            done.wait(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        while time.monotonic() - started < timeout:
            if failed:
                sys.exit(f"GET answered {failed[0]} while draining")
            t = time.monotonic()
            _, sync = client.request("GET", "/admin/v1/sync/status")
            client.conn.request("GET", "/metrics")
            depth = metric_value(client.conn.getresponse().read().decode(), "scimd_outbox_depth")
            polls.append((time.monotonic() - t) * 1000)
            for target in sync["targets"]:
                if target["pending"] == 0 and target["delivered"] >= len(ids):
                    finished.setdefault(target["name"], time.monotonic() - started)
            LAST_SYNC[:] = [sync]
            if depth == 0 and all(t["pending"] == 0 for t in sync["targets"]):
                return time.monotonic() - started, latencies, polls, finished
            last = (depth, {t["name"]: (t["pending"], t["delivered"]) for t in sync["targets"]})
            time.sleep(1)
    finally:
        done.set()
        prober.join(timeout=60)
    print(f"NOT DRAINED after {timeout:.0f} s: outbox depth {last[0]}, (pending, delivered) by "
          f"target {last[1]}", flush=True)
    return None, latencies, polls, finished


LAST_SYNC = []  # the last GET /admin/v1/sync/status answer of drain()


def fake_calls(fake):
    """Requests the fake answered so far (the seq of its newest request-log entry)."""
    log = fake._call("GET", "/_control/requests?since=0")["requests"]
    return log[-1]["seq"] if log else 0


def delivery_yaml(settings):
    """`delivery:` block from "key=value,key=value" (DispatcherOptions via the config)."""
    if not settings:
        return ""
    lines = ["delivery:\n"]
    for item in settings.split(","):
        key, value = item.split("=", 1)
        lines.append(f"  {key.strip()}: {value.strip()}\n")
    return "".join(lines)


def run_drain(args, db, token):
    fakes = start_fakes(["dolibarr", "zoho_books", "crm"],
                        {k: {"max_log_entries": 1000, "log_read_responses": False}
                         for k in ["dolibarr", "zoho_books", "crm"]})
    unlimited = {"requests_per_minute": 100000}
    # One in ten bench users is inactive; Zoho cannot filter users by e-mail, so without the
    # index each of those look-ups lists every Zoho user (500 pages at 100,000).
    zoho = dict(unlimited, email_lookup_cache_seconds=int(args.zoho_email_cache))
    config = targets_yaml(fakes, extra={"crm": unlimited, "zoho_books": zoho}) + \
        delivery_yaml(args.delivery)
    trickle_token = run([args.scimd, "token", "create", "--db", db, "--name", "bench-trickle",
                         "--tenant", "trickle", "--scopes", "scim:read,scim:write,admin"]
                        ).stdout.strip().splitlines()[-1].strip()
    try:
        with Server(args.scimd, db, extra_config=config, env=SECRETS_ENV) as server:
            cpu_start = cpu_snapshot(server, fakes)
            load_start = os.getloadavg()[0]
            post_started = time.monotonic()
            if PG_STATS:
                pg_stats_reset()
            ids_by_bulk = run_phase("POST (create)", server, token,
                                    post_batches("hr", args.users, args.batch), args.users,
                                    args.clients, "201")
            ids = [ids_by_bulk[f"u{i}"] for i in range(args.users)]
            post_s = time.monotonic() - post_started
            cpu_before = cpu_snapshot(server, fakes)
            load_before = os.getloadavg()[0]
            if PG_STATS:
                pg_stats_reset()
            trickle = Trickle(server, trickle_token, args.trickle_rate) if args.trickle_rate else None
            if trickle:
                trickle.start()
            calls_before = {k: fake_calls(f) for k, f in fakes.items()}
            seconds, latencies, polls, finished = drain(server, token, ids, args.drain_timeout)
            cpu_after = cpu_snapshot(server, fakes)
            load_after = os.getloadavg()[0]
            calls_after = {k: fake_calls(f) for k, f in fakes.items()}
            took = "not done" if seconds is None else f"{seconds:.1f} s"
            print(f"drain to dolibarr, zoho_books, crm: {took} after the last Bulk "
                  f"answered; GET /Users/{{id}} meanwhile: {len(latencies)} requests, p50 "
                  f"{percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms; "
                  f"progress polls (sync/status + /metrics): {len(polls)}, p50 "
                  f"{percentile(polls, 50):.0f} ms, max {max(polls):.0f} ms", flush=True)
            print(f"CPU s during the POST phase: {cpu_delta(cpu_start, cpu_before)}; during the "
                  f"drain: {cpu_delta(cpu_before, cpu_after)}; load {load_start:.1f} -> "
                  f"{load_before:.1f} -> {load_after:.1f}", flush=True)
            # Per target, counted from the start of the POST phase (deliveries ran meanwhile):
            # deliveries done, when its pending count first read 0 (s after the last Bulk),
            # deliveries/s over POST + drain, target calls per bench user, and the CPU per
            # delivery (ms) of scimd, of PostgreSQL and of that target's fake over the drain.
            status = {t["name"]: t for t in (LAST_SYNC[0]["targets"] if LAST_SYNC else [])}
            total_delivered = sum(t["delivered"] for t in status.values()) or 1
            for kind, name in (("dolibarr", "dolibarr"), ("zoho_books", "zoho"), ("crm", "crm")):
                t = status.get(name, {"delivered": 0, "pending": "?"})
                end = finished.get(name)
                span = post_s + (end if end is not None else (seconds or args.drain_timeout))
                fake_ms = (cpu_after[kind] - cpu_before[kind]) * 1000 / max(1, t["delivered"])
                print(f"  {name:9s} delivered {t['delivered']} (pending {t['pending']}), done "
                      f"{'not' if end is None else f'{end:.1f} s'} after the last Bulk, "
                      f"{t['delivered'] / max(span, 1e-9):.0f} deliveries/s, "
                      f"{calls_after[kind] / args.users:.2f} calls per user "
                      f"({calls_after[kind]} calls, {calls_after[kind] - calls_before[kind]} in "
                      f"the drain), fake CPU {fake_ms:.2f} ms per delivery", flush=True)
            scimd_ms = (cpu_after["scimd"] - cpu_before["scimd"]) * 1000 / total_delivered
            pg_ms = (cpu_after["postgresql"] - cpu_before["postgresql"]) * 1000 / total_delivered
            print(f"  all targets: {total_delivered} deliveries; CPU per delivery over the drain "
                  f"(counted over every delivery, including those during the POST phase): scimd "
                  f"{scimd_ms:.2f} ms, PostgreSQL {pg_ms:.2f} ms", flush=True)
            if PG_STATS:  # the drain's statements; "per unit" = per delivery of any phase
                pg_stats_report("drain", total_delivered)
            if trickle:
                trickle.stop.set()
                trickle.join(timeout=600)
                print(f"trickle tenant ({args.trickle_rate:g} creates/s during the drain) lag: "
                      f"{trickle.summary()}", flush=True)
    finally:
        stop_fakes(fakes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scimd", default=os.path.join(SOURCE_DIR, "build", "scimd"))
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--password-users", type=int, default=2000)
    parser.add_argument("--pg-port", type=int, default=56777)
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--phases", default="post,put,password",
                        help="which of post, put, password to run (put needs post)")
    parser.add_argument("--perf", metavar="DIR",
                        help="perf record -g scimd during each phase into DIR/<phase>.data")
    parser.add_argument("--pg-stats", action="store_true",
                        help="--db postgresql: per phase, WAL bytes per user, the top statements "
                             "(pg_stat_statements) and the scans per index")
    parser.add_argument("--drain-timeout", type=float, default=1800.0,
                        help="--drain: stop waiting (and say how far it got) after this many s")
    parser.add_argument("--zoho-email-cache", type=float, default=30.0,
                        help="--drain: the Zoho target's email_lookup_cache_seconds (0: off, "
                             "every inactive user's look-up lists every Zoho user)")
    parser.add_argument("--delivery", default="",
                        help="--drain: scimd's delivery settings, e.g. "
                             "workers_per_target=4,claim_batch=16 (default: scimd's)")
    parser.add_argument("--trickle-rate", type=float, default=2.0,
                        help="--drain: creates/s of the second tenant during the drain (0: none)")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="scimd-bench-bulk-")
    pg_dir = f"/tmp/scimd-bench-bulk-pg-{args.pg_port}"
    phases = args.phases.split(",")
    pg_started = False
    try:
        if args.db == "postgresql":
            subprocess.run(["bash", PG_SCRIPT, "start", pg_dir, str(args.pg_port)], check=True,
                           env=dict(os.environ, PG_DURABLE="1"), capture_output=True)
            pg_started = True
            with open(os.path.join(pg_dir, "data", "postmaster.pid")) as f:
                PG_POSTMASTER.append(int(f.readline()))
            db = f"postgresql://scim@127.0.0.1:{args.pg_port}/scim"
            if args.pg_stats:
                PG_STATS["dir"] = pg_dir
                pg_stats_start(db)
                PG_POSTMASTER[0] = int(open(os.path.join(pg_dir, "data", "postmaster.pid")
                                           ).readline())
        else:
            db = f"sqlite:{workdir}/bench.db"
        migrate(args.scimd, db)
        token = create_token(args.scimd, db, "bench-bulk")
        print(f"# {args.db}: {args.users} users, Bulk of {args.batch}, {args.clients} clients, "
              f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.1f}", flush=True)
        if args.drain:
            run_drain(args, db, token)
            return
        writes = 0
        if PG_STATS:
            pg_stats_reset()
        with Server(args.scimd, db) as server:
            if "post" in phases:
                ids_by_bulk = run_phase("POST (create)", server, token,
                                        post_batches("hr", args.users, args.batch), args.users,
                                        args.clients, "201", args.perf)
                ids = [ids_by_bulk[f"u{i}"] for i in range(args.users)]
                writes += args.users
            if "put" in phases:
                run_phase("PUT (HR re-run)", server, token, put_batches("hr", ids, args.batch),
                          args.users, args.clients, "200", args.perf)
                writes += args.users
            if "password" in phases:
                run_phase("POST with passwords", server, token,
                          post_batches("pw", args.password_users, args.batch, password=True),
                          args.password_users, args.clients, "201", args.perf)
                writes += args.password_users
        outbox, audit = count_rows(db, "outbox"), count_rows(db, "audit_log")
        print(f"# outbox rows {outbox}, audit rows {audit} (writes {writes})")
        if outbox < writes or audit < writes:
            sys.exit("an outbox event or audit entry is missing")
    finally:
        if pg_started:
            subprocess.run(["bash", PG_SCRIPT, "stop", pg_dir], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
