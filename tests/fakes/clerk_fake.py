"""Fake Clerk Backend API: users, organizations, organization memberships.

Follows /work/shared/contracts/clerk-organizations.md (section names in brackets), mounted under
``/v1`` (scimd's ``url`` is ``http://HOST:PORT/v1``):
  * [Base URL and auth] ``Authorization: Bearer <secret key>``: none → 401 ``authentication_invalid``,
    a wrong one → 401 ``clerk_key_invalid``. Every success is 200; errors are ClerkErrors
    ``{"errors":[{"message","long_message","code","meta"}],"clerk_trace_id"}``.
  * [Users] ``POST /users`` (unknown fields 422 ``form_param_unknown``; a taken e-mail or
    ``external_id`` 422 ``form_identifier_exists``), ``GET /users`` (bare array; repeated
    ``external_id`` / ``email_address`` / ``user_id``; ``limit`` default 10, max 500; ``offset``;
    unknown parameters ignored), ``GET /users/count``, ``GET/PATCH/DELETE /users/{id}``,
    ``POST /users/{id}/ban|unban``, ``PUT /users/{id}/email_address``. Deleting a user deletes its
    memberships.
  * [Endpoints] organizations: create (``name`` required, ``private_metadata``), list (``data`` +
    ``total_count``; ``query`` on name/id/slug, ``user_id``, ``limit``/``offset``), get (id or
    slug), PATCH, DELETE (memberships go with it), PATCH ``/metadata`` (deep merge).
    Memberships by (organization, user): create (``role`` required, one of ``roles``; 400
    ``already_a_member_in_organization`` when already a member — not idempotent), list (filter
    ``user_id``), PATCH role, DELETE (answers the removed membership).
  * [Rate limits] a 429 carries ``Retry-After`` and ``too_many_requests``.
Ids are ``user_N``, ``org_N``, ``orgmem_N``, ``idn_N``; timestamps are Unix milliseconds.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any, Dict, List, Optional, Tuple

from fakelib import BodyError, FakeApp, MethodNotAllowed, Request, Response, Router, retry_after_value, split_path

DEFAULT_SECRET = "sk_test_clerk-fake-secret"
USER_CREATE_FIELDS = {"external_id", "email_address", "first_name", "last_name", "skip_password_requirement",
                      "public_metadata", "private_metadata", "unsafe_metadata", "banned", "username", "password"}
USER_UPDATE_FIELDS = {"external_id", "first_name", "last_name", "primary_email_address_id", "username",
                      "public_metadata", "private_metadata", "unsafe_metadata"}
ORG_UPDATE_FIELDS = {"name", "slug", "max_allowed_memberships", "admin_delete_enabled", "public_metadata",
                     "private_metadata", "created_at", "role_set_key"}
ROLE_NAMES = {"org:admin": "Admin", "org:member": "Member"}


class ClerkError(Exception):
    """An error answer in the ClerkErrors envelope."""

    def __init__(self, status: int, code: str, message: str, long_message: Optional[str] = None, **meta: Any):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.long_message, self.meta = long_message or message, meta


def clerk_error(status: int, code: str, message: str, long_message: Optional[str] = None,
                headers: Optional[List[Tuple[str, str]]] = None, **meta: Any) -> Response:
    error = {"message": message, "long_message": long_message or message, "code": code, "meta": meta}
    return Response.json(status, {"errors": [error], "clerk_trace_id": "trace_fake"}, headers)


def now_ms() -> int:
    return int(time.time() * 1000)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


class ClerkFake(FakeApp):
    """The fake. Settings (``/_control/config``): ``secret_keys`` (accepted keys), ``roles``
    (the instance's role keys: org:admin, org:member)."""

    name = "clerk"
    RETRY_AFTER_BY_DEFAULT = True
    DEFAULT_CONFIG = {"secret_keys": [DEFAULT_SECRET], "roles": ["org:admin", "org:member"]}

    def __init__(self, **overrides: Any):
        self.router = Router()
        r = self.router.add
        r("POST", "/v1/users", self.create_user)
        r("GET", "/v1/users", self.list_users)
        r("GET", "/v1/users/count", self.count_users)
        r("GET", "/v1/users/{id}", self.get_user)
        r("PATCH", "/v1/users/{id}", self.update_user)
        r("DELETE", "/v1/users/{id}", self.delete_user)
        r("POST", "/v1/users/{id}/ban", lambda req, id: self.set_banned(id, True))
        r("POST", "/v1/users/{id}/unban", lambda req, id: self.set_banned(id, False))
        r("PUT", "/v1/users/{id}/email_address", self.replace_email)
        r("POST", "/v1/organizations", self.create_org)
        r("GET", "/v1/organizations", self.list_orgs)
        r("GET", "/v1/organizations/{id}", self.get_org)
        r("PATCH", "/v1/organizations/{id}", self.update_org)
        r("DELETE", "/v1/organizations/{id}", self.delete_org)
        r("PATCH", "/v1/organizations/{id}/metadata", self.merge_org_metadata)
        r("POST", "/v1/organizations/{id}/memberships", self.create_membership)
        r("GET", "/v1/organizations/{id}/memberships", self.list_memberships)
        r("PATCH", "/v1/organizations/{id}/memberships/{user_id}", self.update_membership)
        r("DELETE", "/v1/organizations/{id}/memberships/{user_id}", self.delete_membership)
        super().__init__(**overrides)

    # ---- records --------------------------------------------------------------------------------
    def reset_records(self) -> None:
        self.users: Dict[str, Dict[str, Any]] = {}
        self.orgs: Dict[str, Dict[str, Any]] = {}
        self.memberships: Dict[str, Dict[str, Dict[str, Any]]] = {}  # org id → {user id: membership}
        self.counter = 0

    def records(self) -> Dict[str, Any]:
        return {"users": [copy.deepcopy(u) for u in self.users.values()],
                "organizations": [copy.deepcopy(o) for o in self.orgs.values()],
                "memberships": [{"organization_id": org, "user_id": uid, "role": m["role"]}
                                for org, members in self.memberships.items() for uid, m in members.items()]}

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return "%s_%d" % (prefix, self.counter)

    # ---- envelopes ------------------------------------------------------------------------------
    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return clerk_error(status, "internal_clerk_error", "Oops, an unexpected error occurred", headers=headers)

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        """[Rate limits] 429 ``too_many_requests`` with ``Retry-After: <seconds>``."""
        return clerk_error(429, "too_many_requests", "Too many requests",
                           "Too many requests, retry later",
                           headers=[("Retry-After", retry_after_value(retry_after if retry_after is not None else 1))])

    # ---- dispatch -------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Auth (401) → rate limit per key (429) → route (404/405) → handler."""
        scheme, _, key = (request.header("Authorization") or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return clerk_error(401, "authentication_invalid", "Unauthorized request",
                               "You are not authorized to perform this request")
        if key not in (self.config["secret_keys"] or []):
            return clerk_error(401, "clerk_key_invalid", "Secret key invalid",
                               "The provided Clerk Secret Key is invalid.")
        limited = self.check_rate_limit(key)
        if limited is not None:
            return limited
        try:
            found = self.router.match(request.method, split_path(request.path))
        except MethodNotAllowed:
            found = None
        if found is None:
            return clerk_error(404, "resource_not_found", "not found", "The requested resource was not found")
        handler, params = found
        try:
            return handler(request, **params)
        except ClerkError as exc:
            return clerk_error(exc.status, exc.code, exc.message, exc.long_message, **exc.meta)

    # ---- helpers --------------------------------------------------------------------------------
    @staticmethod
    def body(request: Request, allowed: Optional[set] = None) -> Dict[str, Any]:
        """A JSON object body; unknown fields 422 ``form_param_unknown`` when ``allowed`` is given."""
        try:
            data = request.json() if request.body else {}
        except BodyError as exc:
            raise ClerkError(400, "request_body_invalid", "Request body invalid", str(exc))
        if not isinstance(data, dict):
            raise ClerkError(400, "request_body_invalid", "Request body invalid", "body must be a JSON object")
        for field in sorted(set(data) - (allowed if allowed is not None else set(data))):
            raise ClerkError(422, "form_param_unknown", "is unknown",
                             "%s is not a valid parameter for this request." % field, param_name=field)
        return data

    @staticmethod
    def page(request: Request, rows: List[Any]) -> List[Any]:
        """``limit`` (1–500, default 10) and ``offset``; 422 ``form_param_value_invalid`` otherwise."""
        try:
            limit, offset = int(request.q("limit", "10") or 10), int(request.q("offset", "0") or 0)
        except ValueError:
            raise ClerkError(422, "form_param_format_invalid", "is invalid", "limit and offset must be integers")
        if not 1 <= limit <= 500 or offset < 0:
            raise ClerkError(422, "form_param_value_invalid", "is invalid", "limit must be 1-500, offset >= 0",
                             param_name="limit")
        return rows[offset:offset + limit]

    @staticmethod
    def values(request: Request, name: str) -> List[str]:
        return list(request.query.get(name, [])) + list(request.query.get(name + "[]", []))

    def find_user(self, user_id: str) -> Dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ClerkError(404, "resource_not_found", "not found", "No user was found with id %s" % user_id)
        return user

    def find_org(self, org_id: str) -> Dict[str, Any]:
        for org in self.orgs.values():
            if org_id in (org["id"], org["slug"]):
                return org
        raise ClerkError(404, "resource_not_found", "not found", "No organization was found with id %s" % org_id)

    def email_owner(self, email: str) -> Optional[str]:
        for user in self.users.values():
            if any(e["email_address"].lower() == email.lower() for e in user["email_addresses"]):
                return user["id"]
        return None

    @staticmethod
    def check_string(data: Dict[str, Any], field: str) -> None:
        if field in data and data[field] is not None and not isinstance(data[field], str):
            raise ClerkError(422, "form_param_format_invalid", "is invalid", "%s must be a string" % field,
                             param_name=field)

    def email_record(self, address: str) -> Dict[str, Any]:
        if not isinstance(address, str) or "@" not in address:
            raise ClerkError(422, "form_param_format_invalid", "is invalid", "%r is not an email address" % address,
                             param_name="email_address")
        if self.email_owner(address):
            raise ClerkError(422, "form_identifier_exists", "That email address is taken. Please try another.",
                             param_name="email_address")
        return {"object": "email_address", "id": self.new_id("idn"), "email_address": address, "reserved": False,
                "verification": {"object": "verification_admin", "status": "verified", "strategy": "admin"},
                "linked_to": []}

    # ---- users ------------------------------------------------------------------------------------
    def create_user(self, request: Request) -> Response:
        """[Users] ``POST /users``: ``email_address`` is an array, the first is primary."""
        data = self.body(request, USER_CREATE_FIELDS)
        for field in ("external_id", "first_name", "last_name"):
            self.check_string(data, field)
        external = data.get("external_id")
        if external and any(u["external_id"] == external for u in self.users.values()):
            raise ClerkError(422, "form_identifier_exists", "That external id is taken.", param_name="external_id")
        addresses = data.get("email_address") or []
        if not isinstance(addresses, list):
            raise ClerkError(422, "form_param_format_invalid", "is invalid", "email_address must be an array",
                             param_name="email_address")
        emails = [self.email_record(a) for a in addresses]
        stamp = now_ms()
        user = {"object": "user", "id": self.new_id("user"), "external_id": external,
                "first_name": data.get("first_name"), "last_name": data.get("last_name"),
                "primary_email_address_id": emails[0]["id"] if emails else None, "email_addresses": emails,
                "banned": bool(data.get("banned", False)), "locked": False,
                "public_metadata": data.get("public_metadata") or {},
                "private_metadata": data.get("private_metadata") or {}, "created_at": stamp, "updated_at": stamp}
        self.users[user["id"]] = user
        return Response.json(200, copy.deepcopy(user))

    def list_users(self, request: Request) -> Response:
        """[Users] ``GET /users`` → bare array, ``-created_at`` order unless ``order_by=+created_at``."""
        rows = list(self.users.values())
        if request.q("order_by", "-created_at") != "+created_at":
            rows.reverse()
        filters = {"external_id": lambda u: u["external_id"], "user_id": lambda u: u["id"]}
        for name, get in filters.items():
            wanted = self.values(request, name)
            if wanted:
                rows = [u for u in rows if get(u) in wanted]
        emails = [e.lower() for e in self.values(request, "email_address")]
        if emails:
            rows = [u for u in rows if any(e["email_address"].lower() in emails for e in u["email_addresses"])]
        return Response.json(200, copy.deepcopy(self.page(request, rows)))

    def count_users(self, request: Request) -> Response:
        return Response.json(200, {"object": "total_count", "total_count": len(self.users)})

    def get_user(self, request: Request, id: str) -> Response:
        return Response.json(200, copy.deepcopy(self.find_user(id)))

    def update_user(self, request: Request, id: str) -> Response:
        """[Users] ``PATCH /users/{id}``: no e-mail field (unknown fields 422)."""
        user = self.find_user(id)
        data = self.body(request, USER_UPDATE_FIELDS)
        for field in ("external_id", "first_name", "last_name"):
            self.check_string(data, field)
            if field in data:
                user[field] = data[field]
        if "primary_email_address_id" in data:
            if data["primary_email_address_id"] not in [e["id"] for e in user["email_addresses"]]:
                raise ClerkError(422, "form_param_value_invalid", "is invalid", param_name="primary_email_address_id")
            user["primary_email_address_id"] = data["primary_email_address_id"]
        user["updated_at"] = now_ms()
        return Response.json(200, copy.deepcopy(user))

    def delete_user(self, request: Request, id: str) -> Response:
        self.find_user(id)
        del self.users[id]
        for members in self.memberships.values():
            members.pop(id, None)
        return Response.json(200, {"object": "user", "id": id, "deleted": True})

    def set_banned(self, id: str, banned: bool) -> Response:
        user = self.find_user(id)
        user["banned"] = banned
        return Response.json(200, copy.deepcopy(user))

    def replace_email(self, request: Request, id: str) -> Response:
        """[Users] ``PUT /users/{id}/email_address``: one primary address replaces every other."""
        user = self.find_user(id)
        data = self.body(request, {"email_address", "identification_status"})
        address = data.get("email_address")
        if not address:
            raise ClerkError(422, "form_param_missing", "is missing", param_name="email_address")
        owner = self.email_owner(address)
        if owner and owner != id:
            raise ClerkError(422, "form_identifier_exists", "That email address is taken. Please try another.")
        user["email_addresses"] = []
        record = self.email_record(address)
        user["email_addresses"] = [record]
        user["primary_email_address_id"] = record["id"]
        return Response.json(200, copy.deepcopy(record))

    # ---- organizations --------------------------------------------------------------------------
    def org_view(self, org: Dict[str, Any]) -> Dict[str, Any]:
        out = copy.deepcopy(org)
        out["members_count"] = len(self.memberships.get(org["id"], {}))
        return out

    def create_org(self, request: Request) -> Response:
        data = self.body(request)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ClerkError(422, "form_param_missing", "is missing", "name is required", param_name="name")
        if len(name) > 256:
            raise ClerkError(422, "form_param_exceeds_allowed_size", "is too long", param_name="name")
        stamp = now_ms()
        org = {"object": "organization", "id": self.new_id("org"), "name": name,
               "slug": "%s-%d" % (slugify(name), self.counter), "image_url": "", "has_image": False,
               "max_allowed_memberships": int(data.get("max_allowed_memberships") or 0),
               "admin_delete_enabled": True, "public_metadata": data.get("public_metadata") or {},
               "private_metadata": data.get("private_metadata") or {}, "created_by": data.get("created_by"),
               "created_at": stamp, "updated_at": stamp}
        self.orgs[org["id"]] = org
        self.memberships[org["id"]] = {}
        if data.get("created_by"):
            self.add_member(org, self.find_user(data["created_by"]), "org:admin")
        return Response.json(200, self.org_view(org))

    def list_orgs(self, request: Request) -> Response:
        rows = list(self.orgs.values())
        if request.q("order_by", "-created_at") != "+created_at":
            rows.reverse()
        query = (request.q("query") or "").lower()
        if query:
            rows = [o for o in rows if query in o["name"].lower() or query in o["id"] or query in o["slug"]]
        users = self.values(request, "user_id")
        if users:
            rows = [o for o in rows if any(u in self.memberships[o["id"]] for u in users)]
        wanted = self.values(request, "organization_id")
        if wanted:
            rows = [o for o in rows if o["id"] in wanted]
        return Response.json(200, {"data": [self.org_view(o) for o in self.page(request, rows)],
                                   "total_count": len(rows)})

    def get_org(self, request: Request, id: str) -> Response:
        return Response.json(200, self.org_view(self.find_org(id)))

    def update_org(self, request: Request, id: str) -> Response:
        org = self.find_org(id)
        data = self.body(request, ORG_UPDATE_FIELDS)
        if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
            raise ClerkError(422, "form_param_value_invalid", "is invalid", param_name="name")
        for field in ("name", "slug", "max_allowed_memberships", "admin_delete_enabled", "public_metadata",
                      "private_metadata"):
            if field in data:
                org[field] = data[field]
        org["updated_at"] = now_ms()
        return Response.json(200, self.org_view(org))

    def delete_org(self, request: Request, id: str) -> Response:
        org = self.find_org(id)
        del self.orgs[org["id"]]
        self.memberships.pop(org["id"], None)
        return Response.json(200, {"object": "organization", "id": org["id"], "deleted": True})

    def merge_org_metadata(self, request: Request, id: str) -> Response:
        org = self.find_org(id)
        data = self.body(request, {"public_metadata", "private_metadata"})
        for field, patch in data.items():
            org[field] = deep_merge(org[field], patch or {})
        return Response.json(200, self.org_view(org))

    # ---- memberships ------------------------------------------------------------------------------
    def add_member(self, org: Dict[str, Any], user: Dict[str, Any], role: str) -> Dict[str, Any]:
        stamp = now_ms()
        membership = {"object": "organization_membership", "id": self.new_id("orgmem"), "role": role,
                      "created_at": stamp, "updated_at": stamp}
        self.memberships[org["id"]][user["id"]] = membership
        return membership

    def membership_view(self, org: Dict[str, Any], user_id: str) -> Dict[str, Any]:
        m = self.memberships[org["id"]][user_id]
        user = self.users.get(user_id, {})
        primary = [e["email_address"] for e in user.get("email_addresses", [])
                   if e["id"] == user.get("primary_email_address_id")]
        return dict(m, role_name=ROLE_NAMES.get(m["role"], m["role"]), permissions=[], public_metadata={},
                    private_metadata={}, organization=self.org_view(org),
                    public_user_data={"user_id": user_id, "first_name": user.get("first_name"),
                                      "last_name": user.get("last_name"),
                                      "identifier": primary[0] if primary else "", "image_url": "",
                                      "has_image": False})

    def check_role(self, data: Dict[str, Any]) -> str:
        role = data.get("role")
        if not role:
            raise ClerkError(422, "form_param_missing", "is missing", "role is required", param_name="role")
        if role not in self.config["roles"]:
            raise ClerkError(422, "form_param_value_invalid", "is invalid", "%s is not a valid role" % role,
                             param_name="role")
        return role

    def create_membership(self, request: Request, id: str) -> Response:
        """[Endpoints] not idempotent: an existing member is 400 ``already_a_member_in_organization``."""
        org = self.find_org(id)
        data = self.body(request, {"user_id", "role", "public_metadata", "private_metadata"})
        if not data.get("user_id"):
            raise ClerkError(422, "form_param_missing", "is missing", param_name="user_id")
        role = self.check_role(data)
        user = self.find_user(data["user_id"])
        if user["id"] in self.memberships[org["id"]]:
            raise ClerkError(400, "already_a_member_in_organization", "already a member",
                             "User %s is already a member of the organization." % user["id"])
        self.add_member(org, user, role)
        return Response.json(200, self.membership_view(org, user["id"]))

    def list_memberships(self, request: Request, id: str) -> Response:
        org = self.find_org(id)
        rows = list(self.memberships[org["id"]])
        users = self.values(request, "user_id")
        if users:
            rows = [u for u in rows if u in users]
        return Response.json(200, {"data": [self.membership_view(org, u) for u in self.page(request, rows)],
                                   "total_count": len(rows)})

    def find_membership(self, org: Dict[str, Any], user_id: str) -> Dict[str, Any]:
        membership = self.memberships[org["id"]].get(user_id)
        if membership is None:
            raise ClerkError(404, "resource_not_found", "not found",
                             "User %s is not a member of %s" % (user_id, org["id"]))
        return membership

    def update_membership(self, request: Request, id: str, user_id: str) -> Response:
        org = self.find_org(id)
        membership = self.find_membership(org, user_id)
        membership["role"] = self.check_role(self.body(request, {"role"}))
        membership["updated_at"] = now_ms()
        return Response.json(200, self.membership_view(org, user_id))

    def delete_membership(self, request: Request, id: str, user_id: str) -> Response:
        org = self.find_org(id)
        self.find_membership(org, user_id)
        view = self.membership_view(org, user_id)
        del self.memberships[org["id"]][user_id]
        return Response.json(200, view)


def deep_merge(base: Dict[str, Any], patch: Dict[str, Any]) -> Dict[str, Any]:
    """Metadata merge: nested objects merge, ``null`` removes a key."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# ---- CLI hooks (used by run_fake.py) -----------------------------------------------------------

def add_cli_arguments(parser: Any) -> None:
    parser.add_argument("--secret-key", action="append", default=None,
                        help="accepted secret key (repeatable; default %s)" % DEFAULT_SECRET)


def config_from_args(args: Any) -> Dict[str, Any]:
    return {"secret_keys": args.secret_key} if args.secret_key else {}


FAKE_CLASS = ClerkFake

if __name__ == "__main__":
    import sys
    from run_fake import main
    sys.exit(main(["clerk"] + sys.argv[1:]))
