"""PostgreSQL restarts under a running scimd (issue 9): a failover or minor upgrade.

Before the change scimd answered 503 for good after the database came back (its pooled
connections were never replaced) and /readyz stayed 503. Now: /healthz stays 200, requests
meanwhile get 503, /readyz is 200 again within seconds of the database's return, writes succeed,
every write acknowledged with 201 is readable, and the delivery engine delivers again.

PostgreSQL only. The test starts its own throwaway cluster (tests/support/pg_cluster.sh), since
restarting the shared one would break the tests running beside it."""

import os
import shutil
import subprocess
import threading
import time
import unittest

from delivery_support import (SECRETS_ENV, set_subject, start_fakes, stop_fakes, targets_yaml,
                              wait_until)
from it_support import query
from scimd_harness import (USER_URN, Client, ScimdServer, create_token, free_port, source_dir,
                           test_db_kind, unique)

DOWN_SECONDS = 2
READY_WITHIN = 10.0  # seconds after the database is back


def pg_cluster(*args):
    script = os.path.join(source_dir(), "tests", "support", "pg_cluster.sh")
    proc = subprocess.run(["bash", script, *args], capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        raise RuntimeError(f"pg_cluster.sh {' '.join(args)}: {proc.stderr.strip()}")


class DatabaseRestartTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if test_db_kind() != "postgresql":
            raise unittest.SkipTest("PostgreSQL restarts")
        cls.pg_dir = f"/tmp/scimd-pgr-{os.getpid()}"
        cls.pg_port = free_port()
        pg_cluster("start", cls.pg_dir, str(cls.pg_port))
        cls.fakes = {}
        try:
            cls.fakes = start_fakes(("webhook",))
            cls.server = ScimdServer(db=f"postgresql://scim@127.0.0.1:{cls.pg_port}/scim",
                                     config_yaml=targets_yaml(cls.fakes,
                                                              {"max_attempts": 100,
                                                               "initial_backoff_ms": 50,
                                                               "max_backoff_ms": 500}),
                                     env=SECRETS_ENV, tag="dbrestart")
            cls.server.start()
            cls.token = create_token(cls.server.db, "admin")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "server", None) is not None:
            cls.server.cleanup()
        stop_fakes(getattr(cls, "fakes", {}))
        pg_cluster("stop", cls.pg_dir)
        shutil.rmtree(cls.pg_dir, ignore_errors=True)

    def setUp(self):
        self.client = Client(self.server.port, self.token)

    def tearDown(self):
        self.client.close()

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            print(self.server.log_tail(60))
        return out

    def post_user(self, client=None):
        name = unique("restart")
        resp = (client or self.client).post("/scim/v2/Users",
                                            {"schemas": [USER_URN], "userName": name})
        return name, resp

    def restart_database(self):
        pg_cluster("restart", self.pg_dir, str(DOWN_SECONDS))
        return time.monotonic()

    def wait_ready(self, back_at):
        def ready():
            resp = self.client.get("/readyz")
            assert resp.status == 200, resp
            return True
        wait_until(ready, timeout=READY_WITHIN, interval=0.1, message="/readyz 200")
        self.assertLess(time.monotonic() - back_at, READY_WITHIN)

    def assertReadable(self, names):
        for name in names:
            found = self.client.get("/scim/v2/Users" + query(filter=f'userName eq "{name}"'))
            self.assertEqual(found.status, 200, found)
            self.assertEqual(found.json["totalResults"], 1, f"acknowledged {name} is lost")

    def assertDelivered(self, names):
        """The webhook receiver got a SET for each of these users."""
        ids = set()
        for name in names:
            found = self.client.get("/scim/v2/Users" + query(filter=f'userName eq "{name}"'))
            ids.add(found.json["Resources"][0]["id"])

        def delivered():
            got = {set_subject(e)[1] for e in self.fakes["webhook"].records()["events"]}
            missing = ids - got
            assert not missing, f"{len(missing)} not delivered"
            return True
        wait_until(delivered, timeout=30, interval=0.2, message="deliveries after the restart")

    def test_restart_while_idle(self):
        before, resp = self.post_user()
        self.assertEqual(resp.status, 201, resp)
        back_at = self.restart_database()
        self.assertEqual(self.client.get("/healthz").status, 200)
        self.wait_ready(back_at)
        after, resp = self.post_user()
        self.assertEqual(resp.status, 201, resp)
        self.assertReadable([before, after])
        self.assertDelivered([before, after])

    def test_restart_under_write_load(self):
        acknowledged, statuses, stop = [], [], threading.Event()

        def writer():
            client = Client(self.server.port, self.token, timeout=30)
            while not stop.is_set():
                try:
                    name, resp = self.post_user(client)
                except OSError as exc:  # scimd must keep answering; record and go on
                    statuses.append(type(exc).__name__)
                    client.close()
                    continue
                statuses.append(resp.status)
                if resp.status == 201:
                    acknowledged.append(name)
                elif resp.status == 503 and resp.headers.get("Retry-After") is None:
                    statuses.append("503 without Retry-After")
                elif resp.status != 503:
                    statuses.append(f"unexpected {resp.status}: {resp.body[:200]!r}")
            client.close()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            time.sleep(1.0)
            back_at = self.restart_database()
            self.wait_ready(back_at)
            time.sleep(1.0)
        finally:
            stop.set()
            thread.join(timeout=60)
        self.assertIn(503, statuses, "the restart was not noticed (test did not exercise it)")
        odd = [s for s in statuses if s not in (201, 503)]
        self.assertEqual(odd, [], "answers other than 201 and 503")
        # After the outage writes succeed again, every one of them.
        after = []
        for _ in range(20):
            name, resp = self.post_user()
            self.assertEqual(resp.status, 201, resp)
            after.append(name)
        self.assertReadable(acknowledged + after)
        self.assertDelivered(acknowledged[-5:] + after[-5:])


if __name__ == "__main__":
    unittest.main()
