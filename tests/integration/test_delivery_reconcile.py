"""`scimd sync reconcile --target NAME [--dry-run]` end to end: the real scimd delivers to the
fakes, records then disappear (or appear) behind its back through the targets' own APIs, and
reconcile must bring each fake back to exactly the records the links say, without touching
records scimd cannot prove it created (src/delivery/reconcile.cc).

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import http.client
import json
import sqlite3
import unittest
import urllib.parse

from scimd_harness import psql, run_cli, unique
from delivery_support import (
    CRM_TOKEN, DOLIBARR_API_KEY, SECRETS_ENV, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET,
    ZOHO_ORGANIZATION_ID, ZOHO_REFRESH_TOKEN, FakeTargetsTestCase, group_body, links, user_body)


def call(fake, method, path, body=None, headers=None):
    """One request to a fake's real API (not its control API); returns (status, parsed body)."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw
    finally:
        conn.close()


def run_sql(db_url, sql):
    """Runs one statement on scimd's database (sqlite: or postgresql:// URL)."""
    if db_url.startswith("sqlite:"):
        conn = sqlite3.connect(db_url[len("sqlite:"):], timeout=30)
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
    else:
        name = db_url.rsplit("/", 1)[1]
        port = int(db_url.rsplit(":", 1)[1].split("/", 1)[0])
        psql(sql, dbname=name, port=port)


