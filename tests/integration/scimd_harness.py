"""Black-box test harness for scimd (Python 3 standard library only).

It drives the real binary over loopback, the way provisioning clients do:

    with ScimdServer(db=fresh_db_url("demo")) as server:
        token = create_token(server.db, "admin", "scim:read,scim:write,admin")
        client = Client(server.port, token)
        status, headers, body = client.get("/scim/v2/Users")

Environment (ctest sets all of these; by hand, the defaults work for SQLite):
    SCIMD_BIN         path of the scimd binary (default: <repo>/build/scimd)
    SCIMD_TEST_DB     "sqlite" (default) or "postgresql"
    SCIMD_PG_PORT     port of the test PostgreSQL cluster (default 55432), see
                      tests/support/pg_cluster.sh
    SCIMD_SOURCE_DIR  the repository root (default: two levels above this file)
    SCIMD_KEEP_LOGS   "1" keeps server logs and SQLite files after the run

Promises: every server gets a free loopback port, its own temp dir and a log file of its
stdout+stderr; a server that dies or never becomes healthy raises HarnessError with the log
tail; SQLite databases are fresh files, PostgreSQL databases fresh databases on the cluster.
"""

import http.client
import itertools
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
import unittest
import uuid

SCIM_ROOT = "/scim/v2"
SCIM_MEDIA_TYPE = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

ALL_SCOPES = "scim:read,scim:write,admin"

_HERE = os.path.dirname(os.path.abspath(__file__))


class HarnessError(RuntimeError):
    """The harness could not do its part (server did not start, CLI failed, ...)."""


# ---------------------------------------------------------------------------------------------
# Paths and environment


def source_dir():
    """The repository root."""
    return os.environ.get("SCIMD_SOURCE_DIR") or os.path.dirname(os.path.dirname(_HERE))


def scimd_bin():
    """The scimd binary under test; raises HarnessError if it is not there."""
    path = os.environ.get("SCIMD_BIN") or os.path.join(source_dir(), "build", "scimd")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"scimd binary not found or not executable: {path} (set SCIMD_BIN)")
    return path


def test_db_kind():
    """"sqlite" or "postgresql", from SCIMD_TEST_DB."""
    kind = os.environ.get("SCIMD_TEST_DB", "sqlite").strip().lower()
    if kind in ("pg", "postgres"):
        kind = "postgresql"
    if kind not in ("sqlite", "postgresql"):
        raise HarnessError(f"SCIMD_TEST_DB must be sqlite or postgresql, not {kind!r}")
    return kind


def pg_port():
    return int(os.environ.get("SCIMD_PG_PORT", "55432"))


def keep_logs():
    return os.environ.get("SCIMD_KEEP_LOGS") == "1"


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Databases

_db_counter = itertools.count(1)


