"""Hostile and malformed input: every bad request gets a 4xx SCIM error (RFC 7644 §3.12), never
a 500, never a crash, and nothing is written.

Run by ctest once per database, or by hand: python3 -m unittest -v test_bad_input
"""

import json
import unittest

from it_support import is_scim_error, json_or_none, query, raw_request
from scimd_harness import ENTERPRISE_URN, GROUP_URN, USER_URN, ScimTestCase, unique

BAD_VALUE = ("invalidValue", "invalidSyntax")


class BadInputTest(ScimTestCase):
    statuses = []  # (status, method, path) of every request this class made

    def request(self, method, path, body=None, **kw):
        resp = super().request(method, path, body, **kw)
        type(self).statuses.append((resp.status, method, path[:120]))
        self.assertLess(resp.status, 500, f"{method} {path[:120]} -> {resp!r}")
        return resp

    def raw(self, head, body_chunks=()):
        status, headers, body = raw_request(self.server.port, head, body_chunks)
        type(self).statuses.append((status, "RAW", head[:60]))
        self.assertIsNotNone(status, f"no HTTP answer to {head[:80]!r}")
        self.assertLess(status, 500, body[:300])
        return status, headers, body

    def head(self, method, path, length=None, extra=""):
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}",
                 f"Authorization: Bearer {self.token}", "Content-Type: application/scim+json",
                 "Connection: close"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if extra:
            lines.append(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def assertNoUser(self, userName):
        found = self.get("/Users" + query(filter=f'userName eq "{userName}"'))
        self.assertStatus(found, 200)
        self.assertEqual(found.json["totalResults"], 0, f"{userName} was created: {found!r}")

    def post_raw_user(self, data):
        return self.post("/Users", data)

    # -- syntax --

    def test_malformed_json_is_400_invalid_syntax(self):
        for data in ('{"schemas": [', '{"schemas": ["%s"], "userName": "x",}' % USER_URN, "{'single': 1}",
                     '{"userName": "a" "b"}', "not json at all", '{"userName": "x"} trailing',
                     '{"userName": NaN}', '\x00'):
            with self.subTest(data=data):
                self.assertScimError(self.post_raw_user(data), 400, "invalidSyntax")

    def test_body_that_is_not_an_object_is_400(self):
        for data in ("[]", '"string"', "42", "null", "true", "[{\"userName\": \"x\"}]"):
            with self.subTest(data=data):
                self.assertScimError(self.post_raw_user(data), 400, "invalidSyntax")

    def test_empty_body_is_400(self):
        resp = self.post("/Users", b"")
        self.assertScimError(resp, 400)
        put = self.put("/Users/whatever", b"")
        self.assertIn(put.status, (400, 404), put)
        self.assertTrue(is_scim_error(put.json, put.status), put)

    def test_missing_schemas_is_400(self):
        name = unique("noschemas")
        self.assertScimError(self.post("/Users", {"userName": name}), 400)
        self.assertScimError(self.post("/Users", {"schemas": USER_URN, "userName": name}), 400)
        self.assertScimError(self.post("/Users", {"schemas": [], "userName": name}), 400)
        self.assertNoUser(name)

    def test_wrong_core_schema_is_400(self):
        name = unique("groupschema")
        self.assertScimError(self.post("/Users", {"schemas": [GROUP_URN], "userName": name}), 400)
        self.assertNoUser(name)

    # -- types --

    def test_wrong_types_are_400(self):
        cases = {
            "userName number": {"userName": 42},
            "userName null": {"userName": None},
            "userName empty": {"userName": ""},
            "userName object": {"userName": {"value": "x"}},
            "active maybe": {"active": "maybe"},
            "active number": {"active": 1},
            "emails string": {"emails": "a@example.com"},
            "emails of strings": {"emails": ["a@example.com"]},
            "email primary string": {"emails": [{"value": "a@example.com", "primary": "yes"}]},
            "name string": {"name": "Barbara Jensen"},
            "name.givenName number": {"name": {"givenName": 7}},
            "displayName array": {"displayName": ["a", "b"]},
            "title bool": {"title": True},
            "enterprise not object": {ENTERPRISE_URN: "x"},
            "employeeNumber number": {ENTERPRISE_URN: {"employeeNumber": 701984}},
        }
        for label, attrs in cases.items():
            with self.subTest(label):
                name = unique("types")
                body = {"schemas": [USER_URN], "userName": name}
                if ENTERPRISE_URN in attrs:
                    body["schemas"].append(ENTERPRISE_URN)
                body.update(attrs)
                resp = self.post("/Users", body)
                self.assertScimError(resp, 400)
                self.assertIn(resp.json.get("scimType"), BAD_VALUE, resp)
                if isinstance(body["userName"], str) and body["userName"]:
                    self.assertNoUser(name)

    def test_missing_required_username_is_400(self):
        resp = self.post("/Users", {"schemas": [USER_URN], "displayName": "No userName"})
        self.assertScimError(resp, 400)
        self.assertIn(resp.json.get("scimType"), BAD_VALUE, resp)
        grp = self.post("/Groups", {"schemas": [GROUP_URN]})
        self.assertScimError(grp, 400)

    def test_unknown_schema_urn_is_400(self):
        name = unique("unknownurn")
        for schemas in ([USER_URN, "urn:example:params:scim:schemas:extension:unknown:2.0:User"],
                        ["urn:ietf:params:scim:schemas:core:2.0:Userx"],
                        [USER_URN, 42]):
            with self.subTest(schemas=schemas):
                self.assertScimError(self.post("/Users", {"schemas": schemas, "userName": name}), 400)
        self.assertNoUser(name)

    def test_unknown_attribute_is_400(self):
        name = unique("unknownattr")
        for attrs in ({"favouriteColour": "blue"}, {"name": {"givenName": "B", "nickname": "x"}},
                      {"emails": [{"value": "a@example.com", "label": "x"}]},
                      {"urn:example:unknown:2.0:User:thing": "x"}):
            with self.subTest(attrs=attrs):
                body = {"schemas": [USER_URN], "userName": name}
                body.update(attrs)
                resp = self.post("/Users", body)
                self.assertScimError(resp, 400)
        ext = self.post("/Users", {"schemas": [USER_URN, ENTERPRISE_URN], "userName": name,
                                   ENTERPRISE_URN: {"employeeNumber": "1", "shoeSize": "44"}})
        self.assertScimError(ext, 400)
        self.assertNoUser(name)

    def test_duplicate_json_keys_are_refused_or_consistent(self):
        name = unique("dupkey")
        data = '{"schemas":["%s"],"userName":"%s","displayName":"first","displayName":"second"}' % (USER_URN, name)
        resp = self.post("/Users", data)
        if resp.status == 201:
            got = self.get(f"/Users/{resp.json['id']}").json
            self.assertEqual(got["displayName"], resp.json["displayName"])
        else:
            self.assertScimError(resp, 400)

    # -- sizes and nesting --

    def test_body_over_the_limit_is_413_scim_error(self):
        filler = "x" * (2 * 1024 * 1024)
        data = json.dumps({"schemas": [USER_URN], "userName": unique("big"), "displayName": filler}).encode()
        status, headers, body = self.raw(self.head("POST", "/scim/v2/Users", len(data)), [data])
        self.assertEqual(status, 413, body[:300])
        self.assertTrue(is_scim_error(json_or_none(body), 413), body[:300])
        self.assertStatus(self.get("/healthz", token=None), 200)

    def test_chunked_body_over_the_limit_is_413(self):
        chunk = b"x" * 65536
        chunks = [b'{"schemas":["%s"],"userName":"chunky","displayName":"' % USER_URN.encode()]
        chunks += [chunk] * 32  # 2 MiB
        chunks.append(b'"}')
        framed = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]
        status, headers, body = self.raw(self.head("POST", "/scim/v2/Users", extra="Transfer-Encoding: chunked"),
                                         framed)
        self.assertEqual(status, 413, body[:300])
        self.assertTrue(is_scim_error(json_or_none(body), 413), body[:300])
        self.assertNoUser("chunky")

    def test_content_length_lying_about_a_huge_body_is_413(self):
        status, _, body = self.raw(self.head("POST", "/scim/v2/Users", 50 * 1024 * 1024), [b"{}"])
        self.assertEqual(status, 413, body[:300])

    def test_body_just_under_the_limit_is_not_413(self):
        # 900 KiB spread over many short values: under 1 MiB, and no single value over any length limit.
        emails = [{"value": f"u{i:06d}@example.com", "type": "other"} for i in range(18000)]
        data = json.dumps({"schemas": [USER_URN], "userName": unique("under"), "emails": emails})
        self.assertLess(len(data), 1024 * 1024)
        resp = self.post("/Users", data)
        self.assertNotEqual(resp.status, 413, resp)
        self.assertIn(resp.status, (201, 400), resp)

    def test_over_long_values_are_400(self):
        name = unique("long")
        for attrs in ({"displayName": "x" * 100_000}, {"name": {"givenName": "y" * 100_000}},
                      {"emails": [{"value": "z" * 100_000 + "@example.com"}]}):
            with self.subTest(attr=list(attrs)[0]):
                body = {"schemas": [USER_URN], "userName": name}
                body.update(attrs)
                self.assertScimError(self.post("/Users", body), 400)
        self.assertScimError(self.post("/Users", {"schemas": [USER_URN], "userName": "u" * 100_000}), 400)
        self.assertNoUser(name)

    def test_deeply_nested_json_is_400(self):
        depth = 10_000
        for opener, closer in (("[", "]"), ('{"a":', "}")):
            data = '{"schemas":["%s"],"userName":"deep","name":%s1%s}' % (USER_URN, opener * depth, closer * depth)
            with self.subTest(kind=opener):
                self.assertScimError(self.post("/Users", data), 400)
        # And a 10,000-deep value that is the whole body.
        self.assertScimError(self.post("/Users", "[" * depth + "]" * depth), 400)
        self.assertNoUser("deep")

    def test_invalid_utf8_is_400(self):
        prefix = ('{"schemas":["%s"],"userName":"' % USER_URN).encode()
        for bad in (b"\xff\xfe", b"abc\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"):
            with self.subTest(bytes=bad):
                self.assertScimError(self.post("/Users", prefix + bad + b'"}'), 400)

    def test_escaped_lone_surrogates_are_400_and_pairs_round_trip(self):
        # RFC 8259 §8.2: a \u escape of an unpaired surrogate is no Unicode character; stored, it
        # would be echoed as invalid UTF-8 (a low one slipped through until fuzzing found it).
        for escaped in ("a\\ud800b", "a\\udfffb", "\\ude00\\ud83d"):
            with self.subTest(escaped=escaped):
                name = unique("sur")
                data = '{"schemas":["%s"],"userName":"%s","displayName":"%s"}' % (USER_URN, name, escaped)
                resp = self.post("/Users", data)
                self.assertScimError(resp, 400)
                self.assertEqual(resp.json.get("scimType"), "invalidSyntax", resp.json)
                self.assertNoUser(name)
        name = unique("pair")
        data = '{"schemas":["%s"],"userName":"%s","displayName":"a\\ud83d\\ude00b"}' % (USER_URN, name)
        resp = self.post("/Users", data)
        self.assertStatus(resp, 201)
        self.assertEqual(self.get(f"/Users/{resp.json['id']}").json["displayName"], "a\U0001F600b")

    def test_nul_character_is_refused(self):
        # PostgreSQL cannot store U+0000; both databases refuse it alike.
        name = unique("nul")
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": name, "displayName": "a\u0000b"})
        self.assertScimError(resp, 400)
        self.assertEqual(resp.json.get("scimType"), "invalidValue", resp.json)
        self.assertNoUser(name)

    def test_non_ascii_values_round_trip(self):
        name = unique("ünï-çødé-名前-")
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": name, "displayName": "Zoë 🚀 Ångström"})
        self.assertStatus(resp, 201)
        got = self.get("/Users" + query(filter=f'userName eq "{name}"'))
        self.assertEqual(got.json["totalResults"], 1, got)
        self.assertEqual(got.json["Resources"][0]["displayName"], "Zoë 🚀 Ångström")

    def test_huge_header_is_refused_without_harm(self):
        status, _, _ = self.raw(self.head("GET", "/scim/v2/Users", extra="X-Padding: " + "p" * 64 * 1024))
        self.assertGreaterEqual(status, 400)
        self.assertLess(status, 500)

    # -- query parameters --

    def test_bad_filters_are_400_invalid_filter(self):
        for flt in ('userName eq', 'userName zz "x"', '(userName eq "x"', 'userName eq "x")',
                    'userName eq "unterminated', 'and userName eq "x"', 'userName eq "x" and',
                    'emails[type eq "work"', 'emails[type eq "work"]]', 'userName eq "x" or or userName eq "y"',
                    'userName pr "x"', '"x" eq userName', 'userName eq "x" userName eq "y"',
                    'name.familyName.x eq "y"', 'userName eq "x" and (userName eq "y"', 'not userName eq "x"'):
            with self.subTest(filter=flt):
                self.assertScimError(self.get("/Users" + query(filter=flt)), 400, "invalidFilter")

    def test_filter_on_unknown_attribute_is_400_invalid_filter(self):
        self.assertScimError(self.get("/Users" + query(filter='favouriteColour eq "blue"')), 400, "invalidFilter")
        self.assertScimError(self.get("/Users" + query(filter='urn:example:x:2.0:User:foo eq "blue"')),
                             400, "invalidFilter")

    def test_ordering_operators_on_booleans_are_400_invalid_filter(self):
        # RFC 7644 §3.4.2.2: gt/ge/lt/le on boolean attributes are invalidFilter.
        for op in ("gt", "ge", "lt", "le"):
            with self.subTest(op=op):
                self.assertScimError(self.get("/Users" + query(filter=f"active {op} true")), 400, "invalidFilter")

    def test_very_long_and_deep_filters_are_refused_cleanly(self):
        deep = "(" * 5000 + 'userName eq "x"' + ")" * 5000
        resp = self.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                            "filter": deep})
        self.assertScimError(resp, 400, "invalidFilter")
        wide = " or ".join(f'userName eq "u{i}"' for i in range(5000))
        resp = self.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                            "filter": wide})
        self.assertIn(resp.status, (200, 400), resp)
        if resp.status == 400:
            self.assertScimError(resp, 400)

    def test_bad_paging_and_sorting_parameters(self):
        self.assertScimError(self.get("/Users?count=abc"), 400, "invalidValue")
        self.assertScimError(self.get("/Users?startIndex=1x"), 400, "invalidValue")
        self.assertScimError(self.get("/Users?count=99999999999999999999999"), 400)
        self.assertScimError(self.get("/Users?sortBy=userName&sortOrder=sideways"), 400)
        search = self.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                              "count": "ten"})
        self.assertScimError(search, 400)

    def test_bad_cursor_is_400_invalid_cursor(self):
        self.assertScimError(self.get("/Users" + query(cursor="not a cursor!", count=5)), 400, "invalidCursor")

    def test_bad_if_match_is_refused(self):
        user = self.post_user(expect=201).json
        resp = self.put(f"/Users/{user['id']}", {"schemas": [USER_URN], "userName": user["userName"]},
                        headers={"If-Match": "garbage"})
        self.assertIn(resp.status, (400, 412), resp)
        self.assertTrue(is_scim_error(resp.json, resp.status), resp)

    # -- routing --

    def test_unknown_endpoints_are_404_scim_errors(self):
        for path in ("/scim/v2/Foo", "/scim/v2/Users/a/b", "/scim/v2/", "/scim/v3/Users", "/nope",
                     "/scim/v2/Schemas/urn:nope", "/scim/v2/ResourceTypes/Nope"):
            with self.subTest(path=path):
                self.assertScimError(self.get(path), 404)

    def test_unsupported_methods_are_4xx(self):
        for method, path in (("DELETE", "/scim/v2/Users"), ("PUT", "/scim/v2/Users"),
                             ("PATCH", "/scim/v2/Groups"), ("POST", "/scim/v2/ServiceProviderConfig"),
                             ("DELETE", "/scim/v2/Schemas")):
            with self.subTest(method=method, path=path):
                resp = self.request(method, path, {"schemas": [USER_URN]} if method != "DELETE" else None)
                self.assertIn(resp.status, (404, 405, 501), resp)

    def test_application_json_is_accepted(self):
        name = unique("plainjson")
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": name}, content_type="application/json")
        self.assertStatus(resp, 201)

    def test_zz_server_still_up_and_never_answered_500(self):
        # Runs last (alphabetical order): nothing above took the server down or made it answer 5xx.
        self.assertTrue(self.server.running(), self.server.log_tail())
        self.assertStatus(self.get("/healthz", token=None), 200)
        self.assertStatus(self.get("/readyz", token=None), 200)
        self.assertStatus(self.get("/Users?count=1"), 200)
        errors = [s for s in type(self).statuses if s[0] is None or s[0] >= 500]
        self.assertEqual(errors, [], errors)
        self.assertGreater(len(type(self).statuses), 50)


if __name__ == "__main__":
    unittest.main()
