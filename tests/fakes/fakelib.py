"""Shared machinery for scimd's contract-faithful fake servers (Python 3 standard library only).

What lives here:
  * ``Request`` / ``Response`` / ``Router``: a tiny HTTP dispatch layer over ``http.server``.
  * ``FakeApp``: the base class every fake extends. It owns the lock, the request log, the
    fault-injection mode, configurable settings, the rate limiters and the ``/_control/`` API
    (state, reset, mode, rate_limit, config, plus per-fake actions).
  * ``serve`` / ``start_in_thread``: run an app on a ``ThreadingHTTPServer`` (port 0 allowed).
  * JOSE helpers (base64url, HS256, RS256 over PEM keys, a small RSA key generator) used by the
    webhook receiver and by tests that need to sign Security Event Tokens.

Every fake answers ``/_control/*`` without authentication, never logs those calls and never
applies fault modes or rate limits to them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import random
import secrets
import socket
import threading
import time
import traceback
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

# --------------------------------------------------------------------------------------------
# Requests and responses
# --------------------------------------------------------------------------------------------

REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
    422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
}


class BodyError(ValueError):
    """Raised by ``Request.json()`` when the body is not valid JSON."""


class Request:
    """One parsed HTTP request as the fakes see it.

    ``path`` is the raw (still percent-encoded) path without the query; ``segments`` are its
    percent-decoded ``/``-separated parts; ``query`` maps each name to the list of its values.
    """

    def __init__(self, method: str, target: str, headers: List[Tuple[str, str]], body: bytes,
                 client: Tuple[str, int] = ("", 0)):
        self.method = method.upper()
        parts = urlsplit(target)
        self.path = parts.path or "/"
        self.raw_query = parts.query
        self.query: Dict[str, List[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.header_list = headers
        self.headers: Dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            self.headers[key] = value if key not in self.headers else self.headers[key] + ", " + value
        self.body = body
        self.client = client
        self._json_cache: Any = None
        self._json_parsed = False

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Case-insensitive header lookup."""
        return self.headers.get(name.lower(), default)

    def q(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """First value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def content_type(self) -> str:
        """Media type of the body, lower-cased, parameters dropped."""
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body); raises ``BodyError``."""
        if not self._json_parsed:
            if not self.body.strip():
                self._json_cache = None
            else:
                try:
                    self._json_cache = json.loads(self.body.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise BodyError(str(exc)) from exc
            self._json_parsed = True
        return self._json_cache

    def form(self) -> Dict[str, List[str]]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        try:
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}

    def loggable_body(self) -> Any:
        """The body for the request log: parsed JSON when possible, else text."""
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self.body.decode("utf-8", errors="replace")


class Response:
    """An answer to send: status, headers, body bytes. ``drop=True`` closes the connection
    without answering; ``delay`` (seconds) is slept, outside the app lock, before answering."""

    def __init__(self, status: int = 200, body: bytes = b"", headers: Optional[List[Tuple[str, str]]] = None,
                 content_type: Optional[str] = None, payload: Any = None, drop: bool = False):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        if content_type and status not in (204, 304):
            self.headers.insert(0, ("Content-Type", content_type))
        self.payload = payload
        self.drop = drop
        self.delay = 0.0

    @classmethod
    def json(cls, status: int, obj: Any, headers: Optional[List[Tuple[str, str]]] = None,
             content_type: str = "application/json") -> "Response":
        """A JSON answer (``obj`` may be any JSON value, e.g. a bare number)."""
        body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, body, headers, content_type, payload=obj)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8",
             headers: Optional[List[Tuple[str, str]]] = None) -> "Response":
        """A plain-text (or HTML) answer."""
        return cls(status, text.encode("utf-8"), headers, content_type, payload=text)

    @classmethod
    def empty(cls, status: int = 204, headers: Optional[List[Tuple[str, str]]] = None,
              content_type: Optional[str] = None) -> "Response":
        """An answer without a body."""
        return cls(status, b"", headers, content_type, payload=None)

    @classmethod
    def dropped(cls) -> "Response":
        """Close the connection without writing anything (simulated outage)."""
        return cls(0, drop=True)

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def copy(self) -> "Response":
        clone = Response(self.status, self.body, list(self.headers), None, copy.deepcopy(self.payload), self.drop)
        clone.delay = self.delay
        return clone


# --------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------

