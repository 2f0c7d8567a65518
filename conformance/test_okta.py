"""Okta as a SCIM 2.0 client: the requests Okta documents, replayed against scimd.

Source of every request body and URL below, unless a comment says otherwise:
  Okta, "SCIM 2.0 Protocol Reference" (Okta and SCIM Version 2.0),
  https://developer.okta.com/docs/reference/scim/scim-20/
  (mirror: https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20;
  source: github.com/okta/okta-developer-docs, packages/@okta/vuepress-site/docs/reference/scim/scim-20/index.md)
and Okta, "Build a SCIM provisioning integration",
  https://developer.okta.com/docs/guides/build-provisioning-integration/prepare-api

Okta's examples use fixed ids ("23a35c27-...", "89bb1940-...", "abf4dd94-..."); scimd assigns its
own ids, so the tests put the ids scimd returned where Okta's examples have theirs. Okta accepts
200 with the resource or 204 for PATCH ("The SCIM server response to PATCH method requests can
also be a HTTP 204 response"); patch_ok() accepts both.
"""

import unittest

from patch_cases import PatchCaseRunner, add_patch_cases
from conformance_support import (
    PATCH_URN,
    USER_URN,
    ConformanceCase,
    member_ids,
    pct,
    unique,
)


def okta_user(user_name, given="Test", family="User", external_id="00ujl29u0le5T6Aj10h7"):
    """Okta's "Create the User" body (SCIM 2.0 reference, "Create the User"), with userName,
    email and externalId as parameters."""
    return {
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def existence_check_url(user_name):
    # "GET /scim/v2/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
    return f"/Users?filter=userName%20eq%20%22{pct(user_name)}%22&startIndex=1&count=100"


class OktaPatchCases(PatchCaseRunner):
    """tests/cases/patch/okta.json (the documented PATCH requests, each on its own), one test per
    case; the lifecycles below replay them in the order Okta sends them."""


add_patch_cases(OktaPatchCases, "okta.json")


class OktaUserLifecycle(ConformanceCase):
    # Okta SCIM 1.1/2.0 references, "Create Users": after the integration is saved Okta tests the
    # connection with GET /Users?startIndex=1&count=2 (developer.okta.com/docs/api/openapi/
    # okta-scim/guides/scim-11 shows "GET /scim/v1/Users?startIndex=1&count=2"; the Delinea Okta
    # endpoint reference lists the same request for SCIM 2.0: "count=2 is a constant").
    def test_test_connection_probe(self):
        self.post_user(expect=201)
        resources = self.assertList(self.get("/Users?startIndex=1&count=2"))
        self.assertLessEqual(len(resources), 2)
        body = self.get("/Users?startIndex=1&count=2").json
        self.assertEqual(body["startIndex"], 1)
        self.assertGreaterEqual(body["totalResults"], 1)

    # SCIM 2.0 reference, "Create Users" → "Determine if the User already exists", "Create the
    # User"; "Retrieve a specific User"; "Update a specific User (PUT)"; "Update a specific User
    # (PATCH)" (deactivation); "Delete Users" (Okta never DELETEs users: it sets active false).
    def test_user_lifecycle_as_documented(self):
        # Determine if the User already exists: an empty ListResponse.
        resp = self.get(existence_check_url("test.user@okta.local"))
        self.assertList(resp, total=0)
        self.assertEqual(resp.json["startIndex"], 1)

        # Create the User, body verbatim.
        resp = self.post("/Users", okta_user("test.user@okta.local"))
        created = self.assertUser(resp, 201)
        uid = created["id"]
        self.assertEqual(created["userName"], "test.user@okta.local")
        self.assertEqual(created["name"]["givenName"], "Test")
        self.assertEqual(created["name"]["familyName"], "User")
        self.assertEqual(created["emails"],
                         [{"primary": True, "value": "test.user@okta.local", "type": "work"}])
        self.assertEqual(created["displayName"], "Test User")
        self.assertEqual(created["locale"], "en-US")
        self.assertEqual(created["externalId"], "00ujl29u0le5T6Aj10h7")
        self.assertIs(created["active"], True)
        self.assertEqual(created.get("groups", []), [])

        # The next existence check finds it (Okta then links instead of creating).
        resources = self.assertList(self.get(existence_check_url("test.user@okta.local")), total=1)
        self.assertEqual(resources[0]["id"], uid)

        # Creating it again: 409 with the error schema stops the provisioning job.
        self.assertScimError(self.post("/Users", okta_user("test.user@okta.local")), 409,
                             "uniqueness")

        # Retrieve a specific User.
        fetched = self.assertUser(self.get(f"/Users/{uid}"), 200, uid)
        self.assertEqual(fetched["meta"]["version"], created["meta"]["version"])

        # Update a specific User (PUT): Okta GETs, changes the attributes, PUTs the whole body
        # (with id, groups and meta as it read them).
        put_body = {
            "schemas": [USER_URN],
            "id": uid,
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work",
                        "display": "test.user@okta.local"}],
            "active": True,
            "groups": [],
            "meta": {"resourceType": "User"},
        }
        updated = self.assertUser(self.put(f"/Users/{uid}", put_body), 200, uid)
        self.assertEqual(updated["name"]["givenName"], "Another")
        self.assertEqual(updated["name"]["middleName"], "Excited")
        self.assertEqual(updated["emails"][0]["display"], "test.user@okta.local")
        self.assertIs(updated["active"], True)
        self.assertVersionMoved(fetched, updated)

        # Update a specific User (PATCH): deactivation, verbatim.
        deactivated = self.patch_ok(f"/Users/{uid}", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }, "User")
        self.assertIs(deactivated["active"], False)
        self.assertEqual(deactivated["name"]["givenName"], "Another")
        self.assertVersionMoved(updated, deactivated)
        self.assertIs(self.get(f"/Users/{uid}").json["active"], False)
        # A deactivated user is still found by the existence check (Okta must not re-create it).
        resources = self.assertList(self.get(existence_check_url("test.user@okta.local")), total=1)
        self.assertIs(resources[0]["active"], False)

        # Reactivation: the same request with true (Okta: "Activating a user" goes by PATCH).
        reactivated = self.patch_ok(f"/Users/{uid}", {
            "schemas": [PATCH_URN],
            "Operations": [{"op": "replace", "value": {"active": True}}],
        }, "User")
        self.assertIs(reactivated["active"], True)
        self.assertVersionMoved(deactivated, reactivated)

        # App Integration Wizard integrations deactivate with PUT and active:false.
        put_body["active"] = False
        put_off = self.assertUser(self.put(f"/Users/{uid}", put_body), 200, uid)
        self.assertIs(put_off["active"], False)
        self.assertVersionMoved(reactivated, put_off)
        self.assertIs(self.get(f"/Users/{uid}").json["active"], False)

    # "Determine if the User already exists": the filter is on userName, which is caseExact:false
    # (RFC 7643 §4.1.1), so Okta's check must match whatever case the user was created with.
    def test_existence_check_is_case_insensitive(self):
        name = unique("Mixed.Case") + "@Okta.Local"
        uid = self.assertUser(self.post("/Users", okta_user(name, external_id=unique("ext"))),
                              201)["id"]
        for variant in (name, name.lower(), name.upper()):
            resources = self.assertList(self.get(existence_check_url(variant)), total=1)
            self.assertEqual(resources[0]["id"], uid, variant)
            self.assertEqual(resources[0]["userName"], name, "stored as sent")
        # and a create that differs only in case is a duplicate
        self.assertScimError(self.post("/Users", okta_user(name.upper(),
                                                           external_id=unique("ext"))),
                             409, "uniqueness")

    # The same for userNames outside ASCII (Okta logins are UTF-8; e.g. "José.Núñez@..."):
    # a case-insensitive attribute is case-insensitive for every letter, and uniqueness follows
    # (scimd folds with Unicode full case folding of the NFC form, scim::FoldCase).
    def test_existence_check_is_case_insensitive_beyond_ascii(self):
        name = unique("José.Núñez.") + "@Okta.Local"
        uid = self.assertUser(self.post("/Users", okta_user(name, external_id=unique("ext"))),
                              201)["id"]
        for variant in (name, name.lower(), name.upper()):
            resources = self.assertList(self.get(existence_check_url(variant)), total=1)
            self.assertEqual(resources[0]["id"], uid, variant)
        self.assertScimError(self.post("/Users", okta_user(name.upper(),
                                                           external_id=unique("ext"))),
                             409, "uniqueness")

    def test_existence_check_of_unknown_user_is_empty_list(self):
        resp = self.get(existence_check_url(unique("nobody") + "@okta.local"))
        self.assertList(resp, total=0)

    # "Update a specific User (PATCH)": "Syncing the user password" is a PATCH too. The reference
    # shows no body; Okta sends the same path-less replace form as for active.
    def test_password_sync_patch_never_returns_password(self):
        uid = self.assertUser(self.post("/Users", okta_user(unique("pw") + "@okta.local",
                                                            external_id=unique("ext"))), 201)["id"]
        before = self.get(f"/Users/{uid}").json
        after = self.patch_ok(f"/Users/{uid}", [{"op": "replace",
                                                 "value": {"password": "n3wPassw0rd!"}}], "User")
        self.assertNotIn("password", after)
        self.assertVersionMoved(before, after)

    # "Retrieve Users": Okta pages with count=100 and startIndex+100 until it has seen
    # totalResults; "The SCIM server must consistently return the same ordering of results for the
    # requests, regardless of which values are provided for the count and startIndex".
    def test_paging_through_all_users(self):
        created = set()
        for _ in range(230):
            resp = self.post_user(userName=unique("page") + "@okta.local")
            created.add(self.assertUser(resp, 201)["id"])

        def walk(count):
            ids, start, total = [], 1, None
            while True:
                resp = self.get(f"/Users?startIndex={start}&count={count}")
                resources = self.assertList(resp)
                body = resp.json
                self.assertEqual(body["startIndex"], start)
                if total is None:
                    total = body["totalResults"]
                self.assertEqual(body["totalResults"], total, "totalResults changed while paging")
                self.assertLessEqual(len(resources), count)
                if start + count - 1 < total:
                    self.assertEqual(len(resources), count, "a page before the last is full")
                ids.extend(r["id"] for r in resources)
                start += count
                if start > total:
                    return ids, total

        ids, total = walk(100)
        self.assertEqual(len(ids), total)
        self.assertEqual(len(set(ids)), len(ids), "a user was returned twice")
        self.assertTrue(created <= set(ids), "a user was never returned")
        self.assertGreaterEqual(total, 230)
        # same ordering whatever the page size
        ids_small, _ = walk(37)
        self.assertEqual(ids_small, ids)
        # past the end: 200, no resources, same totalResults
        resp = self.get(f"/Users?startIndex={total + 1}&count=100")
        self.assertEqual(self.assertList(resp), [])
        self.assertEqual(resp.json["totalResults"], total)


