#!/usr/bin/python3
"""Structural checks of deploy/compose.yaml and deploy/kubernetes/ (no cluster needed).

Usage: /usr/bin/python3 tests/deploy/validate_manifests.py [--compose FILE] [--kubernetes DIR]

Promises: parses every file with PyYAML (Debian's python3-yaml) and checks what the deployment
depends on, beyond what a schema would: compose runs PostgreSQL (healthy) -> a one-shot
`migrate` -> two or more scimd replicas on the same database; the Kubernetes manifests form a
consistent whole (selectors match pod labels, every referenced ConfigMap/Secret/key/volume/port
exists, the configuration file and its TLS files land where SCIMD_CONFIG and tls: say, probes
use /readyz and /healthz with HTTPS when TLS is on, 2+ replicas, resource requests, non-root,
read-only root filesystem, a migration Job, a PodDisruptionBudget that allows a drain).
Prints one line per problem and exits 1 if there is any, else prints a summary and exits 0.
"""
import argparse
import os
import sys

import yaml

PROBLEMS = []


def problem(where, text):
    PROBLEMS.append(f"{where}: {text}")


def check(cond, where, text):
    if not cond:
        problem(where, text)
    return cond


# --- compose --------------------------------------------------------------------------------

def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def check_compose(path):
    where = os.path.relpath(path)
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    services = doc.get("services") or {}
    pg = services.get("postgres")
    if check(pg is not None, where, "no postgres service"):
        check("healthcheck" in pg, where, "postgres has no healthcheck (migrate waits for it)")
    migrate = services.get("migrate")
    if not check(migrate is not None, where, "no one-shot migrate service"):
        return
    check(list(migrate.get("command") or [])[:1] == ["migrate"], where,
          "migrate service does not run `scimd migrate`")
    check(str(migrate.get("restart", "no")) == "no", where, "migrate must not restart")
    dep = (migrate.get("depends_on") or {}).get("postgres") or {}
    check(dep.get("condition") == "service_healthy", where,
          "migrate does not wait for postgres to be healthy")
    db = env_of(migrate).get("SCIMD_DB", "")
    check("@postgres:" in db, where, "migrate's SCIMD_DB does not point at the postgres service")
    replicas = {name: s for name, s in services.items()
                if s.get("image") == migrate.get("image") and name != "migrate"}
    check(len(replicas) >= 2, where, f"want 2+ scimd replicas, found {sorted(replicas)}")
    ports = []
    for name, s in replicas.items():
        w = f"{where}: {name}"
        check(list(s.get("command") or ["serve"])[:1] == ["serve"], w, "does not run serve")
        cond = ((s.get("depends_on") or {}).get("migrate") or {}).get("condition")
        check(cond == "service_completed_successfully", w,
              "does not wait for migrate to complete successfully")
        check(env_of(s).get("SCIMD_DB") == db, w, "SCIMD_DB differs from migrate's")
        env = env_of(s)
        check(env.get("SCIMD_TLS_CERT") and env.get("SCIMD_TLS_KEY"), w,
              "no TLS certificate (scimd refuses 0.0.0.0 without TLS)")
        ports += [str(p).split(":")[0] for p in s.get("ports") or []]
    check(len(ports) == len(set(ports)), where, f"replicas publish the same host port: {ports}")


# --- kubernetes -----------------------------------------------------------------------------

def load_dir(directory):
    docs = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".yaml", ".yml")) or name == "kustomization.yaml":
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.append((name, doc))
    return docs


def by_kind(docs, kind):
    return {d["metadata"]["name"]: (f, d) for f, d in docs if d.get("kind") == kind}


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def secret_keys(secret):
    return set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())


def check_pod_security(where, pod, container):
    psc, csc = pod.get("securityContext") or {}, container.get("securityContext") or {}
    check(csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, where, "not runAsNonRoot")
    check(csc.get("readOnlyRootFilesystem") is True, where, "root filesystem not read-only")
    check(csc.get("allowPrivilegeEscalation") is False, where, "privilege escalation allowed")
    check("ALL" in ((csc.get("capabilities") or {}).get("drop") or []), where,
          "capabilities not dropped")
    requests = (container.get("resources") or {}).get("requests") or {}
    check("cpu" in requests and "memory" in requests, where, "no cpu/memory requests")


