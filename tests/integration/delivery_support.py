"""Helpers for the delivery tests and the delivery-lag benchmark (not a test module: no test_
prefix). Python 3 standard library only.

- FakeProcess: one fake target (tests/fakes/run_fake.py) in its own process, with its control API
  (state, requests, mode, config, reset, per-fake actions).
- targets_yaml(): the `targets:` block of a scimd configuration pointing at running fakes, with
  secrets passed through ${ENV} substitution (the env to give scimd is returned too).
- admin helpers: sync status / deliveries / links / metrics over a harness Client.
- SET helpers: decode and verify (HS256) the tokens the webhook receiver recorded.
- wait_until(): poll a predicate with a deadline and a useful failure message.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from scimd_harness import ScimTestCase, source_dir

# Default credentials of the fakes (tests/fakes/README.md).
DOLIBARR_API_KEY = "dolibarr-test-key"
ZOHO_CLIENT_ID = "1000.FAKECLIENTID"
ZOHO_CLIENT_SECRET = "fake-client-secret"
ZOHO_REFRESH_TOKEN = "1000.fake-refresh-token"
ZOHO_ORGANIZATION_ID = "10234695"
CRM_TOKEN = "crm-test-token"
WEBHOOK_SECRET = "webhook-test-secret"
CLERK_SECRET_KEY = "sk_test_clerk-fake-secret"

SECRETS_ENV = {
    "DOLIBARR_API_KEY": DOLIBARR_API_KEY,
    "ZOHO_CLIENT_ID": ZOHO_CLIENT_ID,
    "ZOHO_CLIENT_SECRET": ZOHO_CLIENT_SECRET,
    "ZOHO_REFRESH_TOKEN": ZOHO_REFRESH_TOKEN,
    "CRM_TOKEN": CRM_TOKEN,
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "CLERK_SECRET_KEY": CLERK_SECRET_KEY,
}

SCIMD_GROUP_URN = "urn:scimd:params:scim:schemas:extension:2.0:Group"
EVENT_CREATE = "urn:ietf:params:scim:event:prov:create:full"
EVENT_PUT = "urn:ietf:params:scim:event:prov:put:full"
EVENT_PATCH = "urn:ietf:params:scim:event:prov:patch:full"
EVENT_DELETE = "urn:ietf:params:scim:event:prov:delete"
EVENT_ACTIVATE = "urn:ietf:params:scim:event:prov:activate"
EVENT_DEACTIVATE = "urn:ietf:params:scim:event:prov:deactivate"

# The fake kinds and the target name each gets in the generated configuration.
TARGET_NAMES = {"dolibarr": "dolibarr", "zoho_books": "zoho", "crm": "crm", "webhook": "events",
                "clerk": "clerk"}


class RefusingReceiver:
    """A webhook receiver that refuses every SET with 400 (RFC 8935 §2.3 `invalid_request`): each
    delivery to it is a per-record failure, marked failed at once, while the target itself is
    up. (A port nobody listens on is a target-wide outage instead: the target is paused and
    nothing fails.) Serves from a daemon thread for the life of the process."""

    def __init__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = b'{"err":"invalid_request","description":"refused by the test receiver"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_until(predicate, timeout=20.0, interval=0.1, message="condition"):
    """Calls predicate() until it returns a truthy value (returned) or timeout passes
    (AssertionError naming `message` and the last value / exception)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (AssertionError, KeyError, IndexError, TypeError, ValueError, OSError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}; "
                                 f"last: {str(last)[:2000]}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Fakes


