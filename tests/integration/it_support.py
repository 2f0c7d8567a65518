"""Small helpers shared by the black-box tests (not a test module itself: no test_ prefix).

Only the Python 3 standard library; everything else comes from scimd_harness.
"""

import datetime
import json
import re
import socket
import threading
import urllib.parse

from scimd_harness import ERROR_URN, USER_URN

LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SCIMD_GROUP_URN = "urn:scimd:params:scim:schemas:extension:2.0:Group"
SCIMD_USER_URN = "urn:scimd:params:scim:schemas:extension:2.0:User"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

ETAG_RE = re.compile(r'^W/".+"$')


def parse_time(text):
    """An RFC 3339 / xsd:dateTime string as an aware datetime (raises on anything else)."""
    if not isinstance(text, str):
        raise ValueError(f"not a dateTime string: {text!r}")
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"dateTime without a time zone: {text!r}")
    return value


def q(value):
    """Percent-encodes one query-string value (spaces as %20, everything reserved encoded)."""
    return urllib.parse.quote(value, safe="")


def query(**params):
    """?a=b&c=d with every value percent-encoded; None values are left out."""
    parts = [f"{k}={q(str(v))}" for k, v in params.items() if v is not None]
    return ("?" + "&".join(parts)) if parts else ""


def user_body(userName, **attributes):
    body = {"schemas": [USER_URN], "userName": userName}
    body.update(attributes)
    return body


def get_ci(obj, name):
    """obj[name] matching the key case-insensitively (None if absent)."""
    if not isinstance(obj, dict):
        return None
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def raw_request(port, head, body_chunks=(), timeout=30.0):
    """Sends a hand-made HTTP/1.1 request (head: bytes incl. the blank line; body_chunks: an
    iterable of bytes sent after it from a second thread, so that a server answering early does
    not dead-lock us) and reads the answer until the server closes or Content-Length is met.
    Returns (status, headers dict lower-cased, body bytes); status is None if no answer came."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    send_error = []

    def sender():
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError as exc:  # the server may close once it has answered; that is fine
            send_error.append(exc)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    data = b""
    try:
        while True:
            try:
                part = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not part:
                break
            data += part
            parsed = _parse_raw(data)
            if parsed is not None and parsed[3]:
                break
    finally:
        thread.join(timeout=timeout)
        sock.close()
    parsed = _parse_raw(data)
    if parsed is None:
        return None, {}, data
    return parsed[0], parsed[1], parsed[2]


def _parse_raw(data):
    """(status, headers, body, complete) of a buffered response, or None without a full head."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/\d\.\d (\d{3})", lines[0])
    if not match:
        return None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = data[end + 4:]
    length = headers.get("content-length")
    complete = length is not None and len(body) >= int(length)
    if length is not None:
        body = body[:int(length)]
    return int(match.group(1)), headers, body, complete


def json_or_none(raw):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def is_scim_error(body, status):
    return (isinstance(body, dict) and ERROR_URN in body.get("schemas", [])
            and str(body.get("status")) == str(status))
