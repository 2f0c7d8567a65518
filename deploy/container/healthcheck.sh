#!/bin/sh
# The container's HEALTHCHECK: succeeds when GET /healthz on scimd's own port answers 2xx.
# Promises: tries HTTPS first (certificate not verified: this is loopback, and the certificate
# names the public host), then plain HTTP; the port comes from SCIMD_HEALTHCHECK_PORT, else
# SCIMD_LISTEN, else the listen: line of $SCIMD_CONFIG, else 8443. Exit 0 healthy, 1 not.
set -eu

port() {
  if [ -n "${SCIMD_HEALTHCHECK_PORT:-}" ]; then echo "$SCIMD_HEALTHCHECK_PORT"; return; fi
  listen=${SCIMD_LISTEN:-}
  if [ -z "$listen" ] && [ -r "${SCIMD_CONFIG:-}" ]; then
    listen=$(sed -n 's/^listen:[[:space:]]*["'\'']\{0,1\}\([^"'\'' #]*\).*/\1/p' "$SCIMD_CONFIG" | head -n 1)
  fi
  echo "${listen##*:}" | grep -E '^[0-9]+$' || echo 8443
}

p=$(port)
curl -fsS -k --max-time 4 -o /dev/null "https://127.0.0.1:$p/healthz" 2>/dev/null && exit 0
curl -fsS --max-time 4 -o /dev/null "http://127.0.0.1:$p/healthz" && exit 0
exit 1
