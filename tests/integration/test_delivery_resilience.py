"""Delivery under failure: targets down and back, poison events, kill -9 of scimd in the middle
of a stream of writes, and two scimd processes sharing one PostgreSQL database. The real scimd
binary delivers to the fakes (tests/fakes) started in their own processes; the assertions read
the fakes' records and request logs.

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import collections
import signal
import threading
import time
import unittest

from scimd_harness import (Client, ScimdServer, psql, run_cli, test_db_kind, unique)
from delivery_support import (
    EVENT_CREATE, EVENT_PATCH, SECRETS_ENV, FakeTargetsTestCase, deliveries, links,
    metric_value, metrics, set_subject, sync_status, user_body, verify_hs256, wait_until)

FAST_RETRY = {"max_attempts": 3, "initial_backoff_ms": 50, "max_backoff_ms": 100}
PATIENT_RETRY = {"max_attempts": 200, "initial_backoff_ms": 50, "max_backoff_ms": 200}


def accepted_sets(fake, collection="Users"):
    """{resource id: [claims...]} of the SETs the receiver accepted, in arrival order, each
    signature checked; duplicates (a jti seen before) included."""
    out = collections.defaultdict(list)
    for event in fake.records()["events"]:
        _, claims = verify_hs256(event["token"])
        coll, rid = set_subject(event)
        if coll == collection:
            out[rid].append(dict(claims, _duplicate=event["duplicate"],
                                 _request_seq=event["request_seq"]))
    return out


def set_version(claims):
    body = next(iter(claims["events"].values()))
    return int(body["version"].strip('W/"')) if "version" in body else None


def ok_crm_writes(requests):
    """{scim id or CRM id: [request...]} of the CRM's successful user writes (POST/PATCH)."""
    out = collections.defaultdict(list)
    for r in requests:
        if r["status"] is None or not 200 <= r["status"] < 300:
            continue
        if r["method"] == "POST" and r["path"] == "/users":
            out[r["body"]["externalIds"]["scim"]].append(r)
        elif r["method"] == "PATCH" and r["path"].startswith("/users/"):
            out[r["path"].rsplit("/", 1)[1]].append(r)
    return out


