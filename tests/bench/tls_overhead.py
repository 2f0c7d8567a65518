#!/usr/bin/env python3
"""HTTPS against plain HTTP for GET /Users/{id}, side by side in one run (issue 9).

Starts two `scimd serve` processes on one SQLite database, one plain and one with a throwaway
self-signed certificate, seeds USERS users, then runs wrk (keep-alive, -t2 -cCONNS -dSECONDS)
against each, alternating plain/TLS for ROUNDS rounds so that machine noise hits both alike.
Prints one line per run and a summary with the medians and their ratio.

    /usr/bin/python3 tests/bench/tls_overhead.py [--rounds 3] [--seconds 10] [--conns 32]

Environment: SCIMD_BIN (default build/scimd).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCIMD = os.environ.get("SCIMD_BIN", os.path.join(ROOT, "build", "scimd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workdir, db, port, tls_args):
    log = open(os.path.join(workdir, f"scimd-{port}.log"), "wb")
    proc = subprocess.Popen([SCIMD, "serve", "--db", db, "--listen", f"127.0.0.1:{port}",
                             "--threads", "4", "--config", os.path.join(workdir, "bench.yaml"),
                             *tls_args], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"scimd on {port} did not start")


def seed(port, token, users):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    first = None
    for i in range(users):
        body = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "userName": f"bench{i}@example.com", "name": {"familyName": f"F{i}"},
                           "emails": [{"value": f"bench{i}@example.com", "type": "work"}]})
        conn.request("POST", "/scim/v2/Users", body,
                     {"Authorization": f"Bearer {token}", "Connection": "keep-alive",
                      "Content-Type": "application/scim+json"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
        if resp.status != 201:
            sys.exit(f"seed failed: {resp.status} {data}")
        first = first or data["id"]
    return first


def wrk(url, token, seconds, conns):
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "-H",
                          f"Authorization: Bearer {token}", "-H", "Connection: keep-alive", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"wrk saw {non2xx.group(1)} non-2xx answers from {url}")
    return rps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="scimd-tls-bench-")
    procs = []
    try:
        with open(os.path.join(workdir, "bench.yaml"), "w", encoding="utf-8") as f:
            f.write("limits: {rate_limit_per_minute: 0}\nlog: {access: false}\n")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", "key.pem", "-out", "cert.pem"], cwd=workdir, check=True,
                       capture_output=True)
        db = f"sqlite:{workdir}/bench.db"
        subprocess.run([SCIMD, "migrate", "--db", db], check=True, capture_output=True)
        token = subprocess.run([SCIMD, "token", "create", "--db", db, "--name", "bench",
                                "--scopes", "scim:read,scim:write"], check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
        plain_port, tls_port = free_port(), free_port()
        procs.append(start(workdir, db, plain_port, []))
        procs.append(start(workdir, db, tls_port, ["--tls-cert", f"{workdir}/cert.pem",
                                                   "--tls-key", f"{workdir}/key.pem"]))
        user = seed(plain_port, token, args.users)
        path = f"/scim/v2/Users/{user}"
        results = {"http": [], "https": []}
        for r in range(args.rounds):
            for scheme, port in (("http", plain_port), ("https", tls_port)):
                rps = wrk(f"{scheme}://127.0.0.1:{port}{path}", token, args.seconds, args.conns)
                results[scheme].append(rps)
                print(f"round {r + 1} {scheme:5s} {rps:10.0f} req/s", flush=True)
        plain, tls = statistics.median(results["http"]), statistics.median(results["https"])
        print(f"median: http {plain:.0f} req/s, https {tls:.0f} req/s, "
              f"https/http = {tls / plain:.2f}")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
