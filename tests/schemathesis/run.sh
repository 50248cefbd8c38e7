#!/usr/bin/env bash
# Starts the service on a fresh database, makes a staff token, and runs schemathesis with every
# check against the service's own openapi.json. Usage: run.sh sqlite|postgres
set -euo pipefail
cd "$(dirname "$0")/../.."

backend="${1:-sqlite}"
venv=".venv/schemathesis"
bin="target/debug/workflows-api"
port="${SCHEMATHESIS_PORT:-18765}"
seed="${SCHEMATHESIS_SEED:-1}"
examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi

work="$(mktemp -d)"
db_name=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$db_name" ] && psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$work/fuzz.sqlite3?mode=rwc" ;;
  postgres)
    db_name="wf_schemathesis_$$"
    psql "$pg_admin" -qc "CREATE DATABASE $db_name"
    export DATABASE_URL="${pg_admin%/*}/$db_name"
    ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
export APP_ENV=local PORT="$port" WORKFLOWS__AUTH__BOOTSTRAP_ADMIN=false RUST_LOG="${RUST_LOG:-warn}"

"$bin" migrate up >/dev/null
"$bin" users create fuzzer --staff >/dev/null
token="$("$bin" tokens create fuzzer --name schemathesis 2>/dev/null)"
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/api/workflows/openapi.json" -o "$work/openapi.json"

echo "schemathesis on $backend (seed $seed, $examples examples per operation)"
status=0
"$venv/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml run "$work/openapi.json" \
  --url "http://127.0.0.1:$port" --checks all --exclude-checks use_after_free \
  --max-examples "$examples" --seed "$seed" \
  --header "Authorization: Bearer $token" || status=$?
if grep -qE "panicked|request failed" "$work/server.log"; then
  echo "server errors (the log keys them by x_request_id):" >&2
  grep -E -A3 "panicked|request failed" "$work/server.log" | cut -c1-2000 >&2
  status=1
fi
exit "$status"