class TargetOutageTest(FakeTargetsTestCase):
    fake_kinds = ("dolibarr", "crm", "webhook")
    retry = {"crm": PATIENT_RETRY, "webhook": PATIENT_RETRY, "dolibarr": FAST_RETRY}

    def test_outage_within_the_retry_window(self):
        webhook, crm = self.fakes["webhook"], self.fakes["crm"]
        self.settle()
        webhook.set_mode("down")      # connection closed without an answer
        crm.set_mode("error503")      # the CRM's 503 envelope, nothing applied
        users = []
        try:
            for i in range(5):
                resp = self.post("/Users", user_body(unique("out"), given="G0", family=f"F{i}"))
                self.assertStatus(resp, 201)
                users.append(resp.json)
            for step in (1, 2, 3):
                for user in users:
                    self.assertStatus(self.patch(f"/Users/{user['id']}", [
                        {"op": "replace", "path": "name.givenName", "value": f"G{step}"}]), 200)
            # While they are down: queued, retrying, with the error visible.
            status = wait_until(lambda: (lambda s: s if s["crm"]["last_error"]
                                         and s["events"]["last_error"] else None)(
                sync_status(self.client)), timeout=10, message="errors in sync status")
            self.assertGreater(status["crm"]["pending"], 0)
            self.assertGreater(status["events"]["pending"], 0)
            self.assertEqual((status["crm"]["failed"], status["events"]["failed"]), (0, 0))
            self.assertGreater(metric_value(metrics(self.client), "scimd_outbox_depth"), 0)
            time.sleep(2)
        finally:
            webhook.normal()
            crm.normal()
        self.settle(timeout=30)

        sets = accepted_sets(webhook)
        crm_writes = ok_crm_writes(crm.requests())
        for user in users:
            uid = user["id"]
            got = sets[uid]
            self.assertEqual([(next(iter(c["events"])), set_version(c), c["_duplicate"])
                              for c in got],
                             [(EVENT_CREATE, 1, False)] + [(EVENT_PATCH, v, False)
                                                           for v in (2, 3, 4)], uid)
            crm_id = links(self.client, uid)["crm"]
            writes = crm_writes[uid] + crm_writes[crm_id]
            # A link refresh (Dolibarr linked the user after the CRM's delivery read the links)
            # repeats the state of the change before it: drop such repeats.
            # (scimd's "replaced" deliveries of the user: this test makes no PUT.)
            rows = self.get(f"/admin/v1/sync/deliveries?target=crm&resource={uid}").json
            refreshes = len([d for d in rows["deliveries"] if d["event"] == "replaced"])
            sent = [(w["method"], w["body"]["name"]) for w in writes]
            self.assertLessEqual(len(sent), 4 + refreshes, sent)
            sent = [w for i, w in enumerate(sent) if i == 0 or w[1] != sent[i - 1][1]]
            # Changes queued behind the outage may reach the CRM coalesced (issue 12: one call
            # with the last state): a state may be skipped, never repeated or reordered.
            full = ([("POST", f"G{n} {user['name']['familyName']}") for n in (0,)] +
                    [("PATCH", f"G{n} {user['name']['familyName']}") for n in (1, 2, 3)])
            names = [n for _, n in full]
            self.assertEqual([m for m, _ in sent], ["POST"] + ["PATCH"] * (len(sent) - 1), sent)
            order = [names.index(n) for _, n in sent]
            self.assertEqual(order, sorted(set(order)), sent)
            self.assertEqual(sent[-1][1], names[-1], sent)
            crm_users = [u for u in crm.records()["users"] if u["externalIds"]["scim"] == uid]
            self.assertEqual(len(crm_users), 1)
            self.assertEqual(crm_users[0]["name"], f"G3 {user['name']['familyName']}")
        # The outage really happened: refused attempts were made before the successes.
        self.assertTrue(any(r["fault"] == "down" for r in webhook.requests()))
        self.assertTrue(any(r["fault"] == "error503" for r in crm.requests()))
        status = sync_status(self.client)
        self.assertEqual((status["crm"]["failed"], status["events"]["failed"]), (0, 0))

    def test_change_applied_but_answered_500_is_not_duplicated(self):
        crm, dolibarr = self.fakes["crm"], self.fakes["dolibarr"]
        self.settle()
        seen = {k: len(f.requests()) for k, f in self.fakes.items()}
        crm.set_mode("fail_after_apply", count=1, method="POST", path_prefix="/users")
        dolibarr.set_mode("fail_after_apply", count=1, method="POST",
                          path_prefix="/api/index.php/thirdparties")
        resp = self.post("/Users", user_body(unique("apply"), given="Once", family="Only"))
        self.assertStatus(resp, 201)
        uid = resp.json["id"]
        self.settle()
        self.assertEqual(len([u for u in crm.records()["users"]
                              if u["externalIds"]["scim"] == uid]), 1)
        self.assertEqual(len([tp for tp in dolibarr.records()["thirdparties"]
                              if tp.get("ref_ext") == uid]), 1)
        posts = [r for r in crm.requests()[seen["crm"]:]
                 if r["method"] == "POST" and r["path"] == "/users"]
        # The first answer was a 500 after the create; the retry carried the same key.
        self.assertEqual(posts[0]["fault"], "fail_after_apply")
        self.assertEqual(posts[0]["applied_status"], 201)
        self.assertTrue(all(p["idempotency_key"] == posts[0]["idempotency_key"] for p in posts))
        self.assertTrue(all(p.get("idempotent_replay") for p in posts[1:]), posts)
        self.assertEqual(links(self.client, uid)["crm"],
                         [u for u in crm.records()["users"]
                          if u["externalIds"]["scim"] == uid][0]["id"])

    def test_retry_after_from_the_target_is_honoured(self):
        crm = self.fakes["crm"]
        self.settle()
        seen = len(crm.requests())
        crm.set_mode("ratelimit", count=1, retry_after=2, method="POST")
        resp = self.post("/Users", user_body(unique("wait")))
        self.assertStatus(resp, 201)
        self.settle(timeout=15)
        posts = [r for r in crm.requests()[seen:] if r["method"] == "POST"]
        self.assertEqual([p["status"] for p in posts], [429, 201])
        self.assertEqual(posts[0]["response"]["error"]["code"], "rate_limited")
        # initial_backoff_ms is 50: only Retry-After (2 s) explains a later retry.
        self.assertGreaterEqual(posts[1]["ts"] - posts[0]["ts"], 1.9)

    def test_outage_longer_than_the_retry_window_resumes_without_sync_retry(self):
        # Before the circuit breaker (issue 12) both creates failed after max_attempts and the
        # patches stayed blocked until `scimd sync retry`; now the 503s pause the target and
        # nothing fails (test_target_outage.py has the long version).
        dolibarr = self.fakes["dolibarr"]
        self.settle()
        before = sync_status(self.client)["dolibarr"]
        dolibarr.set_mode("error503")
        try:
            first = self.post("/Users", user_body(unique("long"), given="A0", family="Long"))
            second = self.post("/Users", user_body(unique("long"), given="B0", family="Long"))
            self.assertStatus(first, 201)
            self.assertStatus(second, 201)
            uid, other = first.json["id"], second.json["id"]
            for given in ("A1", "A2"):
                self.assertStatus(self.patch(f"/Users/{uid}", [
                    {"op": "replace", "path": "name.givenName", "value": given}]), 200)
            status = wait_until(
                lambda: (lambda s: s if s["paused"] else None)(sync_status(self.client)["dolibarr"]),
                timeout=15, message="dolibarr paused")
            self.assertIn("503", status["pause_reason"])
            time.sleep(1.0)  # FAST_RETRY's window is about 150 ms
            status = sync_status(self.client)["dolibarr"]
            self.assertEqual((status["failed"], status["blocked"], status["pending"]),
                             (before["failed"], 0, 4))
        finally:
            dolibarr.normal()
        self.settle(timeout=60)
        status = sync_status(self.client)["dolibarr"]
        self.assertEqual((status["failed"], status["pending"], status["blocked"], status["paused"]),
                         (before["failed"], 0, 0, False))
        tps = {tp["ref_ext"]: tp for tp in dolibarr.records()["thirdparties"]
               if tp.get("ref_ext") in (uid, other)}
        self.assertEqual({k: v["name"] for k, v in tps.items()},
                         {uid: "A2 Long", other: "B0 Long"})
        # In order and once each: the create, then the two updates, which may be coalesced
        # (issue 12: one call with the last state; a state skipped, never repeated or reordered).
        tp_id = str(tps[uid]["id"])
        writes = [(r["method"], r["body"]["name"]) for r in dolibarr.requests()
                  if r["status"] == 200 and r["method"] in ("POST", "PUT")
                  and (r["body"].get("ref_ext") == uid
                       or r["path"].endswith(f"/thirdparties/{tp_id}"))]
        names = ["A0 Long", "A1 Long", "A2 Long"]
        self.assertEqual([m for m, _ in writes], ["POST"] + ["PUT"] * (len(writes) - 1), writes)
        order = [names.index(n) for _, n in writes]
        self.assertEqual(order, sorted(set(order)), writes)
        self.assertEqual(writes[-1][1], "A2 Long", writes)


