"""Smoke test: the server starts, answers its operations endpoints and guards SCIM with tokens.

Run by ctest once per database (integration_smoke_sqlite, integration_smoke_postgresql), or by
hand from this folder: python3 -m unittest -v test_smoke
"""

import unittest

from scimd_harness import SCIM_MEDIA_TYPE, ScimTestCase


class SmokeTest(ScimTestCase):
    def test_healthz_is_200_without_token(self):
        resp = self.get("/healthz", token=None)
        self.assertStatus(resp, 200)

    def test_readyz_is_200_without_token(self):
        resp = self.get("/readyz", token=None)
        self.assertStatus(resp, 200)

    def test_scim_without_token_is_401_with_bearer_challenge(self):
        resp = self.get("/Users", token=None)
        self.assertStatus(resp, 401)
        challenge = resp.headers.get("WWW-Authenticate", "")
        self.assertTrue(challenge.lower().startswith("bearer"), f"WWW-Authenticate: {challenge!r}")

    def test_scim_with_bad_token_is_401(self):
        resp = self.get("/Users", token="not-a-real-token")
        self.assertStatus(resp, 401)
        challenge = resp.headers.get("WWW-Authenticate", "")
        self.assertTrue(challenge.lower().startswith("bearer"), f"WWW-Authenticate: {challenge!r}")

    def test_service_provider_config_with_token(self):
        resp = self.get("/ServiceProviderConfig")
        self.assertStatus(resp, 200)
        self.assertIn(SCIM_MEDIA_TYPE, resp.headers.get("Content-Type", ""))
        self.assertIsInstance(resp.json, dict, resp)
        self.assertIn("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
                      resp.json.get("schemas", []))


if __name__ == "__main__":
    unittest.main()
