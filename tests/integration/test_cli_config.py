"""`scimd --version` and `scimd config check --config FILE` (issue 9): exit codes and one-line
errors naming the key; `scimd serve` refuses what `config check` refuses."""

import os
import shutil
import subprocess
import tempfile
import unittest

from scimd_harness import drop_db_url, fresh_db_url, run_cli, scimd_bin

GOOD = """\
listen: 127.0.0.1:8080
database: {db}
public_url: https://id.example.com/scim/v2
limits: {{max_body_bytes: 1048576, bulk_max_operations: 1000, rate_limit_per_minute: 6000,
         max_connections: 10000, max_values_per_attribute: 1000}}
log: {{format: json}}
retention: {{delivered_days: 30, audit_days: 365}}
targets:
  - name: crm
    type: crm
    url: http://127.0.0.1:9103
    token: ${{SCIMD_TEST_CRM_TOKEN}}
"""


class ConfigCheckTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = fresh_db_url("configcheck")

    @classmethod
    def tearDownClass(cls):
        drop_db_url(cls.db)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scimd-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, text):
        path = os.path.join(self.dir, "scimd.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def check(self, text, env=None):
        return run_cli("config", "check", "--config", self.write(text), check=False,
                       env={"SCIMD_TEST_CRM_TOKEN": "t0k", **(env or {})})

    def assertRefused(self, proc, fragment):
        self.assertNotEqual(proc.returncode, 0, proc)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn(fragment, lines[0])
        self.assertEqual(proc.stdout.strip(), "")

    def test_version(self):
        proc = run_cli("--version")
        self.assertRegex(proc.stdout.strip(), r"^scimd \d+\.\d+\.\d+( \([0-9a-f]{7,40}\))?$")

    def test_good_configuration_is_ok(self):
        proc = self.check(GOOD.format(db=self.db))
        self.assertEqual(proc.returncode, 0, proc)
        self.assertEqual(proc.stdout.strip(), "ok")

    def test_unknown_keys_are_named(self):
        self.assertRefused(self.check(GOOD.format(db=self.db) + "listn: 127.0.0.1:1\n"),
                           "scimd.yaml: listn: unknown key")
        self.assertRefused(self.check("limits: {max_body_byte: 10}\n"),
                           "scimd.yaml: limits.max_body_byte: unknown key")
        self.assertRefused(self.check("retention: {delivered: 3}\n"),
                           "scimd.yaml: retention.delivered: unknown key")

    def test_bad_values_are_named(self):
        self.assertRefused(self.check("limits: {max_body_bytes: -5}\n"),
                           "scimd.yaml: limits.max_body_bytes: must be a positive integer")
        self.assertRefused(self.check("log: {format: yaml}\n"),
                           "scimd.yaml: log.format: must be json or text")
        self.assertRefused(self.check("listen: nowhere\n"), "scimd.yaml: listen: ")
        self.assertRefused(self.check("database: mongodb://x@y/z\n"), "scimd.yaml: database: ")

    def test_missing_environment_variable_is_named(self):
        env = {k: v for k, v in os.environ.items() if k != "SCIMD_TEST_CRM_TOKEN"}
        proc = subprocess.run([scimd_bin(), "config", "check", "--config",
                               self.write(GOOD.format(db=self.db))],
                              capture_output=True, text=True, timeout=60, env=env,
                              stdin=subprocess.DEVNULL)
        self.assertRefused(proc, "targets[0].token: environment variable SCIMD_TEST_CRM_TOKEN "
                                 "is not set")

    def test_adapter_rejects_its_block(self):
        self.assertRefused(self.check("targets: [{name: x, type: nosuch}]\n"),
                           'target "x": unknown type "nosuch"')
        self.assertRefused(self.check("targets: [{name: c, type: crm}]\n"),
                           'target "c": missing required setting "url"')

    def test_serve_refuses_the_same_configuration(self):
        path = self.write("limits: {max_values_per_attribute: 0}\n")
        proc = run_cli("serve", "--config", path, "--db", self.db, "--listen", "127.0.0.1:0",
                       check=False, timeout=30)
        self.assertRefused(proc, "limits.max_values_per_attribute: must be a positive integer")
        path = self.write("targets: [{name: c, type: crm}]\n")
        proc = run_cli("serve", "--config", path, "--db", self.db, "--listen", "127.0.0.1:0",
                       check=False, timeout=30)
        self.assertNotEqual(proc.returncode, 0, proc)
        self.assertIn('target "c": missing required setting "url"', proc.stderr)


if __name__ == "__main__":
    unittest.main()
