#!/usr/bin/env python3
"""Seeds a scimd database with generated Users and Groups, inside the database, with SQL.

    seed.py seed --db URL --users N [--groups 1000] [--bench-groups 10,10000,100000] [--fresh]
    seed.py verify --db URL --users N [--groups 1000] [--bench-groups ...]
    seed.py fidelity --db URL_A --api-db URL_B

`seed` runs `scimd migrate --db URL`, then generates exactly the rows the store writes for a
resource created through the API (resources, attr_values, group_members; see bench_common.py for
the data set): PostgreSQL with generate_series, SQLite with a recursive CTE, both through an
intermediate table `bench_u` (one row per user) that is dropped at the end. The secondary indexes
of resources / attr_values / group_members (the CREATE INDEX lines of the migrations, verbatim)
are dropped before the load and recreated after it; then ANALYZE (PostgreSQL: VACUUM ANALYZE).
Not written: outbox and audit_log rows (the API would add one of each per created resource).

`verify` starts the real server on the seeded database and checks, for a few users, that
GET /Users/{id} and the filters userName eq, externalId eq, emails.value eq and
name.familyName sw return that user with the seeded attributes, that totalResults matches the
seeded counts, and that the groups have their members.

`fidelity` seeds 5 users, 2 groups and benchmark groups of 2 and 3 members by SQL into URL_A, and
creates the same resources through the API into URL_B (both must be fresh, same dialect), then
compares every column of every row (except ids and timestamps, which the server generates, and
the data JSON compared as JSON).

Needs python3 (stdlib, sqlite3 module) and, for PostgreSQL, psql. --scimd (default
$SCIMD_BIN or /work/build-bench/scimd).
"""

import argparse
import json
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

TABLES = ("resources", "attr_values", "group_members")
ENT = bc.ENTERPRISE_URN.lower() + ":"
CHUNK = 100_000


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def migration_indexes(dialect):
    """The CREATE INDEX statements of our three tables, in migration order: [(name, sql)]."""
    d = os.path.join(bc.SOURCE_DIR, "migrations", dialect)
    out = {}  # a later migration's definition of an index replaces the earlier one
    for f in sorted(os.listdir(d)):
        if not f.endswith(".sql"):
            continue
        for line in open(os.path.join(d, f)):
            m = re.match(r"\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(\w+)\s+ON\s+(\w+)\s*\(.*;\s*$", line, re.I)
            if m and m.group(3) in TABLES:
                out[m.group(2)] = line.strip()
    return list(out.items())


class Dialect:
    """SQL spellings that differ between PostgreSQL and SQLite."""

    def __init__(self, pg):
        self.pg = pg

    def hex8(self, x):
        return "lpad(to_hex(%s), 8, '0')" % x if self.pg else "printf('%%08x', %s)" % x

    def hex12(self, x):
        return "lpad(to_hex(%s), 12, '0')" % x if self.pg else "printf('%%012x', %s)" % x

    def pad(self, x, n):
        return "lpad((%s)::text, %d, '0')" % (x, n) if self.pg else "printf('%%0%dd', %s)" % (n, x)

    def chr(self, x):
        return ("chr(%s)" if self.pg else "char(%s)") % x

    def big(self, x):
        return "(%s)::bigint" % x if self.pg else "(%s)" % x

    def ts(self, seconds_expr):
        if self.pg:
            return ("to_char(timestamp '2023-01-01 00:00:00' + (%s) * interval '1 second', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')" % seconds_expr)
        return "strftime('%%Y-%%m-%%dT%%H:%%M:%%S.000Z', %d + (%s), 'unixepoch')" % (
            bc.BASE_EPOCH, seconds_expr)

    def series(self, n, col="i"):
        """A FROM item with column `col` = 1..n."""
        if self.pg:
            return "generate_series(1, %d) AS s(%s)" % (n, col)
        return ("(WITH RECURSIVE r(%s) AS (SELECT 1 UNION ALL SELECT %s + 1 FROM r WHERE %s < %d) "
                "SELECT %s FROM r) AS s" % (col, col, col, n, col))

    def hashed_id(self, x, variant):
        return "%s || '-0000-4000-%s000-' || %s" % (
            self.hex8("(%s * 2654435761) %% 4294967296" % self.big(x)), variant, self.hex12(x))

    def obj(self, *kv):
        return ("jsonb_build_object(%s)" if self.pg else "json_object(%s)") % ", ".join(kv)

    def arr(self, *items):
        return ("jsonb_build_array(%s)" if self.pg else "json_array(%s)") % ", ".join(items)

    def boolean(self, cond):
        return "(%s)" % cond if self.pg else "json(CASE WHEN %s THEN 'true' ELSE 'false' END)" % cond

    def lit(self, s):
        return "'" + s.replace("'", "''") + "'"


