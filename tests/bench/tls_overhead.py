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
import os
import shutil
import signal
import statistics
import subprocess
import tempfile

from bench_common import free_port, seed_users, start_serve, wrk_rps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCIMD = os.environ.get("SCIMD_BIN", os.path.join(ROOT, "build", "scimd"))










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
        procs.append(start_serve(SCIMD, workdir, db, plain_port, ["--threads", "4"]))
        procs.append(start_serve(SCIMD, workdir, db, tls_port,
                                 ["--threads", "4", "--tls-cert", f"{workdir}/cert.pem",
                                  "--tls-key", f"{workdir}/key.pem"]))
        user = seed_users(plain_port, token, args.users)
        path = f"/scim/v2/Users/{user}"
        results = {"http": [], "https": []}
        for r in range(args.rounds):
            for scheme, port in (("http", plain_port), ("https", tls_port)):
                rps = wrk_rps(f"{scheme}://127.0.0.1:{port}{path}", token, args.seconds, args.conns)
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
