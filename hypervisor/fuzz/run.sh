#!/usr/bin/env bash
# run.sh - runs each libFuzzer target for a bounded time and prints TAP:
#   ok N - fuzz_x: E execs, 0 crashes
# Usage: fuzz/run.sh SECONDS TARGET...   (from hypervisor/, as `make fuzz` does)
#
# Each target keeps its corpus in build/fuzz/corpus/NAME, so later runs start
# from what earlier ones found; a crash leaves its input in
# build/fuzz/artifacts/ (re-run it with `build/fuzz/NAME FILE`) and the
# target's last log lines as TAP diagnostics.
set -uo pipefail

seconds=$1
shift
echo "1..$#"
n=0 rc=0
for bin in "$@"; do
    n=$((n + 1))
    name=$(basename "$bin")
    corpus=build/fuzz/corpus/$name
    arts=build/fuzz/artifacts
    log=build/fuzz/$name.log
    mkdir -p "$corpus" "$arts"
    "$bin" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$arts/$name-" "$corpus" > "$log" 2>&1
    status=$?
    execs=$(awk '/stat::number_of_executed_units:/ { n = $2 } END { print n + 0 }' "$log")
    if [[ $status -eq 0 ]]; then
        echo "ok $n - $name: $execs execs, 0 crashes"
    else
        echo "not ok $n - $name: crashed (exit $status) after $execs execs, input in $arts/"
        tail -20 "$log" | sed 's/^/# /'
        rc=1
    fi
done
exit $rc