def check_refs(where, pod, container, configmaps, secrets):
    """Volumes, mounts, env and envFrom refer to things that exist. Returns {mountPath: volume}."""
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for v in volumes.values():
        if "configMap" in v:
            check(v["configMap"]["name"] in configmaps, where,
                  f"volume {v['name']}: no ConfigMap {v['configMap']['name']}")
        if "secret" in v:
            check(v["secret"]["secretName"] in secrets, where,
                  f"volume {v['name']}: no Secret {v['secret']['secretName']}")
    mounts = {}
    for m in container.get("volumeMounts") or []:
        if check(m["name"] in volumes, where, f"mount of undeclared volume {m['name']}"):
            mounts[m["mountPath"]] = volumes[m["name"]]
    for e in container.get("envFrom") or []:
        if "secretRef" in e:
            check(e["secretRef"]["name"] in secrets, where, f"envFrom: no Secret {e['secretRef']['name']}")
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref and check(ref["name"] in secrets, where, f"env {e['name']}: no Secret {ref['name']}"):
            check(ref["key"] in secret_keys(secrets[ref["name"]][1]), where,
                  f"env {e['name']}: Secret {ref['name']} has no key {ref['key']}")
    return mounts


def file_in_mounts(path, mounts):
    """The (volume, key) that provides the file PATH through MOUNTS, or None."""
    for mount_path, volume in mounts.items():
        prefix = mount_path.rstrip("/") + "/"
        if path.startswith(prefix):
            return volume, path[len(prefix):]
    return None


def env_value(container, name):
    for e in container.get("env") or []:
        if e["name"] == name:
            return e.get("value")
    return None


def check_config(where, container, mounts, configmaps, secrets):
    """SCIMD_CONFIG is a ConfigMap file; its tls files are Secret keys. Returns the config."""
    path = env_value(container, "SCIMD_CONFIG")
    if not check(path, where, "no SCIMD_CONFIG"):
        return {}
    found = file_in_mounts(path, mounts)
    if not check(found and "configMap" in found[0], where, f"{path} is not mounted from a ConfigMap"):
        return {}
    volume, key = found
    cm = configmaps.get(volume["configMap"]["name"])
    if not check(cm and key in (cm[1].get("data") or {}), where, f"ConfigMap has no key {key}"):
        return {}
    config = yaml.safe_load(cm[1]["data"][key]) or {}
    check(str(config.get("listen", "")).endswith(":8443"), where, "config does not listen on :8443")
    tls = config.get("tls") or {}
    for field in ("cert_file", "key_file"):
        if field in tls:
            f = file_in_mounts(tls[field], mounts)
            if check(f and "secret" in f[0], where, f"tls.{field} {tls[field]} not mounted from a Secret"):
                sec = secrets.get(f[0]["secret"]["secretName"])
                check(sec and f[1] in secret_keys(sec[1]), where, f"Secret has no key {f[1]}")
    check(tls or config.get("insecure_http") is True, where, "neither TLS nor insecure_http")
    return config


def check_probes(where, container, tls_on):
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    want = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe_name, path in want.items():
        get = ((container.get(probe_name) or {}).get("httpGet")) or {}
        if not check(get, where, f"no {probe_name} httpGet"):
            continue
        check(get.get("path") == path, where, f"{probe_name} path {get.get('path')}, want {path}")
        port = get.get("port")
        check(port in ports or port in ports.values(), where, f"{probe_name} port {port} not declared")
        check(get.get("scheme", "HTTP") == ("HTTPS" if tls_on else "HTTP"), where,
              f"{probe_name} scheme {get.get('scheme', 'HTTP')} while TLS is {'on' if tls_on else 'off'}")
    return ports


def check_deployment(docs, configmaps, secrets):
    deployments = by_kind(docs, "Deployment")
    if not check(len(deployments) == 1, "kubernetes", f"want one Deployment, found {len(deployments)}"):
        return None
    (f, d), = deployments.values()
    where = f"{f}: Deployment {d['metadata']['name']}"
    spec = d["spec"]
    check(spec.get("replicas", 1) >= 2, where, "fewer than 2 replicas")
    labels = spec["template"]["metadata"].get("labels") or {}
    check(matches(spec["selector"].get("matchLabels"), labels), where, "selector does not match pod labels")
    pod = spec["template"]["spec"]
    containers = pod.get("containers") or []
    if not check(len(containers) >= 1, where, "no containers"):
        return None
    c = containers[0]
    check((c.get("args") or ["serve"])[0] == "serve", where, "container does not run serve")
    check_pod_security(where, pod, c)
    mounts = check_refs(where, pod, c, configmaps, secrets)
    config = check_config(where, c, mounts, configmaps, secrets)
    ports = check_probes(where, c, bool(config.get("tls")))
    return d, labels, ports


