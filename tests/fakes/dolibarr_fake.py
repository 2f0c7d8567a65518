"""Fake Dolibarr REST API: third parties, their accounts (SCIM-id links) and extra fields.

Follows /work/shared/contracts/dolibarr.md (Dolibarr `develop`, Restler 3). Served below
``/api/index.php`` so scimd's ``url`` is ``http://HOST:PORT/api/index.php``.

Contract facts reproduced (section of dolibarr.md in brackets):
  * [Base path, transport, auth] ``DOLAPIKEY`` header, ``Authorization: Bearer``, legacy
    ``?DOLAPIKEY=`` / ``?api_key=``; 401 without a key, 401 after a deliberate delay for an unknown or
    disabled key, 503 plain text for ``dolcrypt:`` keys; ``DOLAPIENTITY`` sets the entity.
  * [Endpoints] list/get/email/barcode/post/put/delete/merge, accounts, representatives; success
    is always 200; POST answers the bare new id; PUT the whole object; DELETE the success object.
  * [List] ``sqlfilters`` (``t.`` and ``ef.`` columns, all documented operators, and/or,
    parentheses), ``sortfield``/``sortorder``, ``limit`` (0 = all) / ``page`` (0-based), ``mode``,
    ``properties``, ``pagination_data``; an empty result is 404 ``Thirdparties not found``.
  * [Extra fields] ``array_options`` with any ``options_*`` key, merged key by key on PUT;
    ``/setup/extrafields`` (admin only).
  * [Errors] Restler envelope ``{"error":{"code","message"},"debug":{...}}``, ``message`` =
    reason phrase + ": " + detail, numeric-key details on a failed create.
  * Quirks: numeric columns come back as JSON strings (``"id":"42"``; unconfirmed in the contract,
    switchable), empty ``array_options`` is ``[]`` (PHP empty array), module-disabled answers HTML 200.
"""

from __future__ import annotations

import copy
import math
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from fakelib import (REASONS, BadParam, BodyError, FakeApp, MethodNotAllowed, Request, Response, Router,
                     retry_after_value, split_path)

API_PREFIX = "/api/index.php"
DEFAULT_API_KEY = "dolibarr-test-key"

STRING_FIELDS = ("name", "name_alias", "email", "phone", "phone_mobile", "fax", "url", "address", "zip",
                 "town", "code_client", "code_fournisseur", "ref_ext", "barcode", "tva_intra",
                 "idprof1", "idprof2", "idprof3", "idprof4", "idprof5", "idprof6", "default_lang")
HTML_FIELDS = ("note_public", "note_private")
INT_FIELDS = ("client", "fournisseur", "status", "country_id", "state_id", "commercial_id")
# Numeric columns read from the database: JSON strings in Dolibarr 22.0.4's answers (capture); `prospect`
# is computed in PHP and stays a number.
NUMERIC_OUTPUT = ("id", "entity", "client", "fournisseur", "status", "country_id", "state_id")
# String columns where Dolibarr stores "" as NULL (read back as null; capture `put_clear_fields_empty`).
EMPTY_IS_NULL = tuple(f for f in STRING_FIELDS if f not in ("name", "name_alias"))
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=UTF-8"

# sqlfilters column → record key ("ef.<attr>" is handled separately).
COLUMNS = {"rowid": "id", "nom": "name", "name": "name", "name_alias": "name_alias", "email": "email",
           "ref_ext": "ref_ext", "status": "status", "client": "client", "fournisseur": "fournisseur",
           "code_client": "code_client", "code_fournisseur": "code_fournisseur", "phone": "phone",
           "datec": "date_creation", "tms": "date_modification", "entity": "entity", "zip": "zip",
           "town": "town", "url": "url", "barcode": "barcode", "fk_pays": "country_id"}
DATE_KEYS = ("date_creation", "date_modification")
# Columns with an in-memory index (value -> ids), so that the adapter's look-ups by ref_ext and
# e-mail and the uniqueness checks of codes and e-mails do not scan every third party: at 100,000
# third parties a scan per request made the fake, not scimd, what a benchmark measured. Strings
# compare case-insensitively in sqlfilters (MySQL), codes exactly (``check_codes``).
CASELESS_INDEXED = ("ref_ext", "email")
EXACT_INDEXED = ("code_client", "code_fournisseur")
# A filter on one indexed column that the index answers (a non-numeric value: numbers compare
# numerically in ``_compare``, which the index does not model; those take the full scan).
_INDEXED_FILTER = re.compile(r"\(t\.(ref_ext|email):=:'([^'()]*)'\)")
_OR_SEPARATOR = re.compile(r"\s+or\s+", re.IGNORECASE)


def _indexed_criteria(sqlfilters: str) -> List[Tuple[str, str]]:
    """``[(column, value)]`` when ``sqlfilters`` is one ``(t.ref_ext|t.email:=:'text')`` criterion
    or several joined by ``or`` (so the rows lie in the union of the index entries); else ``[]``."""
    found = []
    for part in _OR_SEPARATOR.split(sqlfilters.strip()):
        match = _INDEXED_FILTER.fullmatch(part)
        if not match or _as_number(match.group(2)) is not None:
            return []
        found.append((match.group(1), match.group(2)))
    return found
OPERATORS = ("=", "<", ">", "<=", ">=", "!=", "<>", "in", "notin", "like", "notlike", "is", "isnot")

MSG_NO_KEY = ("Failed to login to API. Neither parameter 'HTTP_DOLAPIKEY' nor 'Authentication: Bearer' "
              "found on HTTP header (and no parameter DOLAPIKEY in URL).")
MSG_BAD_USER = "Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)"
MSG_EMPTY_LIST = "No third parties found"
# Both bodies as recorded from Dolibarr 22.0.4 (capture steps `api_module_disabled`, `database_down`;
# the recording keeps only the stripped text of the error page, the markup around it is ours).
MODULE_DISABLED_HTML = ("Module <b>Api</b> must be enabled.<br><br>To activate modules, go on setup Area "
                        "(Home->Setup->Modules).")
DATABASE_DOWN_HTML = ("<html><head><title>Dolibarr</title></head><body>\n"
                      "<div class=\"error\">DolibarrHasDetectedError.</div>\n"
                      "<div>InformationToHelpDiagnose: Date: %s </div>\n</body></html>\n")


class DolibarrError(Exception):
    """A Restler ``RestException``: status, detail, numeric-key extras."""

    def __init__(self, status: int, detail: Optional[str] = None, extras: Optional[List[Optional[str]]] = None):
        super().__init__(detail or "")
        self.status = status
        self.detail = detail
        self.extras = extras or []


class BadJson(ValueError):
    """A body Restler's JsonFormat cannot decode (400 at the setup stage)."""


