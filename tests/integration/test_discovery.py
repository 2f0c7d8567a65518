"""Discovery: /ServiceProviderConfig, /ResourceTypes, /Schemas (RFC 7643 §5-7, RFC 7644 §4) —
and every capability the server advertises is checked against what it actually does.

Run by ctest once per database, or by hand: python3 -m unittest -v test_discovery
"""

import json
import os
import unittest

from it_support import (BULK_REQUEST_URN, ETAG_RE, LIST_URN, RESOURCE_TYPE_URN, SCHEMA_URN,
                        SCIMD_GROUP_URN, SCIMD_USER_URN, SPC_URN, query)
from scimd_harness import (ENTERPRISE_URN, GROUP_URN, SCIM_MEDIA_TYPE, USER_URN, ScimTestCase,
                           source_dir, unique)

CHARACTERISTICS = ("name", "type", "multiValued", "required", "mutability", "returned", "uniqueness")
TYPES = {"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"}


def _schema_file(name):
    with open(os.path.join(source_dir(), "scim-schemas", name), encoding="utf-8") as f:
        return json.load(f)


class DiscoveryTest(ScimTestCase):

    def spc(self):
        resp = self.get("/ServiceProviderConfig")
        self.assertStatus(resp, 200)
        self.assertIn(SCIM_MEDIA_TYPE, resp.headers.get("Content-Type", ""))
        return resp.json

    # -- ServiceProviderConfig --

    def test_service_provider_config_shape(self):
        spc = self.spc()
        self.assertEqual(spc["schemas"], [SPC_URN])
        for feature in ("patch", "bulk", "filter", "changePassword", "sort", "etag"):
            self.assertIsInstance(spc[feature].get("supported"), bool, feature)
        self.assertIs(spc["patch"]["supported"], True)
        # RFC 9967: no webhook target configured, so no security events are advertised.
        self.assertNotIn("securityEvents", spc)
        self.assertIs(spc["filter"]["supported"], True)
        self.assertIsInstance(spc["filter"]["maxResults"], int)
        self.assertGreater(spc["filter"]["maxResults"], 0)
        self.assertIsInstance(spc["bulk"]["maxOperations"], int)
        self.assertIsInstance(spc["bulk"]["maxPayloadSize"], int)
        schemes = spc["authenticationSchemes"]
        self.assertIsInstance(schemes, list)
        self.assertTrue(schemes)
        for scheme in schemes:
            for key in ("type", "name", "description"):
                self.assertIsInstance(scheme.get(key), str, scheme)
        self.assertIn("oauthbearertoken", [s["type"] for s in schemes])
        if "meta" in spc:
            self.assertEqual(spc["meta"].get("resourceType"), "ServiceProviderConfig")
            self.assertTrue(spc["meta"].get("location", "").endswith("/ServiceProviderConfig"), spc["meta"])

    def test_advertised_patch_works(self):
        user = self.post_user(expect=201).json
        resp = self.patch(f"/Users/{user['id']}", [{"op": "replace", "path": "displayName", "value": "Patched"}])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["displayName"], "Patched")

    def test_advertised_etag_is_true(self):
        if not self.spc()["etag"]["supported"]:
            self.skipTest("etag not advertised")
        user = self.post_user(expect=201).json
        got = self.get(f"/Users/{user['id']}")
        self.assertRegex(got.headers.get("ETag", ""), ETAG_RE)
        self.assertEqual(got.headers.get("ETag"), got.json["meta"]["version"])
        self.assertStatus(self.get(f"/Users/{user['id']}", headers={"If-None-Match": got.headers["ETag"]}), 304)

    def test_advertised_sort_is_true(self):
        spc = self.spc()
        prefix = unique("sortcheck")
        names = [f"{prefix}-{c}" for c in ("c", "A", "b")]
        for n in names:
            self.post_user(userName=n, expect=201)
        resp = self.get("/Users" + query(filter=f'userName sw "{prefix}"', sortBy="userName"))
        if not spc["sort"]["supported"]:
            return
        self.assertStatus(resp, 200)
        self.assertEqual([r["userName"] for r in resp.json["Resources"]], sorted(names, key=str.lower))

    def test_advertised_filter_max_results_is_honoured(self):
        spc = self.spc()
        max_results = spc["filter"]["maxResults"]
        resp = self.get(f"/Users?count={max_results + 50}")
        self.assertStatus(resp, 200)
        self.assertLessEqual(len(resp.json["Resources"]), max_results)
        page_size = spc.get("pagination", {}).get("maxPageSize")
        if page_size is not None:
            self.assertLessEqual(len(resp.json["Resources"]), page_size)

    def test_advertised_pagination_is_consistent(self):
        pagination = self.spc().get("pagination")
        if pagination is None:
            self.skipTest("no RFC 9865 pagination block")
        self.assertIsInstance(pagination["cursor"], bool)
        self.assertIsInstance(pagination["index"], bool)
        if "defaultPaginationMethod" in pagination:
            self.assertIn(pagination["defaultPaginationMethod"], ("cursor", "index"))
        for key in ("defaultPageSize", "maxPageSize", "cursorTimeout"):
            if key in pagination:
                self.assertIsInstance(pagination[key], int, key)
                self.assertGreater(pagination[key], 0, key)
        if "defaultPageSize" in pagination and "maxPageSize" in pagination:
            self.assertLessEqual(pagination["defaultPageSize"], pagination["maxPageSize"])
        if pagination["cursor"]:
            self.post_user(expect=201)
            self.post_user(expect=201)
            resp = self.get("/Users?cursor=&count=1")
            self.assertStatus(resp, 200)
            self.assertEqual(len(resp.json["Resources"]), 1)
            self.assertIsInstance(resp.json.get("nextCursor"), str, resp)
        if pagination["index"]:
            resp = self.get("/Users?startIndex=1&count=1")
            self.assertStatus(resp, 200)
            self.assertEqual(resp.json["startIndex"], 1)

    def test_advertised_bulk_is_true(self):
        spc = self.spc()
        userName = unique("bulkuser")
        request = {"schemas": [BULK_REQUEST_URN], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u1",
             "data": {"schemas": [USER_URN], "userName": userName}},
            {"method": "POST", "path": "/Groups", "bulkId": "g1",
             "data": {"schemas": [GROUP_URN], "displayName": "bulk " + userName,
                      "members": [{"type": "User", "value": "bulkId:u1"}]}}]}
        resp = self.post("/Bulk", request)
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"')).json
        if not spc["bulk"]["supported"]:
            # It must not pretend: no success, no side effect.
            self.assertGreaterEqual(resp.status, 400, resp)
            self.assertIn(resp.status, (403, 404, 405, 501), resp)
            self.assertEqual(found["totalResults"], 0, "unsupported /Bulk created a user")
            return
        self.assertStatus(resp, 200)
        self.assertIn("urn:ietf:params:scim:api:messages:2.0:BulkResponse", resp.json["schemas"])
        ops = resp.json["Operations"]
        self.assertEqual([op.get("status") for op in ops], ["201", "201"], ops)
        self.assertEqual(found["totalResults"], 1)
        user_id = found["Resources"][0]["id"]
        group_loc = ops[1]["location"]
        group = self.get("/Groups/" + group_loc.rsplit("/", 1)[1]).json
        self.assertEqual([m["value"] for m in group["members"]], [user_id])
        self.assertLessEqual(len(request["Operations"]), spc["bulk"]["maxOperations"])

    def test_advertised_change_password(self):
        spc = self.spc()
        user = self.post_user(expect=201).json
        resp = self.patch(f"/Users/{user['id']}", [{"op": "replace", "path": "password", "value": "N3w-Secret!"}])
        put = self.put(f"/Users/{user['id']}", {"schemas": [USER_URN], "userName": user["userName"],
                                                "password": "An0ther-Secret!"})
        if spc["changePassword"]["supported"]:
            self.assertStatus(resp, 200)
            self.assertNotIn(b"N3w-Secret!", resp.body)
            self.assertStatus(put, 200)
            self.assertNotIn(b"An0ther-Secret!", put.body)
            return
        # changePassword false: a password change is refused, not silently accepted.
        self.assertIn(resp.status, (400, 403, 501), resp)
        self.assertIn(put.status, (400, 403, 501), put)

    def test_discovery_endpoints_refuse_filters(self):
        # RFC 7644 §4: a filter on these endpoints SHOULD get 403 (they are not queryable).
        for path in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"):
            with self.subTest(path=path):
                resp = self.get(path + query(filter='id eq "User"'))
                self.assertIn(resp.status, (400, 403), resp)

    # -- ResourceTypes --

    def test_resource_types_list(self):
        resp = self.get("/ResourceTypes")
        self.assertStatus(resp, 200)
        body = resp.json
        self.assertEqual(body["schemas"], [LIST_URN])
        by_id = {rt["id"]: rt for rt in body["Resources"]}
        self.assertEqual(set(by_id), {"User", "Group"})
        self.assertEqual(body["totalResults"], 2)
        user, group = by_id["User"], by_id["Group"]
        self.assertEqual(user["endpoint"], "/Users")
        self.assertEqual(user["schema"], USER_URN)
        self.assertEqual(user["name"], "User")
        self.assertEqual(user["schemaExtensions"], [{"schema": ENTERPRISE_URN, "required": False},
                                                   {"schema": SCIMD_USER_URN, "required": False}])
        self.assertEqual(group["endpoint"], "/Groups")
        self.assertEqual(group["schema"], GROUP_URN)
        self.assertEqual(group["schemaExtensions"], [{"schema": SCIMD_GROUP_URN, "required": False}])
        for rt in (user, group):
            self.assertEqual(rt["schemas"], [RESOURCE_TYPE_URN])
            self.assertEqual(rt["meta"]["resourceType"], "ResourceType")
            self.assertTrue(rt["meta"]["location"].endswith("/ResourceTypes/" + rt["id"]), rt["meta"])

    def test_resource_type_by_name(self):
        for name, endpoint in (("User", "/Users"), ("Group", "/Groups")):
            resp = self.get(f"/ResourceTypes/{name}")
            self.assertStatus(resp, 200)
            self.assertEqual(resp.json["id"], name)
            self.assertEqual(resp.json["endpoint"], endpoint)
            self.assertEqual(resp.json["schemas"], [RESOURCE_TYPE_URN])
        self.assertScimError(self.get("/ResourceTypes/Printer"), 404)

    # -- Schemas --

    def test_schemas_list(self):
        resp = self.get("/Schemas")
        self.assertStatus(resp, 200)
        body = resp.json
        self.assertEqual(body["schemas"], [LIST_URN])
        ids = [s["id"] for s in body["Resources"]]
        for urn in (USER_URN, GROUP_URN, ENTERPRISE_URN, SCIMD_GROUP_URN, SCIMD_USER_URN):
            self.assertIn(urn, ids)
        self.assertEqual(body["totalResults"], len(ids))
        for schema in body["Resources"]:
            self.assertEqual(schema["schemas"], [SCHEMA_URN], schema["id"])
            self.assertIsInstance(schema["attributes"], list)
            self.assertEqual(schema["meta"]["resourceType"], "Schema")
            self.assertTrue(schema["meta"]["location"].endswith("/Schemas/" + schema["id"]), schema["meta"])

    def test_schema_by_urn_matches_the_list(self):
        listed = {s["id"]: s for s in self.get("/Schemas").json["Resources"]}
        for urn in (USER_URN, GROUP_URN, ENTERPRISE_URN, SCIMD_GROUP_URN, SCIMD_USER_URN):
            with self.subTest(urn=urn):
                resp = self.get(f"/Schemas/{urn}")
                self.assertStatus(resp, 200)
                self.assertEqual(resp.json, listed[urn])
        self.assertScimError(self.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Printer"), 404)

    def _check_attributes(self, attributes, where):
        for attr in attributes:
            for key in CHARACTERISTICS:
                self.assertIn(key, attr, f"{where}.{attr.get('name')} lacks {key}")
            self.assertIn(attr["type"], TYPES, f"{where}.{attr['name']}")
            self.assertIn(attr["mutability"], ("readOnly", "readWrite", "immutable", "writeOnly"))
            self.assertIn(attr["returned"], ("always", "never", "default", "request"))
            self.assertIn(attr["uniqueness"], ("none", "server", "global"))
            if attr["type"] in ("string", "reference", "binary"):
                self.assertIn("caseExact", attr, f"{where}.{attr['name']}")
            if attr["type"] == "reference":
                self.assertIsInstance(attr.get("referenceTypes"), list, f"{where}.{attr['name']}")
            if attr["type"] == "complex":
                self.assertTrue(attr.get("subAttributes"), f"{where}.{attr['name']}")
                self._check_attributes(attr["subAttributes"], f"{where}.{attr['name']}")

    def test_user_schema_attributes_and_characteristics(self):
        schema = self.get(f"/Schemas/{USER_URN}").json
        self.assertEqual(schema["name"], "User")
        self._check_attributes(schema["attributes"], "User")
        attrs = {a["name"]: a for a in schema["attributes"]}
        for name in ("userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
                     "preferredLanguage", "locale", "timezone", "active", "password", "emails",
                     "phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles",
                     "x509Certificates"):
            self.assertIn(name, attrs)
        u = attrs["userName"]
        self.assertEqual((u["type"], u["required"], u["caseExact"], u["uniqueness"], u["mutability"]),
                         ("string", True, False, "server", "readWrite"))
        p = attrs["password"]
        self.assertEqual((p["mutability"], p["returned"]), ("writeOnly", "never"))
        self.assertIs(attrs["active"]["multiValued"], False)
        self.assertEqual(attrs["active"]["type"], "boolean")
        g = attrs["groups"]
        self.assertEqual((g["mutability"], g["multiValued"], g["type"]), ("readOnly", True, "complex"))
        emails = attrs["emails"]
        self.assertIs(emails["multiValued"], True)
        self.assertEqual({s["name"] for s in emails["subAttributes"]} >= {"value", "type", "primary", "display"}, True)
        name_subs = {s["name"] for s in attrs["name"]["subAttributes"]}
        self.assertTrue({"formatted", "familyName", "givenName", "middleName", "honorificPrefix",
                         "honorificSuffix"} <= name_subs)
        # The served schema is the one the repository defines (scim-schemas/user.json): the same
        # attributes with the same characteristics (defaults may be spelled out).
        self._same_attributes(schema["attributes"], _schema_file("user.json")["attributes"], "User")

    def _same_attributes(self, served, defined, where):
        self.assertEqual([a["name"] for a in served], [a["name"] for a in defined], where)
        for s, d in zip(served, defined):
            for key in CHARACTERISTICS + ("caseExact", "canonicalValues", "referenceTypes"):
                if key in d and d[key] != []:
                    self.assertEqual(s.get(key), d[key], f"{where}.{d['name']}.{key}")
            if "subAttributes" in d:
                self._same_attributes(s["subAttributes"], d["subAttributes"], f"{where}.{d['name']}")

    def test_enterprise_and_group_schemas(self):
        ent = self.get(f"/Schemas/{ENTERPRISE_URN}").json
        self._check_attributes(ent["attributes"], "EnterpriseUser")
        attrs = {a["name"]: a for a in ent["attributes"]}
        self.assertTrue({"employeeNumber", "costCenter", "organization", "division", "department", "manager"} <= set(attrs))
        manager_subs = {s["name"]: s for s in attrs["manager"]["subAttributes"]}
        self.assertEqual(manager_subs["displayName"]["mutability"], "readOnly")
        grp = self.get(f"/Schemas/{GROUP_URN}").json
        self._check_attributes(grp["attributes"], "Group")
        gattrs = {a["name"]: a for a in grp["attributes"]}
        self.assertIs(gattrs["displayName"]["required"], True)
        self.assertIs(gattrs["members"]["multiValued"], True)
        ext = self.get(f"/Schemas/{SCIMD_GROUP_URN}").json
        self._check_attributes(ext["attributes"], "ScimdGroup")
        eattrs = {a["name"]: a for a in ext["attributes"]}
        self.assertEqual(set(eattrs), {"kind", "location", "address", "phone"})
        self.assertEqual(sorted(eattrs["kind"].get("canonicalValues", [])), ["organization", "store"])
        uext = self.get(f"/Schemas/{SCIMD_USER_URN}").json
        self._check_attributes(uext["attributes"], "ScimdUser")
        ids = {a["name"]: a for a in uext["attributes"]}["externalIds"]
        self.assertIs(ids["multiValued"], True)
        self.assertEqual(ids["type"], "complex")
        self.assertEqual({s["name"] for s in ids["subAttributes"]}, {"system", "value"})

    def test_every_readwrite_user_attribute_is_writable(self):
        # What /Schemas says is writable is accepted on POST and comes back (readWrite, returned default).
        sample = {"string": "sample", "boolean": True, "reference": "https://example.com/x",
                  "binary": "TUlJRGREQ0NBeDJnQXdJQkFnSUJBVEFOQmdrcWhraUc5dzBCQVFVRkFEQk0=",
                  "integer": 7, "decimal": 1.5, "dateTime": "2020-01-02T03:04:05Z"}
        schema = self.get(f"/Schemas/{USER_URN}").json
        body = {"schemas": [USER_URN], "userName": unique("everything")}
        expect = {}
        for attr in schema["attributes"]:
            if attr["mutability"] != "readWrite" or attr["returned"] != "default" or attr["name"] == "userName":
                continue
            if attr["type"] == "complex":
                value = {s["name"]: sample[s["type"]] for s in attr["subAttributes"]
                         if s["mutability"] == "readWrite" and s["returned"] == "default"}
                if "primary" in value:
                    value["primary"] = True
                if "type" in value:
                    value["type"] = "work"
            else:
                value = sample[attr["type"]]
            if attr["multiValued"]:
                value = [value]
            body[attr["name"]] = value
            expect[attr["name"]] = value
        realistic = {"profileUrl": "https://example.com/profile", "preferredLanguage": "en-US", "locale": "en-US",
                     "timezone": "America/Los_Angeles", "userType": "Employee",
                     "emails": [{"value": "everything@example.com", "display": "E", "type": "work", "primary": True}],
                     "phoneNumbers": [{"value": "+1 555 0100", "display": "P", "type": "work", "primary": True}],
                     "ims": [{"value": "someone", "display": "I", "type": "xmpp", "primary": True}]}
        for name, value in realistic.items():
            self.assertIn(name, expect, name)
            body[name] = expect[name] = value
        body["photos"] = expect["photos"] = [{"value": "https://example.com/p.jpg", "type": "photo",
                                              "display": "me", "primary": True}]
        resp = self.post("/Users", body)
        self.assertStatus(resp, 201)
        got = self.get(f"/Users/{resp.json['id']}").json
        for name, value in expect.items():
            self.assertEqual(got.get(name), value, name)


if __name__ == "__main__":
    unittest.main()
