"""/Bulk as RFC 7644 §3.7 describes it (issue 11), over HTTP on SQLite and PostgreSQL.

Before issue 11: a bulkId used before the POST creating it was 409 "not resolved", PATCH and
DELETE on "/Users/bulkId:x" were 404, circular references were not resolved, failOnErrors and
the 413 limits were untested, a 409 did not name the existing resource, and a Bulk counted as
one request for the rate limit."""

import unittest

from it_support import query
from scimd_harness import (ENTERPRISE_URN, USER_URN, ScimTestCase, unique)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def post_user(bulk_id, userName, **attributes):
    data = {"schemas": [USER_URN], "userName": userName, **attributes}
    if ENTERPRISE_URN in attributes:
        data["schemas"].append(ENTERPRISE_URN)
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": data}


def post_group(bulk_id, displayName, members=()):
    return {"method": "POST", "path": "/Groups", "bulkId": bulk_id,
            "data": {"schemas": [GROUP_URN], "displayName": displayName,
                     "members": [{"value": m} for m in members]}}


def manager(value):
    return {ENTERPRISE_URN: {"manager": {"value": value}}}


class BulkTestCase(ScimTestCase):
    def bulk(self, operations, expect=200, **extra):
        resp = self.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations, **extra})
        self.assertStatus(resp, expect)
        if expect == 200:
            self.assertIn(BULK_RESPONSE, resp.json["schemas"])
        return resp

    def results(self, resp):
        """The BulkResponse operations by bulkId (or position when there is none)."""
        return {op.get("bulkId", str(i)): op for i, op in enumerate(resp.json["Operations"])}

    def find_user(self, userName):
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"')).json
        return found["Resources"][0] if found["totalResults"] else None

    def find_group(self, displayName):
        found = self.get("/Groups" + query(filter=f'displayName eq "{displayName}"')).json
        return found["Resources"][0] if found["totalResults"] else None


