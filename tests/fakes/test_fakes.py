"""Tests of the fake target servers themselves (unittest + urllib, standard library only).

Run:  python3 -m unittest discover -s tests/fakes -p 'test_*.py'

Each test class starts one fake on port 0 in a thread; every test begins with
``POST /_control/reset``. Rate-limit windows, token lifetimes and delays are shrunk through the
settings so the whole file runs in a few seconds.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fakelib  # noqa: E402
from clerk_fake import ClerkFake  # noqa: E402
from crm_fake import CrmFake  # noqa: E402
from dolibarr_fake import DolibarrFake, parse_sqlfilters  # noqa: E402
from fakelib import (BadParam, MethodNotAllowed, Router, SlidingWindowLimiter, generate_rsa_key, jws_encode,  # noqa: E402
                     load_rsa_pem, start_in_thread, standard_webhook_signature)
from webhook_receiver import WebhookReceiver  # noqa: E402
from zoho_books_fake import ZohoBooksFake  # noqa: E402

TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class Reply:
    """A response as the tests see it."""

    def __init__(self, status: int, headers: Any, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)


def http_call(base: str, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
              raw: Any = None, timeout: float = 5) -> Reply:
    """One request with urllib; JSON-encodes ``body``; 4xx/5xx answers are returned, not raised."""
    data = None
    hdrs = dict(headers or {})
    if raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    elif body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


class FakeCase(unittest.TestCase):
    """Starts ``APP_CLASS(**SETTINGS)`` once per class; resets it before every test."""

    APP_CLASS: Any = None
    SETTINGS: Dict[str, Any] = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.fake = start_in_thread(cls.APP_CLASS(**cls.SETTINGS))
        cls.base = cls.fake.url

    @classmethod
    def tearDownClass(cls) -> None:
        cls.fake.stop()

    def setUp(self) -> None:
        self.assertEqual(self.call("POST", "/_control/reset").status, 200)

    def call(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
             raw: Any = None, timeout: float = 5) -> Reply:
        return http_call(self.base, method, path, body, headers, raw, timeout)

    def control(self, name: str, body: Any = None) -> Reply:
        return self.call("POST", "/_control/" + name, body if body is not None else {})

    def configure(self, **settings: Any) -> None:
        reply = self.control("config", settings)
        self.assertEqual(reply.status, 200, reply.body)

    def set_mode(self, **mode: Any) -> None:
        reply = self.control("mode", mode)
        self.assertEqual(reply.status, 200, reply.body)

    def state(self) -> Dict[str, Any]:
        return self.call("GET", "/_control/state").json()

    def last_request(self) -> Dict[str, Any]:
        return self.state()["requests"][-1]


# =============================================================================================
# fakelib units
# =============================================================================================

class RouterTest(unittest.TestCase):
    def setUp(self) -> None:
        self.router = Router()
        self.router.add("GET", "/users/me", "me")
        self.router.add("GET", "/users/{id}", "get")
        self.router.add("DELETE", "/things/{id:int}", "delete")

    def test_literal_route_wins_over_parameter(self) -> None:
        self.assertEqual(self.router.match("GET", ["users", "me"]), ("me", {}))
        self.assertEqual(self.router.match("GET", ["users", "42"]), ("get", {"id": "42"}))

    def test_method_not_allowed_lists_methods(self) -> None:
        with self.assertRaises(MethodNotAllowed) as ctx:
            self.router.match("POST", ["users", "42"])
        self.assertEqual(ctx.exception.allowed, ["GET"])

    def test_typed_parameter(self) -> None:
        self.assertEqual(self.router.match("DELETE", ["things", "7"]), ("delete", {"id": 7}))
        with self.assertRaises(BadParam):
            self.router.match("DELETE", ["things", "abc"])
        self.assertIsNone(self.router.match("GET", ["nothing"]))


class LimiterTest(unittest.TestCase):
    def test_sliding_window(self) -> None:
        now = [100.0]
        limiter = SlidingWindowLimiter(clock=lambda: now[0])
        self.assertIsNone(limiter.check("k", 2, 60))
        now[0] += 10
        self.assertIsNone(limiter.check("k", 2, 60))
        self.assertAlmostEqual(limiter.check("k", 2, 60), 50.0)
        self.assertIsNone(limiter.check("other", 2, 60))
        now[0] += 50
        self.assertIsNone(limiter.check("k", 2, 60))
        self.assertIsNone(limiter.check("k", 0, 60))  # 0 disables


class JoseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.key = generate_rsa_key(1024)

    def test_rs256_round_trip_and_pem(self) -> None:
        public = load_rsa_pem(self.key.public_pem())
        self.assertEqual((public.n, public.e), (self.key.n, self.key.e))
        sig = self.key.sign_rs256(b"hello")
        self.assertTrue(public.verify_rs256(b"hello", sig))
        self.assertFalse(public.verify_rs256(b"hellO", sig))
        self.assertFalse(public.verify_rs256(b"hello", sig[:-1]))

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_openssl_keys_and_signatures_interoperate(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            priv, pub, data, sig = (os.path.join(tmp, n) for n in ("k.pem", "p.pem", "d", "s"))
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                            "-out", priv], check=True, capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True, capture_output=True)
            with open(data, "wb") as handle:
                handle.write(b"header.payload")
            subprocess.run(["openssl", "dgst", "-sha256", "-sign", priv, "-out", sig, data], check=True,
                           capture_output=True)
            with open(pub) as p_file, open(priv) as k_file, open(sig, "rb") as s_file:
                public = load_rsa_pem(p_file.read())
                private = load_rsa_pem(k_file.read())  # PKCS#8 private key
                signature = s_file.read()
            self.assertTrue(public.verify_rs256(b"header.payload", signature))
            self.assertEqual(private.sign_rs256(b"header.payload"), signature)  # PKCS#1 v1.5 is deterministic

    def test_hs256_and_standard_webhook_signature(self) -> None:
        token = jws_encode({"a": 1}, "HS256", "s3cret", {"typ": "secevent+jwt"})
        head, payload, sig = token.split(".")
        self.assertEqual(json.loads(fakelib.b64url_decode(head)), {"alg": "HS256", "typ": "secevent+jwt"})
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        self.assertTrue(standard_webhook_signature(secret, "id", "1", b"{}").startswith("v1,"))


class SqlFiltersTest(unittest.TestCase):
    ROWS = [
        {"id": 1, "name": "Acme", "email": "a@x.com", "status": 1, "ref_ext": "r1",
         "array_options": {"options_department": "Sales"}, "date_creation": 0},
        {"id": 2, "name": "Bolt", "email": None, "status": 0, "ref_ext": "r2", "array_options": {},
         "date_creation": 0},
    ]

    def ids(self, expr: str) -> list:
        predicate = parse_sqlfilters(expr)
        return [r["id"] for r in self.ROWS if predicate(r)]

    def test_operators_and_grouping(self) -> None:
        self.assertEqual(self.ids("(t.nom:like:'ac%')"), [1])
        self.assertEqual(self.ids("(t.status:=:0) or (t.ref_ext:=:'r1')"), [1, 2])
        self.assertEqual(self.ids("((t.status:=:1) and (ef.department:=:'sales')) or (t.rowid:>:5)"), [1])
        self.assertEqual(self.ids("(t.email:is:NULL)"), [2])
        self.assertEqual(self.ids("(t.email:isnot:NULL)"), [1])
        self.assertEqual(self.ids("(t.rowid:in:1,2)"), [1, 2])
        self.assertEqual(self.ids("(t.ref_ext:notin:'r1')"), [2])
        self.assertEqual(self.ids("(t.nom:notlike:'A%')"), [2])
        self.assertEqual(self.ids("(t.rowid:!=:1)"), [2])


# =============================================================================================
# control API and fault modes (exercised on the CRM fake)
# =============================================================================================

CRM_AUTH = {"Authorization": "Bearer crm-test-token"}


class ControlApiTest(FakeCase):
    APP_CLASS = CrmFake

    def create_user(self, email: str = "ada@example.com", headers: Optional[Dict[str, str]] = None) -> Reply:
        hdrs = dict(CRM_AUTH)
        hdrs.update(headers or {})
        return self.call("POST", "/users", {"email": email}, hdrs)

    def test_state_logs_every_request_with_details(self) -> None:
        self.create_user(headers={"Idempotency-Key": "k-1"})
        entry = self.last_request()
        self.assertEqual(entry["method"], "POST")
        self.assertEqual(entry["path"], "/users")
        self.assertEqual(entry["headers"]["idempotency-key"], "k-1")
        self.assertEqual(entry["idempotency_key"], "k-1")
        self.assertEqual(entry["body"], {"email": "ada@example.com"})
        self.assertEqual(entry["status"], 201)
        self.assertEqual(entry["response"]["id"], "crm_u_1")
        self.assertIsInstance(entry["ts"], float)
        self.assertTrue(entry["time"].endswith("Z"))
        self.assertEqual(self.state()["records"]["users"][0]["email"], "ada@example.com")
        # control calls are not logged
        self.assertEqual(len(self.state()["requests"]), 1)

    def test_requests_since_and_state_without_log(self) -> None:
        self.create_user("a@x.com")
        self.create_user("b@x.com")
        since = self.call("GET", "/_control/requests?since=1").json()["requests"]
        self.assertEqual([e["seq"] for e in since], [2])
        self.assertNotIn("requests", self.call("GET", "/_control/state?requests=0").json())

    def test_reset_clears_records_log_mode_and_settings(self) -> None:
        self.create_user()
        self.set_mode(mode="error500")
        self.configure(max_bulk_stores=3)
        self.assertEqual(self.control("reset").json(), {"reset": True})
        state = self.state()
        self.assertEqual(state["records"]["users"], [])
        self.assertEqual(state["requests"], [])
        self.assertEqual(state["mode"]["mode"], "normal")
        self.assertEqual(state["config"]["max_bulk_stores"], 1000)

    def test_down_drops_connection_for_count_requests(self) -> None:
        self.set_mode(mode="down", count=2)
        for _ in range(2):
            with self.assertRaises(TRANSPORT_ERRORS):
                self.create_user()
        self.assertEqual(self.create_user().status, 201)
        log = self.state()["requests"]
        self.assertEqual([e["fault"] for e in log], ["down", "down", None])
        self.assertEqual([e["status"] for e in log], [None, None, 201])
        self.assertEqual(len(self.state()["records"]["users"]), 1)

    def test_error500_and_error503_apply_nothing(self) -> None:
        self.set_mode(mode="error500", count=1)
        reply = self.create_user()
        self.assertEqual(reply.status, 500)
        self.assertEqual(reply.json()["error"]["code"], "internal_error")
        self.set_mode(mode="error503", count=1, retry_after=7)
        reply = self.create_user()
        self.assertEqual(reply.status, 503)
        self.assertEqual(reply.header("Retry-After"), "7")
        self.assertEqual(self.state()["records"]["users"], [])
        self.assertEqual(self.create_user().status, 201)

    def test_ratelimit_mode_answers_429_with_retry_after(self) -> None:
        self.set_mode(mode="ratelimit", retry_after=3, count=1)
        reply = self.create_user()
        self.assertEqual(reply.status, 429)
        self.assertEqual(reply.header("Retry-After"), "3")
        self.assertEqual(reply.json()["error"]["code"], "rate_limited")
        self.set_mode(mode="ratelimit", count=1)
        self.assertEqual(self.create_user().header("Retry-After"), "1")  # CRM always sends one

    def test_slow_applies_then_delays_the_answer(self) -> None:
        self.set_mode(mode="slow", delay_ms=300, count=1)
        started = time.monotonic()
        self.assertEqual(self.create_user().status, 201)
        self.assertGreaterEqual(time.monotonic() - started, 0.29)
        self.set_mode(mode="slow", delay_ms=800, count=1)
        with self.assertRaises(TRANSPORT_ERRORS):  # client gives up ...
            self.call("POST", "/users", {"email": "late@example.com"}, CRM_AUTH, timeout=0.3)
        self.assertEqual(len(self.state()["records"]["users"]), 2)  # ... but the change was applied

    def test_fail_after_apply_and_idempotent_retry(self) -> None:
        self.set_mode(mode="fail_after_apply", count=1)
        first = self.create_user(headers={"Idempotency-Key": "evt-1"})
        self.assertEqual(first.status, 500)
        self.assertEqual(len(self.state()["records"]["users"]), 1)  # applied anyway
        self.assertEqual(self.last_request()["applied_status"], 201)
        retry = self.create_user(headers={"Idempotency-Key": "evt-1"})
        self.assertEqual(retry.status, 201)
        self.assertEqual(retry.json()["id"], "crm_u_1")
        self.assertTrue(self.last_request()["idempotent_replay"])
        self.assertEqual(len(self.state()["records"]["users"]), 1)

    def test_mode_filters_by_method_and_path_prefix(self) -> None:
        self.set_mode(mode="error500", method="POST", path_prefix="/organizations")
        self.assertEqual(self.create_user().status, 201)
        self.assertEqual(self.call("POST", "/organizations", {"name": "x"}, CRM_AUTH).status, 500)
        self.assertEqual(self.call("GET", "/users/crm_u_1", headers=CRM_AUTH).status, 200)
        self.assertEqual(self.call("GET", "/_control/mode").json()["mode"], "error500")
        self.set_mode(mode="normal")
        self.assertEqual(self.call("POST", "/organizations", {"name": "x"}, CRM_AUTH).status, 201)

    def test_mode_validation(self) -> None:
        for body in ({"mode": "sideways"}, {"mode": "down", "count": 0}, {"mode": "slow", "delay_ms": -1},
                     {"mode": "down", "bogus": 1}, []):
            self.assertEqual(self.control("mode", body).status, 400, body)

    def test_rate_limit_control(self) -> None:
        reply = self.control("rate_limit", {"per_minute": 2, "window_seconds": 0.4})
        self.assertEqual(reply.json(), {"per_minute": 2, "window_seconds": 0.4})
        self.assertEqual(self.create_user("a@x.com").status, 201)
        self.assertEqual(self.create_user("b@x.com").status, 201)
        limited = self.create_user("c@x.com")
        self.assertEqual(limited.status, 429)
        self.assertEqual(limited.header("Retry-After"), "1")
        time.sleep(0.45)
        self.assertEqual(self.create_user("c@x.com").status, 201)
        self.assertEqual(self.control("rate_limit", {"per_minute": -1}).status, 400)
        self.assertEqual(self.call("GET", "/_control/rate_limit").json()["per_minute"], 2)

    def test_config_control(self) -> None:
        self.assertEqual(self.call("GET", "/_control/config").json()["max_bulk_stores"], 1000)
        self.assertEqual(self.control("config", {"nope": 1}).status, 400)
        self.assertEqual(self.control("config", {"max_bulk_stores": "many"}).status, 400)
        self.configure(max_bulk_stores=5)
        self.assertEqual(self.state()["config"]["max_bulk_stores"], 5)

    def test_unknown_control_endpoint(self) -> None:
        reply = self.control("explode")
        self.assertEqual(reply.status, 404)
        self.assertIn("state", reply.json()["endpoints"])


# =============================================================================================
# Dolibarr
# =============================================================================================

KEY = {"DOLAPIKEY": "dolibarr-test-key"}
RO_KEY = {"DOLAPIKEY": "read-only-key"}
API = "/api/index.php"


class DolibarrTest(FakeCase):
    APP_CLASS = DolibarrFake
    SETTINGS = {"bad_key_delay_ms": 0, "api_keys": {
        "dolibarr-test-key": {"login": "scimd", "rights": ["lire", "creer", "supprimer"], "admin": True},
        "read-only-key": {"login": "reader", "rights": ["lire"], "admin": False},
        "disabled-key": {"login": "old", "rights": ["lire"], "disabled": True},
    }}

    def post(self, body: Any, headers: Optional[Dict[str, str]] = None) -> Reply:
        return self.call("POST", API + "/thirdparties", body, headers if headers is not None else KEY)

    def create(self, **fields: Any) -> int:
        body = {"name": "Ada Lovelace", "caller": "scimd"}
        body.update(fields)
        reply = self.post(body)
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()

    def get(self, path: str, headers: Optional[Dict[str, str]] = None) -> Reply:
        return self.call("GET", API + path, headers=headers if headers is not None else KEY)

    def list(self, **query: Any) -> Reply:
        return self.get("/thirdparties?" + urllib.parse.urlencode(query))

    # ---- auth ----
    def test_missing_key_is_401_with_restler_envelope(self) -> None:
        reply = self.get("/thirdparties/1", headers={})
        self.assertEqual(reply.status, 401)
        error = reply.json()["error"]
        self.assertEqual(error["code"], 401)
        self.assertTrue(error["message"].startswith("Unauthorized: Failed to login to API. Neither parameter "
                                                    "'HTTP_DOLAPIKEY' nor 'Authentication: Bearer' found"))
        self.assertIn("debug", reply.json())

    def test_key_locations(self) -> None:
        tp = self.create()
        self.assertEqual(self.get("/thirdparties/%d" % tp).status, 200)
        self.assertEqual(self.get("/thirdparties/%d" % tp, {"Authorization": "Bearer dolibarr-test-key"}).status, 200)
        self.assertEqual(self.get("/thirdparties/%d?DOLAPIKEY=dolibarr-test-key" % tp, {}).status, 200)
        self.assertEqual(self.get("/thirdparties/%d?api_key=dolibarr-test-key" % tp, {}).status, 200)

    def test_unknown_or_disabled_key_is_401_after_delay(self) -> None:
        self.configure(bad_key_delay_ms=150)
        for key in ("wrong", "disabled-key"):
            started = time.monotonic()
            reply = self.get("/thirdparties", {"DOLAPIKEY": key})
            self.assertGreaterEqual(time.monotonic() - started, 0.14)
            self.assertEqual(reply.status, 401)
            self.assertIn("Error user not valid", reply.json()["error"]["message"])

    def test_dolcrypt_key_is_503_plain_text(self) -> None:
        reply = self.get("/thirdparties", {"DOLAPIKEY": "dolcrypt:AES-256:abc"})
        self.assertEqual(reply.status, 503)
        self.assertTrue(reply.header("Content-Type").startswith("text/plain"))

    def test_missing_rights_is_403_or_401_legacy(self) -> None:
        reply = self.post({"name": "x"}, RO_KEY)
        self.assertEqual(reply.status, 403)
        self.assertEqual(reply.json()["error"]["message"], "Forbidden")
        self.assertEqual(self.list(limit=1).status, 404)  # read-only may read
        self.configure(rights_error_status=401)
        self.assertEqual(self.post({"name": "x"}, RO_KEY).status, 401)

    def test_production_mode_omits_debug(self) -> None:
        self.configure(production_mode=True)
        reply = self.get("/thirdparties/99")
        self.assertEqual(reply.json(), {"error": {"code": 404, "message": "Not Found: Thirdparty not found"}})

    def test_entity_header(self) -> None:
        tp = self.call("POST", API + "/thirdparties", {"name": "E"}, {"DOLAPIKEY": "dolibarr-test-key",
                                                                     "DOLAPIENTITY": "2"}).json()
        self.assertEqual(self.get("/thirdparties/%d" % tp).json()["entity"], "2")

    # ---- create / read ----
    def test_post_answers_200_with_bare_id(self) -> None:
        reply = self.post({"name": "Ada", "email": "ada@example.com", "caller": "scimd"})
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.body, b"1")
        self.assertEqual(reply.json(), 1)
        self.assertEqual(self.post({"name": "Bob"}).json(), 2)

    def test_created_object_shape(self) -> None:
        tp = self.create(email="ada@example.com", phone="+44 20.7946 0000", ref_ext="scim-1",
                         array_options={"options_department": "Engineering", "not_an_option": 1},
                         name_alias="<b>Countess</b>", unknown_field="x", client=0, fournisseur=0, status=1)
        obj = self.get("/thirdparties/%d" % tp).json()
        self.assertEqual(obj["id"], str(tp))
        self.assertEqual(obj["name"], "Ada Lovelace")
        self.assertEqual(obj["status"], "1")
        self.assertEqual(obj["client"], "0")
        self.assertEqual(obj["fournisseur"], "0")
        self.assertEqual(obj["entity"], "1")
        self.assertEqual(obj["phone"], "+442079460000")
        self.assertEqual(obj["name_alias"], "Countess")
        self.assertEqual(obj["ref_ext"], "scim-1")
        self.assertEqual(obj["array_options"], {"options_department": "Engineering"})
        self.assertNotIn("unknown_field", obj)
        self.assertNotIn("caller", obj)
        self.assertIsInstance(obj["date_creation"], int)
        self.assertEqual(self.state()["records"]["thirdparties"][0]["last_caller"], "scimd")

    def test_defaults_and_numeric_switch(self) -> None:
        tp = self.create()
        obj = self.get("/thirdparties/%d" % tp).json()
        self.assertEqual((obj["status"], obj["client"], obj["fournisseur"]), ("1", "0", "0"))
        self.assertEqual(obj["array_options"], {"options_department": None})  # defined, unset
        self.assertEqual(obj["prospect"], 0)  # computed in PHP: a number (capture)
        self.configure(department_extrafield=False)
        obj = self.get("/thirdparties/%d" % tp).json()
        self.assertEqual(obj["array_options"], [])  # no extra field defined: PHP empty array
        self.configure(numeric_as_strings=False)
        obj = self.get("/thirdparties/%d" % tp).json()
        self.assertEqual((obj["id"], obj["status"]), (tp, 1))

    def test_create_validation(self) -> None:
        reply = self.post({"email": "x@example.com"})
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json()["error"]["message"], "Bad Request: name field missing")
        reply = self.post({"name": "   "})
        self.assertEqual(reply.status, 500)
        self.assertEqual(reply.json()["error"]["message"], "Internal Server Error: Error creating thirdparty")
        self.assertEqual(reply.json()["error"]["0"], "ErrorBadThirdPartyName")
        self.configure(email_mandatory=True)
        self.assertEqual(self.post({"name": "x"}).json()["error"]["message"], "Bad Request: email field missing")
        reply = self.call("POST", API + "/thirdparties", raw="{nope", headers=dict(KEY, **{"Content-Type": "application/json"}))
        self.assertEqual(reply.json()["error"]["message"], "Bad Request: Error encoding/decoding JSON: Syntax error")

    def test_duplicate_customer_code_is_500_with_numeric_detail(self) -> None:
        self.create(code_client="C1")
        reply = self.post({"name": "Other", "code_client": "C1"})
        self.assertEqual(reply.status, 500)
        self.assertEqual(reply.json()["error"], {"code": 500, "message": "Internal Server Error: Error creating thirdparty",
                                                 "0": "ErrorCustomerCodeAlreadyUsed"})
        auto = self.create(code_client="auto")
        self.assertRegex(self.get("/thirdparties/%d" % auto).json()["code_client"], r"^CU\d{4}-\d{5}$")

    def test_get_errors(self) -> None:
        reply = self.get("/thirdparties/77")
        self.assertEqual(reply.status, 404)
        self.assertEqual(reply.json()["error"]["message"], "Not Found: Thirdparty not found")
        reply = self.get("/thirdparties/abc")
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json()["error"]["message"], "Bad Request: invalid value specified for `id`")

    def test_get_by_email(self) -> None:
        tp = self.create(email="Ada@Example.com")
        self.assertEqual(self.get("/thirdparties/email/ada%40example.com").json()["id"], str(tp))
        self.assertEqual(self.get("/thirdparties/email/ada@example.com").json()["id"], str(tp))
        self.assertEqual(self.get("/thirdparties/email/none@example.com").status, 404)
        self.create(name="Twin", email="ada@example.com")
        twin = self.get("/thirdparties/email/ada@example.com")
        self.assertEqual(twin.status, 200)  # Societe::fetch -> -2, not treated as "not found"
        self.assertIsNone(twin.json()["id"])

    def test_get_by_barcode(self) -> None:
        tp = self.create(barcode="123456")
        self.assertEqual(self.get("/thirdparties/barcode/123456").json()["id"], str(tp))
        self.assertEqual(self.get("/thirdparties/barcode/999").status, 404)

    # ---- update / delete ----
    def test_put_partial_update_returns_whole_object(self) -> None:
        self.configure(extrafields_strict=False)  # any options_* key is kept and echoed
        tp = self.create(email="ada@example.com", array_options={"options_department": "Eng", "options_x": "1"})
        reply = self.call("PUT", API + "/thirdparties/%d" % tp,
                          {"status": 0, "caller": "scimd", "array_options": {"options_department": "Sales"}}, KEY)
        self.assertEqual(reply.status, 200)
        obj = reply.json()
        self.assertEqual(obj["status"], "0")
        self.assertEqual(obj["email"], "ada@example.com")
        self.assertEqual(obj["name"], "Ada Lovelace")
        self.assertEqual(obj["array_options"], {"options_department": "Sales", "options_x": "1"})
        self.configure(array_options_merge=False)
        obj = self.call("PUT", API + "/thirdparties/%d" % tp, {"array_options": {"options_y": "2"}}, KEY).json()
        self.assertEqual(obj["array_options"], {"options_y": "2"})

    def test_put_errors(self) -> None:
        self.assertEqual(self.call("PUT", API + "/thirdparties/9", {"status": 0}, KEY).status, 404)
        self.create(code_client="C1")
        other = self.create(name="B")
        reply = self.call("PUT", API + "/thirdparties/%d" % other, {"code_client": "C1"}, KEY)
        self.assertEqual(reply.status, 500)
        self.assertEqual(reply.json()["error"]["message"], "Internal Server Error: ErrorCustomerCodeAlreadyUsed")
        self.assertIsNone(self.get("/thirdparties/%d" % other).json()["code_client"])  # nothing changed

    def test_delete(self) -> None:
        tp = self.create()
        self.call("POST", API + "/thirdparties/%d/accounts" % tp, {"site": "scim", "key_account": "u1"}, KEY)
        reply = self.call("DELETE", API + "/thirdparties/%d" % tp, headers=KEY)
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json(), {"success": {"code": 200, "message": "Object deleted"}})
        self.assertEqual(self.get("/thirdparties/%d" % tp).status, 404)
        self.assertEqual(self.state()["records"]["accounts"], [])
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d" % tp, headers=KEY).status, 404)

    def test_delete_variants(self) -> None:
        first, second = self.create(), self.create(name="B")
        self.configure(undeletable_ids=[first], legacy_delete_response=True)
        reply = self.call("DELETE", API + "/thirdparties/%d" % first, headers=KEY)
        self.assertEqual(reply.status, 409)
        self.assertEqual(reply.json()["error"]["message"], "Conflict: Can't delete, that product is probably used")
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d" % second, headers=KEY).json(), 1)
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d" % second, headers=KEY).status, 404)
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d" % first, headers=RO_KEY).status, 403)

    def test_merge_and_representatives(self) -> None:
        keep = self.create(email=None, note_public="a")
        gone = self.create(name="Dup", email="dup@example.com", note_public="b",
                           array_options={"options_department": "Ops"})
        self.call("POST", API + "/thirdparties/%d/accounts" % gone, {"site": "scim", "key_account": "u9"}, KEY)
        self.assertEqual(self.call("PUT", API + "/thirdparties/%d/merge/%d" % (keep, keep), headers=KEY).status, 400)
        merged = self.call("PUT", API + "/thirdparties/%d/merge/%d" % (keep, gone), headers=KEY).json()
        self.assertEqual(merged["email"], "dup@example.com")
        self.assertEqual(merged["note_public"], "a\nb")
        self.assertEqual(merged["array_options"], {"options_department": "Ops"})
        self.assertEqual(self.get("/thirdparties/%d" % gone).status, 404)
        self.assertEqual(self.get("/thirdparties/accounts/scim/u9").json()["id"], str(keep))
        self.assertEqual(self.call("POST", API + "/thirdparties/%d/representative/5" % keep, headers=KEY).json(), 1)
        self.assertEqual(self.state()["records"]["thirdparties"][0]["representatives"], [5])
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d/representative/5" % keep, headers=KEY).json(), 1)

    # ---- list ----
    def test_empty_list_is_404(self) -> None:
        reply = self.list()
        self.assertEqual(reply.status, 404)
        self.assertEqual(reply.json()["error"]["message"], "Not Found: No third parties found")

    def test_sqlfilters(self) -> None:
        self.configure(extrafields_strict=False)
        a = self.create(name="Acme", email="Sales@Acme.com", ref_ext="scim-a",
                        array_options={"options_department": "Sales", "options_scim_id": "scim-a"})
        b = self.create(name="Bolt", email="b@bolt.io", ref_ext="scim-b", status=0)
        found = self.list(sqlfilters="(t.ref_ext:=:'scim-a')", limit=1).json()
        self.assertEqual([x["id"] for x in found], [str(a)])
        self.assertEqual([x["id"] for x in self.list(sqlfilters="(t.email:=:'sales@acme.com')").json()], [str(a)])
        self.assertEqual([x["id"] for x in self.list(sqlfilters="(ef.scim_id:=:'scim-a')").json()], [str(a)])
        self.assertEqual([x["id"] for x in self.list(sqlfilters="(ef.department:like:'Sal%')").json()], [str(a)])
        both = self.list(sqlfilters="((t.nom:like:'Bo%') or (t.name_alias:like:'x%')) or (t.status:=:1)").json()
        self.assertEqual(sorted(x["id"] for x in both), sorted([str(a), str(b)]))
        self.assertEqual(self.list(sqlfilters="(t.ref_ext:=:'nope')").status, 404)

    def test_ref_ext_or_email_lookup(self) -> None:
        """The adapter's one look-up ``(t.ref_ext:=:'id') or (t.email:=:'mail')`` (served from the
        indexes) answers what the same filter answers over every row: the union, ascending id,
        without case, ``limit`` applied after, 404 when nothing matches."""
        a = self.create(name="A", email="ada@example.com")
        b = self.create(name="B", email="bob@example.com", ref_ext="scim-ada")
        c = self.create(name="C", email="ADA@example.com", ref_ext="scim-other")
        self.create(name="D", email="dan@example.com", ref_ext="scim-dan")
        indexed = "(t.ref_ext:=:'SCIM-ADA') or (t.email:=:'ada@example.com')"
        scanned = "(t.ref_ext:=:'SCIM-ADA') or (t.email:=:'ada@example.com') or (t.nom:=:'nobody')"
        for text in (indexed, scanned, indexed.replace(" or ", " OR ")):
            self.assertEqual([x["id"] for x in self.list(sqlfilters=text, sortfield="t.rowid").json()],
                             [str(a), str(b), str(c)], text)
            self.assertEqual([x["id"] for x in self.list(sqlfilters=text, limit=2).json()], [str(a), str(b)])
        self.assertEqual(self.list(sqlfilters="(t.ref_ext:=:'x') or (t.email:=:'y@example.com')").status, 404)

    def test_bad_filters(self) -> None:
        self.create()
        reply = self.list(sqlfilters="(t.nom:xor:'a')")
        self.assertEqual(reply.status, 400)
        self.assertTrue(reply.json()["error"]["message"].startswith(
            "Bad Request: Error when validating parameter sqlfilters -> "))
        self.assertEqual(self.list(sqlfilters="(t.nom:=:'a') and").status, 400)
        self.assertEqual(self.list(sqlfilters="t.nom = 'a'").status, 400)
        reply = self.list(sqlfilters="(t.nosuch:=:'a')")
        self.assertEqual(reply.status, 503)
        self.assertIn("Unknown column", reply.json()["error"]["message"])
        self.assertEqual(self.list(sortfield="t.nosuch").status, 503)
        self.assertEqual(self.list(limit="ten").status, 400)
        self.configure(bad_filter_status=503)
        self.assertEqual(self.list(sqlfilters="(t.nom:xor:'a')").status, 503)

    def test_paging_sorting_mode_properties(self) -> None:
        ids = [self.create(name="N%d" % i, client=i % 4, fournisseur=1 if i == 3 else 0) for i in range(5)]
        page0 = self.list(limit=2, page=0).json()
        page2 = self.list(limit=2, page=2).json()
        self.assertEqual([x["id"] for x in page0], [str(ids[0]), str(ids[1])])
        self.assertEqual([x["id"] for x in page2], [str(ids[4])])  # fewer than limit: last page
        self.assertEqual(self.list(limit=2, page=3).status, 404)
        self.assertEqual(len(self.list(limit=0).json()), 5)
        desc = self.list(sortfield="t.nom", sortorder="DESC").json()
        self.assertEqual([x["name"] for x in desc], ["N4", "N3", "N2", "N1", "N0"])
        self.assertEqual(sorted(x["name"] for x in self.list(mode=1).json()), ["N1", "N3"])
        self.assertEqual(sorted(x["name"] for x in self.list(mode=2).json()), ["N2", "N3"])
        self.assertEqual(sorted(x["name"] for x in self.list(mode=3).json()), ["N0", "N4"])
        self.assertEqual([x["name"] for x in self.list(mode=4).json()], ["N3"])
        self.assertEqual(self.list(properties="id,name", limit=1).json(), [{"id": str(ids[0]), "name": "N0"}])
        wrapped = self.list(limit=2, page=1, pagination_data="true").json()
        self.assertEqual(wrapped["pagination"], {"total": 5, "page": 1, "page_count": 3, "limit": 2})
        self.assertEqual(len(wrapped["data"]), 2)
        self.assertEqual(self.list(category=3).status, 404)

    # ---- accounts ----
    def test_accounts(self) -> None:
        tp = self.create()
        reply = self.call("POST", API + "/thirdparties/%d/accounts" % tp, {"site": "scim", "key_account": "2819c223"}, KEY)
        self.assertEqual(reply.status, 200)
        account = reply.json()
        self.assertEqual((account["fk_soc"], account["site"], account["key_account"]), (tp, "scim", "2819c223"))
        dup = self.call("POST", API + "/thirdparties/%d/accounts" % tp, {"site": "scim", "key_account": "x"}, KEY)
        self.assertEqual(dup.status, 409)
        self.assertIn("already exists", dup.json()["error"]["message"])
        no_site = self.call("POST", API + "/thirdparties/%d/accounts" % tp, {"key_account": "x"}, KEY)
        self.assertEqual(no_site.status, 422)
        self.assertEqual(self.call("POST", API + "/thirdparties/99/accounts", {"site": "scim"}, KEY).status, 500)
        listed = self.get("/thirdparties/%d/accounts?site=scim" % tp).json()
        self.assertEqual([(a["site"], a["key_account"], a["fk_soc"]) for a in listed], [("scim", "2819c223", tp)])
        self.assertEqual(set(listed[0]), {"id", "fk_soc", "key_account", "site", "date_creation", "tms"})
        self.assertEqual(self.get("/thirdparties/%d/accounts?site=stripe" % tp).status, 404)
        self.assertEqual(self.get("/thirdparties/accounts/scim/2819c223").json()["id"], str(tp))
        self.assertEqual(self.get("/thirdparties/accounts/scim/unknown").status, 404)
        deleted = self.call("DELETE", API + "/thirdparties/%d/accounts/scim" % tp, headers=KEY)
        self.assertEqual((deleted.status, deleted.body), (200, b""))
        self.assertEqual(self.call("DELETE", API + "/thirdparties/%d/accounts/scim" % tp, headers=KEY).status, 404)
        self.assertEqual(self.get("/thirdparties/%d/accounts" % tp).status, 404)

    def test_account_lookup_is_404_when_ambiguous(self) -> None:
        a, b = self.create(), self.create(name="B")
        for tp in (a, b):
            self.call("POST", API + "/thirdparties/%d/accounts" % tp, {"site": "scim", "key_account": "same"}, KEY)
        self.assertEqual(self.get("/thirdparties/accounts/scim/same").status, 404)

    # ---- extra fields ----
    def test_extrafields_setup(self) -> None:
        self.configure(department_extrafield=False)
        self.assertEqual(self.get("/setup/extrafields").status, 404)
        path = API + "/setup/extrafields/thirdparty/department"
        body = {"label": "Department", "type": "varchar", "size": "255", "pos": 100, "unique": 0, "required": 0,
                "list": "1", "alwayseditable": 1}
        self.assertEqual(self.call("POST", path, body, RO_KEY).status, 403)
        created = self.call("POST", path, body, KEY)
        self.assertEqual((created.status, created.json()), (200, 2))  # id 1 went with the switch
        self.assertEqual(self.call("POST", path, body, KEY).status, 409)
        self.assertEqual(self.call("POST", API + "/setup/extrafields/societe/x", {"type": "int"}, KEY).status, 400)
        field = self.get("/setup/extrafields/societe/department").json()["societe"]["department"]
        self.assertEqual((field["label"], field["pos"], field["unique"]), ("Department", "100", "0"))
        self.assertIn("department", self.get("/setup/extrafields?elementtype=thirdparty").json()["societe"])
        self.assertEqual(self.call("PUT", path, {"label": "Dept"}, KEY).json(), 2)
        self.assertEqual(self.get("/setup/extrafields/societe/department").json()["societe"]["department"]["label"],
                         "Dept")
        # A defined field is answered (null when unset); an undefined one is dropped silently.
        tp = self.create(array_options={"options_department": "Ops", "options_other": "x"})
        self.assertEqual(self.get("/thirdparties/%d" % tp).json()["array_options"], {"options_department": "Ops"})
        self.assertEqual(self.call("DELETE", path, headers=KEY).status, 200)
        self.assertEqual(self.get("/setup/extrafields/societe/department").status, 404)

    # ---- transport-level behaviour ----
    def test_routing_errors_and_module_disabled(self) -> None:
        reply = self.get("/contacts")
        self.assertEqual(reply.status, 501)
        self.assertEqual(reply.body, b"API not found (failed to include API file)")
        self.assertEqual(self.get("/thirdparties/1/nothing").status, 404)
        self.assertEqual(self.call("PATCH", API + "/thirdparties/1", {}, KEY).status, 404)  # Restler: no 405
        self.configure(module_disabled=True)
        reply = self.get("/thirdparties/1")
        self.assertEqual(reply.status, 200)
        self.assertTrue(reply.header("Content-Type").startswith("text/html"))
        self.configure(module_disabled=False, database_down=True)
        reply = self.get("/thirdparties/1")
        self.assertEqual(reply.status, 202)
        self.assertTrue(reply.header("Content-Type").startswith("text/html"))
        self.assertIn(b"DolibarrHasDetectedError", reply.body)
        self.configure(database_down=False)
        self.assertEqual(self.get("/thirdparties/1").status, 404)

    def test_email_unique(self) -> None:
        self.create(email="uniq@example.com")
        other = self.create(name="Other", email="other@example.com")
        self.assertEqual(self.post({"name": "Twin", "email": "UNIQ@example.com"}).status, 200)  # off by default
        self.configure(email_unique=True)
        reply = self.post({"name": "Third", "email": "uniq@example.com"})
        self.assertEqual(reply.status, 500)
        self.assertEqual(reply.json()["error"], {
            "code": 500, "message": "Internal Server Error: Error creating thirdparty", "0": None,
            "1": "Email uniq@example.com is assigned to another third (Forbidden by setup rules)"})
        reply = self.call("PUT", API + "/thirdparties/%d" % other, {"email": "uniq@example.com"}, KEY)
        self.assertEqual((reply.status, reply.json()["error"]["message"]), (500, "Internal Server Error"))

    def test_synthetic_rate_limit_and_faults_use_restler_shape(self) -> None:
        self.control("rate_limit", {"per_minute": 1, "window_seconds": 30})
        self.assertEqual(self.list().status, 404)
        reply = self.list()
        self.assertEqual(reply.status, 429)
        self.assertEqual(reply.json()["error"], {"code": 429, "message": "Too Many Requests"})
        self.assertIsNotNone(reply.header("Retry-After"))
        self.control("rate_limit", {"per_minute": 0})
        self.set_mode(mode="error503", count=1)
        self.assertEqual(self.list().json()["error"]["code"], 503)


# =============================================================================================
# Zoho Books
# =============================================================================================

ORG = "organization_id=10234695"


class ZohoTest(FakeCase):
    APP_CLASS = ZohoBooksFake
    SETTINGS = {"rate_limit_per_minute": 1000}

    def token(self, **override: str) -> Reply:
        params = {"refresh_token": "1000.fake-refresh-token", "client_id": "1000.FAKECLIENTID",
                  "client_secret": "fake-client-secret", "grant_type": "refresh_token"}
        params.update(override)
        return self.call("POST", "/oauth/v2/token?" + urllib.parse.urlencode(params))

    def auth(self) -> Dict[str, str]:
        return {"Authorization": "Zoho-oauthtoken " + self.token().json()["access_token"]}

    def api(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
            org: bool = True) -> Reply:
        sep = "&" if "?" in path else "?"
        return self.call(method, "/books/v3" + path + (sep + ORG if org else ""), body,
                         headers if headers is not None else self.headers)

    def setUp(self) -> None:
        super().setUp()
        self.headers = self.auth()

    def create_user(self, name: str = "Ada Lovelace", email: str = "ada@example.com", **extra: Any) -> Dict[str, Any]:
        body = {"name": name, "email": email}
        body.update(extra)
        reply = self.api("POST", "/users", body)
        self.assertEqual(reply.status, 201, reply.body)
        return reply.json()["user"]

    # ---- OAuth ----
    def test_refresh_token_flow(self) -> None:
        reply = self.token()
        self.assertEqual(reply.status, 200)
        body = reply.json()
        self.assertTrue(body["access_token"].startswith("1000."))
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3600)
        self.assertEqual(body["api_domain"], self.base)
        form = self.call("POST", "/oauth/v2/token", raw=urllib.parse.urlencode(
            {"refresh_token": "1000.fake-refresh-token", "client_id": "1000.FAKECLIENTID",
             "client_secret": "fake-client-secret", "grant_type": "refresh_token"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertIn("access_token", form.json())

    def test_refresh_failures_are_200_without_access_token(self) -> None:
        self.assertEqual((self.token(refresh_token="revoked").status, self.token(refresh_token="revoked").json()),
                         (200, {"error": "invalid_code"}))
        self.assertEqual(self.token(client_secret="bad").json(), {"error": "invalid_client"})
        self.assertEqual(self.token(grant_type="password").json(), {"error": "unsupported_grant_type"})
        self.configure(token_error_status=400)
        self.assertEqual(self.token(refresh_token="revoked").status, 400)

    def test_mint_limit_blocks_for_the_rest_of_the_window(self) -> None:
        self.configure(mint_limit=3, mint_window_seconds=0.5)
        # one token was minted in setUp
        self.assertEqual(self.token().status, 200)
        self.assertEqual(self.token().status, 200)
        blocked = self.token()
        self.assertEqual(blocked.status, 400)
        self.assertEqual(blocked.json()["error"], "Access Denied")
        self.assertNotIn("access_token", blocked.json())
        time.sleep(0.55)
        self.assertEqual(self.token().status, 200)

    def test_live_token_cap_evicts_oldest(self) -> None:
        self.configure(max_live_tokens=2)
        second = {"Authorization": "Zoho-oauthtoken " + self.token().json()["access_token"]}
        self.token()
        self.assertEqual(self.api("GET", "/users", headers=self.headers).status, 401)  # the first is gone
        self.assertEqual(self.api("GET", "/users", headers=second).status, 200)

    def test_api_auth(self) -> None:
        for headers in ({}, {"Authorization": "Bearer " + self.headers["Authorization"].split()[1]},
                        {"Authorization": "Zoho-oauthtoken 1000.nope"}):
            reply = self.api("GET", "/users", headers=headers)
            self.assertEqual(reply.status, 401)
            self.assertEqual(reply.json()["code"], 57)
        self.assertEqual(self.api("GET", "/users").status, 200)

    def test_token_expiry_forces_refresh(self) -> None:
        self.configure(access_token_lifetime_seconds=0.3)
        headers = self.auth()
        self.assertEqual(self.token().json()["expires_in"], 1)
        self.assertEqual(self.api("GET", "/users", headers=headers).status, 200)
        time.sleep(0.35)
        self.assertEqual(self.api("GET", "/users", headers=headers).status, 401)
        self.assertEqual(self.api("GET", "/users", headers=self.auth()).status, 200)

    def test_expire_tokens_control(self) -> None:
        self.assertEqual(self.control("expire_tokens").json()["expired"], 1)
        self.assertEqual(self.api("GET", "/users").status, 401)
        state = self.state()["records"]["access_tokens"]
        self.assertTrue(state[0]["expired"])

    def test_organization_id_required(self) -> None:
        reply = self.api("GET", "/users", org=False)
        self.assertEqual(reply.status, 400)
        self.assertNotEqual(reply.json()["code"], 0)
        self.assertEqual(self.call("GET", "/books/v3/users?organization_id=1", headers=self.headers).status, 400)
        orgs = self.api("GET", "/organizations", org=False).json()
        self.assertEqual(orgs["organizations"][0]["organization_id"], "10234695")

    # ---- users ----
    def test_create_user(self) -> None:
        reply = self.api("POST", "/users", {"name": "Ada Lovelace", "email": "ada@example.com",
                                            "role_id": "982000000006005"})
        self.assertEqual(reply.status, 201)
        body = reply.json()
        self.assertEqual((body["code"], body["message"]), (0, "Your invitation has been sent."))
        self.assertEqual(body["user"]["status"], "invited")
        self.assertEqual(body["user"]["user_role"], "staff")
        self.assertRegex(body["user"]["user_id"], r"^\d{15}$")
        self.configure(create_status=200, echo_user_on_create=False)
        reply = self.api("POST", "/users", {"name": "B", "email": "b@example.com"})
        self.assertEqual((reply.status, reply.json()), (200, {"code": 0, "message": "Your invitation has been sent."}))

    def test_create_user_errors(self) -> None:
        self.create_user()
        for body in ({"email": "x@example.com"}, {"name": "X"}, {"name": "X", "email": "x@example.com", "role_id": "1"}):
            reply = self.api("POST", "/users", body)
            self.assertEqual(reply.status, 400, body)
            self.assertNotEqual(reply.json()["code"], 0)
        dup = self.api("POST", "/users", {"name": "Ada 2", "email": "ADA@example.com"})
        self.assertEqual((dup.status, dup.json()["code"]), (400, 1001))
        bad = self.call("POST", "/books/v3/users?" + ORG, raw="{", headers=dict(self.headers, **{"Content-Type": "application/json"}))
        self.assertEqual((bad.status, bad.json()["code"]), (400, 4))

    def test_jsonstring_form_body(self) -> None:
        raw = urllib.parse.urlencode({"JSONString": json.dumps({"name": "Form", "email": "form@example.com"})})
        reply = self.call("POST", "/books/v3/users?" + ORG, raw=raw,
                          headers=dict(self.headers, **{"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual(reply.json()["user"]["email"], "form@example.com")

    def test_get_user_and_me(self) -> None:
        user = self.create_user()
        single = self.api("GET", "/users/" + user["user_id"]).json()
        self.assertEqual((single["code"], single["message"]), (0, "success"))
        self.assertEqual(single["user"]["email_ids"], [{"email": "ada@example.com", "is_selected": True}])
        missing = self.api("GET", "/users/999")
        self.assertEqual((missing.status, missing.json()), (404, {"code": 1002, "message": "User does not exist."}))
        self.configure(not_found_status=400)
        self.assertEqual(self.api("GET", "/users/999").status, 400)
        me = self.api("GET", "/users/me").json()["user"]
        self.assertTrue(me["is_current_user"])
        self.assertEqual(me["email"], "owner@example.com")

    def test_list_users_pagination_filter_sort(self) -> None:
        for i in range(4):
            self.create_user("User %d" % i, "u%d@example.com" % i)
        page1 = self.api("GET", "/users?page=1&per_page=2").json()
        self.assertEqual(len(page1["users"]), 2)
        self.assertTrue(page1["page_context"]["has_more_page"])
        self.assertEqual(page1["page_context"]["page"], 1)
        page3 = self.api("GET", "/users?page=3&per_page=2").json()
        self.assertEqual(len(page3["users"]), 1)  # owner + 4 users
        self.assertFalse(page3["page_context"]["has_more_page"])
        self.assertNotIn("email_ids", page1["users"][0])
        invited = self.api("GET", "/users?filter_by=Status.Invited").json()["users"]
        self.assertEqual(len(invited), 4)
        active = self.api("GET", "/users?filter_by=Status.Active").json()["users"]
        self.assertEqual([u["email"] for u in active], ["owner@example.com"])
        desc = self.api("GET", "/users?sort_column=email&sort_order=D").json()
        self.assertEqual(desc["users"][0]["email"], "u3@example.com")
        self.assertEqual(desc["page_context"]["per_page"], 200)
        self.assertEqual(self.api("GET", "/users?filter_by=Status.Bogus").status, 400)
        self.assertEqual(self.api("GET", "/users?page=0").status, 400)

    def test_update_user(self) -> None:
        user = self.create_user()
        path = "/users/" + user["user_id"]
        self.assertEqual(self.api("PUT", path, {"name": "Only Name"}).status, 400)  # email required too
        reply = self.api("PUT", path, {"name": "Ada King", "email": "ada@example.com", "role_id": "982000000006001"})
        self.assertEqual(reply.json(), {"code": 0, "message": "The user information has been updated."})
        got = self.api("GET", path).json()["user"]
        self.assertEqual((got["name"], got["user_role"]), ("Ada King", "admin"))
        self.configure(echo_user_on_update=True)
        self.assertIn("user", self.api("PUT", path, {"name": "A", "email": "ada@example.com"}).json())
        self.create_user("Other", "other@example.com")
        self.assertEqual(self.api("PUT", path, {"name": "A", "email": "other@example.com"}).json()["code"], 1001)
        self.assertEqual(self.api("PUT", "/users/1", {"name": "A", "email": "z@example.com"}).json()["code"], 1002)

    def test_delete_user(self) -> None:
        user = self.create_user()
        path = "/users/" + user["user_id"]
        reply = self.api("DELETE", path)
        self.assertEqual(reply.json(), {"code": 0, "message": "The user has been removed from your organization."})
        self.assertEqual(self.api("GET", path).status, 404)
        self.assertEqual(self.api("DELETE", path).json()["code"], 1002)
        all_users = [u["email"] for u in self.api("GET", "/users").json()["users"]]
        self.assertNotIn("ada@example.com", all_users)
        deleted = self.api("GET", "/users?filter_by=Status.Deleted").json()["users"]
        self.assertEqual([u["status"] for u in deleted], ["deleted"])
        self.create_user()  # the address is free again

    def test_active_inactive_and_invitations(self) -> None:
        user = self.create_user()
        path = "/users/" + user["user_id"]
        refused = self.api("POST", path + "/inactive")
        self.assertEqual(refused.status, 400)
        self.assertNotEqual(refused.json()["code"], 0)
        self.assertEqual(self.api("POST", path + "/invite").json(),
                         {"code": 0, "message": "Your invitation has been sent."})
        self.assertEqual(self.control("accept_invitation", {"email": "ADA@example.com"}).status, 200)
        self.assertEqual(self.api("POST", path + "/inactive").json(),
                         {"code": 0, "message": "The user has been marked as inactive."})
        self.assertEqual(self.api("GET", path).json()["user"]["status"], "inactive")
        self.assertEqual(self.api("POST", path + "/active").json(),
                         {"code": 0, "message": "The user has been marked as active."})
        self.assertEqual(self.api("POST", path + "/invite").status, 400)
        self.assertEqual(self.api("POST", "/users/123/active").json()["code"], 1002)
        self.assertEqual(self.control("accept_invitation", {"user_id": "nobody"}).status, 404)
        self.configure(invited_toggle="allow")
        other = self.create_user("B", "b@example.com")
        self.assertEqual(self.api("POST", "/users/%s/inactive" % other["user_id"]).json()["code"], 0)
        self.configure(auto_accept_invites=True)
        self.assertEqual(self.create_user("C", "c@example.com")["status"], "active")

    def test_roles(self) -> None:
        roles = self.api("GET", "/settings/roles").json()["roles"]
        self.assertIn("982000000006005", [r["role_id"] for r in roles])

    # ---- contacts ----
    def test_contact_owner_assignment(self) -> None:
        user = self.create_user()
        created = self.api("POST", "/contacts", {"contact_name": "Acme Ltd"})
        self.assertEqual(created.status, 201)
        contact_id = created.json()["contact"]["contact_id"]
        path = "/contacts/" + contact_id
        reply = self.api("PUT", path, {"owner_id": user["user_id"]})
        self.assertEqual(reply.json()["code"], 0)
        self.assertEqual(self.api("GET", path).json()["contact"]["owner_id"], user["user_id"])
        self.assertEqual(self.api("PUT", path, {"owner_id": "999"}).json()["code"], 2)
        self.assertEqual(self.api("PUT", path, {"owner_id": ""}).json()["contact"]["owner_id"], "")
        self.assertEqual(self.api("POST", path + "/inactive").json()["message"], "The contact has been marked as inactive.")
        self.assertEqual(self.api("POST", path + "/active").json()["message"], "The contact has been marked as active.")
        self.assertEqual(len(self.api("GET", "/contacts").json()["contacts"]), 1)
        self.assertEqual(self.api("POST", "/contacts", {}).status, 400)
        self.assertEqual(self.api("DELETE", path).json()["code"], 0)
        self.assertEqual(self.api("GET", path).json()["code"], 1002)

    def test_refuse_delete_owner(self) -> None:
        self.configure(refuse_delete_owner=True)
        user = self.create_user()
        self.api("POST", "/contacts", {"contact_name": "Acme", "owner_id": user["user_id"]})
        self.assertEqual(self.api("DELETE", "/users/" + user["user_id"]).status, 400)

    # ---- limits and envelopes ----
    def test_per_minute_rate_limit_has_no_retry_after(self) -> None:
        self.control("rate_limit", {"per_minute": 3, "window_seconds": 0.5})
        for _ in range(3):
            self.assertEqual(self.api("GET", "/users").status, 200)
        limited = self.api("GET", "/users")
        self.assertEqual(limited.status, 429)
        self.assertIsNone(limited.header("Retry-After"))
        self.assertNotEqual(limited.json()["code"], 0)
        self.assertEqual(self.token().status, 200)  # the token endpoint is not counted
        time.sleep(0.55)
        self.assertEqual(self.api("GET", "/users").status, 200)

    def test_daily_limit(self) -> None:
        self.configure(daily_limit=2)
        self.api("GET", "/users")
        self.api("GET", "/users")
        self.assertEqual(self.api("GET", "/users").status, 429)

    def test_injected_faults_use_the_envelope(self) -> None:
        self.set_mode(mode="ratelimit", count=1)
        self.assertIsNone(self.api("GET", "/users").header("Retry-After"))
        self.set_mode(mode="ratelimit", count=1, retry_after=5)
        self.assertEqual(self.api("GET", "/users").header("Retry-After"), "5")
        self.set_mode(mode="error500", count=1)
        reply = self.api("GET", "/users")
        self.assertEqual((reply.status, reply.json()), (500, {"code": 1000, "message": "Internal error"}))

    def test_unknown_url_and_method(self) -> None:
        self.assertEqual(self.api("GET", "/nothing").json()["code"], 5)
        reply = self.api("PATCH", "/users/1", {})
        self.assertEqual(reply.status, 405)
        self.assertNotEqual(reply.json()["code"], 0)


# =============================================================================================
# CRM
# =============================================================================================

class CrmTest(FakeCase):
    APP_CLASS = CrmFake
    SETTINGS = {"tokens": ["crm-test-token", "second-token"]}

    def req(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None) -> Reply:
        hdrs = dict(CRM_AUTH)
        hdrs.update(headers or {})
        return self.call(method, path, body, hdrs)

    def user(self, email: str = "ada@example.com", **fields: Any) -> Dict[str, Any]:
        body = {"email": email}
        body.update(fields)
        reply = self.req("POST", "/users", body)
        self.assertEqual(reply.status, 201, reply.body)
        return reply.json()

    def test_auth(self) -> None:
        reply = self.call("GET", "/users/x")
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.json()["error"]["code"], "unauthorized")
        self.assertEqual(self.call("GET", "/users/x", headers={"Authorization": "Bearer wrong"}).status, 401)
        self.assertEqual(self.call("GET", "/users/x", headers={"Authorization": "Bearer second-token"}).status, 404)

    def test_create_user_defaults(self) -> None:
        created = self.user(externalIds={"scim": "s-1", "dolibarr": "42"})
        self.assertEqual(created, {"id": "crm_u_1", "email": "ada@example.com", "name": "ada@example.com",
                                   "active": True, "role": "sales", "externalIds": {"scim": "s-1", "dolibarr": "42"}})
        second = self.user("bob@example.com", name="Bob", active=False, role="manager")
        self.assertEqual((second["id"], second["name"], second["active"], second["role"]),
                         ("crm_u_2", "Bob", False, "manager"))

    def test_email_taken(self) -> None:
        first = self.user()
        reply = self.req("POST", "/users", {"email": "ADA@example.com"})
        self.assertEqual(reply.status, 409)
        self.assertEqual(reply.json()["error"]["code"], "email_taken")
        self.assertEqual(reply.json()["error"]["existing_id"], first["id"])

    def test_lookups_follow_changes(self) -> None:
        """The e-mail and externalId indexes follow PATCH and DELETE: a changed e-mail frees the
        old one, a removed id is no longer found, a deleted user holds nothing."""
        user = self.user("ada@example.com", externalIds={"scim": "s-1"})
        path = "/users/" + user["id"]
        find = lambda query: [u["id"] for u in self.req("GET", "/users?" + query).json()["data"]]
        self.req("PATCH", path, {"email": "ada.l@example.com", "externalIds": {"scim": None, "hr": "7"}})
        self.assertEqual(find("externalId.scim=s-1"), [])
        self.assertEqual(find("externalId.hr=7"), [user["id"]])
        self.assertEqual(self.req("POST", "/users", {"email": "ADA.L@example.com"}).status, 409)
        other = self.user("ada@example.com", externalIds={"hr": "7"})  # the old e-mail is free
        self.assertEqual(find("externalId.hr=7"), [user["id"], other["id"]])
        self.assertEqual(self.req("DELETE", path).status, 204)
        self.assertEqual(find("externalId.hr=7"), [other["id"]])
        self.user("ada.l@example.com")

    def test_user_validation(self) -> None:
        for body in ({"name": "x"}, {"email": "not-an-email"}, {"email": "a@x.com", "role": "boss"},
                     {"email": "a@x.com", "active": "yes"}, {"email": "a@x.com", "externalIds": {"scim": 1}}):
            reply = self.req("POST", "/users", body)
            self.assertEqual(reply.status, 422, body)
            self.assertEqual(reply.json()["error"]["code"], "validation_error")
        bad = self.call("POST", "/users", raw="{x", headers=dict(CRM_AUTH, **{"Content-Type": "application/json"}))
        self.assertEqual((bad.status, bad.json()["error"]["code"]), (400, "bad_request"))
        self.assertEqual(self.req("POST", "/users", [1]).status, 400)

    def test_get_patch_delete_user(self) -> None:
        user = self.user(externalIds={"scim": "s-1", "dolibarr": "42"})
        path = "/users/" + user["id"]
        self.assertEqual(self.req("GET", path).json(), user)
        patched = self.req("PATCH", path, {"active": False, "externalIds": {"zoho": "9820", "dolibarr": None}}).json()
        self.assertFalse(patched["active"])
        self.assertEqual(patched["externalIds"], {"scim": "s-1", "zoho": "9820"})
        self.assertEqual(patched["email"], "ada@example.com")
        self.user("bob@example.com")
        conflict = self.req("PATCH", path, {"email": "BOB@example.com"})
        self.assertEqual((conflict.status, conflict.json()["error"]["existing_id"]), (409, "crm_u_2"))
        self.assertEqual(self.req("PATCH", path, {"active": "no"}).status, 422)
        self.assertEqual(self.req("PATCH", "/users/crm_u_99", {"active": True}).status, 404)
        deleted = self.req("DELETE", path)
        self.assertEqual((deleted.status, deleted.body), (204, b""))
        self.assertEqual(self.req("GET", path).status, 404)
        self.assertEqual(self.req("DELETE", path).status, 404)

    def test_lookup_by_external_id(self) -> None:
        user = self.user(externalIds={"scim": "s-1"})
        self.assertEqual(self.req("GET", "/users?externalId.scim=s-1").json(), {"data": [user]})
        self.assertEqual(self.req("GET", "/users?externalId.scim=s-2").json(), {"data": []})
        self.assertEqual(self.req("GET", "/users?email=ada@example.com").status, 400)

    def test_idempotency_key_replays_first_response(self) -> None:
        key = {"Idempotency-Key": "evt-1"}
        first = self.req("POST", "/users", {"email": "ada@example.com"}, key)
        again = self.req("POST", "/users", {"email": "ada@example.com"}, key)
        self.assertEqual((again.status, again.json()), (first.status, first.json()))
        self.assertEqual(len(self.state()["records"]["users"]), 1)
        entry = self.last_request()
        self.assertTrue(entry["idempotent_replay"])
        self.assertNotIn("idempotency_mismatch", entry)
        other = self.req("POST", "/users", {"email": "ada@example.com"}, {"Idempotency-Key": "evt-2"})
        self.assertEqual(other.status, 409)  # a new key is a new request
        replayed_conflict = self.req("POST", "/users", {"email": "zed@example.com"}, {"Idempotency-Key": "evt-2"})
        self.assertEqual(replayed_conflict.status, 409)  # first response, even for a different body
        self.assertTrue(self.last_request()["idempotency_mismatch"])
        self.assertEqual(len(self.state()["records"]["users"]), 1)

    def test_idempotency_key_expires(self) -> None:
        self.configure(idempotency_ttl_seconds=0.2)
        self.req("POST", "/organizations", {"name": "A"}, {"Idempotency-Key": "k"})
        time.sleep(0.25)
        self.assertEqual(self.req("POST", "/organizations", {"name": "A"}, {"Idempotency-Key": "k"}).json()["id"], "crm_o_2")

    def test_organizations_and_memberships(self) -> None:
        org = self.req("POST", "/organizations", {"name": "Sales EMEA", "externalId": "g-1"})
        self.assertEqual((org.status, org.json()), (201, {"id": "crm_o_1", "name": "Sales EMEA", "externalId": "g-1"}))
        self.assertEqual(self.req("POST", "/organizations", {"externalId": "g"}).status, 422)
        self.assertEqual(self.req("PATCH", "/organizations/crm_o_1", {"name": "Sales"}).json()["name"], "Sales")
        self.assertEqual(self.req("PATCH", "/organizations/crm_o_1", {"name": ""}).status, 422)
        self.assertEqual(self.req("PATCH", "/organizations/crm_o_9", {"name": "x"}).status, 404)
        user = self.user()
        path = "/organizations/crm_o_1/memberships/" + user["id"]
        self.assertEqual(self.req("PUT", path, {"role": "admin"}).json(), {"userId": user["id"], "role": "admin"})
        self.assertEqual(self.req("PUT", path, {"role": "member"}).status, 200)
        self.assertEqual(self.req("GET", "/organizations/crm_o_1/memberships").json(),
                         {"data": [{"userId": user["id"], "role": "member"}]})
        self.assertEqual(self.req("PUT", "/organizations/crm_o_1/memberships/crm_u_9", {"role": "x"}).status, 404)
        self.assertEqual(self.req("PUT", "/organizations/crm_o_9/memberships/" + user["id"], {}).status, 404)
        self.assertEqual(self.req("DELETE", path).status, 204)
        self.assertEqual(self.req("DELETE", path).status, 404)
        self.assertEqual(self.req("PUT", path, {}).json()["role"], "member")  # default role
        self.assertEqual(self.req("DELETE", "/organizations/crm_o_1").status, 204)
        self.assertEqual(self.req("GET", "/organizations/crm_o_1/memberships").status, 404)
        self.assertEqual(self.state()["records"]["memberships"], [])
        self.assertEqual(self.req("DELETE", "/organizations/crm_o_1").status, 404)

    def test_deleting_a_user_removes_memberships(self) -> None:
        self.req("POST", "/organizations", {"name": "O"})
        user = self.user()
        self.req("PUT", "/organizations/crm_o_1/memberships/" + user["id"], {"role": "admin"})
        self.req("DELETE", "/users/" + user["id"])
        self.assertEqual(self.req("GET", "/organizations/crm_o_1/memberships").json(), {"data": []})

    def test_stores_bulk_import(self) -> None:
        stores = [{"name": "Store A", "location": "Paris", "address": "1 rue", "phone": "+33", "external_id": "g-a"},
                  {"name": "Store B", "external_id": "g-b"}]
        reply = self.req("POST", "/stores/bulk-import", {"stores": stores, "mode": "create_or_update"})
        self.assertEqual(reply.json(), {"success": True, "total_processed": 2, "created": 2, "updated": 0,
                                        "failed": 0, "errors": []})
        reply = self.req("POST", "/stores/bulk-import", {"stores": [
            {"name": "Store A2", "external_id": "g-a"}, {"name": "C", "external_id": "g-c"}], "mode": "create_or_update"})
        self.assertEqual((reply.json()["created"], reply.json()["updated"]), (1, 1))
        records = {s["external_id"]: s for s in self.state()["records"]["stores"]}
        self.assertEqual((records["g-a"]["name"], records["g-a"]["location"]), ("Store A2", "Paris"))
        self.assertTrue(records["g-a"]["id"].startswith("crm_s_"))

    def test_stores_per_store_errors(self) -> None:
        self.req("POST", "/stores/bulk-import", {"stores": [{"name": "A", "external_id": "g-a"}], "mode": "create_only"})
        reply = self.req("POST", "/stores/bulk-import", {"mode": "create_only", "stores": [
            {"name": "A again", "external_id": "g-a"}, {"name": "B", "external_id": "g-b"}, {"name": "no id"},
            {"external_id": "g-noname"}]})
        self.assertEqual(reply.status, 200)
        body = reply.json()
        self.assertEqual((body["success"], body["total_processed"], body["created"], body["failed"]), (False, 4, 1, 3))
        self.assertEqual([(e["index"], e["external_id"]) for e in body["errors"]],
                         [(0, "g-a"), (2, None), (3, "g-noname")])
        self.assertTrue(all(e["message"] for e in body["errors"]))
        upd = self.req("POST", "/stores/bulk-import", {"mode": "update_only", "stores": [
            {"name": "A2", "external_id": "g-a"}, {"name": "Z", "external_id": "g-z"}]}).json()
        self.assertEqual((upd["updated"], upd["failed"], upd["errors"][0]["external_id"]), (1, 1, "g-z"))

    def test_stores_refused_by_name_and_calls_counted(self) -> None:
        self.configure(reject_store_names=["Bad"])
        reply = self.req("POST", "/stores/bulk-import", {"mode": "create_or_update", "stores": [
            {"name": "Good", "external_id": "g-1"}, {"name": "Bad", "external_id": "g-2"}]}).json()
        self.assertEqual((reply["created"], reply["failed"]), (1, 1))
        self.assertEqual((reply["errors"][0]["index"], reply["errors"][0]["external_id"]), (1, "g-2"))
        self.assertIn("reject_store_names", reply["errors"][0]["message"])
        self.req("POST", "/stores/bulk-import", {"mode": "create_or_update", "stores": [
            {"name": "Other", "external_id": "g-3"}]})
        self.req("GET", "/users/nobody")
        self.call("GET", "/users/nobody")  # refused before routing (401): not counted
        records = self.state()["records"]
        self.assertEqual(records["calls"], {"bulk_import_stores": 2, "get_user": 1})
        self.assertEqual(records["bulk_import_sizes"], [2, 1])

    def test_stores_limits_and_validation(self) -> None:
        many = [{"name": "S%d" % i, "external_id": "e%d" % i} for i in range(1001)]
        reply = self.req("POST", "/stores/bulk-import", {"stores": many, "mode": "create_or_update"})
        self.assertEqual((reply.status, reply.json()["error"]["code"]), (413, "payload_too_large"))
        self.assertEqual(self.state()["records"]["stores"], [])
        ok = self.req("POST", "/stores/bulk-import", {"stores": many[:1000], "mode": "create_or_update"})
        self.assertEqual(ok.json()["created"], 1000)
        self.assertEqual(self.req("POST", "/stores/bulk-import", {"stores": [], "mode": "upsert"}).status, 422)
        self.assertEqual(self.req("POST", "/stores/bulk-import", {"mode": "create_only"}).status, 422)
        self.assertEqual(self.req("DELETE", "/stores/e1").status, 204)
        self.assertEqual(self.req("DELETE", "/stores/e1").status, 404)

    def test_rate_limit_per_token_with_retry_after(self) -> None:
        self.control("rate_limit", {"per_minute": 2, "window_seconds": 5})
        self.req("GET", "/users/x")
        self.req("GET", "/users/x")
        limited = self.req("GET", "/users/x")
        self.assertEqual(limited.status, 429)
        self.assertEqual(limited.json()["error"]["code"], "rate_limited")
        self.assertTrue(1 <= int(limited.header("Retry-After")) <= 5)
        other = self.call("GET", "/users/x", headers={"Authorization": "Bearer second-token"})
        self.assertEqual(other.status, 404)

    def test_unknown_route_and_method(self) -> None:
        self.assertEqual(self.req("GET", "/nothing").json()["error"]["code"], "not_found")
        reply = self.req("GET", "/organizations/crm_o_1")
        self.assertEqual(reply.status, 405)
        self.assertIn("PATCH", reply.header("Allow"))


# =============================================================================================
# Clerk
# =============================================================================================

CLERK_AUTH = {"Authorization": "Bearer sk_test_clerk-fake-secret"}


class ClerkTest(FakeCase):
    APP_CLASS = ClerkFake

    def req(self, method: str, path: str, body: Any = None) -> Reply:
        return self.call(method, "/v1" + path, body, dict(CLERK_AUTH))

    def user(self, external_id: str = "s-1", email: str = "ada@example.com") -> Dict[str, Any]:
        reply = self.req("POST", "/users", {"external_id": external_id, "email_address": [email],
                                            "first_name": "Ada", "skip_password_requirement": True})
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()

    def test_auth_errors(self) -> None:
        reply = self.call("GET", "/v1/users")
        self.assertEqual((reply.status, reply.json()["errors"][0]["code"]), (401, "authentication_invalid"))
        reply = self.call("GET", "/v1/users", headers={"Authorization": "Bearer sk_test_wrong"})
        self.assertEqual((reply.status, reply.json()["errors"][0]["code"]), (401, "clerk_key_invalid"))

    def test_users(self) -> None:
        ada = self.user()
        self.assertEqual(ada["email_addresses"][0]["id"], ada["primary_email_address_id"])
        self.assertEqual(self.req("GET", "/users?external_id=s-1").json()[0]["id"], ada["id"])
        self.assertEqual(self.req("GET", "/users?external_id=nobody").json(), [])
        self.assertEqual(len(self.req("GET", "/users?external_id[]=nobody").json()), 0)
        self.assertEqual(len(self.req("GET", "/users?external_idx=nobody").json()), 1)  # ignored
        taken = self.req("POST", "/users", {"external_id": "s-2", "email_address": ["ADA@example.com"]})
        self.assertEqual((taken.status, taken.json()["errors"][0]["code"]), (422, "form_identifier_exists"))
        unknown = self.req("PATCH", "/users/" + ada["id"], {"email_address": "x@example.com"})
        self.assertEqual((unknown.status, unknown.json()["errors"][0]["meta"]["param_name"]),
                         (422, "email_address"))
        self.assertEqual(self.req("PATCH", "/users/" + ada["id"], {"last_name": "L"}).json()["last_name"], "L")
        self.assertTrue(self.req("POST", "/users/%s/ban" % ada["id"]).json()["banned"])
        self.assertFalse(self.req("POST", "/users/%s/unban" % ada["id"]).json()["banned"])
        self.assertEqual(self.req("PUT", "/users/%s/email_address" % ada["id"],
                                  {"email_address": "new@example.com"}).status, 200)
        got = self.req("GET", "/users/" + ada["id"]).json()
        self.assertEqual([e["email_address"] for e in got["email_addresses"]], ["new@example.com"])
        self.assertEqual(self.req("DELETE", "/users/" + ada["id"]).json(),
                         {"object": "user", "id": ada["id"], "deleted": True})
        self.assertEqual(self.req("GET", "/users/" + ada["id"]).status, 404)

    def test_users_paging(self) -> None:
        for i in range(12):
            self.user("s-%d" % i, "u%d@example.com" % i)
        self.assertEqual(len(self.req("GET", "/users").json()), 10)  # default limit
        self.assertEqual(len(self.req("GET", "/users?limit=500&offset=10").json()), 2)
        self.assertEqual(self.req("GET", "/users?limit=501").status, 422)

    def test_organizations_and_memberships(self) -> None:
        ada = self.user()
        org = self.req("POST", "/organizations", {"name": "Lyon", "private_metadata": {"scim_id": "g-1"}}).json()
        self.assertEqual(org["private_metadata"], {"scim_id": "g-1"})
        path = "/organizations/%s/memberships" % org["id"]
        self.assertEqual(self.req("POST", path, {"user_id": ada["id"]}).status, 422)  # role required
        self.assertEqual(self.req("POST", path, {"user_id": ada["id"], "role": "org:boss"}).status, 422)
        self.assertEqual(self.req("POST", path, {"user_id": ada["id"], "role": "org:member"}).status, 200)
        again = self.req("POST", path, {"user_id": ada["id"], "role": "org:member"})
        self.assertEqual((again.status, again.json()["errors"][0]["code"]), (400, "already_a_member_in_organization"))
        listed = self.req("GET", path + "?user_id=" + ada["id"]).json()
        self.assertEqual((listed["total_count"], listed["data"][0]["public_user_data"]["user_id"]), (1, ada["id"]))
        self.assertEqual(self.req("PATCH", path + "/" + ada["id"], {"role": "org:admin"}).json()["role"], "org:admin")
        self.assertEqual(self.req("GET", "/organizations?user_id=" + ada["id"]).json()["data"][0]["id"], org["id"])
        self.assertEqual(self.req("GET", "/organizations?query=lyo").json()["total_count"], 1)
        self.assertEqual(self.req("DELETE", path + "/" + ada["id"]).json()["role"], "org:admin")
        self.assertEqual(self.req("DELETE", path + "/" + ada["id"]).status, 404)
        self.assertEqual(self.req("PATCH", "/organizations/" + org["id"], {"name": "Lyon 2"}).json()["name"], "Lyon 2")
        self.assertTrue(self.req("DELETE", "/organizations/" + org["id"]).json()["deleted"])
        self.assertEqual(self.req("GET", "/organizations/" + org["id"]).status, 404)

    def test_deleting_a_user_drops_memberships(self) -> None:
        ada = self.user()
        org = self.req("POST", "/organizations", {"name": "Lyon"}).json()
        self.req("POST", "/organizations/%s/memberships" % org["id"], {"user_id": ada["id"], "role": "org:member"})
        self.req("DELETE", "/users/" + ada["id"])
        self.assertEqual(self.fake.app.records()["memberships"], [])

    def test_faults_use_clerk_errors(self) -> None:
        self.assertEqual(self.control("mode", {"mode": "ratelimit", "count": 1}).status, 200)
        reply = self.req("GET", "/users")
        self.assertEqual((reply.status, reply.header("Retry-After")), (429, "1"))
        self.assertEqual(reply.json()["errors"][0]["code"], "too_many_requests")
        self.assertEqual(self.req("GET", "/users").status, 200)



# =============================================================================================
# Webhook receiver
# =============================================================================================

SECRET = "webhook-test-secret"


def set_claims(**override: Any) -> Dict[str, Any]:
    claims = {"iss": "https://id.example.com/scim/v2", "iat": int(time.time()), "jti": "evt_01",
              "aud": ["https://crm.example.com/scim-events"], "txn": "tx_1",
              "sub_id": {"format": "scim", "uri": "/Users/2819c223", "externalId": "ada"},
              "events": {"urn:ietf:params:scim:event:prov:deactivate": {}}}
    claims.update(override)
    return claims


class WebhookTest(FakeCase):
    APP_CLASS = WebhookReceiver

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.rsa = generate_rsa_key(1024)

    def push(self, token: str, content_type: str = "application/secevent+jwt",
             headers: Optional[Dict[str, str]] = None) -> Reply:
        hdrs = {"Content-Type": content_type, "Accept": "application/json"}
        hdrs.update(headers or {})
        return self.call("POST", "/events", raw=token, headers=hdrs)

    def hs(self, claims: Optional[Dict[str, Any]] = None, secret: str = SECRET, **header: Any) -> str:
        head = {"typ": "secevent+jwt"}
        head.update(header)
        return jws_encode(claims or set_claims(), "HS256", secret, head)

    def assert_rejected(self, reply: Reply, err: str, status: int = 400) -> None:
        self.assertEqual(reply.status, status, reply.body)
        self.assertEqual(reply.json()["err"], err)
        self.assertTrue(reply.json()["description"])
        self.assertTrue(reply.header("Content-Type").startswith("application/json"))

    def test_valid_hs256_set_is_202_empty_and_recorded(self) -> None:
        reply = self.push(self.hs())
        self.assertEqual((reply.status, reply.body), (202, b""))
        event = self.state()["records"]["events"][0]
        self.assertEqual(event["format"], "set")
        self.assertEqual(event["jti"], "evt_01")
        self.assertEqual(event["event_uris"], ["urn:ietf:params:scim:event:prov:deactivate"])
        self.assertEqual(event["claims"]["sub_id"]["uri"], "/Users/2819c223")
        self.assertEqual(event["header"], {"alg": "HS256", "typ": "secevent+jwt"})
        self.assertFalse(event["duplicate"])
        self.assertEqual(event["warnings"], [])

    def test_duplicate_jti_is_accepted_and_flagged(self) -> None:
        token = self.hs()
        self.push(token)
        self.assertEqual(self.push(token).status, 202)
        self.assertEqual([e["duplicate"] for e in self.state()["records"]["events"]], [False, True])

    def test_bad_signatures(self) -> None:
        self.assert_rejected(self.push(self.hs(secret="other")), "invalid_key")
        head, payload, sig = self.hs().split(".")
        tampered = jws_encode(set_claims(jti="evil"), "HS256", SECRET, {"typ": "secevent+jwt"}).split(".")[1]
        self.assert_rejected(self.push("%s.%s.%s" % (head, tampered, sig)), "invalid_key")
        self.assert_rejected(self.push(jws_encode(set_claims(), "none", None, {"typ": "secevent+jwt"})), "invalid_key")
        self.assert_rejected(self.push(jws_encode(set_claims(), "RS256", self.rsa, {"typ": "secevent+jwt"})), "invalid_key")
        self.assertEqual(self.state()["records"]["events"], [])

    def test_rs256(self) -> None:
        self.configure(algorithm="RS256", public_key_pem=self.rsa.public_pem())
        token = jws_encode(set_claims(), "RS256", self.rsa, {"typ": "secevent+jwt", "kid": "k1"})
        self.assertEqual(self.push(token).status, 202)
        other = generate_rsa_key(1024)
        forged = jws_encode(set_claims(jti="x"), "RS256", other, {"typ": "secevent+jwt"})
        self.assert_rejected(self.push(forged), "invalid_key")
        self.assert_rejected(self.push(self.hs(set_claims(jti="y"))), "invalid_key")  # alg confusion

    def test_malformed_requests(self) -> None:
        self.assert_rejected(self.push(self.hs(), content_type="application/jwt"), "invalid_request")
        self.assert_rejected(self.push("abc.def"), "invalid_request")
        self.assert_rejected(self.push("a.b.c.d.e"), "invalid_request")
        self.assert_rejected(self.push("!!!.@@@.###"), "invalid_request")
        no_typ = jws_encode(set_claims(), "HS256", SECRET)
        self.assert_rejected(self.push(no_typ), "invalid_request")
        self.configure(require_typ=False)
        self.assertEqual(self.push(no_typ).status, 202)

    def test_claim_checks(self) -> None:
        for missing in ("iss", "iat", "jti", "events"):
            claims = set_claims()
            del claims[missing]
            self.assert_rejected(self.push(self.hs(claims)), "invalid_request")
        self.assert_rejected(self.push(self.hs(set_claims(events={}))), "invalid_request")
        self.configure(issuer="https://other.example.com", audience="https://crm.example.com/scim-events")
        self.assert_rejected(self.push(self.hs()), "invalid_issuer")
        self.configure(issuer="https://id.example.com/scim/v2", audience="https://nope.example.com")
        self.assert_rejected(self.push(self.hs()), "invalid_audience")
        self.configure(audience="https://crm.example.com/scim-events")
        self.assertEqual(self.push(self.hs()).status, 202)
        self.assertEqual(self.push(self.hs(set_claims(jti="e2", aud="https://crm.example.com/scim-events"))).status, 202)

    def test_event_payload_rules(self) -> None:
        p = "urn:ietf:params:scim:event:prov:"
        accepted = [{p + "create:full": {"data": {"userName": "ada"}}, "urn:ietf:params:scim:event:feed:add": {}},
                    {p + "create:notice": {"attributes": ["userName", "active"]}},
                    {p + "patch:full": {"version": "2", "data": {"Operations": []}}},
                    {p + "delete": {}}]
        for i, events in enumerate(accepted):
            self.assertEqual(self.push(self.hs(set_claims(jti="ok%d" % i, events=events))).status, 202, events)
        rejected = [{p + "create:full": {"attributes": ["userName"]}},
                    {p + "create:full": {"data": {}, "attributes": []}},
                    {p + "put:notice": {"data": {}}},
                    {p + "delete": "gone"},
                    {"urn:example:unknown": {}}]
        for i, events in enumerate(rejected):
            self.assert_rejected(self.push(self.hs(set_claims(jti="bad%d" % i, events=events))), "invalid_request")
        self.configure(strict_events=False)
        self.assertEqual(self.push(self.hs(set_claims(jti="lax", events={"urn:example:unknown": {}}))).status, 202)
        self.assertIn("unknown event type urn:example:unknown", self.state()["records"]["events"][-1]["warnings"])

    def test_upper_case_uri_and_sub_id_warnings(self) -> None:
        events = {"urn:ietf:params:SCIM:event:prov:activate": {}}
        self.assertEqual(self.push(self.hs(set_claims(events=events, sub_id="ada"))).status, 202)
        warnings = self.state()["records"]["events"][0]["warnings"]
        self.assertTrue(any("not lower case" in w for w in warnings))
        self.assertIn("sub_id must be an object with a format", warnings)

    def test_bearer_token_required(self) -> None:
        self.configure(bearer_token="rcv-token")
        reply = self.push(self.hs())
        self.assert_rejected(reply, "authentication_failed", 401)
        self.assertTrue(reply.header("WWW-Authenticate").startswith("Bearer"))
        self.assertEqual(self.push(self.hs(), headers={"Authorization": "Bearer rcv-token"}).status, 202)

    def test_path_and_method(self) -> None:
        self.assertEqual(self.call("GET", "/events").status, 405)
        self.assertEqual(self.call("POST", "/other", raw="x").status, 404)

    def test_standard_webhooks(self) -> None:
        secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
        body = json.dumps({"type": "user.deactivated", "timestamp": "2025-11-21T14:50:00.123Z",
                           "data": {"id": "2819c223", "resourceType": "User", "changed": ["active"]}}).encode()
        stamp = str(int(time.time()))

        def send(sig: str, ts: str = stamp, msg_id: str = "evt_1") -> Reply:
            return self.call("POST", "/events", raw=body, headers={
                "Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": ts,
                "webhook-signature": sig})

        good = standard_webhook_signature(secret, "evt_1", stamp, body)
        self.assert_rejected(send(good), "invalid_request")  # not enabled
        self.configure(standard_webhooks_secret=secret)
        self.assertEqual(send("v1,bogus " + good).status, 204)  # rotation: any matching signature
        self.assertEqual(send(good).status, 204)
        events = self.state()["records"]["events"]
        self.assertEqual([(e["format"], e["type"], e["duplicate"]) for e in events],
                         [("standard_webhooks", "user.deactivated", False), ("standard_webhooks", "user.deactivated", True)])
        self.assert_rejected(send("v1,AAAA"), "invalid_key")
        old = str(int(time.time()) - 1000)
        self.assert_rejected(send(standard_webhook_signature(secret, "evt_1", old, body), ts=old), "invalid_request")

    def test_faults(self) -> None:
        self.set_mode(mode="error503", count=1, retry_after=2)
        reply = self.push(self.hs())
        self.assertEqual((reply.status, reply.header("Retry-After")), (503, "2"))
        self.assertEqual(self.state()["records"]["events"], [])
        self.set_mode(mode="fail_after_apply", count=1)
        self.assertEqual(self.push(self.hs()).status, 500)
        self.assertEqual(len(self.state()["records"]["events"]), 1)
        self.assertEqual(self.push(self.hs()).status, 202)
        self.assertTrue(self.state()["records"]["events"][1]["duplicate"])


# =============================================================================================
# run_fake.py CLI
# =============================================================================================

class RunFakeCliTest(unittest.TestCase):
    def start(self, *args: str) -> tuple:
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        port_file = os.path.join(tmp, "port")
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "run_fake.py")] + list(args)
                                + ["--port", "0", "--port-file", port_file],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        line = proc.stdout.readline().strip()
        self.assertTrue(line.isdigit(), proc.stderr.read() if not line else line)
        with open(port_file) as handle:
            self.assertEqual(handle.read().strip(), line)
        return proc, int(line)

    def stop(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 0)
        proc.stdout.close()
        proc.stderr.close()

    def test_each_fake_starts_reports_port_and_stops_on_sigterm(self) -> None:
        runs = [("dolibarr", "--api-key", "k1"), ("zoho_books", "--token-lifetime", "5"),
                ("crm", "--token", "t1", "--rate-limit", "7"), ("webhook", "--secret", "s")]
        started = [(name, self.start(name, *args)) for name, *args in runs]
        for name, (proc, port) in started:
            state = http_call("http://127.0.0.1:%d" % port, "GET", "/_control/state").json()
            self.assertEqual(state["fake"], name)
        crm_state = http_call("http://127.0.0.1:%d" % started[2][1][1], "GET", "/_control/config").json()
        self.assertEqual((crm_state["tokens"], crm_state["rate_limit_per_minute"]), (["t1"], 7))
        dolibarr = http_call("http://127.0.0.1:%d" % started[0][1][1], "GET", "/api/index.php/thirdparties/1",
                             headers={"DOLAPIKEY": "k1"})
        self.assertEqual(dolibarr.status, 404)
        for _, (proc, _) in started:
            self.stop(proc)

    def test_public_key_file_and_bad_arguments(self) -> None:
        key = generate_rsa_key(1024)
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
            handle.write(key.public_pem())
        self.addCleanup(os.unlink, handle.name)
        proc, port = self.start("webhook", "--public-key-file", handle.name, "--config-json", '{"require_typ": false}')
        token = jws_encode(set_claims(), "RS256", key)
        reply = http_call("http://127.0.0.1:%d" % port, "POST", "/events", raw=token,
                          headers={"Content-Type": "application/secevent+jwt"})
        self.assertEqual(reply.status, 202)
        self.stop(proc)
        bad = subprocess.run([sys.executable, os.path.join(HERE, "run_fake.py"), "crm", "--config-json", '{"nope": 1}'],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown settings", bad.stderr)


if __name__ == "__main__":
    unittest.main()
