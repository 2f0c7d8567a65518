"""The per-token rate limit is one budget for every scimd process on a database (issue 11): two
processes serve one database (PostgreSQL, or one SQLite file); a token's requests spread over
both get the limit once, not once per process, and a /Bulk counts its operations.

Before issue 11 each process kept its own buckets: with 60 a minute and two processes, 120
requests passed."""

import time

from scimd_harness import (Client, ScimTestCase, ScimdServer, create_token, unique)

LIMIT = 60  # requests a minute, a bucket of 60
CONFIG = f"limits: {{rate_limit_per_minute: {LIMIT}}}\n"


class SharedRateLimitTest(ScimTestCase):
    config_yaml = CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = ScimdServer(db=cls.db, tag="other", config_yaml=CONFIG).start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "other", None) is not None:
            cls.other.cleanup()
        super().tearDownClass()

    def clients(self):
        secret = create_token(self.db, unique("budget"))
        here, there = Client(self.server.port, secret), Client(self.other.port, secret)
        self.addCleanup(here.close)
        self.addCleanup(there.close)
        return here, there

    def test_requests_spread_over_two_processes_share_one_budget(self):
        here, there = self.clients()
        started = time.monotonic()
        statuses = []
        for _ in range(60):
            for client in (here, there):
                statuses.append(client.get("/scim/v2/Users?count=0").status)
        elapsed = time.monotonic() - started
        self.assertEqual(set(statuses) - {200, 429}, set(), statuses)
        passed = statuses.count(200)
        # The bucket of 60 plus what refilled (1 a second) while the 120 requests ran.
        self.assertGreaterEqual(passed, LIMIT - 1, statuses)
        self.assertLessEqual(passed, LIMIT + int(elapsed) + 2, (passed, elapsed))
        refused = there.get("/scim/v2/Users?count=0")
        self.assertEqual(refused.status, 429)
        self.assertGreaterEqual(int(refused.headers["Retry-After"]), 1)

    def test_a_bulk_in_one_process_spends_the_budget_of_the_other(self):
        here, there = self.clients()
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}",
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": unique("shared")}} for i in range(55)]
        resp = here.post("/scim/v2/Bulk", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
        self.assertEqual(resp.status, 200, resp)
        statuses = [there.get("/scim/v2/Users?count=0").status for _ in range(12)]
        self.assertIn(429, statuses, statuses)
        self.assertLessEqual(statuses.count(200), 5 + 2, statuses)
