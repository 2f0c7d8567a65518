#!/usr/bin/env python3
"""Delivery lag under a steady write load (python3 standard library only).

    python3 tests/bench/delivery_lag.py [--db sqlite,postgresql] [--rate 200] [--duration 60]
        [--threads 32] [--targets dolibarr,zoho_books,crm] [--scimd-threads N]
        [--workers-per-target N] [--delivery-settings 'claim_batch: 32'] [--scimd BIN]
        [--pg-port 55991] [--out results.json]

For each database it runs the same load twice against a fresh database:
  1. "targets": scimd configured with three fast fake targets (--targets; by default dolibarr,
     zoho_books and crm from tests/fakes, the issue's three; the figures before 2026-11-21 used
     crm,webhook,dolibarr), each in its own process, rate limits off (the fakes' own, and the
     CRM and Zoho adapters' client-side budgets set to their maximum); the fakes set TCP_NODELAY
     on their connections themselves;
  2. "no targets": the same scimd configuration without `targets:`.
The load is open-loop-ish: --threads threads with one keep-alive connection each share a fixed
schedule of --rate writes per second for --duration seconds (a thread that falls behind sends at
once). Every third write of a thread creates a user, the two writes after it PATCH that user's
name.givenName (so each write has a known version and a recognisable body at the targets).

Measured:
  - API latency of the writes (client side, request sent -> response read), p50/p99;
  - delivery lag per write and target: arrival (the fake's request-log timestamp of the
    successful request carrying that version) minus commit (the time the write's response was
    read), p50/p99/max;
  - the largest backlog: `pending` summed over targets from GET /admin/v1/sync/status polled every
    second, and the time to drain after the load stops;
  - completeness: writes whose version never reached a target (must be 0).
PostgreSQL runs on a throwaway cluster started here with PG_DURABLE=1 tests/support/pg_cluster.sh
(fsync, synchronous_commit and full_page_writes ON: checked with SHOW, the run refuses otherwise;
shared_buffers 512MB by ALTER SYSTEM); scimd runs SQLite with synchronous=FULL, so commits are
durable on both. Also recorded: CPU seconds of scimd, of the fakes, of PostgreSQL and of this load
generator over the run, and scimd's own view of the write latency (/metrics histogram, when
present) next to the client's.
"""

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import scimd_harness as harness  # noqa: E402
from delivery_support import (SECRETS_ENV, TARGET_NAMES, metric_value, start_fakes,  # noqa: E402
                              stop_fakes, targets_yaml)

PG_BIN = "/usr/lib/postgresql/15/bin"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DEFAULT_KINDS = "dolibarr,zoho_books,crm"


def cpu_seconds(pid):
    """user + system CPU seconds of a process so far (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def pct(values, p):
    """Nearest-rank percentile (None for an empty list)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a durable throwaway cluster


def as_postgres(cmd):
    if os.geteuid() == 0:
        return subprocess.run(["su", "postgres", "-s", "/bin/bash", "-c", cmd], check=True,
                              capture_output=True, text=True)
    return subprocess.run(["bash", "-c", cmd], check=True, capture_output=True, text=True)


DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def pg_settings(port):
    rows = harness.psql("SELECT name || '=' || setting FROM pg_settings WHERE name IN ('fsync', "
                        "'synchronous_commit', 'full_page_writes', 'shared_buffers', "
                        "'server_version')", port=port).splitlines()
    return dict(r.split("=", 1) for r in rows if "=" in r)


def start_durable_pg(directory, port, statements=False, auto_explain_ms=0):
    """A fresh cluster with PostgreSQL's durable defaults (PG_DURABLE=1: no fsync=off etc. on
    the command line), shared_buffers 512MB (ALTER SYSTEM + restart, as in earlier runs);
    `statements`: pg_stat_statements loaded too (--pg-statements).
    Returns its settings; raises unless fsync, synchronous_commit and full_page_writes are on."""
    env = dict(os.environ, PG_DURABLE="1")
    script = os.path.join(ROOT, "tests", "support", "pg_cluster.sh")
    subprocess.run(["bash", script, "start", directory, str(port)], check=True,
                   capture_output=True, text=True, env=env)
    harness.psql("ALTER SYSTEM SET shared_buffers = '512MB'", dbname="postgres", port=port)
    if statements:
        harness.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
                     dbname="postgres", port=port)
    if auto_explain_ms:
        # The plans scimd's own (prepared, possibly generic) statements ran with, in the server
        # log (postgres.log of the cluster directory): statements slower than this many ms.
        # (ALTER SYSTEM does not know auto_explain's settings before the module is loaded.)
        lines = ["session_preload_libraries = 'auto_explain'",
                 f"auto_explain.log_min_duration = '{auto_explain_ms}ms'",
                 "auto_explain.log_analyze = on", "auto_explain.log_buffers = on"]
        as_postgres(f"printf '%s\\n' {' '.join(repr(x) for x in lines)} "
                    f">> {directory}/data/postgresql.conf")
    as_postgres(f"{PG_BIN}/pg_ctl -D {directory}/data -l {directory}/postgres.log -w -t 120 "
                f"-m fast restart")
    settings = pg_settings(port)
    if any(settings.get(k) != "on" for k in DURABILITY):
        raise RuntimeError(f"PostgreSQL is not durable: {settings}")
    return settings