def values_table(name, items):
    rows = ", ".join("(%d, '%s')" % (k, v.replace("'", "''")) for k, v in enumerate(items))
    return ["CREATE TABLE %s (k INTEGER PRIMARY KEY, name TEXT NOT NULL)" % name,
            "INSERT INTO %s (k, name) VALUES %s" % (name, rows)]


def user_table_sql(d, n):
    """bench_u: one row per user with every field of bench_common.user_fields."""
    c = "(s.i / 100)"
    code = " || ".join(d.chr("97 + (%s / %d) %% 26" % (c, div)) for div in (17576, 676, 26, 1))
    inner = (
        "SELECT s.i AS i, f.name AS given, l.name || '-' || %s AS family, dp.name AS dept "
        "FROM %s JOIN bench_first f ON f.k = s.i %% 40 JOIN bench_last l ON l.k = s.i %% 100 "
        "JOIN bench_dept dp ON dp.k = s.i %% 12" % (code, d.series(n)))
    return [
        "CREATE TABLE bench_u (i INTEGER PRIMARY KEY, id TEXT, user_name TEXT, external_id TEXT, "
        "given TEXT, family TEXT, display TEXT, work TEXT, home TEXT, active INTEGER, emp TEXT, "
        "cc TEXT, dept TEXT, created TEXT, grp INTEGER)",
        "INSERT INTO bench_u SELECT x.i, %s, 'User' || x.i || '@example.com', 'hr-' || x.i, "
        "x.given, x.family, x.given || ' ' || x.family, "
        "lower(x.given || '.' || x.family) || '@example.com', 'u' || x.i || '@home.example.net', "
        "CASE WHEN x.i %% 10 = 0 THEN 0 ELSE 1 END, %s, 'CC-' || (1000 + x.i %% 50), x.dept, %s, "
        "0 FROM (%s) AS x ORDER BY x.i" % (d.hashed_id("x.i", "8"), d.pad("x.i", 7), d.ts("30 * x.i"),
                                         inner),
    ]


def user_data_expr(d):
    return d.obj(
        "'schemas'", d.arr(d.lit(bc.USER_URN), d.lit(bc.ENTERPRISE_URN)),
        "'externalId'", "u.external_id",
        "'userName'", "u.user_name",
        "'name'", d.obj("'formatted'", "u.display", "'familyName'", "u.family", "'givenName'", "u.given"),
        "'displayName'", "u.display",
        "'emails'", d.arr(d.obj("'value'", "u.work", "'type'", "'work'", "'primary'", d.boolean("1 = 1")),
                          d.obj("'value'", "u.home", "'type'", "'home'")),
        "'active'", d.boolean("u.active = 1"),
        d.lit(bc.ENTERPRISE_URN), d.obj("'employeeNumber'", "u.emp", "'costCenter'", "u.cc",
                                        "'department'", "u.dept"))


# (path, ord, value expression) in the order the store writes them (schema attribute order).
ATTR_ROWS = [
    ("name.formatted", 0, "u.display"),
    ("name.familyname", 0, "u.family"),
    ("name.givenname", 0, "u.given"),
    ("emails.value", 0, "u.work"),
    ("emails.type", 0, "'work'"),
    ("emails.primary", 0, "'true'"),
    ("emails.value", 1, "u.home"),
    ("emails.type", 1, "'home'"),
    (ENT + "employeenumber", 0, "u.emp"),
    (ENT + "costcenter", 0, "u.cc"),
    (ENT + "department", 0, "u.dept"),
]


