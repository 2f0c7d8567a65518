"""Delivery to every target type, end to end: the real scimd binary delivers to the four fakes
(Dolibarr, Zoho Books, CRM, webhook receiver) started in their own processes, and the tests
check what each fake ends up holding (docs/product.md, "What the targets receive").

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import unittest

from scimd_harness import run_cli, unique
from delivery_support import (
    ENTERPRISE_URN, EVENT_ACTIVATE, EVENT_CREATE, EVENT_DEACTIVATE, EVENT_DELETE, EVENT_PATCH,
    EVENT_PUT, SCIMD_GROUP_URN,
    FakeTargetsTestCase, deliveries, group_body, links, metric_value, metrics, patch_body,
    set_subject, sync_status, user_body, verify_hs256, wait_until)

ZOHO_ADMIN_ROLE = "982000000006001"
ZOHO_STAFF_ROLE = "982000000006005"  # the fake's default role for new users

# What each configured target handles (the adapters' default `resources`).
HANDLES = {"dolibarr": {"User"}, "zoho": {"User"}, "crm": {"User", "Group"},
           "events": {"User", "Group"}}


class DeliveryTargetsTest(FakeTargetsTestCase):
    retry = {"max_attempts": 10, "initial_backoff_ms": 50, "max_backoff_ms": 500}
    target_extra = {
        "zoho_books": {"requests_per_minute": 1000, "role_mapping": '"admin=%s"' % ZOHO_ADMIN_ROLE},
        "crm": {"role_mapping": '"engineer=manager"'},
    }

    # -- what the fakes hold --

    def dolibarr_thirdparties(self, scim_id):
        return [tp for tp in self.fakes["dolibarr"].records()["thirdparties"]
                if tp.get("ref_ext") == scim_id]

    def dolibarr_one(self, scim_id):
        found = self.dolibarr_thirdparties(scim_id)
        self.assertEqual(len(found), 1, f"Dolibarr third parties with ref_ext {scim_id}: {found}")
        return found[0]

    def zoho_users(self):
        return {u["user_id"]: u for u in self.fakes["zoho_books"].records()["users"]}

    def zoho_by_email(self, email, include_deleted=False):
        return [u for u in self.zoho_users().values() if u["email"].lower() == email.lower()
                and (include_deleted or u["status"] != "deleted")]

    def crm_users(self, scim_id):
        return [u for u in self.fakes["crm"].records()["users"]
                if u["externalIds"].get("scim") == scim_id]

    def crm_one(self, scim_id):
        found = self.crm_users(scim_id)
        self.assertEqual(len(found), 1, f"CRM users with externalIds.scim {scim_id}: {found}")
        return found[0]

    def sets_for(self, collection, resource_id):
        """The SETs the receiver accepted for one resource, in arrival order, each verified
        (signature with the configured secret, JOSE header, claims)."""
        out = []
        for event in self.fakes["webhook"].records()["events"]:
            if set_subject(event) != (collection, resource_id):
                continue
            header, claims = verify_hs256(event["token"])
            self.assertEqual(header, {"alg": "HS256", "typ": "secevent+jwt"})
            self.assertEqual(claims, event["claims"])
            self.assertEqual(claims["iss"], "scimd")
            self.assertEqual(claims["sub_id"]["format"], "scim")
            # One event, plus prov:activate/deactivate when it flipped `active` (RFC 9967: one
            # state change, several URIs in one SET).
            uris = list(claims["events"])
            self.assertIn(uris[1:], ([], [EVENT_ACTIVATE], [EVENT_DEACTIVATE]), claims)
            self.assertFalse(event["duplicate"], f"jti delivered twice: {claims['jti']}")
            self.assertEqual(event["warnings"], [])
            out.append(claims)
        txns = [int(c["txn"]) for c in out]
        self.assertEqual(txns, sorted(txns), "SETs of one resource arrived out of commit order")
        self.assertEqual(len(set(c["jti"] for c in out)), len(out))
        return out

    def set_uris(self, sets):
        return [next(iter(c["events"])) for c in sets]

    def assertPatched(self, resp):
        """A successful PATCH: 200 with the resource, or 204 (RFC 7644 §3.5.2)."""
        self.assertIn(resp.status, (200, 204), resp)

    def create_user(self, **kw):
        name = kw.pop("user_name", None) or unique("dl")
        resp = self.post("/Users", user_body(name, **kw))
        self.assertStatus(resp, 201)
        return resp.json

    # -- users --

    def test_user_lifecycle_with_pending_zoho_invitation(self):
        user = self.create_user(given="Ada", family="Lovelace", phone="+44 20.7946 0001",
                                department="Engineering",
                                roles=[{"value": "admin", "primary": True}])
        uid, email = user["id"], user["emails"][0]["value"]
        self.settle()

        linked = links(self.client, uid)
        self.assertEqual(set(linked), {"dolibarr", "zoho", "crm"}, linked)

        tp = self.dolibarr_one(uid)
        self.assertEqual(str(tp["id"]), linked["dolibarr"])
        self.assertEqual(tp["name"], "Ada Lovelace")
        self.assertEqual(tp["email"], email)
        self.assertEqual(tp["phone"], "+442079460001")
        self.assertEqual((tp["status"], tp["client"], tp["fournisseur"]), (1, 0, 0))
        self.assertEqual(tp["array_options"], {"options_department": "Engineering"})

        zoho = self.zoho_users()[linked["zoho"]]
        self.assertEqual((zoho["name"], zoho["email"], zoho["status"], zoho["role_id"]),
                         ("Ada Lovelace", email, "invited", ZOHO_ADMIN_ROLE))
        self.assertEqual(len(self.zoho_by_email(email)), 1)

        crm = self.crm_one(uid)
        self.assertEqual(crm["id"], linked["crm"])
        self.assertEqual((crm["email"], crm["name"], crm["active"], crm["role"]),
                         (email, "Ada Lovelace", True, "admin"))

        # Update: Entra-style PATCH (capitalised op, path-less value with path keys).
        resp = self.patch(f"/Users/{uid}", [
            {"op": "Replace", "value": {"name.givenName": "Augusta",
                                        f"{ENTERPRISE_URN}:department": "Mathematics"}},
            {"op": "replace", "path": "phoneNumbers", "value": [{"value": "+44 1632 960000",
                                                                 "type": "work"}]}])
        self.assertStatus(resp, 200)
        self.settle()
        tp = self.dolibarr_one(uid)
        self.assertEqual(str(tp["id"]), linked["dolibarr"])
        self.assertEqual((tp["name"], tp["phone"], tp["status"]),
                         ("Augusta Lovelace", "+441632960000", 1))
        self.assertEqual(tp["array_options"], {"options_department": "Mathematics"})
        zoho = self.zoho_users()[linked["zoho"]]
        self.assertEqual((zoho["name"], zoho["status"]), ("Augusta Lovelace", "invited"))
        crm = self.crm_one(uid)
        self.assertEqual(crm["name"], "Augusta Lovelace")
        # Once the other targets are linked, the CRM's externalIds carry their ids.
        self.assertEqual(crm["externalIds"], {"scim": uid, "dolibarr": linked["dolibarr"],
                                              "zoho": linked["zoho"]})

        # Deactivate (Okta): Dolibarr status 0, CRM inactive; Zoho cannot mark an invited user
        # inactive, so the invitation is withdrawn (user deleted) and the link dropped.
        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "active", "value": False}]), 200)
        self.settle()
        self.assertEqual(self.dolibarr_one(uid)["status"], 0)
        self.assertIs(self.crm_one(uid)["active"], False)
        self.assertEqual(self.zoho_users()[linked["zoho"]]["status"], "deleted")
        self.assertEqual(self.zoho_by_email(email), [])
        after = links(self.client, uid)
        self.assertNotIn("zoho", after)
        self.assertEqual(after["dolibarr"], linked["dolibarr"])
        self.assertEqual(after["crm"], linked["crm"])

        # Reactivate with a whole-resource PUT (Google Workspace style): a new invitation.
        body = user_body(user["userName"], given="Augusta", family="Lovelace",
                         phone="+44 1632 960000", department="Mathematics",
                         roles=[{"value": "admin", "primary": True}], active=True)
        self.assertStatus(self.put(f"/Users/{uid}", body), 200)
        self.settle()
        self.assertEqual(self.dolibarr_one(uid)["status"], 1)
        self.assertIs(self.crm_one(uid)["active"], True)
        again = links(self.client, uid)
        self.assertIn("zoho", again)
        self.assertNotEqual(again["zoho"], linked["zoho"])
        invited = self.zoho_by_email(email)
        self.assertEqual([u["user_id"] for u in invited], [again["zoho"]])
        self.assertEqual(invited[0]["status"], "invited")

        # Delete: gone everywhere, links dropped.
        self.assertStatus(self.delete(f"/Users/{uid}"), 204)
        self.settle()
        self.assertEqual(self.dolibarr_thirdparties(uid), [])
        self.assertEqual(self.crm_users(uid), [])
        self.assertEqual(self.zoho_by_email(email), [])
        self.assertEqual(self.zoho_users()[again["zoho"]]["status"], "deleted")
        self.assertEqual(links(self.client, uid), {})

        sets = self.sets_for("Users", uid)
        self.assertEqual(self.set_uris(sets),
                         [EVENT_CREATE, EVENT_PATCH, EVENT_PATCH, EVENT_PUT, EVENT_DELETE])
        versions = [c["events"][u].get("version") for c, u in zip(sets, self.set_uris(sets))]
        self.assertEqual(versions[:4], ['W/"1"', 'W/"2"', 'W/"3"', 'W/"4"'])
        created = sets[0]["events"][EVENT_CREATE]["data"]
        self.assertEqual((created["id"], created["userName"]), (uid, user["userName"]))
        patch_op = sets[1]["events"][EVENT_PATCH]["data"]
        self.assertEqual(patch_op["schemas"], ["urn:ietf:params:scim:api:messages:2.0:PatchOp"])
        replaced = patch_op["Operations"][0]["value"]
        self.assertEqual(replaced["name"]["givenName"], "Augusta")
        self.assertEqual(replaced[ENTERPRISE_URN]["department"], "Mathematics")
        self.assertIs(sets[2]["events"][EVENT_PATCH]["data"]["Operations"][0]["value"]["active"],
                      False)
        self.assertIs(sets[3]["events"][EVENT_PUT]["data"]["active"], True)
        self.assertEqual([list(c["events"])[1:] for c in sets],
                         [[], [], [EVENT_DEACTIVATE], [EVENT_ACTIVATE], []])
        self.assertEqual(sets[2]["events"][EVENT_DEACTIVATE], {})
        self.assertEqual(sets[4]["events"][EVENT_DELETE], {})

    def test_service_provider_config_advertises_security_events(self):
        # RFC 9967: securityEvents (absent when no events are configured) lists the event URIs.
        resp = self.get("/ServiceProviderConfig")
        self.assertStatus(resp, 200)
        events = resp.json["securityEvents"]
        self.assertEqual(events["asyncRequest"], "none")
        for uri in (EVENT_CREATE, EVENT_PUT, EVENT_PATCH, EVENT_DELETE, EVENT_ACTIVATE,
                    EVENT_DEACTIVATE):
            self.assertIn(uri, events["eventUris"])

    def test_user_lifecycle_with_accepted_zoho_invitation(self):
        user = self.create_user(given="Grace", family="Hopper",
                                roles=[{"value": "Engineer", "primary": True}])
        uid, email = user["id"], user["emails"][0]["value"]
        self.settle()
        zid = links(self.client, uid)["zoho"]
        zoho = self.zoho_users()[zid]
        self.assertEqual((zoho["status"], zoho["role_id"]), ("invited", ZOHO_STAFF_ROLE))
        self.assertEqual(self.crm_one(uid)["role"], "manager")  # role_mapping engineer=manager
        self.fakes["zoho_books"].action("accept_invitation", {"user_id": zid})
        self.assertEqual(self.zoho_users()[zid]["status"], "active")

        # Entra-style deactivation: boolean as a string.
        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "Replace", "path": "active", "value": "False"}]), 200)
        self.settle()
        self.assertEqual(self.zoho_users()[zid]["status"], "inactive")
        self.assertEqual(links(self.client, uid)["zoho"], zid)
        self.assertEqual(self.dolibarr_one(uid)["status"], 0)
        self.assertIs(self.crm_one(uid)["active"], False)

        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "active", "value": True}]), 200)
        self.settle()
        self.assertEqual(self.zoho_users()[zid]["status"], "active")
        self.assertEqual(self.dolibarr_one(uid)["status"], 1)
        self.assertIs(self.crm_one(uid)["active"], True)
        self.assertEqual(len(self.zoho_by_email(email)), 1)

        self.assertStatus(self.delete(f"/Users/{uid}"), 204)
        self.settle()
        self.assertEqual(self.zoho_users()[zid]["status"], "deleted")
        self.assertEqual(self.dolibarr_thirdparties(uid), [])
        self.assertEqual(self.crm_users(uid), [])
        self.assertEqual(self.set_uris(self.sets_for("Users", uid)),
                         [EVENT_CREATE, EVENT_PATCH, EVENT_PATCH, EVENT_DELETE])

    def test_crm_external_ids_follow_the_links(self):
        # The CRM's externalIds mirror the links: after the Zoho invitation was withdrawn (link
        # dropped), the next CRM update must not keep pointing at the deleted Zoho user.
        user = self.create_user(given="Edsger", family="Dijkstra")
        uid = user["id"]
        self.settle()
        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "title", "value": "Professor"}]), 200)
        self.settle()
        first = links(self.client, uid)
        self.assertEqual(self.crm_one(uid)["externalIds"],
                         {"scim": uid, "dolibarr": first["dolibarr"], "zoho": first["zoho"]})
        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "active", "value": False}]), 200)
        self.settle()
        self.assertNotIn("zoho", links(self.client, uid))
        self.assertStatus(self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "title", "value": "Emeritus"}]), 200)
        self.settle()
        self.assertEqual(self.crm_one(uid)["externalIds"],
                         {"scim": uid, "dolibarr": first["dolibarr"]},
                         f"CRM externalIds still name Zoho user {first['zoho']}, which scimd "
                         "deleted and unlinked")

    # -- groups --

    def test_organization_group_memberships_and_roles(self):
        admin = self.create_user(roles=[{"value": "admin", "primary": True}])
        manager = self.create_user(roles=[{"value": "sales"},
                                          {"value": "manager", "primary": True}])
        plain = self.create_user()
        support = self.create_user(roles=[{"value": "support"}, {"value": "sales"}])
        self.settle()
        crm_id = {u["id"]: links(self.client, u["id"])["crm"]
                  for u in (admin, manager, plain, support)}

        resp = self.post("/Groups", group_body(unique("Org "), kind="organization",
                                               members=[admin["id"], manager["id"]]))
        self.assertStatus(resp, 201)
        gid = resp.json["id"]
        self.settle()
        orgs = [o for o in self.fakes["crm"].records()["organizations"] if o["externalId"] == gid]
        self.assertEqual(len(orgs), 1, orgs)
        org = orgs[0]
        self.assertEqual(org["name"], resp.json["displayName"])
        self.assertEqual(links(self.client, gid), {"crm": org["id"]})

        def memberships():
            return {m["userId"]: m["role"] for m in self.fakes["crm"].records()["memberships"]
                    if m["organizationId"] == org["id"]}
        self.assertEqual(memberships(), {crm_id[admin["id"]]: "admin",
                                         crm_id[manager["id"]]: "manager"})

        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "add", "path": "members",
             "value": [{"value": plain["id"]}, {"value": support["id"]}]}]))
        self.settle()
        self.assertEqual(memberships(), {crm_id[admin["id"]]: "admin",
                                         crm_id[manager["id"]]: "manager",
                                         crm_id[plain["id"]]: "member",
                                         crm_id[support["id"]]: "support"})

        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "remove", "path": f'members[value eq "{admin["id"]}"]'}]))
        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "Replace", "path": "displayName", "value": "Renamed org"}]))
        self.settle()
        self.assertEqual(memberships(), {crm_id[manager["id"]]: "manager",
                                         crm_id[plain["id"]]: "member",
                                         crm_id[support["id"]]: "support"})
        orgs = [o for o in self.fakes["crm"].records()["organizations"] if o["externalId"] == gid]
        self.assertEqual([(o["id"], o["name"]) for o in orgs], [(org["id"], "Renamed org")])

        # PUT replacing the member list: the member kept must stay a member in the CRM, and the
        # put:full SET must carry the group's whole member list.
        body = group_body("Renamed org", kind="organization", members=[manager["id"]])
        self.assertStatus(self.put(f"/Groups/{gid}", body), 200)
        self.settle()
        with self.subTest("CRM memberships after PUT"):
            self.assertEqual(memberships(), {crm_id[manager["id"]]: "manager"})
        with self.subTest("put:full SET members"):
            put_set = self.sets_for("Groups", gid)[-1]["events"].get(EVENT_PUT)
            self.assertIsNotNone(put_set)
            self.assertEqual([m["value"] for m in put_set["data"].get("members", [])],
                             [manager["id"]])

        self.assertStatus(self.delete(f"/Groups/{gid}"), 204)
        self.settle()
        self.assertEqual([o for o in self.fakes["crm"].records()["organizations"]
                          if o["externalId"] == gid], [])
        self.assertEqual(memberships(), {})
        self.assertEqual(links(self.client, gid), {})
        # Users are unaffected; the other targets never saw the group.
        self.assertEqual(len(self.crm_users(manager["id"])), 1)
        for target in ("dolibarr", "zoho"):
            self.assertEqual([d for d in deliveries(self.client, target=target)
                              if d["resource_id"] == gid], [])
        self.assertEqual(self.set_uris(self.sets_for("Groups", gid)),
                         [EVENT_CREATE, EVENT_PATCH, EVENT_PATCH, EVENT_PATCH, EVENT_PUT,
                          EVENT_DELETE])

    def test_organization_created_with_its_members_in_one_bulk(self):
        # The group's delivery may reach the CRM before its members' creates: it waits for them.
        user_a, user_b = unique("bulk"), unique("bulk")
        ops = [
            {"method": "POST", "path": "/Users", "bulkId": "a",
             "data": user_body(user_a, roles=[{"value": "manager"}])},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user_body(user_b)},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": group_body(unique("BulkOrg "), kind="organization",
                                members=["bulkId:a", "bulkId:b"])},
        ]
        resp = self.post("/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                                   "Operations": ops})
        self.assertStatus(resp, 200)
        results = {op["bulkId"]: op for op in resp.json["Operations"]}
        self.assertTrue(all(str(op["status"]) == "201" for op in results.values()), resp)
        ids = {k: op["location"].rstrip("/").rsplit("/", 1)[1] for k, op in results.items()}
        self.settle()
        org = [o for o in self.fakes["crm"].records()["organizations"]
               if o["externalId"] == ids["g"]]
        self.assertEqual(len(org), 1, org)
        members = {m["userId"]: m["role"] for m in self.fakes["crm"].records()["memberships"]
                   if m["organizationId"] == org[0]["id"]}
        self.assertEqual(members, {self.crm_one(ids["a"])["id"]: "manager",
                                   self.crm_one(ids["b"])["id"]: "member"})
        self.assertEqual(sync_status(self.client)["crm"]["failed"], 0)

    def test_store_group_upserted_by_external_id(self):
        ext = {"location": "Berlin Mitte", "address": "Alexanderplatz 1, 10178 Berlin",
               "phone": "+49 30 1234567"}
        resp = self.post("/Groups", group_body(unique("Store "), kind="store", **ext))
        self.assertStatus(resp, 201)
        gid, name = resp.json["id"], resp.json["displayName"]
        self.settle()

        def stores():
            return [s for s in self.fakes["crm"].records()["stores"] if s["external_id"] == gid]
        found = stores()
        self.assertEqual(len(found), 1, found)
        store = found[0]
        self.assertEqual({k: store[k] for k in ("name", "location", "address", "phone")},
                         dict(ext, name=name))
        self.assertEqual(links(self.client, gid), {"crm": gid})

        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "replace", "path": f"{SCIMD_GROUP_URN}:address",
             "value": "Unter den Linden 5, 10117 Berlin"}]))
        self.settle()
        found = stores()
        self.assertEqual([(s["id"], s["address"]) for s in found],
                         [(store["id"], "Unter den Linden 5, 10117 Berlin")])
        imports = [r for r in self.fakes["crm"].requests()
                   if r["path"] == "/stores/bulk-import"
                   and any(s.get("external_id") == gid for s in r["body"]["stores"])]
        self.assertEqual([(r["status"], r["response"]["created"], r["response"]["updated"])
                          for r in imports], [(200, 1, 0), (200, 0, 1)])
        self.assertTrue(all(r["body"].get("mode", "create_or_update") == "create_or_update"
                            for r in imports))

        # No longer a store: removed from the CRM; a store again: upserted again.
        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "remove", "path": f"{SCIMD_GROUP_URN}:kind"}]))
        self.settle()
        self.assertEqual(stores(), [])
        self.assertEqual(links(self.client, gid), {})
        self.assertPatched(self.patch(f"/Groups/{gid}", [
            {"op": "add", "path": f"{SCIMD_GROUP_URN}:kind", "value": "store"}]))
        self.settle()
        self.assertEqual(len(stores()), 1)

        self.assertStatus(self.delete(f"/Groups/{gid}"), 204)
        self.settle()
        self.assertEqual(stores(), [])
        self.assertEqual(links(self.client, gid), {})
        self.assertEqual(self.set_uris(self.sets_for("Groups", gid)),
                         [EVENT_CREATE, EVENT_PATCH, EVENT_PATCH, EVENT_PATCH, EVENT_DELETE])

    def test_plain_group_reaches_only_the_webhook(self):
        member = self.create_user()
        self.settle()
        before = len(self.fakes["crm"].requests())
        resp = self.post("/Groups", group_body(unique("Plain "), members=[member["id"]]))
        self.assertStatus(resp, 201)
        gid = resp.json["id"]
        self.settle()
        self.assertEqual(self.fakes["crm"].requests(since=0)[before:], [])
        self.assertEqual(links(self.client, gid), {})
        sets = self.sets_for("Groups", gid)
        self.assertEqual(self.set_uris(sets), [EVENT_CREATE])
        data = sets[0]["events"][EVENT_CREATE]["data"]
        self.assertEqual(data["displayName"], resp.json["displayName"])
        self.assertEqual([m["value"] for m in data["members"]], [member["id"]])

    # -- admin API, metrics, CLI --

    def test_admin_status_deliveries_links_and_metrics(self):
        self.settle()
        before = sync_status(self.client)
        first = self.create_user()
        second = self.create_user()
        self.assertStatus(self.patch(f"/Users/{first['id']}", [
            {"op": "replace", "path": "displayName", "value": "First User"}]), 200)
        group = self.post("/Groups", group_body(unique("Counted ")))
        self.assertStatus(group, 201)
        self.settle()
        after = sync_status(self.client)

        events = {"User": 3, "Group": 1}
        # The CRM also gets a refresh of a User when Dolibarr or Zoho link it after the CRM's
        # delivery read the links (an event of kind "replaced"; this test makes no PUT).
        refreshes = sum(len([d for d in self.get(
            f"/admin/v1/sync/deliveries?target=crm&resource={u['id']}").json["deliveries"]
            if d["event"] == "replaced"]) for u in (first, second))
        self.assertLessEqual(refreshes, 4)
        for name, handles in HANDLES.items():
            expected = sum(n for rt, n in events.items() if rt in handles)
            if name == "crm":
                expected += refreshes
            line = after[name]
            self.assertEqual(line["delivered"] - before[name]["delivered"], expected, (name, line))
            self.assertEqual((line["pending"], line["failed"], line["last_error"]),
                             (0, 0, None), line)
            self.assertEqual(line["oldest_pending_seconds"], 0)
        self.assertEqual({n: t["type"] for n, t in after.items()},
                         {"dolibarr": "dolibarr", "zoho": "zoho_books", "crm": "crm",
                          "events": "webhook"})

        rows = [d for d in deliveries(self.client, target="events")
                if d["resource_id"] in (first["id"], second["id"], group.json["id"])]
        self.assertEqual(sorted((d["resource_type"], d["event"], d["status"]) for d in rows),
                         [("Group", "created", "delivered"), ("User", "created", "delivered"),
                          ("User", "created", "delivered"), ("User", "patched", "delivered")])
        self.assertTrue(all(d["attempts"] >= 1 and d["target"] == "events" for d in rows), rows)
        delivered = deliveries(self.client, status="delivered", target="dolibarr")
        self.assertTrue(delivered)
        self.assertTrue(all(d["status"] == "delivered" and d["target"] == "dolibarr"
                            for d in delivered))
        self.assertEqual(deliveries(self.client, status="failed"), [])
        self.assertEqual(self.get("/admin/v1/sync/deliveries?status=bogus").status, 400)
        # Retrying a delivered row is a conflict; an unknown id is not found.
        row_id = rows[0]["id"]
        self.assertEqual(self.post(f"/admin/v1/sync/deliveries/{row_id}/retry").status, 409)
        self.assertEqual(self.post("/admin/v1/sync/deliveries/999999999/retry").status, 404)

        linked = self.get(f"/admin/v1/sync/links?resource={first['id']}")
        self.assertStatus(linked, 200)
        self.assertEqual(sorted((l["target"], l["resource_type"], l["resource_id"])
                                for l in linked.json["links"]),
                         [("crm", "User", first["id"]), ("dolibarr", "User", first["id"]),
                          ("zoho", "User", first["id"])])
        self.assertEqual(links(self.client, "no-such-resource"), {})
        self.assertEqual(self.get("/admin/v1/sync/status", token=None).status, 401)

        text = metrics(self.client)
        self.assertEqual(metric_value(text, "scimd_outbox_depth"), 0)
        for name, line in after.items():
            for outcome in ("delivered", "failed", "pending"):
                self.assertEqual(metric_value(text, "scimd_deliveries_total", target=name,
                                              outcome=outcome), line[outcome], (name, outcome))
            self.assertEqual(metric_value(text, "scimd_delivery_oldest_pending_seconds",
                                          target=name), 0)

        cli = run_cli("sync", "status", "--db", self.db).stdout
        for name, line in after.items():
            row = [l for l in cli.splitlines() if l.split() and l.split()[0] == name]
            self.assertEqual(len(row), 1, cli)
            self.assertIn(str(line["delivered"]), row[0].split(), cli)


if __name__ == "__main__":
    unittest.main()