def pg_postmaster_pid(directory):
    try:
        with open(os.path.join(directory, "data", "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def pg_cpu_seconds(postmaster):
    """CPU seconds of the postmaster and all its children so far (live ones only)."""
    if postmaster is None:
        return None
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def thread_stats(pid):
    """{thread name: [threads, cpu ns, run-queue wait ns, timeslices]} of a process so far, from
    /proc/<pid>/task/*/schedstat (the scheduler's own accounting: time on a CPU, time runnable
    but waiting for one). Threads named by scimd (scimd-deliver, ...) are told apart; the others
    count as their process name."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu, wait, slices = (int(x) for x in f.read().split()[:3])
        except (OSError, ValueError):
            continue
        entry = out.setdefault(name, [0, 0, 0, 0])
        entry[0] += 1
        entry[1] += cpu
        entry[2] += wait
        entry[3] += slices
    return out


def thread_stats_delta(before, after):
    """Per thread name: CPU seconds, run-queue wait seconds and wait per timeslice (ms) between
    two thread_stats() snapshots (threads started in between count from zero)."""
    out = {}
    for name, (threads, cpu, wait, slices) in after.items():
        b = before.get(name, [0, 0, 0, 0])
        d_slices = max(1, slices - b[3])
        out[name] = {"threads": threads, "cpu_s": round((cpu - b[1]) / 1e9, 2),
                     "runq_wait_s": round((wait - b[2]) / 1e9, 2),
                     "runq_wait_ms_per_slice": round((wait - b[2]) / 1e6 / d_slices, 3)}
    return out


class PgWaitSampler(threading.Thread):
    """Samples pg_stat_activity every `period` s during the load (--pg-waits): per sample, what
    each active backend of the run's database waits for (wait_event_type:wait_event, "CPU" when
    it waits for nothing): lock waits against server CPU."""

    def __init__(self, port, dbname, period=0.2):
        super().__init__(daemon=True)
        self.port, self.dbname, self.period = port, dbname, period
        self.stop = threading.Event()
        self.counts = {}
        self.samples = 0

    def run(self):
        # Lock waits name the waiting statement (its first words): whose transaction waits.
        query = ("SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || CASE WHEN "
                 "wait_event_type = 'Lock' THEN '|' || regexp_replace(left(query, 40), '\\s+', '_', 'g') "
                 "ELSE '' END FROM "
                 f"pg_stat_activity WHERE datname = '{self.dbname}' AND state = 'active' "
                 "AND pid <> pg_backend_pid()")
        while not self.stop.is_set():
            try:
                rows = harness.psql(query, dbname="postgres", port=self.port).split()
            except Exception:
                rows = ["sample-error"]
            self.samples += 1
            for r in rows:
                self.counts[r] = self.counts.get(r, 0) + 1
            self.stop.wait(self.period)


def own_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stop_pg(directory):
    subprocess.run(["bash", os.path.join(ROOT, "tests", "support", "pg_cluster.sh"), "stop",
                    directory], capture_output=True, text=True)


# ---------------------------------------------------------------------------------------------
# Load


class Writer(threading.Thread):
    def __init__(self, index, port, token, t0, interval, offset, duration, tag):
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.t0, self.interval, self.offset, self.duration = t0, interval, offset, duration
        self.tag = f"{tag}{index}"
        self.writes = []  # (kind, uid, version, given, sent, answered)
        self.errors = []
        self.conn = None

    def request(self, method, path, body):
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json",
                   "Accept": "application/scim+json"}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, raw
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def run(self):
        n = 0
        uid, family, patches = None, None, 0
        while True:
            due = self.t0 + self.offset + n * self.interval
            if due - self.t0 >= self.duration:
                break
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            try:
                if uid is None or patches >= 2:
                    family = f"{self.tag}n{n}"
                    body = {"schemas": [USER_URN], "userName": f"{family}@lag.example.com",
                            "name": {"givenName": "G0", "familyName": family},
                            "emails": [{"value": f"{family}@lag.example.com", "primary": True}]}
                    sent = time.time()
                    status, raw = self.request("POST", "/scim/v2/Users", body)
                    answered = time.time()
                    if status != 201:
                        raise RuntimeError(f"create: {status} {raw[:200]!r}")
                    uid, patches = json.loads(raw)["id"], 0
                    self.writes.append(("create", uid, 1, "G0", family, sent, answered))
                else:
                    patches += 1
                    given = f"G{patches}"
                    body = {"schemas": [PATCH_URN], "Operations": [
                        {"op": "replace", "path": "name.givenName", "value": given}]}
                    sent = time.time()
                    status, raw = self.request("PATCH", f"/scim/v2/Users/{uid}", body)
                    answered = time.time()
                    if status != 200:
                        raise RuntimeError(f"patch: {status} {raw[:200]!r}")
                    self.writes.append(("patch", uid, patches + 1, given, family, sent, answered))
            except Exception as exc:  # counted, the load goes on
                self.errors.append(str(exc)[:200])
                uid = None
            n += 1
        if self.conn is not None:
            self.conn.close()


class Poller(threading.Thread):
    """GET /admin/v1/sync/status every second: the largest pending backlog."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.client = harness.Client(port, token)
        self.stop = threading.Event()
        self.samples = []  # (time, {target: pending}, max oldest_pending_seconds)

    def run(self):
        while not self.stop.is_set():
            try:
                resp = self.client.get("/admin/v1/sync/status")
                targets = resp.json["targets"]
                self.samples.append((time.time(), {t["name"]: t["pending"] for t in targets},
                                     max([t["oldest_pending_seconds"] for t in targets] or [0])))
            except Exception as exc:
                self.samples.append((time.time(), {"error": str(exc)}, 0))
            self.stop.wait(1.0)
        self.client.close()


# ---------------------------------------------------------------------------------------------
# Arrival times at the fakes


def arrivals(fakes, writes):
    """{target kind: {(uid, version): arrival epoch}} from the fakes' request logs (first
    successful request carrying that version, or a later version of the same user: a target
    that coalesces a user's pending changes into one call, issue 12, receives only the last
    state, which brings it past the earlier writes too)."""
    out = _arrivals(fakes, writes)
    for kind, seen in out.items():
        by_uid = {}
        for (uid, version), ts in seen.items():
            by_uid.setdefault(uid, []).append((version, ts))
        for uid, got in by_uid.items():
            got.sort()
            # earliest arrival of any version >= v, for every version written
            later = None
            for version in range(got[-1][0], 0, -1):
                ts = seen.get((uid, version))
                if ts is not None and (later is None or ts < later):
                    later = ts
                if later is not None:
                    seen[(uid, version)] = later
    return out


def _crm_post_version(r, given_version, uid):
    """The version a CRM/Dolibarr create carries (its given name; a coalesced create carries the
    last state), default 1."""
    name = str((r.get("body") or {}).get("name", ""))
    return given_version.get((uid, name.split(" ", 1)[0]), 1)


def _arrivals(fakes, writes):
    by_family = {w[4]: w[1] for w in writes}
    given_version = {(w[1], w[3]): w[2] for w in writes}
    out = {}
    if "crm" in fakes:
        out["crm"] = _crm_arrivals(fakes["crm"], given_version)
    if "dolibarr" in fakes:
        out["dolibarr"] = _dolibarr_arrivals(fakes["dolibarr"], given_version)
    if "zoho_books" in fakes:
        out["zoho_books"] = _zoho_arrivals(fakes["zoho_books"], by_family, given_version)
    if "webhook" in fakes:
        out["webhook"] = _webhook_arrivals(fakes["webhook"])
    return out


def _zoho_arrivals(fake, by_family, given_version):
    """POST /users (create) and PUT /users/{id} both carry the whole name and the email
    ("<family>@lag.example.com"): the write is found from them."""
    zoho = {}
    for r in fake.requests():
        if r["status"] not in (200, 201) or not isinstance(r.get("body"), dict):
            continue
        if not ((r["method"] == "POST" and r["path"].endswith("/users")) or
                (r["method"] == "PUT" and "/users/" in r["path"])):
            continue
        uid = by_family.get(str(r["body"].get("email", "")).split("@", 1)[0])
        given = str(r["body"].get("name", "")).split(" ", 1)[0]
        if uid and (uid, given) in given_version:
            zoho.setdefault((uid, given_version[(uid, given)]), r["ts"])
    return zoho


def _crm_arrivals(fake, given_version):
    crm = {}
    crm_ids = {}
    log = fake.requests()
    for r in log:
        if r["method"] == "POST" and r["path"] == "/users" and r["status"] == 201:
            uid = r["body"]["externalIds"]["scim"]
            crm_ids[r["response"]["id"]] = uid
            crm.setdefault((uid, _crm_post_version(r, given_version, uid)), r["ts"])
    for r in log:
        if r["method"] == "PATCH" and r["status"] == 200:
            uid = crm_ids.get(r["path"].rsplit("/", 1)[1])
            given = r["body"]["name"].split(" ", 1)[0]
            if uid and (uid, given) in given_version:
                crm.setdefault((uid, given_version[(uid, given)]), r["ts"])
    return crm


def _dolibarr_arrivals(fake, given_version):
    dolibarr = {}
    tp_ids = {}
    log = fake.requests()
    for r in log:
        if r["method"] == "POST" and r["path"].endswith("/thirdparties") and r["status"] == 200:
            uid = r["body"].get("ref_ext")
            tp_ids[str(r["response"])] = uid
            dolibarr.setdefault((uid, _crm_post_version(r, given_version, uid)), r["ts"])
    for r in log:
        if r["method"] == "PUT" and "/thirdparties/" in r["path"] and r["status"] == 200:
            uid = tp_ids.get(r["path"].rsplit("/", 1)[1])
            given = r["body"]["name"].split(" ", 1)[0]
            if uid and (uid, given) in given_version:
                dolibarr.setdefault((uid, given_version[(uid, given)]), r["ts"])
    return dolibarr


def _webhook_arrivals(fake):
    webhook = {}
    ts_of = {r["seq"]: r["ts"] for r in fake.requests()}
    for event in fake.records()["events"]:
        uri = event["claims"]["sub_id"]["uri"]
        uid = uri.rsplit("/", 1)[1]
        body = next(iter(event["claims"]["events"].values()))
        version = int(body.get("version", "W/\"0\"").strip('W/"'))
        webhook.setdefault((uid, version), ts_of.get(event["request_seq"]))
    return webhook


# ---------------------------------------------------------------------------------------------
# One run


def settle(client, timeout):
    start = time.time()
    while time.time() - start < timeout:
        status = client.get("/admin/v1/sync/status").json["targets"]
        depth = metric_value(client.get("/metrics", token=None).body.decode(),
                             "scimd_outbox_depth")
        if depth == 0 and all(t["pending"] == 0 for t in status):
            return time.time() - start
        time.sleep(0.5)
    return None


def write_route_latency(client):
    """scimd's own latency histogram of the Users routes: {route: {count, mean_ms, le: count}}."""
    out = {}
    text = client.get("/metrics", token=None).body.decode()
    for line in text.splitlines():
        if not line.startswith("scimd_http_request_duration_seconds") or "Users" not in line:
            continue
        name, value = line.rsplit(" ", 1)
        route = name.split('route="', 1)[1].split('"', 1)[0]
        entry = out.setdefault(route, {"le": {}})
        if name.startswith("scimd_http_request_duration_seconds_bucket"):
            entry["le"][name.split('le="', 1)[1].split('"', 1)[0]] = int(float(value))
        elif name.startswith("scimd_http_request_duration_seconds_sum"):
            entry["sum_s"] = float(value)
        elif name.startswith("scimd_http_request_duration_seconds_count"):
            entry["count"] = int(float(value))
    for entry in out.values():
        if entry.get("count"):
            entry["mean_ms"] = round(entry.pop("sum_s", 0.0) * 1000.0 / entry["count"], 2)
    return out


# Statements of the delivery engine (pg_stat_statements, --pg-statements): those on its tables,
# the PostgreSQL settle rule of the fan-out, and its transactions (each bookkeeping transaction
# runs SET LOCAL synchronous_commit = off: one BEGIN and one COMMIT each). SOCI's DEALLOCATEs
# (one per SOCI prepared statement) are counted apart: API requests may issue some too.
DELIVERY_WORDS = ("deliveries", "target_links", "target_health", "target_cursors",
                  "pg_sequence_last_value", "pg_current_xact_id", "pg_snapshot_xmin")


def pg_statement_counts(dbname, port, deliveries):
    rows = harness.psql(
        "SELECT s.calls || '|' || round((s.total_exec_time + s.total_plan_time)::numeric, 1) "
        "|| '|' || regexp_replace(left(s.query, 120), '\\s+', ' ', 'g') "
        "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        f"WHERE d.datname = '{dbname}' ORDER BY s.calls DESC", dbname="postgres",
        port=port).splitlines()
    total = delivery = bookkeeping = deallocate = 0
    delivery_ms = 0.0
    top = []
    for line in rows:
        calls, ms, query = line.split("|", 2)
        calls, ms = int(calls), float(ms)
        total += calls
        if query.startswith("DEALLOCATE"):
            deallocate += calls
        elif query.startswith("SET LOCAL synchronous_commit"):
            bookkeeping += calls
        elif any(w in query for w in DELIVERY_WORDS) or "FROM outbox" in query:
            delivery += calls
            delivery_ms += ms
            top.append([round(calls / max(1, deliveries), 2), round(ms * 1000 / max(1, calls), 1),
                        query])
    per = max(1, deliveries)
    return {"deliveries": deliveries, "all_per_delivery": round(total / per, 2),
            "delivery_per_delivery": round((delivery + 3 * bookkeeping) / per, 2),
            "bookkeeping_transactions_per_delivery": round(bookkeeping / per, 2),
            "deallocate_per_delivery": round(deallocate / per, 2),
            # server time (plan + execute) of the delivery statements, microseconds per delivery
            "delivery_server_us_per_delivery": round(delivery_ms * 1000 / per, 1),
            # [calls per delivery, microseconds per call, statement], most frequent first
            "top": top[:20]}


# Row versions and index work of the delivery tables (--pg-tables): pg_stat_user_tables (updates,
# HOT updates, dead versions, autovacuum runs) and pg_stat_user_indexes (scans and entries read
# per index of deliveries), as deltas over the run, per delivery row.
PG_TABLES = ("deliveries", "delivery_counts", "outbox", "target_cursors", "target_health")


def pg_table_stats(dbname, port):
    tables = {}
    for line in harness.psql(
            "SELECT relname || '|' || n_tup_ins || '|' || n_tup_upd || '|' || n_tup_hot_upd || '|' "
            "|| n_tup_del || '|' || n_dead_tup || '|' || n_live_tup || '|' || autovacuum_count "
            "|| '|' || coalesce(idx_scan, 0) || '|' || coalesce(idx_tup_fetch, 0) "
            "|| '|' || coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname IN ("
            + ", ".join(f"'{t}'" for t in PG_TABLES) + ")", dbname=dbname, port=port).splitlines():
        f = line.split("|")
        tables[f[0]] = dict(zip(("ins", "upd", "hot_upd", "del", "dead", "live", "autovacuum",
                                 "idx_scan", "idx_tup_fetch", "seq_scan"), map(int, f[1:])))
    indexes = {}
    for line in harness.psql(
            "SELECT indexrelname || '|' || idx_scan || '|' || idx_tup_read || '|' || idx_tup_fetch "
            "|| '|' || pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname = 'deliveries'", dbname=dbname, port=port).splitlines():
        f = line.split("|")
        indexes[f[0]] = dict(zip(("scan", "tup_read", "tup_fetch", "bytes"), map(int, f[1:])))
    return {"tables": tables, "indexes": indexes}


def pg_table_delta(before, after, deliveries):
    per = max(1, deliveries)
    out = {"tables": {}, "indexes": {}}
    for name, t in after["tables"].items():
        b = before["tables"].get(name, {})
        d = {k: v - b.get(k, 0) for k, v in t.items() if k not in ("dead", "live")}
        d["dead_at_end"] = t["dead"]
        d["live_at_end"] = t["live"]
        d["hot_ratio"] = round(d["hot_upd"] / d["upd"], 3) if d["upd"] else None
        d["upd_per_delivery"] = round(d["upd"] / per, 2)
        out["tables"][name] = d
    for name, i in after["indexes"].items():
        b = before["indexes"].get(name, {})
        out["indexes"][name] = {"scan_per_delivery": round((i["scan"] - b.get("scan", 0)) / per, 2),
                                "read_per_delivery": round(
                                    (i["tup_read"] - b.get("tup_read", 0)) / per, 1),
                                "kb": i["bytes"] // 1024}
    return out


# EXPLAIN (ANALYZE, BUFFERS) of the claim statements mid-load (--pg-tables): the target with the
# most pending rows, as the engine runs them (the ANALYZE of a FOR UPDATE locks nothing it keeps:
# it runs in a rolled-back transaction).
EXPLAIN_SQL = {
    "claim": "SELECT d.id, d.seq, d.attempts, d.requeues FROM deliveries d WHERE d.target = "
             "'{t}' AND d.status = 'pending' AND d.next_attempt_at <= {now} AND NOT EXISTS "
             "(SELECT 1 FROM deliveries e WHERE e.target = d.target AND e.tenant = d.tenant AND "
             "e.resource_id = d.resource_id AND e.seq < d.seq AND e.status <> 'delivered' AND "
             "(e.status <> 'failed' OR e.blocks_resource = 1)) ORDER BY d.seq, d.next_attempt_at "
             "LIMIT 32 FOR UPDATE OF d SKIP LOCKED",
    "pending_tenants": "WITH RECURSIVE tn(tenant) AS (SELECT (SELECT f.tenant FROM deliveries f "
                       "WHERE f.target = '{t}' AND f.status = 'pending' AND f.tenant > '' "
                       "ORDER BY f.tenant, f.seq LIMIT 1) UNION ALL SELECT (SELECT d.tenant FROM "
                       "deliveries d WHERE d.target = '{t}' AND d.status = 'pending' AND "
                       "d.tenant > tn.tenant ORDER BY d.tenant, d.seq LIMIT 1) FROM tn WHERE "
                       "tn.tenant IS NOT NULL) SELECT tenant FROM tn WHERE tenant IS NOT NULL "
                       "LIMIT 64",
    "any_expired": "SELECT id FROM deliveries WHERE target = '{t}' AND status = 'in_flight' "
                   "AND lease_until < {now} LIMIT 1",
}


def pg_explain(dbname, port):
    out = {}
    target = harness.psql("SELECT target FROM deliveries GROUP BY target ORDER BY "
                          "count(*) FILTER (WHERE status <> 'delivered') DESC LIMIT 1",
                          dbname=dbname, port=port).strip()
    now = int(time.time() * 1000)
    for name, sql in EXPLAIN_SQL.items():
        try:
            out[name] = harness.psql(
                "BEGIN; EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
                + sql.format(t=target, now=now) + "; ROLLBACK", dbname=dbname,
                port=port).splitlines()
        except harness.HarnessError as e:
            out[name] = [str(e)]
    return out


def run_once(db_kind, with_targets, args):
    kinds = [k.strip() for k in args.targets.split(",") if k.strip()]
    fakes = {}
    if with_targets:
        # log_read_responses off: the Zoho adapter pages through GET /users; keeping every page in
        # the fake's request log would cost gigabytes. The arrivals only need write answers.
        fakes = start_fakes(kinds, {k: {"max_log_entries": 2000000, "log_read_responses": False}
                                    for k in kinds})
    # scimd's per-token API limit (default 6,000/min, a bucket of 6,000) would start answering
    # 429 near the end of a 60 s run at 200/s: off.
    config = "limits: {rate_limit_per_minute: 0}\n"
    delivery = [s for s in ([f"workers_per_target: {args.workers_per_target}"]
                            if args.workers_per_target else []) + [args.delivery_settings] if s]
    if delivery:
        config += "delivery: {" + ", ".join(delivery) + "}\n"
    # The CRM and Zoho adapters keep a client-side request budget (default 100/min, the vendors'
    # own limits); the fakes' limits are off, so the adapters' are lifted to their maximum.
    unlimited = {"requests_per_minute": 100000}
    config += targets_yaml(fakes, retry={"max_attempts": 10, "initial_backoff_ms": 200,
                                         "max_backoff_ms": 5000},
                           extra={"crm": unlimited, "zoho_books": unlimited}) if fakes else ""
    db = harness.fresh_db_url("lag", kind=db_kind)
    extra = ["--threads", str(args.scimd_threads)] if args.scimd_threads else []
    server = harness.ScimdServer(db=db, config_yaml=config, env=SECRETS_ENV, tag="lag",
                                 extra_args=extra)
    result = {"db": db_kind, "targets": kinds if with_targets else [],
              "rate": args.rate, "duration": args.duration, "threads": args.threads,
              "scimd_threads": args.scimd_threads or "default",
              "workers_per_target": args.workers_per_target or "default",
              "delivery_settings": args.delivery_settings,
              "scimd": args.scimd}
    if db_kind == "postgresql":
        result["pg_settings"] = pg_settings(args.pg_port)
    try:
        server.start()
        token = harness.create_token(db, "lag")
        client = harness.Client(server.port, token)
        poller = Poller(server.port, token)
        t0 = time.time() + 0.5
        interval = args.threads / args.rate
        writers = [Writer(i, server.port, token, t0, interval, i * interval / args.threads,
                          args.duration, f"{db_kind[:2]}{int(with_targets)}w")
                   for i in range(args.threads)]
        procs = {"scimd": server.proc.pid}
        procs.update({k: f.proc.pid for k, f in fakes.items()})
        postmaster = pg_postmaster_pid(args.pg_dir) if db_kind == "postgresql" else None
        if db_kind == "postgresql" and args.pg_statements:
            harness.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; "
                         "SELECT pg_stat_statements_reset()", dbname="postgres", port=args.pg_port)
        tables_before = (pg_table_stats(db.rsplit("/", 1)[1], args.pg_port)
                         if db_kind == "postgresql" and args.pg_tables else None)
        cpu_before = {k: cpu_seconds(pid) for k, pid in procs.items()}
        cpu_before["postgresql"] = pg_cpu_seconds(postmaster)
        cpu_before["loadgen"] = own_cpu_seconds()
        threads_before = thread_stats(server.proc.pid) if args.thread_stats else None
        waits = None
        if db_kind == "postgresql" and args.pg_waits:
            waits = PgWaitSampler(args.pg_port, db.rsplit("/", 1)[1])
            waits.start()
        load_before = loadavg()
        poller.start()
        for w in writers:
            w.start()
        if tables_before is not None and with_targets:
            time.sleep(args.duration / 2)
            result["pg_explain_mid_load"] = pg_explain(db.rsplit("/", 1)[1], args.pg_port)
        for w in writers:
            w.join()
        load_end = time.time()
        load_after = loadavg()
        cpu_load = {k: cpu_seconds(pid) for k, pid in procs.items()}
        cpu_load["postgresql"] = pg_cpu_seconds(postmaster)
        cpu_load["loadgen"] = own_cpu_seconds()
        if args.thread_stats:
            result["scimd_threads_load"] = thread_stats_delta(threads_before,
                                                              thread_stats(server.proc.pid))
            metrics = client.get("/metrics", token=None).body.decode()
            result["scimd_writer_wait"] = {
                line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.splitlines()
                if line.startswith("scimd_db_writer_")}
        if waits is not None:
            waits.stop.set()
            waits.join()
            result["pg_wait_samples"] = waits.samples
            # active backends per sample, by what they wait for
            result["pg_waits_per_sample"] = {
                k: round(v / max(1, waits.samples), 3)
                for k, v in sorted(waits.counts.items(), key=lambda kv: -kv[1])}
        result["server_write_latency"] = write_route_latency(client)
        drain = settle(client, args.drain_timeout) if with_targets else None
        poller.stop.set()
        poller.join()
        cpu_after = {k: cpu_seconds(pid) for k, pid in procs.items()}
        cpu_after["postgresql"] = pg_cpu_seconds(postmaster)
        cpu_after["loadgen"] = own_cpu_seconds()

        def delta(a, b):
            return {k: round(b[k] - a[k], 1) for k in a
                    if a.get(k) is not None and b.get(k) is not None}
        # CPU seconds during the load window, and from the start to the end of the drain.
        result["cpu_s_load"] = delta(cpu_before, cpu_load)
        result["cpu_s_load_window"] = round(load_end - t0, 1)
        result["cpu_s"] = delta(cpu_before, cpu_after)
        result["cpu_s_window"] = round(time.time() - t0, 1)
        result["loadavg_1m"] = [load_before, load_after]

        writes = [x for w in writers for x in w.writes]
        errors = [e for w in writers for e in w.errors]
        lat = [(x[6] - x[5]) * 1000 for x in writes]
        result.update({
            "writes": len(writes), "errors": len(errors), "error_samples": errors[:3],
            "achieved_rate": round(len(writes) / (load_end - t0), 1),
            "api_ms": {"p50": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2),
                       "max": round(max(lat), 2)},
            "api_ms_create": {"p50": round(pct([(x[6] - x[5]) * 1000 for x in writes
                                                if x[0] == "create"], 50), 2),
                              "p99": round(pct([(x[6] - x[5]) * 1000 for x in writes
                                                if x[0] == "create"], 99), 2)},
            "api_ms_patch": {"p50": round(pct([(x[6] - x[5]) * 1000 for x in writes
                                               if x[0] == "patch"], 50), 2),
                             "p99": round(pct([(x[6] - x[5]) * 1000 for x in writes
                                               if x[0] == "patch"], 99), 2)},
        })
        if with_targets:
            pending = [sum(v for k, v in s[1].items() if k != "error") for s in poller.samples]
            result["max_backlog"] = max(pending or [0])
            result["max_backlog_by_target"] = {
                TARGET_NAMES[k]: max([s[1].get(TARGET_NAMES[k], 0) for s in poller.samples] or [0])
                for k in kinds}
            result["max_oldest_pending_s"] = round(max([s[2] for s in poller.samples] or [0]), 2)
            result["drain_s_after_load"] = None if drain is None else round(drain, 1)
            got = arrivals(fakes, writes)
            # Time each fake spent inside its handlers (under its global lock): close to the
            # delivery window means the fake, not scimd, was the bottleneck.
            result["fake_busy_s"] = {
                k: round(sum(r.get("duration_ms") or 0 for r in f.requests()) / 1000.0, 1)
                for k, f in fakes.items()}
            result["fake_requests"] = {k: len(f.requests()) for k, f in fakes.items()}
            # Calls that change the target (POST/PUT/PATCH/DELETE answered 2xx) per write: below
            # 1 when a user's pending changes were coalesced (issue 12).
            result["calls_per_write"] = {
                k: round(sum(1 for r in f.requests()
                             if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                             and 200 <= int(r.get("status") or 0) < 300
                             and "/_control" not in r["path"]) / max(1, len(writes)), 3)
                for k, f in fakes.items()}
            result["lag_ms"] = {}
            result["missing"] = {}
            for kind, seen in got.items():
                lags = []
                missing = 0
                for x in writes:
                    ts = seen.get((x[1], x[2]))
                    if ts is None:
                        missing += 1
                    else:
                        lags.append((ts - x[6]) * 1000)
                result["missing"][kind] = missing
                result["lag_ms"][kind] = {
                    "p50": round(pct(lags, 50), 1) if lags else None,
                    "p99": round(pct(lags, 99), 1) if lags else None,
                    "max": round(max(lags), 1) if lags else None}
            all_lags = []
            for kind, seen in got.items():
                all_lags += [(seen[(x[1], x[2])] - x[6]) * 1000 for x in writes
                             if (x[1], x[2]) in seen]
            result["lag_ms"]["all"] = {"p50": round(pct(all_lags, 50), 1),
                                       "p99": round(pct(all_lags, 99), 1)}
            if db_kind == "postgresql" and args.pg_statements:
                # Per delivery row (a write at a target; coalesced rows count one each).
                result["pg_statements"] = pg_statement_counts(
                    db.rsplit("/", 1)[1], args.pg_port, len(writes) * len(kinds))
            if tables_before is not None:
                # Let the stats collector catch up (PostgreSQL 15: shared memory, flushed by
                # each backend at most every second and at its transaction end).
                time.sleep(1.5)
                result["pg_tables"] = pg_table_delta(
                    tables_before, pg_table_stats(db.rsplit("/", 1)[1], args.pg_port),
                    len(writes) * len(kinds))
            if any(result["missing"].values()) and db_kind == "postgresql":
                result["unqueued_outbox_events"] = harness.psql(
                    "SELECT t.target, count(*) FROM outbox o CROSS JOIN target_cursors t WHERE "
                    "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = o.seq AND d.target = "
                    "t.target) GROUP BY 1", dbname=db.rsplit("/", 1)[1]).split()
        client.close()
    finally:
        try:
            server.cleanup()
            harness.drop_db_url(db)
        finally:
            stop_fakes(fakes)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--scimd", default=os.environ.get("SCIMD_BIN", "/work/build-e2e/scimd"))
    parser.add_argument("--pg-port", type=int, default=55991)
    parser.add_argument("--pg-dir", default="/tmp/scimd-lag-pg")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--modes", default="targets,none")
    parser.add_argument("--targets", default=DEFAULT_KINDS,
                        help="fake targets (of dolibarr, zoho_books, crm, webhook), default "
                             f"{DEFAULT_KINDS}")
    parser.add_argument("--scimd-threads", type=int, default=0,
                        help="scimd serve --threads (default: scimd's own, 8)")
    parser.add_argument("--workers-per-target", type=int, default=0,
                        help="delivery.workers_per_target in scimd's configuration (default: "
                             "scimd's own, 2)")
    parser.add_argument("--delivery-settings", default="",
                        help="more keys of scimd's delivery: block, e.g. 'claim_batch: 32'")
    parser.add_argument("--pg-statements", action="store_true",
                        help="load pg_stat_statements and report the delivery engine's statements "
                             "per delivery row (PostgreSQL)")
    parser.add_argument("--thread-stats", action="store_true",
                        help="scimd's CPU and run-queue wait per thread name over the load "
                             "(/proc/<pid>/task/*/schedstat) and its writer-lock wait counters")
    parser.add_argument("--pg-waits", action="store_true",
                        help="sample pg_stat_activity wait events of the run's backends every "
                             "0.2 s during the load (PostgreSQL)")
    parser.add_argument("--pg-tables", action="store_true",
                        help="report row versions (HOT ratio, dead rows) of the delivery tables, "
                             "index scans per index of deliveries, per delivery row, and EXPLAIN "
                             "(ANALYZE, BUFFERS) of the claim statements mid-load (PostgreSQL)")
    parser.add_argument("--pg-auto-explain-ms", type=int, default=0,
                        help="log the plans (auto_explain, ANALYZE, BUFFERS) of statements slower "
                             "than this many ms to the cluster's postgres.log (PostgreSQL)")
    parser.add_argument("--out", default=None, help="append one JSON line per run to this file")
    args = parser.parse_args()
    os.environ["SCIMD_BIN"] = os.path.abspath(args.scimd)
    os.environ["SCIMD_PG_PORT"] = str(args.pg_port)

    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    modes = [m.strip() for m in args.modes.split(",")]
    pg_started = False
    try:
        for kind in kinds:
            if kind == "postgresql" and not pg_started:
                pg_started = True
                settings = start_durable_pg(args.pg_dir, args.pg_port, args.pg_statements,
                                            args.pg_auto_explain_ms)
                print(f"PostgreSQL {settings}", file=sys.stderr, flush=True)
            for mode in modes:
                result = run_once(kind, mode == "targets", args)
                line = json.dumps(result)
                print(line, flush=True)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(line + "\n")
    finally:
        if pg_started:
            stop_pg(args.pg_dir)


if __name__ == "__main__":
    main()
