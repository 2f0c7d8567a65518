#!/usr/bin/env python3
"""Captures the query plans of the statements scimd really runs for the benchmarked requests.

    plans.py --pg-db URL --pg-log CLUSTER_DIR/postgres.log --users N [--sqlite-db sqlite:PATH]
             [--out plans.md]

PostgreSQL: for the duration of one scimd run, the database gets
`session_preload_libraries = 'auto_explain'`, `auto_explain.log_min_duration = 0`,
`auto_explain.log_analyze = on`, `auto_explain.log_buffers = on` and
`log_min_duration_statement = 0` (ALTER DATABASE ... SET, reset afterwards), one request of each
kind is sent, and the plans (EXPLAIN ANALYZE, as executed by the server) and statements with
their parameters are read back from the server log.

SQLite: the same statements, in SQLite's spelling (filter_sql.cc: lower() for translate(),
LIKE ... ESCAPE '\\', no COLLATE "C", co/ew on attr_values through value_lc), with the same
parameters, go through EXPLAIN QUERY PLAN on the SQLite database (with the ANALYZE statistics,
and once more without them: sqlite_stat1 dropped inside a transaction that is rolled back, as in
a database nobody ran ANALYZE on), and are timed (median of 5 runs through python's sqlite3).
"""

import argparse
import os
import re
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402


def requests_for(n):
    i = n // 2 + 7
    f = bc.user_fields(i)
    return [
        ("userName eq", "/scim/v2/Users?filter=" + bc.q('userName eq "%s"' % f["userName"])),
        ("externalId eq", "/scim/v2/Users?filter=" + bc.q('externalId eq "%s"' % f["externalId"])),
        ("emails.value eq", "/scim/v2/Users?filter=" + bc.q('emails.value eq "%s"' % f["work"])),
        ("name.familyName sw", "/scim/v2/Users?filter=" + bc.q('name.familyName sw "%s"' % f["family"])),
        ("emails.value co", "/scim/v2/Users?filter=" + bc.q('emails.value co "u%d@home"' % i)),
        ("sortBy=name.familyName", "/scim/v2/Users?sortBy=name.familyName&count=100"),
        ("sortBy=userName", "/scim/v2/Users?sortBy=userName&count=100"),
        # A cursor is "<last id>.<total>" (src/store/listing.cc): the total of the walk's first page.
        ("cursor page", "/scim/v2/Users?count=100&cursor=%s.%d" % (f["id"], n)),
    ]


def pg_settings(db, on):
    name = db.rsplit("/", 1)[1]
    if on:
        sql = "".join('ALTER DATABASE "%s" SET %s;\n' % (name, s) for s in (
            "session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0",
            "auto_explain.log_analyze = on", "auto_explain.log_buffers = on",
            "log_min_duration_statement = 0"))
    else:
        sql = 'ALTER DATABASE "%s" RESET ALL;\n' % name
    bc.psql(db, sql)


MARK = "bench-plan-marker"


def parse_log(text):
    """[(sql, params, plan)] for every statement executed in the log excerpt. The server logs,
    per statement: `duration: ... execute <name>: SQL`, a DETAIL line with the parameters, then
    auto_explain's `duration: ... plan:` entry whose `Query Text:` repeats the SQL."""
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
    out = []
    for e in entries:
        m = re.search(r"LOG:\s+duration: [\d.]+ ms\s+plan:\n\s*Query Text: ([^\n]*)\n(.*)", e, re.S)
        if m:
            sql = m.group(1).strip()
            for item in reversed(out):
                if item[0] == sql and item[2] is None:
                    item[2] = m.group(2).rstrip()
                    break
            continue
        m = re.search(r"LOG:\s+duration: [\d.]+ ms\s+execute [^:]*: (.*)", e, re.S)
        if m:
            out.append([m.group(1).strip(), {}, None])
            continue
        d = re.search(r"DETAIL:\s+parameters: (.*)", e, re.S)
        if d and out and not out[-1][1]:
            for k, v in re.findall(r"\$(\d+) = '((?:[^']|'')*)'", d.group(1)):
                out[-1][1][int(k)] = v.replace("''", "'")
    return [tuple(x) for x in out]


