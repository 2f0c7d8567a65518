#!/usr/bin/env python3
"""Run one fake server until SIGTERM / SIGINT.

    python3 run_fake.py dolibarr   --port 0 --port-file /tmp/dolibarr.port [--api-key K]
    python3 run_fake.py zoho_books --port 9102 [--token-lifetime 5] [--refresh-token R]
    python3 run_fake.py crm        --port 0 --port-file /tmp/crm.port [--token T]
    python3 run_fake.py clerk      --port 0 [--secret-key sk_test_...]   (API under /v1)
    python3 run_fake.py webhook    --port 0 [--algorithm RS256 --public-key-file key.pem]

Prints the bound port alone on the first line of stdout (and writes it to ``--port-file``,
atomically) once the socket listens. ``--config-json '{"setting": value}'`` sets any setting the
fake documents (see ``GET /_control/config``); ``--rate-limit N`` / ``--rate-window S`` set the
request limit per window. Exit status 0 after a clean shutdown, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import clerk_fake  # noqa: E402
import crm_fake  # noqa: E402
import dolibarr_fake  # noqa: E402
import webhook_receiver  # noqa: E402
import zoho_books_fake  # noqa: E402
from fakelib import serve  # noqa: E402

FAKES = {
    "dolibarr": dolibarr_fake,
    "zoho_books": zoho_books_fake,
    "crm": crm_fake,
    "clerk": clerk_fake,
    "webhook": webhook_receiver,
}
ALIASES = {"zoho": "zoho_books", "webhook_receiver": "webhook", "webhooks": "webhook"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_fake.py", description="Run one of scimd's fake target servers.")
    sub = parser.add_subparsers(dest="fake", required=True, metavar="{%s}" % ",".join(FAKES))
    for name, module in FAKES.items():
        aliases = [a for a, target in ALIASES.items() if target == name]
        p = sub.add_parser(name, aliases=aliases, help=(module.__doc__ or "").strip().splitlines()[0])
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
        p.add_argument("--port-file", default=None, help="write the bound port to this file")
        p.add_argument("--rate-limit", type=int, default=None, help="requests per window (0 = unlimited)")
        p.add_argument("--rate-window", type=float, default=None, help="rate-limit window in seconds (60)")
        p.add_argument("--config-json", default=None, help="JSON object of settings")
        p.add_argument("--verbose", action="store_true", help="log each request to stderr")
        module.add_cli_arguments(p)
    return parser


def build_app(args: argparse.Namespace) -> Any:
    """Instantiate the chosen fake from parsed arguments (raises ValueError on bad settings)."""
    name = ALIASES.get(args.fake, args.fake)
    module = FAKES[name]
    config: Dict[str, Any] = module.config_from_args(args)
    if args.rate_limit is not None:
        config["rate_limit_per_minute"] = args.rate_limit
    if args.rate_window is not None:
        config["rate_limit_window_seconds"] = args.rate_window
    if args.config_json:
        extra = json.loads(args.config_json)
        if not isinstance(extra, dict):
            raise ValueError("--config-json must be a JSON object")
        config.update(extra)
    return module.FAKE_CLASS(**config)


def write_port_file(path: str, port: int) -> None:
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        app = build_app(args)
        server = serve(app, args.host, args.port, args.verbose)
    except (ValueError, OSError) as exc:
        print("run_fake.py: %s" % exc, file=sys.stderr)
        return 2
    port = server.server_address[1]
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print(port, flush=True)
    print("%s fake listening on http://%s:%d" % (app.name, args.host, port), file=sys.stderr, flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
