#!/usr/bin/env python3
"""Delivery lag under a steady write load (python3 standard library only).

    python3 tests/bench/delivery_lag.py [--db sqlite,postgresql] [--rate 200] [--duration 60]
        [--threads 32] [--scimd BIN] [--pg-port 55991] [--out results.json]

For each database it runs the same load twice against a fresh database:
  1. "targets": scimd configured with three fast fake targets (crm, webhook, dolibarr from
     tests/fakes, each in its own process, rate limits off, TCP_NODELAY on their sockets: see
     delivery_support._NODELAY_BOOT; --fake-nagle runs them unmodified);
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
PostgreSQL runs on a throwaway cluster started here with fsync, synchronous_commit and
full_page_writes ON (scimd runs SQLite with synchronous=FULL), so commits are durable on both.
"""

import argparse
import collections
import http.client
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import scimd_harness as harness  # noqa: E402
from delivery_support import (SECRETS_ENV, metric_value, start_fakes, stop_fakes,  # noqa: E402
                              targets_yaml)

PG_BIN = "/usr/lib/postgresql/15/bin"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
KINDS = ("crm", "webhook", "dolibarr")


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


def start_durable_pg(directory, port):
    subprocess.run(["bash", os.path.join(ROOT, "tests", "support", "pg_cluster.sh"), "start",
                    directory, str(port)], check=True, capture_output=True, text=True)
    # pg_cluster.sh starts with fsync etc. off on the command line; restart with them on.
    opts = (f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=on "
            "-c synchronous_commit=on -c full_page_writes=on -c max_connections=200 "
            "-c shared_buffers=512MB")
    as_postgres(f"{PG_BIN}/pg_ctl -D {directory}/data -l {directory}/postgres.log -w -t 120 "
                f"-m fast restart -o '{opts}'")
    out = harness.psql("SHOW fsync", port=port).strip()
    assert out == "on", out


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
    successful request carrying that version)."""
    by_family = {w[4]: w[1] for w in writes}
    given_version = {(w[1], w[3]): w[2] for w in writes}
    out = {}

    crm = {}
    crm_ids = {}
    log = fakes["crm"].requests()
    for r in log:
        if r["method"] == "POST" and r["path"] == "/users" and r["status"] == 201:
            uid = r["body"]["externalIds"]["scim"]
            crm_ids[r["response"]["id"]] = uid
            crm.setdefault((uid, 1), r["ts"])
    for r in log:
        if r["method"] == "PATCH" and r["status"] == 200:
            uid = crm_ids.get(r["path"].rsplit("/", 1)[1])
            given = r["body"]["name"].split(" ", 1)[0]
            if uid and (uid, given) in given_version:
                crm.setdefault((uid, given_version[(uid, given)]), r["ts"])
    out["crm"] = crm

    dolibarr = {}
    tp_ids = {}
    log = fakes["dolibarr"].requests()
    for r in log:
        if r["method"] == "POST" and r["path"].endswith("/thirdparties") and r["status"] == 200:
            uid = r["body"].get("ref_ext")
            tp_ids[str(r["response"])] = uid
            dolibarr.setdefault((uid, 1), r["ts"])
    for r in log:
        if r["method"] == "PUT" and "/thirdparties/" in r["path"] and r["status"] == 200:
            uid = tp_ids.get(r["path"].rsplit("/", 1)[1])
            given = r["body"]["name"].split(" ", 1)[0]
            if uid and (uid, given) in given_version:
                dolibarr.setdefault((uid, given_version[(uid, given)]), r["ts"])
    out["dolibarr"] = dolibarr

    webhook = {}
    ts_of = {r["seq"]: r["ts"] for r in fakes["webhook"].requests()}
    for event in fakes["webhook"].records()["events"]:
        uri = event["claims"]["sub_id"]["uri"]
        uid = uri.rsplit("/", 1)[1]
        body = next(iter(event["claims"]["events"].values()))
        version = int(body.get("version", "W/\"0\"").strip('W/"'))
        webhook.setdefault((uid, version), ts_of.get(event["request_seq"]))
    out["webhook"] = webhook
    del by_family
    return out


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


def run_once(db_kind, with_targets, args):
    fakes = {}
    if with_targets:
        fakes = start_fakes(KINDS, {k: {"max_log_entries": 1000000} for k in KINDS},
                            nodelay=not args.fake_nagle)
    config = targets_yaml(fakes, retry={"max_attempts": 10, "initial_backoff_ms": 200,
                                        "max_backoff_ms": 5000}) if fakes else "{}\n"
    db = harness.fresh_db_url("lag", kind=db_kind)
    server = harness.ScimdServer(db=db, config_yaml=config, env=SECRETS_ENV, tag="lag")
    result = {"db": db_kind, "targets": list(KINDS) if with_targets else [],
              "fake_nodelay": bool(with_targets and not args.fake_nagle),
              "rate": args.rate, "duration": args.duration, "threads": args.threads}
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
        cpu_before = {k: cpu_seconds(pid) for k, pid in procs.items()}
        load_before = loadavg()
        poller.start()
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        load_end = time.time()
        load_after = loadavg()
        drain = settle(client, args.drain_timeout) if with_targets else None
        poller.stop.set()
        poller.join()
        cpu_after = {k: cpu_seconds(pid) for k, pid in procs.items()}
        result["cpu_s"] = {k: round(cpu_after[k] - cpu_before[k], 1) for k in procs
                           if cpu_after[k] is not None and cpu_before[k] is not None}
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
                name: max([s[1].get(name, 0) for s in poller.samples] or [0])
                for name in ("crm", "events", "dolibarr")}
            result["max_oldest_pending_s"] = round(max([s[2] for s in poller.samples] or [0]), 2)
            result["drain_s_after_load"] = None if drain is None else round(drain, 1)
            got = arrivals(fakes, writes)
            # Time each fake spent inside its handlers (under its global lock): close to the
            # delivery window means the fake, not scimd, was the bottleneck.
            result["fake_busy_s"] = {
                k: round(sum(r.get("duration_ms") or 0 for r in f.requests()) / 1000.0, 1)
                for k, f in fakes.items()}
            result["fake_requests"] = {k: len(f.requests()) for k, f in fakes.items()}
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
    parser.add_argument("--fake-nagle", action="store_true",
                        help="run the fakes as they are (Nagle on: about 40 ms per response "
                             "with a body on a kept-alive connection) instead of with TCP_NODELAY")
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
                start_durable_pg(args.pg_dir, args.pg_port)
                pg_started = True
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
