#!/bin/bash
# Measures HTTP scenarios on a database a bench run seeded, without seeding or writing results:
# per scenario 5 s of warm-up, then 10 s of wrk at 32 connections (scenario.lua's JSON summary).
#   bench/wrk/measure.sh wf_bench_http_1000000 1000000 list_molecule list_atom
# Needs the release binary (make bench builds it; BIN=path measures another build, for A/B
# comparisons); PG_ADMIN_URL as in the Makefile.
set -euo pipefail
db=$1 workflows=$2
shift 2
server=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
url="${server%/*}/$db"
bin=${BIN:-target/release/workflows-api}
token=$(DATABASE_URL=$url $bin tokens create bench-staff | tail -1)
DATABASE_URL="$url?sslmode=disable" PORT=18080 RUST_LOG=warn $bin serve \
    > /tmp/measure-server.log 2>&1 &
pid=$!
trap 'kill -INT $pid; wait $pid' EXIT
sleep 2
for scenario in "$@"; do
    run() {
        SCENARIO=$scenario CONNECTIONS=32 TOKEN=$token WORKFLOWS=$workflows RUNS=$((workflows * 5)) \
            wrk -t2 -c32 "$@" -s bench/wrk/scenario.lua http://127.0.0.1:18080
    }
    run -d5s > /dev/null
    # scenario.lua's summary line: recorded latencies in microseconds (finding 21).
    printf '%s %s: %s\n' "$db" "$scenario" "$(run -d10s | grep '^{')"
done