def users_sql(d, lo, hi, bench_sizes):
    data = user_data_expr(d)
    # Created first, then added to its group and to the benchmark groups that contain it: every
    # membership added bumps the member's version and lastModified (membership.cc TouchMembers).
    version = " + ".join(["2"] + ["CASE WHEN u.i <= %d THEN 1 ELSE 0 END" % sz for sz in bench_sizes])
    res = (
        "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, external_id, "
        "display_name, display_name_lc, active, created, last_modified, version, password_hash, "
        "data) SELECT '%s', u.id, 'User', u.user_name, lower(u.user_name), u.external_id, "
        "u.display, lower(u.display), u.active, u.created, %s, %s, NULL, %s "
        "FROM bench_u u WHERE u.i BETWEEN %d AND %d ORDER BY u.i" % (bc.TENANT, d.ts("30 * u.i + 15"), version, data, lo, hi))
    branches = []
    for k, (path, ord_, expr) in enumerate(ATTR_ROWS):
        branches.append(
            "SELECT u.i AS i, %d AS k, u.id AS rid, '%s' AS path, %d AS ord, %s AS value "
            "FROM bench_u u WHERE u.i BETWEEN %d AND %d" % (k, path, ord_, expr, lo, hi))
    attrs = (
        "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, value_lc, "
        "num) SELECT '%s', 'User', a.rid, a.path, a.ord, a.value, lower(a.value), NULL FROM (%s) AS a "
        "ORDER BY a.i, a.k" % (bc.TENANT, " UNION ALL ".join(branches)))
    return [res, attrs]


def groups_sql(d, n_users, n_groups, bench_sizes):
    group_data = d.obj("'schemas'", d.arr(d.lit(bc.GROUP_URN)), "'externalId'", "'grp-' || s.g",
                       "'displayName'", "'Group ' || %s" % d.pad("s.g", 4))
    stmts = [
        "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, external_id, "
        "display_name, display_name_lc, active, created, last_modified, version, password_hash, "
        "data) SELECT '%s', %s, 'Group', NULL, NULL, 'grp-' || s.g, 'Group ' || %s, "
        "'group ' || %s, NULL, %s, %s, 1, NULL, %s FROM %s ORDER BY s.g"
        % (bc.TENANT, d.hashed_id("s.g", "9"), d.pad("s.g", 4), d.pad("s.g", 4), d.ts("30 * s.g"),
           d.ts("30 * s.g"), group_data, d.series(n_groups, "g")),
        # user i belongs to group (i % G) + 1
        "INSERT INTO group_members (tenant, group_id, member_id, member_type) "
        "SELECT '%s', %s, u.id, 'User' FROM bench_u u ORDER BY u.i %% %d, u.id"
        % (bc.TENANT, d.hashed_id("(u.i %% %d) + 1" % n_groups, "9"), n_groups),
    ]
    for size in bench_sizes:
        gid = bc.bench_group_id(size)
        data = d.obj("'schemas'", d.arr(d.lit(bc.GROUP_URN)), "'externalId'", "'bench-%d'" % size,
                     "'displayName'", "'bench-members-%d'" % size)
        stmts.append(
            "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, external_id, "
            "display_name, display_name_lc, active, created, last_modified, version, password_hash, "
            "data) VALUES ('%s', '%s', 'Group', NULL, NULL, 'bench-%d', 'bench-members-%d', "
            "'bench-members-%d', NULL, '%s', '%s', 1, NULL, %s)"
            % (bc.TENANT, gid, size, size, size, bc.ts(0), bc.ts(0), data))
        stmts.append(
            "INSERT INTO group_members (tenant, group_id, member_id, member_type) "
            "SELECT '%s', '%s', u.id, 'User' FROM bench_u u WHERE u.i <= %d ORDER BY u.id"
            % (bc.TENANT, gid, size))
    return stmts


