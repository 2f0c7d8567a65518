"""Shared assertions for the conformance suite (see README.md in this folder).

Every test_*.py here replays the request sequence a real provisioning client documents and
asserts what that client needs back. This module only adds checks on top of
tests/integration/scimd_harness.py; it never talks to the server by itself.
"""

import urllib.parse

from scimd_harness import (  # noqa: F401  (re-exported for the test modules)
    ENTERPRISE_URN,
    ERROR_URN,
    GROUP_URN,
    PATCH_URN,
    SCIM_MEDIA_TYPE,
    USER_URN,
    ScimTestCase,
    unique,
)

LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

_ENDPOINT = {"User": "Users", "Group": "Groups"}
_CORE_URN = {"User": USER_URN, "Group": GROUP_URN}


def pct(text):
    """Percent-encodes a query parameter value the way Okta does (%20 for spaces, %22 for ")."""
    return urllib.parse.quote(text, safe="")


def plus(text):
    """Form-encodes a query parameter value ('+' for spaces), as .NET clients (Entra) do."""
    return urllib.parse.quote_plus(text)


def member_ids(group):
    """The member ids of a Group body (members may be absent when there are none)."""
    return [m.get("value") for m in (group.get("members") or [])]


def by_type(values, type_):
    """The elements of a multi-valued attribute whose type is type_."""
    return [v for v in (values or []) if v.get("type") == type_]


class ConformanceCase(ScimTestCase):
    """ScimTestCase plus the checks every client relies on."""

    maxDiff = None

    # -- resources --

    def assertResource(self, resp, status, resource_type, id=None):
        """A single resource response (RFC 7644 §3.3, §3.4.1, §3.5): status, media type, core
        schema, id, meta (resourceType, created, lastModified, location, version), ETag equal to
        meta.version, Location equal to meta.location on 201, and never a password.
        Returns the body."""
        self.assertEqual(resp.status, status, resp)
        ctype = resp.headers.get("Content-Type", "")
        self.assertIn(SCIM_MEDIA_TYPE, ctype, f"Content-Type {ctype!r} in {resp!r}")
        body = resp.json
        self.assertIsInstance(body, dict, resp)
        self.assertIn(_CORE_URN[resource_type], body.get("schemas", []), resp)
        self.assertIsInstance(body.get("id"), str, resp)
        self.assertTrue(body["id"], resp)
        if id is not None:
            self.assertEqual(body["id"], id, resp)
        meta = body.get("meta")
        self.assertIsInstance(meta, dict, resp)
        self.assertEqual(meta.get("resourceType"), resource_type, resp)
        for key in ("created", "lastModified", "location", "version"):
            self.assertIsInstance(meta.get(key), str, f"meta.{key} missing in {resp!r}")
        self.assertTrue(meta["location"].endswith(f"/{_ENDPOINT[resource_type]}/{body['id']}"),
                        f"meta.location {meta['location']!r}")
        self.assertEqual(resp.headers.get("ETag"), meta["version"],
                         f"ETag header must equal meta.version: {resp!r}")
        if status == 201:
            self.assertEqual(resp.headers.get("Location"), meta["location"],
                             f"Location header must equal meta.location: {resp!r}")
        self.assertNotIn("password", body, "password is returned:never (RFC 7643 §4.1.1)")
        return body

    def assertUser(self, resp, status=200, id=None):
        return self.assertResource(resp, status, "User", id)

    def assertGroup(self, resp, status=200, id=None):
        return self.assertResource(resp, status, "Group", id)

    def assertVersionMoved(self, before, after):
        """meta.version (and the ETag) changed between two bodies of the same resource, and
        lastModified did not go backwards."""
        self.assertNotEqual(before["meta"]["version"], after["meta"]["version"],
                            "meta.version must change when the resource changes")
        self.assertGreaterEqual(after["meta"]["lastModified"], before["meta"]["lastModified"])
        self.assertEqual(before["meta"]["created"], after["meta"]["created"])

    def assertVersionKept(self, before, after):
        self.assertEqual(before["meta"]["version"], after["meta"]["version"])
        self.assertEqual(before["meta"]["lastModified"], after["meta"]["lastModified"])

    def assertNotFound(self, resp):
        self.assertScimError(resp, 404)

    # -- PATCH: clients accept 200 with the resource or 204 --

    def patch_ok(self, path, operations_or_body, resource_type, **kw):
        """PATCHes, accepts 200 (resource) or 204 (then GETs it), returns the resource body."""
        resp = self.patch(path, operations_or_body, **kw)
        self.assertIn(resp.status, (200, 204), resp)
        if resp.status == 204:
            self.assertFalse(resp.body, "204 must not carry a body")
            resp = self.get(path)
            return self.assertResource(resp, 200, resource_type)
        return self.assertResource(resp, 200, resource_type)

    # -- lists --

    def assertList(self, resp, total=None):
        """A ListResponse (RFC 7644 §3.4.2): integers, not strings, for totalResults,
        itemsPerPage and startIndex (Okta requires that). Returns Resources."""
        self.assertEqual(resp.status, 200, resp)
        self.assertIn(SCIM_MEDIA_TYPE, resp.headers.get("Content-Type", ""), resp)
        body = resp.json
        self.assertIsInstance(body, dict, resp)
        self.assertIn(LIST_URN, body.get("schemas", []), resp)
        for key in ("totalResults", "itemsPerPage", "startIndex"):
            self.assertIs(type(body.get(key)), int, f"{key} must be an integer: {resp!r}")
        resources = body.get("Resources", [])
        self.assertIsInstance(resources, list, resp)
        self.assertEqual(body["itemsPerPage"], len(resources), resp)
        if total is not None:
            self.assertEqual(body["totalResults"], total, resp)
            if total == 0:
                self.assertEqual(resources, [], resp)
        return resources

    def query(self, endpoint, **params):
        """GET endpoint with query parameters, percent-encoded."""
        query = "&".join(f"{k}={pct(str(v))}" for k, v in params.items())
        return self.get(f"{endpoint}?{query}")
