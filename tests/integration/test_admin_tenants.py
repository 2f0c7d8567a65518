"""Tenants are a boundary on the admin API (issue 10): a tenant's admin token sees and acts on
its own tenant only; another tenant's ids are 404; the `operator` scope (CLI only) sees every
tenant and may pick one with ?tenant=.

The server delivers to a webhook receiver that refuses every SET (400), so every write becomes
a failed delivery whose last_error names the target."""

import urllib.parse

from delivery_support import RefusingReceiver, wait_until
from scimd_harness import (ALL_SCOPES, Client, HarnessError, ScimTestCase, USER_URN, create_token,
                           free_port, unique)

# Refuses every SET with 400: each write becomes a failed delivery (a per-record failure).
REFUSER = RefusingReceiver()
REFUSER_PORT = REFUSER.port


class AdminTenantBoundaryTest(ScimTestCase):
    config_yaml = (
        "targets:\n"
        "  - name: events\n"
        "    type: webhook\n"
        f"    url: http://127.0.0.1:{REFUSER_PORT}/events\n"
        "    algorithm: HS256\n"
        "    secret: not-a-real-secret\n"
        "    retry: {max_attempts: 1, initial_backoff_ms: 50, max_backoff_ms: 100}\n")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a_token = create_token(cls.db, "acme-admin", ALL_SCOPES, tenant="acme")
        cls.b_token = create_token(cls.db, "beta-admin", ALL_SCOPES, tenant="beta")
        try:
            cls.op_token = create_token(cls.db, "the-operator", "operator", tenant="ops")
        except HarnessError:  # a scimd without the operator scope: the operator tests fail
            cls.op_token = None
        cls.a = Client(cls.server.port, cls.a_token)
        cls.b = Client(cls.server.port, cls.b_token)
        cls.op = Client(cls.server.port, cls.op_token)
        cls.a_ids = [cls._create(cls.a, "acme") for _ in range(2)]
        cls.b_ids = [cls._create(cls.b, "beta") for _ in range(3)]

    @classmethod
    def tearDownClass(cls):
        for client in (getattr(cls, "a", None), getattr(cls, "b", None), getattr(cls, "op", None)):
            if client is not None:
                client.close()
        super().tearDownClass()

    @classmethod
    def _create(cls, client, tenant):
        name = unique(f"{tenant}-user")
        resp = client.post("/scim/v2/Users", {"schemas": [USER_URN], "userName": name,
                                              "emails": [{"value": f"{name}@{tenant}.example"}]})
        assert resp.status == 201, resp
        return resp.json["id"]

    def _failed(self, client, query=""):
        def all_failed():
            resp = client.get("/admin/v1/sync/deliveries?status=failed" + query)
            self.assertStatus(resp, 200)
            return resp.json["deliveries"]
        return all_failed()

    def _wait_all_failed(self):
        # Each tenant's own view (on a scimd without tenant scoping, each sees all five).
        wait_until(lambda: len(self._failed(self.a)) >= 2 and len(self._failed(self.b)) >= 3,
                   timeout=30, message="the failed deliveries of both tenants")

    # -- deliveries --

    def test_deliveries_list_only_the_callers_tenant(self):
        self._wait_all_failed()
        a_rows = self._failed(self.a)
        self.assertEqual(sorted(r["resource_id"] for r in a_rows), sorted(self.a_ids))
        b_rows = self._failed(self.b)
        self.assertEqual(sorted(r["resource_id"] for r in b_rows), sorted(self.b_ids))
        for row in a_rows:
            self.assertNotIn("beta", row["last_error"] or "")
        every = self.a.get("/admin/v1/sync/deliveries")
        self.assertStatus(every, 200)
        self.assertTrue(set(r["resource_id"] for r in every.json["deliveries"]) <= set(self.a_ids))

    def test_tenant_admin_cannot_choose_another_tenant(self):
        resp = self.a.get("/admin/v1/sync/deliveries?tenant=beta")
        self.assertEqual(resp.status, 403, resp)
        self.assertEqual(self.a.get("/admin/v1/sync/status?tenant=beta").status, 403)

    def test_deliveries_of_a_resource_of_another_tenant_are_empty(self):
        self._wait_all_failed()
        resp = self.a.get("/admin/v1/sync/deliveries?resource=" + self.b_ids[0])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["deliveries"], [])
        own = self.a.get("/admin/v1/sync/deliveries?resource=" + self.a_ids[0])
        self.assertStatus(own, 200)
        self.assertEqual([r["resource_id"] for r in own.json["deliveries"]], [self.a_ids[0]])

    def test_retry_of_another_tenants_delivery_is_404(self):
        self._wait_all_failed()
        b_row = self._failed(self.b)[0]
        resp = self.a.post(f"/admin/v1/sync/deliveries/{b_row['id']}/retry")
        self.assertEqual(resp.status, 404, resp)
        still = [r for r in self._failed(self.b) if r["id"] == b_row["id"]]
        self.assertEqual(len(still), 1, "B's delivery must still be failed")
        self.assertEqual(still[0]["attempts"], b_row["attempts"])

    def test_status_counts_only_the_callers_tenant(self):
        self._wait_all_failed()
        a = self.a.get("/admin/v1/sync/status")
        self.assertStatus(a, 200)
        events = [t for t in a.json["targets"] if t["name"] == "events"][0]
        self.assertEqual(events["failed"] + events["pending"], len(self.a_ids))
        self.assertNotIn("beta", events["last_error"] or "")
        op = self.op.get("/admin/v1/sync/status")
        self.assertStatus(op, 200)
        total = [t for t in op.json["targets"] if t["name"] == "events"][0]
        self.assertEqual(total["failed"] + total["pending"], len(self.a_ids) + len(self.b_ids))

    def test_links_and_audit_of_another_tenant_are_invisible(self):
        resp = self.a.get("/admin/v1/sync/links?resource=" + self.b_ids[0])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["links"], [])
        audit = self.a.get("/admin/v1/audit?resource=" + self.b_ids[0])
        self.assertStatus(audit, 200)
        self.assertEqual(audit.json["entries"], [])
        mine = self.a.get("/admin/v1/audit")
        self.assertStatus(mine, 200)
        ids = {e["resource_id"] for e in mine.json["entries"]}
        self.assertTrue(set(self.a_ids) <= ids, mine)
        self.assertFalse(ids & set(self.b_ids), mine)

    # -- the operator --

    def test_operator_sees_every_tenant_and_filters_by_tenant(self):
        self.assertIsNotNone(self.op_token, "scimd token create --scopes operator failed")
        self._wait_all_failed()
        ids = {r["resource_id"] for r in self._failed(self.op)}
        self.assertTrue(set(self.a_ids + self.b_ids) <= ids)
        only_b = {r["resource_id"] for r in self._failed(self.op, "&tenant=beta")}
        self.assertEqual(only_b, set(self.b_ids))
        rows = self._failed(self.op, "&tenant=beta")
        self.assertTrue(all(r.get("tenant") == "beta" for r in rows), rows)

    def test_operator_retries_any_tenants_delivery(self):
        self.assertIsNotNone(self.op_token, "scimd token create --scopes operator failed")
        self._wait_all_failed()
        row = self._failed(self.b)[-1]
        resp = self.op.post(f"/admin/v1/sync/deliveries/{row['id']}/retry")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["status"], "pending")

    def test_operator_audit_by_tenant(self):
        self.assertIsNotNone(self.op_token, "scimd token create --scopes operator failed")
        resp = self.op.get("/admin/v1/audit?tenant=beta&resource=" +
                           urllib.parse.quote(self.b_ids[0]))
        self.assertStatus(resp, 200)
        self.assertEqual([e["resource_id"] for e in resp.json["entries"]], [self.b_ids[0]])
        self.assertEqual(resp.json["entries"][0]["tenant"], "beta")

    def test_operator_scope_is_not_a_scim_scope(self):
        self.assertIsNotNone(self.op_token, "scimd token create --scopes operator failed")
        self.assertEqual(self.op.get("/scim/v2/Users").status, 403)
        self.assertEqual(self.op.get("/scim/v2/Users?tenant=beta").status, 403)

    def test_operator_reads_scim_of_a_chosen_tenant_and_tenant_admins_cannot(self):
        reader = create_token(self.db, unique("op-reader"), "operator,scim:read", tenant="ops")
        client = Client(self.server.port, reader)
        try:
            own = client.get("/scim/v2/Users")
            self.assertStatus(own, 200)
            self.assertEqual(own.json["totalResults"], 0)  # its own tenant, ops, is empty
            beta = client.get("/scim/v2/Users?tenant=beta")
            self.assertStatus(beta, 200)
            self.assertEqual(sorted(r["id"] for r in beta.json["Resources"]), sorted(self.b_ids))
            one = client.get(f"/scim/v2/Users/{self.b_ids[0]}?tenant=beta")
            self.assertStatus(one, 200)
            self.assertStatus(client.get("/scim/v2/Users?tenant=nowhere"), 404)
        finally:
            client.close()
        # A tenant admin's ?tenant= changes nothing: still its own users only.
        mine = self.a.get("/scim/v2/Users?tenant=beta")
        self.assertStatus(mine, 200)
        self.assertEqual(sorted(r["id"] for r in mine.json["Resources"]), sorted(self.a_ids))
        self.assertEqual(self.a.get(f"/scim/v2/Users/{self.b_ids[0]}?tenant=beta").status, 404)


if __name__ == "__main__":
    import unittest
    unittest.main()
