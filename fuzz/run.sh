#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (seconds per target, default 30), starting from the
# committed seeds. Uses the stable toolchain: cargo-fuzz without a sanitizer needs no nightly.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
mkdir -p logs
for target in dag_spec slug workflow_body; do
    mkdir -p "corpus/$target"
    echo "fuzz: $target for ${seconds}s"
    if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -dict=json.dict -print_final_stats=1 >"logs/$target.log" 2>&1; then
        tail -40 "logs/$target.log"
        echo "fuzz: $target failed (a crash is saved under fuzz/artifacts/$target)"
        exit 1
    fi
    grep -E '^Done' "logs/$target.log"
done
