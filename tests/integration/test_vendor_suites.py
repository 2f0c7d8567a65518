"""What vendors' SCIM test suites ask for beyond RFC 7644's letter: resource endpoints matched
case-insensitively (/scim/v2/users is /Users) and `attributes=` accepting a value-filtered path
(attributes=emails[type eq "work"] returns only those values). What breaks integrity is still
refused (a member that is a bare unknown string).

Run by ctest once per database, or by hand: python3 -m unittest -v test_vendor_suites
"""

import unittest

from it_support import query
from scimd_harness import GROUP_URN, ScimTestCase, unique


class VendorSuitesTest(ScimTestCase):

    def test_endpoints_match_case_insensitively(self):
        name = unique("lower")
        resp = self.post("/scim/v2/users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                            "userName": name})
        self.assertStatus(resp, 201)
        uid = resp.json["id"]
        self.assertTrue(resp.headers.get("Location", "").endswith(f"/Users/{uid}"), resp)
        for path in (f"/scim/v2/users/{uid}", f"/scim/v2/USERS/{uid}", f"/scim/v2/uSeRs/{uid}"):
            got = self.get(path)
            self.assertStatus(got, 200)
            self.assertEqual(got.json["id"], uid)
        listed = self.get("/scim/v2/users" + query(filter=f'userName eq "{name}"'))
        self.assertStatus(listed, 200)
        self.assertEqual(listed.json["totalResults"], 1)
        self.assertStatus(self.patch(f"/scim/v2/users/{uid}", [
            {"op": "replace", "path": "displayName", "value": "Lower Case"}]), 200)
        searched = self.post("/scim/v2/users/.SEARCH", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'userName eq "{name}"'})
        self.assertStatus(searched, 200)
        self.assertEqual(searched.json["totalResults"], 1)
        gid = self.post("/scim/v2/groups", {"schemas": [GROUP_URN],
                                            "displayName": unique("g"),
                                            "members": [{"value": uid}]})
        self.assertStatus(gid, 201)
        self.assertStatus(self.get(f"/scim/v2/groups/{gid.json['id']}"), 200)
        for path in ("/scim/v2/serviceproviderconfig", "/scim/v2/resourcetypes",
                     "/scim/v2/SCHEMAS", "/scim/v2/resourcetypes/User"):
            self.assertStatus(self.get(path), 200)
        self.assertStatus(self.delete(f"/scim/v2/users/{uid}"), 204)
        self.assertScimError(self.get(f"/scim/v2/users/{uid}"), 404)
        # Unknown endpoints stay unknown; methods a path lacks stay 405.
        self.assertScimError(self.get("/scim/v2/userz"), 404)
        self.assertStatus(self.delete("/scim/v2/users"), 405)

    def test_integrity_is_still_enforced(self):
        resp = self.post("/scim/v2/groups", {"schemas": [GROUP_URN], "displayName": unique("g"),
                                             "members": [{"value": "no-such-user"}]})
        self.assertScimError(resp, 400)

    def test_attributes_accepts_a_value_filtered_path(self):
        uid = self.post_user(unique("vf"), expect=201, emails=[
            {"value": "work@x.example", "type": "work", "primary": True},
            {"value": "home@x.example", "type": "home"},
            {"value": "other@x.example", "type": "Work"}]).json["id"]
        got = self.get(f"/Users/{uid}" + query(attributes='emails[type eq "work"]'))
        self.assertStatus(got, 200)
        self.assertEqual(sorted(e["value"] for e in got.json["emails"]),
                         ["other@x.example", "work@x.example"])
        self.assertNotIn("userName", got.json)
        self.assertEqual(got.json["id"], uid)
        # With a sub-attribute after the filter, and mixed with plain paths.
        got = self.get(f"/Users/{uid}" + query(attributes='emails[primary eq true].value,userName'))
        self.assertStatus(got, 200)
        self.assertEqual(got.json["emails"], [{"value": "work@x.example"}])
        self.assertIn("userName", got.json)
        # Listing and .search take it too.
        listed = self.get("/Users" + query(filter=f'id eq "{uid}"',
                                           attributes='emails[type eq "home"]'))
        self.assertStatus(listed, 200)
        self.assertEqual(listed.json["Resources"][0]["emails"], [
            {"value": "home@x.example", "type": "home"}])
        searched = self.post("/Users/.search", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'id eq "{uid}"', "attributes": ['emails[value sw "other"]']})
        self.assertStatus(searched, 200)
        self.assertEqual([e["value"] for e in searched.json["Resources"][0]["emails"]],
                         ["other@x.example"])
        # Nothing selected: the attribute is left out.
        got = self.get(f"/Users/{uid}" + query(attributes='emails[type eq "none"],userName'))
        self.assertStatus(got, 200)
        self.assertNotIn("emails", got.json)
        # A bad filter is a 400; excludedAttributes takes no filter.
        self.assertScimError(self.get(f"/Users/{uid}" + query(attributes='emails[type xx "w"]')),
                             400, "invalidFilter")
        self.assertScimError(self.get(f"/Users/{uid}" + query(attributes='userName[value eq "x"]')),
                             400, "invalidPath")
        self.assertScimError(self.get(f"/Users/{uid}" +
                                      query(excludedAttributes='emails[type eq "work"]')),
                             400, "invalidPath")

    def test_group_members_by_value_filter(self):
        uid = self.post_user(unique("m"), expect=201).json["id"]
        other = self.post_user(unique("m"), expect=201).json["id"]
        gid = self.post_group(members=[uid, other], expect=201).json["id"]
        got = self.get(f"/Groups/{gid}" + query(attributes=f'members[value eq "{uid}"]'))
        self.assertStatus(got, 200)
        self.assertEqual([m["value"] for m in got.json["members"]], [uid])


if __name__ == "__main__":
    unittest.main()
