#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for the test suites, from Debian's packages (no container engine).
#
#   scripts/test-services.sh up DIR     install what is missing, start both on loopback, free ports,
#                                       data under DIR; prints `export NAME=value` lines to eval
#   scripts/test-services.sh down DIR   stop both and delete DIR
#
# The test command evals `up` and traps `down`; test/support/global-services.ts does the same for a
# targeted `npx vitest run` when the variables are not set.
set -euo pipefail

command="${1:-}"
dir="${2:-}"
[[ -n "$command" && -n "$dir" ]] || { echo "usage: $0 up|down DIR" >&2; exit 2; }

log() { echo "test-services: $*" >&2; }

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$found" && -x "$found/initdb" ]] && { echo "$found"; return; }
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  return 1
}

install_missing() {
  local packages=()
  pg_bin >/dev/null || packages+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  ((${#packages[@]} == 0)) && return
  log "installing ${packages[*]} from Debian's packages"
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "${packages[@]}"
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the package
# creates (or one made here), otherwise as the caller.
as_db_user() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "$db_user" -- "$@"
  else
    "$@"
  fi
}

up() {
  install_missing
  mkdir -p "$dir"
  local bin pg_port redis_port
  bin="$(pg_bin)" || { log "PostgreSQL's initdb not found"; exit 1; }
  db_user="$(id -un)"
  if [[ "$(id -u)" == 0 ]]; then
    db_user=postgres
    id -u "$db_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$db_user"
    chown "$db_user" "$dir"
  fi
  chmod 700 "$dir"
  echo "$db_user" > "$dir/db-user"

  pg_port="$(free_port)"
  as_db_user "$bin/initdb" -D "$dir/pg" -U countersign --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  # Tests start and stop many connections; fsync off: the data is thrown away after the run.
  as_db_user "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  echo "$bin" > "$dir/pg-bin"

  redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { log "redis did not start; see $dir/redis.log"; exit 1; }

  log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (data in $dir)"
  echo "export COUNTERSIGN_TEST_POSTGRES_URL=postgres://countersign@127.0.0.1:$pg_port/postgres"
  echo "export COUNTERSIGN_TEST_REDIS_URL=redis://127.0.0.1:$redis_port"
}

down() {
  [[ -d "$dir" ]] || return 0
  if [[ -f "$dir/pg-bin" && -f "$dir/pg/postmaster.pid" ]]; then
    db_user="$(cat "$dir/db-user")"
    as_db_user "$(cat "$dir/pg-bin")/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$dir/redis.pid" ]]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "$command" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