def _psql():
    for candidate in ("/usr/lib/postgresql/15/bin/psql", shutil.which("psql") or "", "/usr/bin/psql"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise HarnessError("psql not found (install postgresql-15: deploy/install_deps.sh)")


def psql(sql, dbname="scim", port=None):
    """Runs one SQL command on the test cluster as the superuser `scim`; returns stdout."""
    port = port or pg_port()
    cmd = [_psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
           "-p", str(port), "-U", "scim", "-d", dbname, "-c", sql]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HarnessError(f"psql failed ({proc.returncode}): {sql}\n{proc.stderr.strip()}")
    return proc.stdout


def _pg_db_name(tag):
    """A valid, unique PostgreSQL database name built from tag."""
    base = re.sub(r"[^a-z0-9_]", "_", tag.lower())[:30] or "t"
    return f"t_{base}_{os.getpid()}_{next(_db_counter)}_{uuid.uuid4().hex[:6]}"


def fresh_db_url(tag="test", workdir=None, kind=None):
    """A URL of an empty database of the kind SCIMD_TEST_DB names.

    sqlite: a new file scimd.db in a new temp dir (or in workdir);
    postgresql: a new database created on the test cluster (drop it with drop_db_url)."""
    kind = kind or test_db_kind()
    if kind == "sqlite":
        directory = workdir or tempfile.mkdtemp(prefix=f"scimd-{_safe(tag)}-")
        return "sqlite:" + os.path.join(directory, "scimd.db")
    name = _pg_db_name(tag)
    psql(f'CREATE DATABASE "{name}"')
    return f"postgresql://scim@127.0.0.1:{pg_port()}/{name}"


def drop_db_url(url):
    """Removes a database made by fresh_db_url (best effort; never raises)."""
    try:
        if url.startswith("postgresql://"):
            name = url.rsplit("/", 1)[1].split("?", 1)[0]
            port = int(re.search(r"@[^:/]+:(\d+)/", url).group(1))
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', dbname="scim", port=port)
        elif url.startswith("sqlite:") and not keep_logs():
            path = url[len("sqlite:"):]
            for suffix in ("", "-wal", "-shm", "-journal"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            directory = os.path.dirname(path)
            if os.path.basename(directory).startswith("scimd-"):
                try:
                    os.rmdir(directory)  # the temp dir fresh_db_url made, once empty
                except OSError:
                    pass
    except Exception as exc:  # cleanup must not hide the test's own result
        print(f"scimd_harness: could not drop {url}: {exc}", file=sys.stderr)


def _safe(tag):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", tag)[:40] or "t"


# ---------------------------------------------------------------------------------------------
# The CLI


def run_cli(*args, timeout=60, env=None, check=True):
    """Runs `scimd ARGS...`; returns CompletedProcess (text). check=True raises on non-zero."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([scimd_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise HarnessError(f"scimd {' '.join(args)} exited {proc.returncode}\n"
                           f"stdout: {proc.stdout.strip()}\nstderr: {proc.stderr.strip()}")
    return proc


def migrate(db):
    run_cli("migrate", "--db", db)


def create_token(db, name, scopes=ALL_SCOPES, tenant=None, expires_days=None):
    """Creates an API token with `scimd token create`; returns the secret (last stdout line)."""
    args = ["token", "create", "--db", db, "--name", name]
    if scopes is not None:
        args += ["--scopes", scopes if isinstance(scopes, str) else ",".join(scopes)]
    if tenant is not None:
        args += ["--tenant", tenant]
    if expires_days is not None:
        args += ["--expires-days", str(expires_days)]
    proc = run_cli(*args)
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise HarnessError(f"scimd token create printed nothing on stdout; stderr: {proc.stderr}")
    return lines[-1]


# ---------------------------------------------------------------------------------------------
# The server


class ScimdServer:
    """One `scimd serve` process on a free loopback port.

    ScimdServer(db=URL, extra_args=[...], config_yaml="...", env={...}) is a context manager;
    start() runs `scimd migrate` then `scimd serve` and returns once GET /healthz is 200.
    kill(sig) stops it abruptly (default SIGKILL), stop() gracefully (SIGTERM, then SIGKILL),
    restart() starts it again on the same port and database. The process's stdout and stderr go
    to self.log_path; log_tail() returns its end."""

    def __init__(self, db=None, extra_args=(), config_yaml=None, env=None, port=None,
                 migrate_first=True, start_timeout=30.0, tag="server", ssl_context=None):
        self.workdir = tempfile.mkdtemp(prefix=f"scimd-{_safe(tag)}-")
        self.db = db or fresh_db_url(tag, workdir=self.workdir)
        self._owns_db = db is None
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.port = port or free_port()
        self.migrate_first = migrate_first
        self.start_timeout = start_timeout
        self.log_path = os.path.join(self.workdir, "scimd.log")
        self.config_path = None
        if config_yaml is not None:
            self.config_path = os.path.join(self.workdir, "scimd.yaml")
            with open(self.config_path, "w", encoding="utf-8") as f:
                f.write(config_yaml)
        self.proc = None
        self._log_file = None
        self.starts = 0
        # Set when the server speaks HTTPS: the client context that trusts its certificate.
        self.ssl_context = ssl_context

    # -- lifecycle --

    @property
    def url(self):
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def connection(self, timeout=2):
        """A new HTTP(S) connection to the server."""
        if self.ssl_context:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def command(self):
        cmd = [scimd_bin(), "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}"]
        if self.config_path:
            cmd += ["--config", self.config_path]
        return cmd + self.extra_args

    def start(self):
        if self.running():
            raise HarnessError("server already running")
        if self.migrate_first and self.starts == 0:
            migrate(self.db)
        env = dict(os.environ)
        env.update(self.env)
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"=== start #{self.starts + 1}: {' '.join(self.command())}\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(self.command(), stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        self.starts += 1
        self._wait_healthy()
        return self

    def _wait_healthy(self):
        deadline = time.monotonic() + self.start_timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"scimd serve exited with {self.proc.returncode} during start-up\n"
                                   + self.log_tail())
            try:
                conn = self.connection()
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
                last_error = f"/healthz answered {status}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.05)
        self.kill()
        raise HarnessError(f"scimd not healthy after {self.start_timeout}s ({last_error})\n"
                           + self.log_tail())

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL, timeout=30.0):
        """Sends sig and waits for the process to end; returns its exit code (None if it lives)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        self._close_log()
        return self.proc.returncode

    def stop(self, timeout=10.0):
        """Graceful stop: SIGTERM, SIGKILL after timeout. Returns the exit code."""
        if self.proc is None:
            return None
        code = self.kill(signal.SIGTERM, timeout=timeout)
        if code is None:
            code = self.kill(signal.SIGKILL)
        return code

    def restart(self, sig=signal.SIGKILL, new_port=False):
        """Kills (sig) and starts again on the same database (and port unless new_port)."""
        self.kill(sig)
        if new_port:
            self.port = free_port()
        return self.start()

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        text = self.log_text().splitlines()
        return f"--- scimd log {self.log_path} (last {min(lines, len(text))} lines) ---\n" + \
            "\n".join(text[-lines:])

    def cleanup(self):
        """Stops the server and removes its temp dir (and the database it made)."""
        self.stop()
        if self._owns_db:
            drop_db_url(self.db)
        if not keep_logs():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print(self.log_tail(), file=sys.stderr)
        self.cleanup()
        return False


# ---------------------------------------------------------------------------------------------
# The client


class Response(tuple):
    """(status, headers, json) with names: .status, .headers (case-insensitive .get),
    .json (parsed body or None), .body (raw bytes)."""

    def __new__(cls, status, headers, body_json, body):
        self = super().__new__(cls, (status, headers, body_json))
        self.body = body
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    json = property(lambda self: self[2])

    def __repr__(self):
        text = self.body[:500].decode("utf-8", "replace")
        return f"<Response {self.status} {text}>"


class Client:
    """A small keep-alive HTTP/1.1 client for one server.

    Bodies that are dicts or lists are sent as JSON with Content-Type application/scim+json;
    str/bytes are sent as they are. Every call returns a Response. token=None sends no
    Authorization header; pass token= per call to override the client's."""

    def __init__(self, port, token=None, host="127.0.0.1", timeout=30.0, ssl_context=None):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.ssl_context = ssl_context  # HTTPS with this context when set
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, headers=None, token=..., content_type=SCIM_MEDIA_TYPE):
        hdrs = {"Accept": SCIM_MEDIA_TYPE, "Connection": "keep-alive"}
        token = self.token if token is ... else token
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = bytes(body)
            if content_type:
                hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        return self._send(method, path, data, hdrs)

    def _send(self, method, path, data, hdrs):
        # One retry, only when a reused keep-alive connection turned out to be closed by the
        # server before it read the request (the server never saw it, so a retry is safe).
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None and self.ssl_context is not None:
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=self.ssl_context)
            elif self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                resp = self._conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    ConnectionAbortedError):
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            if resp.will_close:
                self.close()
            return Response(resp.status, resp.headers, _parse_json(raw), raw)
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def _parse_json(raw):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# unittest base class

