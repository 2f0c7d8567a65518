"""Retention (issue 9): `retention: {delivered_days, audit_days}` makes a running scimd delete old
delivered outbox events and old audit rows by itself; recent rows and the newest event of each
resource stay. Rows are backdated between two runs of scimd on one database."""

import sqlite3
import unittest

from delivery_support import wait_until
from scimd_harness import (PATCH_URN, USER_URN, Client, ScimdServer, create_token, drop_db_url,
                           fresh_db_url, psql, test_db_kind, unique)

OLD = "2020-01-01T00:00:00.000Z"


class RetentionTest(unittest.TestCase):

    def setUp(self):
        self.db = fresh_db_url("retention")

    def tearDown(self):
        drop_db_url(self.db)

    def sql(self, statement):
        """Runs one statement on the test database; returns the first column of every row."""
        if test_db_kind() == "sqlite":
            with sqlite3.connect(self.db[len("sqlite:"):], timeout=10) as conn:
                return [row[0] for row in conn.execute(statement).fetchall()]
        out = psql(statement, dbname=self.db.rsplit("/", 1)[1])
        return [int(line) if line.strip().isdigit() else line
                for line in out.splitlines() if line.strip()]

    def write_history(self):
        """Two users: one created and patched twice, one created. Returns their ids."""
        with ScimdServer(db=self.db, tag="retention1") as server:
            client = Client(server.port, create_token(self.db, "admin"))
            ids = []
            for _ in range(2):
                resp = client.post("/scim/v2/Users", {"schemas": [USER_URN],
                                                      "userName": unique("kept")})
                self.assertEqual(resp.status, 201, resp)
                ids.append(resp.json["id"])
            for title in ("a", "b"):
                resp = client.patch(f"/scim/v2/Users/{ids[0]}", {
                    "schemas": [PATCH_URN],
                    "Operations": [{"op": "replace", "path": "title", "value": title}]})
                self.assertEqual(resp.status, 200, resp)
            client.close()
        return ids

    def test_old_rows_are_pruned_recent_and_newest_kept(self):
        self.write_history()
        self.assertEqual(len(self.sql("SELECT seq FROM outbox")), 4)
        newest = self.sql("SELECT MAX(seq) FROM outbox GROUP BY resource_id ORDER BY 1")
        self.sql(f"UPDATE outbox SET created = '{OLD}'")
        self.sql(f"UPDATE audit_log SET time = '{OLD}'")
        config = "retention: {delivered_days: 30, audit_days: 365}\n"
        with ScimdServer(db=self.db, config_yaml=config, tag="retention2") as server:
            client = Client(server.port, create_token(self.db, "admin2"))
            resp = client.post("/scim/v2/Users", {"schemas": [USER_URN], "userName": unique("new")})
            self.assertEqual(resp.status, 201, resp)

            def pruned():
                outbox = self.sql("SELECT seq FROM outbox ORDER BY seq")
                # Resource rows only: token creation by the CLI is audited too (recent rows).
                audit = self.sql("SELECT COUNT(*) FROM audit_log WHERE resource_type = 'User'")
                assert outbox == sorted(newest + [max(outbox)]) and audit == [1], (outbox, audit)
                return True
            wait_until(pruned, timeout=15, interval=0.2, message="retention to prune")
            self.assertEqual(client.get("/scim/v2/Users").json["totalResults"], 3)
            client.close()

    def test_without_retention_nothing_is_pruned(self):
        self.write_history()
        self.sql(f"UPDATE outbox SET created = '{OLD}'")
        self.sql(f"UPDATE audit_log SET time = '{OLD}'")
        with ScimdServer(db=self.db, tag="retention3") as server:
            client = Client(server.port, create_token(self.db, "admin3"))
            self.assertEqual(client.get("/readyz").status, 200)
            client.close()
        self.assertEqual(len(self.sql("SELECT seq FROM outbox")), 4)
        self.assertEqual(
            self.sql("SELECT COUNT(*) FROM audit_log WHERE resource_type = 'User'"), [4])


if __name__ == "__main__":
    unittest.main()