class ReconcileTest(FakeTargetsTestCase):
    retry = {"max_attempts": 10, "initial_backoff_ms": 50, "max_backoff_ms": 500}
    target_extra = {"zoho_books": {"requests_per_minute": 1000}}

    # -- running the command --

    def reconcile(self, target, dry_run=False, check=True):
        args = ["sync", "reconcile", "--db", self.db, "--config", self.server.config_path,
                "--target", target]
        if dry_run:
            args.append("--dry-run")
        proc = run_cli(*args, env=SECRETS_ENV, check=check)
        return proc

    def summary(self, proc):
        """{"missing": n, ...} from the last stdout line."""
        last = proc.stdout.strip().splitlines()[-1]
        counts = last.split(": ", 1 if not last.startswith("dry run: ") else 2)[-1]
        return {k: int(v) for k, v in (part.rsplit(" ", 1) for part in counts.split(", "))}

    # -- the fakes' own APIs (changes behind scimd's back) --

    def dolibarr(self, method, path, body=None):
        return call(self.fakes["dolibarr"], method, "/api/index.php" + path, body,
                    {"DOLAPIKEY": DOLIBARR_API_KEY})

    def crm(self, method, path, body=None):
        return call(self.fakes["crm"], method, path, body,
                    {"Authorization": "Bearer " + CRM_TOKEN})

    def zoho(self, method, path):
        query = urllib.parse.urlencode({"refresh_token": ZOHO_REFRESH_TOKEN,
                                        "client_id": ZOHO_CLIENT_ID,
                                        "client_secret": ZOHO_CLIENT_SECRET,
                                        "grant_type": "refresh_token"})
        _, token = call(self.fakes["zoho_books"], "POST", "/oauth/v2/token?" + query)
        sep = "&" if "?" in path else "?"
        return call(self.fakes["zoho_books"], method,
                    f"/books/v3{path}{sep}organization_id={ZOHO_ORGANIZATION_ID}", None,
                    {"Authorization": "Zoho-oauthtoken " + token["access_token"]})

    # -- what the fakes hold --

    def thirdparties(self, ref_ext=None):
        rows = self.fakes["dolibarr"].records()["thirdparties"]
        return [tp for tp in rows if ref_ext is None or tp.get("ref_ext") == ref_ext]

    def zoho_live(self, email):
        return [u for u in self.fakes["zoho_books"].records()["users"]
                if u["email"].lower() == email.lower() and u["status"] != "deleted"]

    def crm_users(self, scim_id):
        return [u for u in self.fakes["crm"].records()["users"]
                if u["externalIds"].get("scim") == scim_id]

    def create_user(self):
        resp = self.post("/Users", user_body(unique("rc")))
        self.assertStatus(resp, 201)
        return resp.json["id"], resp.json["emails"][0]["value"]

    # -- tests --

    def test_missing_records_are_delivered_again(self):
        uid, email = self.create_user()
        self.settle()
        before = links(self.client, uid)
        self.assertEqual(set(before) & {"dolibarr", "zoho", "crm"}, {"dolibarr", "zoho", "crm"})

        # Someone deletes the records in each target.
        self.assertEqual(self.dolibarr("DELETE", "/thirdparties/" + before["dolibarr"])[0], 200)
        self.assertEqual(self.zoho("DELETE", "/users/" + before["zoho"])[0], 200)
        self.assertEqual(self.crm("DELETE", "/users/" + before["crm"])[0], 204)

        # --dry-run reports and changes nothing.
        dry = self.reconcile("dolibarr", dry_run=True)
        self.assertIn(f"would: missing User {uid}", dry.stdout)
        self.assertTrue(dry.stdout.strip().splitlines()[-1].startswith("dry run: dolibarr:"))
        self.assertGreaterEqual(self.summary(dry)["missing"], 1)
        self.assertEqual(self.thirdparties(uid), [])
        self.assertEqual(links(self.client, uid), before)

        for target in ("dolibarr", "zoho", "crm"):
            proc = self.reconcile(target)
            self.assertIn(f"missing User {uid}", proc.stdout, proc.stdout)
            counts = self.summary(proc)
            self.assertEqual(counts["errors"], 0, proc.stdout)
            self.assertGreaterEqual(counts["repaired"], 1, proc.stdout)

        after = links(self.client, uid)
        tps = self.thirdparties(uid)
        self.assertEqual(len(tps), 1, tps)
        self.assertEqual(str(tps[0]["id"]), after["dolibarr"])
        self.assertNotEqual(after["dolibarr"], before["dolibarr"])
        zoho = self.zoho_live(email)
        self.assertEqual([u["user_id"] for u in zoho], [after["zoho"]])
        crm = self.crm_users(uid)
        self.assertEqual([u["id"] for u in crm], [after["crm"]])
        self.assertEqual(crm[0]["externalIds"].get("dolibarr"), after["dolibarr"])

        # A second run finds nothing left to do.
        for target in ("dolibarr", "zoho", "crm"):
            proc = self.reconcile(target)
            self.assertNotIn(uid, proc.stdout)
        self.assertEqual(len(self.thirdparties(uid)), 1)

    def test_unlinked_record_is_relinked_not_duplicated(self):
        uid, email = self.create_user()
        self.settle()
        before = links(self.client, uid)
        # The link is lost (e.g. a crash between the target's answer and recording it).
        for target in ("dolibarr", "zoho", "crm"):
            run_sql(self.db, f"DELETE FROM target_links WHERE target = '{target}' "
                             f"AND resource_id = '{uid}'")
        self.assertEqual(set(links(self.client, uid)) & {"dolibarr", "zoho", "crm"}, set())

        for target in ("dolibarr", "zoho", "crm"):
            proc = self.reconcile(target)
            self.assertIn(f"relinked User {uid} to {target} id {before[target]}", proc.stdout)
            self.assertEqual(self.summary(proc)["errors"], 0, proc.stdout)

        self.assertEqual(links(self.client, uid), before)
        self.assertEqual(len(self.thirdparties(uid)), 1)
        self.assertEqual(len(self.zoho_live(email)), 1)
        self.assertEqual(len(self.crm_users(uid)), 1)

    def test_orphans_are_deleted_and_foreign_records_kept(self):
        uid, _ = self.create_user()
        self.settle()
        self.assertStatus(self.delete(f"/Users/{uid}"), 204)
        self.settle()
        self.assertEqual(self.thirdparties(uid), [])

        # Leftovers: a third party carrying the deleted user's SCIM id (scimd's: orphan), one
        # carrying an id scimd never issued, and a customer with no SCIM id at all.
        status, orphan_id = self.dolibarr("POST", "/thirdparties",
                                          {"name": "Left Over", "ref_ext": uid, "client": 0})
        self.assertEqual(status, 200)
        status, stranger_id = self.dolibarr("POST", "/thirdparties",
                                            {"name": "Stranger", "ref_ext": "not-a-scimd-id"})
        self.assertEqual(status, 200)
        status, customer_id = self.dolibarr("POST", "/thirdparties",
                                            {"name": "Customer Ltd", "client": 1})
        self.assertEqual(status, 200)

        dry = self.reconcile("dolibarr", dry_run=True)
        self.assertIn(f"would: orphaned User {uid} (dolibarr id {orphan_id})", dry.stdout)
        self.assertEqual(len(self.thirdparties(uid)), 1)

        proc = self.reconcile("dolibarr")
        self.assertIn(f"orphaned User {uid} (dolibarr id {orphan_id})", proc.stdout)
        self.assertEqual(self.summary(proc)["errors"], 0, proc.stdout)
        ids = {str(tp["id"]) for tp in self.thirdparties()}
        self.assertNotIn(str(orphan_id), ids)
        self.assertIn(str(stranger_id), ids)
        self.assertIn(str(customer_id), ids)

    def test_crm_organization_deleted_at_the_target_is_recreated(self):
        uid, _ = self.create_user()
        resp = self.post("/Groups", group_body(unique("org"), kind="organization",
                                               members=[uid]))
        self.assertStatus(resp, 201)
        gid = resp.json["id"]
        self.settle()
        org_id = links(self.client, gid)["crm"]
        self.assertEqual(self.crm("DELETE", "/organizations/" + org_id)[0], 204)

        proc = self.reconcile("crm")
        self.assertIn(f"missing Group {gid}", proc.stdout)
        self.assertEqual(self.summary(proc)["errors"], 0, proc.stdout)
        new_id = links(self.client, gid)["crm"]
        self.assertNotEqual(new_id, org_id)
        records = self.fakes["crm"].records()
        orgs = [o for o in records["organizations"] if o["externalId"] == gid]
        self.assertEqual([o["id"] for o in orgs], [new_id])
        user_id = links(self.client, uid)["crm"]
        members = records["memberships"]
        self.assertIn(user_id, json.dumps(members))

    def test_webhook_target_is_not_reconcilable(self):
        proc = self.reconcile("events", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("cannot be reconciled", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_unknown_target_is_an_error(self):
        proc = self.reconcile("nope", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no target named 'nope'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
