"""Fake CRM: users with ``externalIds``, organizations with memberships, stores bulk import.

Follows /work/shared/contracts/crm.md exactly (section names in brackets):
  * [Auth and conventions] ``Authorization: Bearer <token>`` (401 ``unauthorized``), JSON bodies,
    CRM-assigned ids ``crm_u_N`` / ``crm_o_N`` / ``crm_s_N``, ``Idempotency-Key`` on POST (a repeat
    within 24 h returns the first response and creates nothing), the error envelope
    ``{"error":{"code","message"}}`` with 400 / 401 / 404 / 409 / 422 / 429 / 5xx.
  * [Users] create (201; 409 ``email_taken`` with ``existing_id``), get, PATCH (``externalIds`` merged
    key by key), delete (204), ``GET /users?externalId.scim=ID`` → ``{"data":[...]}``; e-mail required
    and unique case-insensitively, ``name`` defaults to the e-mail, ``active`` to true, ``role`` one of
    admin/manager/sales (default sales).
  * [Organizations and memberships] create / PATCH name / delete (memberships go with it);
    PUT membership (create or update), DELETE membership, list memberships.
  * [Stores] ``POST /stores/bulk-import`` with modes and per-store errors, 413 above 1000 stores;
    ``DELETE /stores/{external_id}``.
  * [Rate limit] 100 requests a minute per token (configurable), 429 with ``Retry-After``.
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any, Dict, List, Optional, Tuple

from fakelib import (BodyError, FakeApp, MethodNotAllowed, Request, Response, Router, retry_after_value,
                     split_path)

DEFAULT_TOKEN = "crm-test-token"
ROLES = ("admin", "manager", "sales")
MODES = ("create_or_update", "create_only", "update_only")
STORE_FIELDS = ("name", "location", "address", "phone")


class CrmError(Exception):
    """An error answer: ``{"error":{"code","message", **extra}}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def crm_error(status: int, code: str, message: str, headers: Optional[List[Tuple[str, str]]] = None,
              **extra: Any) -> Response:
    error = {"code": code, "message": message}
    error.update(extra)
    return Response.json(status, {"error": error}, headers)


