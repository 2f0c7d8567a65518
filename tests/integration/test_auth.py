"""Authentication and authorisation: bearer tokens, scopes, revocation, expiry, tenants, and the
unauthenticated operations endpoints (product brief "HTTP" and "Command line"; RFC 6750 §3;
RFC 7644 §2, §3.12).

Run by ctest once per database, or by hand: python3 -m unittest -v test_auth
"""

import os
import re
import sqlite3
import unittest

from delivery_support import wait_until
from it_support import query
from scimd_harness import (ERROR_URN, GROUP_URN, USER_URN, ScimTestCase, create_token, psql,
                           run_cli, unique)


def _bearer(resp):
    return resp.headers.get("WWW-Authenticate", "")


class AuthTest(ScimTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.reader = create_token(cls.db, "reader", "scim:read")
            cls.writer = create_token(cls.db, "writer", "scim:read,scim:write")
            cls.default_scopes = create_token(cls.db, "default-scopes", None)
            cls.admin_only = create_token(cls.db, "admin-only", "admin")
            cls.other_tenant = create_token(cls.db, "tenant-b", "scim:read,scim:write", tenant="tenant-b")
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails: do not leak the server
            raise

    def assertUnauthorized(self, resp):
        self.assertScimError(resp, 401)
        self.assertTrue(_bearer(resp).lower().startswith("bearer"), f"WWW-Authenticate: {_bearer(resp)!r}")

    def new_user(self, token=None):
        body = {"schemas": [USER_URN], "userName": unique("auth")}
        return self.post("/Users", body, **({} if token is None else {"token": token}))

    # -- 401 --

    def test_no_token_is_401_with_bearer_challenge_everywhere(self):
        user = self.new_user()
        self.assertStatus(user, 201)
        uid = user.json["id"]
        for method, path, body in (("GET", "/Users", None), ("GET", f"/Users/{uid}", None),
                                   ("POST", "/Users", {"schemas": [USER_URN], "userName": unique("x")}),
                                   ("PUT", f"/Users/{uid}", {"schemas": [USER_URN], "userName": "x"}),
                                   ("PATCH", f"/Users/{uid}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                               "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}),
                                   ("DELETE", f"/Users/{uid}", None), ("GET", "/Groups", None),
                                   ("POST", "/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
                                   ("GET", "/ServiceProviderConfig", None), ("GET", "/Schemas", None),
                                   ("GET", "/ResourceTypes", None)):
            with self.subTest(method=method, path=path):
                self.assertUnauthorized(self.request(method, path, body, token=None))
        # Nothing happened to the user.
        got = self.get(f"/Users/{uid}")
        self.assertStatus(got, 200)
        self.assertEqual(got.json["userName"], user.json["userName"])

    def test_bad_tokens_are_401(self):
        for header in ("Bearer not-a-real-token", "Bearer " + self.token[:-2] + "xx", "Bearer",
                       "Bearer ", "Basic " + self.token, self.token, "Bearer " + self.token + "x",
                       "Bearer " + self.token + " extra"):
            with self.subTest(header=header[:30]):
                self.assertUnauthorized(self.get("/Users", token=None, headers={"Authorization": header}))

    def test_auth_scheme_is_case_insensitive(self):
        # RFC 9110 §11.1: the authentication scheme is case-insensitive.
        for scheme in ("bearer", "BEARER", "Bearer"):
            resp = self.get("/Users", token=None, headers={"Authorization": f"{scheme} {self.token}"})
            self.assertStatus(resp, 200)

    def test_unauthenticated_request_makes_no_change(self):
        userName = unique("nope")
        self.assertUnauthorized(self.post("/Users", {"schemas": [USER_URN], "userName": userName}, token=None))
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"'))
        self.assertEqual(found.json["totalResults"], 0)

    # -- scopes --

    def test_read_scope_reads_but_cannot_write(self):
        user = self.new_user()
        self.assertStatus(user, 201)
        uid = user.json["id"]
        self.assertStatus(self.get("/Users", token=self.reader), 200)
        self.assertStatus(self.get(f"/Users/{uid}", token=self.reader), 200)
        self.assertStatus(self.get("/Groups", token=self.reader), 200)
        self.assertStatus(self.get("/ServiceProviderConfig", token=self.reader), 200)
        self.assertStatus(self.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                       "filter": f'id eq "{uid}"'}, token=self.reader), 200)
        self.assertScimError(self.new_user(token=self.reader), 403)
        self.assertScimError(self.post("/Groups", {"schemas": [GROUP_URN], "displayName": "g"}, token=self.reader), 403)
        self.assertScimError(self.put(f"/Users/{uid}", {"schemas": [USER_URN], "userName": "changed"},
                                      token=self.reader), 403)
        self.assertScimError(self.patch(f"/Users/{uid}", [{"op": "replace", "path": "displayName", "value": "x"}],
                                        token=self.reader), 403)
        self.assertScimError(self.delete(f"/Users/{uid}", token=self.reader), 403)
        got = self.get(f"/Users/{uid}")
        self.assertEqual(got.json["userName"], user.json["userName"])
        self.assertNotIn("displayName", got.json)

    def test_write_scope_and_default_scopes_can_write(self):
        for token in (self.writer, self.default_scopes):
            created = self.new_user(token=token)
            self.assertStatus(created, 201)
            self.assertStatus(self.get(f"/Users/{created.json['id']}", token=token), 200)
            self.assertStatus(self.delete(f"/Users/{created.json['id']}", token=token), 204)

    def test_scim_tokens_cannot_use_the_admin_api(self):
        for token in (self.reader, self.writer):
            self.assertStatus(self.get("/admin/v1/sync/status", token=token), 403)
        self.assertStatus(self.get("/admin/v1/sync/status", token=None), 401)

    def test_admin_scope_reaches_the_admin_api(self):
        resp = self.get("/admin/v1/sync/status", token=self.admin_only)
        self.assertStatus(resp, 200)
        self.assertIsInstance(resp.json, dict, resp)
        self.assertIsInstance(resp.json.get("targets"), list, resp)
        audit = self.get("/admin/v1/audit", token=self.admin_only)
        self.assertStatus(audit, 200)
        self.assertIsInstance(audit.json.get("entries"), list, audit)

    def test_admin_only_token_lacks_scim_scopes(self):
        self.assertScimError(self.get("/Users", token=self.admin_only), 403)
        self.assertScimError(self.new_user(token=self.admin_only), 403)

    # -- revocation and expiry --

    def test_revoked_token_is_401_within_a_second(self):
        name = unique("revoke-me")
        secret = create_token(self.db, name, "scim:read,scim:write")
        self.assertStatus(self.get("/Users", token=secret), 200)
        out = run_cli("token", "revoke", "--db", self.db, name)
        self.assertEqual(out.returncode, 0)
        # The CLI is another process: the server's token cache sees its revocation within 1 s.
        wait_until(lambda: self.get("/Users", token=secret).status == 401, timeout=1.0,
                   interval=0.02, message="401 for the revoked token")
        self.assertUnauthorized(self.get("/Users", token=secret))
        self.assertUnauthorized(self.new_user(token=secret))
        listing = run_cli("token", "list", "--db", self.db).stdout
        line = [l for l in listing.splitlines() if l.split("\t")[0] == name]
        self.assertEqual(len(line), 1, listing)
        self.assertIn("revoked", line[0])
        # Other tokens are untouched.
        self.assertStatus(self.get("/Users", token=self.reader), 200)

    def test_revoking_unknown_token_fails_with_one_line(self):
        proc = run_cli("token", "revoke", "--db", self.db, "no-such-token-" + unique(), check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_token_list_shows_names_scopes_and_no_secrets(self):
        proc = run_cli("token", "list", "--db", self.db)
        out = proc.stdout
        for name in ("test-admin", "reader", "writer", "admin-only", "tenant-b"):
            self.assertTrue(any(l.split("\t")[0] == name or l.split()[0] == name
                                for l in out.splitlines() if l.strip()), f"{name} missing:\n{out}")
        for secret in (self.token, self.reader, self.writer, self.admin_only, self.other_tenant):
            self.assertNotIn(secret, out)
        reader_line = next(l for l in out.splitlines() if l.split()[0] == "reader")
        self.assertIn("scim:read", reader_line)
        self.assertNotIn("scim:write", reader_line)

    def test_expires_days_must_be_positive(self):
        for days in ("-1", "0", "abc"):
            proc = run_cli("token", "create", "--db", self.db, "--name", unique("neg"), "--expires-days", days,
                           check=False)
            self.assertNotEqual(proc.returncode, 0, f"--expires-days {days} accepted: {proc.stdout}")
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
            self.assertNotIn("Traceback", proc.stderr)

    def test_token_with_expiry_works_and_is_listed(self):
        name = unique("expiring")
        secret = create_token(self.db, name, "scim:read", expires_days=30)
        self.assertStatus(self.get("/Users", token=secret), 200)
        line = next(l for l in run_cli("token", "list", "--db", self.db).stdout.splitlines()
                    if l.split()[0] == name)
        self.assertNotIn("never", line)
        self.assertRegex(line, r"20\d\d-\d\d-\d\d")

    def test_expired_token_is_401(self):
        # The CLI cannot make an already expired token, so this moves the expiry of a fresh one
        # into the past directly in the database (table api_tokens, column expires; the canonical
        # timestamp format is taken from `token list`).
        name = unique("expired")
        secret = create_token(self.db, name, "scim:read", expires_days=1)
        self.assertStatus(self.get("/Users", token=secret), 200)
        line = next(l for l in run_cli("token", "list", "--db", self.db).stdout.splitlines()
                    if l.split()[0] == name)
        match = re.search(r"expires=(\S+)", line)
        if not match:
            self.skipTest(f"token list shows no expires= field: {line!r}")
        past = "2001" + match.group(1)[4:]
        sql = f"UPDATE api_tokens SET expires = '{past}' WHERE name = '{name}'"
        if self.db.startswith("sqlite:"):
            with sqlite3.connect(self.db[len("sqlite:"):]) as conn:
                conn.execute(sql)
        else:
            psql(sql, dbname=self.db.rsplit("/", 1)[1])
        # An edit of the record is seen once the server's token cache re-reads it (within 1 s);
        # an expiry reached by the clock is refused at once (test_token_cache).
        wait_until(lambda: self.get("/Users", token=secret).status == 401, timeout=1.0,
                   interval=0.02, message="401 for the expired token")
        self.assertUnauthorized(self.get("/Users", token=secret))
        line = next(l for l in run_cli("token", "list", "--db", self.db).stdout.splitlines()
                    if l.split()[0] == name)
        self.assertIn("expired", line)

    def test_duplicate_token_name_is_refused(self):
        proc = run_cli("token", "create", "--db", self.db, "--name", "reader", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertStatus(self.get("/Users", token=self.reader), 200)

    def test_unknown_scope_is_refused(self):
        proc = run_cli("token", "create", "--db", self.db, "--name", unique("bad"), "--scopes", "scim:everything",
                       check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    # -- tenants --

    def test_tenants_do_not_see_each_other(self):
        mine = self.new_user()
        self.assertStatus(mine, 201)
        theirs = self.post("/Users", {"schemas": [USER_URN], "userName": unique("tenantb")}, token=self.other_tenant)
        self.assertStatus(theirs, 201)
        self.assertScimError(self.get(f"/Users/{mine.json['id']}", token=self.other_tenant), 404)
        self.assertScimError(self.get(f"/Users/{theirs.json['id']}"), 404)
        self.assertScimError(self.delete(f"/Users/{mine.json['id']}", token=self.other_tenant), 404)
        listed = self.get("/Users", token=self.other_tenant)
        self.assertEqual([r["id"] for r in listed.json["Resources"]], [theirs.json["id"]])
        # The same userName may exist once per tenant.
        same = self.post("/Users", {"schemas": [USER_URN], "userName": mine.json["userName"]}, token=self.other_tenant)
        self.assertStatus(same, 201)
        # A tenant cannot make a member of another tenant's user.
        cross = self.post("/Groups", {"schemas": [GROUP_URN], "displayName": "cross",
                                      "members": [{"value": mine.json["id"]}]}, token=self.other_tenant)
        self.assertScimError(cross, 400)

    # -- operations endpoints --

    def test_operations_endpoints_need_no_token(self):
        for path in ("/healthz", "/readyz", "/metrics"):
            with self.subTest(path=path):
                self.assertStatus(self.get(path, token=None), 200)
                # A bad token is not a reason to refuse them either.
                self.assertStatus(self.get(path, token="garbage"), 200)

    def test_metrics_count_requests_by_route_and_status(self):
        def counter(text, route, status):
            total = 0.0
            for line in text.splitlines():
                if line.startswith("#") or "{" not in line:
                    continue
                name, rest = line.split("{", 1)
                labels, value = rest.rsplit("}", 1)
                if not name.endswith("_total") or "request" not in name:
                    continue
                if f'route="{route}"' in labels and f'status="{status}"' in labels:
                    total += float(value)
            return total

        first = self.get("/metrics", token=None)
        self.assertStatus(first, 200)
        self.assertTrue(first.headers.get("Content-Type", "").startswith("text/plain"), first.headers)
        text = first.body.decode()
        for line in text.splitlines():
            if line and not line.startswith("#"):
                self.assertRegex(line, r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEinfNa]+$')
        ok_before = counter(text, "/scim/v2/Users", 200)
        unauth_before = counter(text, "/scim/v2/Users", 401)
        for _ in range(3):
            self.assertStatus(self.get("/Users"), 200)
        self.assertStatus(self.get("/Users", token=None), 401)
        after = self.get("/metrics", token=None).body.decode()
        self.assertEqual(counter(after, "/scim/v2/Users", 200) - ok_before, 3, after)
        self.assertEqual(counter(after, "/scim/v2/Users", 401) - unauth_before, 1, after)
        self.assertIn("histogram", after)
        self.assertRegex(after, r"_bucket\{[^}]*le=\"\+Inf\"")

    def test_readyz_reports_the_database(self):
        resp = self.get("/readyz", token=None)
        self.assertStatus(resp, 200)


if __name__ == "__main__":
    unittest.main()
