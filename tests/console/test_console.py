"""Browser tests of the admin console (console/, served by scimd at /console/).

Debian's chromium + chromium-driver + python3-selenium drive the real page, loaded from a real
scimd (tests/integration/scimd_harness.py) that delivers to the fakes (tests/fakes): the webhook
receiver answers, the Dolibarr fake answers 422 (this record refused) so its deliveries fail. Two tenants: `acme`
(whose admin uses the console) and `globex` (whose users and failed deliveries acme's console
must never show).

Run it (SQLite; the test is registered with ctest as console_browser, labels integration;console):
    SCIMD_BIN=build/scimd /usr/bin/python3 -m unittest -v test_console   # in tests/console
Environment: SCIMD_BIN, SCIMD_SOURCE_DIR as for the integration tests; SCIMD_TEST_LOGS: folder for
the screenshots and the browser log (default: a new temp dir, printed at the end);
SCIMD_CONSOLE_DOCS=1 also copies one screenshot of each page into docs/console/;
SCIMD_CONSOLE_HEADFUL=1 shows the browser (needs a display).
"""

import json
import re
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

_HERE = os.path.dirname(os.path.abspath(__file__))
_SOURCE = os.environ.get("SCIMD_SOURCE_DIR") or os.path.dirname(os.path.dirname(_HERE))
sys.path.insert(0, os.path.join(_SOURCE, "tests", "integration"))

from scimd_harness import (Client, ScimdServer, create_token, drop_db_url,  # noqa: E402
                           fresh_db_url, run_cli, source_dir)
from delivery_support import (SECRETS_ENV, group_body, start_fakes, stop_fakes,  # noqa: E402
                              targets_yaml, user_body, wait_until)

try:
    from selenium import webdriver
    from selenium.common.exceptions import (NoSuchElementException,
                                            StaleElementReferenceException, TimeoutException)
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as exc:  # a clear failure, not a skip: install_deps.sh installs it
    raise ImportError(f"python3-selenium is missing ({exc}); run deploy/install_deps.sh and "
                      "use /usr/bin/python3") from exc