class PoisonEventTest(FakeTargetsTestCase):
    fake_kinds = ("crm", "webhook")
    retry = FAST_RETRY

    def crm_users(self, scim_id):
        return [u for u in self.fakes["crm"].records()["users"]
                if u["externalIds"].get("scim") == scim_id]

    def failed_crm(self, resource_id):
        return [d for d in deliveries(self.client, status="failed", target="crm")
                if d["resource_id"] == resource_id]

    def test_poison_event_fails_alone_and_can_be_requeued(self):
        owner = self.post("/Users", user_body(unique("own"), email=f"{unique('shared')}@example.com"))
        self.assertStatus(owner, 201)
        self.settle()
        shared_email = owner.json["emails"][0]["value"]

        # The CRM refuses these two: 422 (not an e-mail address) and 409 (e-mail owned by another
        # SCIM user). Each fails alone, at once (no retries), without holding anything back.
        bad = self.post("/Users", user_body(unique("bad"), email="not-an-email-address"))
        dup = self.post("/Users", user_body(unique("dup"), email=shared_email))
        self.assertStatus(bad, 201)
        self.assertStatus(dup, 201)
        others = [self.post("/Users", user_body(unique("ok"))) for _ in range(3)]
        for o in others:
            self.assertStatus(o, 201)
            self.assertStatus(self.patch(f"/Users/{o.json['id']}", [
                {"op": "replace", "path": "title", "value": "Engineer"}]), 200)
        self.settle()
        for o in others:
            self.assertEqual(len(self.crm_users(o.json["id"])), 1)
        [bad_row] = self.failed_crm(bad.json["id"])
        [dup_row] = self.failed_crm(dup.json["id"])
        self.assertEqual((bad_row["event"], bad_row["attempts"], bad_row["status"]),
                         ("created", 1, "failed"))
        self.assertIn("422", bad_row["last_error"])
        self.assertEqual((dup_row["event"], dup_row["attempts"]), ("created", 1))
        self.assertIn(owner.json["id"], dup_row["last_error"])
        status = sync_status(self.client)["crm"]
        self.assertEqual((status["failed"], status["pending"], status["blocked"]), (2, 0, 0))
        self.assertEqual(metric_value(metrics(self.client), "scimd_deliveries_total",
                                      target="crm", outcome="failed"), 2)
        # The webhook took every event, poison or not.
        self.assertEqual(sync_status(self.client)["events"]["failed"], 0)

        # A later change of the poisoned user is not held back by its failed create.
        fixed_email = f"{unique('fixed')}@example.com"
        self.assertStatus(self.patch(f"/Users/{bad.json['id']}", [
            {"op": "replace", "path": "emails", "value": [{"value": fixed_email,
                                                           "primary": True}]}]), 200)
        self.settle()
        [fixed] = self.crm_users(bad.json["id"])
        self.assertEqual(fixed["email"], fixed_email)

        # Remove the cause of the 409, then re-queue that delivery through the admin API.
        self.assertStatus(self.delete(f"/Users/{owner.json['id']}"), 204)
        self.settle()
        self.assertEqual(self.crm_users(owner.json["id"]), [])
        seen = len(self.fakes["crm"].requests())
        resp = self.post(f"/admin/v1/sync/deliveries/{dup_row['id']}/retry")
        self.assertIn(resp.status, (200, 202, 204), resp)
        self.settle()
        attempts = [r for r in self.fakes["crm"].requests()[seen:]
                    if r["method"] == "POST" and r["path"] == "/users"]
        self.assertTrue(attempts, "the re-queued delivery was not attempted again")
        dup_crm = self.crm_users(dup.json["id"])
        self.assertEqual(len(dup_crm), 1,
                         "re-queued create did not reach the CRM; its POSTs after the retry: " +
                         "; ".join(f"Idempotency-Key {r['idempotency_key']} -> {r['status']} "
                                   f"{r['response']} replay={r.get('idempotent_replay')}"
                                   for r in attempts[:2]))
        dup_crm = dup_crm[0]
        self.assertEqual(dup_crm["email"], shared_email)
        self.assertEqual(links(self.client, dup.json["id"])["crm"], dup_crm["id"])
        row = [d for d in deliveries(self.client, target="crm") if d["id"] == dup_row["id"]]
        self.assertEqual([(d["status"], d["attempts"]) for d in row], [("delivered", 1)])
        self.assertEqual(sync_status(self.client)["crm"]["failed"], 1)
        # Re-queueing something that is not failed is a conflict.
        self.assertEqual(self.post(f"/admin/v1/sync/deliveries/{dup_row['id']}/retry").status, 409)

    def test_requeued_old_event_does_not_roll_back_newer_state(self):
        # A poison create is re-queued after a later change of the same user was delivered: the
        # CRM must end up with the user's current state, not the old event's.
        owner = self.post("/Users", user_body(unique("own"), email=f"{unique('keep')}@example.com"))
        self.assertStatus(owner, 201)
        self.settle()
        taken = owner.json["emails"][0]["value"]
        late = self.post("/Users", user_body(unique("late"), given="Old", family="Name",
                                             email=taken))
        self.assertStatus(late, 201)
        self.settle()
        [row] = self.failed_crm(late.json["id"])
        new_email = f"{unique('new')}@example.com"
        self.assertStatus(self.patch(f"/Users/{late.json['id']}", [
            {"op": "replace", "path": "emails", "value": [{"value": new_email, "primary": True}]},
            {"op": "replace", "path": "name.givenName", "value": "New"}]), 200)
        self.settle()
        [crm_user] = self.crm_users(late.json["id"])
        self.assertEqual((crm_user["email"], crm_user["name"]), (new_email, "New Name"))
        self.assertStatus(self.delete(f"/Users/{owner.json['id']}"), 204)
        self.settle()
        resp = self.post(f"/admin/v1/sync/deliveries/{row['id']}/retry")
        self.assertIn(resp.status, (200, 202, 204), resp)
        self.settle()
        current = self.get(f"/Users/{late.json['id']}").json
        [crm_user] = self.crm_users(late.json["id"])
        self.assertEqual((crm_user["email"], crm_user["name"]),
                         (current["emails"][0]["value"], "New Name"),
                         "re-queued create (version 1) overwrote the CRM user with stale data "
                         f"after version {current['meta']['version']} had been delivered")


