"""Fake webhook receiver: RFC 8935 push delivery of RFC 9967 SCIM Security Event Tokens.

Follows /work/shared/contracts/events-and-webhooks.md (section numbers in brackets):
  * [2, Delivery of SETs] ``POST <path>`` with ``Content-Type: application/secevent+jwt`` and the
    compact JWS as body. Success is **202 Accepted with an empty body**; a rejected SET is **400**
    with ``{"err":"<code>","description":"..."}`` where ``err`` is one of the IANA codes
    ``invalid_request`` (unparseable SET, bad payload), ``invalid_key`` (signature or algorithm not
    acceptable), ``invalid_issuer``, ``invalid_audience``, ``authentication_failed``,
    ``access_denied``. An optional bearer token guards the endpoint (401 + ``WWW-Authenticate``).
  * [1] SET checks: JOSE ``typ: secevent+jwt``; claims ``iss``, ``iat``, ``jti``, ``events`` required;
    optional ``aud`` / ``iss`` expectations.
  * [2, SCIM profile] event URIs compared case-insensitively (a warning is recorded for anything not
    lower case), ``data`` / ``attributes`` exclusivity on create/patch/put events, ``sub_id`` shape.
  * Signatures: HS256 with the shared secret (its UTF-8 bytes), RS256 with a public key PEM.
  * [3] Also accepts Standard Webhooks 1.0 JSON deliveries (``webhook-id`` / ``webhook-timestamp`` /
    ``webhook-signature``, or the ``svix-*`` twins) when ``standard_webhooks_secret`` is set.
Accepted deliveries are recorded (decoded) in ``records.events``; duplicates (same ``jti`` or
``webhook-id``) are accepted again and flagged ``duplicate: true``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from fakelib import (FakeApp, Request, Response, b64url_decode, load_rsa_pem, retry_after_value,
                     standard_webhook_signature, utc_now_iso)

SET_MEDIA_TYPE = "application/secevent+jwt"
EVENT_PREFIX = "urn:ietf:params:scim:event:"
# URI (lower case) → payload rule: "empty" (an object), "data", "attributes", "any".
EVENT_RULES = {
    EVENT_PREFIX + "feed:add": "empty",
    EVENT_PREFIX + "feed:remove": "empty",
    EVENT_PREFIX + "prov:create:full": "data",
    EVENT_PREFIX + "prov:create:notice": "attributes",
    EVENT_PREFIX + "prov:patch:full": "data",
    EVENT_PREFIX + "prov:patch:notice": "attributes",
    EVENT_PREFIX + "prov:put:full": "data",
    EVENT_PREFIX + "prov:put:notice": "attributes",
    EVENT_PREFIX + "prov:delete": "empty",
    EVENT_PREFIX + "prov:activate": "empty",
    EVENT_PREFIX + "prov:deactivate": "empty",
    EVENT_PREFIX + "misc:asyncresp": "any",
    EVENT_PREFIX + "sig:authmethod": "any",
    EVENT_PREFIX + "sig:pwdreset": "any",
}


class SetRejected(Exception):
    """A SET the receiver refuses: HTTP status, RFC 8935 ``err`` code, description."""

    def __init__(self, err: str, description: str, status: int = 400):
        super().__init__(description)
        self.err, self.description, self.status = err, description, status


def set_error(status: int, err: str, description: str, headers: Optional[List[Tuple[str, str]]] = None) -> Response:
    """[2] RFC 8935 §2.3 failure body ``{"err","description"}`` (JSON, ``Content-Language: en-US``)."""
    return Response.json(status, {"err": err, "description": description},
                         [("Content-Language", "en-US")] + list(headers or []))


class WebhookReceiver(FakeApp):
    """The fake. Settings (``/_control/config``): ``path`` (``/events``), ``algorithm`` (``HS256``,
    ``RS256`` or ``none``), ``secret`` (HS256), ``public_key_pem`` (RS256; PUBLIC KEY, RSA PUBLIC KEY,
    or a private key whose public half is used), ``bearer_token`` (required ``Authorization: Bearer``
    when set), ``issuer`` / ``audience`` (expected values when set), ``require_typ`` (True),
    ``strict_events`` (True: unknown event URIs and bad payloads are ``invalid_request``),
    ``standard_webhooks_secret`` (``whsec_...``), ``timestamp_tolerance_seconds`` (300)."""

    name = "webhook"
    DEFAULT_CONFIG = {
        "path": "/events",
        "algorithm": "HS256",
        "secret": "webhook-test-secret",
        "public_key_pem": None,
        "bearer_token": None,
        "issuer": None,
        "audience": None,
        "require_typ": True,
        "strict_events": True,
        "standard_webhooks_secret": None,
        "timestamp_tolerance_seconds": 300.0,
    }

    def __init__(self, **overrides: Any):
        super().__init__(**overrides)
        self._load_key()

    # ---- records ------------------------------------------------------------------------------
    def reset_records(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.seen_ids: Dict[str, int] = {}
        if hasattr(self, "rsa_key"):
            self._load_key()

    def records(self) -> Dict[str, Any]:
        return {"events": copy.deepcopy(self.events)}

    def on_config_changed(self, changed: Dict[str, Any]) -> None:
        if "public_key_pem" in changed or "algorithm" in changed:
            self._load_key()

    def _load_key(self) -> None:
        pem = self.config.get("public_key_pem")
        self.rsa_key = load_rsa_pem(pem) if pem else None

    # ---- envelopes ------------------------------------------------------------------------------
    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return Response.text(status, "Internal Server Error" if status == 500 else "Service Unavailable",
                             headers=headers)

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return Response.text(429, "Too Many Requests", headers=headers)

    # ---- dispatch -------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Path (404) → POST only (405) → bearer token (401) → optional rate limit → Standard
        Webhooks JSON or SET push."""
        if request.path.rstrip("/") != self.config["path"].rstrip("/"):
            return Response.text(404, "Not Found")
        if request.method != "POST":
            return Response.text(405, "Method Not Allowed", headers=[("Allow", "POST")])
        expected = self.config["bearer_token"]
        if expected:
            header = request.header("Authorization") or ""
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
                return set_error(401, "authentication_failed", "missing or invalid bearer token",
                                 [("WWW-Authenticate", 'Bearer realm="events"')])
        limited = self.check_rate_limit("receiver")
        if limited is not None:
            return limited
        if request.content_type == "application/json" and (request.header("webhook-id") or request.header("svix-id")):
            return self.receive_standard_webhook(request)
        try:
            return self.receive_set(request)
        except SetRejected as exc:
            return set_error(exc.status, exc.err, exc.description)

    # ---- SET push (RFC 8935) -------------------------------------------------------------------
    def receive_set(self, request: Request) -> Response:
        """[2] Validate and record one SET; 202 with an empty body, or ``SetRejected``."""
        if request.content_type != SET_MEDIA_TYPE:
            raise SetRejected("invalid_request", "Content-Type must be %s, got %r"
                              % (SET_MEDIA_TYPE, request.header("content-type")))
        try:
            compact = request.body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise SetRejected("invalid_request", "the body is not a compact JWS")
        parts = compact.split(".")
        if len(parts) == 5:
            raise SetRejected("invalid_request", "encrypted SETs (JWE) are not supported by this receiver")
        if len(parts) != 3:
            raise SetRejected("invalid_request", "the body is not a compact JWS (expected 3 parts)")
        header = _decode_json_part(parts[0], "JOSE header")
        self.check_header(header)
        self.verify_signature(header.get("alg"), (parts[0] + "." + parts[1]).encode("ascii"), parts[2])
        claims = _decode_json_part(parts[1], "claims")
        warnings = self.check_claims(claims)
        jti = claims["jti"]
        duplicate = jti in self.seen_ids
        self.seen_ids[jti] = self.seen_ids.get(jti, 0) + 1
        entry = getattr(request, "log_entry", None)
        self.events.append({
            "format": "set", "received_at": utc_now_iso(), "request_seq": entry["seq"] if entry else None,
            "jti": jti, "duplicate": duplicate, "header": header, "claims": claims,
            "event_uris": list(claims["events"].keys()), "warnings": warnings, "token": compact,
        })
        return Response.empty(202)

    def check_header(self, header: Dict[str, Any]) -> None:
        """[1] JOSE header: ``typ`` ``secevent+jwt`` (when ``require_typ``), no ``crit``."""
        typ = str(header.get("typ", "")).lower()
        if self.config["require_typ"] and typ not in ("secevent+jwt", "application/secevent+jwt"):
            raise SetRejected("invalid_request", "JOSE header typ must be secevent+jwt, got %r" % header.get("typ"))
        if "crit" in header:
            raise SetRejected("invalid_request", "unsupported critical header parameters")

    def verify_signature(self, alg: Any, signing_input: bytes, signature_part: str) -> None:
        """HS256 / RS256 verification against the configured key; ``invalid_key`` when the
        algorithm is not the configured one or the signature does not verify."""
        expected = self.config["algorithm"]
        if alg != expected:
            raise SetRejected("invalid_key", "JWS alg %r is not accepted (expected %s)" % (alg, expected))
        try:
            signature = b64url_decode(signature_part)
        except ValueError:
            raise SetRejected("invalid_request", "the JWS signature is not base64url")
        if alg == "none":
            if signature:
                raise SetRejected("invalid_request", "an unsigned SET must have an empty signature")
            return
        if alg == "HS256":
            secret = (self.config["secret"] or "").encode("utf-8")
            good = hmac.compare_digest(hmac.new(secret, signing_input, hashlib.sha256).digest(), signature)
        elif alg == "RS256":
            if self.rsa_key is None:
                raise SetRejected("invalid_key", "no RS256 public key is configured on the receiver")
            good = self.rsa_key.verify_rs256(signing_input, signature)
        else:
            good = False
        if not good:
            raise SetRejected("invalid_key", "the SET signature does not verify with the receiver's key")

    def check_claims(self, claims: Dict[str, Any]) -> List[str]:
        """[1] + [2] required claims, issuer and audience, events; returns non-fatal warnings."""
        if not isinstance(claims.get("iss"), str) or not claims["iss"]:
            raise SetRejected("invalid_request", "claim iss is required")
        if not isinstance(claims.get("iat"), (int, float)) or isinstance(claims.get("iat"), bool):
            raise SetRejected("invalid_request", "claim iat (NumericDate) is required")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise SetRejected("invalid_request", "claim jti is required")
        events = claims.get("events")
        if not isinstance(events, dict) or not events:
            raise SetRejected("invalid_request", "claim events must be a non-empty object")
        if self.config["issuer"] and claims["iss"] != self.config["issuer"]:
            raise SetRejected("invalid_issuer", "issuer %r is not accepted" % claims["iss"])
        if self.config["audience"]:
            aud = claims.get("aud")
            audiences = aud if isinstance(aud, list) else [aud]
            if self.config["audience"] not in audiences:
                raise SetRejected("invalid_audience", "the SET audience %r does not include %s"
                                  % (aud, self.config["audience"]))
        warnings: List[str] = []
        for uri, payload in events.items():
            warnings.extend(self.check_event(uri, payload))
        warnings.extend(_check_sub_id(claims.get("sub_id")))
        return warnings

    def check_event(self, uri: str, payload: Any) -> List[str]:
        """[2] One event: known URI (case-insensitive), payload an object, exactly one of ``data`` /
        ``attributes`` as the URI's ``full`` / ``notice`` suffix demands."""
        warnings = []
        if uri != uri.lower() and uri.lower().startswith(EVENT_PREFIX):
            warnings.append("event URI %s is not lower case (RFC 9967 emits lower case)" % uri)
        rule = EVENT_RULES.get(uri.lower())
        strict = self.config["strict_events"]
        if rule is None:
            if strict:
                raise SetRejected("invalid_request", "unknown event type %s" % uri)
            return warnings + ["unknown event type %s" % uri]
        problem = None
        if not isinstance(payload, dict):
            problem = "payload of %s must be an object" % uri
        elif rule == "data" and ("data" not in payload or "attributes" in payload or not isinstance(payload["data"], dict)):
            problem = "%s needs a data object and no attributes" % uri
        elif rule == "attributes" and ("attributes" not in payload or "data" in payload
                                       or not isinstance(payload["attributes"], list)
                                       or not all(isinstance(a, str) for a in payload["attributes"])):
            problem = "%s needs an attributes array of names and no data" % uri
        if problem:
            if strict:
                raise SetRejected("invalid_request", problem)
            warnings.append(problem)
        return warnings

    # ---- Standard Webhooks ([3]) --------------------------------------------------------------------
    def receive_standard_webhook(self, request: Request) -> Response:
        """[3] Verify ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body``,
        space-separated list allowed), timestamp within tolerance, JSON payload with ``type``,
        ``timestamp``, ``data``; 204 on success, dedupe on ``webhook-id``."""
        secret = self.config["standard_webhooks_secret"]
        if not secret:
            return set_error(400, "invalid_request", "Content-Type must be %s (Standard Webhooks are not "
                                                     "enabled on this receiver)" % SET_MEDIA_TYPE)
        msg_id = request.header("webhook-id") or request.header("svix-id")
        stamp = request.header("webhook-timestamp") or request.header("svix-timestamp")
        signatures = request.header("webhook-signature") or request.header("svix-signature")
        if not (msg_id and stamp and signatures):
            return set_error(400, "invalid_request", "webhook-id, webhook-timestamp and webhook-signature are required")
        try:
            sent = int(stamp)
        except ValueError:
            return set_error(400, "invalid_request", "webhook-timestamp must be Unix seconds")
        if abs(time.time() - sent) > float(self.config["timestamp_tolerance_seconds"]):
            return set_error(400, "invalid_request", "webhook-timestamp is outside the tolerance window")
        expected = standard_webhook_signature(secret, msg_id, stamp, request.body)
        if not any(hmac.compare_digest(sig.encode(), expected.encode()) for sig in signatures.split()):
            return set_error(400, "invalid_key", "no webhook-signature matches")
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return set_error(400, "invalid_request", "the body is not JSON")
        if not isinstance(payload, dict) or not all(k in payload for k in ("type", "timestamp", "data")):
            return set_error(400, "invalid_request", "payload needs type, timestamp and data")
        duplicate = msg_id in self.seen_ids
        self.seen_ids[msg_id] = self.seen_ids.get(msg_id, 0) + 1
        entry = getattr(request, "log_entry", None)
        self.events.append({"format": "standard_webhooks", "received_at": utc_now_iso(),
                            "request_seq": entry["seq"] if entry else None, "webhook_id": msg_id,
                            "timestamp": sent, "duplicate": duplicate, "type": payload["type"],
                            "payload": payload, "warnings": []})
        return Response.empty(204)


