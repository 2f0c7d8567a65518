#!/usr/bin/python3
"""Prints the scimd services of deploy/compose.yaml as `podman run` arguments, in start order.

Usage: compose_as_podman.py COMPOSE_FILE PG_PORT TLS_DIR PORT[,PORT...]

There is no registry here for the postgres image, and podman-compose 1.0.3 (Debian 12) ignores
depends_on conditions, so tests/deploy/check_deploy.sh runs the compose file's scimd services
itself against a throwaway PostgreSQL on the host. Promises: one line per service other than
`postgres`, services before those that depend on them, as
    NAME<TAB>KIND<TAB>ARGS
where KIND is `oneshot` (restart "no") or `server`, and ARGS is a shell-quoted list of
`podman run` arguments ending with the image and the service's command: its environment with
${VAR:-default} and ${VAR:?message} interpolated (POSTGRES_PASSWORD=test), `@postgres:5432`
replaced by `@127.0.0.1:PG_PORT`, the ./tls volume replaced by TLS_DIR, and the service's
read_only, tmpfs, cap_drop and security_opt kept. Servers use the host network and listen on
127.0.0.1 at the given PORTs in turn (SCIMD_LISTEN) instead of their published ports.
Exits 1 when a dependency cannot be ordered, a variable is missing or there are too few PORTs.
"""
import re
import shlex
import sys

import yaml

VARIABLES = {"POSTGRES_PASSWORD": "test"}


def interpolate(text):
    def one(m):
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if name in VARIABLES:
            return VARIABLES[name]
        if op == ":-":
            return arg
        raise SystemExit(f"compose_as_podman: ${{{name}}} unset: {arg}")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}", one, str(text))


def ordered(services):
    done, order = set(), []
    while len(order) < len(services):
        ready = [n for n, s in services.items() if n not in done
                 and set(s.get("depends_on") or {}) - {"postgres"} <= done]
        if not ready:
            raise SystemExit(f"compose_as_podman: cannot order {sorted(set(services) - done)}")
        for n in sorted(ready):
            done.add(n)
            order.append(n)
    return order


def run_args(name, s, pg_port, tls_dir, listen_port):
    args = ["--network", "host"]
    env = dict(s.get("environment") or {})
    if listen_port:
        env["SCIMD_LISTEN"] = f"127.0.0.1:{listen_port}"
    for k, v in env.items():
        v = interpolate(v).replace("@postgres:5432", f"@127.0.0.1:{pg_port}")
        args += ["-e", f"{k}={v}"]
    for v in s.get("volumes") or []:
        src, rest = v.split(":", 1)
        if src != "./tls":
            raise SystemExit(f"compose_as_podman: {name}: unexpected volume {v}")
        args += ["-v", f"{tls_dir}:{rest}"]
    if s.get("read_only"):
        args.append("--read-only")
    args += [a for t in s.get("tmpfs") or [] for a in ("--tmpfs", t)]
    args += [a for c in s.get("cap_drop") or [] for a in ("--cap-drop", c)]
    args += [a for o in s.get("security_opt") or [] for a in ("--security-opt", o)]
    return args + [interpolate(s["image"])] + list(s.get("command") or [])


def main():
    path, pg_port, tls_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    ports = [int(p) for p in sys.argv[4].split(",")]
    with open(path, encoding="utf-8") as f:
        services = yaml.safe_load(f)["services"]
    services = {n: s for n, s in services.items() if n != "postgres"}
    for name in ordered(services):
        s = services[name]
        oneshot = str(s.get("restart", "")) == "no"
        if not oneshot and not ports:
            raise SystemExit("compose_as_podman: more servers than ports")
        args = run_args(name, s, pg_port, tls_dir, None if oneshot else ports.pop(0))
        print(f"{name}\t{'oneshot' if oneshot else 'server'}\t{shlex.join(args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
