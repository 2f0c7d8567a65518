"""Shared pieces of the scimd benchmarks (python3 standard library only).

The seeded data set is defined twice, once here in Python (to build API requests, to check the
seeded rows and to generate the wrk Lua scripts) and once in SQL in seed.py (to generate the rows
inside the database). `seed.py fidelity` proves the two agree with what the store writes.

User i (1 <= i <= N):
    id               %08x-0000-4000-8000-%012x of ((i * 2654435761) mod 2^32, i): scattered ids
    userName         User<i>@example.com             (user_name_lc user<i>@example.com)
    externalId       hr-<i>
    name.givenName   FIRST[i % 40]
    name.familyName  LAST[i % 100] + "-" + code(i // 100)   (code: 4 letters, base 26, so every
                     family name is unique and none is a prefix of another)
    name.formatted / displayName   "<given> <family>"
    emails           [{value: <given>.<family>@example.com (lower case), type: work, primary: true},
                      {value: u<i>@home.example.net, type: home}]
    active           false when i % 10 == 0, else true (90 % active)
    enterprise       employeeNumber %07d, costCenter CC-<1000 + i % 50>, department DEPT[i % 12]
    created          2023-01-01T00:00:00.000Z + 30 s * i; lastModified 15 s later and version
                     2 + the number of benchmark groups it is in (it was created, then added to
                     its groups: every membership added bumps the member's version)
    member of group  (i % G) + 1
Group g (1 <= g <= G): id %08x-0000-4000-9000-%012x, displayName "Group %04d", externalId grp-<g>.
Benchmark group of size S: id %08x-0000-4000-a000-%012x of (S), displayName "bench-members-<S>",
    externalId bench-<S>; members: users 1..S.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SCIMD = os.environ.get("SCIMD_BIN", "/work/build-bench/scimd")

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TENANT = "default"  # the tenant of a token created without --tenant

FIRST = ["Ann", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara",
         "Umar", "Vera", "Wim", "Xenia", "Yusuf", "Zoe", "Amir", "Bianca", "Chen", "Dana",
         "Emil", "Fatima", "Goran", "Hana", "Igor", "Julia", "Karim", "Lena", "Marco", "Nina"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
        "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
        "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
        "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
        "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Mueller", "Schmidt", "Schneider",
        "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Dubois", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Rossi", "Russo", "Ferrari",
        "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo",
        "Kowalski", "Nowak", "Wisniewski", "Dabrowski", "Lewandowski", "Tanaka", "Suzuki",
        "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Andersson",
        "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"]
DEPT = ["Sales", "Marketing", "Engineering", "Finance", "Human Resources", "Legal", "Support",
        "Operations", "Research", "Procurement", "Logistics", "Facilities"]
assert len(FIRST) == 40 and len(LAST) == 100 and len(DEPT) == 12

BASE_EPOCH = 1672531200  # 2023-01-01T00:00:00Z


def code(q):
    """Four lower-case letters, base 26, most significant first."""
    return "".join(chr(97 + (q // d) % 26) for d in (17576, 676, 26, 1))


def hashed_id(n, variant):
    """The deterministic resource id: variant '8' users, '9' groups, 'a' benchmark groups."""
    return "%08x-0000-4000-%s000-%012x" % ((n * 2654435761) % 4294967296, variant, n)


def user_id(i):
    return hashed_id(i, "8")


def group_id(g):
    return hashed_id(g, "9")


def bench_group_id(size):
    return hashed_id(size, "a")


def ts(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(BASE_EPOCH + seconds))


def user_fields(i, bench_sizes=()):
    given = FIRST[i % 40]
    family = LAST[i % 100] + "-" + code(i // 100)
    return {
        "i": i,
        "id": user_id(i),
        "userName": "User%d@example.com" % i,
        "externalId": "hr-%d" % i,
        "given": given,
        "family": family,
        "display": given + " " + family,
        "work": (given + "." + family).lower() + "@example.com",
        "home": "u%d@home.example.net" % i,
        "active": i % 10 != 0,
        "employeeNumber": "%07d" % i,
        "costCenter": "CC-%d" % (1000 + i % 50),
        "department": DEPT[i % 12],
        "created": ts(30 * i),
        "modified": ts(30 * i + 15),
        "version": 2 + sum(1 for s in bench_sizes if i <= s),
    }


def user_resource(i):
    """The POST body for user i: the key order is the one the seeded data JSON has."""
    f = user_fields(i)
    return {
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": f["externalId"],
        "userName": f["userName"],
        "name": {"formatted": f["display"], "familyName": f["family"], "givenName": f["given"]},
        "displayName": f["display"],
        "emails": [{"value": f["work"], "type": "work", "primary": True},
                   {"value": f["home"], "type": "home"}],
        "active": f["active"],
        ENTERPRISE_URN: {"employeeNumber": f["employeeNumber"], "costCenter": f["costCenter"],
                         "department": f["department"]},
    }


def group_resource(g):
    return {"schemas": [GROUP_URN], "externalId": "grp-%d" % g, "displayName": "Group %04d" % g}


def bench_group_resource(size):
    return {"schemas": [GROUP_URN], "externalId": "bench-%d" % size,
            "displayName": "bench-members-%d" % size}


# ---------------------------------------------------------------------------------------------
# Processes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def migrate(scimd, db):
    run([scimd, "migrate", "--db", db])


def create_token(scimd, db, name, scopes="scim:read,scim:write,admin"):
    out = run([scimd, "token", "create", "--db", db, "--name", name, "--scopes", scopes]).stdout
    return out.strip().splitlines()[-1].strip()


def start_serve(scimd, workdir, db, port, extra_args=(), timeout=30):
    """`scimd serve --config WORKDIR/bench.yaml` on PORT with EXTRA_ARGS; returns the process
    once the port accepts connections (exits the script if it does not within TIMEOUT s)."""
    log = open(os.path.join(workdir, f"scimd-{port}.log"), "wb")
    proc = subprocess.Popen([scimd, "serve", "--db", db, "--listen", f"127.0.0.1:{port}",
                             "--config", os.path.join(workdir, "bench.yaml"), *extra_args],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"scimd on {port} did not start")


def seed_users(port, token, users):
    """POSTs USERS small users over one keep-alive connection; returns the first one's id."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    first = None
    for i in range(users):
        body = json.dumps({"schemas": [USER_URN], "userName": f"bench{i}@example.com",
                           "name": {"familyName": f"F{i}"},
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


def wrk_rps(url, token, seconds, conns):
    """req/s of `wrk -t2 -cCONNS -dSECONDS` (keep-alive) on URL; exits on any non-2xx answer."""
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "-H",
                          f"Authorization: Bearer {token}", "-H", "Connection: keep-alive", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"wrk saw {non2xx.group(1)} non-2xx answers from {url}")
    return rps


class Server:
    """`scimd serve` on a free loopback port with the per-token rate limit switched off
    (limits.rate_limit_per_minute: 0; the default 6000/min would throttle every benchmark)."""

    def __init__(self, scimd, db, threads=2, log_dir=None, extra_config="", env=None):
        self.scimd, self.db, self.threads = scimd, db, threads
        self.env = dict(os.environ, **(env or {}))
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="scimd-bench-", dir=log_dir)
        self.config = os.path.join(self.dir, "scimd.yaml")
        with open(self.config, "w") as f:
            f.write("listen: 127.0.0.1:%d\n" % self.port)
            f.write("limits: {rate_limit_per_minute: 0, max_page_size: 1000}\n")
            f.write(extra_config)
        self.log_path = os.path.join(self.dir, "scimd.log")
        self.proc = None

    def command(self):
        return [self.scimd, "serve", "--config", self.config, "--db", self.db,
                "--listen", "127.0.0.1:%d" % self.port, "--threads", str(self.threads)]

    def __enter__(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("scimd exited: " + open(self.log_path).read()[-2000:])
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("scimd did not become healthy")

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not os.environ.get("SCIMD_BENCH_KEEP_LOGS"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """A keep-alive HTTP/1.1 client (sends Connection: keep-alive explicitly)."""

    def __init__(self, port, token, timeout=600):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method, path, body=None):
        headers = {"Authorization": "Bearer " + self.token, "Connection": "keep-alive",
                   "Accept": "application/scim+json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return resp.status, (json.loads(raw) if raw else None)

    def get(self, path):
        return self.request("GET", path)


def q(value):
    """Percent-encodes a query value."""
    return urllib.parse.quote(value, safe="")


# ---------------------------------------------------------------------------------------------
# Databases

PSQL = next((p for p in ("/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql") if os.access(p, os.X_OK)),
            "psql")


def is_pg(db):
    return db.startswith("postgresql://") or db.startswith("postgres://")


def sqlite_path(db):
    assert db.startswith("sqlite:")
    return db[len("sqlite:"):]


def psql(db, sql, *extra):
    """Runs SQL through psql (ON_ERROR_STOP); returns stdout."""
    return run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, *extra], input=sql).stdout


