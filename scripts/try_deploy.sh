#!/usr/bin/env bash
# Try docs/deploy.md as written: each deployment is started with the environment the doc shows,
# then bench/load.py drives the first journey against it (register, checkout, pay, verify, with
# every enrollment checked exactly once). Needs the local PostgreSQL (127.0.0.1:5432, trust).
# Usage: bash scripts/try_deploy.sh [one|workers|split|databases|all]   (default: all)
# PG2=postgresql+psycopg://postgres@127.0.0.1:5433 puts two plugins' databases on a second server
# (their databases there are left for you to drop).
set -euo pipefail
cd "$(dirname "$0")/.."
BYWAY=${BYWAY:-.venv/bin/byway}
PY=${PY:-.venv/bin/python}
WORK=$(mktemp -d -t byway-deploy-XXXX)
PIDS=()
# A prefix of our own, so the databases we create (and drop at the end) are ours alone.
DB=${DB:-byway_try$$}
PG=postgresql+psycopg://postgres@127.0.0.1:5432

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q -h 127.0.0.1 -U postgres -d postgres -At \
    -c "SELECT datname FROM pg_database WHERE datname LIKE '${DB}%'" 2>/dev/null |
    while read -r name; do psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE \"$name\" WITH (FORCE)"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start() {  # start NAME CMD...: run in its own process group, log to $WORK/NAME.log
  local name=$1; shift
  setsid "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

ready() {  # ready URL: wait for /readyz 200 (60 s)
  for _ in $(seq 1 240); do
    curl -sf "$1/readyz" >/dev/null && return 0
    sleep 0.25
  done
  echo "$1 never became ready:"; curl -s "$1/readyz" || true; tail -30 "$WORK"/*.log; return 1
}

journey() {  # journey ARGS...: 15 s of the first journey, 4 users
  "$PY" bench/load.py --duration 15 --users 4 "$@" >"$WORK/journey.json"
  "$PY" scripts/fuzz/summarise_load.py "$WORK/journey.json"
}

one() {
  echo "== one process (SQLite, dev)"
  # --- as in docs/deploy.md ---
  start one env BYWAY_DATA_DIR="$WORK/one" "$BYWAY" serve --port 8101 --demo
  ready http://127.0.0.1:8101
  journey --base-url http://127.0.0.1:8101
}

workers() {
  echo "== several workers (PostgreSQL)"
  # --- as in docs/deploy.md ---
  export BYWAY_DATABASE_URL="$PG/${DB}_{plugin}"
  export BYWAY_DATA_DIR="$WORK/workers"
  "$BYWAY" migrate >/dev/null
  "$BYWAY" demo >/dev/null
  start workers "$BYWAY" serve --port 8102 --workers 2
  unset BYWAY_DATABASE_URL BYWAY_DATA_DIR
  ready http://127.0.0.1:8102
  journey --base-url http://127.0.0.1:8102
}

split() {
  echo "== plugins split across two services (PostgreSQL, a database per plugin)"
  # --- as in docs/deploy.md ---
  local common=(BYWAY_JWT_SECRET=try-deploy-shared-secret-0123456789abcdef
                BYWAY_DATABASE_URL="$PG/${DB}s_{plugin}")
  start core env "${common[@]}" BYWAY_DATA_DIR="$WORK/core" \
    BYWAY_DISABLED_PLUGINS=students-internal,ecommerce \
    BYWAY_PLUGIN_URL_STUDENTS_INTERNAL=http://127.0.0.1:8104 \
    BYWAY_PLUGIN_URL_ECOMMERCE=http://127.0.0.1:8104 \
    "$BYWAY" serve --port 8103
  start commerce env "${common[@]}" BYWAY_DATA_DIR="$WORK/commerce" \
    BYWAY_DISABLED_PLUGINS=authentication,teach,teach-internal \
    BYWAY_PLUGIN_URL_AUTHENTICATION=http://127.0.0.1:8103 \
    BYWAY_PLUGIN_URL_TEACH=http://127.0.0.1:8103 \
    BYWAY_PLUGIN_URL_TEACH_INTERNAL=http://127.0.0.1:8103 \
    "$BYWAY" serve --port 8104
  ready http://127.0.0.1:8103
  ready http://127.0.0.1:8104
  # Demo data: each service seeds its own plugins; the other one is called over HTTP.
  env "${common[@]}" BYWAY_DATA_DIR="$WORK/core" BYWAY_DISABLED_PLUGINS=students-internal,ecommerce \
    BYWAY_PLUGIN_URL_STUDENTS_INTERNAL=http://127.0.0.1:8104 BYWAY_PLUGIN_URL_ECOMMERCE=http://127.0.0.1:8104 \
    "$BYWAY" demo >/dev/null
  env "${common[@]}" BYWAY_DATA_DIR="$WORK/commerce" BYWAY_DISABLED_PLUGINS=authentication,teach,teach-internal \
    BYWAY_PLUGIN_URL_AUTHENTICATION=http://127.0.0.1:8103 BYWAY_PLUGIN_URL_TEACH=http://127.0.0.1:8103 \
    BYWAY_PLUGIN_URL_TEACH_INTERNAL=http://127.0.0.1:8103 "$BYWAY" demo >/dev/null
  journey --base-url http://127.0.0.1:8103 \
    --plugin-url students-internal=http://127.0.0.1:8104 --plugin-url ecommerce=http://127.0.0.1:8104
}

databases() {
  echo "== a database per plugin on one or several servers (PG2=URL puts students-internal and ecommerce there)"
  # --- as in docs/deploy.md ---
  export BYWAY_DATA_DIR="$WORK/databases"
  export BYWAY_DATABASE_URL_AUTHENTICATION="$PG/${DB}d_accounts"
  export BYWAY_DATABASE_URL_TEACH="$PG/${DB}d_teaching"
  export BYWAY_DATABASE_URL_TEACH_INTERNAL="$PG/${DB}d_teaching_internal"
  export BYWAY_DATABASE_URL_STUDENTS_INTERNAL="${PG2:-$PG}/${DB}d_students"
  export BYWAY_DATABASE_URL_ECOMMERCE="${PG2:-$PG}/${DB}d_shop"
  "$BYWAY" migrate >/dev/null
  "$BYWAY" demo >/dev/null
  start databases "$BYWAY" serve --port 8105 --workers 2
  unset BYWAY_DATA_DIR BYWAY_DATABASE_URL_AUTHENTICATION BYWAY_DATABASE_URL_TEACH BYWAY_DATABASE_URL_TEACH_INTERNAL \
    BYWAY_DATABASE_URL_STUDENTS_INTERNAL BYWAY_DATABASE_URL_ECOMMERCE
  ready http://127.0.0.1:8105
  journey --base-url http://127.0.0.1:8105
}

case "${1:-all}" in
  one) one ;;
  workers) workers ;;
  split) split ;;
  databases) databases ;;
  all) one; workers; split; databases ;;
  *) echo "usage: $0 [one|workers|split|databases|all]"; exit 2 ;;
esac
echo "ok"
