"""Listing Users and Groups: the filter language, paging, sorting, attribute selection, POST
.search (resource and root) and cursor pagination (RFC 7644 §3.4.2-3.4.3, RFC 9865).

One server and one seeded data set for the whole class. Every expected result is computed here
in Python from the seeded data (the `model`), never hard-coded.

Run by ctest once per database, or by hand: python3 -m unittest -v test_list_filter
"""

import datetime
import time
import unittest

from it_support import SEARCH_URN, LIST_URN, parse_time, q, query
from scimd_harness import ENTERPRISE_URN, GROUP_URN, USER_URN, ScimTestCase

ENT = ENTERPRISE_URN
GIVEN = ["Alice", "bob", "Carol", "dave", "Eve", "Frank", "grace", "Heidi", "Ivan", "judy",
         "Mallory", "Niaj", "olivia", "Peggy", "Rupert", "sybil", "Trent", "Victor", "walter", "Xena"]
FAMILY = ["Jensen", "Jones", "johnson", "Smith", "Young", "Miller", "Brown", "jackson", "Taylor", "Anderson"]
TITLES = ["Engineer", "Manager", "Director", None]
DEPARTMENTS = ["Sales", "Engineering", "HR", "Support"]
N_USERS = 60
SPECIAL_DISPLAY = {10: "Promo 100% Done", 11: "Promo 100X Done", 12: "snake_case", 13: "snakeXcase",
                   14: "back\\slash", 15: "Smith & Sons", 16: 'quote "q" here', 20: "Team Player"}
SPECIAL_USERNAME = {17: "Plus+Tag17", 18: "Under_Score18", 19: "Pct%Name19"}
SPECIAL_EXTERNAL = {5: "jyoung", 6: "JYoung"}
ABSENT_ACTIVE = {7, 23, 41}
TOUCHED = [3, 30, 45]


def seed_user(i):
    """The body POSTed for user i (no ids: the manager is filled in at seeding time)."""
    given, family = GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)]
    userName = SPECIAL_USERNAME.get(i, f"{given}.{family}{i:02d}")
    u = {"schemas": [USER_URN], "userName": userName,
         "displayName": SPECIAL_DISPLAY.get(i, f"{given.title()} {family.title()}")}
    if i % 13 != 12:
        u["externalId"] = SPECIAL_EXTERNAL.get(i, f"EXT{i:03d}" if i % 2 == 0 else f"ext{i:03d}")
    if i % 8 != 7:
        u["name"] = {"givenName": given, "familyName": family}
    if TITLES[i % 4] is not None:
        u["title"] = TITLES[i % 4]
    if i not in ABSENT_ACTIVE:
        u["active"] = i % 5 != 1
    mail = userName.lower()
    if i % 10 != 9:
        if i % 3 == 0:
            u["emails"] = [{"value": f"{mail}@example.com", "type": "work", "primary": True},
                           {"value": f"{mail}@home.net", "type": "home"}]
        elif i % 3 == 1:
            u["emails"] = [{"value": f"{mail}@example.org", "type": "work"},
                           {"value": f"{mail}@example.com", "type": "home"}]
        else:
            u["emails"] = [{"value": f"{mail}@example.com", "type": "home"}]
    if i % 2 == 0:
        u["phoneNumbers"] = [{"value": f"+1 555 01{i:02d}", "type": "work"}]
    ent = {}
    if i % 11 != 10:
        ent["employeeNumber"] = str(1000 + i)
    if i % 6 != 5:
        ent["department"] = DEPARTMENTS[i % 4]
    ent["costCenter"] = f"CC{i % 3}"
    if ent:
        u["schemas"].append(ENT)
        u[ENT] = ent
    return u


# -- predicates over the model --

def low(v):
    return v.lower() if isinstance(v, str) else v


def emails(u):
    return u.get("emails", [])


def ent(u):
    return u.get(ENT, {})


def family(u):
    return u.get("name", {}).get("familyName")