class OktaGroupPush(ConformanceCase):
    """SCIM 2.0 reference, "SCIM Group operations" (Group Push)."""

    def make_user(self, user_name):
        resp = self.post("/Users", okta_user(user_name, external_id=unique("ext")))
        return self.assertUser(resp, 201)["id"]

    def test_group_push_as_documented(self):
        user_a = self.make_user(unique("a") + "@okta.local")  # Okta's 23a35c27-...
        user_b = self.make_user(unique("b") + "@okta.local")  # Okta's 89bb1940-...

        # Create Groups, verbatim.
        resp = self.post("/Groups", {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Test SCIMv2",
            "members": [],
        })
        group = self.assertGroup(resp, 201)
        gid = group["id"]
        self.assertEqual(group["displayName"], "Test SCIMv2")
        self.assertEqual(member_ids(group), [])

        # Retrieve Groups (import), Retrieve specific Groups.
        resp = self.get("/Groups?startIndex=1&count=100")
        self.assertIn(gid, [g["id"] for g in self.assertList(resp)])
        fetched = self.assertGroup(self.get(f"/Groups/{gid}"), 200, gid)

        # Update specific Group membership, verbatim: remove B (not a member yet: a no-op) and
        # add A in one request.
        g1 = self.patch_ok(f"/Groups/{gid}", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "remove",
                "path": f"members[value eq \"{user_b}\"]",
            }, {
                "op": "add",
                "path": "members",
                "value": [{"value": user_a, "display": "test.user@okta.local"}],
            }],
        }, "Group")
        self.assertEqual(member_ids(self.get(f"/Groups/{gid}").json), [user_a])
        self.assertVersionMoved(fetched, g1)

        # Add B.
        g2 = self.patch_ok(f"/Groups/{gid}", [{
            "op": "add", "path": "members",
            "value": [{"value": user_b, "display": "test.user@okta.local"}],
        }], "Group")
        self.assertEqual(sorted(member_ids(self.get(f"/Groups/{gid}").json)),
                         sorted([user_a, user_b]))
        self.assertVersionMoved(g1, g2)

        # The users see the group in their readOnly groups attribute (RFC 7643 §4.1.2).
        user = self.assertUser(self.get(f"/Users/{user_a}"), 200, user_a)
        self.assertIn(gid, [g.get("value") for g in user.get("groups", [])])

        # Remove A with Okta's filter form.
        g3 = self.patch_ok(f"/Groups/{gid}", [{
            "op": "remove", "path": f"members[value eq \"{user_a}\"]",
        }], "Group")
        self.assertEqual(member_ids(self.get(f"/Groups/{gid}").json), [user_b])
        self.assertVersionMoved(g2, g3)
        user = self.get(f"/Users/{user_a}").json
        self.assertNotIn(gid, [g.get("value") for g in user.get("groups", [])])

        # Removing a member that is not there again is not an error (Okta retries).
        self.patch_ok(f"/Groups/{gid}", [{
            "op": "remove", "path": f"members[value eq \"{user_a}\"]",
        }], "Group")
        self.assertEqual(member_ids(self.get(f"/Groups/{gid}").json), [user_b])

        # Full push of the membership with replace, verbatim shape.
        g4 = self.patch_ok(f"/Groups/{gid}", {
            "schemas": [PATCH_URN],
            "Operations": [{
                "op": "replace",
                "path": "members",
                "value": [
                    {"value": user_a, "display": "test.user@okta.local"},
                    {"value": user_b, "display": "test.user@okta.local"},
                ],
            }],
        }, "Group")
        self.assertEqual(sorted(member_ids(self.get(f"/Groups/{gid}").json)),
                         sorted([user_a, user_b]))
        self.assertVersionMoved(g3, g4)

        # Update a specific Group name, verbatim: Okta sends the group's own id with the name
        # "each time there is a group membership update".
        same = self.patch_ok(f"/Groups/{gid}", {
            "schemas": [PATCH_URN],
            "Operations": [{"op": "replace",
                            "value": {"id": gid, "displayName": "Test SCIMv2"}}],
        }, "Group")
        self.assertEqual(same["displayName"], "Test SCIMv2")
        self.assertEqual(same["id"], gid)
        renamed = self.patch_ok(f"/Groups/{gid}", {
            "schemas": [PATCH_URN],
            "Operations": [{"op": "replace",
                            "value": {"id": gid, "displayName": "Test SCIMv20"}}],
        }, "Group")
        self.assertEqual(renamed["displayName"], "Test SCIMv20")
        self.assertVersionMoved(g4, renamed)
        # renaming does not touch membership
        self.assertEqual(sorted(member_ids(self.get(f"/Groups/{gid}").json)),
                         sorted([user_a, user_b]))

        # Delete a specific Group: 204, no body; then it is gone, the users are not.
        resp = self.delete(f"/Groups/{gid}")
        self.assertEqual(resp.status, 204, resp)
        self.assertFalse(resp.body)
        self.assertNotFound(self.get(f"/Groups/{gid}"))
        self.assertNotFound(self.delete(f"/Groups/{gid}"))
        user = self.assertUser(self.get(f"/Users/{user_a}"), 200, user_a)
        self.assertNotIn(gid, [g.get("value") for g in user.get("groups", [])])

    # "Retrieve Groups": paged like users, count=100.
    def test_group_import_pages(self):
        ids = {self.assertGroup(self.post_group(), 201)["id"] for _ in range(5)}
        seen, start = [], 1
        while True:
            resp = self.get(f"/Groups?startIndex={start}&count=2")
            resources = self.assertList(resp)
            seen.extend(g["id"] for g in resources)
            start += 2
            if start > resp.json["totalResults"]:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(ids <= set(seen))


if __name__ == "__main__":
    unittest.main()