class MethodNotAllowed(Exception):
    """The path matched a route, but not for this method; ``allowed`` lists the methods."""

    def __init__(self, allowed: List[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class BadParam(Exception):
    """A typed path parameter (``{id:int}``) did not parse."""

    def __init__(self, name: str, kind: str):
        super().__init__(name)
        self.name = name
        self.kind = kind


class Router:
    """Matches ``(method, segments)`` against patterns like ``/thirdparties/{id:int}/accounts``.

    Routes are tried in registration order, so register literal routes before parametrised ones
    that would also match (``/users/me`` before ``/users/{id}``). A segment typed ``:int`` that does
    not parse makes the route a *candidate* that raises ``BadParam`` if nothing else matches.
    """

    def __init__(self) -> None:
        self.routes: List[Tuple[str, List[Tuple[str, Optional[str], Optional[str]]], Callable]] = []

    def add(self, method: str, pattern: str, handler: Callable) -> None:
        parts = []
        for seg in [s for s in pattern.split("/") if s]:
            if seg.startswith("{") and seg.endswith("}"):
                name, _, kind = seg[1:-1].partition(":")
                parts.append(("param", name, kind or None))
            else:
                parts.append(("lit", seg, None))
        self.routes.append((method.upper(), parts, handler))

    def match(self, method: str, segments: List[str]) -> Optional[Tuple[Callable, Dict[str, Any]]]:
        """Return ``(handler, params)``; ``None`` when no path matches; raises ``MethodNotAllowed``
        when the path exists for other methods, ``BadParam`` when only a typed parameter failed."""
        allowed: List[str] = []
        bad: Optional[BadParam] = None
        for route_method, parts, handler in self.routes:
            if len(parts) != len(segments):
                continue
            params: Dict[str, Any] = {}
            ok = True
            pending_bad: Optional[BadParam] = None
            for (kind, name, ptype), seg in zip(parts, segments):
                if kind == "lit":
                    if seg != name:
                        ok = False
                        break
                else:
                    if ptype == "int":
                        try:
                            params[name] = int(seg)
                        except ValueError:
                            pending_bad = pending_bad or BadParam(name, "int")
                            params[name] = seg
                    else:
                        params[name] = seg
            if not ok:
                continue
            if pending_bad is not None:
                if route_method == method:
                    bad = bad or pending_bad
                continue
            if route_method != method:
                if route_method not in allowed:
                    allowed.append(route_method)
                continue
            return handler, params
        if bad is not None:
            raise bad
        if allowed:
            raise MethodNotAllowed(allowed)
        return None


def split_path(path: str) -> List[str]:
    """Percent-decoded, non-empty path segments."""
    return [unquote(s) for s in path.split("/") if s]


# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------

class SlidingWindowLimiter:
    """Admits at most ``limit`` requests per ``window`` seconds per key (sliding log).

    ``check`` returns ``None`` when the request is admitted (and counts it), or the number of
    seconds until the oldest counted request leaves the window. Rejected requests are not counted.
    ``limit <= 0`` disables the limiter.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.hits: Dict[str, deque] = {}

    def check(self, key: str, limit: int, window: float) -> Optional[float]:
        if not limit or limit <= 0:
            return None
        now = self.clock()
        log = self.hits.setdefault(key, deque())
        while log and now - log[0] >= window:
            log.popleft()
        if len(log) >= limit:
            return max(0.0, window - (now - log[0]))
        log.append(now)
        return None

    def reset(self) -> None:
        self.hits.clear()


# --------------------------------------------------------------------------------------------
# Fault modes
# --------------------------------------------------------------------------------------------

MODES = ("normal", "down", "error400", "error422", "error500", "error503", "ratelimit", "slow",
         "fail_after_apply")


class FaultMode:
    """The fault-injection mode set through ``POST /_control/mode``.

    ``count`` (optional) is how many matching requests it applies to before reverting to normal;
    ``method`` / ``path_prefix`` (optional) restrict which requests match; ``delay_ms`` is slept
    before answering (``slow`` defaults to 1000 ms); ``retry_after`` sets the Retry-After header of
    ``ratelimit`` (and of ``error503``) answers.
    """

    def __init__(self, mode: str = "normal", count: Optional[int] = None, delay_ms: Optional[float] = None,
                 retry_after: Optional[float] = None, method: Optional[str] = None,
                 path_prefix: Optional[str] = None):
        self.mode = mode
        self.count = count
        self.delay_ms = delay_ms
        self.retry_after = retry_after
        self.method = method.upper() if method else None
        self.path_prefix = path_prefix

    @classmethod
    def parse(cls, body: Any) -> "FaultMode":
        """Validate a ``/_control/mode`` body; raises ``ValueError`` with a readable message."""
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        unknown = set(body) - {"mode", "count", "delay_ms", "retry_after", "method", "path_prefix"}
        if unknown:
            raise ValueError("unknown keys: " + ", ".join(sorted(unknown)))
        mode = body.get("mode")
        if mode not in MODES:
            raise ValueError("mode must be one of " + ", ".join(MODES))
        count = body.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a positive integer")
        delay = body.get("delay_ms")
        if delay is not None and (not _is_number(delay) or delay < 0):
            raise ValueError("delay_ms must be a non-negative number")
        retry_after = body.get("retry_after")
        if retry_after is not None and (not _is_number(retry_after) or retry_after < 0):
            raise ValueError("retry_after must be a non-negative number")
        for key in ("method", "path_prefix"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise ValueError(key + " must be a string")
        return cls(mode, count, delay, retry_after, body.get("method"), body.get("path_prefix"))

    def matches(self, request: Request) -> bool:
        if self.mode == "normal":
            return False
        if self.method and request.method != self.method:
            return False
        if self.path_prefix and not request.path.startswith(self.path_prefix):
            return False
        return True

    def delay_seconds(self) -> float:
        if self.delay_ms is not None:
            return self.delay_ms / 1000.0
        return 1.0 if self.mode == "slow" else 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {"mode": self.mode, "count": self.count, "delay_ms": self.delay_ms,
                "retry_after": self.retry_after, "method": self.method, "path_prefix": self.path_prefix}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# Base application
# --------------------------------------------------------------------------------------------

def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeApp:
    """Base class of every fake: shared state, request log, control API and fault modes.

    Subclasses set ``name`` and ``DEFAULT_CONFIG``, and implement ``reset_records``, ``records``,
    ``dispatch`` (the real API, called with ``self.lock`` held) and the error envelopes
    ``fault_response`` / ``rate_limited_response``. They may add ``control_actions``
    (``POST /_control/<name>`` → ``callable(body) -> (status, obj)``).

    Settings common to all fakes (in ``config``): ``rate_limit_per_minute`` (0 = off),
    ``rate_limit_window_seconds`` (60 by default; tests shrink it), ``max_log_entries``,
    ``log_read_responses`` (True; False keeps the answered body of GET requests out of the
    request log: benchmarks whose adapters page through lists would otherwise keep every page).
    """

    name = "fake"
    DEFAULT_CONFIG: Dict[str, Any] = {}
    COMMON_CONFIG: Dict[str, Any] = {
        "rate_limit_per_minute": 0,
        "rate_limit_window_seconds": 60.0,
        "max_log_entries": 10000,
        "log_read_responses": True,
    }
    # Whether ratelimit answers carry Retry-After when the mode does not give one.
    RETRY_AFTER_BY_DEFAULT = False

    def __init__(self, **overrides: Any):
        base = copy.deepcopy(self.COMMON_CONFIG)
        base.update(copy.deepcopy(self.DEFAULT_CONFIG))
        unknown = set(overrides) - set(base)
        if unknown:
            raise ValueError("%s: unknown settings %s" % (self.name, ", ".join(sorted(unknown))))
        base.update(copy.deepcopy(overrides))
        self.initial_config = base
        self.lock = threading.RLock()
        self.control_actions: Dict[str, Callable[[Any], Tuple[int, Any]]] = {}
        self.reset()

    # ---- state --------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the state just after start-up: settings, records, log, mode, limiters."""
        with self.lock:
            self.config = copy.deepcopy(self.initial_config)
            self.log: List[Dict[str, Any]] = []
            self.seq = 0
            self.mode = FaultMode()
            self.limiter = SlidingWindowLimiter()
            self.reset_records()

    def reset_records(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def records(self) -> Dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_config_changed(self, changed: Dict[str, Any]) -> None:
        """Hook for subclasses whose derived state depends on settings."""

    # ---- envelopes (override) -------------------------------------------------------------
    def fault_response(self, status: int, retry_after: Optional[float]) -> Response:
        """The fake's own error envelope for an injected 500 / 503."""
        return Response.json(status, {"error": REASONS.get(status, "error")})

    def rate_limited_response(self, retry_after: Optional[float]) -> Response:
        """The fake's own 429 answer; ``retry_after`` None means no Retry-After header."""
        headers = [("Retry-After", retry_after_value(retry_after))] if retry_after is not None else []
        return Response.json(429, {"error": "rate limited"}, headers)

    def dispatch(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- rate limiting helper for subclasses --------------------------------------------------
    def check_rate_limit(self, key: str) -> Optional[Response]:
        """Count one request against ``key``; a 429 ``Response`` when over the limit."""
        wait = self.limiter.check(key, int(self.config["rate_limit_per_minute"] or 0),
                                  float(self.config["rate_limit_window_seconds"]))
        if wait is None:
            return None
        return self.rate_limited_response(wait)

    # ---- the HTTP entry point -----------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request: control API, or fault mode + ``dispatch`` with logging."""
        if request.path == "/_control" or request.path.startswith("/_control/"):
            return self.handle_control(request)
        started = time.monotonic()
        with self.lock:
            entry = self._begin_log(request)
            fault = self._take_fault(request)
            entry["fault"] = fault.mode if fault else None
            if fault is None or fault.mode in ("slow", "fail_after_apply"):
                response = self._safe_dispatch(request)
                if fault is not None and fault.mode == "fail_after_apply":
                    entry["applied_status"] = response.status
                    response = self.fault_response(500, None)
            elif fault.mode == "down":
                response = Response.dropped()
            elif fault.mode in ("error400", "error422"):  # this record refused, nothing applied
                response = self.fault_response(int(fault.mode[5:]), None)
            elif fault.mode == "error500":
                response = self.fault_response(500, fault.retry_after)
            elif fault.mode == "error503":
                response = self.fault_response(503, fault.retry_after)
            else:  # ratelimit
                retry_after = fault.retry_after
                if retry_after is None and self.RETRY_AFTER_BY_DEFAULT:
                    retry_after = 1
                response = self.rate_limited_response(retry_after)
            if fault is not None:
                response.delay = max(response.delay, fault.delay_seconds())
            entry["status"] = None if response.drop else response.status
            entry["response"] = response.payload
            if request.method == "GET" and not self.config.get("log_read_responses", True):
                entry["response"] = None
            entry["duration_ms"] = round((time.monotonic() - started) * 1000.0, 3)
        return response

    def _safe_dispatch(self, request: Request) -> Response:
        try:
            return self.dispatch(request)
        except Exception:  # a bug in a fake must not kill the connection silently
            traceback.print_exc()
            return self.fault_response(500, None)

    def _begin_log(self, request: Request) -> Dict[str, Any]:
        self.seq += 1
        entry = {
            "seq": self.seq,
            "time": utc_now_iso(),
            "ts": time.time(),
            "method": request.method,
            "path": request.path,
            "query": {k: (v[0] if len(v) == 1 else v) for k, v in request.query.items()},
            "headers": dict(request.headers),
            "idempotency_key": request.header("idempotency-key"),
            "body": request.loggable_body(),
            "status": None,
        }
        self.log.append(entry)
        overflow = len(self.log) - int(self.config.get("max_log_entries") or 0)
        if self.config.get("max_log_entries") and overflow > 0:
            del self.log[:overflow]
        request.log_entry = entry  # type: ignore[attr-defined]
        return entry

    def _take_fault(self, request: Request) -> Optional[FaultMode]:
        mode = self.mode
        if not mode.matches(request):
            return None
        if mode.count is not None:
            mode.count -= 1
            if mode.count <= 0:
                self.mode = FaultMode()
        return mode

    # ---- control API ------------------------------------------------------------------
    def handle_control(self, request: Request) -> Response:
        """``/_control/*``: state, requests, reset, mode, rate_limit, config, per-fake actions."""
        name = request.path[len("/_control/"):].strip("/") if request.path.startswith("/_control/") else ""
        try:
            body = request.json() if request.method == "POST" else None
        except BodyError as exc:
            return Response.json(400, {"error": "invalid JSON: %s" % exc})
        with self.lock:
            if name == "state" and request.method == "GET":
                return Response.json(200, self.state(request))
            if name == "requests" and request.method == "GET":
                return Response.json(200, {"requests": self._log_slice(request)})
            if name == "reset" and request.method == "POST":
                self.reset()
                return Response.json(200, {"reset": True})
            if name == "mode":
                return self._control_mode(request, body)
            if name == "rate_limit":
                return self._control_rate_limit(request, body)
            if name == "config":
                return self._control_config(request, body)
            action = self.control_actions.get(name)
            if action is not None and request.method == "POST":
                status, obj = action(body if body is not None else {})
                return Response.json(status, obj)
        known = ["state", "requests", "reset", "mode", "rate_limit", "config"] + sorted(self.control_actions)
        return Response.json(404, {"error": "unknown control endpoint %s %s" % (request.method, request.path),
                                   "endpoints": known})

    def state(self, request: Optional[Request] = None) -> Dict[str, Any]:
        out = {
            "fake": self.name,
            "config": copy.deepcopy(self.config),
            "mode": self.mode.to_dict(),
            "records": self.records(),
        }
        if request is None or request.q("requests", "1") not in ("0", "false"):
            out["requests"] = self._log_slice(request)
        return copy.deepcopy(out)

    def _log_slice(self, request: Optional[Request]) -> List[Dict[str, Any]]:
        since = 0
        if request is not None and request.q("since"):
            try:
                since = int(request.q("since") or 0)
            except ValueError:
                since = 0
        return copy.deepcopy([e for e in self.log if e["seq"] > since])

    def _control_mode(self, request: Request, body: Any) -> Response:
        if request.method == "GET":
            return Response.json(200, self.mode.to_dict())
        if request.method != "POST":
            return Response.json(405, {"error": "GET or POST"})
        try:
            self.mode = FaultMode.parse(body)
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, self.mode.to_dict())

    def _control_rate_limit(self, request: Request, body: Any) -> Response:
        current = {"per_minute": self.config["rate_limit_per_minute"],
                   "window_seconds": self.config["rate_limit_window_seconds"]}
        if request.method == "GET":
            return Response.json(200, current)
        if not isinstance(body, dict) or not set(body) <= {"per_minute", "window_seconds"} or not body:
            return Response.json(400, {"error": "expected {\"per_minute\": N, \"window_seconds\": S}"})
        per_minute = body.get("per_minute", current["per_minute"])
        window = body.get("window_seconds", current["window_seconds"])
        if not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 0:
            return Response.json(400, {"error": "per_minute must be a non-negative integer (0 = no limit)"})
        if not _is_number(window) or window <= 0:
            return Response.json(400, {"error": "window_seconds must be a positive number"})
        self.config["rate_limit_per_minute"] = per_minute
        self.config["rate_limit_window_seconds"] = float(window)
        self.limiter.reset()
        return Response.json(200, {"per_minute": per_minute, "window_seconds": float(window)})

    def _control_config(self, request: Request, body: Any) -> Response:
        if request.method == "GET":
            return Response.json(200, copy.deepcopy(self.config))
        if not isinstance(body, dict):
            return Response.json(400, {"error": "body must be a JSON object of settings"})
        unknown = set(body) - set(self.config)
        if unknown:
            return Response.json(400, {"error": "unknown settings: " + ", ".join(sorted(unknown)),
                                       "settings": sorted(self.config)})
        for key, value in body.items():
            default = self.initial_config[key]
            if not _config_type_ok(default, value):
                return Response.json(400, {"error": "setting %s: expected %s" % (key, type(default).__name__)})
        self.config.update(copy.deepcopy(body))
        if "rate_limit_per_minute" in body or "rate_limit_window_seconds" in body:
            self.limiter.reset()
        self.on_config_changed(body)
        return Response.json(200, copy.deepcopy(self.config))


def _config_type_ok(default: Any, value: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if _is_number(default):
        return _is_number(value)
    return isinstance(value, type(default))


def retry_after_value(seconds: Optional[float]) -> str:
    """Retry-After as delta-seconds: whole seconds, rounded up, at least 1."""
    return str(max(1, int(math.ceil(seconds or 0))))


# --------------------------------------------------------------------------------------------
# HTTP server glue
# --------------------------------------------------------------------------------------------

class FakeHandler(BaseHTTPRequestHandler):
    """Feeds every request to ``server.app.handle`` (HTTP/1.1, keep-alive, chunked bodies)."""

    protocol_version = "HTTP/1.1"
    server_version = "scimd-fake/1.0"
    # TCP_NODELAY on every accepted connection (StreamRequestHandler.setup). http.server sends a
    # response's head and body in two writes; with Nagle on, the body of every response on a
    # kept-alive connection would wait for the client's delayed ACK (~40 ms on Linux). Real
    # targets do not behave like that, and the delivery-lag benchmark would measure the fake.
    disable_nagle_algorithm = True

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address)
        response = self.server.app.handle(request)  # type: ignore[attr-defined]
        if response.delay > 0:
            time.sleep(response.delay)
        if response.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(response.status, REASONS.get(response.status))
            for key, value in response.headers:
                self.send_header(key, value)
            if response.status not in (204, 304):
                self.send_header("Content-Length", str(len(response.body)))
            # Head and body in one write (end_headers() would send the head alone, then the body:
            # two system calls and two TCP segments per answer).
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD" and response.status not in (204, 304):
                self._headers_buffer.append(response.body)
            self.flush_headers()
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: Tuple[str, int], app: FakeApp, verbose: bool = False):
        super().__init__(address, FakeHandler)
        self.app = app
        self.verbose = verbose


class RunningFake:
    """A fake served from a background thread (for tests): ``url``, ``port``, ``app``, ``stop()``."""

    def __init__(self, server: FakeHTTPServer, thread: threading.Thread):
        self.server = server
        self.thread = thread
        self.app = server.app
        host, port = server.server_address[:2]
        self.host = host
        self.port = port
        self.url = "http://%s:%d" % (host, port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RunningFake":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(app: FakeApp, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> FakeHTTPServer:
    """Bind (``port`` 0 picks a free one) and return the server, not yet serving."""
    return FakeHTTPServer((host, port), app, verbose)


def start_in_thread(app: FakeApp, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> RunningFake:
    """Bind and serve ``app`` from a daemon thread; returns once the socket is listening."""
    server = serve(app, host, port, verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-%s" % app.name, daemon=True)
    thread.start()
    return RunningFake(server, thread)


# --------------------------------------------------------------------------------------------
# JOSE helpers: base64url, HS256, RS256 (PKCS#1 v1.5 with SHA-256) over PEM keys
# --------------------------------------------------------------------------------------------

def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url (no padding expected, padding tolerated); raises ``ValueError``."""
    if not isinstance(text, str) or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url")
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_RSA_OID = bytes.fromhex("2a864886f70d010101")


class RsaKey:
    """An RSA key: public (``n``, ``e``) and optionally private (``d``)."""

    def __init__(self, n: int, e: int, d: Optional[int] = None):
        self.n, self.e, self.d = n, e, d

    @property
    def size_bytes(self) -> int:
        return (self.n.bit_length() + 7) // 8

    def public_pem(self) -> str:
        """SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
        rsa_pub = _der_seq(_der_int(self.n) + _der_int(self.e))
        alg = _der_seq(_der_tlv(0x06, _RSA_OID) + _der_tlv(0x05, b""))
        spki = _der_seq(alg + _der_tlv(0x03, b"\x00" + rsa_pub))
        return _pem("PUBLIC KEY", spki)

    def sign_rs256(self, data: bytes) -> bytes:
        if self.d is None:
            raise ValueError("public key cannot sign")
        em = _emsa_pkcs1_sha256(data, self.size_bytes)
        return pow(int.from_bytes(em, "big"), self.d, self.n).to_bytes(self.size_bytes, "big")

    def verify_rs256(self, data: bytes, signature: bytes) -> bool:
        k = self.size_bytes
        if len(signature) != k:
            return False
        s = int.from_bytes(signature, "big")
        if s >= self.n:
            return False
        em = pow(s, self.e, self.n).to_bytes(k, "big")
        return hmac.compare_digest(em, _emsa_pkcs1_sha256(data, k))


def _emsa_pkcs1_sha256(data: bytes, k: int) -> bytes:
    t = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
    if k < len(t) + 11:
        raise ValueError("RSA key too small")
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def _pem(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(value)) + value


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return _der_tlv(0x02, raw)


def _der_seq(value: bytes) -> bytes:
    return _der_tlv(0x30, value)


def _der_read(data: bytes, pos: int) -> Tuple[int, bytes, int]:
    """Read one TLV at ``pos``: returns (tag, value, next_pos)."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER value")
    return tag, data[pos:pos + length], pos + length


def _der_children(value: bytes) -> List[Tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(value):
        tag, inner, pos = _der_read(value, pos)
        out.append((tag, inner))
    return out


def _der_uint(value: bytes) -> int:
    return int.from_bytes(value, "big")


def load_rsa_pem(pem: str) -> RsaKey:
    """Parse an RSA key from PEM: ``PUBLIC KEY`` (SPKI), ``RSA PUBLIC KEY`` (PKCS#1),
    ``RSA PRIVATE KEY`` (PKCS#1) or ``PRIVATE KEY`` (PKCS#8). Raises ``ValueError``."""
    label, der = _pem_decode(pem)
    if label == "RSA PUBLIC KEY":
        fields = _der_children(_der_read(der, 0)[1])
        return RsaKey(_der_uint(fields[0][1]), _der_uint(fields[1][1]))
    if label == "PUBLIC KEY":
        seq = _der_children(_der_read(der, 0)[1])
        alg = _der_children(seq[0][1])
        if alg[0][1] != _RSA_OID:
            raise ValueError("not an RSA public key")
        bits = seq[1][1]
        rsa = _der_children(_der_read(bits[1:], 0)[1])
        return RsaKey(_der_uint(rsa[0][1]), _der_uint(rsa[1][1]))
    if label == "RSA PRIVATE KEY":
        fields = _der_children(_der_read(der, 0)[1])
        return RsaKey(_der_uint(fields[1][1]), _der_uint(fields[2][1]), _der_uint(fields[3][1]))
    if label == "PRIVATE KEY":
        seq = _der_children(_der_read(der, 0)[1])
        if _der_children(seq[1][1])[0][1] != _RSA_OID:
            raise ValueError("not an RSA private key")
        fields = _der_children(_der_read(seq[2][1], 0)[1])
        return RsaKey(_der_uint(fields[1][1]), _der_uint(fields[2][1]), _der_uint(fields[3][1]))
    raise ValueError("unsupported PEM label %r" % label)


def _pem_decode(pem: str) -> Tuple[str, bytes]:
    lines = [l.strip() for l in pem.strip().splitlines() if l.strip()]
    if not lines or not lines[0].startswith("-----BEGIN ") or not lines[-1].startswith("-----END "):
        raise ValueError("not a PEM block")
    label = lines[0][len("-----BEGIN "):].rstrip("-").strip()
    body = "".join(l for l in lines[1:-1] if ":" not in l)
    return label, base64.b64decode(body)


def _is_probable_prime(n: int, rounds: int = 24) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    rng = random.SystemRandom()
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def generate_rsa_key(bits: int = 1024, e: int = 65537) -> RsaKey:
    """A fresh RSA key (for tests; pure Python, ~0.1-1 s for 1024 bits)."""
    while True:
        p = _random_prime(bits // 2)
        q = _random_prime(bits - bits // 2)
        if p == q:
            continue
        phi = (p - 1) * (q - 1)
        if math.gcd(e, phi) != 1:
            continue
        n = p * q
        if n.bit_length() != bits:
            continue
        return RsaKey(n, e, pow(e, -1, phi))


def _random_prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if _is_probable_prime(candidate):
            return candidate


def jws_encode(payload: Dict[str, Any], alg: str, key: Any, header: Optional[Dict[str, Any]] = None) -> str:
    """Compact JWS. ``alg``: ``HS256`` (``key`` = bytes/str secret), ``RS256`` (``key`` = RsaKey
    with ``d``) or ``none``. ``header`` extra members (e.g. ``typ``) are merged in."""
    head = {"alg": alg}
    head.update(header or {})
    signing_input = (b64url_encode(json.dumps(head, separators=(",", ":")).encode())
                     + "." + b64url_encode(json.dumps(payload, separators=(",", ":")).encode()))
    data = signing_input.encode("ascii")
    if alg == "HS256":
        secret = key.encode("utf-8") if isinstance(key, str) else key
        sig = hmac.new(secret, data, hashlib.sha256).digest()
    elif alg == "RS256":
        sig = key.sign_rs256(data)
    elif alg == "none":
        sig = b""
    else:
        raise ValueError("unsupported alg " + alg)
    return signing_input + "." + b64url_encode(sig)


def standard_webhook_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks 1.0 ``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body``; ``secret``
    is ``whsec_<base64>`` (prefix optional)."""
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, b"%s.%s." % (msg_id.encode(), timestamp.encode()) + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")
