#!/usr/bin/env bash
# Builds the scimd container image (default tag localhost/scimd:dev) from
# deploy/container/Containerfile, with podman (or docker when there is no podman).
#
#   bash deploy/container/build.sh                       # compiles scimd inside the build stage
#   bash deploy/container/build.sh --binary build/scimd  # packs an already built binary instead
#   bash deploy/container/build.sh --tag registry.example.com/scimd:1.0
#   bash deploy/container/build.sh --base-only           # only makes sure the base image exists
#
# Promises: the build context is a temporary copy of the repository's files (git-tracked and
# untracked-but-not-ignored; no build*/ directories), plus build/scimd when --binary is given
# (then the Containerfile's build stage compiles nothing: SCIMD_PREBUILT=1). The base image
# debian:bookworm-slim is used when present, else pulled; when it cannot be pulled (no registry
# reachable) it is bootstrapped from the Debian archive with mmdebstrap (variant minbase, docs
# and man pages excluded as in Debian's -slim images) and imported under the name the
# Containerfile uses, so the Containerfile builds unchanged. The bootstrap tarball is cached in
# SCIMD_BASE_CACHE (default /var/cache/scimd-container). Exits non-zero on any failure.
#
# Knobs (environment): SCIMD_CONTAINER_ENGINE (podman|docker), SCIMD_BASE_CACHE,
# SCIMD_BUILD_ARGS (extra arguments for `podman build`, split on spaces). A real host needs
# none of them.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE=docker.io/library/debian:bookworm-slim
TAG=localhost/scimd:dev
BINARY=
BASE_ONLY=
ENGINE=${SCIMD_CONTAINER_ENGINE:-}
CACHE=${SCIMD_BASE_CACHE:-/var/cache/scimd-container}
CONTEXT=

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --binary) BINARY=$(realpath "$2"); shift 2 ;;
      --tag) TAG=$2; shift 2 ;;
      --base-only) BASE_ONLY=1; shift ;;
      -h | --help) usage ;;
      *) echo "build.sh: unknown argument $1" >&2; usage ;;
    esac
  done
  if [[ -n "$BINARY" && ! -x "$BINARY" ]]; then
    echo "build.sh: --binary $BINARY is not an executable file" >&2
    exit 1
  fi
}

pick_engine() {
  if [[ -z "$ENGINE" ]]; then
    if command -v podman >/dev/null; then ENGINE=podman
    elif command -v docker >/dev/null; then ENGINE=docker
    else echo "build.sh: neither podman nor docker found (apt-get install podman)" >&2; exit 1
    fi
  fi
}

# Bootstraps bookworm with mmdebstrap into $CACHE/bookworm-minbase.tar (kept for later runs).
bootstrap_tarball() {
  local tar=$CACHE/bookworm-minbase.tar
  if [[ -s "$tar" ]]; then
    echo "$tar"
    return 0
  fi
  command -v mmdebstrap >/dev/null || { echo "build.sh: no base image and no mmdebstrap (apt-get install mmdebstrap)" >&2; return 1; }
  mkdir -p "$CACHE"
  echo "build.sh: bootstrapping $BASE with mmdebstrap into $tar" >&2
  # merged /usr the debootstrap way (no usrmerge package, and so no perl, in the image);
  # eatmydata, when installed, skips dpkg's fsyncs while unpacking (about twice as fast here)
  local hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  if command -v eatmydata >/dev/null && [[ -d /usr/share/mmdebstrap/hooks/eatmydata ]]; then
    hooks+=(--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata)
  fi
  mmdebstrap --variant=minbase --format=tar --quiet "${hooks[@]}" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --aptopt='Acquire::Languages "none"' \
    bookworm "$tar.partial" >&2
  mv "$tar.partial" "$tar"
  echo "$tar"
}

# Makes sure the Containerfile's base image exists locally: present, pulled, or bootstrapped.
ensure_base() {
  if "$ENGINE" image inspect "$BASE" >/dev/null 2>&1; then
    return 0
  fi
  if timeout 120 "$ENGINE" pull -q "$BASE" >/dev/null 2>&1; then
    return 0
  fi
  echo "build.sh: cannot pull $BASE; building it locally" >&2
  local tar
  tar=$(bootstrap_tarball)
  "$ENGINE" import --change 'CMD ["/bin/bash"]' "$tar" "$BASE" >/dev/null
  "$ENGINE" tag "$BASE" debian:bookworm-slim 2>/dev/null || true
}

# Fills $CONTEXT with the repository's files (and build/scimd when --binary was given).
make_context() {
  CONTEXT=$(mktemp -d /tmp/scimd-image-context.XXXXXX)
  trap 'rm -rf "$CONTEXT"' EXIT
  if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
      (cd "$ROOT" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
      tar -C "$ROOT" --null -T - -cf - | tar -C "$CONTEXT" -xf -
  else
    tar -C "$ROOT" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$CONTEXT" -xf -
  fi
  if [[ -n "$BINARY" ]]; then
    mkdir -p "$CONTEXT/build"
    cp "$BINARY" "$CONTEXT/build/scimd"
  fi
}

build_image() {
  local args=(build -f "$CONTEXT/deploy/container/Containerfile" -t "$TAG") old new
  old=$("$ENGINE" image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
  [[ "$ENGINE" == podman ]] && args+=(--format docker)  # keeps HEALTHCHECK
  [[ -n "$BINARY" ]] && args+=(--build-arg SCIMD_PREBUILT=1)
  # shellcheck disable=SC2206  # deliberately split on spaces
  [[ -n "${SCIMD_BUILD_ARGS:-}" ]] && args+=(${SCIMD_BUILD_ARGS})
  "$ENGINE" "${args[@]}" "$CONTEXT"
  # The build stage stays behind as an untagged image: drop those of earlier builds (the
  # label names only ours; the layers the next build reuses survive in the tagged image).
  "$ENGINE" image prune -f --filter label=org.scimd.stage=build >/dev/null 2>&1 || true
  # The image $TAG named before is now untagged: remove it unless a container still uses it.
  new=$("$ENGINE" image inspect -f '{{.Id}}' "$TAG")
  if [[ -n "$old" && "$old" != "$new" ]]; then
    "$ENGINE" image rm "$old" >/dev/null 2>&1 || true
  fi
}

main() {
  parse_args "$@"
  pick_engine
  ensure_base
  [[ -n "$BASE_ONLY" ]] && return 0
  make_context
  build_image
  echo "build.sh: built $TAG ($("$ENGINE" image inspect -f '{{.Size}}' "$TAG") bytes)"
}

main "$@"
