#!/bin/bash
# Fuzzes each target (all, or those named) until 10M executions or 30 minutes, whichever comes
# first (RUNS and MAX_SECONDS change those), with libFuzzer through cargo-fuzz on the nightly
# toolchain: optimised, with debug assertions and overflow checks, no sanitizer (the code is
# safe Rust: what the targets look for is panics, overflows, hangs and runaway memory).
# Seeds: ./seed.sh. Crashes land in artifacts/<target>/; the last lines of each run in
# logs/<target>.txt (neither is committed).
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
MAX_SECONDS=${MAX_SECONDS:-1800}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(domain_match ct_tile ct_get_entries checkpoint certstream nrd_formats toml_config enrich_parse)
fi
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "fuzzing $t: $RUNS runs or $MAX_SECONDS s"
    cargo +nightly fuzz run -O -a -s none "$t" -- \
        -runs="$RUNS" -max_total_time="$MAX_SECONDS" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 > "logs/$t.txt" 2>&1 || echo "$t: stopped with a finding (see logs/$t.txt)"
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|==|SUMMARY|thread)" "logs/$t.txt" | tail -n 5
done
