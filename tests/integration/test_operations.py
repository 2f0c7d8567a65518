"""What the people who run scimd read (issue 9): JSON log lines with an access log, X-Request-Id
accepted or generated and echoed, and /metrics with build info, connections and rate limiting."""

import json
import re
import time

from scimd_harness import Client, ScimTestCase, USER_URN, test_db_kind, unique


class RequestIdTest(ScimTestCase):
    def test_client_request_id_is_echoed(self):
        resp = self.get("/Users?count=1", headers={"X-Request-Id": "okta-req.42:a_b-c"})
        self.assertEqual(resp.headers["X-Request-Id"], "okta-req.42:a_b-c")

    def test_request_id_is_generated_when_absent_or_unsafe(self):
        seen = set()
        for header in (None, "has space", "x" * 129, "new\u00e9line"):
            headers = {} if header is None else {"X-Request-Id": header.encode().decode("latin-1")}
            resp = self.get("/Users?count=1", headers=headers)
            rid = resp.headers["X-Request-Id"]
            self.assertRegex(rid, r"^[0-9a-f]{32}$", header)
            seen.add(rid)
        self.assertEqual(len(seen), 4)

    def test_errors_carry_the_request_id_too(self):
        resp = self.get("/Users/nope", headers={"X-Request-Id": "trace-404"})
        self.assertEqual(resp.status, 404)
        self.assertEqual(resp.headers["X-Request-Id"], "trace-404")


class JsonLogTest(ScimTestCase):
    config_yaml = "log: {format: json}\n"

    def test_every_line_is_json_and_requests_are_logged(self):
        self.post("/Users", {"schemas": [USER_URN], "userName": unique("log")},
                  headers={"X-Request-Id": "log-check-1"})
        deadline = time.monotonic() + 5
        record = None
        while record is None and time.monotonic() < deadline:
            records = []
            for line in self.server.log_text().splitlines():
                if line.startswith("=== start"):  # the harness's own marker
                    continue
                records.append(json.loads(line))  # every line scimd wrote is one JSON object
            record = next((r for r in records if r.get("request_id") == "log-check-1"), None)
            time.sleep(0.05)
        self.assertIsNotNone(record, self.server.log_tail())
        self.assertEqual(record["event"], "access")
        self.assertEqual(record["method"], "POST")
        self.assertEqual(record["route"], "/scim/v2/Users")
        self.assertEqual(record["status"], 201)
        self.assertEqual(record["token"], "test-admin")
        self.assertEqual(record["tenant"], "default")
        self.assertEqual(record["client"], "127.0.0.1")
        self.assertIsInstance(record["ms"], (int, float))
        self.assertRegex(record["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(record["level"], "info")


class MetricsTest(ScimTestCase):
    config_yaml = "limits: {rate_limit_per_minute: 2}\n"

    def metric(self, text, name):
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        self.assertIsNotNone(match, f"{name} missing from /metrics")
        return float(match.group(1))

    def test_build_info_connections_and_rate_limiting(self):
        other = Client(self.server.port, self.token)
        self.addCleanup(other.close)
        for _ in range(3):
            other.get("/scim/v2/Users?count=1")
        text = self.get("/metrics").body.decode()
        self.assertRegex(text, r'scimd_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1')
        self.assertGreaterEqual(self.metric(text, "scimd_open_connections"), 2)
        self.assertGreater(self.metric(text, "scimd_max_connections"), 0)
        self.assertGreater(self.metric(text, "scimd_db_pool_connections"), 0)
        in_use = self.metric(text, "scimd_db_pool_in_use")
        self.assertGreaterEqual(in_use, 0)
        self.assertLessEqual(in_use, self.metric(text, "scimd_db_pool_connections"))
        self.assertGreaterEqual(
            self.metric(text, 'scimd_rate_limited_requests_total{limit="token"}'), 1)
        self.assertEqual(
            self.metric(text, 'scimd_rate_limited_requests_total{limit="auth_failures"}'), 0)


class WriterQueueMetricsTest(ScimTestCase):
    def metric(self, text, name):
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        self.assertIsNotNone(match, f"{name} missing from /metrics")
        return float(match.group(1))

    def test_sqlite_writer_queue_counters(self):
        """SQLite: API write transactions and their wait for the single writer are counted by
        class (api, delivery); PostgreSQL has no single writer and no such series."""
        created = self.post("/Users", {"schemas": [USER_URN], "userName": unique("wq")})
        self.assertEqual(created.status, 201)
        text = self.get("/metrics").body.decode()
        api = 'scimd_db_writer_transactions_total{class="api"}'
        if test_db_kind() != "sqlite":
            self.assertNotIn("scimd_db_writer_transactions_total", text)
            return
        self.assertGreaterEqual(self.metric(text, api), 1)
        self.assertGreaterEqual(
            self.metric(text, 'scimd_db_writer_transactions_total{class="delivery"}'), 0)
        self.assertGreaterEqual(
            self.metric(text, 'scimd_db_writer_wait_seconds_total{class="api"}'), 0)