_unique = itertools.count(1)


def unique(prefix="u"):
    """A name no other call in this process returns."""
    return f"{prefix}{os.getpid()}x{next(_unique)}"


def scim_path(path):
    """Prefixes the SCIM root unless path is already absolute to a known root."""
    for root in (SCIM_ROOT, "/admin/", "/healthz", "/readyz", "/metrics"):
        if path.startswith(root):
            return path
    return SCIM_ROOT + (path if path.startswith("/") else "/" + path)


class ScimTestCase(unittest.TestCase):
    """One scimd per test class, on a fresh database, with an admin token.

    Class attributes to override: server_args (extra serve flags), config_yaml, server_env,
    token_scopes. Available: cls.server, cls.db, cls.token, cls.client. Paths given to the
    helpers are relative to /scim/v2 unless they start with /scim/v2, /admin/, /healthz,
    /readyz or /metrics. A failing test prints the server log's tail."""

    server_args = ()
    config_yaml = None
    server_env = None
    token_scopes = ALL_SCOPES

    server = None
    client = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = fresh_db_url(cls.__name__)
        cls.server = ScimdServer(db=cls.db, extra_args=cls.server_args, config_yaml=cls.config_yaml,
                                 env=cls.server_env, tag=cls.__name__)
        try:
            cls.server.start()
            cls.token = create_token(cls.db, "test-admin", cls.token_scopes)
        except BaseException:
            cls.server.cleanup()
            drop_db_url(cls.db)
            raise
        cls.client = Client(cls.server.port, cls.token)

    @classmethod
    def tearDownClass(cls):
        if cls.client is not None:
            cls.client.close()
        if cls.server is not None:
            cls.server.cleanup()
        drop_db_url(cls.db)
        super().tearDownClass()

    def run(self, result=None):
        # Show the server log of a failing test, right under its traceback in the output.
        before = _problem_count(result)
        out = super().run(result)
        if result is not None and _problem_count(result) > before and self.server is not None:
            print(f"\n{self.id()} failed; {self.server.log_tail(40)}", file=sys.stderr)
        return out

    # -- requests --

    def request(self, method, path, body=None, **kw):
        return self.client.request(method, scim_path(path), body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, operations_or_body, **kw):
        """PATCH with a PatchOp; pass a list of operations or a whole body."""
        body = operations_or_body
        if isinstance(body, list):
            body = {"schemas": [PATCH_URN], "Operations": body}
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def post_user(self, userName=None, expect=None, **attributes):
        """POSTs a User (userName defaults to a unique one; schemas are filled in);
        asserts the status when expect is given. Returns the Response."""
        body = {"schemas": [USER_URN], "userName": userName or unique("user")}
        if ENTERPRISE_URN in attributes:
            body["schemas"].append(ENTERPRISE_URN)
        body.update(attributes)
        resp = self.post("/Users", body)
        if expect is not None:
            self.assertEqual(resp.status, expect, resp)
        return resp

    def post_group(self, displayName=None, members=(), expect=None, **attributes):
        body = {"schemas": [GROUP_URN], "displayName": displayName or unique("group")}
        if members:
            body["members"] = [{"value": m} if isinstance(m, str) else m for m in members]
        body.update(attributes)
        resp = self.post("/Groups", body)
        if expect is not None:
            self.assertEqual(resp.status, expect, resp)
        return resp

    # -- assertions --

    def assertStatus(self, resp, status):
        self.assertEqual(resp.status, status, resp)

    def assertScimError(self, resp, status, scimType=None):
        """A SCIM error response (RFC 7644 §3.12): HTTP status, the Error schema, "status" as a
        string (an integer is tolerated), and scimType when given."""
        self.assertEqual(resp.status, status, resp)
        body = resp.json
        self.assertIsInstance(body, dict, f"error body is not a JSON object: {resp!r}")
        self.assertIn(ERROR_URN, body.get("schemas", []), resp)
        self.assertEqual(str(body.get("status")), str(status), resp)
        if scimType is not None:
            self.assertEqual(body.get("scimType"), scimType, resp)


def _problem_count(result):
    if result is None:
        return 0
    return len(result.failures) + len(result.errors) + len(getattr(result, "unexpectedSuccesses", []))