def pg_rows(db, sql):
    """Rows of a query as lists of strings (None for NULL)."""
    out = run([PSQL, "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-P", "null=\x01",
               "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql]).stdout
    rows = []
    for rec in out.split("\x1e"):
        rec = rec.strip("\n")
        if not rec:
            continue
        rows.append([None if v == "\x01" else v for v in rec.split("\x1f")])
    return rows


# ---------------------------------------------------------------------------------------------
# CPU accounting: the machine is shared, so wall-clock figures are noisy; the CPU time that
# scimd (and the PostgreSQL processes) spend per request is a steadier measure of cost.

_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def children(ppid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(name))
        except (OSError, IndexError, ValueError):
            pass
    return out


class CpuMeter:
    """CPU seconds used by scimd and, when pg_data is given, by every PostgreSQL process."""

    def __init__(self, scimd_pid, pg_data=None):
        self.scimd_pid = scimd_pid
        self.pg_pid = None
        if pg_data:
            with open(os.path.join(pg_data, "postmaster.pid")) as f:
                self.pg_pid = int(f.readline())

    def snapshot(self):
        s = proc_cpu_seconds(self.scimd_pid)
        p = 0.0
        if self.pg_pid:
            p = proc_cpu_seconds(self.pg_pid) + sum(proc_cpu_seconds(c) for c in children(self.pg_pid))
        return s, p
