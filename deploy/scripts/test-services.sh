#!/usr/bin/env bash
# Finds, starts or installs the PostgreSQL and Redis that the tests need, and
# the headless Chromium of the browser test (e2e/), and prints
# `export TEST_DATABASE_URL=… TEST_REDIS_URL=… REDIS_SERVER_BIN=… CHROMIUM_BIN=…`
# for the Makefile to eval. Messages go to stderr. Order for each service:
#   1. TEST_DATABASE_URL / TEST_REDIS_URL when set;
#   2. a server already answering on the default port (5432 / 6379);
#   3. the machine's own service, started (pg_ctlcluster / redis-server);
#   4. a throwaway server from installed binaries in .tmp/ on a spare port;
#   5. apt-get install, then 4;
#   6. otherwise stop with a message naming what to install.
# VG_FORCE_THROWAWAY=1 skips 2 and 3 (to exercise the throwaway path).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$root/.tmp/services"
mkdir -p "$tmp"
say() { echo "test-services: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $* with apt-get"
    if [ -z "${VG_APT_UPDATED:-}" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
      export VG_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    return 0
  fi
  return 1
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

pg_throwaway() {
  local bin port=55432 data="$tmp/pg/data" logs="$tmp/pg/log" run_as=()
  bin="$(pg_bin)" || return 1
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres >&2 || return 1
    run_as=(runuser -u postgres --)
  fi
  if ! port_open "$port"; then
    if [ ! -s "$data/PG_VERSION" ]; then
      rm -rf "$tmp/pg"; mkdir -p "$data" "$logs"; chmod 700 "$data"
      if [ "$(id -u)" = 0 ]; then chown -R postgres "$tmp/pg"; fi
      "${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$tmp/pg-initdb.log" 2>&1 || { cat "$tmp/pg-initdb.log" >&2; return 1; }
    fi
    "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$logs/pg.log" -w -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 || return 1
  fi
  "${run_as[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" postgres | grep -q 1 \
    || "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test >&2
  say "using a throwaway PostgreSQL on port $port ($data)"
  echo "postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
}

ensure_test_db() { # default local server: make sure database "test" exists
  if command -v psql >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" postgres 2>/dev/null | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" postgres >&2 2>&1 || true
  fi
}

find_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then echo "$TEST_DATABASE_URL"; return; fi
  local url="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
  if [ -n "${VG_FORCE_THROWAWAY:-}" ]; then pg_throwaway && return; fi
  if port_open 5432; then ensure_test_db; echo "$url"; return; fi
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    say "starting the machine's PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 2>&1 || true
    for _ in $(seq 1 30); do port_open 5432 && break; sleep 0.5; done
    if port_open 5432; then ensure_test_db; echo "$url"; return; fi
  fi
  if pg_throwaway; then return; fi
  if apt_install postgresql && pg_throwaway; then return; fi
  say "PostgreSQL is needed: install it (Debian: apt-get install postgresql) or set TEST_DATABASE_URL"
  exit 1
}

redis_throwaway() {
  local port=56379
  command -v redis-server >/dev/null 2>&1 || return 1
  if ! port_open "$port"; then
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
      --dir "$tmp" --logfile "$tmp/redis.log" --pidfile "$tmp/redis.pid" >&2 || return 1
    for _ in $(seq 1 30); do port_open "$port" && break; sleep 0.2; done
  fi
  say "using a throwaway Redis on port $port"
  echo "redis://127.0.0.1:$port/0"
}

find_redis() {
  if [ -n "${TEST_REDIS_URL:-}" ]; then echo "$TEST_REDIS_URL"; return; fi
  if [ -n "${VG_FORCE_THROWAWAY:-}" ]; then redis_throwaway && return; fi
  if port_open 6379; then echo "redis://127.0.0.1:6379/0"; return; fi
  if command -v redis-server >/dev/null 2>&1; then
    say "starting Redis on 6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2 || true
    for _ in $(seq 1 30); do port_open 6379 && break; sleep 0.2; done
    if [ -n "${VG_FORCE_THROWAWAY:-}" ]; then redis_throwaway && return; fi
  if port_open 6379; then echo "redis://127.0.0.1:6379/0"; return; fi
  fi
  if redis_throwaway; then return; fi
  if apt_install redis-server && redis_throwaway; then return; fi
  say "Redis is needed: install it (Debian: apt-get install redis-server) or set TEST_REDIS_URL"
  exit 1
}

pg_url="$(find_postgres)"
redis_url="$(find_redis)"
# Tests that kill and restart their own Redis need the binary.
if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server || true; fi
printf 'export TEST_DATABASE_URL=%q\n' "$pg_url"
printf 'export TEST_REDIS_URL=%q\n' "$redis_url"
printf 'export REDIS_SERVER_BIN=%q\n' "$(command -v redis-server || true)"

# The browser test (e2e/) drives Debian's Chromium: CHROMIUM_BIN, else the
# installed one, else apt-get install chromium.
find_chromium() {
  local c
  for c in "${CHROMIUM_BIN:-}" chromium chromium-browser; do
    if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  if apt_install chromium && command -v chromium >/dev/null 2>&1; then command -v chromium; return 0; fi
  say "Chromium is needed by e2e/: install it (Debian: apt-get install chromium) or set CHROMIUM_BIN"
  return 1
}
printf 'export CHROMIUM_BIN=%q\n' "$(find_chromium || true)"