def check_service(docs, labels, ports):
    services = by_kind(docs, "Service")
    check(services, "kubernetes", "no Service")
    for name, (f, s) in services.items():
        where = f"{f}: Service {name}"
        check(matches(s["spec"].get("selector"), labels), where, "selector matches no scimd pod")
        for p in s["spec"].get("ports") or []:
            t = p.get("targetPort", p.get("port"))
            check(t in ports or t in ports.values(), where, f"targetPort {t} is no container port")


def check_pdb(docs, labels, replicas):
    pdbs = by_kind(docs, "PodDisruptionBudget")
    check(pdbs, "kubernetes", "no PodDisruptionBudget")
    for name, (f, p) in pdbs.items():
        where = f"{f}: PodDisruptionBudget {name}"
        check(matches(p["spec"]["selector"].get("matchLabels"), labels), where, "selector matches no scimd pod")
        lo = p["spec"].get("minAvailable")
        check(isinstance(lo, int) and 1 <= lo < replicas, where,
              f"minAvailable {lo} must be at least 1 and below the {replicas} replicas (drains)")


def check_job(docs, configmaps, secrets, image):
    jobs = by_kind(docs, "Job")
    if not check(jobs, "kubernetes", "no migration Job"):
        return
    for name, (f, j) in jobs.items():
        where = f"{f}: Job {name}"
        pod = j["spec"]["template"]["spec"]
        c = pod["containers"][0]
        check((c.get("args") or [None])[0] == "migrate", where, "does not run `scimd migrate`")
        check(c.get("image") == image, where, f"image {c.get('image')} differs from the Deployment's")
        check(pod.get("restartPolicy") in ("OnFailure", "Never"), where, "bad restartPolicy")
        check(any(e["name"] == "SCIMD_DB" for e in c.get("env") or []), where, "no SCIMD_DB")
        check_pod_security(where, pod, c)
        check_refs(where, pod, c, configmaps, secrets)


def check_kustomization(directory):
    path = os.path.join(directory, "kustomization.yaml")
    if not check(os.path.exists(path), directory, "no kustomization.yaml"):
        return
    with open(path, encoding="utf-8") as f:
        listed = set(yaml.safe_load(f).get("resources") or [])
    present = {n for n in os.listdir(directory) if n.endswith(".yaml") and n != "kustomization.yaml"}
    check(listed == present, path, f"resources {sorted(listed)} differ from the files {sorted(present)}")


def check_kubernetes(directory):
    docs = load_dir(directory)
    for f, d in docs:
        check(d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name"),
              f, "a document without apiVersion, kind or metadata.name")
    configmaps, secrets = by_kind(docs, "ConfigMap"), by_kind(docs, "Secret")
    check(any(s.get("type") == "kubernetes.io/tls" for _, s in secrets.values()),
          "kubernetes", "no kubernetes.io/tls Secret")
    found = check_deployment(docs, configmaps, secrets)
    if found:
        d, labels, ports = found
        check_service(docs, labels, ports)
        check_pdb(docs, labels, d["spec"].get("replicas", 1))
        check_job(docs, configmaps, secrets, d["spec"]["template"]["spec"]["containers"][0].get("image"))
    check_kustomization(directory)
    return len(docs)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--compose", default=os.path.join(root, "deploy", "compose.yaml"))
    ap.add_argument("--kubernetes", default=os.path.join(root, "deploy", "kubernetes"))
    args = ap.parse_args()
    try:
        check_compose(args.compose)
        n = check_kubernetes(args.kubernetes)
    except (KeyError, TypeError, AttributeError, IndexError, yaml.YAMLError) as e:
        problem("manifests", f"malformed: {type(e).__name__}: {e}")
        n = 0
    for p in PROBLEMS:
        print(p)
    if PROBLEMS:
        print(f"validate_manifests: {len(PROBLEMS)} problem(s)")
        return 1
    print(f"validate_manifests: compose and {n} Kubernetes documents OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