class ListFilterTest(ScimTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.seed()
        except BaseException:
            print(cls.server.log_tail(40))
            cls.tearDownClass()  # unittest skips it when setUpClass fails: do not leak the server
            raise

    @classmethod
    def seed(cls):
        c = cls.client
        cls.users = []  # the model: what we sent, plus id and meta from the server
        for i in range(N_USERS):
            body = seed_user(i)
            if i >= 2 and i % 9 == 0:
                body[ENT]["manager"] = {"value": cls.users[1]["id"]}
            resp = c.post("/scim/v2/Users", body)
            if resp.status != 201:
                raise AssertionError(f"seeding user {i} failed: {resp!r}")
            model = dict(body, id=resp.json["id"], meta=resp.json["meta"], index=i)
            cls.users.append(model)
        cls.by_index = {u["index"]: u for u in cls.users}

        def group(name, members):
            body = {"schemas": [GROUP_URN], "displayName": name,
                    "members": [{"value": m} for m in members]}
            resp = c.post("/scim/v2/Groups", body)
            if resp.status != 201:
                raise AssertionError(f"seeding group {name} failed: {resp!r}")
            return dict(resp.json, member_ids=set(members))

        uid = lambda i: cls.by_index[i]["id"]
        cls.g_alpha = group("Team Alpha", [uid(i) for i in range(0, 10)])
        cls.g_beta = group("Team Beta", [uid(i) for i in range(5, 15)] + [cls.g_alpha["id"]])
        cls.g_staff = group("Staff", [uid(i) for i in range(N_USERS) if i % 7 == 0])
        cls.g_empty = group("Team Empty", [])
        cls.groups = [cls.g_alpha, cls.g_beta, cls.g_staff, cls.g_empty]

        # The server's view of every user's meta now (group membership may or may not count as
        # a change of the User), so that the model's meta is exact.
        listed = c.get("/scim/v2/Users?count=500&attributes=meta")
        if listed.status != 200 or listed.json["totalResults"] != N_USERS:
            raise AssertionError(f"listing the seeded users failed: {listed!r}")
        metas = {r["id"]: r["meta"] for r in listed.json["Resources"]}
        for u in cls.users:
            u["meta"] = metas[u["id"]]

        # meta.lastModified: everything above is at or before T; TOUCHED are changed after it.
        cls.t_before = max(parse_time(u["meta"]["lastModified"]) for u in cls.users)
        cls.t_before_text = max((u["meta"]["lastModified"] for u in cls.users),
                                key=lambda s: parse_time(s))
        time.sleep(1.1)
        cls.touch_error = None  # a failed PATCH fails only the tests that need it
        for i in TOUCHED:
            u = cls.by_index[i]
            resp = c.request("PATCH", f"/scim/v2/Users/{u['id']}",
                             {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                              "Operations": [{"op": "replace", "path": "nickName", "value": "touched"}]})
            if resp.status != 200:
                cls.touch_error = f"PATCH of user {i} (to change its lastModified) failed: {resp!r}"
                continue
            u["nickName"] = "touched"
            u["meta"] = resp.json["meta"]

    # -- helpers --

    def list(self, path, **params):
        resp = self.get(path + query(**params))
        self.assertStatus(resp, 200)
        body = resp.json
        self.assertEqual(body["schemas"], [LIST_URN], body)
        self.assertEqual(body["itemsPerPage"], len(body.get("Resources", [])), body)
        return body

    def ids_for(self, flt, path="/Users"):
        body = self.list(path, filter=flt, count=500)
        got = [r["id"] for r in body.get("Resources", [])]
        self.assertEqual(len(got), len(set(got)), f"duplicates for {flt}")
        self.assertEqual(body["totalResults"], len(got), f"totalResults for {flt}")
        return set(got)

    def expect_users(self, pred):
        return {u["id"] for u in self.users if pred(u)}

    def check_filters(self, cases, path="/Users", universe=None):
        universe = self.users if universe is None else universe
        for flt, pred in cases:
            with self.subTest(filter=flt):
                expected = {r["id"] for r in universe if pred(r)}
                self.assertEqual(self.ids_for(flt, path), expected)

    def all_user_ids(self):
        return {u["id"] for u in self.users}

    # -- the operators --

    def test_eq_ne(self):
        u0, u5 = self.by_index[0], self.by_index[5]
        self.check_filters([
            (f'userName eq "{u0["userName"]}"', lambda u: u is u0),
            (f'userName eq "{u0["userName"].upper()}"', lambda u: u is u0),
            (f'userName eq "{u0["userName"].lower()}"', lambda u: u is u0),
            (f'userName ne "{u0["userName"].upper()}"', lambda u: u is not u0),
            ('userName eq "nobody-at-all"', lambda u: False),
            (f'id eq "{u5["id"]}"', lambda u: u is u5),
            ('title eq "engineer"', lambda u: low(u.get("title")) == "engineer"),
            ('active eq true', lambda u: u.get("active") is True),
            ('active eq false', lambda u: u.get("active") is False),
            ('displayName ne "Promo 100% Done"', lambda u: u["displayName"] != "Promo 100% Done"),
            ('emails.type eq "work"', lambda u: any(e["type"] == "work" for e in emails(u))),
        ])

    def test_co_sw_ew(self):
        self.check_filters([
            ('userName co "SMITH"', lambda u: "smith" in low(u["userName"])),
            ('userName sw "a"', lambda u: low(u["userName"]).startswith("a")),
            ('userName ew "7"', lambda u: u["userName"].endswith("7")),
            ('displayName co "son"', lambda u: "son" in low(u["displayName"])),
            ('emails.value ew "@example.org"', lambda u: any(e["value"].endswith("@example.org") for e in emails(u))),
            ('emails.value co "HOME.NET"', lambda u: any("home.net" in e["value"] for e in emails(u))),
            ('name.familyName sw "J"', lambda u: low(family(u) or "").startswith("j")),
            ('name.familyName ew "SON"', lambda u: low(family(u) or "").endswith("son")),
        ])

    def test_gt_ge_lt_le_on_strings(self):
        pivot = self.by_index[33]["userName"]
        self.check_filters([
            ('userName gt "m"', lambda u: low(u["userName"]) > "m"),
            ('userName lt "C"', lambda u: low(u["userName"]) < "c"),
            (f'userName ge "{pivot.upper()}"', lambda u: low(u["userName"]) >= low(pivot)),
            (f'userName le "{pivot}"', lambda u: low(u["userName"]) <= low(pivot)),
            (f'{ENT}:employeeNumber ge "1050"', lambda u: "employeeNumber" in ent(u) and ent(u)["employeeNumber"] >= "1050"),
            (f'{ENT}:employeeNumber lt "1010"', lambda u: "employeeNumber" in ent(u) and ent(u)["employeeNumber"] < "1010"),
            ('name.familyName gt "MILLER"', lambda u: family(u) is not None and low(family(u)) > "miller"),
        ])

    def test_pr(self):
        self.check_filters([
            ('title pr', lambda u: "title" in u),
            ('name.familyName pr', lambda u: family(u) is not None),
            ('emails pr', lambda u: bool(emails(u))),
            ('phoneNumbers pr', lambda u: "phoneNumbers" in u),
            ('externalId pr', lambda u: "externalId" in u),
            ('active pr', lambda u: "active" in u),
            ('nickName pr', lambda u: "nickName" in u),
            (f'{ENT}:department pr', lambda u: "department" in ent(u)),
            (f'{ENT}:manager pr', lambda u: "manager" in ent(u)),
        ])

    def test_not_and_or_precedence_and_parentheses(self):
        sw = lambda u, p: low(u["userName"]).startswith(p)
        f1 = lambda u: sw(u, "a") or (sw(u, "b") and u.get("active") is False)
        f2 = lambda u: (sw(u, "a") or sw(u, "b")) and u.get("active") is False
        # The data must tell the two readings apart, or the test proves nothing.
        self.assertNotEqual(self.expect_users(f1), self.expect_users(f2))
        f3 = lambda u: u.get("title") == "Engineer" or (u.get("title") == "Manager" and low(family(u) or "").startswith("j"))
        f4 = lambda u: (u.get("title") == "Engineer" or u.get("title") == "Manager") and low(family(u) or "").startswith("j")
        self.assertNotEqual(self.expect_users(f3), self.expect_users(f4))
        self.check_filters([
            ('userName sw "a" or userName sw "b" and active eq false', f1),
            ('(userName sw "a" or userName sw "b") and active eq false', f2),
            ('userName sw "b" and active eq false or userName sw "a"', f1),
            ('title eq "Engineer" or title eq "Manager" and name.familyName sw "J"', f3),
            ('(title eq "Engineer" or title eq "Manager") and name.familyName sw "J"', f4),
            ('not (userName sw "a")', lambda u: not sw(u, "a")),
            ('not (userName sw "a") and not (userName sw "b")', lambda u: not sw(u, "a") and not sw(u, "b")),
            ('not (userName sw "a" or userName sw "b")', lambda u: not (sw(u, "a") or sw(u, "b"))),
            ('not (title pr) and emails pr', lambda u: "title" not in u and bool(emails(u))),
            ('((userName sw "a" or userName sw "b") and (title eq "Director" or not (title pr)))',
             lambda u: (sw(u, "a") or sw(u, "b")) and (u.get("title") == "Director" or "title" not in u)),
            ('not (not (active eq true))', lambda u: u.get("active") is True),
        ])

    def test_not_of_a_comparison_on_an_absent_attribute_matches(self):
        # RFC 7644 §3.4.2.2: "not" is the logical inverse. A user without "active" does not
        # satisfy `active eq true`, so it satisfies `not (active eq true)` (no SQL NULL logic).
        self.assertTrue(ABSENT_ACTIVE)
        self.check_filters([
            ('not (active eq true)', lambda u: u.get("active") is not True),
            ('not (title eq "Engineer")', lambda u: u.get("title") != "Engineer"),
        ])

    def test_operators_and_attribute_names_are_case_insensitive(self):
        u0 = self.by_index[0]
        self.check_filters([
            (f'USERNAME EQ "{u0["userName"]}"', lambda u: u is u0),
            ('userName SW "a" Or Title Eq "Director"', lambda u: low(u["userName"]).startswith("a") or u.get("title") == "Director"),
            ('Emails[Type EQ "work" AND Value CO "@EXAMPLE.COM"]',
             lambda u: any(e["type"] == "work" and "@example.com" in e["value"] for e in emails(u))),
            ('NAME.FAMILYNAME sw "j"', lambda u: low(family(u) or "").startswith("j")),
            ('TITLE PR', lambda u: "title" in u),
            ('NOT (userName Sw "A")', lambda u: not low(u["userName"]).startswith("a")),
        ])

    def test_value_paths(self):
        self.check_filters([
            ('emails[type eq "work" and value co "@example.com"]',
             lambda u: any(e["type"] == "work" and "@example.com" in e["value"] for e in emails(u))),
            # Without brackets the two conditions may match different emails (RFC 7644 §3.4.2.2).
            ('emails.type eq "work" and emails.value co "@example.com"',
             lambda u: any(e["type"] == "work" for e in emails(u)) and any("@example.com" in e["value"] for e in emails(u))),
            ('emails[type eq "home"]', lambda u: any(e["type"] == "home" for e in emails(u))),
            ('emails[primary eq true]', lambda u: any(e.get("primary") is True for e in emails(u))),
            ('emails[type eq "home" or primary eq true]',
             lambda u: any(e["type"] == "home" or e.get("primary") is True for e in emails(u))),
            ('emails[value ew ".org"] and active eq true',
             lambda u: any(e["value"].endswith(".org") for e in emails(u)) and u.get("active") is True),
            ('phoneNumbers[type eq "work"] or emails[type eq "work"]',
             lambda u: "phoneNumbers" in u or any(e["type"] == "work" for e in emails(u))),
        ])
        correlated = self.expect_users(lambda u: any(e["type"] == "work" and "@example.com" in e["value"] for e in emails(u)))
        loose = self.expect_users(lambda u: any(e["type"] == "work" for e in emails(u)) and any("@example.com" in e["value"] for e in emails(u)))
        self.assertLess(correlated, loose)  # the data tells correlated from uncorrelated matching

    def test_enterprise_urn_paths(self):
        manager = self.by_index[1]
        u12 = self.by_index[12]
        self.check_filters([
            (f'{ENT}:employeeNumber eq "{ent(u12)["employeeNumber"]}"', lambda u: u is u12),
            (f'{ENT}:department eq "sales"', lambda u: low(ent(u).get("department")) == "sales"),
            (f'{ENT}:manager.value eq "{manager["id"]}"', lambda u: ent(u).get("manager", {}).get("value") == manager["id"]),
            (f'{ENT}:costCenter eq "CC1" and {ENT}:department eq "Engineering"',
             lambda u: ent(u).get("costCenter") == "CC1" and ent(u).get("department") == "Engineering"),
            (f'{ENT.lower()}:employeeNumber sw "100"', lambda u: ent(u).get("employeeNumber", "").startswith("100")),
            (f'{USER_URN}:userName sw "b"', lambda u: low(u["userName"]).startswith("b")),
            (f'{USER_URN}:name.familyName eq "jensen"', lambda u: low(family(u)) == "jensen"),
        ])
        self.assertTrue(self.expect_users(lambda u: "manager" in ent(u)))

    def test_meta_dates(self):
        if self.touch_error:
            self.fail(self.touch_error)
        t = self.t_before
        touched = {self.by_index[i]["id"] for i in TOUCHED}
        lm = lambda u: parse_time(u["meta"]["lastModified"])
        self.assertEqual(self.expect_users(lambda u: lm(u) > t), touched)
        as_offset = t.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()
        self.check_filters([
            (f'meta.lastModified gt "{self.t_before_text}"', lambda u: lm(u) > t),
            (f'meta.lastModified ge "{self.t_before_text}"', lambda u: lm(u) >= t),
            (f'meta.lastModified lt "{self.t_before_text}"', lambda u: lm(u) < t),
            (f'meta.lastModified le "{self.t_before_text}"', lambda u: lm(u) <= t),
            ('meta.created gt "2000-01-01T00:00:00Z"', lambda u: True),
            ('meta.created lt "2000-01-01T00:00:00Z"', lambda u: False),
            (f'meta.lastModified gt "{self.t_before_text}" and nickName eq "touched"', lambda u: lm(u) > t),
        ])
        with self.subTest(offset=as_offset):
            # The same instant written with another UTC offset (xsd:dateTime compares instants).
            self.assertEqual(self.ids_for(f'meta.lastModified gt "{as_offset}"'), touched)

    def test_membership_filters(self):
        alpha, beta, staff, empty = self.g_alpha, self.g_beta, self.g_staff, self.g_empty
        u7 = self.by_index[7]
        self.check_filters([
            (f'members.value eq "{u7["id"]}"', lambda g: u7["id"] in g["member_ids"]),
            (f'members.value eq "{alpha["id"]}"', lambda g: alpha["id"] in g["member_ids"]),
            ('members pr', lambda g: bool(g["member_ids"])),
            ('displayName sw "team"', lambda g: g["displayName"].lower().startswith("team")),
            (f'displayName eq "Staff" or members.value eq "{self.by_index[14]["id"]}"',
             lambda g: g["displayName"] == "Staff" or self.by_index[14]["id"] in g["member_ids"]),
        ], path="/Groups", universe=self.groups)
        self.check_filters([
            (f'groups.value eq "{alpha["id"]}"', lambda u: u["id"] in alpha["member_ids"]),
            (f'groups.value eq "{staff["id"]}"', lambda u: u["id"] in staff["member_ids"]),
            (f'groups.value eq "{empty["id"]}"', lambda u: False),
            (f'groups.value eq "{alpha["id"]}" and groups.value eq "{staff["id"]}"',
             lambda u: u["id"] in alpha["member_ids"] and u["id"] in staff["member_ids"]),
        ])

    def test_username_case_insensitive_external_id_case_exact(self):
        u5, u6 = self.by_index[5], self.by_index[6]
        self.check_filters([
            ('externalId eq "jyoung"', lambda u: u is u5),
            ('externalId eq "JYoung"', lambda u: u is u6),
            ('externalId eq "JYOUNG"', lambda u: False),
            ('externalId sw "EXT"', lambda u: u.get("externalId", "").startswith("EXT")),
            ('externalId co "xt0"', lambda u: "xt0" in u.get("externalId", "")),
            (f'userName eq "{u5["userName"].swapcase()}"', lambda u: u is u5),
        ])

    def test_unquoted_entra_value(self):
        u5 = self.by_index[5]
        self.assertEqual(self.ids_for("externalId eq jyoung"), {u5["id"]})
        self.assertEqual(self.ids_for(f"userName eq {u5['userName']}"), {u5["id"]})

    def test_like_wildcards_are_literal(self):
        by = self.by_index
        self.check_filters([
            ('displayName co "100%"', lambda u: u is by[10]),
            ('displayName sw "promo 100%"', lambda u: u is by[10]),
            ('displayName co "%"', lambda u: u is by[10]),
            ('displayName co "e_c"', lambda u: u is by[12]),
            ('displayName ew "_case"', lambda u: u is by[12]),
            ('displayName co "_"', lambda u: u is by[12]),
            ('userName sw "Pct%"', lambda u: u is by[19]),
            ('userName sw "Pct_"', lambda u: False),
            ('userName co "_"', lambda u: u is by[18]),
            ('displayName co "\\\\"', lambda u: u is by[14]),
            ('displayName eq "back\\\\slash"', lambda u: u is by[14]),
            ('displayName co "k\\\\s"', lambda u: u is by[14]),
            ('displayName eq "quote \\"q\\" here"', lambda u: u is by[16]),
            ('displayName co "\\""', lambda u: u is by[16]),
            ('displayName eq "Smith & Sons"', lambda u: u is by[15]),
        ])

    def test_percent_encoded_and_plus_encoded_queries(self):
        u0, u17 = self.by_index[0], self.by_index[17]
        name = u0["userName"].lower()
        for raw in (f"filter=userName%20eq%20%22{name}%22",
                    f"filter=userName+eq+%22{name}%22",
                    f"filter=userName%20eq%20\"{name}\"",
                    f"filter=userName%20EQ%20%22{name.upper()}%22&count=5"):
            with self.subTest(query=raw):
                resp = self.get("/Users?" + raw)
                self.assertStatus(resp, 200)
                self.assertEqual([r["id"] for r in resp.json["Resources"]], [u0["id"]])
        plus = self.get("/Users?filter=userName+eq+%22Plus%2BTag17%22")
        self.assertEqual([r["id"] for r in plus.json["Resources"]], [u17["id"]])
        # A bare '+' is a space in a query string, so this looks for "Plus Tag17".
        spaced = self.get('/Users?filter=userName+eq+%22Plus+Tag17%22')
        self.assertStatus(spaced, 200)
        self.assertEqual(spaced.json["totalResults"], 0)
        amp = self.get("/Users?filter=" + q('displayName eq "Smith & Sons"') + "&count=10")
        self.assertEqual([r["id"] for r in amp.json["Resources"]], [self.by_index[15]["id"]])

    # -- paging --

    def test_paging_through_all_users_with_start_index_and_count(self):
        total = len(self.users)
        seen = []
        start = 1
        while start <= total:
            body = self.list("/Users", startIndex=start, count=7)
            self.assertEqual(body["totalResults"], total)
            self.assertEqual(body["startIndex"], start)
            self.assertEqual(len(body["Resources"]), min(7, total - start + 1))
            seen += [r["id"] for r in body["Resources"]]
            start += 7
        self.assertEqual(len(seen), len(set(seen)), "a user appeared on two pages")
        self.assertEqual(set(seen), self.all_user_ids())

    def test_paging_a_sorted_filtered_list(self):
        pred = lambda u: u.get("active") is True
        expected = [u["id"] for u in sorted((u for u in self.users if pred(u)), key=lambda u: low(u["userName"]))]
        got = []
        for start in range(1, len(expected) + 1, 5):
            body = self.list("/Users", filter="active eq true", sortBy="userName", startIndex=start, count=5)
            self.assertEqual(body["totalResults"], len(expected))
            got += [r["id"] for r in body["Resources"]]
        self.assertEqual(got, expected)

    def test_count_zero_gives_total_only(self):
        body = self.list("/Users", count=0)
        self.assertEqual(body["totalResults"], len(self.users))
        self.assertEqual(body.get("Resources", []), [])
        self.assertEqual(body["itemsPerPage"], 0)
        filtered = self.list("/Users", filter='title eq "Manager"', count=0)
        self.assertEqual(filtered["totalResults"], len(self.expect_users(lambda u: u.get("title") == "Manager")))
        negative = self.list("/Users", count=-5)  # RFC 7644 §3.4.2.4: a negative count is 0
        self.assertEqual(negative["totalResults"], len(self.users))
        self.assertEqual(negative.get("Resources", []), [])

    def test_default_count(self):
        spc = self.get("/ServiceProviderConfig").json
        default = spc.get("pagination", {}).get("defaultPageSize", spc["filter"]["maxResults"])
        body = self.list("/Users")
        self.assertEqual(body["totalResults"], len(self.users))
        self.assertEqual(len(body["Resources"]), min(default, len(self.users)))
        self.assertEqual(body.get("startIndex", 1), 1)

    def test_start_index_beyond_the_end_and_below_one(self):
        total = len(self.users)
        body = self.list("/Users", startIndex=total + 5, count=10)
        self.assertEqual(body["totalResults"], total)
        self.assertEqual(body.get("Resources", []), [])
        self.assertEqual(body["itemsPerPage"], 0)
        last = self.list("/Users", startIndex=total, count=10, sortBy="userName")
        self.assertEqual(len(last["Resources"]), 1)
        first = self.list("/Users", startIndex=1, count=3, sortBy="userName")
        for start in (0, -4):  # RFC 7644 §3.4.2.4: below 1 is taken as 1
            body = self.list("/Users", startIndex=start, count=3, sortBy="userName")
            self.assertEqual([r["id"] for r in body["Resources"]], [r["id"] for r in first["Resources"]])
            self.assertEqual(body["startIndex"], 1)

    # -- sorting --

    def test_sort_by_username_both_directions(self):
        asc = sorted(self.users, key=lambda u: low(u["userName"]))
        for params, expected in (({"sortBy": "userName"}, asc),
                                 ({"sortBy": "userName", "sortOrder": "ascending"}, asc),
                                 ({"sortBy": "USERNAME", "sortOrder": "ascending"}, asc),
                                 ({"sortBy": "userName", "sortOrder": "descending"}, asc[::-1])):
            with self.subTest(**params):
                body = self.list("/Users", count=500, **params)
                self.assertEqual([r["userName"] for r in body["Resources"]], [u["userName"] for u in expected])

    def _sorted_values(self, sort_by, key, descending=False, page=None):
        params = {"sortBy": sort_by, "sortOrder": "descending" if descending else "ascending"}
        if page:
            ids = []
            for start in range(1, len(self.users) + 1, page):
                ids += [r["id"] for r in self.list("/Users", startIndex=start, count=page, **params)["Resources"]]
        else:
            ids = [r["id"] for r in self.list("/Users", count=500, **params)["Resources"]]
        self.assertEqual(sorted(ids), sorted(self.all_user_ids()))
        by_id = {u["id"]: u for u in self.users}
        return ids, [key(by_id[i]) for i in ids]

    def test_sort_with_ties_and_missing_values(self):
        # RFC 7644 §3.4.2.3: caseExact=false strings sort case-insensitively; resources without a
        # value sort last when ascending and first when descending. Ties keep one stable order.
        for sort_by, key in (("title", lambda u: low(u.get("title"))),
                             ("name.familyName", lambda u: low(family(u))),
                             (f"{ENT}:employeeNumber", lambda u: ent(u).get("employeeNumber")),
                             (f"{ENT}:department", lambda u: low(ent(u).get("department")))):
            for descending in (False, True):
                with self.subTest(sortBy=sort_by, descending=descending):
                    ids, values = self._sorted_values(sort_by, key, descending)
                    present = [v for v in values if v is not None]
                    missing = len(values) - len(present)
                    self.assertTrue(missing > 0 and present, "the data must have values and gaps")
                    if descending:
                        self.assertEqual(values[:missing], [None] * missing, values)
                        self.assertEqual(present, sorted(present, reverse=True))
                    else:
                        self.assertEqual(values[len(present):], [None] * missing, values)
                        self.assertEqual(present, sorted(present))
                    again, _ = self._sorted_values(sort_by, key, descending)
                    self.assertEqual(ids, again, "same request, different order")
                    paged, _ = self._sorted_values(sort_by, key, descending, page=20)
                    self.assertEqual(ids, paged, "paging changed the order")

    def test_sort_by_meta_dates(self):
        if self.touch_error:
            self.fail(self.touch_error)
        ids, values = self._sorted_values("meta.lastModified", lambda u: parse_time(u["meta"]["lastModified"]))
        self.assertEqual(values, sorted(values))
        self.assertEqual(set(ids[-len(TOUCHED):]), {self.by_index[i]["id"] for i in TOUCHED})

    def test_sort_by_multi_valued_uses_primary_or_first(self):
        def key(u):
            es = emails(u)
            if not es:
                return None
            primary = [e for e in es if e.get("primary")]
            return low((primary or es)[0]["value"])
        ids, values = self._sorted_values("emails.value", key)
        present = [v for v in values if v is not None]
        self.assertEqual(present, sorted(present))
        self.assertEqual(values[len(present):], [None] * (len(values) - len(present)))

    def test_unknown_sort_attribute_is_400(self):
        self.assertScimError(self.get("/Users?sortBy=shoeSize"), 400)

    # -- attribute selection --

    def test_attributes_on_lists(self):
        body = self.list("/Users", attributes="userName", count=500)
        self.assertEqual(len(body["Resources"]), len(self.users))
        for r in body["Resources"]:
            self.assertIn("id", r)
            self.assertEqual(r["schemas"][0], USER_URN)
            self.assertIn("userName", r)
            self.assertEqual(set(r) - {"id", "schemas", "userName", "meta"}, set(), r)
        fam = self.list("/Users", attributes="name.familyName", filter="name pr", count=500)
        for r in fam["Resources"]:
            self.assertEqual(set(r["name"]), {"familyName"}, r)
            self.assertNotIn("userName", r)
        mails = self.list("/Users", attributes="emails.value,userName", filter="emails pr", count=500)
        for r in mails["Resources"]:
            self.assertTrue(r["emails"])
            for e in r["emails"]:
                self.assertEqual(set(e), {"value"}, r)
        dept = self.list("/Users", attributes=f"{ENT}:department", filter=f"{ENT}:department pr", count=500)
        self.assertTrue(dept["Resources"])
        for r in dept["Resources"]:
            self.assertEqual(set(r[ENT]), {"department"}, r)
            self.assertNotIn("userName", r)
        whole = self.list("/Users", attributes=ENT, filter=f'{ENT}:employeeNumber eq "1012"')
        self.assertEqual(whole["Resources"][0][ENT], ent(self.by_index[12]))
        self.assertNotIn("userName", whole["Resources"][0])

    def test_excluded_attributes_on_lists(self):
        body = self.list("/Users", excludedAttributes="emails,name,groups,phoneNumbers", count=500)
        for r in body["Resources"]:
            for gone in ("emails", "name", "groups", "phoneNumbers"):
                self.assertNotIn(gone, r)
            self.assertIn("userName", r)
            self.assertIn("displayName", r)
        always = self.list("/Users", excludedAttributes="id,schemas,userName", count=5)
        for r in always["Resources"]:
            self.assertIn("id", r)  # returned "always" (RFC 7643 §3.1, §7)
            self.assertIn("schemas", r)
            self.assertNotIn("userName", r)
        ext = self.list("/Users", excludedAttributes=f"{ENT}:department", filter=f"{ENT}:department pr", count=500)
        for r in ext["Resources"]:
            self.assertNotIn("department", r.get(ENT, {}))
        groups = self.list("/Groups", attributes="displayName")
        for g in groups["Resources"]:
            self.assertNotIn("members", g)
            self.assertIn("id", g)

    def test_attributes_on_single_get_and_post(self):
        u = self.by_index[21]
        got = self.get(f"/Users/{u['id']}?attributes=displayName,name.givenName")
        self.assertStatus(got, 200)
        self.assertEqual(set(got.json) - {"meta"}, {"id", "schemas", "displayName", "name"}, got.json)
        self.assertEqual(set(got.json["name"]), {"givenName"})
        excl = self.get(f"/Users/{u['id']}?excludedAttributes=emails,{ENT}")
        self.assertNotIn("emails", excl.json)
        self.assertNotIn(ENT, excl.json)
        self.assertIn("userName", excl.json)
        posted = self.post("/Groups?attributes=displayName", {"schemas": [GROUP_URN], "displayName": "Temp Group X",
                                                               "members": [{"value": self.g_alpha["id"]}]})
        self.assertStatus(posted, 201)
        self.assertEqual(set(posted.json) - {"meta"}, {"id", "schemas", "displayName"}, posted.json)
        self.assertStatus(self.delete(f"/Groups/{posted.json['id']}"), 204)

    # -- POST .search --

    def test_post_search_matches_get(self):
        flt = 'title eq "Engineer" or emails[type eq "home"]'
        get = self.list("/Users", filter=flt, sortBy="userName", startIndex=2, count=6, attributes="userName")
        resp = self.post("/Users/.search", {"schemas": [SEARCH_URN], "filter": flt, "sortBy": "userName",
                                            "sortOrder": "ascending", "startIndex": 2, "count": 6,
                                            "attributes": ["userName"]})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json["schemas"], [LIST_URN])
        self.assertEqual(resp.json["totalResults"], get["totalResults"])
        self.assertEqual(resp.json["Resources"], get["Resources"])
        expected = self.expect_users(lambda u: u.get("title") == "Engineer" or any(e["type"] == "home" for e in emails(u)))
        self.assertEqual(resp.json["totalResults"], len(expected))
        excl = self.post("/Users/.search", {"schemas": [SEARCH_URN], "filter": flt,
                                            "excludedAttributes": ["emails", "name"], "count": 500})
        self.assertStatus(excl, 200)
        self.assertEqual({r["id"] for r in excl.json["Resources"]}, expected)
        for r in excl.json["Resources"]:
            self.assertNotIn("emails", r)
            self.assertNotIn("name", r)
        groups = self.post("/Groups/.search", {"schemas": [SEARCH_URN], "filter": 'displayName sw "Team"'})
        self.assertStatus(groups, 200)
        self.assertEqual({g["id"] for g in groups.json["Resources"]},
                         {g["id"] for g in self.groups if g["displayName"].startswith("Team")})

    def test_root_search(self):
        everything = self.all_user_ids() | {g["id"] for g in self.groups}
        body = self.post("/.search", {"schemas": [SEARCH_URN], "count": 500})
        self.assertStatus(body, 200)
        self.assertEqual(body.json["totalResults"], len(everything))
        self.assertEqual({r["id"] for r in body.json["Resources"]}, everything)
        for r in body.json["Resources"]:
            kind = r["meta"]["resourceType"]
            self.assertIn(USER_URN if kind == "User" else GROUP_URN, r["schemas"])
        team = self.post("/.search", {"schemas": [SEARCH_URN], "filter": 'displayName sw "Team"'})
        self.assertStatus(team, 200)
        expected = {g["id"] for g in self.groups if g["displayName"].startswith("Team")} | \
            self.expect_users(lambda u: u["displayName"].startswith("Team"))
        self.assertEqual({r["id"] for r in team.json["Resources"]}, expected)
        self.assertEqual(team.json["totalResults"], len(expected))
        # Paging through a root search covers every resource once.
        seen = []
        for start in range(1, len(everything) + 1, 9):
            page = self.post("/.search", {"schemas": [SEARCH_URN], "startIndex": start, "count": 9})
            self.assertStatus(page, 200)
            self.assertEqual(page.json["totalResults"], len(everything))
            seen += [r["id"] for r in page.json["Resources"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), everything)

    def test_root_search_with_a_user_only_attribute(self):
        # userName exists only on Users; across resource types it simply matches no Group.
        u0 = self.by_index[0]
        resp = self.post("/.search", {"schemas": [SEARCH_URN], "filter": f'userName eq "{u0["userName"]}"'})
        self.assertStatus(resp, 200)
        self.assertEqual([r["id"] for r in resp.json["Resources"]], [u0["id"]])

    # -- cursor pagination (RFC 9865) --

    def _walk_cursor(self, fetch, count, limit=100):
        seen, cursor, pages = [], "", 0
        totals = set()
        while True:
            body = fetch(cursor)
            pages += 1
            self.assertLessEqual(len(body.get("Resources", [])), count)
            seen += [r["id"] for r in body.get("Resources", [])]
            if "totalResults" in body:
                totals.add(body["totalResults"])
            cursor = body.get("nextCursor")
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
            self.assertTrue(body.get("Resources"), "an empty page must be the last one")
            self.assertLess(pages, limit, "cursor never ended")
        self.assertEqual(len(seen), len(set(seen)), "a resource appeared on two cursor pages")
        self.assertLessEqual(len(totals), 1, totals)
        return seen, pages

    def test_cursor_pagination_covers_all_users_once(self):
        def fetch(cursor):
            resp = self.get(f"/Users?cursor={q(cursor)}&count=8")
            self.assertStatus(resp, 200)
            return resp.json
        seen, pages = self._walk_cursor(fetch, 8)
        self.assertEqual(set(seen), self.all_user_ids())
        self.assertGreaterEqual(pages, len(self.users) // 8)

    def test_cursor_first_page_with_bare_parameter(self):
        resp = self.get("/Users?cursor&count=5")
        self.assertStatus(resp, 200)
        self.assertEqual(len(resp.json["Resources"]), 5)
        self.assertIsInstance(resp.json.get("nextCursor"), str)
        self.assertEqual(resp.json["totalResults"], len(self.users))

    def test_cursor_with_filter_and_page_size_dividing_the_total(self):
        pred = lambda u: u.get("active") is True
        expected = self.expect_users(pred)
        for count in (len(expected), 1, 4):
            with self.subTest(count=count):
                def fetch(cursor):
                    resp = self.get("/Users" + query(filter="active eq true", cursor=cursor, count=count))
                    self.assertStatus(resp, 200)
                    self.assertEqual(resp.json["totalResults"], len(expected))
                    return resp.json
                seen, _ = self._walk_cursor(fetch, count)
                self.assertEqual(set(seen), expected)

    def test_cursor_in_post_search(self):
        def fetch(cursor):
            resp = self.post("/Users/.search", {"schemas": [SEARCH_URN], "filter": 'emails pr',
                                                "cursor": cursor, "count": 6})
            self.assertStatus(resp, 200)
            return resp.json
        seen, _ = self._walk_cursor(fetch, 6)
        self.assertEqual(set(seen), self.expect_users(lambda u: bool(emails(u))))

    def test_cursor_on_root_search_is_refused(self):
        # A cursor walks one resource type (RFC 9865 cursors are opaque per result set); scimd
        # refuses a cursor on the root search rather than silently skipping resources.
        resp = self.post("/.search", {"schemas": [SEARCH_URN], "cursor": "", "count": 10})
        self.assertScimError(resp, 400, "invalidValue")

    def test_cursor_walk_reports_the_total_of_its_start(self):
        # Later pages reuse the count taken on the first page (constant cost per page); a new
        # walk counts again.
        first = self.get("/Users?cursor&count=2").json
        total = first["totalResults"]
        extra = self.post_user(expect=201).json
        try:
            second = self.get(f"/Users?cursor={q(first['nextCursor'])}&count=2")
            self.assertStatus(second, 200)
            self.assertEqual(second.json["totalResults"], total)
            self.assertEqual(self.get("/Users?cursor&count=2").json["totalResults"], total + 1)
        finally:
            self.assertStatus(self.delete(f"/Users/{extra['id']}"), 204)

    def test_tampered_cursor_is_invalid_cursor(self):
        cursor = self.get("/Users?cursor&count=2").json["nextCursor"]
        for bad in (cursor.split(".")[0] + ".x1", "zz" + cursor, cursor + ".", ".12", "a" * 100):
            with self.subTest(cursor=bad):
                self.assertScimError(self.get(f"/Users?cursor={q(bad)}&count=2"), 400,
                                     "invalidCursor")

    def test_cursor_on_groups(self):
        def fetch(cursor):
            resp = self.get(f"/Groups?cursor={q(cursor)}&count=3")
            self.assertStatus(resp, 200)
            return resp.json
        seen, _ = self._walk_cursor(fetch, 3)
        self.assertEqual(set(seen), {g["id"] for g in self.groups})


if __name__ == "__main__":
    unittest.main()
