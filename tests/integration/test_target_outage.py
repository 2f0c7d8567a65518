"""A target down for longer than the retry window (issue 12, "Outages of any length"): the
target-wide failures (503 on every call) pause the target behind a circuit breaker instead of
failing the deliveries; status, /metrics and `scimd sync status` show the pause, since when and
why; when the target answers again every change arrives once, in commit order, without an
operator. A per-record refusal (422) while the target is up still fails that delivery alone and
pauses nothing.

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import time
import unittest

from scimd_harness import run_cli, unique
from delivery_support import (FakeTargetsTestCase, deliveries, metric_value, metrics,
                              sync_status, user_body, wait_until)

# The retry window is about 70 ms: the engine before the breaker failed every delivery of an
# outage longer than that.
SHORT_RETRY = {"max_attempts": 2, "initial_backoff_ms": 20, "max_backoff_ms": 50}


class TargetOutageTest(FakeTargetsTestCase):
    fake_kinds = ("dolibarr",)
    retry = SHORT_RETRY

    def thirdparties(self, ids):
        return {tp["ref_ext"]: tp for tp in self.fakes["dolibarr"].records()["thirdparties"]
                if tp.get("ref_ext") in ids}

    def test_outage_longer_than_the_retry_window_pauses_and_resumes_in_order(self):
        dolibarr = self.fakes["dolibarr"]
        self.settle()
        before = sync_status(self.client)["dolibarr"]
        self.assertFalse(before["paused"])
        self.assertIsNone(before["paused_since"])
        self.assertEqual(metric_value(metrics(self.client), "scimd_target_paused",
                                      target="dolibarr"), 0)
        dolibarr.set_mode("error503")
        ids = []
        try:
            # 30 changes: 10 creates, each followed by two updates.
            for i in range(10):
                resp = self.post("/Users", user_body(unique("outage"), given="A0",
                                                     family=f"Out{i}"))
                self.assertStatus(resp, 201)
                ids.append(resp.json["id"])
            for given in ("A1", "A2"):
                for uid in ids:
                    self.assertStatus(self.patch(f"/Users/{uid}", [
                        {"op": "replace", "path": "name.givenName", "value": given}]), 200)
            status = wait_until(
                lambda: (lambda s: s if s["paused"] else None)(sync_status(self.client)["dolibarr"]),
                timeout=20, message="dolibarr to be paused")
            self.assertIn("503", status["pause_reason"])
            self.assertTrue(status["paused_since"])
            self.assertTrue(status["next_probe_at"])
            text = metrics(self.client)
            self.assertEqual(metric_value(text, "scimd_target_paused", target="dolibarr"), 1)
            self.assertIsNotNone(metric_value(text, "scimd_target_paused_seconds",
                                              target="dolibarr"))
            cli = run_cli("sync", "status", "--db", self.db).stdout
            self.assertIn("paused since", cli)
            self.assertIn("503", cli)
            # Far longer than the retry window: still nothing failed, nothing blocked.
            time.sleep(4.0)
            status = sync_status(self.client)["dolibarr"]
            self.assertTrue(status["paused"], status)
            self.assertEqual(status["failed"], before["failed"], status)
            self.assertEqual(status["blocked"], 0, status)
            self.assertEqual(status["pending"], 30, status)
            self.assertGreater(metric_value(metrics(self.client), "scimd_target_paused_seconds",
                                            target="dolibarr"), 3.0)
            # Only probes reached the target while it was paused: a handful, not 30 x retries.
            calls = [r for r in dolibarr.requests() if r["fault"] == "error503"]
            self.assertLess(len(calls), 20, len(calls))
        finally:
            dolibarr.normal()
        # Back up: delivery resumes by itself at the next probe (the interval is a few seconds
        # by now), with no `scimd sync retry`.
        self.settle(timeout=90)
        status = sync_status(self.client)["dolibarr"]
        self.assertFalse(status["paused"], status)
        self.assertIsNone(status["pause_reason"])
        self.assertEqual((status["failed"], status["blocked"], status["pending"]),
                         (before["failed"], 0, 0))
        self.assertEqual(metric_value(metrics(self.client), "scimd_target_paused",
                                      target="dolibarr"), 0)
        tps = self.thirdparties(set(ids))
        self.assertEqual({k: v["name"] for k, v in tps.items()},
                         {uid: f"A2 Out{i}" for i, uid in enumerate(ids)})
        # Per user, in commit order and once each: the create, then the two updates; changes
        # queued behind the outage may reach it coalesced (issue 12: one call with the last
        # state), so a state can be skipped but never repeated or reordered, and the last wins.
        for i, uid in enumerate(ids):
            tp_id = str(tps[uid]["id"])
            writes = [(r["method"], r["body"]["name"]) for r in dolibarr.requests()
                      if r["status"] == 200 and r["method"] in ("POST", "PUT")
                      and (r["body"].get("ref_ext") == uid
                           or r["path"].endswith(f"/thirdparties/{tp_id}"))]
            full = [("POST", f"A0 Out{i}"), ("PUT", f"A1 Out{i}"), ("PUT", f"A2 Out{i}")]
            names = [n for _, n in full]
            self.assertEqual([m for m, _ in writes], ["POST"] + ["PUT"] * (len(writes) - 1), uid)
            order = [names.index(n) for _, n in writes]
            self.assertEqual(order, sorted(set(order)), (uid, writes))
            self.assertEqual(writes[-1][1], f"A2 Out{i}", uid)

    def test_per_record_refusal_fails_alone_and_pauses_nothing(self):
        dolibarr = self.fakes["dolibarr"]
        self.settle()
        before = sync_status(self.client)["dolibarr"]
        dolibarr.set_mode("error422", method="POST", count=1)
        try:
            refused = self.post("/Users", user_body(unique("refused"), family="Refused"))
            self.assertStatus(refused, 201)
            rid = refused.json["id"]
            wait_until(lambda: sync_status(self.client)["dolibarr"]["failed"] == before["failed"] + 1,
                       timeout=20, message="the refused create to fail")
        finally:
            dolibarr.normal()
        status = sync_status(self.client)["dolibarr"]
        self.assertFalse(status["paused"], status)
        self.assertIn("422", status["last_error"])
        failed = [d for d in deliveries(self.client, status="failed", target="dolibarr")
                  if d["resource_id"] == rid]
        self.assertEqual(len(failed), 1, failed)
        self.assertEqual(failed[0]["attempts"], 1)
        # The target is up: the next change goes out at once.
        other = self.post("/Users", user_body(unique("fine"), given="Fine", family="Fine"))
        self.assertStatus(other, 201)
        self.settle()
        self.assertIn(other.json["id"], self.thirdparties({other.json["id"]}))
        self.assertEqual(metric_value(metrics(self.client), "scimd_target_paused",
                                      target="dolibarr"), 0)
        # An operator re-queues the refused one.
        out = run_cli("sync", "retry", "--db", self.db, "--target", "dolibarr").stdout
        self.assertEqual(out.strip(), "1 failed deliveries re-queued")
        self.settle()
        self.assertIn(rid, self.thirdparties({rid}))
        self.assertEqual(sync_status(self.client)["dolibarr"]["failed"], before["failed"])


if __name__ == "__main__":
    unittest.main()
