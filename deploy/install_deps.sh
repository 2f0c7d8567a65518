#!/usr/bin/env bash
# Installs the Debian 12 packages scimd needs to build, test and run.
# Promises: idempotent; asks dpkg which packages are missing and runs `apt-get update` and
# `apt-get install -y` for those only; prints nothing when nothing is missing; exits non-zero
# when an install fails. Runs as root, or through sudo when there is one.
set -euo pipefail

# The one list of build, test and run-time packages (README.md points here).
PACKAGES=(
  build-essential cmake pkg-config
  libpistache-dev rapidjson-dev libsoci-dev libsqlite3-dev libpq-dev libssl-dev
  libboost-test-dev libcurl4-openssl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libicu-dev
  postgresql-15
  clang libclang-rt-14-dev
  python3 curl wrk
  chromium chromium-driver python3-selenium
)

# Prints, one per line, the packages of "$@" that dpkg does not report as installed.
missing_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
      echo "$pkg"
    fi
  done
}

# Runs "$@" as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install_deps.sh: missing packages and not root (and no sudo): $*" >&2
    return 1
  fi
}

main() {
  local missing
  mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "install_deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Re-check, so a package apt skipped silently is an error here, not a confusing build failure.
  mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
  if [[ ${#missing[@]} -ne 0 ]]; then
    echo "install_deps.sh: still missing after install: ${missing[*]}" >&2
    return 1
  fi
}

main "$@"