def to_sqlite(sql):
    # co on attr_values (filter_sql.cc InsideTruncated): SQLite reads value_lc from the covering
    # look-up index and the full value only where value_lc is cut (ew adds a NOT-cut guard).
    s = re.sub(r"translate\((\w+)\.value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'\) LIKE (\$\d+)",
               lambda m: ("{a}.value_lc >= '' AND ({a}.value_lc LIKE {p} OR (length(CAST({a}.value_lc AS BLOB)) > 996"
                          " AND lower({a}.value) LIKE {p}))").format(a=m.group(1), p=m.group(2)), sql)
    s = re.sub(r"translate\(([^,]+), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'\)", r"lower(\1)", s)
    s = s.replace(' COLLATE "C"', "")
    s = re.sub(r"LIKE (\$\d+)", r"LIKE \1 ESCAPE '\\'", s)
    return s


def sqlite_plan(conn, sql, params, with_stats):
    names = sorted(params)
    q = re.sub(r"\$(\d+)", lambda m: "?%s" % m.group(1), sql)
    args = {}
    bind = [params.get(i) for i in range(1, (max(names) if names else 0) + 1)]
    if not with_stats:
        conn.execute("BEGIN")
        conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        conn.execute("DROP TABLE IF EXISTS sqlite_stat4")
    try:
        rows = conn.execute("EXPLAIN QUERY PLAN " + q, bind).fetchall()
        times = []
        for _ in range(5 if with_stats else 3):
            t = time.perf_counter()
            conn.execute(q, bind).fetchall()
            times.append((time.perf_counter() - t) * 1000)
            if times[-1] > 2000:
                break
    finally:
        if not with_stats:
            conn.execute("ROLLBACK")
    depth = {0: 0}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * (depth[node] - 1) + detail)
    return "\n".join(lines), statistics.median(times)


def capture(args, db, users, names, timeout):
    """{name: (path, [(sql, params, plan)])} for the requests `names` against `db`."""
    token = bc.create_token(args.scimd, db, "bench-plans-%d" % int(time.time()))
    pg_settings(db, True)
    captured = {}
    try:
        with bc.Server(args.scimd, db) as srv:
            c = bc.Client(srv.port, token, timeout=timeout)
            for name, path in requests_for(users):
                if name not in names:
                    continue
                for attempt in range(2):  # the second run is the one kept: warm caches
                    start = os.path.getsize(args.pg_log)
                    st, body = c.get(path)
                    assert st == 200, (name, st, body)
                    time.sleep(0.5)
                    with open(args.pg_log, errors="replace") as f:
                        f.seek(start)
                        text = f.read()
                parsed = parse_log(text)
                stmts = [s for s in parsed if " resources r " in s[0]]  # page, count, sorted page
                groups = [s for s in parsed if "FROM group_members m JOIN resources g" in s[0]]
                stmts += groups[:1]  # the per-user groups look-up, once
                captured[name] = (path, stmts)
    finally:
        pg_settings(db, False)
    return captured


def shown_params(params):
    """The parameters as `$1 = 'v', ...`; a long IN list (a page's ids) shows its first values."""
    items = ["$%d = '%s'" % (k, v) for k, v in sorted(params.items())]
    if len(items) > 8:
        items = items[:4] + ["... (%d parameters in all)" % len(items)]
    return ", ".join(items)


def short_plan(plan):
    """A plan with its long literal arrays (a page's ids in ANY ('{...}')) cut to 3 values."""
    if not plan:
        return plan
    return re.sub(r"'\{([^}]{200,})\}'", lambda m: "'{%s,...}'" % ",".join(m.group(1).split(",")[:3]), plan)


