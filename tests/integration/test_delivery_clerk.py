"""Delivery to a `clerk` target, end to end: the real scimd binary delivers to the Clerk fake
(tests/fakes/clerk_fake.py) started in its own process, and the tests check what the fake ends
up holding (docs/product.md, "What the targets receive", Clerk column).

ctest runs it once per database (SCIMD_TEST_DB=sqlite|postgresql)."""

import unittest

from scimd_harness import unique
from delivery_support import (FakeTargetsTestCase, deliveries, group_body, links, patch_body,
                              user_body)


class ClerkDeliveryTest(FakeTargetsTestCase):
    fake_kinds = ("clerk",)
    retry = {"max_attempts": 10, "initial_backoff_ms": 50, "max_backoff_ms": 500}
    target_extra = {"clerk": {"role_map": '{admin: "org:admin"}'}}

    def clerk(self):
        return self.fakes["clerk"].records()

    def clerk_user(self, scim_id):
        found = [u for u in self.clerk()["users"] if u["external_id"] == scim_id]
        self.assertEqual(len(found), 1, f"Clerk users with external_id {scim_id}: {found}")
        return found[0]

    def memberships(self, org_id):
        return {m["user_id"]: m["role"] for m in self.clerk()["memberships"]
                if m["organization_id"] == org_id}

    def create_user(self, **kw):
        resp = self.post("/Users", user_body(unique("ck"), **kw))
        self.assertStatus(resp, 201)
        return resp.json

    def create_org(self, members):
        resp = self.post("/Groups", group_body(unique("Org "), kind="organization", members=members))
        self.assertStatus(resp, 201)
        return resp.json

    def test_user_lifecycle(self):
        user = self.create_user(given="Grace", family="Hopper")
        self.settle()
        clerk = self.clerk_user(user["id"])
        self.assertEqual((clerk["first_name"], clerk["last_name"]), ("Grace", "Hopper"))
        self.assertEqual([e["email_address"] for e in clerk["email_addresses"]],
                         [user["emails"][0]["value"]])
        self.assertFalse(clerk["banned"])
        self.assertEqual(links(self.client, user["id"]), {"clerk": clerk["id"]})

        self.assertIn(self.patch(f"/Users/{user['id']}", [
            {"op": "replace", "path": "name.familyName", "value": "Murray Hopper"}]).status, (200, 204))
        self.assertIn(self.patch(f"/Users/{user['id']}", [
            {"op": "Replace", "path": "active", "value": "False"}]).status, (200, 204))
        self.settle()
        clerk = self.clerk_user(user["id"])
        self.assertEqual(clerk["last_name"], "Murray Hopper")
        self.assertTrue(clerk["banned"])

        self.assertIn(self.patch(f"/Users/{user['id']}", [
            {"op": "replace", "path": "active", "value": True}]).status, (200, 204))
        self.settle()
        self.assertFalse(self.clerk_user(user["id"])["banned"])

        self.assertStatus(self.delete(f"/Users/{user['id']}"), 204)
        self.settle()
        self.assertEqual([u for u in self.clerk()["users"] if u["external_id"] == user["id"]], [])
        self.assertEqual(links(self.client, user["id"]), {})

    def test_organization_members_roles_and_deletion(self):
        admin = self.create_user(roles=[{"value": "staff"}, {"value": "admin", "primary": True}])
        member = self.create_user(roles=[{"value": "sales"}])
        plain = self.create_user()
        group = self.create_org([admin["id"], member["id"]])
        self.settle()
        ids = {u["id"]: links(self.client, u["id"])["clerk"] for u in (admin, member, plain)}
        orgs = [o for o in self.clerk()["organizations"]
                if o["private_metadata"].get("scim_id") == group["id"]]
        self.assertEqual(len(orgs), 1, orgs)
        org = orgs[0]
        self.assertEqual(org["name"], group["displayName"])
        self.assertEqual(links(self.client, group["id"]), {"clerk": org["id"]})
        self.assertEqual(self.memberships(org["id"]), {ids[admin["id"]]: "org:admin",
                                                       ids[member["id"]]: "org:member"})

        # A role change on the User reaches the membership.
        self.assertIn(self.patch(f"/Users/{member['id']}", [
            {"op": "replace", "path": "roles", "value": [{"value": "admin"}]}]).status, (200, 204))
        # Member add and remove.
        self.assertIn(self.patch(f"/Groups/{group['id']}", [
            {"op": "add", "path": "members", "value": [{"value": plain["id"]}]},
            {"op": "remove", "path": f'members[value eq "{admin["id"]}"]'}]).status, (200, 204))
        self.settle()
        self.assertEqual(self.memberships(org["id"]), {ids[member["id"]]: "org:admin",
                                                       ids[plain["id"]]: "org:member"})

        # Deleting a member user deletes it in Clerk, and its membership with it.
        self.assertStatus(self.delete(f"/Users/{plain['id']}"), 204)
        self.settle()
        self.assertEqual(self.memberships(org["id"]), {ids[member["id"]]: "org:admin"})

        self.assertStatus(self.delete(f"/Groups/{group['id']}"), 204)
        self.settle()
        self.assertEqual([o for o in self.clerk()["organizations"] if o["id"] == org["id"]], [])
        self.assertEqual(links(self.client, group["id"]), {})

    def test_retry_after_already_a_member(self):
        first = self.create_user(roles=[{"value": "admin"}])
        self.settle()
        # The membership is created, but Clerk's answer is lost (a 500 after applying it).
        self.fakes["clerk"].set_mode("fail_after_apply", count=1, method="POST",
                                     path_prefix="/v1/organizations/")
        group = self.create_org([first["id"]])
        self.settle()
        org_id = links(self.client, group["id"])["clerk"]
        self.assertEqual(self.memberships(org_id),
                         {links(self.client, first["id"])["clerk"]: "org:admin"})
        posts = [r for r in self.fakes["clerk"].requests()
                 if r["method"] == "POST" and r["path"] == f"/v1/organizations/{org_id}/memberships"]
        self.assertEqual([r["status"] for r in posts], [500, 400])
        self.assertEqual(posts[1]["response"]["errors"][0]["code"], "already_a_member_in_organization")
        done = [d for d in deliveries(self.client, target="clerk") if d["resource_id"] == group["id"]]
        self.assertEqual([d["status"] for d in done], ["delivered"])

    def test_plain_and_store_groups_are_not_sent(self):
        before = len(self.fakes["clerk"].requests())
        for kind in (None, "store"):
            self.assertStatus(self.post("/Groups", group_body(unique("G "), kind=kind)), 201)
        self.settle()
        self.assertEqual(self.fakes["clerk"].requests()[before:], [])


if __name__ == "__main__":
    unittest.main()