# ---------------------------------------------------------------------------------------------
# Executors


class SqliteExec:
    def __init__(self, db):
        self.path = bc.sqlite_path(db)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=DELETE")  # bulk load without a WAL copy of it
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-2000000")
        self.conn.execute("PRAGMA temp_store=MEMORY")

    def run(self, stmts):
        self.conn.execute("BEGIN")
        for s in stmts:
            self.conn.execute(s)
        self.conn.execute("COMMIT")

    def scalar(self, sql):
        return self.conn.execute(sql).fetchone()[0]

    def analyze(self):
        self.conn.execute("ANALYZE")

    def finish(self):
        self.conn.execute("PRAGMA journal_mode=WAL")  # what scimd sets on every connection
        self.conn.close()


class PgExec:
    def __init__(self, db):
        self.db = db

    def run(self, stmts):
        bc.psql(self.db, "SET maintenance_work_mem = '1GB';\nSET work_mem = '256MB';\nBEGIN;\n" +
                ";\n".join(stmts) + ";\nCOMMIT;\n")

    def scalar(self, sql):
        return bc.pg_rows(self.db, sql)[0][0]

    def analyze(self):
        bc.psql(self.db, "VACUUM (ANALYZE);\n")

    def finish(self):
        pass


def fresh_db(db):
    if bc.is_pg(db):
        base, name = db.rsplit("/", 1)
        admin = base + "/postgres"
        bc.psql(admin, 'DROP DATABASE IF EXISTS "%s";\nCREATE DATABASE "%s";\n' % (name, name))
    else:
        p = bc.sqlite_path(db)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(p + suffix):
                os.remove(p + suffix)


def index_defs(ex, pg):
    """{index name: definition} of our three tables, as the database reports them."""
    if pg:
        rows = bc.pg_rows(ex.db, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                                 "AND tablename IN ('resources', 'attr_values', 'group_members')")
    else:
        rows = ex.conn.execute("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' "
                               "AND tbl_name IN ('resources', 'attr_values', 'group_members')").fetchall()
    return {r[0]: r[1] for r in rows}


