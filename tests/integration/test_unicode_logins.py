"""Unicode logins over HTTP: userName uniqueness, case-insensitive filters (eq, sw, co, ew) and
PATCH value filters fold case with Unicode rules (full case folding of the NFC form), not ASCII
only: "JÜRGEN" and "jürgen" are one user (RFC 7643 §2.2 caseExact=false, §4.1.1 userName).

Run by ctest once per database, or by hand: python3 -m unittest -v test_unicode_logins
"""

import unittest

from it_support import query
from scimd_harness import ScimTestCase, unique


class UnicodeLoginsTest(ScimTestCase):

    def list_ids(self, filter_text, path="/Users"):
        resp = self.get(path + query(filter=filter_text, count=100))
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["totalResults"], len(resp.json.get("Resources", [])), resp)
        return sorted(r["id"] for r in resp.json.get("Resources", []))

    def test_user_name_uniqueness_folds_unicode_case(self):
        tag = unique("u")
        uid = self.post_user(f"jürgen.{tag}", expect=201).json["id"]
        for twin in (f"JÜRGEN.{tag.upper()}", f"Jürgen.{tag}", f"ju\u0308rgen.{tag}"):
            self.assertScimError(self.post_user(twin), 409, "uniqueness")
        # PUT and PATCH to a folded twin of another user's name are conflicts too.
        other = self.post_user(f"other.{tag}", expect=201).json["id"]
        self.assertScimError(self.patch(f"/Users/{other}", [
            {"op": "replace", "path": "userName", "value": f"JÜRGEN.{tag}"}]), 409, "uniqueness")
        # Renaming a user to a case variant of its own name is allowed.
        resp = self.patch(f"/Users/{uid}", [
            {"op": "replace", "path": "userName", "value": f"JÜRGEN.{tag}"}])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["userName"], f"JÜRGEN.{tag}")

    def test_sharp_s_and_sigma_fold_fully(self):
        tag = unique("s")
        self.post_user(f"straße.{tag}", expect=201)
        self.assertScimError(self.post_user(f"STRASSE.{tag}"), 409, "uniqueness")
        sid = self.post_user(f"ΟΔΥΣΣΕΥΣ.{tag}", expect=201).json["id"]
        self.assertEqual(self.list_ids(f'userName eq "οδυσσευς.{tag}"'), [sid])
        self.assertEqual(self.list_ids(f'userName eq "οδυσσευσ.{tag}"'), [sid])

    def test_filters_fold_unicode_case(self):
        tag = unique("f")
        uid = self.post_user(f"jürgen.{tag}", expect=201, displayName="Jürgen Groß",
                             emails=[{"value": f"JÜRGEN.{tag}@EXAMPLE.DE", "type": "work"}],
                             name={"familyName": "Müller", "givenName": "Jürgen"}).json["id"]
        self.post_user(f"jurgen.{tag}", expect=201)  # no umlaut: a different user
        self.assertEqual(self.list_ids(f'userName eq "JÜRGEN.{tag}"'), [uid])
        self.assertEqual(self.list_ids(f'userName sw "JÜRGEN.{tag}"'), [uid])
        self.assertEqual(self.list_ids(f'userName co "ÜRGEN.{tag}"'), [uid])
        self.assertEqual(self.list_ids(f'userName ew "ÜRGEN.{tag}"'), [uid])
        self.assertEqual(self.list_ids(f'displayName co "GROSS" and userName ew "{tag}"'), [uid])
        self.assertEqual(self.list_ids(f'emails.value eq "jürgen.{tag}@example.de"'), [uid])
        self.assertEqual(self.list_ids(f'emails[type eq "work" and value sw "JÜRGEN.{tag}"]'),
                         [uid])
        self.assertEqual(self.list_ids(f'name.familyName eq "MÜLLER" and userName ew "{tag}"'),
                         [uid])
        # POST /.search runs the same filter.
        resp = self.post("/Users/.search", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'userName eq "JÜRGEN.{tag}"'})
        self.assertStatus(resp, 200)
        self.assertEqual([r["id"] for r in resp.json["Resources"]], [uid])

    def test_patch_value_filter_folds_unicode_case(self):
        tag = unique("p")
        uid = self.post_user(f"patch.{tag}", expect=201, emails=[
            {"value": f"ÄRGER.{tag}@x.de", "type": "work"},
            {"value": f"other.{tag}@x.de", "type": "home"}]).json["id"]
        resp = self.patch(f"/Users/{uid}", [
            {"op": "remove", "path": f'emails[value eq "ärger.{tag}@X.DE"]'}])
        self.assertStatus(resp, 200)
        self.assertEqual([e["value"] for e in resp.json["emails"]], [f"other.{tag}@x.de"])

    def test_okta_existence_check_beyond_ascii(self):
        name = unique("José.Núñez.") + "@Okta.Local"
        uid = self.post_user(name, expect=201).json["id"]
        for variant in (name, name.lower(), name.upper()):
            self.assertEqual(self.list_ids(f'userName eq "{variant}"'), [uid], variant)


if __name__ == "__main__":
    unittest.main()