class FakeProcess:
    """One fake target in a subprocess (`python3 tests/fakes/run_fake.py KIND --port 0`).

    config: settings passed as --config-json (e.g. {"rate_limit_per_minute": 0}). The fakes set
    TCP_NODELAY on their connections themselves (fakelib.FakeHandler)."""

    def __init__(self, kind, config=None, extra_args=()):
        self.kind = kind
        self.workdir = tempfile.mkdtemp(prefix=f"scimd-fake-{kind}-")
        port_file = os.path.join(self.workdir, "port")
        self.log_path = os.path.join(self.workdir, "fake.log")
        cmd = [sys.executable, os.path.join(source_dir(), "tests", "fakes", "run_fake.py"), kind]
        cmd += ["--port", "0", "--port-file", port_file]
        if config:
            cmd += ["--config-json", json.dumps(config)]
        cmd += list(extra_args)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fake {kind} did not start: {self.log_text()}")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        self.base = f"http://127.0.0.1:{self.port}"
        self._conn = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    # -- control API --

    def _call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                headers = {"Content-Type": "application/json"} if data is not None else {}
                self._conn.request(method, path, body=data, headers=headers)
                resp = self._conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self._conn.close()
                    self._conn = None
                break
            except (http.client.HTTPException, OSError):
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 1:
                    raise
        if resp.status >= 400:
            raise RuntimeError(f"{self.kind} control {method} {path}: {resp.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def state(self, requests=True, since=None):
        query = {}
        if not requests:
            query["requests"] = "0"
        if since is not None:
            query["since"] = str(since)
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self._call("GET", "/_control/state" + q)

    def records(self):
        return self.state(requests=False)["records"]

    def requests(self, since=0):
        return self._call("GET", f"/_control/requests?since={since}")["requests"]

    def set_mode(self, mode, **options):
        body = {"mode": mode}
        body.update(options)
        return self._call("POST", "/_control/mode", body)

    def normal(self):
        return self.set_mode("normal")

    def set_config(self, **settings):
        return self._call("POST", "/_control/config", settings)

    def reset(self):
        return self._call("POST", "/_control/reset", {})

    def action(self, name, body):
        return self._call("POST", f"/_control/{name}", body)

    def stop(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        if os.environ.get("SCIMD_KEEP_LOGS") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_fakes(kinds, configs=None):
    """{kind: FakeProcess} for each kind; rate limits off unless configs say otherwise."""
    configs = configs or {}
    fakes = {}
    try:
        for kind in kinds:
            config = {"rate_limit_per_minute": 0, "max_log_entries": 200000}
            config.update(configs.get(kind, {}))
            fakes[kind] = FakeProcess(kind, config)
    except BaseException:
        stop_fakes(fakes)
        raise
    return fakes


def stop_fakes(fakes):
    for fake in fakes.values():
        try:
            fake.stop()
        except Exception as exc:  # cleanup must not hide the test result
            print(f"could not stop fake {fake.kind}: {exc}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Configuration


def _retry_yaml(retry):
    if not retry:
        return ""
    inner = ", ".join(f"{k}: {v}" for k, v in retry.items())
    return f"    retry: {{{inner}}}\n"


def targets_yaml(fakes, retry=None, extra=None):
    """The YAML of a scimd configuration (targets only) for the running fakes.

    retry: the `retry:` mapping given to every target, or {kind: mapping} per target; extra:
    {kind: {key: scalar}} added to that target's block. Secrets are ${ENV} references: pass
    SECRETS_ENV to scimd."""
    extra = extra or {}
    per_kind = bool(retry) and all(k in TARGET_NAMES for k in retry)
    out = ["targets:\n"]
    for kind, fake in fakes.items():
        name = TARGET_NAMES[kind]
        out.append(f"  - name: {name}\n    type: {kind}\n")
        if kind == "dolibarr":
            out.append(f"    url: {fake.base}/api/index.php\n    api_key: ${{DOLIBARR_API_KEY}}\n")
        elif kind == "zoho_books":
            out.append(f"    api_url: {fake.base}/books/v3\n"
                       f"    accounts_url: {fake.base}/oauth/v2/token\n"
                       f"    organization_id: \"{ZOHO_ORGANIZATION_ID}\"\n"
                       "    client_id: ${ZOHO_CLIENT_ID}\n"
                       "    client_secret: ${ZOHO_CLIENT_SECRET}\n"
                       "    refresh_token: ${ZOHO_REFRESH_TOKEN}\n")
        elif kind == "crm":
            out.append(f"    url: {fake.base}\n    token: ${{CRM_TOKEN}}\n")
        elif kind == "clerk":
            out.append(f"    url: {fake.base}/v1\n    secret_key: ${{CLERK_SECRET_KEY}}\n")
        elif kind == "webhook":
            out.append(f"    url: {fake.base}/events\n    algorithm: HS256\n"
                       "    secret: ${WEBHOOK_SECRET}\n")
        else:
            raise ValueError(kind)
        settings = dict(extra.get(kind, {}))
        if kind in ("zoho_books", "crm", "clerk"):
            # The fakes run without rate limits (start_fakes); so does scimd unless told.
            settings.setdefault("requests_per_minute", 100000)
        for key, value in settings.items():
            out.append(f"    {key}: {value}\n")
        out.append(_retry_yaml(retry.get(kind) if per_kind else retry))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Admin API


def sync_status(client):
    """{target name: status line} from GET /admin/v1/sync/status (asserts 200)."""
    resp = client.get("/admin/v1/sync/status")
    assert resp.status == 200, resp
    return {t["name"]: t for t in resp.json["targets"]}


def deliveries(client, status=None, target=None):
    query = {}
    if status:
        query["status"] = status
    if target:
        query["target"] = target
    q = ("?" + urllib.parse.urlencode(query)) if query else ""
    resp = client.get("/admin/v1/sync/deliveries" + q)
    assert resp.status == 200, resp
    return resp.json["deliveries"]


def links(client, resource_id):
    """{target name: external id} from GET /admin/v1/sync/links?resource=ID (asserts 200)."""
    resp = client.get("/admin/v1/sync/links?resource=" + urllib.parse.quote(resource_id))
    assert resp.status == 200, resp
    return {l["target"]: l["external_id"] for l in resp.json["links"]}


def metrics(client):
    resp = client.get("/metrics", token=None)
    assert resp.status == 200, resp
    return resp.body.decode("utf-8")


def metric_value(text, name, **labels):
    """The value of the sample `name{labels}` in Prometheus text (None if absent). Labels given
    must all match; other labels are ignored."""
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        rest = line[len(name):]
        if rest and rest[0] not in "{ ":
            continue
        sample_labels = {}
        if rest.startswith("{"):
            end = rest.index("}")
            for part in _split_labels(rest[1:end]):
                k, _, v = part.partition("=")
                sample_labels[k.strip()] = v.strip().strip('"')
            rest = rest[end + 1:]
        if all(sample_labels.get(k) == str(v) for k, v in labels.items()):
            return float(rest.split()[0])
    return None


def _split_labels(text):
    parts, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return parts


def all_settled(client, names=None):
    """True when no configured target has anything pending (in flight included)."""
    status = sync_status(client)
    return all(line["pending"] == 0 for name, line in status.items()
               if names is None or name in names)


# ---------------------------------------------------------------------------------------------
# Security Event Tokens


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_hs256(token, secret=WEBHOOK_SECRET):
    """(header, claims) of a compact HS256 JWS after checking its signature; raises otherwise."""
    head, payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, b64url_decode(signature)):
        raise AssertionError("SET signature does not verify")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))


