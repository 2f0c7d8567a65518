"""RFC 7644 §3.5.2 PATCH examples, verbatim, and the resource each one must leave behind.

Source: RFC 7644, "System for Cross-domain Identity Management: Protocol", §3.5.2 "Modifying with
PATCH", §3.5.2.1 "Add Operation", §3.5.2.2 "Remove Operation", §3.5.2.3 "Replace Operation",
https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2 ; §3.14 "Versioning Resources".
The users the examples act on are RFC 7643 §8.2's Babs Jensen and the James Smith the member
examples name. The RFC abbreviates ids ("2819c223...413861904646"); the ids scimd assigned are
used in their place.
"""

import unittest

from conformance_support import (
    PATCH_URN,
    USER_URN,
    ConformanceCase,
    by_type,
    member_ids,
    unique,
)

WORK_ADDRESS = {
    "type": "work",
    "streetAddress": "100 Universal City Plaza",
    "locality": "Hollywood",
    "region": "CA",
    "postalCode": "91608",
    "country": "USA",
    "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
    "primary": True,
}
HOME_ADDRESS = {
    "type": "home",
    "streetAddress": "456 Hollywood Blvd",
    "locality": "Hollywood",
    "region": "CA",
    "postalCode": "91608",
    "country": "USA",
    "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA",
}


