"""Google Workspace auto-provisioning and HR systems (SAP SuccessFactors, Workday) as SCIM clients.

Neither Google nor the HR vendors publish the request bodies they send, so the bodies here are the
RFC examples those clients follow, and the behaviours are the ones the product brief lists
(shared/docs/product.md, "Client quirks that must work": "PUT replace of whole resources,
`externalId` as their key, Enterprise `manager.value` references"):
  [7643-8.2] RFC 7643 §8.2 "Full User Representation" (Babs Jensen), https://www.rfc-editor.org/rfc/rfc7643#section-8.2
  [7643-8.3] RFC 7643 §8.3 "Enterprise User Extension Representation", https://www.rfc-editor.org/rfc/rfc7643#section-8.3
  [7644-3.5.1] RFC 7644 §3.5.1 "Replacing with PUT", https://www.rfc-editor.org/rfc/rfc7644#section-3.5.1
  [GW] Google Workspace auto-provisioning as described by a SCIM server vendor (Google's own help
       page shows no requests): "Google fires a probe against /scim/v2/Users?count=1",
       https://authn-sh-docs.pages.dev/guides/scim/google-workspace/
"""

import copy
import unittest

from conformance_support import (
    ENTERPRISE_URN,
    GROUP_URN,
    USER_URN,
    ConformanceCase,
    by_type,
    member_ids,
    plus,
    unique,
)