def seed(args):
    db = args.db
    pg = bc.is_pg(db)
    d = Dialect(pg)
    t0 = time.time()
    if args.fresh:
        fresh_db(db)
    bc.migrate(args.scimd, db)
    ex = PgExec(db) if pg else SqliteExec(db)
    existing = int(ex.scalar("SELECT COUNT(*) FROM resources"))
    if existing:
        sys.exit("seed.py: %s already has %d resources (use --fresh)" % (db, existing))
    bench_sizes = [s for s in args.bench_groups if s <= args.users]
    skipped = [s for s in args.bench_groups if s > args.users]
    if skipped:
        log("benchmark groups larger than the user count are skipped: %s" % skipped)
    indexes = migration_indexes("postgresql" if pg else "sqlite")
    log("seeding %s: %d users, %d groups, benchmark groups %s" % (db, args.users, args.groups, bench_sizes))
    before = index_defs(ex, pg)
    missing = [name for name, _ in indexes if name not in before]
    if missing:
        sys.exit("seed.py: indexes %s of the migration files are not in the migrated database" % missing)
    # Indexes a migration creates conditionally (PostgreSQL's pg_trgm ones, made in a DO block) are
    # rebuilt from the definition the database reports.
    names = {name for name, _ in indexes}
    extra = [(n, sql) for n, sql in sorted(before.items())
             if n not in names and sql and not n.endswith("_pkey") and not n.startswith("sqlite_")]
    ex.run(["DROP INDEX IF EXISTS %s" % name for name, _ in indexes + extra])
    ex.run(["DROP TABLE IF EXISTS bench_u", "DROP TABLE IF EXISTS bench_first",
            "DROP TABLE IF EXISTS bench_last", "DROP TABLE IF EXISTS bench_dept"]
           + values_table("bench_first", bc.FIRST) + values_table("bench_last", bc.LAST)
           + values_table("bench_dept", bc.DEPT))
    t = time.time()
    ex.run(user_table_sql(d, args.users))
    log("bench_u built in %.1f s" % (time.time() - t))
    t = time.time()
    for lo in range(1, args.users + 1, CHUNK):
        ex.run(users_sql(d, lo, min(args.users, lo + CHUNK - 1), bench_sizes))
        log("  users %d..%d" % (lo, min(args.users, lo + CHUNK - 1)))
    log("users (resources + attr_values) in %.1f s" % (time.time() - t))
    t = time.time()
    ex.run(groups_sql(d, args.users, args.groups, bench_sizes))
    log("groups and members in %.1f s" % (time.time() - t))
    ex.run(["DROP TABLE bench_u", "DROP TABLE bench_first", "DROP TABLE bench_last",
            "DROP TABLE bench_dept"])
    t = time.time()
    for name, sql in indexes + extra:
        t1 = time.time()
        ex.run([sql.rstrip(";")])
        log("  index %s in %.1f s" % (name, time.time() - t1))
    log("indexes in %.1f s" % (time.time() - t))
    after = index_defs(ex, pg)
    if after != before:
        sys.exit("seed.py: recreated indexes differ from the ones `scimd migrate` made:\n%s\n%s" % (before, after))
    # Migration 012 (issue 12) keeps per-tenant, per-type counts that the store updates on every
    # create/delete; rows seeded here bypass the store, so the counts are rebuilt from the rows.
    has_counts = ex.scalar("SELECT to_regclass('resource_counts') IS NOT NULL" if pg else
                           "SELECT COUNT(*) FROM sqlite_master WHERE name = 'resource_counts'")
    if str(has_counts) in ("t", "1", "True"):
        ex.run(["DELETE FROM resource_counts",
                "INSERT INTO resource_counts (tenant, resource_type, shard, n) SELECT tenant, "
                "resource_type, 0, COUNT(*) FROM resources GROUP BY tenant, resource_type"])
        log("resource_counts rebuilt")
    t = time.time()
    ex.analyze()
    log("analyze in %.1f s" % (time.time() - t))
    counts = {tb: int(ex.scalar("SELECT COUNT(*) FROM %s" % tb)) for tb in TABLES}
    ex.finish()
    log("done in %.1f s: %s" % (time.time() - t0, counts))
    expected_members = args.users + sum(bench_sizes)
    expected = {"resources": args.users + args.groups + len(bench_sizes),
                "attr_values": args.users * len(ATTR_ROWS), "group_members": expected_members}
    if counts != expected:
        sys.exit("seed.py: row counts %s, expected %s" % (counts, expected))


# ---------------------------------------------------------------------------------------------
# verify: the real server returns the seeded data


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_user(resource, i, n_groups, bench_sizes):
    f = bc.user_fields(i, bench_sizes)
    want = bc.user_resource(i)
    expect(resource["id"] == f["id"], "id %s != %s" % (resource["id"], f["id"]))
    for key in ("schemas", "externalId", "userName", "name", "displayName", "emails", "active",
                bc.ENTERPRISE_URN):
        expect(resource.get(key) == want[key], "user %d: %s is %r, expected %r" % (i, key, resource.get(key), want[key]))
    meta = resource["meta"]
    expect(meta["created"] == f["created"] and meta["lastModified"] == f["modified"] and
           meta["version"] == 'W/"%d"' % f["version"] and meta["resourceType"] == "User", "user %d: meta %r" % (i, meta))
    gid = bc.group_id((i % n_groups) + 1)
    groups = [g["value"] for g in resource.get("groups", [])]
    expect(gid in groups, "user %d: group %s not in %r" % (i, gid, groups))


