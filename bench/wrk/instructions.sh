#!/bin/bash
# Instructions the server runs per request of one scenario, counted by valgrind's callgrind: the
# same count for the same binary and requests however busy the machine is (finding 39), where
# throughput moves by 10 % between runs. On a database a bench run seeded:
#   bench/wrk/instructions.sh wf_bench_http_10000 10000 get
# One HTTP worker, warmed by 5 s of wrk at 4 connections, then counted over 15 s (start-up left
# out). BIN=path counts another build; the callgrind profile is kept for callgrind_annotate.
set -euo pipefail
db=$1 workflows=$2 scenario=$3
server=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
url="${server%/*}/$db"
bin=$(realpath "${BIN:-target/release/workflows-api}")
port=18095
profile=/tmp/callgrind.$scenario.$$
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
token=$(DATABASE_URL=$url $bin tokens create bench-staff | tail -1)
DATABASE_URL="$url?sslmode=disable" PORT=$port RUST_LOG=warn WORKFLOWS__SERVER__WORKERS=1 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$profile \
    "$bin" serve > /tmp/instructions-server.log 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 1
done
run() {
    SCENARIO=$scenario CONNECTIONS=4 TOKEN=$token WORKFLOWS=$workflows RUNS=$((workflows * 5)) \
        wrk -t1 -c4 "$@" -s bench/wrk/scenario.lua "http://127.0.0.1:$port"
}
run -d5s > /dev/null
callgrind_control -i on "$pid" > /dev/null
requests=$(run -d15s | grep '^{' | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
callgrind_control -i off "$pid" > /dev/null
callgrind_control -d "$pid" > /dev/null
dump=$(ls "$profile".* | sort | tail -n 1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
printf '%s %s: %d requests, %d instructions each (profile %s)\n' \
    "$db" "$scenario" "$requests" "$((total / requests))" "$dump"
