#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#
#   pg_cluster.sh start DIR PORT   fresh cluster in DIR (wiping an old one there), listening on
#                                  127.0.0.1:PORT with its unix socket in DIR; superuser `scim`,
#                                  trust auth, UTF8, locale C; database `scim` created. Returns
#                                  once the server accepts connections.
#   pg_cluster.sh stop DIR         fast shutdown, then DIR is removed (kept if SCIMD_PG_KEEP=1).
#   pg_cluster.sh status DIR       exit 0 if the cluster in DIR is running.
#   pg_cluster.sh restart DIR [DOWN_SECONDS]
#                                  fast shutdown (open transactions rolled back, clients
#                                  disconnected), DOWN_SECONDS (default 0) without a server, then
#                                  the same server again on the same port and data: a failover or
#                                  minor upgrade as scimd sees it.
#
# initdb refuses to run as root: as root, every server command runs as the `postgres` user and
# DIR is handed to it; as any other user they run directly. Durability settings are off by
# default (fsync, synchronous_commit, full_page_writes, given on the server's command line): the
# tests kill scimd, never this server.
#
#   PG_DURABLE=1 pg_cluster.sh start DIR PORT   starts without those three options, i.e. with
#                                  PostgreSQL's durable defaults (all on), and leaves them to
#                                  postgresql.conf / ALTER SYSTEM (command-line options would
#                                  override ALTER SYSTEM). Used by the benchmarks.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=scim

die() { echo "pg_cluster.sh: $*" >&2; exit 1; }

# Runs "$@" as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

# Succeeds when a postmaster for DIR/data is running.
is_running() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Stops the cluster in DIR if one is running (fast mode: rolls back open transactions).
stop_server() {
  local dir=$1
  if is_running "$dir"; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

# Creates DIR (empty) and makes it the owner's; checks the owner can reach it.
prepare_dir() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "no user postgres (is postgresql-15 installed? run deploy/install_deps.sh)"
    chown postgres:postgres "$dir"
    as_owner test -w "$dir" || die "user postgres cannot write $dir (a parent directory is not searchable?)"
  fi
}

# Prints the last lines of the server log, for a failed start.
show_log() {
  local dir=$1
  if [[ -f "$dir/postgres.log" ]]; then
    echo "--- $dir/postgres.log (tail) ---" >&2
    tail -n 30 "$dir/postgres.log" >&2
  fi
}

cmd_start() {
  local dir=$1 port=$2
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
  [[ -x "$PG_BIN/initdb" ]] || die "no $PG_BIN/initdb (install postgresql-15: deploy/install_deps.sh)"
  # The unix socket path must fit in sun_path (107 bytes).
  (( ${#dir} + 20 < 107 )) || die "DIR too long for a unix socket path: $dir"
  mkdir -p "$(dirname "$dir")"
  dir=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")

  stop_server "$dir"
  prepare_dir "$dir"
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C -N \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local opts="-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200"
  if [[ "${PG_DURABLE:-0}" != 1 ]]; then
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  if ! as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "$opts" \
      start >/dev/null; then
    show_log "$dir"
    die "server did not start on 127.0.0.1:$port"
  fi
  wait_ready "$dir" "$port"
  psql_admin "$port" -c "CREATE DATABASE scim" >/dev/null
  echo "$port" >"$dir/port"
  echo "$opts" >"$dir/server_opts"
  echo "pg_cluster.sh: PostgreSQL up on 127.0.0.1:$port (postgresql://$PG_USER@127.0.0.1:$port/scim), data in $dir$([[ "${PG_DURABLE:-0}" == 1 ]] && echo ', durable (fsync on)' || true)"
}

# Waits (up to 30 s) until the server answers over TCP.
wait_ready() {
  local dir=$1 port=$2 i
  for ((i = 0; i < 300; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres; then
      return 0
    fi
    sleep 0.1
  done
  show_log "$dir"
  die "server on 127.0.0.1:$port not ready after 30 s"
}

# Runs psql against the `postgres` database as the superuser over TCP.
psql_admin() {
  local port=$1
  shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres "$@"
}

cmd_stop() {
  local dir=$1
  [[ -d "$dir" ]] || return 0
  stop_server "$dir"
  if [[ "${SCIMD_PG_KEEP:-0}" != 1 ]]; then
    rm -rf "$dir"
  fi
}

cmd_restart() {
  local dir=$1 down=${2:-0}
  [[ -f "$dir/server_opts" && -f "$dir/port" ]] || die "no cluster started by this script in $dir"
  stop_server "$dir"
  sleep "$down"
  if ! as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "$(cat "$dir/server_opts")" start >/dev/null; then
    show_log "$dir"
    die "server did not restart"
  fi
  wait_ready "$dir" "$(cat "$dir/port")"
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    start) [[ $# -eq 3 ]] || die "usage: pg_cluster.sh start DIR PORT"; cmd_start "$2" "$3" ;;
    stop) [[ $# -eq 2 ]] || die "usage: pg_cluster.sh stop DIR"; cmd_stop "$2" ;;
    status) [[ $# -eq 2 ]] || die "usage: pg_cluster.sh status DIR"; is_running "$2" ;;
    restart) [[ $# -ge 2 && $# -le 3 ]] || die "usage: pg_cluster.sh restart DIR [DOWN_SECONDS]"
      cmd_restart "$2" "${3:-0}" ;;
    *) die "usage: pg_cluster.sh start DIR PORT | stop DIR | status DIR | restart DIR [DOWN_SECONDS]" ;;
  esac
}

main "$@"
