"""The PATCH cases of tests/cases/patch/*.json, run against the server.

tests/patch/patch_cases_test.cc runs the same files against the PATCH engine; the format is in
tests/cases/patch/README.md. Here each case becomes one test method: the runner POSTs the initial
resource (userName / group displayName made unique, id and meta left to the server), creates one
User per ${name} placeholder (${self} is the patched resource's own id) and the Group's initial
members, then sends each step's request and checks the answer: 200 or 204 with the resource, or
the SCIM error with its scimType; the attributes named, the ones absent, the Group's members
(read back with GET), and meta.version moved ("modified": true) or kept (false, and always after
an error). "engine" expectations are the engine's own and are not checked here.
"""

import copy
import json
import os
import re

from conformance_support import ConformanceCase, GROUP_URN, member_ids, unique

CASE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cases",
                        "patch")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _load(name):
    with open(os.path.join(CASE_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def _substitute(value, ids):
    """value with each ${name} in its strings replaced by ids[name]."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: ids[m.group(1)], value)
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    if isinstance(value, dict):
        return {_substitute(k, ids): _substitute(v, ids) for k, v in value.items()}
    return value


class PatchCaseRunner(ConformanceCase):
    """Base of the generated classes; add_patch_cases() gives it one test per case."""

    def run_patch_case(self, case):
        fixtures = _load("fixtures.json")
        initial = case["initial"]
        resource = copy.deepcopy(fixtures["resources"][initial] if isinstance(initial, str)
                                 else initial)
        for key in ("comment", "id", "meta"):
            resource.pop(key, None)
        is_group = GROUP_URN in resource["schemas"]
        endpoint, rtype = ("/Groups", "Group") if is_group else ("/Users", "User")

        # one User per placeholder, then the resource itself (its id is ${self})
        text = json.dumps(case)
        ids = {}
        for name in sorted(set(_PLACEHOLDER.findall(text)) - {"self"}):
            resp = self.post("/Users", {"schemas": [fixtures["resources"]["plain"]["schemas"][0]],
                                        "userName": unique(name), "displayName": name})
            ids[name] = self.assertUser(resp, 201)["id"]
        if is_group:
            resource["displayName"] = f"{resource['displayName']} {unique()}"
            members = _substitute(case.get("members", []), ids)
            if members:
                resource["members"] = [{"value": m} for m in members]
        else:
            resource["userName"] = f"{unique()}-{resource['userName']}"
        current = self.assertResource(self.post(endpoint, resource), 201, rtype)
        ids["self"] = current["id"]
        path = f"{endpoint}/{current['id']}"
        spec = _substitute(case, ids)

        for number, step in enumerate(spec.get("steps", [spec]), 1):
            with self.subTest(step=number):
                expect = step["expect"]
                if expect["status"] >= 300:
                    resp = self.patch(path, step["request"])
                    self.assertScimError(resp, expect["status"], expect.get("scimType"))
                    after = self.assertResource(self.get(path), 200, rtype)
                    self.assertVersionKept(current, after)
                else:
                    after = self.patch_ok(path, step["request"], rtype)
                    if expect.get("modified") is True:
                        self.assertVersionMoved(current, after)
                    elif expect.get("modified") is False:
                        self.assertVersionKept(current, after)
                for name, want in expect.get("attributes", {}).items():
                    self.assertIn(name, after, f"{name} is absent: {after}")
                    self.assertEqual(after[name], want, name)
                for name in expect.get("absent", []):
                    self.assertNotIn(name, after)
                if "members" in expect:
                    got = self.assertResource(self.get(path), 200, rtype)
                    self.assertEqual(sorted(member_ids(got)), sorted(expect["members"]))
                current = self.assertResource(self.get(path), 200, rtype)


def add_patch_cases(cls, file_name):
    """Adds test_<name> to cls for each case of tests/cases/patch/<file_name>."""
    cases = _load(file_name)["cases"]
    if not cases:
        raise ValueError(f"{file_name} has no cases")
    for case in cases:
        def test(self, case=case):
            self.run_patch_case(case)
        test.__name__ = f"test_{case['name']}"
        test.__doc__ = f"{file_name}: {case.get('comment', case['name'])}"
        if hasattr(cls, test.__name__):
            raise ValueError(f"{file_name}: two cases named {case['name']}")
        setattr(cls, test.__name__, test)
    return cls
