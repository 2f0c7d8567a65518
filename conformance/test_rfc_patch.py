"""RFC 7644 §3.5.2 PATCH examples and the resource each one must leave behind, and the HTTP
rules around PATCH.

Source: RFC 7644, "System for Cross-domain Identity Management: Protocol", §3.5.2 "Modifying with
PATCH", §3.5.2.1 "Add Operation", §3.5.2.2 "Remove Operation", §3.5.2.3 "Replace Operation",
https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2 ; §3.14 "Versioning Resources".
The examples themselves are data, tests/cases/patch/rfc7644.json, shared with the engine's unit
test (tests/patch/patch_cases_test.cc); RfcPatchCases runs them here (patch_cases.py).
"""

import unittest

from conformance_support import (
    PATCH_URN,
    USER_URN,
    ConformanceCase,
    unique,
)
from patch_cases import PatchCaseRunner, add_patch_cases


class RfcPatchCases(PatchCaseRunner):
    """tests/cases/patch/rfc7644.json, one test per case."""


add_patch_cases(RfcPatchCases, "rfc7644.json")


class RfcPatchRules(ConformanceCase):

    def setUp(self):
        resp = self.post("/Users", {
            "schemas": [USER_URN],
            "userName": unique("bjensen") + "@example.com",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        })
        self.babs = self.assertUser(resp, 201)
        self.babs_id = self.babs["id"]

    def body(self, *operations):
        return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": list(operations)}

    # Two values made primary by one request are refused as invalidValue by PUT as by PATCH
    # (rfc7644.json: two_primaries_in_one_operation_are_invalid), and nothing changes.
    def test_two_primaries_are_invalid_value_on_put(self):
        two = [{"value": "a@example.com", "type": "work", "primary": True},
               {"value": "b@example.com", "type": "home", "primary": True}]
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
