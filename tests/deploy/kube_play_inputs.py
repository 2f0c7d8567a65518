#!/usr/bin/python3
"""Turns deploy/kubernetes/ into what `podman kube play` (podman 4.3, Debian 12) can run here.

Usage: kube_play_inputs.py KUBE_DIR OUT_DIR PORT CERT KEY

Promises: writes OUT_DIR/play.yaml (the ConfigMap and the Deployment, unchanged but for one
replica, because every podman pod publishes its container port on the host, and that port
published as 127.0.0.1:PORT) and the two Secrets as files for `podman secret create`, in the
shapes podman 4.3 reads back (its own `kube play` of a Secret stores YAML that its readers
then fail to parse, podman issue 16269): OUT_DIR/scimd-env.json, a flat map of the manifest's
keys to base64 values, with SCIMD_DB pointed at SQLite in the pod's /tmp (no PostgreSQL here)
and the other keys set to "test"; OUT_DIR/scimd-tls.json, a Secret whose data are the PEM files
CERT and KEY under the manifest's keys. Exits 1 when a Secret or key the Deployment needs is
missing from the manifests.
"""
import base64
import json
import os
import sys

import yaml


def load(directory, name):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def main():
    kube, out, port, cert, key = sys.argv[1:6]
    secrets = {d["metadata"]["name"]: d for d in load(kube, "secret.yaml")}
    env = secrets["scimd-env"].get("stringData") or {}
    env = {k: "test" for k in env}
    if "SCIMD_DB" not in env:
        print("kube_play_inputs: Secret scimd-env has no SCIMD_DB", file=sys.stderr)
        return 1
    env["SCIMD_DB"] = "sqlite:/tmp/scimd.db"
    with open(os.path.join(out, "scimd-env.json"), "w", encoding="utf-8") as f:
        json.dump({k: base64.b64encode(v.encode()).decode() for k, v in env.items()}, f)

    tls = secrets["scimd-tls"]
    keys = set(tls.get("stringData") or {}) | set(tls.get("data") or {})
    if keys != {"tls.crt", "tls.key"}:
        print(f"kube_play_inputs: Secret scimd-tls has keys {sorted(keys)}", file=sys.stderr)
        return 1
    with open(cert, encoding="utf-8") as c, open(key, encoding="utf-8") as k:
        pem = {"tls.crt": c.read(), "tls.key": k.read()}
    play_tls = {"apiVersion": "v1", "kind": "Secret", "type": tls["type"],
                "metadata": {"name": "scimd-tls"}, "data": pem}
    with open(os.path.join(out, "scimd-tls.json"), "w", encoding="utf-8") as f:
        json.dump(play_tls, f)

    deployment = load(kube, "deployment.yaml")[0]
    deployment["spec"]["replicas"] = 1
    port_spec = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]
    port_spec.update({"hostPort": int(port), "hostIP": "127.0.0.1"})
    with open(os.path.join(out, "play.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump_all(load(kube, "configmap.yaml") + [deployment], f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