class RfcPatchExamples(ConformanceCase):

    def setUp(self):
        # RFC 7643 §8.2 Babs Jensen (the attributes the examples touch)
        resp = self.post("/Users", {
            "schemas": [USER_URN],
            "userName": unique("bjensen") + "@example.com",
            "externalId": unique("701984-"),
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
            "addresses": [WORK_ADDRESS, HOME_ADDRESS],
        })
        self.babs = self.assertUser(resp, 201)
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("jsmith"),
                                    "displayName": "James Smith"})
        self.james = self.assertUser(resp, 201)
        self.group = self.assertGroup(self.post_group(displayName=unique("Tour Guides")), 201)
        self.babs_id, self.james_id, self.gid = self.babs["id"], self.james["id"], self.group["id"]

    def body(self, *operations):
        return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": list(operations)}

    def group_now(self):
        return self.assertGroup(self.get(f"/Groups/{self.gid}"), 200, self.gid)

    def babs_member(self):
        return {"display": "Babs Jensen",
                "$ref": f"https://example.com/v2/Users/{self.babs_id}",
                "value": self.babs_id}

    def james_member(self):
        return {"display": "James Smith",
                "$ref": f"https://example.com/v2/Users/{self.james_id}",
                "value": self.james_id}

    # §3.5.2.1, first example: add a member to a group.
    def test_add_member_to_group(self):
        after = self.patch_ok(f"/Groups/{self.gid}", self.body({
            "op": "add",
            "path": "members",
            "value": [self.babs_member()],
        }), "Group")
        self.assertVersionMoved(self.group, after)
        group = self.group_now()
        self.assertEqual(member_ids(group), [self.babs_id])
        member = group["members"][0]
        if "display" in member:
            self.assertEqual(member["display"], "Babs Jensen")
        if "type" in member:
            self.assertEqual(member["type"], "User")
        # adding it again changes nothing: no duplicate (§3.5.2.1 "If the target location
        # already contains the value specified, no changes SHOULD be made to the resource")
        self.patch_ok(f"/Groups/{self.gid}", self.body({
            "op": "add", "path": "members", "value": [self.babs_member()]}), "Group")
        self.assertEqual(member_ids(self.group_now()), [self.babs_id])

    # §3.5.2.1, second example: add attributes to a User without "path".
    def test_add_attributes_without_path(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "add",
            "value": {
                "emails": [
                    {
                        "value": "babs@jensen.org",
                        "type": "home"
                    }
                ],
                "nickname": "Babs"
            }
        }), "User")
        self.assertEqual(after["nickName"], "Babs", "attribute names are case-insensitive")
        self.assertNotIn("nickname", after)
        self.assertEqual(sorted((e["type"], e["value"]) for e in after["emails"]),
                         [("home", "babs@jensen.org"), ("work", "bjensen@example.com")])
        self.assertVersionMoved(self.babs, after)
        # "If the target location already contains the value specified, no changes SHOULD be
        # made to the resource ... this operation SHALL NOT change the modify timestamp of the
        # resource" (here: the same request a second time).
        again = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "add",
            "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}],
                      "nickname": "Babs"}}), "User")
        self.assertEqual(len(again["emails"]), 2, "no duplicate value")
        self.assertVersionKept(after, again)

    # §3.5.2.2: remove a single member from a group.
    def test_remove_single_member(self):
        self.patch_ok(f"/Groups/{self.gid}", self.body(
            {"op": "add", "path": "members", "value": [self.babs_member(), self.james_member()]}),
            "Group")
        before = self.group_now()
        after = self.patch_ok(f"/Groups/{self.gid}", self.body({
            "op": "remove",
            "path": f"members[value eq \"{self.babs_id}\"]"
        }), "Group")
        self.assertEqual(member_ids(self.group_now()), [self.james_id])
        self.assertVersionMoved(before, after)

    # §3.5.2.2: remove all members of a group.
    def test_remove_all_members(self):
        self.patch_ok(f"/Groups/{self.gid}", self.body(
            {"op": "add", "path": "members", "value": [self.babs_member(), self.james_member()]}),
            "Group")
        before = self.group_now()
        after = self.patch_ok(f"/Groups/{self.gid}", self.body({
            "op": "remove", "path": "members"
        }), "Group")
        self.assertEqual(member_ids(self.group_now()), [])
        self.assertVersionMoved(before, after)
        # the users are still there
        self.assertUser(self.get(f"/Users/{self.babs_id}"), 200, self.babs_id)

    # §3.5.2.2: remove the values of a multi-valued attribute that a filter selects,
    # "emails[type eq \"work\" and value ew \"example.com\"]".
    def test_remove_with_filter(self):
        before = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "add", "path": "emails", "value": [
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "babs@example.org", "type": "work"},
            ]}), "User")
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "remove",
            "path": "emails[type eq \"work\" and value ew \"example.com\"]"
        }), "User")
        self.assertEqual(sorted((e["type"], e["value"]) for e in after["emails"]),
                         [("home", "babs@jensen.org"), ("work", "babs@example.org")])
        self.assertVersionMoved(before, after)
        # a filter that matches nothing is a no-op (§3.5.2.2 / idempotent retries)
        again = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "remove",
            "path": "emails[type eq \"work\" and value ew \"example.com\"]"}), "User")
        self.assertEqual(len(again["emails"]), 2)

    # §3.5.2.2: replace all members of a group with a different list (remove all, then add).
    def test_replace_members_by_remove_then_add(self):
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("old")})
        old = self.assertUser(resp, 201)["id"]
        self.patch_ok(f"/Groups/{self.gid}", self.body(
            {"op": "add", "path": "members", "value": [{"value": old}]}), "Group")
        before = self.group_now()
        after = self.patch_ok(f"/Groups/{self.gid}", self.body(
            {
                "op": "remove",
                "path": "members"
            },
            {
                "op": "add",
                "path": "members",
                "value": [self.babs_member(), self.james_member()]
            }
        ), "Group")
        self.assertEqual(sorted(member_ids(self.group_now())),
                         sorted([self.babs_id, self.james_id]))
        self.assertVersionMoved(before, after)

    # §3.5.2.3: replace all members of a group with a different list in one replace.
    def test_replace_members(self):
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("old")})
        old = self.assertUser(resp, 201)["id"]
        self.patch_ok(f"/Groups/{self.gid}", self.body(
            {"op": "add", "path": "members", "value": [{"value": old}, self.babs_member()]}),
            "Group")
        before = self.group_now()
        after = self.patch_ok(f"/Groups/{self.gid}", self.body({
            "op": "replace",
            "path": "members",
            "value": [self.babs_member(), self.james_member()]
        }), "Group")
        self.assertEqual(sorted(member_ids(self.group_now())),
                         sorted([self.babs_id, self.james_id]))
        self.assertVersionMoved(before, after)

    # §3.5.2.3: change a User's entire "work" address, selected with a "valuePath" filter;
    # "primary": true on it.
    def test_replace_work_address(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "replace",
            "path": "addresses[type eq \"work\"]",
            "value":
            {
                "type": "work",
                "streetAddress": "911 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "US",
                "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
                "primary": True
            }
        }), "User")
        work = by_type(after["addresses"], "work")
        self.assertEqual(work, [{
            "type": "work",
            "streetAddress": "911 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
            "primary": True
        }])
        self.assertEqual(by_type(after["addresses"], "home"), [HOME_ADDRESS])
        self.assertVersionMoved(self.babs, after)

    # §3.5.2.3: change the sub-attribute "streetAddress" of the address a "valuePath" filter
    # selects.
    def test_replace_sub_attribute(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "replace",
            "path": "addresses[type eq \"work\"].streetAddress",
            "value": "1010 Broadway Ave"
        }), "User")
        expected = dict(WORK_ADDRESS, streetAddress="1010 Broadway Ave")
        self.assertEqual(by_type(after["addresses"], "work"), [expected])
        self.assertEqual(by_type(after["addresses"], "home"), [HOME_ADDRESS])
        self.assertVersionMoved(self.babs, after)

    # §3.5.2.3: replace all values of several attributes of a User without "path"; the other
    # attributes are unaffected.
    def test_replace_attributes_without_path(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "replace",
            "value": {
                "emails": [
                    {
                        "value": "bjensen@example.com",
                        "type": "work",
                        "primary": True
                    },
                    {
                        "value": "babs@jensen.org",
                        "type": "home"
                    }
                ],
                "nickname": "Babs"
            }
        }), "User")
        self.assertEqual(after["emails"], [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ])
        self.assertEqual(after["nickName"], "Babs")
        self.assertEqual(after["addresses"], self.babs["addresses"], "not named: untouched")
        self.assertVersionMoved(self.babs, after)

    # §3.5.2.3: "If the target location is a multi-valued attribute for which a value selection
    # filter ("valuePath") has been supplied and no record match was made, the service provider
    # SHALL indicate failure by returning HTTP status code 400 and a "scimType" error code of
    # "noTarget"."
    def test_replace_with_unmatched_filter_is_no_target(self):
        resp = self.patch(f"/Users/{self.babs_id}", self.body({
            "op": "replace", "path": "addresses[type eq \"other\"].streetAddress",
            "value": "nowhere"}))
        self.assertScimError(resp, 400, "noTarget")
        self.assertVersionKept(self.babs, self.get(f"/Users/{self.babs_id}").json)

    # §3.5.2.2: "If "path" is unspecified, the operation fails with HTTP status code 400 and a
    # "scimType" error code of "noTarget"."
    def test_remove_without_path_is_no_target(self):
        resp = self.patch(f"/Users/{self.babs_id}", self.body({"op": "remove"}))
        self.assertScimError(resp, 400, "noTarget")

    # §3.5.2: "A patch request, regardless of the number of operations, SHALL be treated as
    # atomic. If a single operation encounters an error condition, the original SCIM resource
    # MUST be restored, and a failure status SHALL be returned."
    def test_patch_is_atomic(self):
        resp = self.patch(f"/Users/{self.babs_id}", self.body(
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "add", "path": "emails", "value": [{"value": "x@example.com", "type": "other"}]},
            {"op": "replace", "path": "noSuchAttribute", "value": "x"},
        ))
        self.assertEqual(resp.status, 400, resp)
        now = self.get(f"/Users/{self.babs_id}").json
        self.assertEqual(now["displayName"], "Babs Jensen")
        self.assertEqual(len(now["emails"]), 1)
        self.assertVersionKept(self.babs, now)
        # member operations too
        resp = self.patch(f"/Groups/{self.gid}", self.body(
            {"op": "add", "path": "members", "value": [{"value": self.babs_id}]},
            {"op": "replace", "path": "displayName", "value": 42},
        ))
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(member_ids(self.group_now()), [])

    # §3.5.2: "a PATCH operation that sets a value's "primary" sub-attribute to "true" SHALL
    # cause the server to automatically set "primary" to "false" for any other values in the
    # array."
    def test_primary_moves(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "add", "path": "emails",
            "value": [{"value": "babs@jensen.org", "type": "home", "primary": True}]}), "User")
        primaries = [e["value"] for e in after["emails"] if e.get("primary") is True]
        self.assertEqual(primaries, ["babs@jensen.org"])

    # The same when the client re-sends the old primary value (merged, without "primary") next
    # to the new primary one: the old one loses the flag (RFC 7643 §2.4: at most one primary).
    def test_primary_moves_when_old_primary_is_resent(self):
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body({
            "op": "add", "path": "emails",
            "value": [{"value": "bjensen@example.com", "type": "work"},
                      {"value": "babs@jensen.org", "type": "home", "primary": True}]}), "User")
        primaries = [e["value"] for e in after["emails"] if e.get("primary") is True]
        self.assertEqual(primaries, ["babs@jensen.org"])
        self.assertEqual(len(after["emails"]), 2, after["emails"])

    # Two values made primary by one request are refused as invalidValue, by PATCH as by PUT,
    # and nothing changes.
    def test_two_primaries_are_invalid_value(self):
        two = [{"value": "a@example.com", "type": "work", "primary": True},
               {"value": "b@example.com", "type": "home", "primary": True}]
        resp = self.patch(f"/Users/{self.babs_id}", self.body(
            {"op": "add", "path": "emails", "value": two}))
        self.assertScimError(resp, 400, "invalidValue")
        put_body = {"schemas": [USER_URN], "userName": self.babs["userName"], "emails": two}
        self.assertScimError(self.put(f"/Users/{self.babs_id}", put_body), 400, "invalidValue")
        self.assertVersionKept(self.babs, self.get(f"/Users/{self.babs_id}").json)

    # §3.14: the version a client read guards its PATCH (If-Match) and its conditional GET
    # (If-None-Match).
    def test_etag_preconditions(self):
        etag = self.babs["meta"]["version"]
        resp = self.get(f"/Users/{self.babs_id}", headers={"If-None-Match": etag})
        self.assertEqual(resp.status, 304, resp)
        after = self.patch_ok(f"/Users/{self.babs_id}", self.body(
            {"op": "replace", "path": "nickName", "value": "Babs"}), "User",
            headers={"If-Match": etag})
        self.assertVersionMoved(self.babs, after)
        resp = self.patch(f"/Users/{self.babs_id}", self.body(
            {"op": "replace", "path": "nickName", "value": "Barb"}), headers={"If-Match": etag})
        self.assertScimError(resp, 412)
        self.assertEqual(self.get(f"/Users/{self.babs_id}").json["nickName"], "Babs")
        resp = self.get(f"/Users/{self.babs_id}", headers={"If-None-Match": etag})
        self.assertEqual(resp.status, 200, resp)
        # the same guard on PUT and DELETE
        current = self.get(f"/Users/{self.babs_id}").json
        put_body = {"schemas": [USER_URN], "userName": current["userName"], "nickName": "Stale"}
        self.assertScimError(self.put(f"/Users/{self.babs_id}", put_body,
                                      headers={"If-Match": etag}), 412)
        self.assertScimError(self.delete(f"/Users/{self.babs_id}", headers={"If-Match": etag}),
                             412)
        self.assertVersionKept(current, self.get(f"/Users/{self.babs_id}").json)
        replaced = self.assertUser(self.put(f"/Users/{self.babs_id}", put_body,
                                            headers={"If-Match": current["meta"]["version"]}),
                                   200, self.babs_id)
        self.assertVersionMoved(current, replaced)
        resp = self.delete(f"/Users/{self.babs_id}",
                           headers={"If-Match": replaced["meta"]["version"]})
        self.assertEqual(resp.status, 204, resp)

    # RFC 7644 §3.1 / §8.1: the request media type, with a charset parameter, and plain JSON.
    def test_patch_media_types(self):
        for ctype in ("application/scim+json; charset=utf-8", "application/json",
                      "application/json; charset=UTF-8"):
            resp = self.patch(f"/Users/{self.babs_id}", self.body(
                {"op": "replace", "path": "title", "value": ctype}), content_type=ctype)
            self.assertIn(resp.status, (200, 204), f"{ctype}: {resp!r}")
        self.assertEqual(self.get(f"/Users/{self.babs_id}").json["title"],
                         "application/json; charset=UTF-8")

    # §3.5.2: "The body of an HTTP PATCH request MUST contain the attribute "schemas", whose
    # value MUST contain "urn:ietf:params:scim:api:messages:2.0:PatchOp"".
    def test_patch_without_patchop_schema_is_rejected(self):
        resp = self.patch(f"/Users/{self.babs_id}", {
            "Operations": [{"op": "replace", "path": "nickName", "value": "x"}]})
        self.assertScimError(resp, 400)
        resp = self.patch(f"/Users/{self.babs_id}", {"schemas": [PATCH_URN], "Operations": []})
        self.assertScimError(resp, 400)


if __name__ == "__main__":
    unittest.main()
