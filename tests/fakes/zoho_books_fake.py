"""Fake Zoho Books API v3 (users, contacts' owner) plus the Zoho Accounts OAuth token endpoint.

Follows /work/shared/contracts/zoho-books.md. One server plays both hosts: the token endpoint at
``/oauth/v2/token`` (scimd's ``accounts_url``) and the API under ``/books/v3`` (scimd's ``api_url``).

Contract facts reproduced (section of zoho-books.md in brackets):
  * [Auth] refresh flow (``grant_type=refresh_token``, query or form parameters), ``expires_in``
    (lifetime configurable so tests can force expiry), ``api_domain``, failures as HTTP 200 with
    ``{"error":"invalid_code"}`` / ``{"error":"invalid_client"}`` (or 400, switchable), the mint limit
    (10 access tokens per refresh token per 10 minutes, then blocked for the rest of the window) and
    30 live access tokens per refresh token; ``Authorization: Zoho-oauthtoken <token>`` on every call.
  * [Base URLs] ``organization_id`` required on every API call.
  * [Users endpoints] create / list / get / me / update / delete / invite / active / inactive with
    the documented messages; ``page`` from 1, ``per_page`` 200, ``page_context.has_more_page``,
    ``filter_by`` and ``sort_column``; new users are ``invited``.
  * [Contacts' owner] ``PUT /contacts/{id}`` with ``owner_id``; contacts active/inactive.
  * [Response envelope and errors] ``code``/``message`` everywhere, 1002 ``... does not exist.``,
    1000 internal error, 429 without Retry-After.
  * [Rate limits] 100 requests per minute per organization (configurable), optional daily limit.
Error codes the contract marks unconfirmed or does not give are listed in README.md.
"""

from __future__ import annotations

import bisect
import copy
import json
import math
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from fakelib import (BodyError, FakeApp, MethodNotAllowed, Request, Response, Router, SlidingWindowLimiter,
                     retry_after_value, split_path)

API_PREFIX = "/books/v3"
TOKEN_PATH = "/oauth/v2/token"

# Error codes. 0/1000/1002 are documented; the others are common in practice or invented here
# (see README.md, "What the fakes cannot reproduce").
CODE_OK = 0
CODE_INVALID_VALUE = 2           # "Invalid value passed for <field>" (seen in practice; unconfirmed)
CODE_BAD_JSON = 4                # invented: body is not valid JSON
CODE_INVALID_URL = 5             # "Invalid URL Passed" (seen in practice; unconfirmed)
CODE_METHOD = 37                 # "The HTTP method ... is not allowed" (seen in practice; unconfirmed)
CODE_RATE_LIMIT = 44             # invented: per-minute limit
CODE_DAILY_LIMIT = 45            # invented: daily limit
CODE_UNAUTHORIZED = 57           # "You are not authorized to perform this operation" (unconfirmed)
CODE_INTERNAL = 1000             # documented
CODE_EXISTS = 1001               # invented: "already exists"
CODE_NOT_FOUND = 1002            # documented
CODE_ORG = 6041                  # seen in practice for a wrong organization (unconfirmed)
CODE_NOT_ACCEPTED = 3000         # invented: active/inactive/invite not possible in this status

ROLES = {"982000000006001": "admin", "982000000006005": "staff", "982000000006009": "staff_assigned"}
DEFAULT_ROLE_ID = "982000000006005"
FILTERS = {"Status.All": None, "Status.Active": "active", "Status.Inactive": "inactive",
           "Status.Invited": "invited", "Status.Deleted": "deleted"}
SORT_COLUMNS = ("name", "email", "user_role", "status")