class CrmFake(FakeApp):
    """The fake. Settings (``/_control/config``): ``tokens`` (accepted bearer tokens),
    ``rate_limit_per_minute`` (100) / ``rate_limit_window_seconds`` (60), ``idempotency_ttl_seconds``
    (86400), ``max_bulk_stores`` (1000), ``reject_store_names`` ([]: stores with these names get
    a per-store error in a bulk import, for tests of per-store failures).

    ``records()`` also counts the calls that reached a route (``calls``: handler name → count,
    after auth and rate limiting) and the number of stores of each bulk import
    (``bulk_import_sizes``), so tests can assert how the adapter batched."""

    name = "crm"
    RETRY_AFTER_BY_DEFAULT = True
    DEFAULT_CONFIG = {
        "tokens": [DEFAULT_TOKEN],
        "rate_limit_per_minute": 100,
        "rate_limit_window_seconds": 60.0,
        "idempotency_ttl_seconds": 86400.0,
        "max_bulk_stores": 1000,
        "reject_store_names": [],
    }

    def __init__(self, **overrides: Any):
        self.router = Router()
        self._register_routes()
        super().__init__(**overrides)

    # ---- records ------------------------------------------------------------------------------
    def reset_records(self) -> None:
        self.users: Dict[str, Dict[str, Any]] = {}
        # Look-up indexes of self.users, kept by index_user / unindex_user (every change of a
        # user goes through them), so that the e-mail check and the externalId search do not
        # scan every user: at 100,000 users a scan per request made the fake what a benchmark
        # measured. e-mail (lower case) → ids; (system, value) → ids.
        self.by_email: Dict[str, set] = {}
        self.by_external_id: Dict[Tuple[str, str], set] = {}
        self.organizations: Dict[str, Dict[str, Any]] = {}
        self.memberships: Dict[str, Dict[str, str]] = {}  # org id → {user id: role}
        self.stores: Dict[str, Dict[str, Any]] = {}       # external_id → store
        self.idempotency: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.counters = {"u": 0, "o": 0, "s": 0}
        self.calls: Dict[str, int] = {}
        self.bulk_import_sizes: List[int] = []

    def records(self) -> Dict[str, Any]:
        return {"users": [copy.deepcopy(u) for u in self.users.values()],
                "organizations": [copy.deepcopy(o) for o in self.organizations.values()],
                "memberships": [{"organizationId": org, "userId": uid, "role": role}
                                for org, members in self.memberships.items() for uid, role in members.items()],
                "stores": [copy.deepcopy(s) for s in self.stores.values()],
                "calls": dict(self.calls),
                "bulk_import_sizes": list(self.bulk_import_sizes),
                "idempotency_keys": [{"key": key, "method": v["method"], "path": v["path"], "status": v["response"].status}
                                     for (_, key), v in self.idempotency.items()]}

    def new_id(self, kind: str) -> str:
        self.counters[kind] += 1
        return "crm_%s_%d" % (kind, self.counters[kind])

    # ---- envelopes ------------------------------------------------------------------------------
    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        if status == 503:
            return crm_error(503, "service_unavailable", "service temporarily unavailable, retry later", headers)
        return crm_error(status, "internal_error", "internal server error, retry later", headers)

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        """[Rate limit] 429 with ``Retry-After: <seconds>``."""
        return crm_error(429, "rate_limited", "too many requests: %s per minute per token"
                         % self.config["rate_limit_per_minute"],
                         [("Retry-After", retry_after_value(retry_after if retry_after is not None else 1))])

    # ---- routing --------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        r = self.router.add
        r("POST", "/users", self.create_user)
        r("GET", "/users", self.find_users)
        r("GET", "/users/{id}", self.get_user)
        r("PATCH", "/users/{id}", self.patch_user)
        r("DELETE", "/users/{id}", self.delete_user)
        r("POST", "/organizations", self.create_organization)
        r("PATCH", "/organizations/{id}", self.patch_organization)
        r("DELETE", "/organizations/{id}", self.delete_organization)
        r("GET", "/organizations/{id}/memberships", self.list_memberships)
        r("PUT", "/organizations/{id}/memberships/{user_id}", self.put_membership)
        r("DELETE", "/organizations/{id}/memberships/{user_id}", self.delete_membership)
        r("POST", "/stores/bulk-import", self.bulk_import_stores)
        r("DELETE", "/stores/{external_id}", self.delete_store)

    def dispatch(self, request: Request) -> Response:
        """Auth (401) → rate limit per token (429) → route (404/405) → Idempotency-Key replay for
        POST → handler; the handler's answer to a keyed POST is cached for replays."""
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return crm_error(401, "unauthorized", "missing bearer token", [("WWW-Authenticate", "Bearer")])
        if token not in (self.config["tokens"] or []):
            return crm_error(401, "unauthorized", "invalid bearer token", [("WWW-Authenticate", "Bearer")])
        limited = self.check_rate_limit(token)
        if limited is not None:
            return limited
        try:
            found = self.router.match(request.method, split_path(request.path))
        except MethodNotAllowed as exc:
            return crm_error(405, "method_not_allowed", "%s is not allowed on %s" % (request.method, request.path),
                             [("Allow", ", ".join(exc.allowed))])
        if found is None:
            return crm_error(404, "not_found", "no route for %s %s" % (request.method, request.path))
        key = request.header("Idempotency-Key") if request.method == "POST" else None
        if key:
            replay = self.idempotent_replay(token, key, request)
            if replay is not None:
                return replay
        handler, params = found
        self.calls[handler.__name__] = self.calls.get(handler.__name__, 0) + 1
        try:
            response = handler(request, **params)
        except CrmError as exc:
            response = crm_error(exc.status, exc.code, exc.message, **exc.extra)
        if key:
            self.idempotency[(token, key)] = {"stored": time.monotonic(), "method": request.method,
                                              "path": request.path, "fingerprint": _fingerprint(request),
                                              "response": response.copy()}
        return response

    def idempotent_replay(self, token: str, key: str, request: Request) -> Optional[Response]:
        """[Auth and conventions] same key within the TTL → the first response, nothing created.
        The log entry is marked ``idempotent_replay`` (and ``idempotency_mismatch`` when the
        repeat's method, path or body differ from the first request's)."""
        cached = self.idempotency.get((token, key))
        if cached is None:
            return None
        if time.monotonic() - cached["stored"] > float(self.config["idempotency_ttl_seconds"]):
            del self.idempotency[(token, key)]
            return None
        entry = getattr(request, "log_entry", None)
        if entry is not None:
            entry["idempotent_replay"] = True
            if cached["fingerprint"] != _fingerprint(request):
                entry["idempotency_mismatch"] = True
        return cached["response"].copy()

    # ---- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def body(request: Request) -> Dict[str, Any]:
        """[Auth and conventions] a JSON object body, else 400 ``bad_request``."""
        try:
            data = request.json()
        except BodyError as exc:
            raise CrmError(400, "bad_request", "body is not valid JSON: %s" % exc)
        if not isinstance(data, dict):
            raise CrmError(400, "bad_request", "body must be a JSON object")
        return data

    def find_user(self, user_id: str) -> Dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise CrmError(404, "not_found", "user %s not found" % user_id)
        return user

    def find_org(self, org_id: str) -> Dict[str, Any]:
        org = self.organizations.get(org_id)
        if org is None:
            raise CrmError(404, "not_found", "organization %s not found" % org_id)
        return org

    def email_owner(self, email: str, except_id: Optional[str] = None) -> Optional[str]:
        owners = self.by_email.get(email.lower(), set()) - {except_id}
        return min(owners, key=self._creation_order) if owners else None

    def _creation_order(self, user_id: str) -> int:
        return int(user_id.rsplit("_", 1)[1])

    def _index_keys(self, user: Dict[str, Any]) -> Tuple[str, List[Tuple[str, str]]]:
        return user["email"].lower(), list(user["externalIds"].items())

    def index_user(self, user: Dict[str, Any]) -> None:
        email, ids = self._index_keys(user)
        self.by_email.setdefault(email, set()).add(user["id"])
        for key in ids:
            self.by_external_id.setdefault(key, set()).add(user["id"])

    def unindex_user(self, user: Dict[str, Any]) -> None:
        email, ids = self._index_keys(user)
        for index, key in [(self.by_email, email)] + [(self.by_external_id, k) for k in ids]:
            index[key].discard(user["id"])
            if not index[key]:
                del index[key]

    @staticmethod
    def validate_user(body: Dict[str, Any], partial: bool) -> Dict[str, Any]:
        """[Users] field rules; 422 ``validation_error`` naming the field."""
        out: Dict[str, Any] = {}
        if "email" in body or not partial:
            email = body.get("email")
            if not isinstance(email, str) or "@" not in email or not email.strip():
                raise CrmError(422, "validation_error", "email is required and must be an e-mail address")
            out["email"] = email.strip()
        if "name" in body and body["name"] is not None:
            if not isinstance(body["name"], str):
                raise CrmError(422, "validation_error", "name must be a string")
            out["name"] = body["name"]
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise CrmError(422, "validation_error", "active must be a boolean")
            out["active"] = body["active"]
        if "role" in body:
            if body["role"] not in ROLES:
                raise CrmError(422, "validation_error", "role must be one of admin, manager, sales")
            out["role"] = body["role"]
        if "externalIds" in body and body["externalIds"] is not None:
            ids = body["externalIds"]
            if not isinstance(ids, dict) or not all(isinstance(v, str) or (partial and v is None) for v in ids.values()):
                raise CrmError(422, "validation_error", "externalIds must be an object of strings")
            out["externalIds"] = dict(ids)
        return out

    # ---- users ------------------------------------------------------------------------------------
    def create_user(self, request: Request) -> Response:
        """[Users] ``POST /users`` → 201 user; 409 ``email_taken`` with ``existing_id``."""
        fields = self.validate_user(self.body(request), partial=False)
        existing = self.email_owner(fields["email"])
        if existing:
            raise CrmError(409, "email_taken", "email %s is already used" % fields["email"], existing_id=existing)
        user = {"id": self.new_id("u"), "email": fields["email"], "name": fields.get("name") or fields["email"],
                "active": fields.get("active", True), "role": fields.get("role", "sales"),
                "externalIds": {k: v for k, v in fields.get("externalIds", {}).items() if v is not None}}
        self.users[user["id"]] = user
        self.index_user(user)
        return Response.json(201, copy.deepcopy(user))

    def find_users(self, request: Request) -> Response:
        """[Users] ``GET /users?externalId.<system>=ID`` → ``{"data":[...]}`` (0 or 1 element per
        system id); other query parameters are 400."""
        filters = {}
        for name, values in request.query.items():
            if not name.startswith("externalId.") or len(name) == len("externalId."):
                raise CrmError(400, "bad_request", "unsupported query parameter %s" % name)
            filters[name[len("externalId."):]] = values[0]
        if filters:
            candidates = set.intersection(*(self.by_external_id.get(k, set()) for k in filters.items()))
            rows = [self.users[i] for i in sorted(candidates, key=self._creation_order)]
        else:
            rows = list(self.users.values())
        return Response.json(200, {"data": copy.deepcopy(rows)})

    def get_user(self, request: Request, id: str) -> Response:
        """[Users] ``GET /users/{id}`` → 200 user; 404."""
        return Response.json(200, copy.deepcopy(self.find_user(id)))

    def patch_user(self, request: Request, id: str) -> Response:
        """[Users] ``PATCH /users/{id}``: any subset; ``externalIds`` merged key by key (a ``null``
        value removes that key); 404; 409 ``email_taken``; 422."""
        self.find_user(id)
        fields = self.validate_user(self.body(request), partial=True)
        if "email" in fields:
            existing = self.email_owner(fields["email"], except_id=id)
            if existing:
                raise CrmError(409, "email_taken", "email %s is already used" % fields["email"], existing_id=existing)
        user = self.users[id]
        self.unindex_user(user)  # changed out of the indexes, indexed again below
        for key in ("email", "name", "active", "role"):
            if key in fields:
                user[key] = fields[key]
        for system, value in fields.get("externalIds", {}).items():
            if value is None:
                user["externalIds"].pop(system, None)
            else:
                user["externalIds"][system] = value
        self.index_user(user)
        return Response.json(200, copy.deepcopy(user))

    def delete_user(self, request: Request, id: str) -> Response:
        """[Users] ``DELETE /users/{id}`` → 204 (memberships go with it); 404."""
        self.unindex_user(self.find_user(id))
        del self.users[id]
        for members in self.memberships.values():
            members.pop(id, None)
        return Response.empty(204)

    # ---- organizations ------------------------------------------------------------------------
    def create_organization(self, request: Request) -> Response:
        """[Organizations] ``POST /organizations`` ``{"name","externalId"}`` → 201."""
        body = self.body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CrmError(422, "validation_error", "name is required")
        external = body.get("externalId")
        if external is not None and not isinstance(external, str):
            raise CrmError(422, "validation_error", "externalId must be a string")
        org = {"id": self.new_id("o"), "name": name, "externalId": external}
        self.organizations[org["id"]] = org
        self.memberships[org["id"]] = {}
        return Response.json(201, copy.deepcopy(org))

    def patch_organization(self, request: Request, id: str) -> Response:
        """[Organizations] ``PATCH /organizations/{id}`` ``{"name"}`` → 200 organization; 404; 422."""
        org = self.find_org(id)
        body = self.body(request)
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise CrmError(422, "validation_error", "name must be a non-empty string")
            org["name"] = body["name"]
        return Response.json(200, copy.deepcopy(org))

    def delete_organization(self, request: Request, id: str) -> Response:
        """[Organizations] ``DELETE /organizations/{id}`` → 204, memberships go with it; 404."""
        self.find_org(id)
        del self.organizations[id]
        self.memberships.pop(id, None)
        return Response.empty(204)

    def put_membership(self, request: Request, id: str, user_id: str) -> Response:
        """[Memberships] ``PUT /organizations/{id}/memberships/{userId}`` ``{"role"}`` → 200
        ``{"userId","role"}`` (creates or updates); 404 if either is unknown."""
        self.find_org(id)
        self.find_user(user_id)
        body = self.body(request)
        role = body.get("role", "member")
        if not isinstance(role, str) or not role.strip():
            raise CrmError(422, "validation_error", "role must be a non-empty string")
        self.memberships[id][user_id] = role
        return Response.json(200, {"userId": user_id, "role": role})

    def delete_membership(self, request: Request, id: str, user_id: str) -> Response:
        """[Memberships] ``DELETE /organizations/{id}/memberships/{userId}`` → 204; 404 if not a member."""
        self.find_org(id)
        if user_id not in self.memberships[id]:
            raise CrmError(404, "not_found", "user %s is not a member of %s" % (user_id, id))
        del self.memberships[id][user_id]
        return Response.empty(204)

    def list_memberships(self, request: Request, id: str) -> Response:
        """[Memberships] ``GET /organizations/{id}/memberships`` → ``{"data":[{"userId","role"}]}``."""
        self.find_org(id)
        return Response.json(200, {"data": [{"userId": uid, "role": role} for uid, role in self.memberships[id].items()]})

    # ---- stores -----------------------------------------------------------------------------------
    def bulk_import_stores(self, request: Request) -> Response:
        """[Stores] ``POST /stores/bulk-import`` → 200 summary with per-store errors; 413 above
        ``max_bulk_stores``; 422 for a missing ``stores`` array or an unknown ``mode``."""
        body = self.body(request)
        stores = body.get("stores")
        if not isinstance(stores, list):
            raise CrmError(422, "validation_error", "stores must be an array")
        if len(stores) > int(self.config["max_bulk_stores"]):
            raise CrmError(413, "payload_too_large", "at most %d stores per call, got %d"
                           % (int(self.config["max_bulk_stores"]), len(stores)))
        self.bulk_import_sizes.append(len(stores))
        mode = body.get("mode", "create_or_update")
        if mode not in MODES:
            raise CrmError(422, "validation_error", "mode must be one of " + ", ".join(MODES))
        created = updated = 0
        errors: List[Dict[str, Any]] = []
        for index, store in enumerate(stores):
            outcome = self.import_store(store, mode)
            if outcome == "created":
                created += 1
            elif outcome == "updated":
                updated += 1
            else:
                external = store.get("external_id") if isinstance(store, dict) else None
                errors.append({"index": index, "external_id": external, "message": outcome})
        return Response.json(200, {"success": not errors, "total_processed": len(stores), "created": created,
                                    "updated": updated, "failed": len(errors), "errors": errors})

    def import_store(self, store: Any, mode: str) -> str:
        """One store of a bulk import: ``"created"``, ``"updated"`` or an error message."""
        if not isinstance(store, dict):
            return "store must be an object"
        external = store.get("external_id")
        if not isinstance(external, str) or not external.strip():
            return "external_id is required"
        for field in STORE_FIELDS:
            if store.get(field) is not None and not isinstance(store[field], str):
                return "%s must be a string" % field
        if store.get("name") in (self.config.get("reject_store_names") or []):
            return "store name %s is refused (reject_store_names)" % store.get("name")
        existing = self.stores.get(external)
        if existing is not None:
            if mode == "create_only":
                return "store with external_id %s already exists" % external
            if "name" in store and not (store["name"] or "").strip():
                return "name must not be empty"
            for field in STORE_FIELDS:
                if field in store:
                    existing[field] = store[field]
            return "updated"
        if mode == "update_only":
            return "store with external_id %s does not exist" % external
        if not isinstance(store.get("name"), str) or not store["name"].strip():
            return "name is required"
        record = {"id": self.new_id("s"), "external_id": external}
        for field in STORE_FIELDS:
            record[field] = store.get(field)
        self.stores[external] = record
        return "created"

    def delete_store(self, request: Request, external_id: str) -> Response:
        """[Stores] ``DELETE /stores/{external_id}`` → 204; 404."""
        if external_id not in self.stores:
            raise CrmError(404, "not_found", "store %s not found" % external_id)
        del self.stores[external_id]
        return Response.empty(204)


def _fingerprint(request: Request) -> str:
    return hashlib.sha256(b"%s %s\n" % (request.method.encode(), request.path.encode()) + request.body).hexdigest()


# ---- CLI hooks (used by run_fake.py) -----------------------------------------------------------

def add_cli_arguments(parser: Any) -> None:
    parser.add_argument("--token", action="append", default=None,
                        help="accepted bearer token (repeatable; default %s)" % DEFAULT_TOKEN)
    parser.add_argument("--max-bulk", type=int, default=None, help="stores per bulk import (1000)")


def config_from_args(args: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {}
    if args.token:
        config["tokens"] = args.token
    if args.max_bulk is not None:
        config["max_bulk_stores"] = args.max_bulk
    return config


FAKE_CLASS = CrmFake

if __name__ == "__main__":
    import sys
    from run_fake import main
    sys.exit(main(["crm"] + sys.argv[1:]))
