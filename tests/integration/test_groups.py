"""Groups: members (Users and Groups), unknown members, member cleanup on User delete,
excludedAttributes=members, PUT replacing members, and the scimd Group extension (RFC 7643 §4.2,
RFC 7644 §3.3-3.6; product brief "Schemas and URNs").

Run by ctest once per database, or by hand: python3 -m unittest -v test_groups
"""

import unittest

from it_support import SCIMD_GROUP_URN, parse_time, query
from scimd_harness import GROUP_URN, ScimTestCase, unique


class GroupsTest(ScimTestCase):

    def user(self, displayName=None):
        return self.post_user(displayName=displayName or unique("Person "), expect=201).json

    def group(self, **kw):
        return self.post_group(expect=201, **kw).json

    def fetch(self, group_id, **kw):
        resp = self.get(f"/Groups/{group_id}", **kw)
        self.assertStatus(resp, 200)
        return resp.json

    def member_ids(self, group):
        return sorted(m["value"] for m in group.get("members", []))

    # -- create and read --

    def test_create_with_user_and_group_members(self):
        alice, bob = self.user("Alice A"), self.user("Bob B")
        inner = self.group(displayName=unique("Inner"))
        name = unique("Outer")
        resp = self.post("/Groups", {"schemas": [GROUP_URN], "displayName": name,
                                     "externalId": "ext-" + name,
                                     "members": [{"value": alice["id"], "type": "User"},
                                                 {"value": bob["id"]},
                                                 {"value": inner["id"], "type": "Group"}]})
        self.assertStatus(resp, 201)
        created = resp.json
        self.assertIn(GROUP_URN, created["schemas"])
        self.assertEqual(created["displayName"], name)
        self.assertEqual(created["externalId"], "ext-" + name)
        self.assertEqual(created["meta"]["resourceType"], "Group")
        self.assertTrue(created["meta"]["location"].endswith("/Groups/" + created["id"]))
        self.assertEqual(resp.headers.get("Location"), created["meta"]["location"])
        parse_time(created["meta"]["created"])
        expected = {alice["id"]: ("User", "Alice A"), bob["id"]: ("User", "Bob B"),
                    inner["id"]: ("Group", inner["displayName"])}
        locations = {r["id"]: r["meta"]["location"] for r in (alice, bob, inner)}
        for body in (created, self.fetch(created["id"])):
            members = {m["value"]: m for m in body["members"]}
            self.assertEqual(set(members), set(expected), body)
            for member_id, (kind, display) in expected.items():
                self.assertEqual(members[member_id].get("type"), kind, members[member_id])
                self.assertEqual(members[member_id].get("display"), display, members[member_id])
                # RFC 7643 §4.2: $ref is the member's URI, its meta.location.
                self.assertEqual(members[member_id].get("$ref"), locations[member_id], members[member_id])

    def test_user_groups_carry_the_group_uri_and_projection_can_drop_it(self):
        dave = self.user("Dave D")
        group = self.group(members=[{"value": dave["id"]}])
        groups = self.get(f"/Users/{dave['id']}").json["groups"]
        self.assertEqual([(g["value"], g.get("$ref")) for g in groups], [(group["id"], group["meta"]["location"])])
        only_values = self.get(f"/Groups/{group['id']}?attributes=members.value")
        self.assertStatus(only_values, 200)
        self.assertEqual(only_values.json["members"], [{"value": dave["id"]}])

    def test_member_display_comes_from_the_member_not_the_input(self):
        carol = self.user("Carol C")
        created = self.group(members=[{"value": carol["id"], "display": "Forged"}])
        self.assertEqual(created["members"][0].get("display"), "Carol C")

    def test_unknown_member_is_400_and_nothing_is_created(self):
        alice = self.user()
        name = unique("BadMembers")
        resp = self.post_group(displayName=name, members=[alice["id"], "00000000-dead-beef-0000-000000000000"])
        self.assertScimError(resp, 400)
        listed = self.get("/Groups" + query(filter=f'displayName eq "{name}"'))
        self.assertStatus(listed, 200)
        self.assertEqual(listed.json["totalResults"], 0, listed)
        self.assertFalse(self.get(f"/Users/{alice['id']}").json.get("groups"))

    def test_member_without_value_is_400(self):
        self.assertScimError(self.post_group(members=[{"type": "User", "display": "nobody"}]), 400)

    def test_unknown_member_on_put_is_400_and_members_unchanged(self):
        alice = self.user()
        group = self.group(members=[alice["id"]])
        resp = self.put(f"/Groups/{group['id']}", {"schemas": [GROUP_URN], "displayName": group["displayName"],
                                                   "members": [{"value": "no-such-id"}]})
        self.assertScimError(resp, 400)
        self.assertEqual(self.member_ids(self.fetch(group["id"])), [alice["id"]])

    def test_duplicate_display_names_are_allowed(self):
        # displayName has uniqueness "none" in RFC 7643 §4.2 (the scimd schema says the same).
        name = unique("SameName")
        first, second = self.group(displayName=name), self.group(displayName=name)
        self.assertNotEqual(first["id"], second["id"])

    def test_get_unknown_group_is_404(self):
        self.assertScimError(self.get("/Groups/no-such-group"), 404)
        self.assertScimError(self.delete("/Groups/no-such-group"), 404)

    def test_user_id_is_not_a_group(self):
        alice = self.user()
        self.assertScimError(self.get(f"/Groups/{alice['id']}"), 404)
        group = self.group()
        self.assertScimError(self.get(f"/Users/{group['id']}"), 404)

    # -- member lifecycle --

    def test_deleting_a_user_removes_its_memberships(self):
        alice, bob = self.user(), self.user()
        g1 = self.group(members=[alice["id"], bob["id"]])
        g2 = self.group(members=[bob["id"]])
        before = self.fetch(g2["id"])["meta"]["version"]
        self.assertStatus(self.delete(f"/Users/{bob['id']}"), 204)
        self.assertEqual(self.member_ids(self.fetch(g1["id"])), [alice["id"]])
        self.assertEqual(self.member_ids(self.fetch(g2["id"])), [])
        found = self.get("/Groups" + query(filter=f'members.value eq "{bob["id"]}"'))
        self.assertStatus(found, 200)
        self.assertEqual(found.json["totalResults"], 0, found)
        # The group's membership changed, so its version should too (RFC 7644 §3.14).
        self.assertNotEqual(self.fetch(g2["id"])["meta"]["version"], before)

    def test_deleting_a_member_group_removes_it_from_parents(self):
        inner = self.group()
        outer = self.group(members=[{"value": inner["id"], "type": "Group"}])
        self.assertStatus(self.delete(f"/Groups/{inner['id']}"), 204)
        self.assertEqual(self.member_ids(self.fetch(outer["id"])), [])

    def test_excluded_attributes_members(self):
        alice = self.user()
        group = self.group(members=[alice["id"]])
        single = self.get(f"/Groups/{group['id']}?excludedAttributes=members")
        self.assertStatus(single, 200)
        self.assertNotIn("members", single.json)
        self.assertEqual(single.json["displayName"], group["displayName"])
        self.assertEqual(single.json["id"], group["id"])
        self.assertIn(GROUP_URN, single.json["schemas"])
        listed = self.get("/Groups" + query(filter=f'displayName eq "{group["displayName"]}"',
                                            excludedAttributes="members"))
        self.assertStatus(listed, 200)
        self.assertEqual(listed.json["totalResults"], 1)
        self.assertNotIn("members", listed.json["Resources"][0])
        only_name = self.get(f"/Groups/{group['id']}?attributes=displayName").json
        self.assertEqual(set(only_name) - {"meta"}, {"id", "schemas", "displayName"}, only_name)
        only_members = self.get(f"/Groups/{group['id']}?attributes=members").json
        self.assertEqual(self.member_ids(only_members), [alice["id"]])
        self.assertNotIn("displayName", only_members)

    def test_put_replaces_members(self):
        a, b, c = self.user(), self.user(), self.user()
        group = self.group(members=[a["id"], b["id"]])
        resp = self.put(f"/Groups/{group['id']}", {"schemas": [GROUP_URN], "displayName": "Renamed " + group["id"],
                                                   "members": [{"value": c["id"]}, {"value": b["id"]}]})
        self.assertStatus(resp, 200)
        for body in (resp.json, self.fetch(group["id"])):
            self.assertEqual(self.member_ids(body), sorted([b["id"], c["id"]]))
            self.assertEqual(body["displayName"], "Renamed " + group["id"])
            self.assertEqual(body["id"], group["id"])
            self.assertNotEqual(body["meta"]["version"], group["meta"]["version"])
        self.assertFalse(self.get(f"/Users/{a['id']}").json.get("groups"))
        self.assertEqual([g["value"] for g in self.get(f"/Users/{c['id']}").json["groups"]], [group["id"]])
        emptied = self.put(f"/Groups/{group['id']}", {"schemas": [GROUP_URN], "displayName": "Empty"})
        self.assertStatus(emptied, 200)
        self.assertEqual(self.member_ids(emptied.json), [])
        self.assertEqual(self.member_ids(self.fetch(group["id"])), [])

    def test_member_changes_that_change_nothing_keep_the_version(self):
        # RFC 7644 §3.5.2.1: adding a member already there, or a PUT with the same members and
        # attributes, changes nothing: same meta.version, and member versions do not move either.
        a, b = self.user(), self.user()
        group = self.group(members=[a["id"], b["id"]])
        version = group["meta"]["version"]
        member_version = self.get(f"/Users/{a['id']}").json["meta"]["version"]
        resp = self.patch(f"/Groups/{group['id']}", [
            {"op": "add", "path": "members", "value": [{"value": a["id"]}]}])
        self.assertIn(resp.status, (200, 204), resp)
        self.assertEqual(self.fetch(group["id"])["meta"]["version"], version)
        same = {"schemas": [GROUP_URN], "displayName": group["displayName"],
                "members": [{"value": b["id"]}, {"value": a["id"]}]}
        self.assertStatus(self.put(f"/Groups/{group['id']}", same), 200)
        self.assertEqual(self.fetch(group["id"])["meta"]["version"], version)
        self.assertEqual(self.get(f"/Users/{a['id']}").json["meta"]["version"], member_version)
        resp = self.patch(f"/Groups/{group['id']}", [
            {"op": "add", "path": "members", "value": [{"value": self.user()["id"]}]}])
        self.assertIn(resp.status, (200, 204), resp)
        self.assertNotEqual(self.fetch(group["id"])["meta"]["version"], version)

    def test_duplicate_member_entries_count_once(self):
        a = self.user()
        resp = self.post_group(members=[a["id"], a["id"]])
        if resp.status == 201:
            self.assertEqual(self.member_ids(resp.json), [a["id"]])
            self.assertEqual(self.member_ids(self.fetch(resp.json["id"])), [a["id"]])
        else:
            self.assertScimError(resp, 400)

    def test_group_of_many_members(self):
        users = [self.user()["id"] for _ in range(40)]
        group = self.group(members=users)
        self.assertEqual(self.member_ids(self.fetch(group["id"])), sorted(users))
        found = self.get("/Groups" + query(filter=f'members.value eq "{users[17]}"'))
        self.assertEqual([r["id"] for r in found.json["Resources"]], [group["id"]])

    # -- scimd Group extension --

    def test_organization_extension_round_trip(self):
        resp = self.post("/Groups", {"schemas": [GROUP_URN, SCIMD_GROUP_URN], "displayName": unique("Org"),
                                     SCIMD_GROUP_URN: {"kind": "organization"}})
        self.assertStatus(resp, 201)
        for body in (resp.json, self.fetch(resp.json["id"])):
            self.assertIn(SCIMD_GROUP_URN, body["schemas"])
            self.assertEqual(body[SCIMD_GROUP_URN], {"kind": "organization"})

    def test_store_extension_round_trip_and_put_clears_it(self):
        ext = {"kind": "store", "location": "Mall of Berlin, level 2",
               "address": "Leipziger Platz 12, 10117 Berlin", "phone": "+49 30 1234567"}
        resp = self.post("/Groups", {"schemas": [GROUP_URN, SCIMD_GROUP_URN], "displayName": unique("Store"),
                                     SCIMD_GROUP_URN: ext})
        self.assertStatus(resp, 201)
        group = resp.json
        for body in (group, self.fetch(group["id"])):
            self.assertIn(SCIMD_GROUP_URN, body["schemas"])
            self.assertEqual(body[SCIMD_GROUP_URN], ext)
        changed = dict(ext, phone="+49 30 7654321")
        del changed["location"]
        put = self.put(f"/Groups/{group['id']}", {"schemas": [GROUP_URN, SCIMD_GROUP_URN],
                                                  "displayName": group["displayName"], SCIMD_GROUP_URN: changed})
        self.assertStatus(put, 200)
        self.assertEqual(self.fetch(group["id"])[SCIMD_GROUP_URN], changed)
        plain = self.put(f"/Groups/{group['id']}", {"schemas": [GROUP_URN], "displayName": group["displayName"]})
        self.assertStatus(plain, 200)
        for body in (plain.json, self.fetch(group["id"])):
            self.assertNotIn(SCIMD_GROUP_URN, body)
            self.assertNotIn(SCIMD_GROUP_URN, body["schemas"])

    def test_extension_is_filterable(self):
        name = unique("FilterStore")
        resp = self.post("/Groups", {"schemas": [GROUP_URN, SCIMD_GROUP_URN], "displayName": name,
                                     SCIMD_GROUP_URN: {"kind": "store", "location": "Hamburg"}})
        self.assertStatus(resp, 201)
        found = self.get("/Groups" + query(filter=f'{SCIMD_GROUP_URN}:kind eq "store" and displayName eq "{name}"'))
        self.assertStatus(found, 200)
        self.assertEqual([r["id"] for r in found.json["Resources"]], [resp.json["id"]])

    def test_extension_wrong_types_are_400(self):
        for ext in ({"kind": 7}, {"kind": "store", "phone": ["+1"]}, {"kind": "store", "nonsense": "x"}):
            resp = self.post("/Groups", {"schemas": [GROUP_URN, SCIMD_GROUP_URN], "displayName": unique("Bad"),
                                         SCIMD_GROUP_URN: ext})
            self.assertScimError(resp, 400)

    def test_plain_group_has_no_extension(self):
        group = self.group()
        self.assertNotIn(SCIMD_GROUP_URN, group)
        self.assertEqual(group["schemas"], [GROUP_URN])


if __name__ == "__main__":
    unittest.main()