LEASE_SECONDS = 6  # delivery.lease_seconds of the kill -9 test: recovery waits for it


class _Writer(threading.Thread):
    """Creates users and patches each one `patches` times, recording every acknowledged write;
    stops at `stop` or at the first transport error (the server died)."""

    def __init__(self, port, token, stop, patches=2, tag="w"):
        super().__init__(daemon=True)
        self.client = Client(port, token, timeout=20)
        self.stop, self.patches, self.tag = stop, patches, tag
        self.acked = {}       # user id -> (version, givenName) of the last acknowledged write
        self.pending = {}     # user id -> givenName of a write sent but not acknowledged
        self.created = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                name = unique(self.tag)
                self.pending[name] = "G0"
                resp = self.client.post("/scim/v2/Users", user_body(name, given="G0",
                                                                     family=name))
                assert resp.status == 201, resp
                del self.pending[name]
                uid = resp.json["id"]
                self.acked[uid] = (1, "G0")
                self.created += 1
                for n in range(1, self.patches + 1):
                    if self.stop.is_set():
                        break
                    self.pending[uid] = f"G{n}"
                    resp = self.client.patch(f"/scim/v2/Users/{uid}", {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "name.givenName",
                                        "value": f"G{n}"}]})
                    assert resp.status == 200, resp
                    del self.pending[uid]
                    self.acked[uid] = (int(resp.json["meta"]["version"].strip('W/"')), f"G{n}")
        except (OSError, ConnectionError) as exc:
            self.error = exc
        except Exception as exc:  # http.client errors on a dying server
            self.error = exc
        finally:
            self.client.close()