class ZohoError(Exception):
    """An error answer in the ``{"code","message"}`` envelope."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def zoho_time(epoch: Optional[float] = None) -> str:
    """Zoho's timestamp format, e.g. ``2016-06-05T02:30:08-0700`` (UTC here: ``+0000``)."""
    return datetime.fromtimestamp(epoch or time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z")


class _Reversed:
    """A list read backwards, sliceable without copying the whole list (``paginate`` takes one
    page and the length)."""

    def __init__(self, items: List[Any]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, part: slice) -> List[Any]:
        n = len(self.items)
        start, stop, _ = part.indices(n)
        return self.items[n - stop:n - start][::-1] if stop > start else []


class ZohoBooksFake(FakeApp):
    """The fake. Settings (``/_control/config``):

    OAuth: ``client_id``, ``client_secret``, ``refresh_tokens`` (list), ``access_token_lifetime_seconds``
    (3600), ``token_error_status`` (200 or 400), ``mint_limit`` / ``mint_window_seconds`` (10 / 600),
    ``max_live_tokens`` (30), ``api_domain`` (default ``http://<Host>``), ``scope``.
    API: ``organization_id``, ``rate_limit_per_minute`` (100) / ``rate_limit_window_seconds`` (60),
    ``daily_limit`` (0 = off) / ``daily_window_seconds``, ``create_status`` (201 or 200),
    ``echo_user_on_create`` (True), ``echo_user_on_update`` (False), ``not_found_status`` (404),
    ``invited_toggle`` (``"error"``: active/inactive on an invited user fails; ``"allow"``),
    ``auto_accept_invites`` (new users start ``active``), ``refuse_delete_owner`` (DELETE of a user
    who owns contacts fails), ``owner_name`` / ``owner_email`` (the token's own user, ``/users/me``).
    """

    name = "zoho_books"
    DEFAULT_CONFIG = {
        "client_id": "1000.FAKECLIENTID",
        "client_secret": "fake-client-secret",
        "refresh_tokens": ["1000.fake-refresh-token"],
        "access_token_lifetime_seconds": 3600.0,
        "token_error_status": 200,
        "mint_limit": 10,
        "mint_window_seconds": 600.0,
        "max_live_tokens": 30,
        "api_domain": None,
        "scope": None,
        "organization_id": "10234695",
        "organization_name": "scimd test organization",
        "rate_limit_per_minute": 100,
        "rate_limit_window_seconds": 60.0,
        "daily_limit": 0,
        "daily_window_seconds": 86400.0,
        "create_status": 201,
        "echo_user_on_create": True,
        "echo_user_on_update": False,
        "not_found_status": 404,
        "invited_toggle": "error",
        "auto_accept_invites": False,
        "refuse_delete_owner": False,
        "owner_name": "Organization Owner",
        "owner_email": "owner@example.com",
    }

    def __init__(self, **overrides: Any):
        self.router = Router()
        self._register_routes()
        super().__init__(**overrides)
        self.control_actions["expire_tokens"] = self.control_expire_tokens
        self.control_actions["accept_invitation"] = self.control_accept_invitation

    # ---- records ----------------------------------------------------------------------------
    def reset_records(self) -> None:
        self.daily = SlidingWindowLimiter()
        self.access_tokens: Dict[str, Dict[str, Any]] = {}
        self.mint_windows: Dict[str, List[float]] = {}
        self.users: Dict[str, Dict[str, Any]] = {}
        self.users_by_email: Dict[str, set] = {}  # lower-case e-mail -> user ids
        # (status filter, sort column) -> [(sort key, user_id)] ascending: GET /users sorted every
        # user per page, so a page walk over N users cost O(N^2 log N) and the fake, not scimd,
        # limited the 100k delivery drain. A create inserts into the kept orders; any other change
        # of a user's name, e-mail, role or status drops them (_users_changed).
        self.user_orders: Dict[Tuple[Optional[str], str], List[Tuple[Tuple[str, str], str]]] = {}
        self.contacts: Dict[str, Dict[str, Any]] = {}
        self.next_user = 982000000554041
        self.next_contact = 982000000567001
        owner = self._new_user(self.config["owner_name"], self.config["owner_email"], "982000000006001")
        owner.update({"status": "active", "is_current_user": True})
        self._users_changed()
        self.owner_id = owner["user_id"]

    def records(self) -> Dict[str, Any]:
        now = time.monotonic()
        tokens = [{"access_token": t, "refresh_token": info["refresh_token"],
                   "expires_in_seconds": round(info["expires"] - now, 3), "expired": info["expires"] <= now}
                  for t, info in self.access_tokens.items()]
        return {"users": [copy.deepcopy(u) for u in self.users.values()],
                "contacts": [copy.deepcopy(c) for c in self.contacts.values()],
                "access_tokens": tokens,
                "mints": {rt: {"window_started_ago": round(now - w[0], 3), "count": int(w[1])}
                          for rt, w in self.mint_windows.items()}}

    # ---- envelopes ------------------------------------------------------------------------------
    @staticmethod
    def error(status: int, code: int, message: str, headers: Optional[List[Tuple[str, str]]] = None) -> Response:
        return Response.json(status, {"code": code, "message": message}, headers,
                             content_type="application/json;charset=UTF-8")

    @staticmethod
    def ok(message: str, status: int = 200, **extra: Any) -> Response:
        body = {"code": CODE_OK, "message": message}
        body.update(extra)
        return Response.json(status, body, content_type="application/json;charset=UTF-8")

    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        message = "Internal error" if status == 500 else "Service temporarily unavailable"
        return self.error(status, CODE_INTERNAL, message, headers)

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        """[Rate limits] 429, no Retry-After (the injected ``ratelimit`` mode adds one only when
        the mode request gives ``retry_after``)."""
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return self.error(429, CODE_RATE_LIMIT,
                          "You have exceeded the maximum number of API requests allowed per minute.", headers)

    def check_rate_limit(self, key: str) -> Optional[Response]:
        """The per-minute limit never sends Retry-After ([Rate limits])."""
        wait = self.limiter.check(key, int(self.config["rate_limit_per_minute"] or 0),
                                  float(self.config["rate_limit_window_seconds"]))
        return None if wait is None else self.rate_limited_response(None)

    # ---- control actions ----------------------------------------------------------------------
    def control_expire_tokens(self, body: Dict[str, Any]) -> Tuple[int, Any]:
        """``POST /_control/expire_tokens`` ``{"access_token": optional}``: expire one or all tokens
        now (the next API call answers 401, forcing the adapter to refresh)."""
        target = body.get("access_token")
        count = 0
        for token, info in self.access_tokens.items():
            if target in (None, token):
                info["expires"] = time.monotonic() - 1
                count += 1
        return 200, {"expired": count}

    def control_accept_invitation(self, body: Dict[str, Any]) -> Tuple[int, Any]:
        """``POST /_control/accept_invitation`` ``{"user_id"}`` or ``{"email"}``: the invited user
        accepts (status ``active``), as a real person clicking the e-mail link would."""
        for user in self.users.values():
            if user["status"] == "invited" and (user["user_id"] == body.get("user_id") or
                                                (body.get("email") and user["email"].lower() == str(body["email"]).lower())):
                user["status"] = "active"
                self._users_changed()
                return 200, {"user_id": user["user_id"], "status": "active"}
        return 404, {"error": "no invited user matches"}

    # ---- routing ---------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        r = self.router.add
        r("GET", "/organizations", self.list_organizations)
        r("GET", "/users", self.list_users)
        r("POST", "/users", self.create_user)
        r("GET", "/users/me", self.get_me)
        r("GET", "/users/{user_id}", self.get_user)
        r("PUT", "/users/{user_id}", self.update_user)
        r("DELETE", "/users/{user_id}", self.delete_user)
        r("POST", "/users/{user_id}/invite", self.invite_user)
        r("POST", "/users/{user_id}/active", self.mark_user_active)
        r("POST", "/users/{user_id}/inactive", self.mark_user_inactive)
        r("GET", "/settings/roles", self.list_roles)
        r("GET", "/contacts", self.list_contacts)
        r("POST", "/contacts", self.create_contact)
        r("GET", "/contacts/{contact_id}", self.get_contact)
        r("PUT", "/contacts/{contact_id}", self.update_contact)
        r("DELETE", "/contacts/{contact_id}", self.delete_contact)
        r("POST", "/contacts/{contact_id}/active", self.mark_contact_active)
        r("POST", "/contacts/{contact_id}/inactive", self.mark_contact_inactive)

    def dispatch(self, request: Request) -> Response:
        """Token endpoint, or: route (404 code 5 / 405) → token check (401) → organization_id (400)
        → per-minute and daily limits (429) → handler."""
        if request.path.rstrip("/") == TOKEN_PATH:
            return self.oauth_token(request)
        if not request.path.startswith(API_PREFIX + "/"):
            return self.error(404, CODE_INVALID_URL, "Invalid URL Passed")
        try:
            found = self.router.match(request.method, split_path(request.path[len(API_PREFIX):]))
        except MethodNotAllowed:
            return self.error(405, CODE_METHOD,
                              "The HTTP method %s is not allowed for the requested resource" % request.method)
        if found is None:
            return self.error(404, CODE_INVALID_URL, "Invalid URL Passed")
        handler, params = found
        denied = self.check_access_token(request)
        if denied is not None:
            return denied
        org_key = "account"
        if handler != self.list_organizations:
            org = request.q("organization_id")
            if org != self.config["organization_id"]:
                return self.error(400, CODE_ORG, "This user is not associated with the CompanyID/CompanyName:%s."
                                  % (org or ""))
            org_key = org
        limited = self.check_rate_limit(org_key)
        if limited is not None:
            return limited
        if self.daily.check(org_key, int(self.config["daily_limit"] or 0), float(self.config["daily_window_seconds"])) is not None:
            return self.error(429, CODE_DAILY_LIMIT,
                              "You have reached the maximum number of API calls allowed for your plan per day.")
        try:
            return handler(request, **params)
        except ZohoError as exc:
            return self.error(exc.status, exc.code, exc.message)

    # ---- OAuth ------------------------------------------------------------------------------
    def oauth_token(self, request: Request) -> Response:
        """[Auth] ``POST /oauth/v2/token`` with ``refresh_token``, ``client_id``, ``client_secret``,
        ``grant_type=refresh_token`` as query or form parameters → 200 ``{"access_token",
        "api_domain","token_type":"Bearer","expires_in"}``; errors without ``access_token``."""
        if request.method != "POST":
            return Response.json(405, {"error": "invalid_request"})
        params = {k: v[0] for k, v in request.query.items()}
        if request.content_type == "application/x-www-form-urlencoded":
            params.update({k: v[0] for k, v in request.form().items()})
        status = int(self.config["token_error_status"])
        if params.get("grant_type") != "refresh_token":
            return Response.json(status, {"error": "unsupported_grant_type"})
        if (params.get("client_id") != self.config["client_id"]
                or params.get("client_secret") != self.config["client_secret"]):
            return Response.json(status, {"error": "invalid_client"})
        refresh = params.get("refresh_token") or ""
        if refresh not in (self.config["refresh_tokens"] or []):
            return Response.json(status, {"error": "invalid_code"})
        if not self._may_mint(refresh):
            return Response.json(400, {"error": "Access Denied", "status": "failure",
                                       "error_description": "You have made too many requests continuously. "
                                                            "Please try again after some time."})
        token = self._mint(refresh)
        lifetime = float(self.config["access_token_lifetime_seconds"])
        body = {"access_token": token, "api_domain": self.api_domain(request), "token_type": "Bearer",
                "expires_in": int(math.ceil(lifetime))}
        if self.config["scope"]:
            body["scope"] = self.config["scope"]
        return Response.json(200, body)

    def api_domain(self, request: Request) -> str:
        return self.config["api_domain"] or "http://%s" % (request.header("Host") or "127.0.0.1")

    def _may_mint(self, refresh: str) -> bool:
        """[Auth] at most ``mint_limit`` tokens per ``mint_window_seconds``; once reached, blocked
        until the window (started at its first mint) ends."""
        now = time.monotonic()
        window = self.mint_windows.get(refresh)
        if window is None or now - window[0] >= float(self.config["mint_window_seconds"]):
            self.mint_windows[refresh] = [now, 0]
            window = self.mint_windows[refresh]
        return window[1] < int(self.config["mint_limit"])

    def _mint(self, refresh: str) -> str:
        self.mint_windows[refresh][1] += 1
        now = time.monotonic()
        live = sorted((info["issued"], token) for token, info in self.access_tokens.items()
                      if info["refresh_token"] == refresh and info["expires"] > now)
        while len(live) >= int(self.config["max_live_tokens"]):
            self.access_tokens.pop(live.pop(0)[1], None)  # the oldest goes
        token = "1000.%s.%s" % (secrets.token_hex(16), secrets.token_hex(16))
        self.access_tokens[token] = {"refresh_token": refresh, "issued": now,
                                     "expires": now + float(self.config["access_token_lifetime_seconds"])}
        return token

    def check_access_token(self, request: Request) -> Optional[Response]:
        """[Auth] ``Authorization: Zoho-oauthtoken <token>``; missing, unknown, expired or another
        scheme → 401 code 57."""
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        info = self.access_tokens.get(token.strip()) if scheme == "Zoho-oauthtoken" else None
        if info is None or info["expires"] <= time.monotonic():
            return self.error(401, CODE_UNAUTHORIZED, "You are not authorized to perform this operation")
        return None

    # ---- helpers ----------------------------------------------------------------------------------
    def body(self, request: Request) -> Dict[str, Any]:
        """JSON body, or the ``JSONString`` form field Zoho v3 also accepts."""
        try:
            if request.content_type == "application/x-www-form-urlencoded":
                raw = request.form().get("JSONString", [""])[0]
                data = json.loads(raw) if raw.strip() else {}
            else:
                data = request.json()
        except (BodyError, ValueError):
            raise ZohoError(400, CODE_BAD_JSON, "Invalid value passed for JSONString")
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ZohoError(400, CODE_BAD_JSON, "Invalid value passed for JSONString")
        return data

    def not_found(self, what: str) -> ZohoError:
        return ZohoError(int(self.config["not_found_status"]), CODE_NOT_FOUND, "%s does not exist." % what)

    def find_user(self, user_id: str) -> Dict[str, Any]:
        user = self.users.get(user_id)
        if user is None or user["status"] == "deleted":
            raise self.not_found("User")
        return user

    def _new_user(self, name: str, email: str, role_id: str) -> Dict[str, Any]:
        user_id = str(self.next_user)
        self.next_user += 1
        user = {"user_id": user_id, "name": name, "email": email, "role_id": role_id,
                "user_role": ROLES.get(role_id, "staff"), "status": "invited", "user_type": "zoho",
                "is_current_user": False, "photo_url": "", "cost_rate": 0.0, "is_employee": False,
                "created_time": zoho_time(), "custom_fields": []}
        self.users[user_id] = user
        self.users_by_email.setdefault(email.lower(), set()).add(user_id)
        return user  # the caller adds it to the kept orders once its status is final

    @staticmethod
    def _sort_key(user: Dict[str, Any], sort_column: str) -> Tuple[str, str]:
        return (str(user[sort_column]).lower(), user["user_id"])

    def _users_changed(self) -> None:
        """A user's name, e-mail, role or status changed: the kept list orders are rebuilt on
        their next use."""
        self.user_orders = {}

    def _user_added(self, user: Dict[str, Any]) -> None:
        """A new user (final status set): inserted into every kept order it belongs to."""
        for (wanted, sort_column), order in self.user_orders.items():
            if user["status"] == wanted if wanted else user["status"] != "deleted":
                bisect.insort(order, (self._sort_key(user, sort_column), user["user_id"]))

    def user_order(self, wanted: Optional[str], sort_column: str) -> List[Tuple[Tuple[str, str], str]]:
        """The users with status ``wanted`` (None: every one not deleted), ascending by
        ``(sort_column lower-cased, user_id)``."""
        order = self.user_orders.get((wanted, sort_column))
        if order is None:
            order = sorted((self._sort_key(u, sort_column), u["user_id"]) for u in self.users.values()
                           if (u["status"] == wanted if wanted else u["status"] != "deleted"))
            self.user_orders[(wanted, sort_column)] = order
        return order

    def set_user_email(self, user: Dict[str, Any], email: str) -> None:
        """Changes a user's e-mail, in ``users_by_email`` too (users are never removed: a deleted
        one keeps its row with status ``deleted``)."""
        ids = self.users_by_email.get(user["email"].lower())
        if ids is not None:
            ids.discard(user["user_id"])
            if not ids:
                del self.users_by_email[user["email"].lower()]
        user["email"] = email
        self.users_by_email.setdefault(email.lower(), set()).add(user["user_id"])

    @staticmethod
    def present_user(user: Dict[str, Any], single: bool = False) -> Dict[str, Any]:
        """[User fields] list shape; the single GET adds ``email_ids`` and ``custom_fields``."""
        out = {k: user[k] for k in ("user_id", "name", "email", "role_id", "user_role", "status", "user_type",
                                    "is_current_user", "photo_url", "cost_rate", "is_employee", "created_time")}
        if single:
            out["email_ids"] = [{"email": user["email"], "is_selected": True}]
            out["custom_fields"] = copy.deepcopy(user["custom_fields"])
        return out

    def validate_user_fields(self, body: Dict[str, Any], user_id: Optional[str]) -> Tuple[str, str, Optional[str]]:
        """[User fields] ``name`` and ``email`` required (on PUT too), ``role_id`` one of the roles,
        e-mail unique among the organization's users."""
        name, email = body.get("name"), body.get("email")
        if not isinstance(name, str) or not name.strip():
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for name")
        if not isinstance(email, str) or "@" not in email:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for email")
        role_id = body.get("role_id")
        if role_id is not None and str(role_id) not in ROLES:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for role_id")
        if "cost_rate" in body and not isinstance(body["cost_rate"], (int, float)):
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for cost_rate")
        # Only the users with this e-mail (users_by_email): a scan of every user per write made the
        # fake, not scimd, what the delivery benchmarks measured at tens of thousands of users.
        for other in [self.users[i] for i in self.users_by_email.get(email.lower(), ())]:
            if other["status"] != "deleted" and other["user_id"] != user_id and other["email"].lower() == email.lower():
                raise ZohoError(400, CODE_EXISTS, "A user with this email address already exists in your organization.")
        return name.strip(), email.strip(), None if role_id is None else str(role_id)

    @staticmethod
    def paginate(request: Request, rows: List[Any]) -> Tuple[List[Any], Dict[str, Any]]:
        """[List parameters and pagination] ``page`` from 1, ``per_page`` default (and max) 200."""
        try:
            page = int(request.q("page") or 1)
            per_page = int(request.q("per_page") or 200)
        except ValueError:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for page")
        if page < 1 or per_page < 1 or per_page > 200:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for %s" % ("page" if page < 1 else "per_page"))
        start = (page - 1) * per_page
        chunk = rows[start:start + per_page]
        return chunk, {"page": page, "per_page": per_page, "has_more_page": start + per_page < len(rows)}

    # ---- organizations / roles --------------------------------------------------------------
    def list_organizations(self, request: Request) -> Response:
        """[Base URLs] ``GET /organizations`` (no ``organization_id`` needed)."""
        org = {"organization_id": self.config["organization_id"], "name": self.config["organization_name"],
               "is_default_org": True, "currency_code": "USD", "time_zone": "UTC"}
        return self.ok("success", organizations=[org])

    def list_roles(self, request: Request) -> Response:
        """[User fields] ``GET /settings/roles`` (path unconfirmed) → role ids for ``role_id``."""
        roles = [{"role_id": rid, "role_name": name} for rid, name in ROLES.items()]
        return self.ok("success", roles=roles)

    # ---- users --------------------------------------------------------------------------------
    def list_users(self, request: Request) -> Response:
        """[Users endpoints] ``GET /users`` with ``filter_by``, ``sort_column``, ``sort_order``
        (A/D), ``page``, ``per_page``; ``page_context`` with ``has_more_page``."""
        filter_by = request.q("filter_by") or "Status.All"
        if filter_by not in FILTERS:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for filter_by")
        sort_column = request.q("sort_column") or "name"
        if sort_column not in SORT_COLUMNS:
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for sort_column")
        sort_order = (request.q("sort_order") or "A").upper()
        if sort_order not in ("A", "D"):
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for sort_order")
        wanted = FILTERS[filter_by]
        order = self.user_order(wanted, sort_column)
        # The same rows as sorting the matching users by that key (descending for D: the keys are
        # unique, so reversed ascending order); only the page asked for is materialised.
        rows = order if sort_order == "A" else _Reversed(order)
        chunk, context = self.paginate(request, rows)
        chunk = [self.users[user_id] for _, user_id in chunk]
        context.update({"report_name": "Users", "applied_filter": filter_by, "sort_column": sort_column,
                        "sort_order": sort_order})
        return self.ok("success", users=[self.present_user(u) for u in chunk], page_context=context)

    def create_user(self, request: Request) -> Response:
        """[Users endpoints] ``POST /users`` → 201 (or 200) ``{"code":0,"message":"Your invitation has
        been sent.","user":{...}}``; the user starts ``invited``."""
        body = self.body(request)
        name, email, role_id = self.validate_user_fields(body, None)
        user = self._new_user(name, email, role_id or DEFAULT_ROLE_ID)
        if isinstance(body.get("cost_rate"), (int, float)):
            user["cost_rate"] = float(body["cost_rate"])
        if self.config["auto_accept_invites"]:
            user["status"] = "active"
        self._user_added(user)
        extra = {"user": self.present_user(user)} if self.config["echo_user_on_create"] else {}
        return self.ok("Your invitation has been sent.", int(self.config["create_status"]), **extra)

    def get_user(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``GET /users/{id}`` → ``user`` (single shape); 404 code 1002."""
        return self.ok("success", user=self.present_user(self.find_user(user_id), single=True))

    def get_me(self, request: Request) -> Response:
        """[Users endpoints] ``GET /users/me``: the user the token belongs to."""
        return self.ok("success", user=self.present_user(self.users[self.owner_id], single=True))

    def update_user(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``PUT /users/{id}`` (``name`` and ``email`` required) → "The user
        information has been updated."; 404 code 1002."""
        user = self.find_user(user_id)
        body = self.body(request)
        name, email, role_id = self.validate_user_fields(body, user_id)
        user["name"] = name
        self.set_user_email(user, email)
        if role_id is not None:
            user.update({"role_id": role_id, "user_role": ROLES[role_id]})
        self._users_changed()
        if isinstance(body.get("cost_rate"), (int, float)):
            user["cost_rate"] = float(body["cost_rate"])
        extra = {"user": self.present_user(user, single=True)} if self.config["echo_user_on_update"] else {}
        return self.ok("The user information has been updated.", **extra)

    def delete_user(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``DELETE /users/{id}`` → "The user has been removed from your
        organization." (kept as ``deleted``, visible with ``filter_by=Status.Deleted``)."""
        user = self.find_user(user_id)
        if user["is_current_user"]:
            raise ZohoError(400, CODE_NOT_ACCEPTED, "You cannot delete yourself.")
        if self.config["refuse_delete_owner"] and any(c.get("owner_id") == user_id for c in self.contacts.values()):
            raise ZohoError(400, CODE_NOT_ACCEPTED,
                            "This user is associated with contacts. Reassign them before deleting the user.")
        user["status"] = "deleted"
        self._users_changed()
        return self.ok("The user has been removed from your organization.")

    def invite_user(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``POST /users/{id}/invite`` → "Your invitation has been sent." (only
        while ``invited``)."""
        user = self.find_user(user_id)
        if user["status"] != "invited":
            raise ZohoError(400, CODE_NOT_ACCEPTED, "The user has already accepted the invitation.")
        return self.ok("Your invitation has been sent.")

    def _toggle_user(self, user_id: str, status: str) -> Response:
        user = self.find_user(user_id)
        if user["status"] == "invited" and self.config["invited_toggle"] != "allow":
            raise ZohoError(400, CODE_NOT_ACCEPTED,
                            "The user has not accepted the invitation yet. Try again once the invitation is accepted.")
        if user["is_current_user"] and status == "inactive":
            raise ZohoError(400, CODE_NOT_ACCEPTED, "You cannot mark yourself as inactive.")
        user["status"] = status
        self._users_changed()
        return self.ok("The user has been marked as %s." % status)

    def mark_user_active(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``POST /users/{id}/active`` → "The user has been marked as active."."""
        return self._toggle_user(user_id, "active")

    def mark_user_inactive(self, request: Request, user_id: str) -> Response:
        """[Users endpoints] ``POST /users/{id}/inactive`` → "The user has been marked as inactive."."""
        return self._toggle_user(user_id, "inactive")

    # ---- contacts ----------------------------------------------------------------------------
    def find_contact(self, contact_id: str) -> Dict[str, Any]:
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise self.not_found("Contact")
        return contact

    def _owner(self, value: Any) -> Tuple[str, str]:
        """``owner_id`` must name a current user; ``""`` clears it."""
        if value in ("", None):
            return "", ""
        user = self.users.get(str(value))
        if user is None or user["status"] == "deleted":
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for owner_id")
        return user["user_id"], user["name"]

    def create_contact(self, request: Request) -> Response:
        """[Contacts' owner] ``POST /contacts`` (``contact_name`` required) → 201 ``contact``."""
        body = self.body(request)
        name = body.get("contact_name")
        if not isinstance(name, str) or not name.strip():
            raise ZohoError(400, CODE_INVALID_VALUE, "Invalid value passed for contact_name")
        owner_id, owner_name = self._owner(body.get("owner_id"))
        contact_id = str(self.next_contact)
        self.next_contact += 1
        contact = {"contact_id": contact_id, "contact_name": name.strip(),
                   "company_name": str(body.get("company_name") or ""),
                   "contact_type": str(body.get("contact_type") or "customer"), "status": "active",
                   "email": str(body.get("email") or ""), "owner_id": owner_id, "owner_name": owner_name,
                   "created_time": zoho_time()}
        self.contacts[contact_id] = contact
        return self.ok("The contact has been added.", int(self.config["create_status"]), contact=copy.deepcopy(contact))

    def list_contacts(self, request: Request) -> Response:
        """``GET /contacts`` with ``page``/``per_page``."""
        chunk, context = self.paginate(request, list(self.contacts.values()))
        context.update({"report_name": "Contacts"})
        return self.ok("success", contacts=copy.deepcopy(chunk), page_context=context)

    def get_contact(self, request: Request, contact_id: str) -> Response:
        """``GET /contacts/{id}``; 404 code 1002."""
        return self.ok("success", contact=copy.deepcopy(self.find_contact(contact_id)))

    def update_contact(self, request: Request, contact_id: str) -> Response:
        """[Contacts' owner] ``PUT /contacts/{id}`` partial body, e.g. ``{"owner_id":"<user_id>"}``."""
        contact = self.find_contact(contact_id)
        body = self.body(request)
        if "owner_id" in body:
            contact["owner_id"], contact["owner_name"] = self._owner(body["owner_id"])
        for key in ("contact_name", "company_name", "contact_type", "email"):
            if key in body and isinstance(body[key], str):
                contact[key] = body[key]
        return self.ok("Contact information has been saved.", contact=copy.deepcopy(contact))

    def delete_contact(self, request: Request, contact_id: str) -> Response:
        """``DELETE /contacts/{id}``."""
        self.find_contact(contact_id)
        del self.contacts[contact_id]
        return self.ok("The contact has been deleted.")

    def mark_contact_active(self, request: Request, contact_id: str) -> Response:
        """[Contacts' owner] ``POST /contacts/{id}/active``."""
        self.find_contact(contact_id)["status"] = "active"
        return self.ok("The contact has been marked as active.")

    def mark_contact_inactive(self, request: Request, contact_id: str) -> Response:
        """[Contacts' owner] ``POST /contacts/{id}/inactive``."""
        self.find_contact(contact_id)["status"] = "inactive"
        return self.ok("The contact has been marked as inactive.")


# ---- CLI hooks (used by run_fake.py) -----------------------------------------------------------

def add_cli_arguments(parser: Any) -> None:
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--client-secret", default=None)
    parser.add_argument("--refresh-token", action="append", default=None, help="accepted refresh token (repeatable)")
    parser.add_argument("--organization-id", default=None)
    parser.add_argument("--token-lifetime", type=float, default=None, help="access token lifetime, seconds (3600)")
    parser.add_argument("--mint-limit", type=int, default=None, help="tokens per refresh token per window (10)")
    parser.add_argument("--mint-window", type=float, default=None, help="mint window, seconds (600)")
    parser.add_argument("--token-error-status", type=int, choices=(200, 400), default=None)


def config_from_args(args: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {}
    for attr, key in (("client_id", "client_id"), ("client_secret", "client_secret"),
                      ("refresh_token", "refresh_tokens"), ("organization_id", "organization_id"),
                      ("token_lifetime", "access_token_lifetime_seconds"), ("mint_limit", "mint_limit"),
                      ("mint_window", "mint_window_seconds"), ("token_error_status", "token_error_status")):
        if getattr(args, attr) is not None:
            config[key] = getattr(args, attr)
    return config


FAKE_CLASS = ZohoBooksFake

if __name__ == "__main__":
    import sys
    from run_fake import main
    sys.exit(main(["zoho_books"] + sys.argv[1:]))
