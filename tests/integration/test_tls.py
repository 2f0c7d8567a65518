"""HTTPS in scimd itself (issue 9): certificates from flags and config, TLS 1.2 minimum, mutual
TLS, keep-alive and limits over TLS, a certificate re-read on SIGHUP without dropping open
connections, a handshake that never comes not blocking other clients, and plain HTTP refused on
a non-loopback address."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from scimd_harness import (ALL_SCOPES, Client, ScimdServer, create_token, free_port,
                           fresh_db_url, drop_db_url, scimd_bin, unique, USER_URN)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(directory, name):
    """A CA certificate and key: <name>.crt, <name>.key."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=directory)


def make_signed(directory, name, ca, client=False):
    """A leaf certificate for 127.0.0.1 (or a client) signed by CA `ca`."""
    ext = os.path.join(directory, f"{name}.ext")
    with open(ext, "w", encoding="utf-8") as f:
        f.write("extendedKeyUsage=clientAuth\n" if client else
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
            f"{name}.key", "-out", f"{name}.csr", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.crt", cwd=directory)


def client_context(directory, ca="ca"):
    ctx = ssl.create_default_context(cafile=os.path.join(directory, f"{ca}.crt"))
    return ctx


class TlsServerTest(unittest.TestCase):
    """One HTTPS scimd with --tls-cert/--tls-key."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="scimd-tls-")
        make_ca(cls.certs, "ca")
        make_signed(cls.certs, "server", "ca")
        cls.ctx = client_context(cls.certs)
        cls.db = fresh_db_url("tls")
        cls.server = ScimdServer(
            db=cls.db, tag="tls", ssl_context=cls.ctx,
            extra_args=["--tls-cert", os.path.join(cls.certs, "server.crt"),
                        "--tls-key", os.path.join(cls.certs, "server.key")],
            config_yaml="limits: {max_body_bytes: 65536}\n")
        cls.server.start()
        cls.token = create_token(cls.db, "tls-admin", ALL_SCOPES)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        drop_db_url(cls.db)
        shutil.rmtree(cls.certs, ignore_errors=True)

    def client(self):
        c = Client(self.server.port, self.token, ssl_context=self.ctx)
        self.addCleanup(c.close)
        return c

    def test_scim_create_and_read_over_https(self):
        c = self.client()
        created = c.post("/scim/v2/Users", {"schemas": [USER_URN], "userName": unique("tls")})
        self.assertEqual(created.status, 201, created.body)
        self.assertTrue(created.headers["Location"].startswith(
            f"https://127.0.0.1:{self.server.port}/scim/v2/Users/"), created.headers["Location"])
        read = c.get(f"/scim/v2/Users/{created.json['id']}")
        self.assertEqual(read.status, 200)
        self.assertEqual(read.json["userName"], created.json["userName"])

    def test_keep_alive_reuses_one_tls_connection(self):
        conn = self.server.connection(timeout=10)
        self.addCleanup(conn.close)
        sockets = set()
        for _ in range(5):
            conn.request("GET", "/scim/v2/Users?count=1",
                         headers={"Authorization": f"Bearer {self.token}"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            self.assertFalse(resp.will_close)
            sockets.add(id(conn.sock))
        self.assertEqual(len(sockets), 1)
        self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))

    def test_body_limit_holds_over_tls(self):
        c = self.client()
        big = {"schemas": [USER_URN], "userName": unique("big"), "title": "x" * 100000}
        resp = c.post("/scim/v2/Users", big)
        self.assertEqual(resp.status, 413)
        self.assertIn("urn:ietf:params:scim:api:messages:2.0:Error", resp.json["schemas"])

    def test_tls_1_1_is_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(raw).close()
        # The same client allowed TLS 1.2 gets in: the refusal is the server's minimum.
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                self.assertEqual(tls.version(), "TLSv1.2")

    def test_silent_clients_do_not_block_handshakes(self):
        # Pistache's own TLS runs SSL_accept blocking in its one acceptor thread: one client
        # that connects and says nothing stops every later HTTPS client.
        silent = [socket.create_connection(("127.0.0.1", self.server.port)) for _ in range(20)]
        self.addCleanup(lambda: [s.close() for s in silent])
        half = socket.create_connection(("127.0.0.1", self.server.port))
        half.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
        self.addCleanup(half.close)
        started = time.monotonic()
        conn = self.server.connection(timeout=5)
        self.addCleanup(conn.close)
        conn.request("GET", "/healthz")
        self.assertEqual(conn.getresponse().status, 200)
        self.assertLess(time.monotonic() - started, 2.0)

    def test_client_address_is_the_real_one_behind_tls(self):
        # Failed authentications are limited per client address; over TLS the address is the
        # client's, so they are counted (the class's limit is the default 60 a minute).
        c = Client(self.server.port, "not-a-token", ssl_context=self.ctx)
        self.addCleanup(c.close)
        self.assertEqual(c.get("/scim/v2/Users").status, 401)


class TlsReloadTest(unittest.TestCase):
    """SIGHUP re-reads the certificate; open connections stay up."""

    def setUp(self):
        self.certs = tempfile.mkdtemp(prefix="scimd-tls-reload-")
        self.addCleanup(shutil.rmtree, self.certs, True)
        make_ca(self.certs, "ca")
        make_signed(self.certs, "first", "ca")
        make_signed(self.certs, "second", "ca")
        shutil.copy(os.path.join(self.certs, "first.crt"), os.path.join(self.certs, "live.crt"))
        shutil.copy(os.path.join(self.certs, "first.key"), os.path.join(self.certs, "live.key"))
        self.ctx = client_context(self.certs)
        self.server = ScimdServer(
            tag="tls-reload", ssl_context=self.ctx,
            config_yaml=(f"tls: {{cert_file: {self.certs}/live.crt, "
                         f"key_file: {self.certs}/live.key}}\n"))
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def peer_cn(self, conn):
        cert = conn.sock.getpeercert()
        return dict(x[0] for x in cert["subject"])["commonName"]

    def test_sighup_rereads_the_certificate_without_dropping_connections(self):
        old = self.server.connection(timeout=5)
        self.addCleanup(old.close)
        old.request("GET", "/healthz", headers={"Connection": "keep-alive"})
        self.assertEqual(old.getresponse().read(), b'{"status":"ok"}')
        self.assertEqual(self.peer_cn(old), "first")
        shutil.copy(os.path.join(self.certs, "second.crt"), os.path.join(self.certs, "live.crt"))
        shutil.copy(os.path.join(self.certs, "second.key"), os.path.join(self.certs, "live.key"))
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        cn = "first"
        while cn == "first" and time.monotonic() < deadline:
            fresh = self.server.connection(timeout=5)
            fresh.request("GET", "/healthz")
            self.assertEqual(fresh.getresponse().status, 200)
            cn = self.peer_cn(fresh)
            fresh.close()
            time.sleep(0.05)
        self.assertEqual(cn, "second")
        # The connection opened before the reload still works, on its old certificate.
        old.request("GET", "/healthz", headers={"Connection": "keep-alive"})
        self.assertEqual(old.getresponse().status, 200)
        self.assertEqual(self.peer_cn(old), "first")
        self.assertTrue(self.server.running())


class MutualTlsTest(unittest.TestCase):
    """tls.client_ca_file: only clients with a certificate that CA signed get in."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="scimd-mtls-")
        make_ca(cls.certs, "ca")
        make_ca(cls.certs, "clientca")
        make_ca(cls.certs, "otherca")
        make_signed(cls.certs, "server", "ca")
        make_signed(cls.certs, "client", "clientca", client=True)
        make_signed(cls.certs, "stranger", "otherca", client=True)
        ctx = client_context(cls.certs)
        ctx.load_cert_chain(os.path.join(cls.certs, "client.crt"),
                            os.path.join(cls.certs, "client.key"))
        cls.ctx = ctx
        d = cls.certs
        cls.server = ScimdServer(
            tag="mtls", ssl_context=ctx,
            config_yaml=(f"tls: {{cert_file: {d}/server.crt, key_file: {d}/server.key, "
                         f"client_ca_file: {d}/clientca.crt}}\n"))
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def healthz_with(self, ctx):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := tls.recv(4096):
                    data += chunk
                return data

    def test_client_with_a_certificate_of_the_ca_gets_in(self):
        self.assertTrue(self.healthz_with(self.ctx).startswith(b"HTTP/1.1 200"))

    def test_client_without_a_certificate_is_refused(self):
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            self.healthz_with(client_context(self.certs))

    def test_client_with_another_cas_certificate_is_refused(self):
        ctx = client_context(self.certs)
        ctx.load_cert_chain(os.path.join(self.certs, "stranger.crt"),
                            os.path.join(self.certs, "stranger.key"))
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            self.healthz_with(ctx)


class PlainHttpOnPublicAddressTest(unittest.TestCase):
    """Plain HTTP on a non-loopback address needs insecure_http: true."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scimd-insecure-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = f"sqlite:{self.dir}/scimd.db"

    def test_refused_without_tls(self):
        proc = subprocess.run([scimd_bin(), "serve", "--db", self.db, "--listen",
                               f"0.0.0.0:{free_port()}"], capture_output=True, text=True,
                              timeout=30, cwd=self.dir)
        self.assertNotEqual(proc.returncode, 0)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("insecure_http", lines[0])
        self.assertIn("tls", lines[0])

    def test_allowed_with_insecure_http(self):
        config = os.path.join(self.dir, "scimd.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("insecure_http: true\n")
        port = free_port()
        proc = subprocess.Popen([scimd_bin(), "serve", "--db", self.db, "--listen",
                                 f"0.0.0.0:{port}", "--config", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.terminate)
        deadline = time.monotonic() + 20
        status = None
        while status != 200 and time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), "scimd exited")
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                status = int(s.recv(100).split()[1])
                s.close()
            except OSError:
                time.sleep(0.1)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