def babs(user_name, external_id):
    """[7643-8.2] + [7643-8.3]: Babs Jensen as an HR system pushes her: every writable attribute
    (id, meta, groups and x509Certificates left out), manager pointing at manager_id."""
    return {
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": external_id,
        "userName": user_name,
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                "primary": True
            },
            {
                "type": "home",
                "streetAddress": "456 Hollywood Blvd",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
            }
        ],
        "phoneNumbers": [
            {"value": "555-555-5555", "type": "work"},
            {"value": "555-555-4444", "type": "mobile"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [
            {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"},
            {"value": "https://photos.example.com/profilephoto/72930000000Ccne/T",
             "type": "thumbnail"}
        ],
        "userType": "Employee",
        "title": "Tour Guide",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": True,
        "password": "t1meMa$heen",
        ENTERPRISE_URN: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
        },
    }


class GoogleAndHrProvisioning(ConformanceCase):

    def find_by_external_id(self, external_id):
        return self.assertList(self.get(f"/Users?filter=externalId+eq+%22{plus(external_id)}%22"))

    def create_manager(self, display_name="John Smith"):
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("jsmith"),
                                    "externalId": unique("hr-mgr"), "displayName": display_name})
        return self.assertUser(resp, 201)

    # [GW]: the probe Google sends when auto-provisioning is switched on.
    def test_google_probe(self):
        self.post_user(expect=201)
        resources = self.assertList(self.get("/Users?count=1"))
        self.assertEqual(len(resources), 1)
        self.assertEqual(self.get("/Users?count=1").json["startIndex"], 1)

    # externalId is the HR system's key: it looks the person up by externalId, creates when
    # absent, and otherwise PUTs the whole record to the id it found [7644-3.5.1].
    def test_external_id_keyed_upsert_with_put(self):
        key = unique("701984-")
        self.assertEqual(self.find_by_external_id(key), [])
        body = babs(unique("bjensen") + "@example.com", key)
        created = self.assertUser(self.post("/Users", body), 201)
        uid = created["id"]
        self.assertEqual(created[ENTERPRISE_URN]["employeeNumber"], "701984")
        self.assertEqual(created["name"]["honorificSuffix"], "III")
        self.assertEqual(len(created["addresses"]), 2)

        found = self.find_by_external_id(key)
        self.assertEqual([r["id"] for r in found], [uid])

        # [7644-3.5.1] example PUT: the client sends what it knows; everything it left out is
        # cleared (nickName, addresses, phoneNumbers, the enterprise extension, ...).
        put = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": uid,
            "userName": body["userName"],
            "externalId": key,
            "name": {
                "formatted": "Ms. Barbara J Jensen III",
                "familyName": "Jensen",
                "givenName": "Barbara",
                "middleName": "Jane"
            },
            "roles": [],
            "emails": [
                {"value": "bjensen@example.com"},
                {"value": "babs@jensen.org"}
            ]
        }
        replaced = self.assertUser(self.put(f"/Users/{uid}", put), 200, uid)
        self.assertVersionMoved(created, replaced)
        self.assertEqual(replaced["name"], put["name"])
        self.assertEqual(sorted(e["value"] for e in replaced["emails"]),
                         ["babs@jensen.org", "bjensen@example.com"])
        for gone in ("nickName", "addresses", "phoneNumbers", "ims", "photos", "title",
                     "displayName", ENTERPRISE_URN):
            self.assertNotIn(gone, replaced, f"{gone} was left out of the PUT")
        self.assertNotIn(ENTERPRISE_URN, replaced["schemas"])
        self.assertEqual(replaced["meta"]["created"], created["meta"]["created"])
        self.assertEqual(self.get(f"/Users/{uid}").json, replaced)

        # the same PUT again (an HR re-run) succeeds and changes nothing visible
        again = self.assertUser(self.put(f"/Users/{uid}", put), 200, uid)
        for key_ in ("userName", "name", "emails", "externalId", "active"):
            self.assertEqual(again.get(key_), replaced.get(key_))

    # Enterprise manager.value references [7643-8.3]: "displayName" of the manager is readOnly and
    # filled by the service provider; "$ref" is the manager's URI.
    def test_manager_reference_is_resolved(self):
        manager = self.create_manager("John Smith")
        mid = manager["id"]
        body = babs(unique("bjensen") + "@example.com", unique("hr-"))
        body[ENTERPRISE_URN]["manager"] = {
            "value": mid,
            "$ref": f"../Users/{mid}",
            "displayName": "Somebody Else",   # readOnly: ignored
        }
        employee = self.assertUser(self.post("/Users", body), 201)
        self.assertEqual(employee[ENTERPRISE_URN]["manager"]["value"], mid)
        self.assertEqual(employee[ENTERPRISE_URN]["manager"]["displayName"], "John Smith")
        got = self.get(f"/Users/{employee['id']}").json
        self.assertEqual(got[ENTERPRISE_URN]["manager"]["displayName"], "John Smith")

        # who reports to this manager (HR systems and auditors ask this)
        resp = self.get("/Users?filter=" + plus(f'{ENTERPRISE_URN}:manager.value eq "{mid}"'))
        self.assertEqual([r["id"] for r in self.assertList(resp, total=1)], [employee["id"]])
        # by employeeNumber
        resp = self.get("/Users?filter=" + plus(
            f'{ENTERPRISE_URN}:employeeNumber eq "701984" and externalId eq "{body["externalId"]}"'))
        self.assertEqual([r["id"] for r in self.assertList(resp, total=1)], [employee["id"]])

        # a new manager through PUT of the whole record
        manager2 = self.create_manager("Jane Doe")
        body2 = copy.deepcopy(body)
        body2[ENTERPRISE_URN]["manager"] = {"value": manager2["id"]}
        moved = self.assertUser(self.put(f"/Users/{employee['id']}", body2), 200, employee["id"])
        self.assertEqual(moved[ENTERPRISE_URN]["manager"]["value"], manager2["id"])
        self.assertEqual(moved[ENTERPRISE_URN]["manager"]["displayName"], "Jane Doe")
        self.assertVersionMoved(employee, moved)

        # and without the manager: the reference is gone, the rest of the extension stays
        del body2[ENTERPRISE_URN]["manager"]
        nomgr = self.assertUser(self.put(f"/Users/{employee['id']}", body2), 200, employee["id"])
        self.assertNotIn("manager", nomgr[ENTERPRISE_URN])
        self.assertEqual(nomgr[ENTERPRISE_URN]["department"], "Tour Operations")

    # The manager's displayName is READ-ONLY and describes the manager ([7643-8.3]: "The
    # displayName of the User's manager"); it must follow a rename of the manager.
    def test_manager_display_name_follows_manager_rename(self):
        manager = self.create_manager("John Smith")
        mid = manager["id"]
        body = babs(unique("bjensen") + "@example.com", unique("hr-"))
        body[ENTERPRISE_URN]["manager"] = {"value": mid}
        employee = self.assertUser(self.post("/Users", body), 201)
        self.assertEqual(employee[ENTERPRISE_URN]["manager"]["displayName"], "John Smith")
        renamed = dict(manager)
        renamed.pop("meta")
        renamed["displayName"] = "John Q. Smith"
        self.assertUser(self.put(f"/Users/{mid}", renamed), 200, mid)
        got = self.get(f"/Users/{employee['id']}").json
        self.assertEqual(got[ENTERPRISE_URN]["manager"]["displayName"], "John Q. Smith")

    # Google "Deprovisioning: suspend" and HR leavers: PUT of the whole record with active false.
    def test_deactivate_via_put(self):
        body = babs(unique("leaver") + "@example.com", unique("hr-"))
        created = self.assertUser(self.post("/Users", body), 201)
        uid = created["id"]
        # the client GETs, flips active, PUTs back what it read (readOnly meta/id included)
        current = self.get(f"/Users/{uid}").json
        current["active"] = False
        off = self.assertUser(self.put(f"/Users/{uid}", current), 200, uid)
        self.assertIs(off["active"], False)
        self.assertVersionMoved(created, off)
        for key in ("name", "emails", "addresses", "phoneNumbers", ENTERPRISE_URN):
            self.assertEqual(off[key], created[key], f"{key} changed by a PUT that kept it")
        self.assertIs(self.get(f"/Users/{uid}").json["active"], False)
        # still found by the key, and by an active filter
        self.assertIs(self.find_by_external_id(body["externalId"])[0]["active"], False)
        resp = self.get("/Users?filter=" + plus(
            f'active eq false and externalId eq "{body["externalId"]}"'))
        self.assertEqual([r["id"] for r in self.assertList(resp, total=1)], [uid])
        # rehire
        current = self.get(f"/Users/{uid}").json
        current["active"] = True
        on = self.assertUser(self.put(f"/Users/{uid}", current), 200, uid)
        self.assertIs(on["active"], True)
        self.assertVersionMoved(off, on)

    # [7644-3.5.1]: PUT errors clients must be able to act on.
    def test_put_errors(self):
        body = babs(unique("bjensen") + "@example.com", unique("hr-"))
        uid = self.assertUser(self.post("/Users", body), 201)["id"]
        # unknown id: 404
        self.assertNotFound(self.put("/Users/does-not-exist", body))
        # userName is required: 400
        no_name = copy.deepcopy(body)
        del no_name["userName"]
        resp = self.put(f"/Users/{uid}", no_name)
        self.assertScimError(resp, 400)
        # taking another user's userName: 409 uniqueness
        other = self.assertUser(self.post_user(), 201)
        taken = copy.deepcopy(body)
        taken["userName"] = other["userName"]
        self.assertScimError(self.put(f"/Users/{uid}", taken), 409, "uniqueness")
        # nothing of the failed PUTs stuck
        self.assertEqual(self.get(f"/Users/{uid}").json["userName"], body["userName"])

    # Group replace with PUT (Google groups, Okta AIW group push: "this request to update a Group
    # object is sent through a PUT request"): the members list is replaced as a whole.
    def test_put_group_replaces_members(self):
        users = [self.assertUser(self.post_user(), 201)["id"] for _ in range(3)]
        group = self.assertGroup(self.post_group(members=users[:2]), 201)
        gid = group["id"]
        put = {"schemas": [GROUP_URN], "displayName": group["displayName"] + " renamed",
               "externalId": unique("grp"), "members": [{"value": users[2]}]}
        replaced = self.assertGroup(self.put(f"/Groups/{gid}", put), 200, gid)
        self.assertEqual(member_ids(replaced), [users[2]])
        self.assertEqual(member_ids(self.get(f"/Groups/{gid}").json), [users[2]])
        self.assertEqual(replaced["displayName"], put["displayName"])
        self.assertVersionMoved(group, replaced)
        # PUT without members empties the group
        del put["members"]
        emptied = self.assertGroup(self.put(f"/Groups/{gid}", put), 200, gid)
        self.assertEqual(member_ids(emptied), [])
        self.assertEqual(member_ids(self.get(f"/Groups/{gid}").json), [])

    # Multi-valued attributes the HR system owns are replaced, not merged, by PUT.
    def test_put_replaces_multi_valued_attributes(self):
        body = babs(unique("bjensen") + "@example.com", unique("hr-"))
        uid = self.assertUser(self.post("/Users", body), 201)["id"]
        body["phoneNumbers"] = [{"value": "555-555-0000", "type": "work"}]
        body["emails"] = [{"value": "new@example.com", "type": "work", "primary": True}]
        got = self.assertUser(self.put(f"/Users/{uid}", body), 200, uid)
        self.assertEqual(got["phoneNumbers"], [{"value": "555-555-0000", "type": "work"}])
        self.assertEqual(got["emails"], [{"value": "new@example.com", "type": "work",
                                          "primary": True}])
        self.assertEqual(by_type(got["addresses"], "work")[0]["streetAddress"],
                         "100 Universal City Plaza")


if __name__ == "__main__":
    unittest.main()