def literal_sql(sql, params):
    return re.sub(r"\$(\d+)", lambda m: "'%s'" % params[int(m.group(1))].replace("'", "''"), sql)


def sqlite_section(out, conn, sql, params):
    lite = to_sqlite(sql)
    for stats in (True, False):
        try:
            text, ms = sqlite_plan(conn, lite, params, stats)
        except sqlite3.Error as e:
            text, ms = "error: %s" % e, float("nan")
        out.write("SQLite EXPLAIN QUERY PLAN (%s; statement alone through python's sqlite3: %.2f ms):\n\n```\n%s\n```\n\n"
                  % ("with ANALYZE statistics" if stats else "without sqlite_stat1", ms, text))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-db", required=True)
    ap.add_argument("--pg-log", required=True)
    ap.add_argument("--sqlite-db")
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--slow", default="",
                    help="requests captured on --small-pg-db instead (their PostgreSQL plan at --users is "
                         "shown by EXPLAIN without ANALYZE)")
    ap.add_argument("--small-pg-db")
    ap.add_argument("--small-users", type=int, default=1000)
    ap.add_argument("--out", default="/tmp/scimd-bench/plans.md")
    ap.add_argument("--scimd", default=bc.DEFAULT_SCIMD)
    args = ap.parse_args()
    slow = [x for x in args.slow.split(",") if x]
    names = [n for n, _ in requests_for(args.users)]
    captured = capture(args, args.pg_db, args.users, [n for n in names if n not in slow], 600)
    small = {}
    if args.small_pg_db and slow:
        small = capture(args, args.small_pg_db, args.small_users, slow, 600)
    conn = sqlite3.connect(bc.sqlite_path(args.sqlite_db), isolation_level=None) if args.sqlite_db else None
    with open(args.out, "w") as out:
        out.write("# Query plans at %d users (captured %s)\n\n" % (args.users, time.strftime("%Y-%m-%d %H:%M")))
        for name in names:
            if name in captured:
                path, stmts = captured[name]
                out.write("## %s\n\nRequest: `GET %s`\n\n" % (name, path))
                for sql, params, plan in stmts:
                    out.write("Statement (PostgreSQL, as logged):\n\n```sql\n%s\n```\n\nParameters: `%s`\n\n" % (
                        sql, shown_params(params)))
                    out.write("PostgreSQL plan at %d users (auto_explain: EXPLAIN ANALYZE BUFFERS of the server's own "
                              "execution):\n\n```\n%s\n```\n\n" % (args.users, short_plan(plan) or "(none logged)"))
                    if conn is not None:
                        sqlite_section(out, conn, sql, params)
            elif name in small:
                path, stmts = small[name]
                out.write("## %s\n\nRequest: `GET %s` (too slow on PostgreSQL at %d users to run to the end: "
                          "captured at %d users)\n\n" % (name, path, args.users, args.small_users))
                for sql, params, plan in stmts:
                    out.write("Statement (PostgreSQL, as logged at %d users):\n\n```sql\n%s\n```\n\nParameters: `%s`\n\n" % (
                        args.small_users, sql, shown_params(params)))
                    out.write("PostgreSQL plan at %d users (auto_explain, EXPLAIN ANALYZE BUFFERS):\n\n```\n%s\n```\n\n"
                              % (args.small_users, short_plan(plan) or "(none logged)"))
                    big = bc.psql(args.pg_db, "EXPLAIN " + literal_sql(sql, params) + ";\n", "-A", "-t")
                    out.write("PostgreSQL plan at %d users (EXPLAIN only, same statement):\n\n```\n%s\n```\n\n"
                              % (args.users, short_plan(big.rstrip())))
                    if conn is not None:
                        sqlite_section(out, conn, sql, params)
    print("plans written to", args.out)


if __name__ == "__main__":
    main()