CHROMIUM = os.environ.get("SCIMD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SCIMD_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 15  # seconds for any one thing to show up

ACME_USERS = ["ada.lovelace@acme.test", "grace.hopper@acme.test", "alan.turing@acme.test"]
GLOBEX_USERS = ["bob.secret@globex.test", "carol.hidden@globex.test"]
FAIL_FAST = {"max_attempts": 2, "initial_backoff_ms": 50, "max_backoff_ms": 100}

SHOTS = ("users", "resource", "sync", "audit", "keys")


def log_dir():
    path = os.environ.get("SCIMD_TEST_LOGS")
    if path:
        os.makedirs(path, exist_ok=True)
        return path
    return tempfile.mkdtemp(prefix="scimd-console-")


def by_testid(testid):
    return (By.CSS_SELECTOR, f'[data-testid="{testid}"]')


class ConsoleTest(unittest.TestCase):
    """One scimd, two fakes, one browser for the whole class; the tests run in name order."""

    @classmethod
    def setUpClass(cls):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise RuntimeError(f"{path} is missing: run deploy/install_deps.sh "
                                   "(chromium, chromium-driver)")
        cls.logs = log_dir()
        cls.fakes = start_fakes(("dolibarr", "webhook"))
        cls.fakes["dolibarr"].set_mode("error422")
        cls.db = fresh_db_url("console")
        cls.server = ScimdServer(db=cls.db, config_yaml=targets_yaml(
            cls.fakes, FAIL_FAST, {"dolibarr": {"department_field_recheck_seconds": 1}}),
                                 env=dict(SECRETS_ENV), tag="console")
        cls.driver = None
        try:
            cls.server.start()
            scopes = "scim:read,scim:write,admin"
            cls.acme_token = create_token(cls.db, "acme-admin", scopes, tenant="acme")
            cls.globex_token = create_token(cls.db, "globex-admin", scopes, tenant="globex")
            cls.acme = Client(cls.server.port, cls.acme_token)
            cls.globex = Client(cls.server.port, cls.globex_token)
            cls.acme_ids = {}
            for name in ACME_USERS:
                given, family = name.split("@")[0].split(".")
                resp = cls.acme.post("/scim/v2/Users", user_body(name, given.title(),
                                                                  family.title(), email=name))
                assert resp.status == 201, resp
                cls.acme_ids[name] = resp.json["id"]
            resp = cls.acme.post("/scim/v2/Groups", group_body(
                "Engineering", members=[cls.acme_ids[ACME_USERS[0]], cls.acme_ids[ACME_USERS[1]]]))
            assert resp.status == 201, resp
            cls.acme_group = resp.json["id"]
            cls.globex_ids = {}
            for name in GLOBEX_USERS:
                resp = cls.globex.post("/scim/v2/Users", user_body(name, "Secret", "Person",
                                                                    email=name))
                assert resp.status == 201, resp
                cls.globex_ids[name] = resp.json["id"]
            # Every Dolibarr delivery fails (503, two attempts), in both tenants.
            wait_until(lambda: cls._failed_ids(cls.acme) >= set(cls.acme_ids.values()),
                       timeout=30, message="acme's Dolibarr deliveries to fail")
            wait_until(lambda: cls._failed_ids(cls.globex) >= set(cls.globex_ids.values()),
                       timeout=30, message="globex's Dolibarr deliveries to fail")
            cls.driver = cls._start_browser()
        except BaseException:
            cls._cleanup()
            raise
        cls.base = f"{cls.server.url}/console/"

    @classmethod
    def _failed_ids(cls, client):
        resp = client.get("/admin/v1/sync/deliveries?status=failed")
        assert resp.status == 200, resp
        return {d["resource_id"] for d in resp.json["deliveries"]}

    @classmethod
    def _start_browser(cls):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        profile = tempfile.mkdtemp(prefix="scimd-console-chromium-")
        cls._profile = profile
        flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                 "--window-size=1366,900", "--lang=en-US"]
        if os.environ.get("SCIMD_CONSOLE_HEADFUL") != "1":
            flags.insert(0, "--headless")
        for flag in flags:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=CHROMEDRIVER,
                          log_path=os.path.join(cls.logs, "chromedriver.log"))
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(30)
        return driver

    @classmethod
    def _cleanup(cls):
        if getattr(cls, "driver", None) is not None:
            try:
                cls._save_browser_log()
                cls.driver.quit()
            except Exception as exc:  # cleanup must not hide the result
                print(f"could not stop the browser: {exc}", file=sys.stderr)
            cls.driver = None
        shutil.rmtree(getattr(cls, "_profile", "") or "/nonexistent", ignore_errors=True)
        for attr in ("acme", "globex"):
            if getattr(cls, attr, None) is not None:
                getattr(cls, attr).close()
        if getattr(cls, "server", None) is not None:
            try:
                shutil.copy(cls.server.log_path, os.path.join(cls.logs, "scimd.log"))
            except OSError:
                pass
            cls.server.cleanup()
        drop_db_url(cls.db)
        stop_fakes(getattr(cls, "fakes", {}))

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()
        if os.environ.get("SCIMD_CONSOLE_DOCS") == "1":
            docs = os.path.join(source_dir(), "docs", "console")
            os.makedirs(docs, exist_ok=True)
            for shot in SHOTS:
                src = os.path.join(cls.logs, shot + ".png")
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(docs, shot + ".png"))
        print(f"\nconsole screenshots and browser log: {cls.logs}", file=sys.stderr)

    @classmethod
    def _save_browser_log(cls):
        try:
            entries = cls.driver.get_log("browser")
        except Exception:  # not every driver offers it
            return
        cls.browser_log.extend(entries)
        with open(os.path.join(cls.logs, "browser.log"), "w", encoding="utf-8") as f:
            for e in cls.browser_log:
                f.write(json.dumps(e) + "\n")

    browser_log = []

    # -- helpers --

    def wait(self, condition, timeout=WAIT, message=""):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,
                                                     NoSuchElementException)).until(condition)
        except TimeoutException:
            self.screenshot("failure-" + self._testMethodName)
            raise AssertionError(f"timed out after {timeout} s: {message}\npage text:\n"
                                 + self.driver.find_element(By.TAG_NAME, "body").text[:3000])

    def find(self, testid, within=None):
        return (within or self.driver).find_elements(*by_testid(testid))

    def visible(self, testid):
        return [e for e in self.find(testid) if e.is_displayed()]

    def wait_rows(self, testid, predicate, message):
        """Waits until the list of visible [data-testid=testid] texts satisfies predicate."""
        def check(_):
            texts = [e.text for e in self.visible(testid)]
            return texts if predicate(texts) else False
        return self.wait(check, message=message)

    def go(self, route):
        self.driver.get(self.base + route)

    def screenshot(self, name):
        """Saves the whole page (up to 2400 px tall) as LOGS/name.png, at a laptop's width."""
        path = os.path.join(self.logs, name + ".png")
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);")
        self.driver.set_window_size(1366, min(max(900, int(height) + 140), 2400))
        try:
            time.sleep(0.2)
            self.driver.save_screenshot(path)
        finally:
            self.driver.set_window_size(1366, 900)
        return path

    def login(self, token):
        """Loads the console fresh (no token kept) and logs in with token."""
        self.go("#/users")
        self.driver.execute_script("sessionStorage.clear();")
        self.driver.refresh()  # a new page: the script's state goes with the old one
        box = self.wait(lambda d: [e for e in self.visible("token-input")] or False,
                        message="the token input")[0]
        box.clear()
        box.send_keys(token)
        self.find("login")[0].click()

    def settled(self, read):
        """read() again while the page re-renders under it (a stale element), up to WAIT s."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                return read()
            except StaleElementReferenceException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def row_resources(self, testid):
        """The data-resource-id values of the visible [data-testid=testid] rows."""
        return self.settled(
            lambda: {e.get_attribute("data-resource-id") for e in self.visible(testid)})

    def login_acme(self):
        self.login(self.acme_token)
        self.wait(lambda d: self.visible("user-row") or False, message="acme's user rows")

    def body_text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def last_scim(self, client, path):
        resp = client.get(path)
        self.assertEqual(resp.status, 200, resp)
        return resp.json

    # -- the tests, in order --

    def test_01_served_by_scimd_with_a_strict_policy(self):
        anonymous = Client(self.server.port)
        self.addCleanup(anonymous.close)
        resp = anonymous.get("/console/", token=None)
        self.assertEqual(resp.status, 200, resp)
        self.assertIn(b'data-testid="token-input"', resp.body)
        self.assertIn("text/html", resp.headers.get("Content-Type", ""))
        csp = resp.headers.get("Content-Security-Policy", "")
        self.assertIn("default-src 'self'", csp, "the console needs a strict CSP")
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        for asset, kind in (("app.js", "javascript"), ("style.css", "css")):
            r = anonymous.get("/console/" + asset, token=None)
            self.assertEqual(r.status, 200, (asset, r))
            self.assertIn(kind, r.headers.get("Content-Type", ""), asset)
            if asset == "app.js":
                # Data reaches the page as text only; nothing needs 'unsafe-inline' or eval.
                for sink in (b"innerHTML", b"outerHTML", b"insertAdjacentHTML", b"document.write",
                             b"eval(", b"new Function"):
                    self.assertFalse(sink in r.body, f"app.js uses {sink.decode()}")
        self.assertIsNone(re.search(rb"<[^>]+\s(on[a-z]+|style)=", resp.body),
                          "no inline event handlers or style attributes")
        self.assertIsNone(re.search(rb"<script(?![^>]*\ssrc=)[^>]*>", resp.body), "no inline script")

    def test_02_a_wrong_token_is_refused_honestly(self):
        self.login("not-a-token")
        error = self.wait(lambda d: [e for e in self.visible("login-error") if e.text] or False,
                          message="the login error")[0]
        self.assertIn("401", error.text)
        self.assertFalse(self.visible("user-row"))
        self.assertIsNone(self.driver.execute_script(
            "return sessionStorage.getItem('scimd.console.token');"))
        # A valid token without the admin scope: told so, not let in.
        reader = create_token(self.db, "acme-reader", "scim:read", tenant="acme")
        self.login(reader)
        error = self.wait(lambda d: [e for e in self.visible("login-error")
                                     if "403" in e.text] or False, message="the 403 error")[0]
        self.assertIn("admin scope", error.text)

    def test_03_users_list_and_filter(self):
        self.login_acme()
        rows = self.wait_rows("user-row", lambda t: len(t) == len(ACME_USERS), "three acme users")
        for name in ACME_USERS:
            self.assertTrue(any(name in r for r in rows), (name, rows))
        # The token is in sessionStorage, never in the URL or a cookie.
        self.assertEqual(self.driver.execute_script(
            "return sessionStorage.getItem('scimd.console.token');"), self.acme_token)
        self.assertNotIn(self.acme_token, self.driver.current_url)
        self.assertFalse(self.driver.get_cookies())
        self.screenshot("users")
        box = self.find("filter-input")[0]
        box.clear()
        box.send_keys('userName sw "grace"', Keys.ENTER)
        rows = self.wait_rows("user-row", lambda t: len(t) == 1, "one row after the filter")
        self.assertIn("grace.hopper@acme.test", rows[0])
        self.screenshot("users-filtered")
        # A bad filter shows the server's SCIM error detail.
        box = self.find("filter-input")[0]
        box.clear()
        box.send_keys('userName zz "x"', Keys.ENTER)
        error = self.wait(lambda d: self.visible("error") or False, message="filter error")[0]
        self.assertIn("400", error.text)
        # Paging: two per page, then the next page.
        self.go("#/users?count=2")
        rows = self.wait_rows("user-row", lambda t: len(t) == 2, "a page of two users")
        self.find("next-page")[0].click()
        rows2 = self.wait_rows("user-row", lambda t: len(t) == 1, "the last page")
        self.assertFalse(set(rows) & set(rows2))
        self.assertTrue(self.visible("previous-page"))
        self.assertFalse(self.visible("next-page"))
        # Groups tab, its filter, its resource page.
        self.go("#/groups")
        rows = self.wait_rows("group-row", lambda t: len(t) == 1, "acme's group")
        self.assertIn("Engineering", rows[0])
        box = self.find("filter-input")[0]
        box.send_keys('displayName eq "Nothing Like It"', Keys.ENTER)
        empty = self.wait(lambda d: self.visible("empty") or False, message="no groups")[0]
        self.assertIn("No groups match", empty.text)
        self.go("#/groups/" + self.acme_group)
        attrs = self.wait(lambda d: self.visible("attributes") or False, message="group attrs")[0]
        self.assertIn(self.acme_ids[ACME_USERS[0]], attrs.text)

    def test_04_resource_page_and_sync_now(self):
        self.login_acme()
        ada = self.acme_ids["ada.lovelace@acme.test"]
        row = [r for r in self.visible("user-row") if "ada.lovelace" in r.text][0]
        row.find_elements(By.TAG_NAME, "td")[1].click()  # the row, not the link
        self.wait(lambda d: d.current_url.endswith("#/users/" + ada), message="resource route")
        self.wait(lambda d: "ada.lovelace@acme.test" in d.find_element(By.CSS_SELECTOR, "#app-view h1").text,
                  message="the user's heading")
        attrs = self.wait(lambda d: self.visible("attributes") or False, message="attributes")[0]
        self.assertIn("Lovelace", attrs.text)
        # Target links: the webhook has no id of its own; Dolibarr failed. The history shows
        # the failed Dolibarr delivery with its error.
        history = self.wait_rows("delivery-row", lambda t: any("dolibarr" in r for r in t),
                                 "the delivery history")
        self.assertTrue(any("failed" in r for r in history), history)
        before = self._resource_deliveries(ada)
        self.find("sync-now")[0].click()
        result = self.wait(lambda d: [e for e in self.visible("sync-result")
                                      if "queued" in e.text.lower() or "error" in
                                      e.text.lower()] or False, message="sync result")[0]
        self.assertIn("queued", result.text.lower(), result.text)
        wait_until(lambda: len(self._resource_deliveries(ada)) > len(before)
                   or self._resource_audited(ada, "sync"),
                   timeout=15, message="the manual sync to show in deliveries or audit")
        self.wait_rows("delivery-row", lambda t: len(t) > len(history),
                       "the page's history to show the manual sync")
        self.screenshot("resource")
        # Another tenant's resource is a 404 here.
        bob = self.globex_ids["bob.secret@globex.test"]
        self.go("#/users/" + bob)
        error = self.wait(lambda d: self.visible("error") or False, message="404 for globex user")
        self.assertIn("404", error[0].text)
        self.assertNotIn("bob.secret", self.body_text())

    def _resource_deliveries(self, rid):
        resp = self.acme.get("/admin/v1/sync/deliveries?resource=" + urllib.parse.quote(rid))
        self.assertEqual(resp.status, 200, resp)
        return [d for d in resp.json["deliveries"] if d["resource_id"] == rid]

    def _resource_audited(self, rid, action_part):
        resp = self.acme.get("/admin/v1/audit?resource=" + urllib.parse.quote(rid))
        return any(action_part in e.get("action", "") for e in resp.json.get("entries", []))

    def test_05_sync_page_failed_deliveries_and_retry(self):
        self.login_acme()
        self.go("#/sync")
        targets = self.wait_rows("target-row", lambda t: len(t) == 2, "two target rows")
        self.assertTrue(any(t.startswith("dolibarr") for t in targets), targets)
        self.assertTrue(any(t.startswith("events") for t in targets), targets)
        failed = self.wait_rows("failed-delivery",
                                lambda t: len(t) >= len(ACME_USERS), "acme's failed deliveries")
        for row in failed:
            self.assertIn("dolibarr", row)
        self.assertTrue(any("422" in r or "error" in r.lower() for r in failed), failed)
        shown = self.row_resources("failed-delivery")
        self.assertTrue(shown <= set(self.acme_ids.values()), shown)
        self.assertFalse(shown & set(self.globex_ids.values()), "globex delivery in acme's console")
        # The resource column names the user (looked up over SCIM), linking to its page.
        self.wait_rows("failed-delivery", lambda t: any("ada.lovelace@acme.test" in r for r in t),
                       "user names in the failed deliveries")
        self.screenshot("sync")
        # Dolibarr is back; retry one delivery from the console.
        self.fakes["dolibarr"].set_mode("normal")
        row = self.visible("failed-delivery")[0]
        delivery_id = row.get_attribute("data-id")
        row.find_element(*by_testid("retry")).click()
        wait_until(lambda: self._delivery_status(delivery_id) == "delivered", timeout=20,
                   message=f"delivery {delivery_id} to be delivered after the retry")
        # The page refreshes by itself: the row goes away.
        self.wait(lambda d: not [r for r in self.visible("failed-delivery")
                                 if r.get_attribute("data-id") == delivery_id],
                  message="the retried delivery to leave the failed list")
        # Retry all: the rest go through too, and the page says so honestly.
        self.find("retry-all")[0].click()
        empty = self.wait(lambda d: [e for e in self.visible("empty")
                                     if "No failed deliveries" in e.text] or False, timeout=25,
                          message="no failed deliveries left")
        self.assertTrue(empty)
        self.screenshot("sync-after-retry")
        # A standing condition the adapter reports (Dolibarr without the `department` extra
        # field) shows under the targets table.
        self.assertFalse(self.visible("target-notice"))
        self.fakes["dolibarr"].set_config(department_extrafield=False)
        time.sleep(1.2)  # past the adapter's re-check interval (1 s in this configuration)
        ada = self.acme_ids[ACME_USERS[0]]
        resp = self.acme.patch("/scim/v2/Users/" + ada, {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "value": {
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                    "department": "Research"}}}]})
        self.assertIn(resp.status, (200, 204), resp)
        notice = self.wait(lambda d: self.visible("target-notice") or False, timeout=25,
                           message="the department notice on the sync page")
        self.assertIn("dolibarr", notice[0].text)
        self.assertIn("Dolibarr defines no extra field 'department'", notice[0].text)
        self.assertTrue(self.visible("target-row"))
        self.screenshot("sync-notice")

    def _events_status(self):
        resp = self.acme.get("/admin/v1/sync/status")
        return next(t for t in resp.json["targets"] if t["name"] == "events")

    def test_05b_sync_page_shows_a_paused_target(self):
        # The webhook receiver answers 503 to everything: the target looks down and is paused
        # (issue 12's circuit breaker); the target row says since when and why.
        webhook = self.fakes["webhook"]
        self.login_acme()
        webhook.set_mode("error503")
        try:
            resp = self.acme.post("/scim/v2/Users", user_body("paula.paused@acme.test"))
            self.assertEqual(resp.status, 201, resp)
            # Later tests count acme's users.
            self.addCleanup(self.acme.delete, "/scim/v2/Users/" + resp.json["id"])
            wait_until(lambda: self._events_status()["paused"], timeout=30,
                       message="the events target to be paused")
            self.go("#/sync")
            badge = self.wait(lambda d: self.visible("target-paused") or False,
                              message="the paused badge")[0]
            self.assertIn("paused since", badge.text)
            row = [r for r in self.visible("target-row") if r.get_attribute("data-name") == "events"]
            self.assertEqual(len(row), 1)
            self.assertEqual(row[0].get_attribute("data-paused"), "true")
            self.assertIn("503", row[0].text)
            dolibarr_row = [r for r in self.visible("target-row")
                            if r.get_attribute("data-name") == "dolibarr"]
            self.assertEqual(dolibarr_row[0].get_attribute("data-paused"), "false")
            self.screenshot("sync-paused")
        finally:
            webhook.set_mode("normal")
        wait_until(lambda: not self._events_status()["paused"], timeout=60,
                   message="the events target to resume")
        self.driver.refresh()
        self.wait_rows("target-row", lambda t: len(t) == 2, "two target rows")
        self.wait(lambda d: not self.visible("target-paused"), message="the paused badge to go")
        row = [r for r in self.visible("target-row") if r.get_attribute("data-name") == "events"]
        self.assertEqual(row[0].get_attribute("data-paused"), "false")

    def _delivery_status(self, delivery_id):
        resp = self.acme.get("/admin/v1/sync/deliveries?limit=1000")
        for d in resp.json["deliveries"]:
            if str(d["id"]) == str(delivery_id):
                return d["status"]
        return None

    def test_06_audit_log_and_filters(self):
        # A PATCH so the log has a change with old and new values.
        grace = self.acme_ids["grace.hopper@acme.test"]
        resp = self.acme.patch(f"/scim/v2/Users/{grace}", {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "name.givenName", "value": "Amazing Grace"}]})
        self.assertEqual(resp.status, 200, resp)
        self.login_acme()
        self.go("#/audit")
        rows = self.wait_rows("audit-row", lambda t: len(t) >= len(ACME_USERS) + 1,
                              "audit rows")
        self.assertTrue(any("acme-admin" in r for r in rows), rows[:3])
        self.assertFalse(self.row_resources("audit-row") & set(self.globex_ids.values()),
                         "globex entry in acme's audit log")
        self.assertFalse(any("globex" in r for r in rows), "globex actor in acme's audit log")
        self.screenshot("audit")
        box = self.driver.find_element(By.ID, "audit-resource")
        box.send_keys(grace, Keys.ENTER)
        rows = self.wait_rows("audit-row", lambda t: len(t) >= 2 and self.row_resources(
            "audit-row") == {grace}, "audit rows of grace only")
        self.assertTrue(any("patch" in r.lower() or "replace" in r.lower() for r in rows), rows)
        self.assertIn("resource=" + grace, self.driver.current_url)
        # Paging with the cursor: three at a time, "older" adds three more, none twice.
        self.go("#/audit?count=3")
        first = self.wait_rows("audit-row", lambda t: len(t) == 3, "a page of three entries")
        self.wait(lambda d: self.visible("audit-older") or False, message="the older button")
        self.find("audit-older")[0].click()
        both = self.wait_rows("audit-row", lambda t: len(t) == 6, "six entries after 'older'")
        self.assertEqual(both[:3], first)
        # Filters that match nothing: an honest empty state.
        self.go("#/audit?actor=nobody-at-all")
        empty = self.wait(lambda d: self.visible("empty") or False, message="empty audit")[0]
        self.assertIn("No audit entries", empty.text)

    def test_07_api_keys_create_and_revoke(self):
        self.login_acme()
        self.go("#/keys")
        self.wait(lambda d: self.visible("key-row") or self.visible("empty") or
                  self.visible("error"), message="the key list")
        self.assertFalse(self.visible("error"), self.body_text())
        name = self.driver.find_element(By.ID, "key-name")
        name.send_keys("console-reader")
        write = self.driver.find_element(By.ID, "scope-scim-write")
        if write.is_selected():
            write.click()  # read only
        self.driver.find_element(By.ID, "key-expires").send_keys("30")
        self.find("create-key")[0].click()
        secret = self.wait(lambda d: [e for e in self.visible("key-secret")
                                      if e.get_attribute("value")] or False,
                           message="the new key's secret")[0].get_attribute("value")
        self.assertIn("shown once", self.find("secret-box")[0].text)
        rows = self.wait_rows("key-row", lambda t: any(r.startswith("console-reader") for r in t),
                              "the new key in the list")
        row_text = [r for r in rows if r.startswith("console-reader")][0]
        self.assertIn("scim:read", row_text)
        self.assertNotIn("scim:write", row_text)
        self.assertNotIn(secret, self.find("key-row")[0].text)
        self.screenshot("keys")
        # The secret works, read-only, in acme only.
        reader = Client(self.server.port, secret)
        resp = reader.get("/scim/v2/Users")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["totalResults"], len(ACME_USERS))
        self.assertEqual(reader.post("/scim/v2/Users", user_body("nope@acme.test")).status, 403)
        # Revoke it: two steps, then the key is gone and its secret gets 401.
        row = [r for r in self.visible("key-row")
               if r.get_attribute("data-name") == "console-reader"][0]
        row.find_element(*by_testid("revoke")).click()
        self.wait(lambda d: self.visible("confirm-revoke") or False,
                  message="confirm")[0].click()
        self.wait(lambda d: not [r for r in self.visible("key-row")
                                 if r.get_attribute("data-name") == "console-reader"
                                 and "revoked" not in r.text],
                  message="the revoked key to leave the list")
        reader.close()
        revoked = Client(self.server.port, secret)
        self.addCleanup(revoked.close)
        self.assertEqual(revoked.get("/scim/v2/Users").status, 401)
        # The secret was never put in the URL or storage.
        self.assertNotIn(secret, self.driver.current_url)
        self.assertNotIn(secret, json.dumps(self.driver.execute_script(
            "return Object.assign({}, sessionStorage, localStorage);")))

    def test_08_tenant_admin_sees_nothing_of_another_tenant(self):
        self.login_acme()
        rows = self.wait_rows("user-row", lambda t: len(t) >= len(ACME_USERS), "acme users")
        for name in GLOBEX_USERS:
            self.assertFalse(any(name in r for r in rows), name)
        box = self.find("filter-input")[0]
        box.clear()
        box.send_keys('userName eq "bob.secret@globex.test"', Keys.ENTER)
        empty = self.wait(lambda d: self.visible("empty") or False, message="no such user")[0]
        self.assertIn("No users match", empty.text)
        self.assertFalse(self.visible("user-row"))
        # The header counts acme's users only.
        info = self.driver.find_element(By.ID, "tenant-info")
        if info.is_displayed() and "users" in info.text:
            self.assertIn("acme", info.text)
            self.assertNotIn(f"users: {len(ACME_USERS) + len(GLOBEX_USERS)}", info.text)
        # Sync page: globex's deliveries fail, acme's console shows none of them.
        self.fakes["dolibarr"].set_mode("error422")
        resp = self.globex.post("/scim/v2/Users", user_body("dave.late@globex.test"))
        self.assertEqual(resp.status, 201, resp)
        dave = resp.json["id"]
        wait_until(lambda: dave in self._failed_ids(self.globex), timeout=30,
                   message="globex's new delivery to fail")
        globex_ids = set(self.globex_ids.values()) | {dave}
        self.go("#/sync")
        self.wait(lambda d: self.visible("target-row") or False, message="targets")
        self.wait(lambda d: self.visible("failed-delivery") or self.visible("empty"),
                  message="the failed deliveries")
        time.sleep(0.5)
        self.assertFalse(self.row_resources("failed-delivery") & globex_ids)
        text = self.body_text()
        for gid in globex_ids:
            self.assertNotIn(gid, text)
        self.assertNotIn("globex", text)
        # The audit log and the links of a globex resource: nothing.
        self.go("#/audit")
        self.wait(lambda d: self.visible("audit-row") or False, message="audit rows")
        self.assertFalse(self.row_resources("audit-row") & globex_ids)
        for gid in globex_ids:
            self.assertNotIn(gid, self.body_text())
        self.assertNotIn("globex", self.body_text())
        # Globex's own admin does see its users (the data is there; acme just cannot see it).
        self.login(self.globex_token)
        rows = self.wait_rows("user-row", lambda t: len(t) == len(GLOBEX_USERS) + 1,
                              "globex users in globex's console")
        self.assertFalse(any("acme.test" in r for r in rows), rows)

    def test_09_operator_gets_a_tenant_picker(self):
        try:
            token = create_token(self.db, "operator-1", "scim:read,scim:write,admin,operator")
        except Exception as exc:
            self.skipTest(f"this scimd cannot create an operator token: {exc}")
        self.login(token)
        self.wait(lambda d: self.visible("tenant-picker") or False,
                  message="the operator's tenant picker")
        options = self.settled(lambda: [o.text for o in self.visible("tenant-picker")[0]
                                        .find_elements(By.TAG_NAME, "option")])
        self.assertTrue(any("acme" in o for o in options), options)
        self.assertTrue(any("globex" in o for o in options), options)
        # Narrow the admin views to globex: its failed delivery shows, acme's none.
        self.settled(lambda: Select(self.visible("tenant-picker")[0]).select_by_value("globex"))
        self.go("#/sync")
        self.wait_rows("failed-delivery", lambda t: len(t) >= 1,
                       "globex's failed deliveries for the operator")
        shown = self.row_resources("failed-delivery")
        self.assertTrue(shown & set(self.globex_ids.values()), shown)
        self.assertFalse(shown & set(self.acme_ids.values()), "acme row under globex")
        self.screenshot("operator-sync")
        # The SCIM pages follow the picker too: globex's users, none of acme's.
        self.go("#/users")
        rows = self.wait_rows("user-row", lambda t: len(t) >= len(GLOBEX_USERS),
                              "globex's users for the operator")
        self.assertTrue(all("globex.test" in r for r in rows), rows)
        bob = self.globex_ids["bob.secret@globex.test"]
        self.go("#/users/" + bob)
        self.wait(lambda d: self.visible("attributes") or False, message="bob's page")
        self.assertIn("bob.secret@globex.test",
                      self.settled(lambda: self.visible("attributes")[0].text))

    def test_10_logout_forgets_the_token(self):
        self.login_acme()
        self.find("logout")[0].click()
        self.wait(lambda d: self.visible("token-input") or False, message="the login form")
        self.assertIsNone(self.driver.execute_script(
            "return sessionStorage.getItem('scimd.console.token');"))
        self.assertFalse(self.visible("user-row"))
        self.driver.refresh()
        self.wait(lambda d: self.visible("token-input") or False, message="still logged out")

    def test_11_keyboard_only_login_and_navigation(self):
        self.go("")
        self.driver.execute_script("sessionStorage.clear();")
        self.driver.refresh()
        box = self.wait(lambda d: self.visible("token-input") or False, message="login")[0]
        self.assertEqual(self.driver.switch_to.active_element, box, "focus starts in the box")
        box.send_keys(self.acme_token, Keys.ENTER)
        self.wait(lambda d: self.visible("user-row") or False, message="rows after Enter")
        # Every input of every page has a label.
        for route in ("#/users", "#/audit", "#/keys"):
            self.go(route)
            time.sleep(0.3)
            unlabeled = self.driver.execute_script("""
              return [...document.querySelectorAll('input, select')]
                .filter(e => e.offsetParent !== null)
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.id || e.outerHTML);""")
            self.assertEqual(unlabeled, [], route)

    def test_99_no_script_errors_or_policy_violations(self):
        self._save_browser_log()
        bad = [e for e in self.browser_log if e.get("level") == "SEVERE"
               and ("Content Security Policy" in e.get("message", "")
                    or "Uncaught" in e.get("message", "")
                    or "Refused" in e.get("message", ""))]
        self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
