"""Stores and organizations at scale to the CRM (issue 11, "Stores and organizations at scale";
contract shared/contracts/crm.md): the real scimd delivers to the CRM fake (tests/fakes/crm_fake.py).

- 2,000 Groups of kind `store` created by /Bulk reach the CRM in bulk-import calls of at most
  1,000 stores (the engine's batch delivery, TargetAdapter::DeliverBatch), not one call each; the
  fake counts its calls. Every store is there with its fields; one store the CRM refuses (a
  per-store error in the import's answer) fails that store's delivery only.
- Organizations with many members (users created by /Bulk first) reach the CRM with every
  membership. The test runs 10 organizations of 200 members (2,000 memberships, one PUT each:
  the contract has no bulk membership call); the issue's 500 x 200 (100,000 PUTs) is measured
  by tests/bench/crm_scale.py instead, which takes minutes.

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import os
import sys
import time
import unittest

from scimd_harness import Client, scim_path, unique
from delivery_support import (FakeTargetsTestCase, deliveries, group_body, sync_status,
                              user_body, wait_until)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SPC = "/ServiceProviderConfig"

STORES = 2000
ORGS = int(os.environ.get("SCIMD_CRM_ORGS", "10"))
MEMBERS = int(os.environ.get("SCIMD_CRM_MEMBERS", "200"))
# The bench (tests/bench/crm_scale.py) runs larger shapes: wait in proportion.
MEMBERSHIP_TIMEOUT = max(300.0, ORGS * MEMBERS / 50.0)


def report(what, started):
    """One timing line on stderr (read by tests/bench/crm_scale.py)."""
    print(f"crm-at-scale: {what}: {time.monotonic() - started:.1f} s", file=sys.stderr)


class CrmAtScaleTest(FakeTargetsTestCase):
    fake_kinds = ("crm",)
    rejected_name = "store-rejected-by-crm"
    fake_configs = {"crm": {"reject_store_names": [rejected_name]}}
    retry = {"max_attempts": 5, "initial_backoff_ms": 50, "max_backoff_ms": 500}
    delivery_yaml = "limits: {rate_limit_per_minute: 0}\n"

    @property
    def crm(self):
        return self.fakes["crm"]

    def bulk_posts(self, path, bodies, per_request=1000):
        """POSTs every body through /Bulk (per_request operations a request, at most what
        maxOperations allows) on a client that waits long enough for a big Bulk; the new ids,
        in order."""
        spc = self.get(SPC)
        self.assertStatus(spc, 200)
        per_request = max(1, min(per_request, spc.json["bulk"]["maxOperations"]))
        ids = []
        client = Client(self.server.port, self.token, timeout=600.0)
        self.addCleanup(client.close)
        for start in range(0, len(bodies), per_request):
            chunk = bodies[start:start + per_request]
            ops = [{"method": "POST", "path": path, "bulkId": f"b{start + i}", "data": body}
                   for i, body in enumerate(chunk)]
            resp = client.request("POST", scim_path("/Bulk"),
                                  {"schemas": [BULK_REQUEST], "Operations": ops})
            self.assertStatus(resp, 200)
            for op in resp.json["Operations"]:
                self.assertEqual(op["status"], "201", op)
                ids.append(op["location"].rsplit("/", 1)[1])
        self.assertEqual(len(ids), len(bodies))
        return ids

    def settled(self, timeout):
        def done():
            line = sync_status(self.client)["crm"]
            if line["pending"]:
                raise AssertionError(f"crm pending {line['pending']}")
            return True
        self.settle(timeout=timeout)
        wait_until(done, timeout=timeout, message="the CRM's deliveries to settle")

    def test_stores_reach_the_crm_in_bulk_imports(self):
        tag = unique("st")
        names = [f"{tag}-{i:04d}" for i in range(STORES)]
        rejected_at = 1234
        names[rejected_at] = self.rejected_name
        bodies = [group_body(name, kind="store", location=f"City {i % 17}",
                             address=f"{i} Main Street", phone=f"+1 555 {i:04d}")
                  for i, name in enumerate(names)]
        calls_before = self.crm.records()["calls"].get("bulk_import_stores", 0)
        sizes_before = len(self.crm.records()["bulk_import_sizes"])
        started = time.monotonic()
        ids = self.bulk_posts("/Groups", bodies)
        report(f"{STORES} stores created by /Bulk", started)
        self.settled(timeout=180)
        report(f"{STORES} stores created and delivered", started)

        records = self.crm.records()
        sizes = records["bulk_import_sizes"][sizes_before:]
        calls = records["calls"].get("bulk_import_stores", 0) - calls_before
        self.assertEqual(calls, len(sizes))
        print(f"crm-at-scale: bulk-import calls of {sizes} stores", file=sys.stderr)
        # Not one call per store: a handful of imports of at most 1,000 (the contract's limit).
        self.assertLessEqual(calls, 8, sizes)
        self.assertTrue(all(1 <= n <= 1000 for n in sizes), sizes)
        self.assertEqual(sum(sizes), STORES, sizes)  # each store sent once

        stores = {s["external_id"]: s for s in records["stores"]}
        for i, (scim_id, name) in enumerate(zip(ids, names)):
            if i == rejected_at:
                self.assertNotIn(scim_id, stores)
                continue
            store = stores.get(scim_id)
            self.assertIsNotNone(store, f"store {name} ({scim_id}) missing at the CRM")
            self.assertEqual(store["name"], name)
            self.assertEqual(store["location"], f"City {i % 17}")
            self.assertEqual(store["address"], f"{i} Main Street")
            self.assertEqual(store["phone"], f"+1 555 {i:04d}")

        # The refused store fails alone, with the CRM's message.
        failed = [d for d in deliveries(self.client, status="failed", target="crm")]
        self.assertEqual([d["resource_id"] for d in failed], [ids[rejected_at]], failed)
        self.assertIn("reject_store_names", failed[0]["last_error"])
        status = sync_status(self.client)["crm"]
        self.assertEqual(status["failed"], 1, status)

    def test_organizations_reach_the_crm_with_their_members(self):
        tag = unique("om")
        users = [user_body(f"{tag}-{i:04d}") for i in range(MEMBERS)]
        started = time.monotonic()
        user_ids = self.bulk_posts("/Users", users)
        self.settled(timeout=180)
        report(f"{MEMBERS} users created and delivered", started)
        orgs = [group_body(f"{tag}-org-{j:03d}", kind="organization", members=user_ids)
                for j in range(ORGS)]
        started = time.monotonic()
        org_ids = self.bulk_posts("/Groups", orgs, per_request=5)
        report(f"{ORGS} organizations of {MEMBERS} members created by /Bulk", started)
        self.settled(timeout=MEMBERSHIP_TIMEOUT)
        report(f"{ORGS} organizations of {MEMBERS} members created and delivered", started)

        records = self.crm.records()
        crm_user_of = {u["externalIds"]["scim"]: u["id"] for u in records["users"]
                       if u["externalIds"].get("scim") in set(user_ids)}
        self.assertEqual(len(crm_user_of), MEMBERS)
        org_of = {o["externalId"]: o["id"] for o in records["organizations"]}
        wanted = {crm_user_of[u] for u in user_ids}
        members = {}
        for m in records["memberships"]:
            members.setdefault(m["organizationId"], {})[m["userId"]] = m["role"]
        for scim_id in org_ids:
            self.assertIn(scim_id, org_of, "organization missing at the CRM")
            got = members.get(org_of[scim_id], {})
            self.assertEqual(set(got), wanted, f"organization {scim_id}")
            self.assertEqual(set(got.values()), {"member"})
        self.assertEqual(sum(len(members.get(org_of[o], {})) for o in org_ids), ORGS * MEMBERS)
        # One membership PUT each (the contract has no bulk call for them), nothing repeated.
        calls = records["calls"]
        self.assertGreaterEqual(calls.get("put_membership", 0), ORGS * MEMBERS)
        self.assertLessEqual(calls.get("put_membership", 0), ORGS * MEMBERS * 1.05)


if __name__ == "__main__":
    unittest.main()