class SqlFilterError(ValueError):
    """``sqlfilters`` failed Dolibarr's validation (400, or 503 on older versions)."""


class UnknownColumn(ValueError):
    """A column the database does not have (SQL error → 503)."""


class DolibarrFake(FakeApp):
    """The fake. Settings (``/_control/config``):

    ``api_keys``: ``{key: {"login", "rights": ["lire","creer","supprimer"], "admin": bool,
    "disabled": bool, "entity": int}}``; ``bad_key_delay_ms`` (1000, the anti brute-force sleep);
    ``production_mode`` (omit ``debug``); ``numeric_as_strings``; ``legacy_delete_response``
    (DELETE answers ``1``); ``rights_error_status`` (403, older versions 401);
    ``bad_filter_status`` (400, older 503); ``email_mandatory`` (SOCIETE_EMAIL_MANDATORY);
    ``array_options_merge`` (True: key-wise PUT merge; False: replace); ``module_disabled``
    (HTML 200 for everything); ``undeletable_ids`` (DELETE answers 409 for these ids);
    ``database_down`` (every API call answers 202 with Dolibarr's HTML error page, as 22.0.4 does
    with its database stopped); ``email_unique`` (SOCIETE_EMAIL_UNIQUE: a second third party with
    an e-mail is a 500); ``department_extrafield`` (the third-party extra field ``department`` is
    defined, as on the recorded instance; switching it off deletes the definition, on re-creates
    it); ``extrafields_strict`` (as recorded: only defined extra fields are stored, every defined
    one is answered, ``null`` when unset; False: any ``options_*`` key is stored and echoed).
    """

    name = "dolibarr"
    DEFAULT_CONFIG = {
        "api_keys": {DEFAULT_API_KEY: {"login": "scimd", "rights": ["lire", "creer", "supprimer"],
                                       "admin": True}},
        "bad_key_delay_ms": 1000,
        "production_mode": False,
        "numeric_as_strings": True,
        "legacy_delete_response": False,
        "rights_error_status": 403,
        "bad_filter_status": 400,
        "email_mandatory": False,
        "array_options_merge": True,
        "module_disabled": False,
        "undeletable_ids": [],
        "database_down": False,
        "email_unique": False,
        "department_extrafield": True,
        "extrafields_strict": True,
    }

    def __init__(self, **overrides: Any):
        self.router = Router()
        self._register_routes()
        super().__init__(**overrides)

    # ---- records --------------------------------------------------------------------------
    def reset_records(self) -> None:
        self.thirdparties: Dict[int, Dict[str, Any]] = {}
        self.index: Dict[str, Dict[Any, set]] = {c: {} for c in CASELESS_INDEXED + EXACT_INDEXED}
        self.accounts: Dict[int, Dict[str, Any]] = {}
        self.extrafields: Dict[str, Dict[str, Dict[str, Any]]] = {}
        self.next_id = 1
        self.next_account_id = 1
        self.next_extrafield_id = 1
        self.code_seq = 0
        if self.config["department_extrafield"]:
            self.define_extrafield("societe", "department", {"label": "Department", "type": "varchar",
                                                             "size": "255", "pos": 100, "list": "1",
                                                             "alwayseditable": 1})

    def on_config_changed(self, changed: Dict[str, Any]) -> None:
        if "department_extrafield" in changed:
            defined = "department" in self.extrafields.get("societe", {})
            if changed["department_extrafield"] and not defined:
                self.define_extrafield("societe", "department", {"label": "Department"})
            elif not changed["department_extrafield"] and defined:
                del self.extrafields["societe"]["department"]

    def records(self) -> Dict[str, Any]:
        return {"thirdparties": [copy.deepcopy(t) for t in self.thirdparties.values()],
                "accounts": [copy.deepcopy(a) for a in self.accounts.values()],
                "extrafields": copy.deepcopy(self.extrafields)}

    # ---- envelopes --------------------------------------------------------------------------
    def restler_error(self, status: int, detail: Optional[str] = None, extras: Optional[List[Optional[str]]] = None,
                      stage: str = "call", headers: Optional[List[Tuple[str, str]]] = None) -> Response:
        """[Errors] ``{"error":{"code","message"[,"0":...]}, "debug":{...}}``; no ``debug`` in
        production mode."""
        reason = REASONS.get(status, "Error")
        error: Dict[str, Any] = {"code": status, "message": "%s: %s" % (reason, detail) if detail else reason}
        for index, extra in enumerate(extras or []):
            error[str(index)] = extra
        body: Dict[str, Any] = {"error": error}
        if not self.config["production_mode"]:
            stages = ["get", "route", "negotiate", "authenticate", "validate"]
            done = stages[:stages.index(stage)] if stage in stages else stages
            failure = [stage, "negotiate", "message"] if stage == "route" else [stage, "message"]
            source = "Routes.php:457" if stage == "route" else "api_thirdparties.class.php:0"
            body["debug"] = {"source": "%s at %s stage" % (source, stage),
                             "stages": {"success": done, "failure": failure}}
        return Response.json(status, body, headers, content_type=JSON_TYPE)

    def ok(self, obj: Any) -> Response:
        """A 200 JSON answer with Dolibarr's content type."""
        return Response.json(200, obj, content_type=JSON_TYPE)

    def bad_json_error(self) -> Response:
        """Capture step `post_bad_json`: JsonFormat fails before routing."""
        body: Dict[str, Any] = {"error": {"code": 400, "message": "Bad Request: Error encoding/decoding JSON: "
                                                                  "Syntax error"}}
        if not self.config["production_mode"]:
            body["debug"] = {"source": "JsonFormat.php:154 at setup stage",
                             "stages": {"success": [], "failure": ["get", "route", "negotiate", "message"]}}
        return Response.json(400, body, content_type=JSON_TYPE)

    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return self.restler_error(status, None, headers=headers)

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        """Dolibarr core has no rate limit [Rate limits]; this synthetic one uses the Restler shape."""
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return self.restler_error(429, None, stage="negotiate", headers=headers)

    # ---- routing ------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        r = self.router.add
        r("GET", "/thirdparties", self.list_thirdparties)
        r("POST", "/thirdparties", self.create_thirdparty)
        r("GET", "/thirdparties/email/{email}", self.get_by_email)
        r("GET", "/thirdparties/barcode/{barcode}", self.get_by_barcode)
        r("GET", "/thirdparties/accounts/{site}/{key_account}", self.get_by_account)
        r("GET", "/thirdparties/{id:int}", self.get_thirdparty)
        r("PUT", "/thirdparties/{id:int}", self.update_thirdparty)
        r("DELETE", "/thirdparties/{id:int}", self.delete_thirdparty)
        r("PUT", "/thirdparties/{id:int}/merge/{idtodelete:int}", self.merge_thirdparties)
        r("GET", "/thirdparties/{id:int}/accounts", self.list_accounts)
        r("POST", "/thirdparties/{id:int}/accounts", self.create_account)
        r("DELETE", "/thirdparties/{id:int}/accounts/{site}", self.delete_account)
        r("POST", "/thirdparties/{id:int}/representative/{user_id:int}", self.add_representative)
        r("DELETE", "/thirdparties/{id:int}/representative/{user_id:int}", self.delete_representative)
        r("GET", "/setup/extrafields", self.list_extrafields)
        r("GET", "/setup/extrafields/{elementtype}/{attrname}", self.get_extrafield)
        r("POST", "/setup/extrafields/{elementtype}/{attrname}", self.create_extrafield)
        r("PUT", "/setup/extrafields/{elementtype}/{attrname}", self.update_extrafield)
        r("DELETE", "/setup/extrafields/{elementtype}/{attrname}", self.delete_extrafield)

    def dispatch(self, request: Request) -> Response:
        """Module check → route (404/405) → authenticate (401/503) → validate params (400) →
        optional rate limit → handler. Mirrors ``htdocs/api/index.php`` + Restler's stage order."""
        if self.config["module_disabled"]:
            return Response.text(200, MODULE_DISABLED_HTML, HTML_TYPE)
        if self.config["database_down"]:
            # Capture step `database_down`: conf.php loads, the database connection fails, and
            # Dolibarr prints its error page with status 202 before any API routing or auth.
            return Response.text(202, DATABASE_DOWN_HTML % time.strftime("%Y%m%d%H%M%S", time.gmtime()),
                                 HTML_TYPE)
        if request.path != API_PREFIX and not request.path.startswith(API_PREFIX + "/"):
            return Response.text(404, "Not Found")
        segments = split_path(request.path[len(API_PREFIX):])
        if not segments:
            return self.restler_error(404, stage="route")
        if segments[0] not in ("thirdparties", "setup"):
            return Response.text(501, "API not found (failed to include API file)", HTML_TYPE)
        found, bad = None, None
        try:
            found = self.router.match(request.method, segments)
        except BadParam as exc:
            bad = exc
        except MethodNotAllowed:
            # Restler has no 405: a method without a route is 404 (capture step `wrong_method`).
            return self.restler_error(404, stage="route")
        if found is None and bad is None:
            return self.restler_error(404, stage="route")
        user = self.authenticate(request)
        if isinstance(user, Response):
            return user
        if bad is not None:
            return self.restler_error(400, "invalid value specified for `%s`" % bad.name, stage="route")
        limited = self.check_rate_limit(user["key"])
        if limited is not None:
            return limited
        handler, params = found
        try:
            return handler(request, user, **params)
        except BadJson:
            return self.bad_json_error()
        except DolibarrError as exc:
            return self.restler_error(exc.status, exc.detail, exc.extras)

    def authenticate(self, request: Request) -> Any:
        """[Base path, transport, auth] ``DolibarrApiAccess::__isAllowed``: returns the user dict or
        an error Response (401 JSON, 503 plain text)."""
        key = request.header("DOLAPIKEY")
        if not key:
            auth = request.header("Authorization") or ""
            if auth.lower().startswith("bearer "):
                key = auth[7:].strip()
        if not key:
            key = request.q("DOLAPIKEY") or request.q("api_key")
        if not key:
            return self.restler_error(401, MSG_NO_KEY, stage="authenticate")
        if key.startswith("dolcrypt:"):
            return Response.text(503, "Bad value for the API key. An API key should not start with dolcrypt:")
        info = self.config["api_keys"].get(key)
        if not isinstance(info, dict) or info.get("disabled"):
            response = self.restler_error(401, MSG_BAD_USER, stage="authenticate")
            response.delay = float(self.config["bad_key_delay_ms"] or 0) / 1000.0
            return response
        entity_header = request.header("DOLAPIENTITY")
        entity = int(entity_header) if entity_header and entity_header.strip().isdigit() else int(info.get("entity", 1))
        return {"key": key, "login": info.get("login", "api"), "rights": list(info.get("rights", [])),
                "admin": bool(info.get("admin")), "entity": entity}

    def require(self, user: Dict[str, Any], right: str) -> None:
        """[Errors] 403 (older versions 401) when the key's user lacks ``societe <right>``."""
        allowed = user["admin"] if right == "admin" else right in user["rights"]
        if not allowed:
            status = int(self.config["rights_error_status"])
            if right == "admin":
                raise DolibarrError(status, "Only an admin user can manage extrafields")
            raise DolibarrError(status)

    # ---- presentation ---------------------------------------------------------------------------
    def present(self, record: Dict[str, Any], properties: Optional[List[str]] = None) -> Dict[str, Any]:
        """[Response object] the cleaned ``Societe`` object (numeric columns as strings when
        ``numeric_as_strings``; empty ``array_options`` as ``[]``)."""
        out: Dict[str, Any] = {
            "id": record["id"], "entity": record["entity"], "ref": record["name"],
            "ref_ext": record.get("ref_ext"), "name": record["name"], "name_alias": record.get("name_alias") or "",
            "email": record.get("email"), "phone": record.get("phone"), "phone_mobile": record.get("phone_mobile"),
            "fax": record.get("fax"), "url": record.get("url"), "address": record.get("address"),
            "zip": record.get("zip"), "town": record.get("town"), "country_id": record.get("country_id"),
            "state_id": record.get("state_id"), "client": record["client"],
            "prospect": 1 if record["client"] in (2, 3) else 0, "fournisseur": record["fournisseur"],
            "status": record["status"], "code_client": record.get("code_client"),
            "code_fournisseur": record.get("code_fournisseur"), "barcode": record.get("barcode"),
            "tva_intra": record.get("tva_intra"), "default_lang": record.get("default_lang"),
            "note_public": record.get("note_public"), "note_private": record.get("note_private"),
            "array_options": self.present_options(record["array_options"]),
            "date_creation": record["date_creation"], "date_modification": record["date_modification"],
            "import_key": None, "statut": None, "tms": None, "fk_user_creat": None, "module": "societe",
        }
        for idx in range(1, 7):
            out["idprof%d" % idx] = record.get("idprof%d" % idx)
        if self.config["numeric_as_strings"]:
            for key in NUMERIC_OUTPUT:
                if out.get(key) is not None:
                    out[key] = str(out[key])
        if properties:
            out = {k: v for k, v in out.items() if k in properties}
        return out

    def present_options(self, options: Dict[str, Any]) -> Any:
        """``array_options`` as answered: with ``extrafields_strict`` every defined third-party extra
        field, ``null`` when unset (capture `get_created_with_status0`); ``[]`` (PHP's empty array)
        when there is none."""
        if self.config["extrafields_strict"]:
            out = {"options_" + name: options.get("options_" + name)
                   for name in self.extrafields.get("societe", {})}
        else:
            out = copy.deepcopy(options)
        return out or []

    def present_account(self, account: Dict[str, Any], full: bool = False) -> Dict[str, Any]:
        """[Endpoints] accounts: ``{id,fk_soc,key_account,site,date_creation,tms}`` with numeric ids
        (capture `account_list`); the POST answer is the whole cleaned SocieteAccount object, whose
        ``date_creation`` is a SQL date string and most ``CommonObject`` fields null
        (capture `account_create`)."""
        out = {"id": account["id"], "fk_soc": account["fk_soc"], "key_account": account["key_account"],
               "site": account["site"], "date_creation": account["date_creation"], "tms": account["tms"]}
        if full:
            out.update({"entity": None, "name": None, "status": None, "statut": None, "ref": None,
                        "ref_ext": None, "array_options": [], "date_modification": None, "tms": None,
                        "fk_user_creat": "1", "module": None, "login": account["login"],
                        "site_account": account.get("site_account"),
                        "date_creation": time.strftime("%Y-%m-%d %H:%M:%S",
                                                       time.localtime(account["date_creation"]))})
        return out

    # ---- helpers ------------------------------------------------------------------------------
    def body_dict(self, request: Request) -> Dict[str, Any]:
        """The JSON body as a dict; Restler answers 400 ``Error parsing JSON`` for bad JSON."""
        try:
            body = request.json()
        except BodyError:
            raise BadJson()
        return body if isinstance(body, dict) else {}

    # ---- the index of CASELESS_INDEXED / EXACT_INDEXED columns -------------------------------
    # Every change of self.thirdparties goes through store() / unstore(); a record is never
    # changed in place while indexed (merge takes it out of the index while it changes it).
    @staticmethod
    def _index_key(column: str, value: Any) -> Any:
        if value is None:
            return None
        return str(value).lower() if column in CASELESS_INDEXED else value

    def store(self, record: Dict[str, Any]) -> None:
        """Puts ``record`` in ``self.thirdparties`` (replacing the one with its id) and the index."""
        old = self.thirdparties.get(record["id"])
        if old is not None:
            self.unindex(old)
        self.thirdparties[record["id"]] = record  # a replaced record keeps its position
        self.reindex(record)

    def unstore(self, tp_id: int) -> None:
        """Removes third party ``tp_id`` from ``self.thirdparties`` and the index."""
        self.unindex(self.thirdparties.pop(tp_id))

    def reindex(self, record: Dict[str, Any]) -> None:
        for column, index in self.index.items():
            key = self._index_key(column, record.get(column))
            if key is not None:
                index.setdefault(key, set()).add(record["id"])

    def unindex(self, record: Dict[str, Any]) -> None:
        tp_id = record["id"]
        for column, index in self.index.items():
            key = self._index_key(column, record.get(column))
            ids = index.get(key) if key is not None else None
            if ids is not None:
                ids.discard(tp_id)
                if not ids:
                    del index[key]

    def indexed(self, column: str, value: Any) -> List[Dict[str, Any]]:
        """The stored third parties whose ``column`` has ``value`` (as the index compares), in
        ``self.thirdparties`` order (ascending id: ids only grow, a PUT keeps the position)."""
        ids = self.index[column].get(self._index_key(column, value), ())
        return [self.thirdparties[i] for i in sorted(ids)]

    def fetch(self, tp_id: int) -> Dict[str, Any]:
        record = self.thirdparties.get(tp_id)
        if record is None:
            raise DolibarrError(404, "Thirdparty not found")
        return record

    def apply_fields(self, record: Dict[str, Any], body: Dict[str, Any]) -> None:
        """Set known ``Societe`` properties from a POST/PUT body; unknown names are ignored (as SQL
        ignores them), ``caller`` only tags the trigger context, ``nom`` is the deprecated alias."""
        for key, value in body.items():
            if key in ("id", "entity", "caller", "array_options", "date_creation", "date_modification"):
                continue
            target = "name" if key == "nom" else key
            if target == "name" and value == "" and "id" in record and record["id"] in self.thirdparties:
                continue  # capture `put_empty_name`: an update with "name": "" keeps the old name
            if target in STRING_FIELDS:
                record[target] = None if value is None else _alphanohtml(str(value))
                if target in EMPTY_IS_NULL and record[target] == "":
                    record[target] = None  # capture `put_clear_fields_empty`: "" is stored as NULL
            elif target in HTML_FIELDS:
                record[target] = None if value is None else str(value)
            elif target in INT_FIELDS:
                record[target] = _to_int(value)
        if "name" in record and isinstance(record["name"], str):
            record["name"] = record["name"].strip()
        for key in ("phone", "phone_mobile", "fax"):
            if isinstance(record.get(key), str):
                record[key] = re.sub(r"[\s.]", "", record[key])
        options = body.get("array_options")
        if isinstance(options, dict):
            clean = {k: (None if v == "" else v) for k, v in options.items()
                     if isinstance(k, str) and k.startswith("options_")}
            if self.config["extrafields_strict"]:
                # Capture `put_merge_array_options_other_key`: an undefined extra field is dropped.
                defined = self.extrafields.get("societe", {})
                clean = {k: v for k, v in clean.items() if k[len("options_"):] in defined}
            if self.config["array_options_merge"]:
                record["array_options"].update(clean)
            else:
                record["array_options"] = clean
        if "caller" in body:
            record["last_caller"] = body.get("caller")

    def email_taken(self, record: Dict[str, Any]) -> bool:
        """SOCIETE_EMAIL_UNIQUE (setting ``email_unique``): another third party has this e-mail."""
        email = record.get("email")
        if not self.config["email_unique"] or not email:
            return False
        return any(other["id"] != record["id"] and (other.get("email") or "").lower() == email.lower()
                   for other in self.indexed("email", email))

    def check_codes(self, record: Dict[str, Any]) -> Optional[str]:
        """``Societe::verify``: name present, customer/supplier codes unique; returns the error key."""
        if not record.get("name"):
            return "ErrorBadThirdPartyName"
        for field, error in (("code_client", "ErrorCustomerCodeAlreadyUsed"),
                             ("code_fournisseur", "ErrorSupplierCodeAlreadyUsed")):
            value = record.get(field)
            if value in ("auto", "-1", -1):
                record[field] = self.generate_code("CU" if field == "code_client" else "SU")
                continue
            if value:
                for other in self.indexed(field, value):
                    if other["id"] != record["id"] and other.get(field) == value:
                        return error
        return None

    def generate_code(self, prefix: str) -> str:
        self.code_seq += 1
        return "%s%s-%05d" % (prefix, time.strftime("%y%m"), self.code_seq)

    # ---- third parties ---------------------------------------------------------------------
    def list_thirdparties(self, request: Request, user: Dict[str, Any]) -> Response:
        """[List] ``GET /thirdparties``: filters, sort, 0-based paging; 404 when nothing matches."""
        self.require(user, "lire")
        limit = _int_param(request, "limit", 100)
        page = max(0, _int_param(request, "page", 0))
        mode = _int_param(request, "mode", 0)
        category = _int_param(request, "category", 0)
        sqlfilters = request.q("sqlfilters")
        indexed = _indexed_criteria(sqlfilters or "")
        if indexed:
            # Only the rows the filter can match (the filter below still decides): a criterion on
            # an indexed column, or several joined by ``or`` (the adapter's ref_ext-or-e-mail
            # look-up), in ascending id order as the full list is.
            if len(indexed) == 1:
                rows = self.indexed(*indexed[0])
            else:
                ids = set()
                for column, value in indexed:
                    ids.update(self.index[column].get(self._index_key(column, value), ()))
                rows = [self.thirdparties[i] for i in sorted(ids)]
        else:
            rows = list(self.thirdparties.values())
        rows = [r for r in rows if _mode_matches(r, mode)]
        if category > 0:
            rows = []  # categories are not modelled: no third party is in any category
        if sqlfilters:
            try:
                predicate = parse_sqlfilters(sqlfilters)
                rows = [r for r in rows if predicate(r)]
            except SqlFilterError as exc:
                raise DolibarrError(int(self.config["bad_filter_status"]),
                                    "Error when validating parameter sqlfilters -> Bad syntax of the search "
                                    "string: %s" % (sqlfilters if sqlfilters.startswith("(") else "(%s)" % sqlfilters))
            except UnknownColumn as exc:
                raise DolibarrError(503, "Error when retrieve thirdparties : Unknown column '%s' in 'WHERE'" % exc)
        try:
            rows = sort_rows(rows, request.q("sortfield") or "t.rowid", request.q("sortorder") or "ASC")
        except UnknownColumn as exc:
            raise DolibarrError(503, "Error when retrieve thirdparties : Unknown column '%s' in 'ORDER BY'" % exc)
        total = len(rows)
        if limit:
            rows = rows[limit * page: limit * page + limit]
        if not rows:
            raise DolibarrError(404, MSG_EMPTY_LIST)
        properties = [p.strip() for p in (request.q("properties") or "").split(",") if p.strip()]
        data = [self.present(r, properties) for r in rows]
        if (request.q("pagination_data") or "").lower() in ("1", "true", "yes"):
            page_count = int(math.ceil(total / float(limit))) if limit else 1
            return self.ok({"data": data, "pagination": {"total": total, "page": page,
                                                                     "page_count": page_count, "limit": limit}})
        return self.ok(data)

    def get_thirdparty(self, request: Request, user: Dict[str, Any], id: int) -> Response:
        """[Endpoints] ``GET /thirdparties/{id}``: the object, or 404 ``Thirdparty not found``."""
        self.require(user, "lire")
        return self.ok(self.present(self.fetch(id)))

    def _get_by(self, user: Dict[str, Any], key: str, value: str) -> Response:
        self.require(user, "lire")
        candidates = self.indexed(key, value) if key in self.index else self.thirdparties.values()
        matches = [r for r in candidates
                   if isinstance(r.get(key), str) and r[key].lower() == value.lower()]
        if not matches:
            raise DolibarrError(404, "Thirdparty not found")
        if len(matches) > 1:
            # Societe::fetch returns -2 ("several records found"), which _fetch does not treat as
            # "not found": the API answers 200 with an empty, unloaded object.
            # Capture `get_by_email_ambiguous`: the class defaults survive (client, prospect and
            # fournisseur 0, status 1, all numbers), everything else is null.
            empty = {k: None for k in self.present(matches[0])}
            empty.update({"client": 0, "prospect": 0, "fournisseur": 0, "status": 1, "array_options": [],
                          "module": "societe"})
            return self.ok(empty)
        return self.ok(self.present(matches[0]))

    def get_by_email(self, request: Request, user: Dict[str, Any], email: str) -> Response:
        """[Endpoints] ``GET /thirdparties/email/{email}`` (case-insensitive, as MySQL compares)."""
        return self._get_by(user, "email", email)

    def get_by_barcode(self, request: Request, user: Dict[str, Any], barcode: str) -> Response:
        """[Endpoints] ``GET /thirdparties/barcode/{barcode}``."""
        return self._get_by(user, "barcode", barcode)

    def create_thirdparty(self, request: Request, user: Dict[str, Any]) -> Response:
        """[Endpoints] ``POST /thirdparties`` → 200 with the bare new id; 400 ``name field missing``;
        500 ``Error creating thirdparty`` + ``"0": "<ErrorKey>"`` when ``Societe::create`` fails."""
        self.require(user, "creer")
        body = self.body_dict(request)
        mandatory = ["name"] + (["email"] if self.config["email_mandatory"] else [])
        for field in mandatory:
            if body.get(field) is None:
                raise DolibarrError(400, "%s field missing" % field)
        now = int(time.time())
        record: Dict[str, Any] = {"id": self.next_id, "entity": user["entity"], "name": "", "client": 0,
                                  "fournisseur": 0, "status": 1, "array_options": {},
                                  "date_creation": now, "date_modification": now, "representatives": []}
        self.apply_fields(record, body)
        if self.email_taken(record):
            # Capture `email_unique_create_dup`: `"0": null, "1": "<message>"`.
            raise DolibarrError(500, "Error creating thirdparty",
                                [None, "Email %s is assigned to another third (Forbidden by setup rules)"
                                 % record["email"]])
        error = self.check_codes(record)
        if error:
            raise DolibarrError(500, "Error creating thirdparty", [error])
        self.next_id += 1
        self.store(record)
        return self.ok(record["id"])

    def update_thirdparty(self, request: Request, user: Dict[str, Any], id: int) -> Response:
        """[Endpoints] ``PUT /thirdparties/{id}``: partial update, ``array_options`` merged key by key,
        answers the whole object; 404; 500 with the error key when ``Societe::update`` fails."""
        self.require(user, "creer")
        current = self.fetch(id)
        body = self.body_dict(request)
        candidate = copy.deepcopy(current)
        self.apply_fields(candidate, body)
        if self.email_taken(candidate):
            raise DolibarrError(500)  # capture `email_unique_put_dup`: no detail at all
        error = self.check_codes(candidate)
        if error:
            raise DolibarrError(500, error)
        candidate["date_modification"] = int(time.time())
        self.store(candidate)
        return self.ok(self.present(candidate))

    def delete_thirdparty(self, request: Request, user: Dict[str, Any], id: int) -> Response:
        """[Endpoints] ``DELETE /thirdparties/{id}`` → ``{"success":{"code":200,"message":"Object deleted"}}``
        (older versions: ``1``); 404; 409 when still referenced (``undeletable_ids``)."""
        self.require(user, "supprimer")
        self.fetch(id)
        if id in (self.config["undeletable_ids"] or []):
            raise DolibarrError(409, "Can't delete, that product is probably used")
        self.unstore(id)
        for account_id in [a["id"] for a in self.accounts.values() if a["fk_soc"] == id]:
            del self.accounts[account_id]
        if self.config["legacy_delete_response"]:
            return self.ok(1)
        return self.ok({"success": {"code": 200, "message": "Object deleted"}})

    def merge_thirdparties(self, request: Request, user: Dict[str, Any], id: int, idtodelete: int) -> Response:
        """[Endpoints] ``PUT /thirdparties/{id}/merge/{idtodelete}``: empty properties of ``id`` take
        the other's values, notes are concatenated, extra fields filled, then ``idtodelete`` goes."""
        if id == idtodelete:
            raise DolibarrError(400, "Try to merge a thirdparty into itself")
        self.require(user, "creer")
        keep = self.fetch(id)
        gone = self.fetch(idtodelete)
        self.unindex(keep)  # changed below, indexed again at the end
        keep["client"] = keep["client"] | gone["client"]
        keep["fournisseur"] = keep["fournisseur"] | gone["fournisseur"]
        for key in STRING_FIELDS + ("country_id", "state_id"):
            if not keep.get(key) and gone.get(key):
                keep[key] = gone[key]
        for key in HTML_FIELDS:
            keep[key] = "\n".join(v for v in (keep.get(key), gone.get(key)) if v) or None
        for key, value in gone["array_options"].items():
            if not keep["array_options"].get(key):
                keep["array_options"][key] = value
        for account in self.accounts.values():
            if account["fk_soc"] == idtodelete:
                account["fk_soc"] = id
        self.unstore(idtodelete)
        keep["date_modification"] = int(time.time())
        self.reindex(keep)
        return self.ok(self.present(keep))

    def add_representative(self, request: Request, user: Dict[str, Any], id: int, user_id: int) -> Response:
        """[Endpoints] ``POST /thirdparties/{id}/representative/{user_id}`` → 200 ``1``."""
        self.require(user, "creer")
        record = self.fetch(id)
        if user_id not in record["representatives"]:
            record["representatives"].append(user_id)
        return self.ok(1)

    def delete_representative(self, request: Request, user: Dict[str, Any], id: int, user_id: int) -> Response:
        """[Endpoints] ``DELETE /thirdparties/{id}/representative/{user_id}`` → 200 ``1``."""
        self.require(user, "supprimer")
        record = self.fetch(id)
        if user_id in record["representatives"]:
            record["representatives"].remove(user_id)
        return self.ok(1)

    # ---- accounts ----------------------------------------------------------------------------
    def list_accounts(self, request: Request, user: Dict[str, Any], id: int) -> Response:
        """[Endpoints] ``GET /thirdparties/{id}/accounts?site=S`` → array; 404 when none (or no such
        third party)."""
        self.require(user, "lire")
        site = request.q("site")
        rows = [a for a in self.accounts.values() if a["fk_soc"] == id and (not site or a["site"] == site)]
        if not rows:
            raise DolibarrError(404, "This thirdparty does not have any account attached or does not exist.")
        return self.ok([self.present_account(a) for a in rows])

    def get_by_account(self, request: Request, user: Dict[str, Any], site: str, key_account: str) -> Response:
        """[Endpoints] ``GET /thirdparties/accounts/{site}/{key_account}`` → the third party; 404 when
        none or ambiguous (since 21.0.0)."""
        self.require(user, "lire")
        rows = [a for a in self.accounts.values() if a["site"] == site and a["key_account"] == key_account]
        owners = {a["fk_soc"] for a in rows}
        if len(owners) != 1:
            raise DolibarrError(404, "This account have many thirdparties attached or does not exist.")
        return self.ok(self.present(self.fetch(owners.pop())))

    def create_account(self, request: Request, user: Dict[str, Any], id: int) -> Response:
        """[Endpoints] ``POST /thirdparties/{id}/accounts`` ``{"site","key_account"}`` → 200 account;
        422 without ``site``; 409 when this third party already has that site; 500 for an unknown id."""
        self.require(user, "creer")
        body = self.body_dict(request)
        if body.get("site") is None:
            raise DolibarrError(422, "You must pass the site attribute in your request data !")
        site = str(body["site"])
        if any(a["fk_soc"] == id and a["site"] == site for a in self.accounts.values()):
            raise DolibarrError(409, "A SocieteAccount entity already exists for this company and site.")
        if id not in self.thirdparties:
            raise DolibarrError(500, "Error creating SocieteAccount entity. Ensure that the ID of thirdparty "
                                     "provided does exist!")
        now = int(time.time())
        account = {"id": self.next_account_id, "entity": user["entity"], "fk_soc": id, "site": site,
                   "key_account": None if body.get("key_account") is None else str(body["key_account"]),
                   "login": str(body.get("login") or ""), "status": _to_int(body.get("status", 1)),
                   "site_account": body.get("site_account"), "date_creation": now, "tms": now}
        self.next_account_id += 1
        self.accounts[account["id"]] = account
        return self.ok(self.present_account(account, full=True))

    def delete_account(self, request: Request, user: Dict[str, Any], id: int, site: str) -> Response:
        """[Endpoints] ``DELETE /thirdparties/{id}/accounts/{site}`` → 200 with an empty body (the
        method returns nothing; Restler's ``emptyBodyForNullResponse``); 404 when none."""
        self.require(user, "creer")
        rows = [a for a in self.accounts.values() if a["fk_soc"] == id and a["site"] == site]
        if not rows:
            raise DolibarrError(404)
        del self.accounts[rows[0]["id"]]
        return Response.empty(200, content_type=JSON_TYPE)

    # ---- extra fields (setup) ---------------------------------------------------------------
    def define_extrafield(self, kind: str, attrname: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Stores a definition in the shape `GET /setup/extrafields/...` answers (capture
        `extrafield_get`: every column a string or null)."""
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        field = {"id": str(self.next_extrafield_id), "type": str(body.get("type", "varchar")),
                 "label": str(body["label"]), "size": str(body.get("size", "255")), "elementtype": kind,
                 "default": None, "computed": None, "unique": str(_to_int(body.get("unique", 0))),
                 "required": str(_to_int(body.get("required", 0))), "param": "",
                 "pos": str(_to_int(body.get("pos", 0))),
                 "alwayseditable": str(_to_int(body.get("alwayseditable", 0))), "perms": None,
                 "list": str(body.get("list", "1")), "printable": "0", "totalizable": "0", "langs": None,
                 "help": None, "css": None, "cssview": None, "csslist": None, "fk_user_author": "1",
                 "fk_user_modif": "1", "datec": now, "tms": now}
        self.next_extrafield_id += 1
        self.extrafields.setdefault(kind, {})[attrname] = field
        return field

    def list_extrafields(self, request: Request, user: Dict[str, Any]) -> Response:
        """[Extra fields] ``GET /setup/extrafields[?elementtype=]`` (admin) → ``{elementtype:
        {attrname: {...}}}``; 404 when there is none (unconfirmed: not in the capture)."""
        self.require(user, "admin")
        wanted = request.q("elementtype")
        out = {kind: copy.deepcopy(fields) for kind, fields in self.extrafields.items()
               if fields and (not wanted or kind == _elementtype(wanted))}
        if not out:
            raise DolibarrError(404, "No extrafield found")
        return self.ok(out)

    def get_extrafield(self, request: Request, user: Dict[str, Any], elementtype: str, attrname: str) -> Response:
        """[Extra fields] ``GET /setup/extrafields/{elementtype}/{attrname}`` (admin) → ``{elementtype:
        {attrname: {...}}}`` (capture `extrafield_get`); 404 (message unconfirmed)."""
        self.require(user, "admin")
        kind = _elementtype(elementtype)
        field = self.extrafields.get(kind, {}).get(attrname)
        if field is None:
            raise DolibarrError(404, "Extrafield not found from attrname and elementtype")
        return self.ok({kind: {attrname: copy.deepcopy(field)}})

    def create_extrafield(self, request: Request, user: Dict[str, Any], elementtype: str, attrname: str) -> Response:
        """[Extra fields] ``POST /setup/extrafields/{elementtype}/{attrname}`` → 200 new id (a number);
        409 if it exists (capture `extrafield_create_again`); 400 without ``label``; 403 for non-admins."""
        self.require(user, "admin")
        body = self.body_dict(request)
        kind = _elementtype(elementtype)
        if attrname in self.extrafields.get(kind, {}):
            raise DolibarrError(409, "Duplicate extrafield already found from attrname and elementtype")
        if not body.get("label"):
            raise DolibarrError(400, "label field absent in json at root level")
        return self.ok(int(self.define_extrafield(kind, attrname, body)["id"]))

    def update_extrafield(self, request: Request, user: Dict[str, Any], elementtype: str, attrname: str) -> Response:
        """[Extra fields] ``PUT /setup/extrafields/{elementtype}/{attrname}`` → 200 id; 404."""
        self.require(user, "admin")
        field = self.extrafields.get(_elementtype(elementtype), {}).get(attrname)
        if field is None:
            raise DolibarrError(404, "Extrafield not found from attrname and elementtype")
        body = self.body_dict(request)
        for key in ("label", "type", "size", "list"):
            if key in body:
                field[key] = str(body[key])
        for key in ("pos", "unique", "required", "alwayseditable"):
            if key in body:
                field[key] = str(_to_int(body[key]))
        field["tms"] = time.strftime("%Y-%m-%d %H:%M:%S")
        return self.ok(int(field["id"]))

    def delete_extrafield(self, request: Request, user: Dict[str, Any], elementtype: str, attrname: str) -> Response:
        """[Extra fields] ``DELETE /setup/extrafields/{elementtype}/{attrname}`` → 200 success; 404."""
        self.require(user, "admin")
        kind = _elementtype(elementtype)
        if attrname not in self.extrafields.get(kind, {}):
            raise DolibarrError(404, "Extrafield not found from attrname and elementtype")
        del self.extrafields[kind][attrname]
        return self.ok({"success": {"code": 200, "message": "Extrafield deleted from attrname"}})


# ---- small helpers -------------------------------------------------------------------------

def _alphanohtml(value: str) -> str:
    """``alphanohtml`` sanitising: tags removed."""
    return re.sub(r"<[^>]*>", "", value)


def _to_int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.q(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise DolibarrError(400, "invalid value specified for `%s`. Expecting integer value" % name)


def _mode_matches(record: Dict[str, Any], mode: int) -> bool:
    """[Endpoints] ``index`` ``mode``: 1 customers, 2 prospects, 3 neither, 4 suppliers."""
    if mode == 1:
        return record["client"] in (1, 3)
    if mode == 2:
        return record["client"] in (2, 3)
    if mode == 3:
        return record["client"] == 0
    if mode == 4:
        return record["fournisseur"] == 1
    return True


def _elementtype(value: str) -> str:
    return "societe" if value == "thirdparty" else value


def resolve_column(field: str) -> Callable[[Dict[str, Any]], Any]:
    """Map a ``t.<col>`` / ``ef.<attr>`` column to a value getter; raises ``UnknownColumn``."""
    field = field.strip()
    if field.startswith("ef."):
        key = "options_" + field[3:]
        return lambda r: r["array_options"].get(key)
    name = field[2:] if field.startswith("t.") else field
    if name not in COLUMNS:
        raise UnknownColumn(field)
    key = COLUMNS[name]
    return lambda r: r.get(key)


def sort_rows(rows: List[Dict[str, Any]], sortfield: str, sortorder: str) -> List[Dict[str, Any]]:
    """``$db->order()``: comma lists of fields and orders; NULLs first ascending (MySQL)."""
    fields = [f.strip() for f in sortfield.split(",") if f.strip()]
    orders = [o.strip().upper() for o in sortorder.split(",")]
    getters = [resolve_column(f) for f in fields]
    for index in reversed(range(len(getters))):
        descending = (orders[index] if index < len(orders) else orders[-1]) == "DESC"
        getter = getters[index]
        rows = sorted(rows, key=lambda r, g=getter: _sort_key(g(r)), reverse=descending)
    return rows


def _sort_key(value: Any) -> Tuple[int, Any]:
    if value is None:
        return (0, 0)
    number = _as_number(value)
    if number is not None:
        return (1, number)
    return (2, str(value).lower())


def _as_number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return float(value)
    return None


_CRITERION = re.compile(r"\(([^:'()]+):([^:'()]+):([^()]+)\)")


def parse_sqlfilters(text: str) -> Callable[[Dict[str, Any]], bool]:
    """[List: sqlfilters] ``(field:op:value)`` criteria joined by ``and``/``or`` with parentheses
    (``and`` binds tighter). Raises ``SqlFilterError`` (bad syntax / operator) or ``UnknownColumn``."""
    criteria: List[Callable[[Dict[str, Any]], bool]] = []

    def replace(match: "re.Match[str]") -> str:
        criteria.append(_criterion(match.group(1), match.group(2), match.group(3)))
        return " \x00%d " % (len(criteria) - 1)

    rest = _CRITERION.sub(replace, text)
    tokens = re.findall(r"\x00\d+|\(|\)|[^\s()]+", rest)
    for token in tokens:
        if not (token.startswith("\x00") or token in ("(", ")") or token.lower() in ("and", "or")):
            raise SqlFilterError("Bad syntax of the search string: unexpected '%s'" % token)
    if not tokens:
        raise SqlFilterError("Bad syntax of the search string: empty filter")
    position = [0]

    def peek() -> Optional[str]:
        return tokens[position[0]] if position[0] < len(tokens) else None

    def take() -> str:
        token = peek()
        if token is None:
            raise SqlFilterError("Bad syntax of the search string: unexpected end")
        position[0] += 1
        return token

    def parse_or() -> Callable[[Dict[str, Any]], bool]:
        parts = [parse_and()]
        while (peek() or "").lower() == "or":
            take()
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: any(p(r) for p in ps))

    def parse_and() -> Callable[[Dict[str, Any]], bool]:
        parts = [parse_atom()]
        while (peek() or "").lower() == "and":
            take()
            parts.append(parse_atom())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: all(p(r) for p in ps))

    def parse_atom() -> Callable[[Dict[str, Any]], bool]:
        token = take()
        if token == "(":
            inner = parse_or()
            if take() != ")":
                raise SqlFilterError("Bad syntax of the search string: unbalanced parenthesis")
            return inner
        if token.startswith("\x00"):
            return criteria[int(token[1:])]
        raise SqlFilterError("Bad syntax of the search string: unexpected '%s'" % token)

    predicate = parse_or()
    if peek() is not None:
        raise SqlFilterError("Bad syntax of the search string: unbalanced parenthesis")
    return predicate


def _criterion(field: str, operator: str, raw_value: str) -> Callable[[Dict[str, Any]], bool]:
    op = operator.strip().lower()
    if op not in OPERATORS:
        raise SqlFilterError("Operator '%s' is not allowed" % operator.strip())
    getter = resolve_column(field)
    is_date = field.strip() in ("t.datec", "t.tms", "datec", "tms")
    raw_value = raw_value.strip()
    if op in ("is", "isnot"):
        if raw_value.upper() != "NULL":
            raise SqlFilterError("Operator '%s' needs NULL" % op)
        return (lambda r: getter(r) in (None, "")) if op == "is" else (lambda r: getter(r) not in (None, ""))
    if op in ("in", "notin"):
        values = [_parse_value(v, is_date) for v in _split_list(raw_value)]
        matcher = lambda r: any(_compare(getter(r), "=", v) for v in values)
        return matcher if op == "in" else (lambda r: getter(r) is not None and not matcher(r))
    value = _parse_value(raw_value, is_date)
    if op in ("like", "notlike"):
        pattern = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(value)),
                             re.IGNORECASE | re.DOTALL)
        if op == "like":
            return lambda r: getter(r) is not None and bool(pattern.fullmatch(str(getter(r))))
        return lambda r: getter(r) is not None and not pattern.fullmatch(str(getter(r)))
    return lambda r: _compare(getter(r), op, value)


def _split_list(raw: str) -> List[str]:
    return [part for part in re.findall(r"'[^']*'|[^,]+", raw) if part.strip()]


def _parse_value(raw: str, is_date: bool) -> Any:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == "'" and raw[-1] == "'":
        value: Any = raw[1:-1]
    elif re.fullmatch(r"-?\d+(\.\d+)?", raw):
        value = raw
    else:
        raise SqlFilterError("Bad syntax of the search string: value %s must be quoted" % raw)
    if is_date:
        digits = re.sub(r"\D", "", str(value))
        if len(digits) >= 8:
            stamp = time.strptime((digits + "000000")[:14], "%Y%m%d%H%M%S")
            return int(time.mktime(stamp))
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    """SQL-ish comparison: NULL never matches, numbers numerically, strings case-insensitively."""
    if left is None:
        return False
    ln, rn = _as_number(left), _as_number(right)
    if ln is not None and rn is not None:
        a, b = ln, rn
    else:
        a, b = str(left).lower(), str(right).lower()
    if op == "=":
        return a == b
    if op in ("!=", "<>"):
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    return False


# ---- CLI hooks (used by run_fake.py) -----------------------------------------------------------

def add_cli_arguments(parser: Any) -> None:
    parser.add_argument("--api-key", action="append", default=None,
                        help="API key with all rights and admin (repeatable; default %s)" % DEFAULT_API_KEY)
    parser.add_argument("--readonly-key", action="append", default=[],
                        help="API key with only 'societe lire' (repeatable)")
    parser.add_argument("--bad-key-delay-ms", type=int, default=None,
                        help="sleep before answering an unknown key (default 1000)")
    parser.add_argument("--production-mode", action="store_true", help="omit the debug member of errors")
    parser.add_argument("--legacy", action="store_true",
                        help="older Dolibarr: DELETE answers 1, 401 for rights, 503 for bad sqlfilters")
    parser.add_argument("--database-down", action="store_true",
                        help="every API call answers 202 with Dolibarr's HTML error page")
    parser.add_argument("--email-unique", action="store_true", help="SOCIETE_EMAIL_UNIQUE=1")
    parser.add_argument("--no-department-field", action="store_true",
                        help="start without the third-party extra field 'department'")


def config_from_args(args: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {}
    keys = {key: {"login": "scimd", "rights": ["lire", "creer", "supprimer"], "admin": True}
            for key in (args.api_key or [DEFAULT_API_KEY])}
    for key in args.readonly_key:
        keys[key] = {"login": "reader", "rights": ["lire"], "admin": False}
    config["api_keys"] = keys
    if args.bad_key_delay_ms is not None:
        config["bad_key_delay_ms"] = args.bad_key_delay_ms
    if args.production_mode:
        config["production_mode"] = True
    if args.legacy:
        config.update({"legacy_delete_response": True, "rights_error_status": 401, "bad_filter_status": 503})
    if args.database_down:
        config["database_down"] = True
    if args.email_unique:
        config["email_unique"] = True
    if args.no_department_field:
        config["department_extrafield"] = False
    return config


FAKE_CLASS = DolibarrFake

if __name__ == "__main__":
    import sys
    from run_fake import main
    sys.exit(main(["dolibarr"] + sys.argv[1:]))