class BulkReferencesTest(BulkTestCase):
    """§3.7.2: bulkId references resolve whatever the order, in values and in paths."""

    def test_a_reference_before_its_post_resolves(self):
        boss, worker = unique("boss"), unique("worker")
        resp = self.bulk([post_user("w", worker, **manager("bulkId:b")),
                          post_user("b", boss)])
        ops = resp.json["Operations"]
        # Results keep the request's order.
        self.assertEqual([op["bulkId"] for op in ops], ["w", "b"])
        self.assertEqual([op["status"] for op in ops], ["201", "201"], ops)
        boss_id = self.find_user(boss)["id"]
        stored = self.find_user(worker)
        self.assertEqual(stored[ENTERPRISE_URN]["manager"]["value"], boss_id)
        for op in ops:
            self.assertTrue(op["location"].endswith("/Users/" + self.find_user(
                boss if op["bulkId"] == "b" else worker)["id"]), op)
            self.assertTrue(op["version"].startswith('W/"'), op)

    def test_group_members_reference_users_created_later(self):
        name, u1, u2 = unique("grp"), unique("m1"), unique("m2")
        resp = self.bulk([post_group("g", name, ["bulkId:u1", "bulkId:u2"]),
                          post_user("u1", u1), post_user("u2", u2)])
        self.assertEqual([op["status"] for op in resp.json["Operations"]], ["201"] * 3, resp)
        group = self.get(f"/Groups/{self.find_group(name)['id']}").json
        self.assertEqual(sorted(m["value"] for m in group["members"]),
                         sorted([self.find_user(u1)["id"], self.find_user(u2)["id"]]))

    def test_patch_put_and_delete_on_bulk_id_paths(self):
        a, b = unique("pa"), unique("pb")
        resp = self.bulk([
            {"method": "PATCH", "path": "/Users/bulkId:a", "data": {
                "schemas": [PATCH_URN],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Patched"}]}},
            {"method": "DELETE", "path": "/Users/bulkId:b"},
            post_user("a", a), post_user("b", b)])
        results = resp.json["Operations"]
        self.assertEqual([op["status"] for op in results], ["200", "204", "201", "201"], results)
        user_a = self.find_user(a)
        self.assertEqual(user_a["displayName"], "Patched")
        self.assertIsNone(self.find_user(b))
        self.assertTrue(results[0]["location"].endswith("/Users/" + user_a["id"]), results[0])
        self.assertEqual(results[0]["version"], user_a["meta"]["version"])

    def test_unknown_bulk_id_is_409_and_the_rest_runs(self):
        ok_name = unique("fine")
        resp = self.bulk([post_user("x", unique("x"), **manager("bulkId:nobody")),
                          post_user("y", ok_name)])
        results = self.results(resp)
        self.assertEqual(results["x"]["status"], "409", results)
        self.assertIn("nobody", results["x"]["response"]["detail"])
        self.assertNotIn("location", results["x"])
        self.assertEqual(results["y"]["status"], "201")
        self.assertIsNotNone(self.find_user(ok_name))

    def test_a_failed_post_fails_what_depends_on_it(self):
        taken = self.post_user(expect=201).json["userName"]
        dependent = unique("dep")
        resp = self.bulk([post_user("dup", taken), post_user("d", dependent, **manager("bulkId:dup"))])
        results = self.results(resp)
        self.assertEqual(results["dup"]["status"], "409")
        self.assertEqual(results["d"]["status"], "409")
        self.assertIn("dup", results["d"]["response"]["detail"])
        self.assertIsNone(self.find_user(dependent))


class BulkCircularTest(BulkTestCase):
    """§3.7.1: circles are created first and linked after, or all get 409 with nothing left."""

    def test_groups_that_contain_each_other_are_linked(self):
        ga, gb = unique("ga"), unique("gb")
        resp = self.bulk([post_group("a", ga, ["bulkId:b"]), post_group("b", gb, ["bulkId:a"])])
        self.assertEqual([op["status"] for op in resp.json["Operations"]], ["201", "201"], resp)
        a, b = self.find_group(ga), self.find_group(gb)
        got_a = self.get(f"/Groups/{a['id']}").json
        got_b = self.get(f"/Groups/{b['id']}").json
        self.assertEqual([m["value"] for m in got_a["members"]], [b["id"]])
        self.assertEqual([m["value"] for m in got_b["members"]], [a["id"]])
        # The version reported is the one after linking.
        by_id = self.results(resp)
        self.assertEqual(by_id["a"]["version"], got_a["meta"]["version"])

    def test_users_managing_each_other_are_linked(self):
        u1, u2 = unique("c1"), unique("c2")
        resp = self.bulk([post_user("u1", u1, **manager("bulkId:u2")),
                          post_user("u2", u2, **manager("bulkId:u1"))])
        self.assertEqual([op["status"] for op in resp.json["Operations"]], ["201", "201"], resp)
        one, two = self.find_user(u1), self.find_user(u2)
        self.assertEqual(one[ENTERPRISE_URN]["manager"]["value"], two["id"])
        self.assertEqual(two[ENTERPRISE_URN]["manager"]["value"], one["id"])

    def test_a_user_managing_itself(self):
        me = unique("self")
        resp = self.bulk([post_user("me", me, **manager("bulkId:me"))])
        self.assertEqual(resp.json["Operations"][0]["status"], "201", resp)
        user = self.find_user(me)
        self.assertEqual(user[ENTERPRISE_URN]["manager"]["value"], user["id"])

    def test_an_unresolvable_circle_is_409_for_each_and_leaves_nothing(self):
        # u1's userName needs u2's id and u2's manager needs u1: u1 cannot be created without it.
        u2, other = unique("circ"), unique("bystander")
        resp = self.bulk([post_user("u1", "bulkId:u2"),
                          post_user("u2", u2, **manager("bulkId:u1")),
                          post_user("ok", other)])
        results = self.results(resp)
        for bulk_id in ("u1", "u2"):
            self.assertEqual(results[bulk_id]["status"], "409", results)
            self.assertIn("circular", results[bulk_id]["response"]["detail"])
            self.assertNotIn("location", results[bulk_id])
        self.assertIsNone(self.find_user(u2), "half of a failed circle remained")
        self.assertEqual(results["ok"]["status"], "201")


class BulkLimitsTest(BulkTestCase):
    """failOnErrors, maxOperations and maxPayloadSize (§3.7.3, §3.7.4), as advertised."""

    config_yaml = "limits: {bulk_max_operations: 5, max_body_bytes: 20000}\n"

    def test_fail_on_errors_stops_and_says_so(self):
        taken = self.post_user(expect=201).json["userName"]
        names = [unique("f") for _ in range(3)]
        resp = self.bulk([post_user("a", names[0]), post_user("dup1", taken),
                          post_user("dup2", taken), post_user("b", names[1]),
                          post_user("c", names[2])], failOnErrors=2)
        results = resp.json["Operations"]
        self.assertEqual([op["status"] for op in results], ["201", "409", "409", "412", "412"])
        self.assertIn("failOnErrors", results[3]["response"]["detail"])
        self.assertIsNotNone(self.find_user(names[0]))
        self.assertIsNone(self.find_user(names[1]))
        self.assertIsNone(self.find_user(names[2]))

    def test_without_fail_on_errors_everything_is_attempted(self):
        taken = self.post_user(expect=201).json["userName"]
        fine = unique("g")
        resp = self.bulk([post_user("d1", taken), post_user("d2", taken), post_user("ok", fine)])
        self.assertEqual([op["status"] for op in resp.json["Operations"]], ["409", "409", "201"])

    def test_bad_fail_on_errors_is_invalid_value(self):
        resp = self.bulk([post_user("a", unique("h"))], expect=400, failOnErrors=0)
        self.assertScimError(resp, 400, "invalidValue")

    def test_limits_are_advertised_and_enforced_with_413(self):
        bulk = self.get("/ServiceProviderConfig").json["bulk"]
        self.assertEqual(bulk["maxOperations"], 5)
        self.assertEqual(bulk["maxPayloadSize"], 20000)
        names = [unique("lim") for _ in range(6)]
        resp = self.bulk([post_user(str(i), n) for i, n in enumerate(names)], expect=413)
        self.assertScimError(resp, 413)
        self.assertIsNone(self.find_user(names[0]))
        big = [post_user("big", unique("big"), displayName="x" * 21000)]
        self.assertScimError(self.bulk(big, expect=413), 413)
        self.assertEqual(len(self.bulk([post_user(str(i), n) for i, n in
                                        enumerate(names[:5])]).json["Operations"]), 5)


class BulkVersionsAndConflictsTest(BulkTestCase):
    def test_version_is_an_if_match(self):
        user = self.post_user(expect=201).json
        path = f"/Users/{user['id']}"
        patch = {"schemas": [PATCH_URN],
                 "Operations": [{"op": "replace", "path": "displayName", "value": "v2"}]}
        resp = self.bulk([
            {"method": "PATCH", "path": path, "version": 'W/"999"', "data": patch},
            {"method": "PATCH", "path": path, "version": "not-a-version", "data": patch},
            {"method": "PATCH", "path": path, "version": user["meta"]["version"], "data": patch},
            {"method": "DELETE", "path": path, "version": user["meta"]["version"]}])
        results = resp.json["Operations"]
        self.assertEqual([op["status"] for op in results], ["412", "412", "200", "412"], results)
        self.assertTrue(results[0]["location"].endswith(path), results[0])
        self.assertEqual(self.get(path).json["displayName"], "v2")

    def test_conflict_names_the_existing_id(self):
        existing = self.post_user(expect=201).json
        resp = self.bulk([post_user("again", existing["userName"])])
        op = resp.json["Operations"][0]
        self.assertEqual(op["status"], "409")
        self.assertEqual(op["response"]["scimType"], "uniqueness")
        self.assertIn(existing["id"], op["response"]["detail"])
        # The same for a single POST, and for a PUT or PATCH that takes the userName.
        single = self.post_user(existing["userName"])
        self.assertScimError(single, 409, "uniqueness")
        self.assertIn(existing["id"], single.json["detail"])
        other = self.post_user(expect=201).json
        put = self.put(f"/Users/{other['id']}",
                       {"schemas": [USER_URN], "userName": existing["userName"]})
        self.assertScimError(put, 409, "uniqueness")
        self.assertIn(existing["id"], put.json["detail"])
        patched = self.patch(f"/Users/{other['id']}", [
            {"op": "replace", "path": "userName", "value": existing["userName"].upper()}])
        self.assertScimError(patched, 409, "uniqueness")
        self.assertIn(existing["id"], patched.json["detail"])

    def test_a_bulk_of_many_operations_commits_every_one(self):
        names = [unique("many") for _ in range(600)]  # more than one transaction's worth
        resp = self.bulk([post_user(str(i), n) for i, n in enumerate(names)])
        self.assertEqual({op["status"] for op in resp.json["Operations"]}, {"201"})
        for n in (names[0], names[299], names[-1]):
            self.assertIsNotNone(self.find_user(n), n)

    def test_a_failure_late_in_a_transaction_keeps_the_others_once(self):
        # A transaction's operations run first without savepoints and, at the first failure,
        # again with one each: what succeeded is committed once, under the ids it answered.
        taken = self.post_user(expect=201).json["userName"]
        names = [unique("late") for _ in range(300)]
        ops = [post_user(f"u{i}", n) for i, n in enumerate(names)]
        ops[250] = post_user("dup", taken)
        ops.append(post_user("boss", unique("boss"), **manager("bulkId:u3")))
        ops.append({"method": "PUT", "path": "/Users/bulkId:u7",
                    "data": {"schemas": [USER_URN], "userName": names[7], "title": "Lead"}})
        results = self.results(self.bulk(ops))
        self.assertEqual(results["dup"]["status"], "409")
        self.assertEqual(results["dup"]["response"]["scimType"], "uniqueness")
        for key in ("u0", "u249", "u251", "u299", "boss"):
            self.assertEqual(results[key]["status"], "201", results[key])
        self.assertEqual(results[str(len(ops) - 1)]["status"], "200")
        def read(key):
            return self.get("/Users/" + results[key]["location"].rsplit("/", 1)[1])

        for key in ("u0", "u3", "u249", "u251", "u299"):
            got = read(key)
            self.assertStatus(got, 200)
            self.assertEqual(got.json["meta"]["version"], results[key]["version"])
            entries = self.get("/admin/v1/audit?resource=" + got.json["id"]).json["entries"]
            self.assertEqual(len(entries), 1, entries)
        boss = read("boss").json
        self.assertEqual(boss[ENTERPRISE_URN]["manager"]["value"],
                         results["u3"]["location"].rsplit("/", 1)[1])
        lead = read("u7").json
        self.assertEqual(lead["title"], "Lead")
        self.assertEqual(lead["meta"]["version"], results[str(len(ops) - 1)]["version"])
        self.assertEqual(self.get("/Users" + query(filter='userName sw "late"', count=0))
                         .json["totalResults"], 299)


class BulkRateLimitTest(BulkTestCase):
    """limits.rate_limit_per_minute counts a Bulk as its operations."""

    config_yaml = "limits: {rate_limit_per_minute: 60}\n"

    def test_a_bulk_spends_one_token_per_operation(self):
        ops = [post_user(str(i), unique("rl")) for i in range(50)]
        self.bulk(ops)
        # 50 of 60 spent: 10 more single requests pass, then 429 with a Retry-After.
        statuses = [self.get("/Users" + query(count=0)).status for _ in range(12)]
        self.assertIn(429, statuses, statuses)
        self.assertLessEqual(statuses.index(429), 11, statuses)
        self.assertGreaterEqual(statuses.index(429), 8, statuses)
        resp = self.bulk([post_user("late", unique("rl"))], expect=429)
        self.assertGreaterEqual(int(resp.headers["Retry-After"]), 1)


if __name__ == "__main__":
    unittest.main()
