"""The admin API of issue 10 beyond the tenant boundary of test_admin_tenants: tenants as records
(CLI, disabled tenants, /admin/v1/tenant(s)), API keys over HTTP, sync one resource now, the audit
log an auditor accepts (who, from where, which request, old and new values, paging, filters),
and the console's static files."""

import re
import time
import urllib.parse

from delivery_support import RefusingReceiver, wait_until
from scimd_harness import (ALL_SCOPES, PATCH_URN, USER_URN, Client, ScimTestCase, create_token,
                           free_port, run_cli, unique)

# Refuses every SET with 400: each write becomes a failed delivery (a per-record failure).
REFUSER = RefusingReceiver()
REFUSER_PORT = REFUSER.port


class AdminApiTest(ScimTestCase):
    config_yaml = (
        "targets:\n"
        "  - name: events\n"
        "    type: webhook\n"
        f"    url: http://127.0.0.1:{REFUSER_PORT}/events\n"
        "    algorithm: HS256\n"
        "    secret: not-a-real-secret\n"
        "    retry: {max_attempts: 1, initial_backoff_ms: 50, max_backoff_ms: 100}\n"
        "  - name: spare\n"
        "    type: webhook\n"
        f"    url: http://127.0.0.1:{REFUSER_PORT}/spare\n"
        "    algorithm: HS256\n"
        "    secret: not-a-real-secret\n"
        "    retry: {max_attempts: 1, initial_backoff_ms: 50, max_backoff_ms: 100}\n")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run_cli("tenant", "create", "--db", cls.db, "acme", "--display-name", "Acme Corp")
        cls.a_token = create_token(cls.db, "acme-admin", ALL_SCOPES, tenant="acme")
        cls.b_token = create_token(cls.db, "beta-admin", ALL_SCOPES, tenant="beta")
        cls.op_token = create_token(cls.db, "ops", "operator", tenant="ops")
        cls.a = Client(cls.server.port, cls.a_token)
        cls.b = Client(cls.server.port, cls.b_token)
        cls.op = Client(cls.server.port, cls.op_token)

    @classmethod
    def tearDownClass(cls):
        for client in (getattr(cls, "a", None), getattr(cls, "b", None), getattr(cls, "op", None)):
            if client is not None:
                client.close()
        super().tearDownClass()

    def user(self, client, **attributes):
        body = {"schemas": [USER_URN], "userName": unique("adm")}
        body.update(attributes)
        resp = client.post("/scim/v2/Users", body)
        self.assertStatus(resp, 201)
        return resp.json

    # -- tenants --

    def test_tenant_cli_lists_created_and_implicit_tenants(self):
        out = run_cli("tenant", "list", "--db", self.db).stdout
        self.assertRegex(out, r"(?m)^acme\tdisplay_name=Acme Corp\t")
        self.assertRegex(out, r"(?m)^beta\t")  # made by token create --tenant beta
        dup = run_cli("tenant", "create", "--db", self.db, "acme", check=False)
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("already exists", dup.stderr)
        bad = run_cli("tenant", "create", "--db", self.db, "no spaces", check=False)
        self.assertNotEqual(bad.returncode, 0)

    def test_tenant_summary_counts_only_the_callers_tenant(self):
        self.user(self.a, active=True)
        self.user(self.a, active=False)
        self.user(self.b, active=True)
        resp = self.a.get("/admin/v1/tenant")
        self.assertStatus(resp, 200)
        body = resp.json
        self.assertEqual(body["name"], "acme")
        self.assertEqual(body["display_name"], "Acme Corp")
        self.assertFalse(body["disabled"])
        b_users = self.b.get("/admin/v1/tenant").json["users"]
        a_list = self.a.get("/scim/v2/Users?count=0").json["totalResults"]
        self.assertEqual(body["users"], a_list)
        self.assertLessEqual(body["active_users"], body["users"] - 1)
        self.assertGreaterEqual(b_users, 1)
        for key in ("groups", "last_sync", "last_sync_status", "created"):
            self.assertIn(key, body)

    def test_tenants_is_for_the_operator_only(self):
        self.assertStatus(self.a.get("/admin/v1/tenants"), 403)
        resp = self.op.get("/admin/v1/tenants")
        self.assertStatus(resp, 200)
        names = {t["name"] for t in resp.json["tenants"]}
        self.assertTrue({"acme", "beta", "ops"} <= names, names)
        picked = self.op.get("/admin/v1/tenant?tenant=beta")
        self.assertStatus(picked, 200)
        self.assertEqual(picked.json["name"], "beta")
        self.assertStatus(self.a.get("/admin/v1/tenant?tenant=beta"), 403)

    def test_a_disabled_tenants_tokens_get_401(self):
        tenant = unique("gone").replace("x", "-")
        token = create_token(self.db, unique("gone-admin"), ALL_SCOPES, tenant=tenant)
        self.assertStatus(self.get("/admin/v1/tenant", token=token), 200)
        run_cli("tenant", "disable", "--db", self.db, tenant)
        # The CLI is another process: the server's token cache sees the disable within 1 s.
        wait_until(lambda: self.get("/admin/v1/tenant", token=token).status == 401, timeout=1.0,
                   interval=0.02, message="401 for the disabled tenant's token")
        self.assertScimError(self.get("/admin/v1/tenant", token=token), 401)
        self.assertScimError(self.get("/Users", token=token), 401)
        listed = {t["name"]: t for t in self.op.get("/admin/v1/tenants").json["tenants"]}
        self.assertTrue(listed[tenant]["disabled"])
        missing = run_cli("tenant", "disable", "--db", self.db, "no-such-tenant", check=False)
        self.assertNotEqual(missing.returncode, 0)

    # -- API keys --

    def test_key_lifecycle_over_http(self):
        name = unique("key")
        resp = self.a.post("/admin/v1/tokens", {"name": name, "scopes": ["scim:read"],
                                                "expires_in_days": 30})
        self.assertStatus(resp, 201)
        secret = resp.json["secret"]
        self.assertTrue(secret.startswith("scimd_"))
        self.assertEqual(resp.json["tenant"], "acme")
        self.assertEqual(resp.json["scopes"], ["scim:read"])
        self.assertTrue(resp.json["expires"])
        reader = Client(self.server.port, secret)
        try:
            for _ in range(3):
                self.assertStatus(reader.get("/scim/v2/Users"), 200)
            self.assertStatus(reader.get("/admin/v1/tokens"), 403)
        finally:
            reader.close()
        listed = self.a.get("/admin/v1/tokens")
        self.assertStatus(listed, 200)
        keys = {t["name"]: t for t in listed.json["tokens"]}
        self.assertIn(name, keys)
        self.assertEqual(keys[name]["request_count"], 4)
        self.assertTrue(keys[name]["last_used"])
        self.assertEqual(keys[name]["status"], "active")
        for t in listed.json["tokens"]:
            self.assertNotIn("secret", t)
            self.assertNotIn("secret_hash", t)
            self.assertEqual(t["tenant"], "acme")
        self.assertNotIn(secret, listed.body.decode())
        self.assertNotIn("beta-admin", keys)
        # Revoke: 204, then the key is dead and a second revoke is 404.
        self.assertStatus(self.a.delete(f"/admin/v1/tokens/{name}"), 204)
        self.assertScimError(self.get("/Users", token=secret), 401)
        self.assertStatus(self.a.delete(f"/admin/v1/tokens/{name}"), 404)
        audit = self.a.get("/admin/v1/audit?resource=" + name).json["entries"]
        self.assertEqual([e["action"] for e in audit], ["token.revoke", "token.create"])
        self.assertEqual(audit[0]["actor"], "acme-admin")

    def test_a_tenant_admin_cannot_grant_operator_or_touch_other_tenants_keys(self):
        for scopes in (["operator"], ["admin", "operator"], "operator"):
            resp = self.a.post("/admin/v1/tokens", {"name": unique("evil"), "scopes": scopes})
            self.assertStatus(resp, 403)
        resp = self.a.post("/admin/v1/tokens", {"name": unique("evil"), "scopes": ["admin"],
                                                "tenant": "beta"})
        self.assertStatus(resp, 403)
        self.assertStatus(self.a.delete("/admin/v1/tokens/beta-admin"), 404)
        self.assertStatus(self.b.get("/admin/v1/tenant"), 200)  # beta's key still works
        self.assertStatus(self.a.delete("/admin/v1/tokens/ops"), 404)
        # Not even the operator hands out operator keys over HTTP.
        resp = self.op.post("/admin/v1/tokens", {"name": unique("op2"), "scopes": ["operator"]})
        self.assertStatus(resp, 403)

    def test_bad_key_requests(self):
        self.assertStatus(self.a.post("/admin/v1/tokens", "not json"), 400)
        self.assertStatus(self.a.post("/admin/v1/tokens", {"scopes": ["scim:read"]}), 400)
        self.assertStatus(self.a.post("/admin/v1/tokens", {"name": "a b"}), 400)
        self.assertStatus(self.a.post("/admin/v1/tokens", {"name": unique("k"),
                                                           "scopes": ["root"]}), 400)
        self.assertStatus(self.a.post("/admin/v1/tokens", {"name": unique("k"),
                                                           "expires_in_days": 0}), 400)
        self.assertStatus(self.a.post("/admin/v1/tokens", {"name": "acme-admin"}), 409)
        self.assertStatus(self.a.get("/admin/v1/tokens", token=None), 401)

    def test_operator_manages_keys_of_any_tenant(self):
        name = unique("for-beta")
        resp = self.op.post("/admin/v1/tokens?tenant=beta", {"name": name, "scopes": ["scim:read"]})
        self.assertStatus(resp, 201)
        self.assertEqual(resp.json["tenant"], "beta")
        beta_keys = {t["name"] for t in self.b.get("/admin/v1/tokens").json["tokens"]}
        self.assertIn(name, beta_keys)
        self.assertStatus(self.op.delete(f"/admin/v1/tokens/{name}"), 204)

    # -- sync one resource now --

    def test_sync_resource_queues_its_current_state(self):
        user = self.user(self.a)
        uid = user["id"]
        wait_until(lambda: len(self.a.get(f"/admin/v1/sync/deliveries?resource={uid}")
                               .json["deliveries"]) == 2, message="the create's two deliveries")
        resp = self.a.post(f"/admin/v1/sync/resources/{uid}?target=events")
        self.assertStatus(resp, 202)
        self.assertEqual(resp.json["resource_id"], uid)
        history = wait_until(
            lambda: [d for d in self.a.get(f"/admin/v1/sync/deliveries?resource={uid}")
                     .json["deliveries"]] if len(self.a.get(
                         f"/admin/v1/sync/deliveries?resource={uid}").json["deliveries"]) == 3
            else None, message="the manual sync's delivery")
        newest = history[0]
        self.assertEqual(newest["target"], "events")  # only the target asked for
        self.assertEqual(newest["event"], "replaced")
        self.assertEqual({d["resource_id"] for d in history}, {uid})
        # All targets when none is named.
        self.assertStatus(self.a.post(f"/admin/v1/sync/resources/{uid}"), 202)
        wait_until(lambda: len(self.a.get(f"/admin/v1/sync/deliveries?resource={uid}")
                               .json["deliveries"]) == 5, message="two more deliveries")
        audit = self.a.get(f"/admin/v1/audit?resource={uid}&action=sync").json["entries"]
        self.assertEqual(len(audit), 2)
        self.assertEqual(audit[1]["changes"], [{"attribute": "target", "old": None,
                                               "new": "events"}])

    def test_sync_resource_of_another_tenant_or_unknown_is_404(self):
        b_user = self.user(self.b)
        self.assertStatus(self.a.post(f"/admin/v1/sync/resources/{b_user['id']}"), 404)
        self.assertStatus(self.a.post("/admin/v1/sync/resources/no-such-id"), 404)
        self.assertStatus(self.a.post(f"/admin/v1/sync/resources/{b_user['id']}?target=nope"),
                          404)
        self.assertStatus(self.op.post(f"/admin/v1/sync/resources/{b_user['id']}"), 202)

    def test_sync_resource_cli(self):
        user = self.user(self.a)
        out = run_cli("sync", "resource", "--db", self.db, user["id"], "--target", "spare").stdout
        self.assertIn(user["id"], out)
        entries = self.a.get(f"/admin/v1/audit?resource={user['id']}&action=sync").json["entries"]
        self.assertEqual(len(entries), 1)
        self.assertTrue(entries[0]["actor"].startswith("cli:"), entries[0])
        missing = run_cli("sync", "resource", "--db", self.db, "no-such-id", check=False)
        self.assertNotEqual(missing.returncode, 0)

    # -- the audit log --

    def test_audit_entry_of_a_patch_names_who_what_and_the_values(self):
        user = self.user(self.a, name={"givenName": "Ada", "familyName": "Byron"},
                         password="first-Secret-1")
        uid = user["id"]
        body = {"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "name.familyName", "value": "Lovelace"},
            {"op": "replace", "path": "password", "value": "second-Secret-2"}]}
        resp = self.a.patch(f"/scim/v2/Users/{uid}", body, headers={"X-Request-Id": "req-42"})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.headers.get("X-Request-Id"), "req-42")
        entries = self.a.get(f"/admin/v1/audit?resource={uid}").json["entries"]
        self.assertEqual([e["action"] for e in entries], ["patch", "create"])
        patch = entries[0]
        self.assertEqual(patch["tenant"], "acme")
        self.assertEqual(patch["actor"], "acme-admin")
        self.assertEqual(patch["client"], "127.0.0.1")
        self.assertEqual(patch["request_id"], "req-42")
        self.assertEqual(patch["resource_type"], "User")
        self.assertEqual(patch["version"], 2)
        self.assertIn({"attribute": "name.familyName", "old": "Byron", "new": "Lovelace"},
                      patch["changes"])
        self.assertIn({"attribute": "password", "changed": True}, patch["changes"])
        text = str(entries)
        self.assertNotIn("Secret", text)
        self.assertTrue(entries[1]["request_id"])  # generated when the client sent none

    def test_audit_pages_newest_first_with_a_cursor_and_filters(self):
        ids = [self.user(self.a)["id"] for _ in range(5)]
        first = self.a.get("/admin/v1/audit?action=create&limit=2")
        self.assertStatus(first, 200)
        page1 = first.json["entries"]
        self.assertEqual(len(page1), 2)
        self.assertEqual([e["resource_id"] for e in page1], ids[::-1][:2])
        cursor = first.json["next_cursor"]
        self.assertTrue(cursor)
        second = self.a.get("/admin/v1/audit?action=create&limit=2&cursor=" + cursor).json
        self.assertEqual([e["resource_id"] for e in second["entries"]], ids[::-1][2:4])
        times = [e["time"] for e in page1 + second["entries"]]
        self.assertEqual(times, sorted(times, reverse=True))
        # since/until and actor
        since = page1[-1]["time"]
        recent = self.a.get("/admin/v1/audit?action=create&since=" +
                            urllib.parse.quote(since)).json["entries"]
        self.assertTrue(all(e["time"] >= since for e in recent))
        self.assertIn(ids[-1], [e["resource_id"] for e in recent])
        old = self.a.get("/admin/v1/audit?until=" + urllib.parse.quote(since)).json["entries"]
        self.assertTrue(all(e["time"] < since for e in old))
        nobody = self.a.get("/admin/v1/audit?actor=nobody").json
        self.assertEqual(nobody["entries"], [])
        self.assertIsNone(nobody["next_cursor"])
        self.assertStatus(self.a.get("/admin/v1/audit?since=yesterday"), 400)
        self.assertStatus(self.a.get("/admin/v1/audit?cursor=abc"), 400)

    def test_retry_and_cli_actions_are_audited(self):
        user = self.user(self.a)
        uid = user["id"]
        failed = wait_until(lambda: self.a.get(
            f"/admin/v1/sync/deliveries?status=failed&resource={uid}").json["deliveries"],
            message="a failed delivery")
        self.assertStatus(self.a.post(f"/admin/v1/sync/deliveries/{failed[0]['id']}/retry"), 200)
        entries = self.a.get(f"/admin/v1/audit?resource={uid}&action=delivery.retry").json
        self.assertEqual(len(entries["entries"]), 1)
        self.assertEqual(entries["entries"][0]["actor"], "acme-admin")
        created = self.op.get("/admin/v1/audit?tenant=acme&action=tenant.create").json["entries"]
        self.assertEqual(len(created), 1)
        self.assertTrue(created[0]["actor"].startswith("cli:"))
        tokens = self.op.get("/admin/v1/audit?action=token.create&resource=acme-admin").json
        self.assertEqual(len(tokens["entries"]), 1)

    # -- the console --

    def test_console_is_served_with_strict_headers_and_no_auth(self):
        index = self.a.get("/console/", token=None)
        self.assertStatus(index, 200)
        self.assertTrue(index.headers.get("Content-Type").startswith("text/html"))
        self.assertEqual(index.headers.get("Cache-Control"), "no-store")
        self.assertEqual(index.headers.get("X-Content-Type-Options"), "nosniff")
        csp = index.headers.get("Content-Security-Policy")
        self.assertIn("default-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn(b"<html", index.body.lower())
        script = self.a.get("/console/app.js", token=None)
        self.assertStatus(script, 200)
        self.assertTrue(script.headers.get("Content-Type").startswith("text/javascript"))
        style = self.a.get("/console/style.css", token=None)
        self.assertStatus(style, 200)
        self.assertTrue(style.headers.get("Content-Type").startswith("text/css"))
        moved = self.a.get("/console", token=None)
        self.assertStatus(moved, 301)
        self.assertEqual(moved.headers.get("Location"), "/console/")
        for path in ("/console/nope.js", "/console/..%2Fscimd.db", "/console/%2e%2e"):
            self.assertStatus(self.a.get(path, token=None), 404)


if __name__ == "__main__":
    import unittest
    unittest.main()
