"""Users: create, read, replace, delete, versions and preconditions, password, the Enterprise
extension, readOnly attributes and group memberships (RFC 7643 §4, RFC 7644 §3.3-3.6, §3.14).

Run by ctest once per database, or by hand: python3 -m unittest -v test_users
"""

import unittest

from it_support import ETAG_RE, get_ci, parse_time, query
from scimd_harness import (ENTERPRISE_URN, GROUP_URN, SCIM_MEDIA_TYPE, USER_URN, ScimTestCase,
                           unique)


class UsersTest(ScimTestCase):

    # -- helpers --

    def create(self, **attributes):
        resp = self.post_user(**attributes)
        self.assertStatus(resp, 201)
        return resp.json

    def fetch(self, user_id, **kw):
        resp = self.get(f"/Users/{user_id}", **kw)
        self.assertStatus(resp, 200)
        return resp.json

    def full_user(self, userName):
        return {
            "schemas": [USER_URN],
            "userName": userName,
            "externalId": "ext-" + userName,
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara Jensen"},
            "displayName": "Babs Jensen",
            "nickName": "Babs",
            "title": "Tour Guide",
            "userType": "Employee",
            "preferredLanguage": "en-US",
            "locale": "en-US",
            "timezone": "America/Los_Angeles",
            "active": True,
            "emails": [{"value": userName + "@example.com", "type": "work", "primary": True},
                       {"value": userName + "@home.example.org", "type": "home"}],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                           "region": "CA", "postalCode": "91608", "country": "US", "type": "work"}],
            "roles": [{"value": "guide", "primary": True}],
        }

    # -- create --

    def test_create_returns_201_with_location_id_and_meta(self):
        userName = unique("bjensen")
        resp = self.post("/Users", self.full_user(userName))
        self.assertStatus(resp, 201)
        self.assertIn(SCIM_MEDIA_TYPE, resp.headers.get("Content-Type", ""))
        body = resp.json
        self.assertIn(USER_URN, body["schemas"])
        self.assertIsInstance(body.get("id"), str)
        self.assertTrue(body["id"])
        self.assertNotEqual(body["id"], userName)
        self.assertEqual(body["userName"], userName)
        self.assertEqual(body["externalId"], "ext-" + userName)
        self.assertEqual(body["name"]["familyName"], "Jensen")
        self.assertEqual(body["displayName"], "Babs Jensen")
        self.assertIs(body["active"], True)
        self.assertEqual(sorted(e["value"] for e in body["emails"]),
                         sorted([userName + "@example.com", userName + "@home.example.org"]))
        meta = body["meta"]
        self.assertEqual(meta["resourceType"], "User")
        created = parse_time(meta["created"])
        modified = parse_time(meta["lastModified"])
        self.assertEqual(created, modified, "a new resource was modified when it was created")
        self.assertTrue(meta["location"].endswith("/Users/" + body["id"]), meta["location"])
        self.assertRegex(meta["version"], ETAG_RE)
        # RFC 7644 §3.3: Location header with the resource URI; §3.14: ETag = meta.version.
        self.assertEqual(resp.headers.get("Location"), meta["location"])
        self.assertEqual(resp.headers.get("ETag"), meta["version"])

    def test_get_by_id_returns_what_create_returned(self):
        created = self.create(displayName="Get Me", emails=[{"value": "getme@example.com", "type": "work"}])
        resp = self.get(f"/Users/{created['id']}")
        self.assertStatus(resp, 200)
        self.assertIn(SCIM_MEDIA_TYPE, resp.headers.get("Content-Type", ""))
        body = resp.json
        self.assertEqual(body["id"], created["id"])
        self.assertEqual(body["userName"], created["userName"])
        self.assertEqual(body["displayName"], "Get Me")
        self.assertEqual(body["emails"][0]["value"], "getme@example.com")
        self.assertEqual(body["meta"], created["meta"])
        self.assertEqual(resp.headers.get("ETag"), created["meta"]["version"])

    def test_get_unknown_id_is_404_scim_error(self):
        self.assertScimError(self.get("/Users/00000000-0000-0000-0000-000000000000"), 404)
        self.assertScimError(self.get("/Users/no-such-user"), 404)

    # -- replace --

    def test_put_replaces_whole_resource_and_clears_omitted_attributes(self):
        created = self.post("/Users", self.full_user(unique("replace")))
        self.assertStatus(created, 201)
        old = created.json
        new_name = unique("replaced")
        resp = self.put(f"/Users/{old['id']}", {
            "schemas": [USER_URN],
            "userName": new_name,
            "displayName": "Only Display",
            "emails": [{"value": "only@example.com", "type": "other"}],
        })
        self.assertStatus(resp, 200)
        for body in (resp.json, self.fetch(old["id"])):
            self.assertEqual(body["id"], old["id"])
            self.assertEqual(body["userName"], new_name)
            self.assertEqual(body["displayName"], "Only Display")
            self.assertEqual([e["value"] for e in body["emails"]], ["only@example.com"])
            for cleared in ("name", "nickName", "title", "userType", "externalId", "phoneNumbers",
                            "addresses", "roles", "preferredLanguage", "locale", "timezone"):
                self.assertNotIn(cleared, body, f"PUT did not clear {cleared}")
            self.assertEqual(body["meta"]["created"], old["meta"]["created"])
            self.assertGreaterEqual(parse_time(body["meta"]["lastModified"]),
                                    parse_time(old["meta"]["lastModified"]))
            self.assertNotEqual(body["meta"]["version"], old["meta"]["version"])
            self.assertEqual(body["meta"]["location"], old["meta"]["location"])

    def test_put_ignores_read_only_id_meta_and_groups(self):
        old = self.create(displayName="Read Only Test")
        group = self.post_group(expect=201).json
        resp = self.put(f"/Users/{old['id']}", {
            "schemas": [USER_URN],
            "id": "some-other-id",
            "userName": old["userName"],
            "displayName": "Changed",
            "meta": {"created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z",
                     "version": 'W/"forged"', "resourceType": "Group", "location": "http://evil/x"},
            "groups": [{"value": group["id"]}],
        })
        self.assertStatus(resp, 200)
        body = resp.json
        self.assertEqual(body["id"], old["id"])
        self.assertEqual(body["displayName"], "Changed")
        self.assertEqual(body["meta"]["created"], old["meta"]["created"])
        self.assertEqual(body["meta"]["resourceType"], "User")
        self.assertEqual(body["meta"]["location"], old["meta"]["location"])
        self.assertNotEqual(body["meta"]["version"], 'W/"forged"')
        self.assertFalse(body.get("groups"), "groups is readOnly; PUT must not make memberships")
        self.assertStatus(self.get("/Users/some-other-id"), 404)
        group_now = self.get(f"/Groups/{group['id']}").json
        self.assertFalse(group_now.get("members"), group_now)

    def test_put_unknown_id_is_404(self):
        resp = self.put("/Users/does-not-exist", {"schemas": [USER_URN], "userName": unique("ghost")})
        self.assertScimError(resp, 404)

    def test_put_without_required_username_is_400(self):
        old = self.create()
        resp = self.put(f"/Users/{old['id']}", {"schemas": [USER_URN], "displayName": "No userName"})
        self.assertScimError(resp, 400)
        self.assertEqual(self.fetch(old["id"])["userName"], old["userName"])

    # -- delete --

    def test_delete_is_204_then_404(self):
        created = self.create()
        resp = self.delete(f"/Users/{created['id']}")
        self.assertStatus(resp, 204)
        self.assertFalse(resp.body, "204 must have no body")
        self.assertScimError(self.get(f"/Users/{created['id']}"), 404)
        self.assertScimError(self.delete(f"/Users/{created['id']}"), 404)
        self.assertScimError(self.put(f"/Users/{created['id']}",
                                      {"schemas": [USER_URN], "userName": created["userName"]}), 404)
        listed = self.get("/Users" + query(filter=f'userName eq "{created["userName"]}"'))
        self.assertStatus(listed, 200)
        self.assertEqual(listed.json["totalResults"], 0)
        # The userName is free again.
        self.create(userName=created["userName"])

    # -- uniqueness --

    def test_duplicate_username_is_409_uniqueness(self):
        userName = unique("dup")
        self.create(userName=userName)
        self.assertScimError(self.post_user(userName=userName), 409, "uniqueness")

    def test_duplicate_username_differing_in_case_is_409_uniqueness(self):
        base = unique("BJensen")
        self.create(userName=base)
        self.assertScimError(self.post_user(userName=base.lower()), 409, "uniqueness")
        self.assertScimError(self.post_user(userName=base.upper()), 409, "uniqueness")
        found = self.get("/Users" + query(filter=f'userName eq "{base.lower()}"'))
        self.assertEqual(found.json["totalResults"], 1, found)

    def test_put_taking_another_users_name_is_409_uniqueness(self):
        first = self.create()
        second = self.create()
        resp = self.put(f"/Users/{second['id']}",
                        {"schemas": [USER_URN], "userName": first["userName"].upper()})
        self.assertScimError(resp, 409, "uniqueness")
        self.assertEqual(self.fetch(second["id"])["userName"], second["userName"])

    def test_put_changing_only_case_of_own_name_is_allowed(self):
        user = self.create(userName=unique("casey"))
        resp = self.put(f"/Users/{user['id']}", {"schemas": [USER_URN], "userName": user["userName"].upper()})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["userName"], user["userName"].upper())

    # -- versions and preconditions --

    def test_version_changes_on_every_write(self):
        created = self.create(displayName="v1")
        versions = [created["meta"]["version"]]
        put = self.put(f"/Users/{created['id']}",
                       {"schemas": [USER_URN], "userName": created["userName"], "displayName": "v2"})
        self.assertStatus(put, 200)
        versions.append(put.json["meta"]["version"])
        self.assertEqual(put.headers.get("ETag"), versions[-1])
        patch = self.patch(f"/Users/{created['id']}",
                           [{"op": "replace", "path": "displayName", "value": "v3"}])
        self.assertStatus(patch, 200)
        versions.append(patch.json["meta"]["version"])
        same = self.put(f"/Users/{created['id']}",
                        {"schemas": [USER_URN], "userName": created["userName"], "displayName": "v4"})
        self.assertStatus(same, 200)
        versions.append(same.json["meta"]["version"])
        for v in versions:
            self.assertRegex(v, ETAG_RE)
        self.assertEqual(len(set(versions)), len(versions), versions)
        got = self.get(f"/Users/{created['id']}")
        self.assertEqual(got.json["meta"]["version"], versions[-1])
        self.assertEqual(got.headers.get("ETag"), versions[-1])

    def test_if_match_stale_is_412_and_matching_is_200(self):
        created = self.create(displayName="etag-1")
        v1 = created["meta"]["version"]
        body = {"schemas": [USER_URN], "userName": created["userName"], "displayName": "etag-2"}
        ok = self.put(f"/Users/{created['id']}", body, headers={"If-Match": v1})
        self.assertStatus(ok, 200)
        v2 = ok.json["meta"]["version"]
        body["displayName"] = "etag-stale"
        stale = self.put(f"/Users/{created['id']}", body, headers={"If-Match": v1})
        self.assertScimError(stale, 412)
        self.assertEqual(self.fetch(created["id"])["displayName"], "etag-2")
        stale_patch = self.patch(f"/Users/{created['id']}",
                                 [{"op": "replace", "path": "displayName", "value": "x"}],
                                 headers={"If-Match": v1})
        self.assertScimError(stale_patch, 412)
        self.assertScimError(self.delete(f"/Users/{created['id']}", headers={"If-Match": v1}), 412)
        self.assertStatus(self.get(f"/Users/{created['id']}"), 200)
        body["displayName"] = "etag-3"
        star = self.put(f"/Users/{created['id']}", body, headers={"If-Match": "*"})
        self.assertStatus(star, 200)
        v3 = star.json["meta"]["version"]
        self.assertNotEqual(v3, v2)
        self.assertStatus(self.delete(f"/Users/{created['id']}", headers={"If-Match": v3}), 204)

    def test_if_none_match_current_is_304_else_200(self):
        created = self.create()
        version = created["meta"]["version"]
        resp = self.get(f"/Users/{created['id']}", headers={"If-None-Match": version})
        self.assertStatus(resp, 304)
        self.assertFalse(resp.body, "304 must have no body")
        self.assertStatus(self.get(f"/Users/{created['id']}", headers={"If-None-Match": 'W/"stale-0"'}), 200)
        self.assertStatus(self.patch(f"/Users/{created['id']}",
                                     [{"op": "replace", "path": "displayName", "value": "x"}]), 200)
        after = self.get(f"/Users/{created['id']}", headers={"If-None-Match": version})
        self.assertStatus(after, 200)
        self.assertEqual(after.json["displayName"], "x")

    # -- password --

    def test_password_is_accepted_and_never_returned(self):
        secret = "t1meMa$heen-" + unique("p")
        resp = self.post_user(password=secret, displayName="Has Password")
        self.assertStatus(resp, 201)
        user = resp.json
        self.assertNotIn("password", user)
        self.assertNotIn(secret.encode(), resp.body)
        for path in (f"/Users/{user['id']}", f"/Users/{user['id']}?attributes=password",
                     f"/Users/{user['id']}?attributes=password,userName",
                     "/Users" + query(filter=f'userName eq "{user["userName"]}"'),
                     "/Users" + query(filter=f'userName eq "{user["userName"]}"', attributes="password")):
            got = self.get(path)
            self.assertStatus(got, 200)
            self.assertNotIn(secret.encode(), got.body, path)
            self.assertNotIn(b'"password"', got.body, path)
        search = self.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                              "filter": f'userName eq "{user["userName"]}"',
                                              "attributes": ["password", "userName"]})
        self.assertStatus(search, 200)
        self.assertNotIn(b"password", search.body)

    # -- Enterprise extension --

    def test_enterprise_extension_round_trip_with_manager_display_name(self):
        manager = self.create(displayName="Big Boss")
        ext = {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
               "division": "Theme Park", "department": "Tour Operations",
               "manager": {"value": manager["id"], "displayName": "Forged Name"}}
        resp = self.post("/Users", {"schemas": [USER_URN, ENTERPRISE_URN], "userName": unique("emp"),
                                    ENTERPRISE_URN: ext})
        self.assertStatus(resp, 201)
        for body in (resp.json, self.fetch(resp.json["id"])):
            self.assertIn(ENTERPRISE_URN, body["schemas"])
            got = body[ENTERPRISE_URN]
            for key in ("employeeNumber", "costCenter", "organization", "division", "department"):
                self.assertEqual(got[key], ext[key], key)
            self.assertEqual(got["manager"]["value"], manager["id"])
            # manager.displayName is readOnly: filled in from the manager, not taken from input.
            self.assertEqual(got["manager"].get("displayName"), "Big Boss", got["manager"])
            if "$ref" in got["manager"]:
                self.assertTrue(got["manager"]["$ref"].endswith("/Users/" + manager["id"]), got["manager"])

    def test_enterprise_extension_removed_by_put_without_it(self):
        resp = self.post("/Users", {"schemas": [USER_URN, ENTERPRISE_URN], "userName": unique("emp"),
                                    ENTERPRISE_URN: {"employeeNumber": "42", "department": "Sales"}})
        self.assertStatus(resp, 201)
        user = resp.json
        put = self.put(f"/Users/{user['id']}", {"schemas": [USER_URN], "userName": user["userName"]})
        self.assertStatus(put, 200)
        for body in (put.json, self.fetch(user["id"])):
            self.assertNotIn(ENTERPRISE_URN, body)
            self.assertNotIn(ENTERPRISE_URN, body["schemas"])

    def test_enterprise_attributes_without_the_urn_in_schemas(self):
        # RFC 7643 §3: "schemas" lists the extensions used. A body carrying the extension object
        # but not listing its URN is either refused (400) or accepted with the URN listed back.
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("emp"),
                                    ENTERPRISE_URN: {"employeeNumber": "43"}})
        if resp.status == 201:
            self.assertIn(ENTERPRISE_URN, resp.json["schemas"])
            self.assertEqual(resp.json[ENTERPRISE_URN]["employeeNumber"], "43")
        else:
            self.assertScimError(resp, 400)

    # -- input normalisation --

    def test_attribute_names_are_case_insensitive_on_input(self):
        userName = unique("CaseUser")
        resp = self.post("/Users", {"Schemas": [USER_URN], "UserName": userName, "DISPLAYNAME": "Shouty",
                                    "name": {"GivenName": "Given", "FAMILYNAME": "Family"},
                                    "Emails": [{"Value": "case@example.com", "TYPE": "work"}],
                                    "Active": False})
        self.assertStatus(resp, 201)
        for body in (resp.json, self.fetch(resp.json["id"])):
            self.assertEqual(body.get("userName"), userName)
            self.assertEqual(body.get("displayName"), "Shouty")
            self.assertEqual(body.get("name"), {"givenName": "Given", "familyName": "Family"})
            self.assertEqual(body.get("emails"), [{"value": "case@example.com", "type": "work"}])
            self.assertIs(body.get("active"), False)
            for key in body:
                self.assertIn(key, ("schemas", "id", "userName", "displayName", "name", "emails",
                                    "active", "meta", "groups"), f"non-canonical key {key!r}")
        # The canonical spelling is what a filter finds.
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"'))
        self.assertEqual(found.json["totalResults"], 1)

    def test_read_only_id_and_meta_in_create_input_are_ignored(self):
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("ro"),
                                    "id": "client-chosen-id",
                                    "meta": {"created": "2001-01-01T00:00:00Z", "resourceType": "Group",
                                             "version": 'W/"client"', "location": "http://evil/"}})
        self.assertStatus(resp, 201)
        body = resp.json
        self.assertNotEqual(body["id"], "client-chosen-id")
        self.assertEqual(body["meta"]["resourceType"], "User")
        self.assertNotEqual(body["meta"]["version"], 'W/"client"')
        self.assertGreater(parse_time(body["meta"]["created"]).year, 2001)
        self.assertTrue(body["meta"]["location"].endswith("/Users/" + body["id"]))
        self.assertScimError(self.get("/Users/client-chosen-id"), 404)

    def test_boolean_and_string_values_keep_their_types(self):
        user = self.create(active=True, emails=[{"value": "t@example.com", "primary": True}])
        self.assertIs(user["active"], True)
        self.assertIs(user["emails"][0]["primary"], True)

    # -- groups on a User --

    def test_groups_attribute_reflects_memberships_and_is_read_only(self):
        user = self.create(displayName="Member Mary")
        other = self.create()
        g1 = self.post_group(displayName=unique("Readers"), members=[user["id"]], expect=201).json
        g2 = self.post_group(displayName=unique("Writers"), members=[user["id"], other["id"]], expect=201).json
        body = self.fetch(user["id"])
        groups = {g["value"]: g for g in body.get("groups", [])}
        self.assertEqual(set(groups), {g1["id"], g2["id"]}, body)
        self.assertEqual(groups[g1["id"]].get("display"), g1["displayName"])
        self.assertEqual(groups[g2["id"]].get("display"), g2["displayName"])
        for g in groups.values():
            if "type" in g:
                self.assertEqual(g["type"], "direct")
            if "$ref" in g:
                self.assertTrue(g["$ref"].endswith("/Groups/" + g["value"]), g)
        self.assertEqual([g["value"] for g in self.fetch(other["id"]).get("groups", [])], [g2["id"]])

        # groups cannot be written through the User (readOnly: ignored on PUT).
        put = self.put(f"/Users/{user['id']}", {"schemas": [USER_URN], "userName": user["userName"],
                                                "groups": []})
        self.assertStatus(put, 200)
        self.assertEqual({g["value"] for g in self.fetch(user["id"]).get("groups", [])}, {g1["id"], g2["id"]})

        # Leaving a group (group PUT without the member) and deleting a group both show.
        self.assertStatus(self.put(f"/Groups/{g1['id']}", {"schemas": [GROUP_URN],
                                                          "displayName": g1["displayName"]}), 200)
        self.assertEqual([g["value"] for g in self.fetch(user["id"]).get("groups", [])], [g2["id"]])
        self.assertStatus(self.delete(f"/Groups/{g2['id']}"), 204)
        self.assertFalse(self.fetch(user["id"]).get("groups"))

    def test_conditional_get_is_not_304_after_the_groups_changed(self):
        # The User's representation includes "groups"; a client holding the old ETag must not be
        # told "not modified" once a membership changed (RFC 7644 §3.14, RFC 9110 §13.1.2).
        user = self.create()
        old = self.get(f"/Users/{user['id']}")
        self.assertStatus(old, 200)
        self.post_group(members=[user["id"]], expect=201)
        after = self.get(f"/Users/{user['id']}", headers={"If-None-Match": old.headers.get("ETag", "")})
        self.assertStatus(after, 200)
        self.assertEqual(len(after.json.get("groups", [])), 1)

    def test_groups_excluded_and_selected_by_attributes(self):
        user = self.create()
        group = self.post_group(members=[user["id"]], expect=201).json
        only = self.get(f"/Users/{user['id']}?attributes=groups").json
        self.assertEqual([g["value"] for g in only["groups"]], [group["id"]])
        self.assertNotIn("userName", only)
        excluded = self.get(f"/Users/{user['id']}?excludedAttributes=groups").json
        self.assertNotIn("groups", excluded)
        self.assertEqual(excluded["userName"], user["userName"])

    # -- attributes on write responses --

    def test_attributes_parameter_on_post_and_put_responses(self):
        resp = self.post("/Users?attributes=userName", {"schemas": [USER_URN], "userName": unique("att"),
                                                       "displayName": "Hidden", "title": "Hidden too"})
        self.assertStatus(resp, 201)
        body = resp.json
        self.assertIn("id", body)
        self.assertIn(USER_URN, body["schemas"])
        self.assertIn("userName", body)
        self.assertNotIn("displayName", body)
        self.assertNotIn("title", body)
        put = self.put(f"/Users/{body['id']}?excludedAttributes=displayName",
                       {"schemas": [USER_URN], "userName": body["userName"], "displayName": "Shown?"})
        self.assertStatus(put, 200)
        self.assertNotIn("displayName", put.json)
        self.assertIn("id", put.json)
        self.assertEqual(self.fetch(body["id"])["displayName"], "Shown?")


if __name__ == "__main__":
    unittest.main()
