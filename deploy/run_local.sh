#!/usr/bin/env bash
# Runs scimd on this machine for trying it out (the README's first command).
# Promises: installs missing Debian packages, builds Release in build/, migrates the database
# (SCIMD_DB, default sqlite:scimd.db in the repository root), makes sure an admin token exists
# (named local-admin; its secret is kept in .scimd-local-token, mode 600, git-ignored, because
# scimd shows a secret only once), prints a ready-to-paste curl line, then replaces itself with
# `scimd serve` (listening on SCIMD_LISTEN, default 127.0.0.1:8080). Extra arguments go to serve.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) fails the script too

cd "$(dirname "$0")/.."
DB=${SCIMD_DB:-sqlite:scimd.db}
LISTEN=${SCIMD_LISTEN:-127.0.0.1:8080}
TOKEN_NAME=local-admin
TOKEN_FILE=.scimd-local-token  # lines "<db url> <secret>"
SCIMD=./build/scimd

build() {
  bash deploy/install_deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j2
}

# Prints the saved secret for DB, if any.
saved_secret() {
  [[ -f "$TOKEN_FILE" ]] || return 0
  awk -v db="$DB" '$1 == db { s = $2 } END { if (s != "") print s }' "$TOKEN_FILE"
}

# Records SECRET as the one for DB (replacing an older line for DB).
save_secret() {
  local secret=$1 tmp
  tmp=$(mktemp "$TOKEN_FILE.XXXXXX")
  chmod 600 "$tmp"
  if [[ -f "$TOKEN_FILE" ]]; then
    awk -v db="$DB" '$1 != db' "$TOKEN_FILE" >"$tmp"
  fi
  echo "$DB $secret" >>"$tmp"
  mv "$tmp" "$TOKEN_FILE"
}

# Creates a token NAME with every scope; prints its secret (the last line scimd prints).
create_token() {
  "$SCIMD" token create --db "$DB" --name "$1" --scopes scim:read,scim:write,admin | tail -n 1
}

# Prints a usable admin secret: the saved one while a token named local-admin exists, else a
# new token's. When local-admin exists but its secret was never saved here, a new token
# local-admin-<time> is made instead (secrets cannot be read back).
ensure_token() {
  local secret tokens
  secret=$(saved_secret)
  tokens=$("$SCIMD" token list --db "$DB")
  # The name as a whole word, so local-admin-<time> does not count (table or JSON output).
  if grep -Eq "(^|[[:space:]\"'])$TOKEN_NAME([[:space:]\"',]|\$)" <<<"$tokens"; then
    if [[ -z "$secret" ]]; then
      secret=$(create_token "$TOKEN_NAME-$(date +%Y%m%d%H%M%S)")
      save_secret "$secret"
    fi
  else
    secret=$(create_token "$TOKEN_NAME")
    save_secret "$secret"
  fi
  echo "$secret"
}

main() {
  local secret
  build
  "$SCIMD" migrate --db "$DB"
  secret=$(ensure_token)
  if [[ -z "$secret" ]]; then
    echo "run_local.sh: scimd token create printed no secret" >&2
    exit 1
  fi
  cat <<MSG

scimd is starting on http://$LISTEN (database $DB). Try:

  curl -H "Authorization: Bearer $secret" http://$LISTEN/scim/v2/Users

MSG
  SCIMD_DB="$DB" SCIMD_LISTEN="$LISTEN" exec "$SCIMD" serve "$@"
}

main "$@"