def _decode_json_part(part: str, what: str) -> Dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise SetRejected("invalid_request", "the %s is not base64url-encoded JSON" % what)
    if not isinstance(value, dict):
        raise SetRejected("invalid_request", "the %s must be a JSON object" % what)
    return value


def _check_sub_id(sub_id: Any) -> List[str]:
    """[2] ``sub_id`` ``{"format":"scim","uri":"/Users/<id>",...}``; problems become warnings."""
    if sub_id is None:
        return ["no sub_id claim"]
    if not isinstance(sub_id, dict) or not isinstance(sub_id.get("format"), str):
        return ["sub_id must be an object with a format"]
    if sub_id["format"] == "scim" and not isinstance(sub_id.get("uri"), str):
        return ["sub_id of format scim needs a uri"]
    return []


# ---- CLI hooks (used by run_fake.py) -----------------------------------------------------------

def add_cli_arguments(parser: Any) -> None:
    parser.add_argument("--path", default=None, help="endpoint path (default /events)")
    parser.add_argument("--algorithm", choices=("HS256", "RS256", "none"), default=None)
    parser.add_argument("--secret", default=None, help="HS256 shared secret")
    parser.add_argument("--public-key-file", default=None, help="RS256 public key PEM file")
    parser.add_argument("--bearer-token", default=None, help="require Authorization: Bearer <token>")
    parser.add_argument("--issuer", default=None, help="expected iss")
    parser.add_argument("--audience", default=None, help="expected member of aud")
    parser.add_argument("--standard-webhooks-secret", default=None, help="whsec_... for Standard Webhooks JSON")


def config_from_args(args: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {}
    for attr in ("path", "algorithm", "secret", "bearer_token", "issuer", "audience", "standard_webhooks_secret"):
        if getattr(args, attr) is not None:
            config[attr] = getattr(args, attr)
    if args.public_key_file:
        with open(args.public_key_file, "r", encoding="ascii") as handle:
            config["public_key_pem"] = handle.read()
        config.setdefault("algorithm", "RS256")
    return config


FAKE_CLASS = WebhookReceiver

if __name__ == "__main__":
    import sys
    from run_fake import main
    sys.exit(main(["webhook"] + sys.argv[1:]))