def set_subject(event):
    """("Users"|"Groups", id) of a recorded SET."""
    uri = event["claims"]["sub_id"]["uri"]
    _, collection, rid = uri.split("/", 2)
    return collection, rid


# ---------------------------------------------------------------------------------------------
# SCIM bodies

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user_body(user_name, given="Ada", family="Lovelace", email=None, phone=None, department=None,
              roles=None, active=True):
    body = {"schemas": [USER_URN], "userName": user_name,
            "name": {"givenName": given, "familyName": family},
            "emails": [{"value": email or f"{user_name}@example.com", "primary": True,
                        "type": "work"}],
            "active": active}
    if phone:
        body["phoneNumbers"] = [{"value": phone, "type": "work"}]
    if department:
        body["schemas"].append(ENTERPRISE_URN)
        body[ENTERPRISE_URN] = {"department": department}
    if roles:
        body["roles"] = roles
    return body


def patch_body(*operations):
    return {"schemas": [PATCH_URN], "Operations": list(operations)}


def group_body(name, kind=None, members=(), **extension):
    body = {"schemas": [GROUP_URN], "displayName": name}
    if kind is not None or extension:
        body["schemas"].append(SCIMD_GROUP_URN)
        ext = dict(extension)
        if kind is not None:
            ext["kind"] = kind
        body[SCIMD_GROUP_URN] = ext
    if members:
        body["members"] = [{"value": m} for m in members]
    return body


# ---------------------------------------------------------------------------------------------
# Test base class


class FakeTargetsTestCase(ScimTestCase):
    """ScimTestCase whose scimd delivers to fakes started for the class.

    Class attributes: fake_kinds (subset of dolibarr, zoho_books, crm, webhook, clerk), fake_configs
    ({kind: settings}), retry (see targets_yaml), target_extra ({kind: {key: value}}),
    delivery_yaml (a `delivery:` block of the scimd configuration, or "").
    Available: cls.fakes ({kind: FakeProcess})."""

    fake_kinds = ("dolibarr", "zoho_books", "crm", "webhook")
    fake_configs = {}
    retry = {"max_attempts": 3, "initial_backoff_ms": 50, "max_backoff_ms": 200}
    target_extra = {}
    delivery_yaml = ""  # e.g. "delivery: {lease_seconds: 3}\n"

    @classmethod
    def setUpClass(cls):
        cls.fakes = start_fakes(cls.fake_kinds, cls.fake_configs)
        cls.config_yaml = cls.delivery_yaml + targets_yaml(cls.fakes, cls.retry,
                                                           cls.target_extra)
        cls.server_env = dict(SECRETS_ENV)
        try:
            super().setUpClass()
        except BaseException:
            stop_fakes(cls.fakes)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            stop_fakes(cls.fakes)

    def settle(self, timeout=20.0, client=None):
        """Waits until every outbox event is queued and nothing is pending at any target."""
        client = client or self.client

        def settled():
            depth = metric_value(metrics(client), "scimd_outbox_depth")
            status = sync_status(client)
            busy = {n: t["pending"] for n, t in status.items() if t["pending"]}
            if depth == 0 and not busy:
                return True
            raise AssertionError(f"outbox depth {depth}, pending {busy}")
        wait_until(settled, timeout=timeout, interval=0.05, message="deliveries to settle")