def check_exactly_once(test, client, fakes, writers, restart_time=None):
    """Every acknowledged write is stored; every stored user reached the CRM once (one create,
    final state) and the webhook once per version (a jti seen twice only if its first copy
    arrived before restart_time, i.e. it was in flight when scimd was killed). Returns stats."""
    crm, webhook = fakes["crm"], fakes["webhook"]
    acked = {}
    for w in writers:
        acked.update(w.acked)
    test.assertGreater(len(acked), 10, "too few acknowledged writes to test anything")
    for uid, (version, given) in acked.items():
        resp = client.get(f"/scim/v2/Users/{uid}")
        test.assertEqual(resp.status, 200, f"acknowledged user {uid} lost: {resp}")
        stored_version = int(resp.json["meta"]["version"].strip('W/"'))
        test.assertGreaterEqual(stored_version, version, uid)
        if stored_version > version:  # the one write in flight at the crash committed
            pending = [w.pending.get(uid) for w in writers if uid in w.pending]
            test.assertEqual(stored_version, version + 1, uid)
            test.assertEqual([resp.json["name"]["givenName"]], pending, uid)
        else:
            test.assertEqual(resp.json["name"]["givenName"], given, uid)

    # Every user the store holds (acknowledged or committed just before the crash).
    stored = {}
    start = 1
    while True:
        page = client.get(f"/scim/v2/Users?startIndex={start}&count=500").json
        for r in page["Resources"]:
            stored[r["id"]] = r
        start += len(page["Resources"])
        if not page["Resources"] or start > page["totalResults"]:
            break
    test.assertTrue(set(acked) <= set(stored))

    requests = crm.requests()
    replays = sum(1 for r in requests if r.get("idempotent_replay"))
    creates = collections.Counter(r["body"]["externalIds"]["scim"] for r in requests
                                  if r["method"] == "POST" and r["path"] == "/users"
                                  and r["status"] == 201 and not r.get("idempotent_replay"))
    crm_users = collections.defaultdict(list)
    for u in crm.records()["users"]:
        crm_users[u["externalIds"]["scim"]].append(u)
    ts_of = {r["seq"]: r["ts"] for r in webhook.requests()}
    sets = accepted_sets(webhook)
    duplicates = 0
    for uid, user in stored.items():
        test.assertEqual(creates[uid], 1, f"CRM creates for {uid}")
        test.assertEqual(len(crm_users[uid]), 1, f"CRM users for {uid}")
        test.assertEqual(crm_users[uid][0]["name"],
                         f"{user['name']['givenName']} {user['name']['familyName']}", uid)
        version = int(user["meta"]["version"].strip('W/"'))
        got = sets[uid]
        first_copies = [c for c in got if not c["_duplicate"]]
        test.assertEqual([set_version(c) for c in first_copies], list(range(1, version + 1)),
                         f"SET versions of {uid} (in arrival order)")
        test.assertEqual(len({c["jti"] for c in got}), version)
        for c in got:
            if c["_duplicate"]:
                duplicates += 1
                first = [f for f in first_copies if f["jti"] == c["jti"]][0]
                test.assertIsNotNone(restart_time, f"jti {c['jti']} delivered twice")
                test.assertLess(ts_of[first["_request_seq"]], restart_time,
                                f"jti {c['jti']} delivered twice, both copies after the restart")
    return {"acked": len(acked), "stored": len(stored), "crm_replays": replays,
            "set_duplicates": duplicates}


