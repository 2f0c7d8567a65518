"""Delivery to Dolibarr as a real Dolibarr 22.0.4 answers (issue 13, "Real Dolibarr"): the real
scimd binary delivers to the Dolibarr fake, which replays the recorded behaviour
(tests/fakes/fixtures/dolibarr-22.0.4-capture.jsonl, checked by tests/fakes/test_dolibarr_capture.py):
its database down (202 with HTML), two third parties sharing a user's e-mail, SOCIETE_EMAIL_UNIQUE's
500, and a `department` extra field Dolibarr does not define (a notice in sync status).

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import json
import time
import unittest
import urllib.request

from scimd_harness import run_cli, unique
from delivery_support import (DOLIBARR_API_KEY, FakeTargetsTestCase, deliveries, links,
                              sync_status, user_body, wait_until)

PATIENT_RETRY = {"max_attempts": 200, "initial_backoff_ms": 50, "max_backoff_ms": 200}


class RealDolibarrTest(FakeTargetsTestCase):
    fake_kinds = ("dolibarr",)
    retry = PATIENT_RETRY
    # The answer "is `department` defined?" is trusted for one second here (600 by default).
    target_extra = {"dolibarr": {"department_field_recheck_seconds": 1}}

    def setUp(self):
        super().setUp()
        self.fake = self.fakes["dolibarr"]
        self.fake.normal()
        self.fake.set_config(database_down=False, email_unique=False, department_extrafield=True)

    # -- helpers --

    def dolibarr_post(self, body):
        """Creates a third party through the fake's Dolibarr API (as another program would)."""
        request = urllib.request.Request(
            f"{self.fake.base}/api/index.php/thirdparties", data=json.dumps(body).encode(),
            method="POST", headers={"DOLAPIKEY": DOLIBARR_API_KEY,
                                    "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return str(json.loads(resp.read()))

    def with_email(self, email):
        return [tp for tp in self.fake.records()["thirdparties"]
                if (tp.get("email") or "").lower() == email.lower()]

    def create_user(self, **kw):
        name = unique("dr")
        resp = self.post("/Users", user_body(name, **kw))
        self.assertStatus(resp, 201)
        return resp.json

    def failed_error(self, user_id):
        rows = [d for d in deliveries(self.client, status="failed", target="dolibarr")
                if d["resource_id"] == user_id]
        return rows[0]["last_error"] if rows else None

    # -- tests --

    def test_database_down_is_named_and_the_delivery_succeeds_once_it_is_back(self):
        self.fake.set_config(database_down=True)
        user = self.create_user(given="Down", family="Time")

        def named():
            error = sync_status(self.client)["dolibarr"]["last_error"] or ""
            if "Dolibarr answered 202 with HTML: its database may be down" in error:
                return error
            raise AssertionError(error)
        error = wait_until(named, timeout=20, message="the 202 HTML error in sync status")
        self.assertNotIn("API module", error)
        self.assertEqual(links(self.client, user["id"]), {})
        cli = run_cli("sync", "status", "--db", self.db).stdout
        self.assertIn("its database may be down", cli)

        self.fake.set_config(database_down=False)
        self.settle(timeout=30)
        tps = [tp for tp in self.fake.records()["thirdparties"] if tp.get("ref_ext") == user["id"]]
        self.assertEqual(len(tps), 1, tps)
        self.assertEqual(links(self.client, user["id"]), {"dolibarr": str(tps[0]["id"])})
        self.assertIsNone(self.failed_error(user["id"]))

    def test_shared_email_without_a_matching_ref_ext_is_a_conflict(self):
        email = unique("twin") + "@example.com"
        first = self.dolibarr_post({"name": "Twin One", "email": email})
        second = self.dolibarr_post({"name": "Twin Two", "email": email, "ref_ext": "elsewhere"})
        user = self.create_user(email=email)
        self.settle(timeout=30)
        error = self.failed_error(user["id"])
        self.assertIsNotNone(error, deliveries(self.client, target="dolibarr"))
        self.assertIn(f"conflict: Dolibarr third parties {first}, {second} share the e-mail {email}",
                      error)
        self.assertEqual(len(self.with_email(email)), 2)  # no third twin
        self.assertEqual(links(self.client, user["id"]), {})

    def test_shared_email_with_a_matching_ref_ext_is_adopted(self):
        email = unique("adopt") + "@example.com"
        # Hold scimd's look-ups back while the twins are made with the user's SCIM id.
        self.fake.set_mode("error503", method="GET", path_prefix="/api/index.php/thirdparties")
        user = self.create_user(email=email)
        other = self.dolibarr_post({"name": "Imported", "email": email})
        mine = self.dolibarr_post({"name": "Linked", "email": email, "ref_ext": user["id"]})
        self.fake.normal()
        self.settle(timeout=30)
        self.assertEqual(links(self.client, user["id"]), {"dolibarr": mine})
        self.assertEqual(sorted(str(tp["id"]) for tp in self.with_email(email)),
                         sorted([other, mine]))
        self.assertIsNone(self.failed_error(user["id"]))

    def test_email_unique_refusal_fails_that_user_naming_the_email(self):
        self.fake.set_config(email_unique=True)
        email = unique("uniq") + "@example.com"
        self.dolibarr_post({"name": "Someone Else", "email": email, "ref_ext": "another-scim-id"})
        user = self.create_user(email=email)
        self.settle(timeout=30)
        error = self.failed_error(user["id"])
        self.assertIsNotNone(error)
        self.assertIn("HTTP 500", error)
        self.assertIn("SOCIETE_EMAIL_UNIQUE", error)
        self.assertIn(email, error)
        self.assertEqual(len(self.with_email(email)), 1)
        # Other users still go through.
        fine = self.create_user()
        self.settle(timeout=30)
        self.assertIn("dolibarr", links(self.client, fine["id"]))

    def test_undefined_department_field_is_a_notice_and_the_rest_is_delivered(self):
        self.fake.set_config(department_extrafield=False)
        time.sleep(1.2)  # past the adapter's re-check interval
        user = self.create_user(given="Grace", family="Hopper", department="Navy")
        self.settle(timeout=30)
        tps = [tp for tp in self.fake.records()["thirdparties"] if tp.get("ref_ext") == user["id"]]
        self.assertEqual(len(tps), 1, tps)
        self.assertEqual(tps[0]["name"], "Grace Hopper")
        self.assertEqual(tps[0]["email"], user["emails"][0]["value"])
        self.assertEqual(tps[0]["array_options"], {})  # nothing sent that Dolibarr would drop
        self.assertIsNone(self.failed_error(user["id"]))

        notices = sync_status(self.client)["dolibarr"]["notices"]
        self.assertEqual([n["topic"] for n in notices], ["department"], notices)
        self.assertIn("Dolibarr defines no extra field 'department'", notices[0]["message"])
        self.assertIn("not sent", notices[0]["message"])
        self.assertTrue(notices[0]["since"].endswith("Z"), notices[0])
        cli = run_cli("sync", "status", "--db", self.db).stdout
        self.assertIn("notice dolibarr: department: Dolibarr defines no extra field 'department'",
                      cli)

        # Once Dolibarr defines it, the next check clears the notice and the value goes out.
        self.fake.set_config(department_extrafield=True)
        time.sleep(1.2)
        self.assertIn(self.patch(f"/Users/{user['id']}", [
            {"op": "replace", "path": "name.familyName", "value": "Murray Hopper"}]).status,
            (200, 204))
        self.settle(timeout=30)
        wait_until(lambda: sync_status(self.client)["dolibarr"]["notices"] == [], timeout=10,
                   message="the notice to clear")
        tp = [tp for tp in self.fake.records()["thirdparties"] if tp.get("ref_ext") == user["id"]][0]
        self.assertEqual(tp["array_options"], {"options_department": "Navy"})


if __name__ == "__main__":
    unittest.main()
