"""Replays what a real Dolibarr 22.0.4 answered (fixtures/dolibarr-22.0.4-capture.jsonl, a copy
of ../shared/fixtures/, described in ../shared/fixtures/README.md) against the Dolibarr fake.

Every recorded request is sent to one fake, in the recorded order, with the setting the step's
`note` names (SOCIETE_EMAIL_UNIQUE, MAIN_MODULE_API=0, API_PRODUCTION_MODE, the database stopped).
The fake starts without extra fields, as the recorded instance did before step
`extrafield_create`, so the ids it hands out are the recorded ones. Each answer must have the
recorded status and media type and the recorded body: the same JSON types and keys everywhere,
and the same values except for clocks (dates, generated codes) and Restler's `debug` member
(whose `source` names PHP lines). Keys the recording cut (`_trimmed_from_keys`) are not required
to be absent.
"""

from __future__ import annotations

import json
import os
import sys
import unittest
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dolibarr_fake import DolibarrFake  # noqa: E402
from fakelib import start_in_thread  # noqa: E402
from test_fakes import http_call  # noqa: E402

CAPTURE = os.path.join(HERE, "fixtures", "dolibarr-22.0.4-capture.jsonl")
KEY = "dolibarr-test-key"
API = "/api/index.php"
# Values that depend on the clock: compared by type only.
VOLATILE = {"date_creation", "date_modification", "tms", "datec", "code_client"}
# Settings a step's note asks for (the capture's `note` texts).
NOTE_SETTINGS = (("SOCIETE_EMAIL_UNIQUE=1", {"email_unique": True}),
                 ("MAIN_MODULE_API set to 0", {"module_disabled": True}),
                 ("API_PRODUCTION_MODE=1", {"production_mode": True}),
                 ("mariadbd stopped", {"database_down": True}))


def load_capture() -> List[Dict[str, Any]]:
    with open(CAPTURE, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def differences(recorded: Any, answered: Any, where: str = "$", exact: bool = True) -> List[str]:
    """What in `answered` departs from `recorded` (see the module comment)."""
    if json_type(recorded) != json_type(answered):
        return ["%s: recorded %s %r, fake answered %s %r" % (where, json_type(recorded), recorded,
                                                             json_type(answered), answered)]
    out: List[str] = []
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            if key == "_trimmed_from_keys":
                continue
            if key not in answered:
                out.append("%s: missing key %r" % (where, key))
                continue
            child_exact = exact and key not in VOLATILE and key != "debug"
            out += differences(value, answered[key], "%s.%s" % (where, key), child_exact)
    elif isinstance(recorded, list):
        if len(recorded) != len(answered):
            out.append("%s: recorded %d items, fake answered %d" % (where, len(recorded), len(answered)))
        for index, (a, b) in enumerate(zip(recorded, answered)):
            out += differences(a, b, "%s[%d]" % (where, index), exact)
    elif exact and recorded != answered:
        out.append("%s: recorded %r, fake answered %r" % (where, recorded, answered))
    return out


class DolibarrCaptureReplayTest(unittest.TestCase):
    maxDiff = None

    def test_fake_answers_as_recorded(self) -> None:
        steps = load_capture()
        self.assertGreater(len(steps), 60)
        app = DolibarrFake(bad_key_delay_ms=0, department_extrafield=False)
        fake = start_in_thread(app)
        try:
            problems: List[str] = []
            for number, step in enumerate(steps, 1):
                problems += ["step %d %s: %s" % (number, step["step"], p) for p in self.replay(fake.url, step)]
            self.assertEqual(problems, [])
        finally:
            fake.stop()

    def replay(self, base: str, step: Dict[str, Any]) -> List[str]:
        settings: Dict[str, Any] = {}
        for marker, values in NOTE_SETTINGS:
            if marker in (step.get("note") or ""):
                settings.update(values)
        if settings:
            self.assertEqual(http_call(base, "POST", "/_control/config", settings).status, 200)
        headers = {}
        if step["auth"] == "DOLAPIKEY":
            headers["DOLAPIKEY"] = "not-a-valid-key" if step["step"] == "bad_key" else KEY
        elif step["auth"].startswith("Authorization"):
            headers["Authorization"] = "Bearer " + KEY
        body, raw = step["request_body"], None
        if isinstance(body, str):
            body, raw = None, body
            headers["Content-Type"] = "application/json"
        try:
            reply = http_call(base, step["method"], API + step["path"], body, headers, raw)
        finally:
            if settings:
                http_call(base, "POST", "/_control/config", {k: DolibarrFake.DEFAULT_CONFIG[k] for k in settings})
        problems: List[str] = []
        if reply.status != step["status"]:
            problems.append("status: recorded %d, fake answered %d (%r)" % (step["status"], reply.status,
                                                                            reply.body[:200]))
        recorded_type = step["content_type"].split(";")[0].strip()
        answered_type = (reply.header("Content-Type") or "").split(";")[0].strip()
        if reply.body and recorded_type != answered_type:
            problems.append("content type: recorded %s, fake answered %s" % (recorded_type, answered_type))
        if recorded_type == "application/json":
            answered = json.loads(reply.body.decode("utf-8")) if reply.body else None
            problems += differences(step["response"], answered)
        elif step["step"] == "database_down":
            # The recording keeps only the page's stripped text.
            if b"DolibarrHasDetectedError" not in reply.body:
                problems.append("database-down page lacks DolibarrHasDetectedError: %r" % reply.body[:200])
        elif reply.body.decode("utf-8") != step["response"]:
            problems.append("body: recorded %r, fake answered %r" % (step["response"], reply.body[:300]))
        return problems

    def test_differences_notices_types_keys_and_values(self) -> None:
        # The comparison itself must be able to fail.
        self.assertEqual(differences({"id": "1", "x": None}, {"id": "1", "x": None, "more": 1}), [])
        self.assertTrue(differences({"id": "1"}, {"id": 1}))
        self.assertTrue(differences({"id": "1", "k": None}, {"id": "1"}))
        self.assertTrue(differences({"status": "0"}, {"status": "1"}))
        self.assertEqual(differences({"date_creation": 5}, {"date_creation": 7}), [])
        self.assertTrue(differences({"date_creation": 5}, {"date_creation": "7"}))
        self.assertTrue(differences([1, 2], [1]))


if __name__ == "__main__":
    unittest.main()
