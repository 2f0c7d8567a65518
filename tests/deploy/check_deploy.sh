#!/usr/bin/env bash
# The CI phase "image" (tests/run_all.sh): checks everything under deploy/ on this machine.
#
#   bash tests/deploy/check_deploy.sh        # after a Release build in build/
#
# Promises, in order; the first failure stops it with a message naming the step, and it exits
# non-zero:
#   1. installs the Debian packages it needs when missing (podman, runc, mmdebstrap, eatmydata,
#      python3-yaml, openssl, curl, systemd for systemd-analyze, postgresql-15);
#   2. builds the image localhost/scimd:dev with deploy/container/build.sh --binary build/scimd
#      (no second C++ compile; the base image is bootstrapped with mmdebstrap when it cannot be
#      pulled) and checks it: every library scimd links resolves inside it, it runs as a
#      non-root user, declares /data, port 8443 and a HEALTHCHECK;
#   3. runs it (read-only root filesystem) serving HTTPS with a throwaway self-signed certificate
#      against a throwaway SQLite database in a host directory mounted at /data, port published
#      on 127.0.0.1 only; checks /healthz (200 over HTTPS, and plain HTTP refused), the image's
#      HEALTHCHECK, a token made with `scimd token create` inside the container, GET /Users
#      (200, a ListResponse; 401 without the token), POST /Users (201), that SIGHUP leaves it
#      serving, and that the user is still there after the container is replaced by a new one
#      on the same /data;
#   4. verifies deploy/systemd/scimd.service with systemd-analyze (verify, on a copy whose
#      /usr/bin/scimd is the built binary, any warning fails; security exposure at most 2.0);
#   5. validates deploy/compose.yaml and deploy/kubernetes/ (tests/deploy/validate_manifests.py),
#      shows the validator rejects a broken copy, and has scimd check the ConfigMap's scimd.yaml
#      when the binary has `config check`;
#   6. plays the Deployment and ConfigMap with `podman kube play` (one replica, test Secrets:
#      see check_kube_play) and checks the pod serves /healthz and /readyz over HTTPS;
#   7. runs compose.yaml's migrate service and its two replicas (their image, command,
#      environment, read-only root, dropped capabilities) against a throwaway PostgreSQL on the
#      host in place of the postgres service: migrate exits 0, both replicas get ready, a user
#      created through one is read through the other.
# Containers, the kube play pod, its volumes and secrets, the PostgreSQL cluster, the /data
# directory and the certificate are removed on exit, also on failure.
# Prints the image size and the time of each step.
#
# `check_deploy.sh --prepare` does step 1 and makes sure the base image exists, nothing else.
#
# Knobs (environment): SCIMD_BIN (default build/scimd), SCIMD_IMAGE (default localhost/scimd:dev),
# SCIMD_PODMAN_RUN_ARGS (arguments for `podman run`; default: found by trying, see run_flags).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=$(realpath -m "${SCIMD_BIN:-build/scimd}")  # may not exist yet (--prepare)
IMAGE=${SCIMD_IMAGE:-localhost/scimd:dev}
PACKAGES=(podman runc mmdebstrap eatmydata python3-yaml openssl curl systemd postgresql-15)
WORK=$(mktemp -d /tmp/scimd-check-deploy.XXXXXX)
NAME=scimd-check-$$
PODMAN=(podman)   # plus global flags (--runtime runc) when this machine needs them
RUN_FLAGS=()      # plus --ulimit ... when this machine needs them
PORT=
SECRET=
STEP_START=$(date +%s)

log() { printf '=== check_deploy: %s\n' "$*"; }
fail() { printf 'check_deploy: FAILED: %s\n' "$*" >&2; exit 1; }

# Ends one step: prints its time.
step_done() {
  local now
  now=$(date +%s)
  log "$1 done in $((now - STEP_START)) s"
  STEP_START=$now
}

cleanup() {
  local c
  for c in "$NAME" "$NAME-2"; do
    "${PODMAN[@]}" rm -f -v -t 2 "$c" >/dev/null 2>&1 || true
  done
  kube_cleanup
  compose_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. packages ----------------------------------------------------------------------------

install_packages() {
  local pkg missing=()
  for pkg in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true) == installed ]] ||
      missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- 2. image -------------------------------------------------------------------------------

build_image() {
  [[ -x "$BIN" ]] || fail "no scimd binary at $BIN (build first)"
  bash deploy/container/build.sh --binary "$BIN" --tag "$IMAGE"
}

