"""Coalescing (issue 12; docs/architecture.md, "Delivery"): pending changes of one resource reach
a target in one call with the last state. The real scimd delivers to the CRM and webhook fakes
(tests/fakes/) started in their own processes: while the CRM takes its time over a User's
creation, five quick PATCHes of that User queue up behind it, and then reach the CRM in fewer
calls than five, with the final state; every delivery row is delivered, the coalesced ones
with a note naming the call. The webhook receiver, whose subscribers expect every change
(product.md), still gets one SET per change.

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import time
import unittest

from scimd_harness import unique
from delivery_support import (FakeTargetsTestCase, deliveries, patch_body, set_subject,
                              user_body, wait_until)


class CoalesceTest(FakeTargetsTestCase):
    fake_kinds = ("crm", "webhook")
    retry = {"max_attempts": 10, "initial_backoff_ms": 50, "max_backoff_ms": 500}

    def tearDown(self):
        for fake in self.fakes.values():
            fake.normal()
        super().tearDown()

    def crm_user(self, scim_id):
        found = [u for u in self.fakes["crm"].records()["users"]
                 if u["externalIds"].get("scim") == scim_id]
        self.assertEqual(len(found), 1, f"CRM users of {scim_id}: {found}")
        return found[0]

    def test_five_quick_patches_reach_the_crm_in_fewer_calls(self):
        crm = self.fakes["crm"]
        since = crm.requests()[-1]["seq"] if crm.requests() else 0
        # The CRM answers the creation after 1.5 s: the PATCHes commit while it is in flight.
        crm.set_mode("slow", delay_ms=1500, count=1, method="POST", path_prefix="/users")
        name = unique("coal")
        resp = self.post("/Users", user_body(name, given="G0", family="Burst"))
        self.assertStatus(resp, 201)
        user_id = resp.json["id"]
        time.sleep(0.3)  # the creation is claimed and on its way
        for i in range(1, 6):
            resp = self.patch(f"/Users/{user_id}", patch_body(
                {"op": "replace", "path": "name.givenName", "value": f"G{i}"}))
            self.assertIn(resp.status, (200, 204), resp)

        def crm_final():
            user = self.crm_user(user_id)
            if "G5" not in user["name"]:
                raise AssertionError(f"CRM user not at the final state yet: {user}")
            return user
        wait_until(crm_final, timeout=30, interval=0.1, message="the last PATCH at the CRM")
        self.settle()
        user = self.crm_user(user_id)
        self.assertEqual(user["name"], "G5 Burst")

        calls = [r for r in crm.requests(since)
                 if r["method"] in ("POST", "PATCH") and r["path"].startswith("/users")]
        patches = [r for r in calls if r["method"] == "PATCH"]
        # One creation; the five changes in fewer calls than five (one, unless a change
        # committed after the run was claimed).
        self.assertEqual(len([r for r in calls if r["method"] == "POST"]), 1, calls)
        self.assertLess(len(patches), 5, patches)
        self.assertGreaterEqual(len(patches), 1, patches)

        rows = [d for d in deliveries(self.client, target="crm") if d["resource_id"] == user_id]
        self.assertEqual(len(rows), 6, rows)
        self.assertTrue(all(d["status"] == "delivered" for d in rows), rows)
        noted = [d for d in rows if (d.get("last_error") or "").startswith("coalesced: seq ")]
        self.assertGreaterEqual(len(noted), 2, rows)

        # The webhook does not coalesce: one SET per change (create + 5 patches).
        def six_sets():
            sets = [e for e in self.fakes["webhook"].records()["events"]
                    if set_subject(e) == ("Users", user_id)]
            if len(sets) < 6:
                raise AssertionError(f"{len(sets)} SETs so far")
            return sets
        sets = wait_until(six_sets, timeout=30, interval=0.1, message="six SETs")
        self.assertEqual(len(sets), 6)


if __name__ == "__main__":
    unittest.main()