def verify(args):
    n = args.users
    token = bc.create_token(args.scimd, args.db, "bench-verify-%d" % os.getpid())
    with bc.Server(args.scimd, args.db) as srv:
        c = bc.Client(srv.port, token)
        st, body = c.get("/scim/v2/Users?count=0")
        expect(st == 200 and body["totalResults"] == n, "Users totalResults %r" % (body,))
        bench_sizes = [s for s in args.bench_groups if s <= n]
        st, body = c.get("/scim/v2/Groups?count=0")
        expect(body["totalResults"] == args.groups + len(bench_sizes), "Groups totalResults %r" % body)
        for i in sorted({1, 2, 10, n // 2 + 1, n - 1, n} - {0}):
            if i < 1 or i > n:
                continue
            f = bc.user_fields(i)
            st, body = c.get("/scim/v2/Users/" + f["id"])
            expect(st == 200, "GET user %d: %d %r" % (i, st, body))
            check_user(body, i, args.groups, bench_sizes)
            filters = [
                'userName eq "%s"' % f["userName"].lower(),   # case-insensitive
                'userName eq "%s"' % f["userName"],
                'externalId eq "%s"' % f["externalId"],
                'emails.value eq "%s"' % f["work"],
                'emails.value eq "%s"' % f["home"].upper(),
                'name.familyName sw "%s"' % f["family"],
                'name.familyName sw "%s"' % f["family"][:-1].upper(),
                'emails[type eq "work" and value eq "%s"]' % f["work"],
                'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "%s"' % f["employeeNumber"],
            ]
            for flt in filters:
                st, body = c.get("/scim/v2/Users?filter=" + bc.q(flt))
                expect(st == 200, "filter %s: %d %r" % (flt, st, body))
                ids = [r["id"] for r in body["Resources"]]
                expect(f["id"] in ids, "filter %s: user %d missing from %r" % (flt, i, ids))
                if "sw" not in flt:
                    expect(body["totalResults"] == 1, "filter %s: totalResults %d" % (flt, body["totalResults"]))
                    check_user(body["Resources"][0], i, args.groups, bench_sizes)
            # the one-letter-shorter prefix matches at most the 26 codes sharing it
            st, body = c.get("/scim/v2/Users?filter=" + bc.q('name.familyName sw "%s"' % f["family"][:-1]))
            expect(1 <= body["totalResults"] <= 26, "sw prefix totalResults %d" % body["totalResults"])
            st, body = c.get("/scim/v2/Users?filter=" + bc.q('active eq %s' % ("true" if f["active"] else "false")) + "&count=1")
            expect(st == 200 and body["totalResults"] == (n - n // 10 if f["active"] else n // 10),
                   "active eq totalResults %r" % body.get("totalResults"))
        g = 1
        st, body = c.get("/scim/v2/Groups/" + bc.group_id(g))
        expect(st == 200 and body["displayName"] == "Group 0001" and body["externalId"] == "grp-1",
               "group 1: %r" % (body,))
        want = sorted(bc.user_id(i) for i in range(1, n + 1) if (i % args.groups) + 1 == g)
        expect(sorted(m["value"] for m in body.get("members", [])) == want, "group 1 members")
        for size in bench_sizes:
            st, body = c.get("/scim/v2/Groups/" + bc.bench_group_id(size))
            expect(st == 200 and len(body["members"]) == size, "bench group %d has %d members" % (size, len(body.get("members", []))))
            st, body = c.get("/scim/v2/Groups?filter=" + bc.q('displayName eq "bench-members-%d"' % size) + "&excludedAttributes=members")
            expect(body["totalResults"] == 1, "bench group %d by displayName" % size)
    print("verify: OK (%s, %d users)" % (args.db, n))


# ---------------------------------------------------------------------------------------------
# fidelity: SQL-seeded rows == rows the store writes through the API


def dump(db):
    """Rows of our three tables keyed by natural keys instead of ids."""
    q_res = ("SELECT tenant, id, resource_type, user_name, user_name_lc, external_id, display_name, "
             "display_name_lc, active, version, password_hash, data FROM resources")
    q_av = "SELECT tenant, resource_type, resource_id, path, ord, value, value_lc, num FROM attr_values"
    q_gm = "SELECT tenant, group_id, member_id, member_type FROM group_members"
    if bc.is_pg(db):
        rows = [bc.pg_rows(db, q_res.replace("data FROM", "data::text FROM")), bc.pg_rows(db, q_av), bc.pg_rows(db, q_gm)]
    else:
        conn = sqlite3.connect(bc.sqlite_path(db))
        rows = [[[None if v is None else str(v) for v in r] for r in conn.execute(sql)]
                for sql in (q_res, q_av, q_gm)]
        conn.close()
    res, av, gm = rows
    key = {}
    for r in res:
        key[r[1]] = r[3] if r[2] == "User" else r[6]  # userName / displayName
    resources = sorted([r[0], key[r[1]], r[2]] + r[3:11] + [json.dumps(json.loads(r[11]), sort_keys=True)] for r in res)
    raw_data = sorted((key[r[1]], r[11]) for r in res)
    attrs = sorted(tuple([r[0], r[1], key[r[2]]] + r[3:]) for r in av)
    members = sorted((r[0], key[r[1]], key[r[2]], r[3]) for r in gm)
    return resources, attrs, members, raw_data


def fidelity(args):
    n, groups, sizes = 5, 2, [2, 3]
    ns = argparse.Namespace(db=args.db, users=n, groups=groups, bench_groups=sizes, fresh=True,
                            scimd=args.scimd)
    seed(ns)
    fresh_db(args.api_db)
    bc.migrate(args.scimd, args.api_db)
    token = bc.create_token(args.scimd, args.api_db, "bench-fidelity")
    with bc.Server(args.scimd, args.api_db) as srv:
        c = bc.Client(srv.port, token)
        ids = {}
        for i in range(1, n + 1):
            st, body = c.request("POST", "/scim/v2/Users", bc.user_resource(i))
            expect(st == 201, "POST user %d: %d %r" % (i, st, body))
            ids[i] = body["id"]
        for g in range(1, groups + 1):
            body = bc.group_resource(g)
            body["members"] = [{"value": ids[i]} for i in range(1, n + 1) if (i % groups) + 1 == g]
            st, out = c.request("POST", "/scim/v2/Groups", body)
            expect(st == 201, "POST group %d: %d %r" % (g, st, out))
        for size in sizes:
            body = bc.bench_group_resource(size)
            body["members"] = [{"value": ids[i]} for i in range(1, size + 1)]
            st, out = c.request("POST", "/scim/v2/Groups", body)
            expect(st == 201, "POST bench group %d: %d %r" % (size, st, out))
    seeded, api = dump(args.db), dump(args.api_db)
    ok = True
    for name, a, b in zip(("resources", "attr_values", "group_members"), seeded[:3], api[:3]):
        if a != b:
            ok = False
            print("fidelity: %s differ" % name)
            for row in a:
                if row not in b:
                    print("  only seeded:", row)
            for row in b:
                if row not in a:
                    print("  only API:   ", row)
        else:
            print("fidelity: %s identical (%d rows)" % (name, len(a)))
    if not bc.is_pg(args.db):
        if seeded[3] != api[3]:
            ok = False
            print("fidelity: data JSON text differs byte-wise")
            for x, y in zip(seeded[3], api[3]):
                if x != y:
                    print("  seeded:", x, "\n  API:   ", y)
        else:
            print("fidelity: data JSON text identical byte for byte (%d resources)" % len(seeded[3]))
    if not ok:
        sys.exit(1)
    print("fidelity: OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["seed", "verify", "fidelity"])
    ap.add_argument("--db", required=True)
    ap.add_argument("--api-db", help="fidelity: the database the API writes to")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--bench-groups", default="10,10000,100000",
                    help="sizes of the extra benchmark groups (members: users 1..size)")
    ap.add_argument("--fresh", action="store_true", help="delete / recreate the database first")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    args.bench_groups = [int(x) for x in args.bench_groups.split(",") if x]
    if args.command == "seed":
        seed(args)
    elif args.command == "verify":
        verify(args)
    else:
        if not args.api_db:
            sys.exit("fidelity needs --api-db")
        fidelity(args)


if __name__ == "__main__":
    main()
