"""Tokens are cached per process (issue 12), yet a change made anywhere takes effect everywhere
within 1 s: two scimd processes serve one database (PostgreSQL, or one SQLite file); a token
revoked through one of them (`DELETE /admin/v1/tokens/{name}`) or with `scimd token revoke`, and
the tokens of a tenant disabled with `scimd tenant disable`, are refused by the other process
within 1 s (by the one that revoked it at once). An expired token is refused from its expiry on,
although the record each process holds was read before it expired."""

import datetime
import sqlite3
import time

from scimd_harness import (Client, ScimTestCase, ScimdServer, create_token, psql, run_cli,
                           unique)

LIMIT_S = 1.0  # the bound for a change to take effect in another process


def utc_timestamp(at):
    """scimd's timestamp format (UTC, milliseconds) for the epoch time `at`."""
    moment = datetime.datetime.fromtimestamp(at, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TokenCacheAcrossProcessesTest(ScimTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = ScimdServer(db=cls.db, tag="other").start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "other", None) is not None:
            cls.other.cleanup()
        super().tearDownClass()

    def _clients(self, secret):
        here = Client(self.server.port, secret)
        there = Client(self.other.port, secret)
        self.addCleanup(here.close)
        self.addCleanup(there.close)
        # Both processes have now read (and cached) the token.
        for client in (here, there):
            self.assertStatus(client.get("/scim/v2/Users?count=1"), 200)
        return here, there

    def _refused_within(self, client, limit):
        """Seconds until `client`'s token gets 401; fails when that takes longer than limit."""
        start = time.monotonic()
        while True:
            resp = client.get("/scim/v2/Users?count=1")
            elapsed = time.monotonic() - start
            if resp.status == 401:
                return elapsed
            self.assertStatus(resp, 200)
            self.assertLess(elapsed, limit, "the token still works in the other process")
            time.sleep(0.02)

    def test_revoked_over_http_is_refused_by_the_other_process(self):
        name = unique("http-revoked")
        here, there = self._clients(create_token(self.db, name, "scim:read"))
        self.assertStatus(self.client.delete(f"/admin/v1/tokens/{name}"), 204)
        self.assertStatus(here.get("/scim/v2/Users?count=1"), 401)
        self._refused_within(there, LIMIT_S)

    def test_revoked_with_the_cli_is_refused_by_both(self):
        name = unique("cli-revoked")
        here, there = self._clients(create_token(self.db, name, "scim:read"))
        run_cli("token", "revoke", "--db", self.db, name)
        self._refused_within(here, LIMIT_S)
        self._refused_within(there, LIMIT_S)

    def test_disabled_tenants_token_is_refused_by_both(self):
        tenant = unique("tenant")
        here, there = self._clients(create_token(self.db, unique("of-tenant"), "scim:read",
                                                 tenant=tenant))
        run_cli("tenant", "disable", "--db", self.db, tenant)
        self._refused_within(here, LIMIT_S)
        self._refused_within(there, LIMIT_S)

    def test_expired_token_is_refused_from_its_expiry(self):
        name = unique("expiring")
        here, there = self._clients(create_token(self.db, name, "scim:read", expires_days=30))
        expiry = time.time() + 3.0
        self._set_expiry(name, utc_timestamp(expiry))
        # Until the expiry both keep answering (and re-read the record, new expiry included).
        while time.time() < expiry - 0.5:
            for client in (here, there):
                self.assertStatus(client.get("/scim/v2/Users?count=1"), 200)
            time.sleep(0.05)
        time.sleep(max(0.0, expiry - time.time()) + 0.05)
        # The first request after the expiry is refused, by the record in memory.
        for client in (here, there):
            self.assertStatus(client.get("/scim/v2/Users?count=1"), 401)

    def _set_expiry(self, name, expires):
        if self.db.startswith("sqlite:"):
            with sqlite3.connect(self.db[len("sqlite:"):], timeout=30) as conn:
                conn.execute("UPDATE api_tokens SET expires = ? WHERE name = ?", (expires, name))
            return
        dbname = self.db.rsplit("/", 1)[1]
        psql(f"UPDATE api_tokens SET expires = '{expires}' WHERE name = '{name}'", dbname=dbname)