class CrashTest(FakeTargetsTestCase):
    fake_kinds = ("crm", "webhook")
    retry = PATIENT_RETRY
    delivery_yaml = f"delivery: {{lease_seconds: {LEASE_SECONDS}}}\n"

    def test_kill_9_during_writes_and_deliveries(self):
        for fake in self.fakes.values():
            fake.set_mode("slow", delay_ms=60)
        stop = threading.Event()
        writers = [_Writer(self.server.port, self.token, stop, tag=f"k{i}") for i in range(3)]
        for w in writers:
            w.start()
        wait_until(lambda: sum(len(w.acked) for w in writers) >= 40 and
                   len(self.fakes["webhook"].records()["events"]) >= 10,
                   timeout=20, message="writes and deliveries under way")
        self.assertEqual(self.server.kill(signal.SIGKILL), -signal.SIGKILL)
        stop.set()
        for w in writers:
            w.join(timeout=30)
        status_sets = len(self.fakes["webhook"].records()["events"])
        for fake in self.fakes.values():
            fake.normal()
        # Anything the fakes logged before this moment came from the killed process.
        restart_time = time.time()
        self.server.start()
        self.client.close()
        # Deliveries claimed by the dead process wait for their lease to expire.
        started = time.time()
        self.settle(timeout=60)
        self.assertLess(time.time() - started, LEASE_SECONDS + 30,
                        "recovery took much longer than the configured lease")
        stats = check_exactly_once(self, self.client, self.fakes, writers, restart_time)
        print(f"\nkill -9: {stats}, SETs before the crash {status_sets}")
        self.assertEqual(sum(t["failed"] for t in sync_status(self.client).values()), 0)


@unittest.skipUnless(test_db_kind() == "postgresql",
                     "two scimd processes share one database only on PostgreSQL")
class TwoProcessesTest(FakeTargetsTestCase):
    fake_kinds = ("crm", "webhook")
    retry = PATIENT_RETRY

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server2 = ScimdServer(db=cls.db, config_yaml=cls.config_yaml, env=SECRETS_ENV,
                                  tag="second")
        try:
            cls.server2.start()
        except BaseException:
            cls.server2.cleanup()
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server2.cleanup()
        finally:
            super().tearDownClass()

    def test_two_processes_deliver_each_event_once(self):
        for fake in self.fakes.values():
            fake.set_mode("slow", delay_ms=5)
        stop = threading.Event()
        writers = [_Writer(port, self.token, stop, patches=3, tag=f"p{i}")
                   for i, port in enumerate([self.server.port, self.server2.port] * 2)]
        owners = set()
        dbname = self.db.rsplit("/", 1)[1]
        for w in writers:
            w.start()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            out = psql("SELECT DISTINCT lease_owner FROM deliveries WHERE status = 'in_flight'",
                       dbname=dbname)
            owners.update(line for line in out.splitlines() if line.strip())
            time.sleep(0.05)
        stop.set()
        for w in writers:
            w.join(timeout=30)
            self.assertIsNone(w.error, w.error)
        for fake in self.fakes.values():
            fake.normal()
        self.settle(timeout=60)
        self.settle(timeout=10, client=Client(self.server2.port, self.token))
        # Every outbox event got its deliveries row at both targets (none skipped by fan-out).
        missing = psql("SELECT t.target || ':' || o.seq FROM outbox o CROSS JOIN target_cursors t "
                       "WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = o.seq AND "
                       "d.target = t.target) ORDER BY 1", dbname=dbname).split()
        cursors = psql("SELECT target, last_seq, scanned_seq, gaps FROM target_cursors",
                       dbname=dbname)
        self.assertEqual(missing, [], "outbox events never queued for a target (target:seq); "
                         f"cursors: {cursors}")
        stats = check_exactly_once(self, self.client, self.fakes, writers)
        print(f"\ntwo processes: {stats}, lease owners seen: {len(owners)}")
        self.assertEqual(stats["crm_replays"], 0)
        self.assertEqual(len({o.split(":")[1] for o in owners}), 2,
                         f"both processes should have claimed deliveries: {owners}")


if __name__ == "__main__":
    unittest.main()
