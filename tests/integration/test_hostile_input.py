"""Hostile traffic and hardening (issue 9): values per multi-valued attribute, SQLite file modes.

Each case failed before its change: scimd stored 30,000 e-mails of one User, and created its
SQLite files world-readable (mode 0644 under umask 022)."""

import os
import stat
import unittest

from it_support import query
from scimd_harness import (USER_URN, Client, ScimTestCase, ScimdServer, create_token,
                           test_db_kind, unique)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def emails(n, domain="example.com"):
    return [{"value": f"e{i}@{domain}", "type": "work"} for i in range(n)]


class ValuesPerAttributeTest(ScimTestCase):
    """limits.max_values_per_attribute: 5 here; group members are not capped."""

    config_yaml = "limits: {max_values_per_attribute: 5}\n"

    def assertTooMany(self, resp, attribute):
        self.assertScimError(resp, 400, "invalidValue")
        self.assertIn(attribute, resp.json.get("detail", ""), resp)

    def test_post_with_too_many_emails_is_invalid_value(self):
        userName = unique("many")
        self.assertTooMany(self.post_user(userName, emails=emails(6)), "emails")
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"'))
        self.assertEqual(found.json["totalResults"], 0, found)
        self.post_user(emails=emails(5), expect=201)

    def test_every_multi_valued_attribute_is_capped(self):
        for attribute in ("phoneNumbers", "ims", "photos", "entitlements", "roles",
                          "x509Certificates", "addresses"):
            values = [{"value": f"v{i}"} for i in range(6)]
            if attribute == "addresses":
                values = [{"locality": f"town {i}"} for i in range(6)]
            with self.subTest(attribute=attribute):
                self.assertTooMany(self.post_user(**{attribute: values}), attribute)

    def test_put_with_too_many_values_is_invalid_value(self):
        user = self.post_user(emails=emails(2), expect=201).json
        body = {"schemas": [USER_URN], "userName": user["userName"],
                "phoneNumbers": [{"value": f"+4930{i}"} for i in range(6)]}
        self.assertTooMany(self.put(f"/Users/{user['id']}", body), "phoneNumbers")
        stored = self.get(f"/Users/{user['id']}").json
        self.assertEqual(len(stored["emails"]), 2)
        self.assertNotIn("phoneNumbers", stored)

    def test_patch_past_the_cap_is_invalid_value_and_changes_nothing(self):
        user = self.post_user(emails=emails(4), expect=201).json
        resp = self.patch(f"/Users/{user['id']}", [
            {"op": "add", "path": "emails", "value": emails(2, "other.example")}])
        self.assertTooMany(resp, "emails")
        stored = self.get(f"/Users/{user['id']}").json
        self.assertEqual(len(stored["emails"]), 4)
        self.assertEqual(stored["meta"]["version"], user["meta"]["version"])
        ok = self.patch(f"/Users/{user['id']}", [
            {"op": "add", "path": "emails", "value": emails(1, "other.example")}])
        self.assertStatus(ok, 200)

    def test_bulk_operation_past_the_cap_fails_alone(self):
        ops = [{"method": "POST", "path": "/Users", "bulkId": "big",
                "data": {"schemas": [USER_URN], "userName": unique("bulkbig"),
                         "emails": emails(6)}},
               {"method": "POST", "path": "/Users", "bulkId": "small",
                "data": {"schemas": [USER_URN], "userName": unique("bulksmall"),
                         "emails": emails(1)}}]
        resp = self.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": ops})
        self.assertStatus(resp, 200)
        results = {op["bulkId"]: op for op in resp.json["Operations"]}
        self.assertEqual(str(results["big"]["status"]), "400", resp)
        self.assertEqual(results["big"]["response"]["scimType"], "invalidValue", resp)
        self.assertEqual(str(results["small"]["status"]), "201", resp)

    def test_group_members_are_not_capped(self):
        ids = [self.post_user(expect=201).json["id"] for _ in range(8)]
        group = self.post_group(members=ids, expect=201).json
        stored = self.get(f"/Groups/{group['id']}").json
        self.assertEqual(sorted(m["value"] for m in stored["members"]), sorted(ids))
        more = [self.post_user(expect=201).json["id"] for _ in range(2)]
        resp = self.patch(f"/Groups/{group['id']}", [
            {"op": "add", "path": "members", "value": [{"value": i} for i in more]}])
        self.assertIn(resp.status, (200, 204), resp)


class DefaultValuesPerAttributeTest(ScimTestCase):
    """Without configuration the cap is 1,000."""

    def test_default_cap_is_one_thousand(self):
        self.assertScimError(self.post_user(emails=emails(1001)), 400, "invalidValue")
        self.post_user(emails=emails(1000), expect=201)


class SqliteFileModeTest(unittest.TestCase):
    """The SQLite database holds password and token hashes: 0600, and its -wal and -shm too."""

    def setUp(self):
        if test_db_kind() != "sqlite":
            self.skipTest("SQLite files only")
        self.previous_umask = os.umask(0o022)  # the usual default, under which SQLite makes 0644

    def tearDown(self):
        os.umask(self.previous_umask)

    def test_database_wal_and_shm_are_0600(self):
        with ScimdServer(tag="filemode") as server:
            token = create_token(server.db, "admin")
            client = Client(server.port, token)
            resp = client.post("/scim/v2/Users", {"schemas": [USER_URN], "userName": unique("m")})
            self.assertEqual(resp.status, 201, resp)
            client.close()
            path = server.db[len("sqlite:"):]
            for suffix in ("", "-wal", "-shm"):
                mode = stat.S_IMODE(os.stat(path + suffix).st_mode)
                self.assertEqual(mode, 0o600, f"{path + suffix} has mode {oct(mode)}")


if __name__ == "__main__":
    unittest.main()
