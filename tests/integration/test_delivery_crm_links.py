"""The CRM's `externalIds` and memberships, end to end (docs/product.md, "Schemas and URNs" and
"What the targets receive"; issue 13): the real scimd delivers to the CRM, Dolibarr and Clerk
fakes (tests/fakes/) started in their own processes.

- Ids of systems scimd does not push to: the scimd User extension's `externalIds` reach the CRM
  next to the targets' links; a system removed from the extension becomes null there; a system
  named like a scimd target is ignored (the target's link wins). The extension is filterable.
- Links that come later: when Dolibarr links a User after the CRM user was created (the CRM is
  fast, Dolibarr slow), the CRM user is refreshed with the Dolibarr id; a new link (after the
  third party was deleted in Dolibarr) replaces the old id.
- Role changes: a User's new role reaches its memberships in the CRM and in Clerk.

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import http.client
import json
import unittest

from scimd_harness import unique
from delivery_support import (DOLIBARR_API_KEY, FakeTargetsTestCase, group_body,
                              links, user_body, wait_until)

EXT = "urn:scimd:params:scim:schemas:extension:2.0:User"


def with_ids(body, ids):
    body = dict(body)
    body["schemas"] = list(body["schemas"]) + [EXT]
    body[EXT] = {"externalIds": [{"system": s, "value": v} for s, v in ids]}
    return body


class CrmLinksTest(FakeTargetsTestCase):
    fake_kinds = ("dolibarr", "crm", "clerk")
    retry = {"max_attempts": 10, "initial_backoff_ms": 50, "max_backoff_ms": 500}
    target_extra = {"clerk": {"role_map": '{admin: "org:admin"}'}}

    def tearDown(self):
        for fake in self.fakes.values():
            fake.normal()
        super().tearDown()

    # -- helpers --

    def crm_user(self, scim_id):
        found = [u for u in self.fakes["crm"].records()["users"]
                 if u["externalIds"].get("scim") == scim_id]
        self.assertEqual(len(found), 1, f"CRM users of {scim_id}: {found}")
        return found[0]

    def crm_memberships(self, org_id):
        return {m["userId"]: m["role"] for m in self.fakes["crm"].records()["memberships"]
                if m["organizationId"] == org_id}

    def clerk_memberships(self, org_id):
        return {m["user_id"]: m["role"] for m in self.fakes["clerk"].records()["memberships"]
                if m["organization_id"] == org_id}

    def create_user(self, ids=None, **kw):
        body = user_body(unique("crml"), **kw)
        if ids is not None:
            body = with_ids(body, ids)
        resp = self.post("/Users", body)
        self.assertStatus(resp, 201)
        return resp.json

    def crm_patches(self, crm_id, since):
        return [r["body"] if isinstance(r["body"], dict) else json.loads(r["body"])
                for r in self.fakes["crm"].requests(since)
                if r["method"] == "PATCH" and r["path"] == f"/users/{crm_id}" and r["body"]]

    def last_seq(self, kind):
        reqs = self.fakes[kind].requests()
        return reqs[-1]["seq"] if reqs else 0

    def search(self, filter_text):
        resp = self.post("/Users/.search", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": filter_text})
        self.assertStatus(resp, 200)
        return sorted(r["id"] for r in resp.json.get("Resources", []))

    # -- (a) ids of systems scimd does not push to --

    def test_extension_ids_reach_the_crm_and_removed_ones_become_null(self):
        user = self.create_user(ids=[("supabase", "sb-1"), ("erp", "E-7"),
                                     ("dolibarr", "not-the-link"), ("scim", "not-the-id")])
        other = self.create_user(ids=[("supabase", "sb-2")])
        got = self.get(f"/Users/{user['id']}").json
        self.assertEqual([(e["system"], e["value"]) for e in got[EXT]["externalIds"]],
                         [("supabase", "sb-1"), ("erp", "E-7"), ("dolibarr", "not-the-link"),
                          ("scim", "not-the-id")])
        self.settle()
        ids = links(self.client, user["id"])
        crm = self.crm_user(user["id"])
        # The targets' own links win over a client-written system of the same name.
        self.assertEqual(crm["externalIds"], {"scim": user["id"], "dolibarr": ids["dolibarr"],
                                              "clerk": ids["clerk"], "supabase": "sb-1",
                                              "erp": "E-7"})

        # Filtering on the extension (value path and plain sub-attribute).
        self.assertEqual(self.search(f'{EXT}:externalIds[system eq "supabase"].value eq "sb-1"'),
                         [user["id"]])
        self.assertEqual(self.search(f'{EXT}:externalIds[system eq "erp"].value eq "sb-1"'), [])
        self.assertEqual(self.search(f'{EXT}:externalIds.value eq "sb-2"'), [other["id"]])
        self.assertEqual(self.search(f'{EXT}:externalIds[system eq "supabase" and value eq "sb-2"]'),
                         [other["id"]])
        # Projection.
        resp = self.get(f"/Users/{user['id']}?attributes={EXT}:externalIds.system")
        self.assertStatus(resp, 200)
        self.assertEqual([e for e in resp.json[EXT]["externalIds"]],
                         [{"system": "supabase"}, {"system": "erp"}, {"system": "dolibarr"},
                          {"system": "scim"}])
        self.assertNotIn("emails", resp.json)

        # PATCH: drop erp, change supabase. The CRM gets erp: null.
        since = self.last_seq("crm")
        resp = self.patch(f"/Users/{user['id']}", [
            {"op": "remove", "path": f'{EXT}:externalIds[system eq "erp"]'},
            {"op": "replace", "path": f'{EXT}:externalIds[system eq "supabase"].value',
             "value": "sb-1b"}])
        self.assertIn(resp.status, (200, 204), resp)
        self.settle()
        crm = self.crm_user(user["id"])
        self.assertEqual(crm["externalIds"], {"scim": user["id"], "dolibarr": ids["dolibarr"],
                                              "clerk": ids["clerk"], "supabase": "sb-1b"})
        sent = self.crm_patches(crm["id"], since)
        self.assertTrue(any(p.get("externalIds", {}).get("erp", "absent") is None for p in sent),
                        sent)
        # Removing the client-written "dolibarr" never nulls the target's link.
        self.assertFalse(any("dolibarr" in p.get("externalIds", {}) and
                             p["externalIds"]["dolibarr"] is None for p in sent), sent)

        # PUT without the extension: every client-written system goes.
        body = user_body(user["userName"], email=user["emails"][0]["value"])
        self.assertStatus(self.put(f"/Users/{user['id']}", body), 200)
        self.settle()
        crm = self.crm_user(user["id"])
        self.assertEqual(crm["externalIds"], {"scim": user["id"], "dolibarr": ids["dolibarr"],
                                              "clerk": ids["clerk"]})

    def test_extension_is_validated(self):
        body = user_body(unique("crml"))
        body["schemas"].append(EXT)
        body[EXT] = {"externalIds": [{"system": "supabase", "value": 7}]}
        self.assertScimError(self.post("/Users", body), 400)
        body[EXT] = {"externalIds": "sb-1"}
        self.assertScimError(self.post("/Users", body), 400)
        body[EXT] = {"externalIds": [{"value": "sb-1"}]}  # system is required
        self.assertScimError(self.post("/Users", body), 400)
        body[EXT] = {"externalIds": [{"system": "supabase", "value": "sb-1", "bogus": 1}]}
        self.assertScimError(self.post("/Users", body), 400)

    # -- (b) links that come later --

    def test_link_made_after_the_crm_user_reaches_it(self):
        # The CRM is fast; Dolibarr answers its creates 2 s late.
        self.fakes["dolibarr"].set_mode("slow", delay_ms=2000, method="POST")
        user = self.create_user(ids=[("supabase", "sb-9")])

        def crm_created():
            found = [u for u in self.fakes["crm"].records()["users"]
                     if u["externalIds"].get("scim") == user["id"]]
            return found[0] if found else None

        early = wait_until(crm_created, timeout=20, message="the CRM user")
        self.assertNotIn("dolibarr", links(self.client, user["id"]),
                         "Dolibarr answered before the CRM; the race was not reproduced")
        self.assertNotIn("dolibarr", early["externalIds"])
        self.settle(timeout=30)
        ids = links(self.client, user["id"])
        self.assertIn("dolibarr", ids)
        crm = self.crm_user(user["id"])
        self.assertEqual(crm["externalIds"], {"scim": user["id"], "dolibarr": ids["dolibarr"],
                                              "clerk": ids["clerk"], "supabase": "sb-9"})
        # The refresh is a delivery of its own (a manual-sync-like event for the CRM alone).
        to_crm = self.get(f"/admin/v1/sync/deliveries?target=crm&resource={user['id']}").json[
            "deliveries"]
        self.assertGreaterEqual(len(to_crm), 2, to_crm)
        self.assertTrue(all(d["status"] == "delivered" for d in to_crm), to_crm)

    def test_new_link_replaces_the_old_id(self):
        user = self.create_user()
        self.settle()
        old = links(self.client, user["id"])["dolibarr"]
        self.assertEqual(self.crm_user(user["id"])["externalIds"]["dolibarr"], old)
        # The third party is deleted in Dolibarr; the next change creates a new one.
        conn = http.client.HTTPConnection("127.0.0.1", self.fakes["dolibarr"].port, timeout=10)
        conn.request("DELETE", f"/api/index.php/thirdparties/{old}",
                     headers={"DOLAPIKEY": DOLIBARR_API_KEY})
        status = conn.getresponse().status
        conn.close()
        self.assertEqual(status, 200)
        self.assertIn(self.patch(f"/Users/{user['id']}", [
            {"op": "replace", "path": "name.familyName", "value": "Byron"}]).status, (200, 204))
        self.settle()
        new = links(self.client, user["id"])["dolibarr"]
        self.assertNotEqual(new, old)
        self.assertEqual(self.crm_user(user["id"])["externalIds"]["dolibarr"], new)

    # -- (c) role changes reach memberships --

    def test_role_change_reaches_crm_and_clerk_memberships(self):
        alice = self.create_user(roles=[{"value": "sales"}])
        bob = self.create_user(roles=[{"value": "staff"}, {"value": "admin", "primary": True}])
        org1 = self.post("/Groups", group_body(unique("Org "), kind="organization",
                                               members=[alice["id"], bob["id"]]))
        org2 = self.post("/Groups", group_body(unique("Org "), kind="organization",
                                               members=[alice["id"]]))
        store = self.post("/Groups", group_body(unique("Store "), kind="store",
                                                members=[alice["id"]]))
        plain = self.post("/Groups", group_body(unique("Team "), members=[alice["id"]]))
        for resp in (org1, org2, store, plain):
            self.assertStatus(resp, 201)
        self.settle()
        crm_a = links(self.client, alice["id"])["crm"]
        crm_b = links(self.client, bob["id"])["crm"]
        clerk_a = links(self.client, alice["id"])["clerk"]
        o1, o2 = links(self.client, org1.json["id"]), links(self.client, org2.json["id"])
        self.assertEqual(self.crm_memberships(o1["crm"]), {crm_a: "sales", crm_b: "admin"})
        self.assertEqual(self.crm_memberships(o2["crm"]), {crm_a: "sales"})
        self.assertEqual(self.clerk_memberships(o1["clerk"])[clerk_a], "org:member")

        # PATCH: alice becomes admin (primary) in both organizations, at the CRM and at Clerk.
        self.assertIn(self.patch(f"/Users/{alice['id']}", [
            {"op": "add", "path": "roles", "value": [{"value": "admin", "primary": True}]}]).status,
            (200, 204))
        self.settle()
        self.assertEqual(self.crm_memberships(o1["crm"]), {crm_a: "admin", crm_b: "admin"})
        self.assertEqual(self.crm_memberships(o2["crm"]), {crm_a: "admin"})
        self.assertEqual(self.clerk_memberships(o1["clerk"])[clerk_a], "org:admin")
        self.assertEqual(self.clerk_memberships(o2["clerk"])[clerk_a], "org:admin")

        # PUT: bob loses his roles → "member"; alice untouched.
        body = user_body(bob["userName"], email=bob["emails"][0]["value"])
        self.assertStatus(self.put(f"/Users/{bob['id']}", body), 200)
        self.settle()
        self.assertEqual(self.crm_memberships(o1["crm"]), {crm_a: "admin", crm_b: "member"})

        # A change that keeps the role sends no membership update.
        since = self.last_seq("crm")
        self.assertIn(self.patch(f"/Users/{alice['id']}", [
            {"op": "replace", "path": "name.givenName", "value": "Alicia"}]).status, (200, 204))
        self.settle()
        puts = [r for r in self.fakes["crm"].requests(since)
                if r["method"] == "PUT" and "/memberships/" in r["path"]]
        self.assertEqual(puts, [])

    def test_role_change_right_after_joining(self):
        # The organization's delivery may run after the role change's: it uses the role the user
        # has when it runs, so the old role never comes back (CRM and Clerk).
        for _ in range(3):
            user = self.create_user(roles=[{"value": "sales"}])
            org = self.post("/Groups", group_body(unique("Org "), kind="organization",
                                                  members=[user["id"]]))
            self.assertStatus(org, 201)
            self.assertIn(self.patch(f"/Users/{user['id']}", [
                {"op": "replace", "path": "roles", "value": [{"value": "admin"}]}]).status,
                (200, 204))
            self.settle()
            ids, org_ids = links(self.client, user["id"]), links(self.client, org.json["id"])
            self.assertEqual(self.crm_memberships(org_ids["crm"]), {ids["crm"]: "admin"})
            self.assertEqual(self.clerk_memberships(org_ids["clerk"]), {ids["clerk"]: "org:admin"})

if __name__ == "__main__":
    unittest.main()