# Finds the podman flags this machine needs to run a container: none on a normal host; here
# the default rlimits (nofile 1048576) are refused, and crun, when it is the default, too.
run_flags() {
  if [[ -n "${SCIMD_PODMAN_RUN_ARGS+set}" ]]; then
    read -ra RUN_FLAGS <<<"$SCIMD_PODMAN_RUN_ARGS"
    return 0
  fi
  local limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
  if podman run --rm --no-healthcheck --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1; then return 0; fi
  if podman run --rm --no-healthcheck "${limits[@]}" --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1; then
    RUN_FLAGS=("${limits[@]}")
  elif podman --runtime runc run --rm --no-healthcheck "${limits[@]}" --entrypoint /bin/true "$IMAGE" >/dev/null; then
    PODMAN=(podman --runtime runc)
    RUN_FLAGS=("${limits[@]}")
  else
    fail "podman cannot run a container here"
  fi
  log "this machine needs: ${PODMAN[*]} run ${RUN_FLAGS[*]}"
}

# inspect FORMAT: one field of the image's configuration.
inspect() { podman image inspect -f "$1" "$IMAGE"; }

check_image() {
  local libs
  libs=$("${PODMAN[@]}" run --rm --no-healthcheck "${RUN_FLAGS[@]}" --entrypoint ldd "$IMAGE" /usr/bin/scimd) ||
    fail "cannot run the image with: ${PODMAN[*]} run ${RUN_FLAGS[*]} (set SCIMD_PODMAN_RUN_ARGS)"
  ! grep -q 'not found' <<<"$libs" || fail "libraries missing in the image: $(grep 'not found' <<<"$libs")"
  [[ $(inspect '{{.Config.User}}') =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "image user is not a non-root uid"
  [[ $(inspect '{{json .Config.Volumes}}') == *'"/data"'* ]] || fail "image declares no /data volume"
  [[ $(inspect '{{json .Config.ExposedPorts}}') == *'8443/tcp'* ]] || fail "image exposes no 8443"
  [[ $(inspect '{{json .Config.Healthcheck}}') == *scimd-healthcheck* ]] || fail "image has no HEALTHCHECK"
  log "image $IMAGE: $(($(inspect '{{.Size}}') / 1000000)) MB"
}

# --- 3. the container serving HTTPS ---------------------------------------------------------

make_certificate() {
  mkdir -p "$WORK/tls" "$WORK/data"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls/tls.key" -out "$WORK/tls/tls.crt" 2>/dev/null
  chown 10001:10001 "$WORK/tls/tls.key" "$WORK/data"
  chmod 0600 "$WORK/tls/tls.key"
  chmod 0700 "$WORK/data"
  PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

# start_container NAME: runs the image detached with the certificate and $WORK/data as /data.
# (podman's complaint that it cannot reach systemd to schedule the HEALTHCHECK timer, on a
# machine without systemd as init, is shown only when the run fails.)
start_container() {
  "${PODMAN[@]}" run -d --name "$1" "${RUN_FLAGS[@]}" --read-only \
    -p "127.0.0.1:$PORT:8443" -v "$WORK/data:/data" -v "$WORK/tls:/etc/scimd/tls:ro" \
    -e SCIMD_TLS_CERT=/etc/scimd/tls/tls.crt -e SCIMD_TLS_KEY=/etc/scimd/tls/tls.key \
    "$IMAGE" >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err" >&2; fail "podman run $1"; }
  log "container $1 started: https://127.0.0.1:$PORT, /data = $WORK/data"
}

# wait_healthy NAME: waits up to 30 s for /healthz over HTTPS; shows the log when it never comes.
wait_healthy() {
  local i
  for i in $(seq 1 60); do
    if curl -fsS --max-time 2 --cacert "$WORK/tls/tls.crt" -o /dev/null "https://127.0.0.1:$PORT/healthz" 2>/dev/null; then
      return 0
    fi
    if [[ $("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$1") != true ]]; then break; fi
    sleep 0.5
  done
  "${PODMAN[@]}" logs "$1" 2>&1 | tail -n 30 >&2
  fail "container $1: /healthz never answered over HTTPS"
}

# http METHOD PATH [BODY]: prints "<status> <body>" of a request with the bearer token.
http() {
  local args=(-sS --max-time 10 --cacert "$WORK/tls/tls.crt" -X "$1" -o "$WORK/body" -w '%{http_code}')
  [[ -n "$SECRET" ]] && args+=(-H "Authorization: Bearer $SECRET")
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/scim+json' --data "$3")
  : >"$WORK/body"
  printf '%s %s\n' "$(curl "${args[@]}" "https://127.0.0.1:$PORT$2" || true)" "$(cat "$WORK/body")"
}

# expect STATUS TEXT WHAT RESPONSE: RESPONSE ("<status> <body>") has STATUS and contains TEXT.
expect() {
  [[ "${4%% *}" == "$1" && "$4" == *"$2"* ]] || fail "$3: wanted $1 with '$2', got: ${4:0:300}"
  log "$3: $1${2:+ with $2}"
}

check_serving() {
  local r id
  r=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null || true)
  [[ "$r" != 200 ]] || fail "plain HTTP got 200 on the TLS port"
  log "plain HTTP on the TLS port: refused ($r)"
  expect 200 '' "GET /healthz over HTTPS" "$(http GET /healthz)"
  "${PODMAN[@]}" healthcheck run "$NAME" || fail "the image's HEALTHCHECK reports unhealthy"
  log "HEALTHCHECK: healthy"
  expect 401 '' "GET /scim/v2/Users without a token" "$(http GET /scim/v2/Users)"
  SECRET=$("${PODMAN[@]}" exec "$NAME" scimd token create --db sqlite:/data/scimd.db --name ci \
    --scopes scim:read,scim:write,admin | tail -n 1)
  [[ -n "$SECRET" ]] || fail "token create printed no secret"
  expect 200 'urn:ietf:params:scim:api:messages:2.0:ListResponse' "GET /scim/v2/Users" "$(http GET /scim/v2/Users)"
  r=$(http POST /scim/v2/Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ci.user@example.com","active":true}')
  expect 201 '"userName":"ci.user@example.com"' "POST /scim/v2/Users" "$r"
  id=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["id"])' "$r")
  echo "$id" >"$WORK/user-id"
  # SIGHUP (README: re-read the certificate) must not end the server.
  "${PODMAN[@]}" kill --signal HUP "$NAME" >/dev/null
  sleep 1
  expect 200 '' "GET /healthz after SIGHUP" "$(http GET /healthz)"
}

# The database lives in /data: a new container on the same directory still has the user.
check_persistence() {
  "${PODMAN[@]}" stop -t 10 "$NAME" >/dev/null 2>"$WORK/stop.err" || { cat "$WORK/stop.err" >&2; fail "podman stop"; }
  start_container "$NAME-2"
  wait_healthy "$NAME-2"
  expect 200 '"userName":"ci.user@example.com"' "GET /scim/v2/Users/ID from a new container" \
    "$(http GET "/scim/v2/Users/$(cat "$WORK/user-id")")"
  [[ $(stat -c %u "$WORK/data/scimd.db") == 10001 ]] || fail "scimd.db is not owned by the image's user"
}

# --- 4. systemd -----------------------------------------------------------------------------

check_systemd_unit() {
  local out
  mkdir -p "$WORK/systemd"
  # verify refuses a unit whose ExecStart binary is missing: point a copy at the built one.
  sed "s|/usr/bin/scimd|$BIN|g" deploy/systemd/scimd.service >"$WORK/systemd/scimd.service"
  out=$(systemd-analyze verify "$WORK/systemd/scimd.service" 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify warns (unknown key or bad value?): $out"
  systemd-analyze security --offline=yes --threshold=20 "$WORK/systemd/scimd.service" |
    tail -n 1 || fail "systemd unit exposure above 2.0"
}

# --- 5. compose and Kubernetes --------------------------------------------------------------

check_manifests() {
  /usr/bin/python3 tests/deploy/validate_manifests.py
  # The validator must be able to fail: a Deployment with one replica is rejected.
  cp -r deploy/kubernetes "$WORK/k8s"
  sed -i 's/^  replicas: 2$/  replicas: 1/' "$WORK/k8s/deployment.yaml"
  if /usr/bin/python3 tests/deploy/validate_manifests.py --kubernetes "$WORK/k8s" >/dev/null; then
    fail "validate_manifests.py accepted a one-replica Deployment"
  fi
  check_configmap_config
}

# scimd itself checks the ConfigMap's scimd.yaml inside the image, with the certificate where
# the Secret would put it (skipped, and said, when this binary has no `config check`).
check_configmap_config() {
  if ! "$BIN" --help | grep -qE '^ +config +'; then
    log "SKIP: $BIN has no 'config check'; the ConfigMap's scimd.yaml was only parsed as YAML"
    return 0
  fi
  /usr/bin/python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    sys.stdout.write(d["data"]["scimd.yaml"])' deploy/kubernetes/configmap.yaml >"$WORK/k8s-scimd.yaml"
  "${PODMAN[@]}" run --rm --no-healthcheck "${RUN_FLAGS[@]}" -v "$WORK/k8s-scimd.yaml:/etc/scimd/config/scimd.yaml:ro" \
    -v "$WORK/tls:/etc/scimd/tls:ro" -e DOLIBARR_API_KEY=x "$IMAGE" \
    config check --config /etc/scimd/config/scimd.yaml || fail "scimd config check rejects the ConfigMap's scimd.yaml"
}

# --- 6. the Kubernetes Deployment under podman kube play ----------------------------------

KUBE_OBJECTS=0  # set once kube play may have left a pod, volumes and secrets to remove

kube_cleanup() {
  [[ $KUBE_OBJECTS == 1 ]] || return 0
  podman kube down "$WORK/kube/play.yaml" >/dev/null 2>&1 || true
  podman volume rm -f scimd-config scimd-tls >/dev/null 2>&1 || true
  podman secret rm scimd-env scimd-tls >/dev/null 2>&1 || true
}

# podman 4.3 (Debian 12) runs the ConfigMap and the Deployment (one replica, Secrets filled in
# with test values: tests/deploy/kube_play_inputs.py); the pod must serve /healthz and /readyz
# over HTTPS as uid 10001 on a read-only root filesystem. Other podman versions read Secrets
# differently: the step says SKIP there. The ulimits this machine needs go through a
# containers.conf (kube play has no --ulimit).
check_kube_play() {
  local version conf="" i
  version=$(podman version -f '{{.Client.Version}}')
  if [[ $version != 4.3.* ]]; then
    log "SKIP: podman kube play: the Secret workarounds are for podman 4.3, this is $version"
    return 0
  fi
  mkdir -p "$WORK/kube"
  PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/python3 tests/deploy/kube_play_inputs.py deploy/kubernetes "$WORK/kube" "$PORT" \
    "$WORK/tls/tls.crt" "$WORK/tls/tls.key"
  KUBE_OBJECTS=1
  kube_cleanup
  KUBE_OBJECTS=1
  podman secret create scimd-env "$WORK/kube/scimd-env.json" >/dev/null
  podman secret create scimd-tls "$WORK/kube/scimd-tls.json" >/dev/null
  if [[ ${#RUN_FLAGS[@]} -gt 0 ]]; then
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n' \
      >"$WORK/kube/containers.conf"
    conf=$WORK/kube/containers.conf
  fi
  CONTAINERS_CONF=${conf:-${CONTAINERS_CONF:-}} podman kube play "$WORK/kube/play.yaml" \
    >"$WORK/kube/play.log" 2>&1 || { cat "$WORK/kube/play.log" >&2; fail "podman kube play"; }
  for i in $(seq 1 60); do
    curl -fsS --max-time 2 --cacert "$WORK/tls/tls.crt" -o /dev/null "https://127.0.0.1:$PORT/readyz" 2>/dev/null && break
    [[ $i -lt 60 ]] || { podman logs scimd-pod-0-scimd 2>&1 | tail -n 20 >&2; fail "kube play: /readyz never answered"; }
    sleep 0.5
  done
  expect 200 '' "kube play: GET /healthz over HTTPS" "$(http GET /healthz)"
  expect 200 '' "kube play: GET /readyz over HTTPS" "$(http GET /readyz)"
  [[ $(podman inspect -f '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}' scimd-pod-0-scimd) == "10001:10001 true" ]] ||
    fail "kube play: the pod does not run as 10001 with a read-only root filesystem"
  log "kube play: pod runs as uid 10001, root filesystem read-only, published $(podman port scimd-pod-0-scimd | tr "\n" " ")"
  kube_cleanup
  KUBE_OBJECTS=0
}

# --- 7. compose.yaml's scimd services on PostgreSQL ----------------------------------------

PG_DIR=  # set while the throwaway PostgreSQL cluster runs

compose_cleanup() {
  local c
  for c in $(podman ps -a --format '{{.Names}}' | grep -E "^compose-.*-$$\$" || true); do
    "${PODMAN[@]}" rm -f -v -t 2 "$c" >/dev/null 2>&1 || true
  done
  [[ -z "$PG_DIR" ]] || bash tests/support/pg_cluster.sh stop "$PG_DIR" >/dev/null 2>&1 || true
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready PORT NAME: waits up to 30 s for /readyz on 127.0.0.1:PORT over HTTPS.
wait_ready() {
  local i
  for i in $(seq 1 60); do
    curl -fsS --max-time 2 --cacert "$WORK/tls/tls.crt" -o /dev/null "https://127.0.0.1:$1/readyz" 2>/dev/null && return 0
    sleep 0.5
  done
  "${PODMAN[@]}" logs "$2" 2>&1 | tail -n 20 >&2
  fail "$2: /readyz never answered on port $1"
}

# Runs the compose file's migrate and replica services (tests/deploy/compose_as_podman.py: the
# image, command, environment and restrictions of each, in depends_on order) against a throwaway
# PostgreSQL on the host, standing in for the postgres service (no registry for its image here).
# The one-shot migrate must exit 0, both replicas must get ready, and a user created through one
# replica must be read through the other.
check_compose_stack() {
  local pg_port free=() name kind quoted ports=() servers=()
  pg_port=$(free_port)
  free=("$(free_port)" "$(free_port)" "$(free_port)" "$(free_port)")
  chmod 0711 "$WORK"
  PG_DIR=$WORK/pg
  bash tests/support/pg_cluster.sh start "$PG_DIR" "$pg_port" >/dev/null
  /usr/bin/python3 tests/deploy/compose_as_podman.py deploy/compose.yaml "$pg_port" "$WORK/tls" \
    "$(IFS=,; echo "${free[*]}")" >"$WORK/compose-services"
  while IFS=$'\t' read -r name kind quoted; do
    eval "local -a args=($quoted)"
    if [[ $kind == oneshot ]]; then
      "${PODMAN[@]}" run --rm --no-healthcheck --name "compose-$name-$$" "${RUN_FLAGS[@]}" "${args[@]}" </dev/null \
        >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; fail "compose service $name failed"; }
      log "compose: $name exited 0"
    else
      ports+=("${free[${#servers[@]}]}")
      servers+=("compose-$name-$$")
      "${PODMAN[@]}" run -d --name "compose-$name-$$" "${RUN_FLAGS[@]}" "${args[@]}" </dev/null >/dev/null 2>"$WORK/run.err" ||
        { cat "$WORK/run.err" >&2; fail "compose service $name did not start"; }
    fi
  done <"$WORK/compose-services"
  [[ ${#servers[@]} -ge 2 ]] || fail "compose: fewer than two replicas"
  wait_ready "${ports[0]}" "${servers[0]}"
  wait_ready "${ports[1]}" "${servers[1]}"
  SECRET=$("${PODMAN[@]}" exec "${servers[0]}" scimd token create --name compose --scopes scim:read,scim:write | tail -n 1)
  PORT=${ports[0]}
  local r id
  r=$(http POST /scim/v2/Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"compose.user@example.com"}')
  expect 201 '"userName":"compose.user@example.com"' "compose: POST /Users through ${servers[0]} (PostgreSQL)" "$r"
  id=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["id"])' "$r")
  PORT=${ports[1]}
  expect 200 '"userName":"compose.user@example.com"' "compose: GET /Users/ID through ${servers[1]}" \
    "$(http GET "/scim/v2/Users/$id")"
  compose_cleanup
  PG_DIR=
}

main() {
  install_packages
  step_done "packages"
  if [[ "${1:-}" == --prepare ]]; then
    # Only what takes minutes on a clean machine and needs no scimd binary: the packages and the
    # base image (tests/run_all.sh runs this in the background while it compiles).
    bash deploy/container/build.sh --base-only
    step_done "base image"
    return 0
  fi
  build_image
  run_flags
  check_image
  step_done "image build"
  make_certificate
  start_container "$NAME"
  wait_healthy "$NAME"
  check_serving
  check_persistence
  step_done "container over HTTPS"
  check_systemd_unit
  check_manifests
  step_done "systemd unit and manifests"
  check_kube_play
  step_done "kube play"
  check_compose_stack
  step_done "compose services on PostgreSQL"
  log "OK"
}

main "$@"
