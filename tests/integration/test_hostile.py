"""Hostile traffic (issue 9): each case was found by trying as an attacker would, and each test
here failed before its fix: a connection flood, idle connections, guessing tokens, a forged Host
header, bodies that are not JSON, unsupported methods, /Me, and the response headers that keep
identity data out of caches and sniffers."""

import os
import resource
import socket
import time
import unittest

from it_support import raw_request
from scimd_harness import (ERROR_URN, Client, ScimTestCase, ScimdServer, USER_URN, create_token,
                           unique)


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class LimitedDescriptorsServer(ScimdServer):
    """scimd with 1,024 descriptors, as on a default Linux host."""

    def command(self):
        return ["prlimit", "--nofile=1024:1024", "--"] + super().command()


class ConnectionFloodTest(unittest.TestCase):
    FLOOD = 5000

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = self.FLOOD + 512
        if hard != resource.RLIM_INFINITY and hard < want:
            self.skipTest(f"this test process may open only {hard} descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        self.server = LimitedDescriptorsServer(tag="flood")
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def open_idle(self, count):
        sockets = []
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.server.port))
            except BlockingIOError:
                pass
            sockets.append(s)
        return sockets

    def test_new_client_gets_in_past_5000_idle_connections_without_spinning(self):
        flood = self.open_idle(self.FLOOD)
        self.addCleanup(lambda: [s.close() for s in flood])
        time.sleep(2.0)  # the server accepts (and evicts) what the kernel queued
        pid = self.server.proc.pid
        cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
        time.sleep(3.0)  # the flood is held: nobody sends anything
        cpu_per_second = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
        started = time.monotonic()
        try:
            conn = self.server.connection(timeout=2)
            conn.request("GET", "/healthz", headers={"Connection": "close"})
            status = conn.getresponse().status
            conn.close()
        except OSError as exc:
            status = repr(exc)
        took = time.monotonic() - started
        self.assertEqual((status, took < 2.0, cpu_per_second < 0.5), (200, True, True),
                         f"/healthz: {status} in {took:.2f}s; server CPU {cpu_per_second:.2f} s/s "
                         "while the idle flood was held")
        self.assertTrue(self.server.running())


class IdleTimeoutTest(unittest.TestCase):
    def setUp(self):
        self.server = ScimdServer(tag="idle", config_yaml="limits: {idle_timeout_seconds: 1}\n")
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def wait_closed(self, sock, seconds):
        sock.settimeout(seconds)
        try:
            return sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def test_silent_connection_is_cut(self):
        s = socket.create_connection(("127.0.0.1", self.server.port))
        self.addCleanup(s.close)
        started = time.monotonic()
        self.assertTrue(self.wait_closed(s, 6), "a connection that never spoke stayed open")
        self.assertGreater(time.monotonic() - started, 0.5)

    def test_idle_keep_alive_connection_is_cut(self):
        s = socket.create_connection(("127.0.0.1", self.server.port))
        self.addCleanup(s.close)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        self.assertIn(b"200", s.recv(4096).split(b"\r\n")[0])
        self.assertTrue(self.wait_closed(s, 6), "an idle keep-alive connection stayed open")


class FailedAuthenticationLimitTest(ScimTestCase):
    config_yaml = "limits: {auth_failures_per_minute: 5}\n"

    def test_guessing_tokens_is_limited_per_address(self):
        guesser = Client(self.server.port, "guess")
        self.addCleanup(guesser.close)
        for i in range(5):
            self.assertEqual(guesser.get("/scim/v2/Users").status, 401, i)
        limited = guesser.get("/scim/v2/Users")
        self.assertEqual(limited.status, 429)
        self.assertIn(ERROR_URN, limited.json["schemas"])
        self.assertGreaterEqual(int(limited.headers["Retry-After"]), 1)
        # While the address is over its budget, even a valid token from it waits: the check
        # comes before the token is looked up, so guessing costs the server nothing.
        self.assertEqual(self.get("/Users").status, 429)
        time.sleep(int(limited.headers["Retry-After"]) + 0.2)
        self.assertEqual(self.get("/Users").status, 200)


class HostHeaderTest(ScimTestCase):
    def test_location_never_comes_from_the_host_header(self):
        resp = self.post("/Users", {"schemas": [USER_URN], "userName": unique("host")},
                         headers={"Host": "evil.example.com"})
        self.assertEqual(resp.status, 201, resp.body)
        expected = f"http://127.0.0.1:{self.server.port}/scim/v2/Users/{resp.json['id']}"
        self.assertEqual(resp.headers["Location"], expected)
        self.assertEqual(resp.json["meta"]["location"], expected)
        listed = self.get("/Users?count=1", headers={"Host": "evil.example.com"})
        self.assertNotIn(b"evil.example.com", listed.body)


class ProtocolHygieneTest(ScimTestCase):
    def test_body_that_is_not_json_gets_415(self):
        body = {"schemas": [USER_URN], "userName": unique("ct")}
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            resp = self.post("/Users", body, content_type=content_type)
            self.assertEqual(resp.status, 415, content_type)
            self.assertIn(ERROR_URN, resp.json["schemas"])
        for content_type in ("application/json", "application/scim+json; charset=utf-8",
                             "Application/SCIM+JSON"):
            body["userName"] = unique("ct")
            self.assertEqual(self.post("/Users", body, content_type=content_type).status, 201,
                             content_type)

    def test_unsupported_method_gets_scim_405_with_allow(self):
        for method, path in (("DELETE", "/Users"), ("PUT", "/Users"), ("POST", "/Users/abc"),
                             ("GET", "/Bulk"), ("PATCH", "/ServiceProviderConfig")):
            resp = self.request(method, path)
            self.assertEqual(resp.status, 405, (method, path))
            self.assertIn(ERROR_URN, resp.json["schemas"], (method, path))
            self.assertEqual(resp.json["status"], "405")
            self.assertIn("Allow", resp.headers, (method, path))
        allow = {m.strip() for m in self.request("DELETE", "/Users").headers["Allow"].split(",")}
        self.assertEqual(allow, {"GET", "POST"})

    def test_me_is_not_implemented(self):
        resp = self.get("/Me")
        self.assertEqual(resp.status, 501)
        self.assertIn(ERROR_URN, resp.json["schemas"])

    def test_every_answer_says_nosniff_and_no_store(self):
        user = self.post("/Users", {"schemas": [USER_URN], "userName": unique("hdr")})
        answers = [user, self.get(f"/Users/{user.json['id']}"), self.get("/Users/missing"),
                   self.get("/Users", token="wrong"), self.get("/healthz")]
        for resp in answers:
            self.assertEqual(resp.headers.get("X-Content-Type-Options"), "nosniff", resp)
            self.assertEqual(resp.headers.get("Cache-Control"), "no-store", resp)
        # An answer of the framer itself (a head too large), before any route ran.
        status, headers, _ = raw_request(
            self.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 +
            b"\r\n\r\n")
        self.assertEqual(status, 431)
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("cache-control"), "no-store")


if __name__ == "__main__":
    unittest.main()
