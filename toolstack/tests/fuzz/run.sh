#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (a bounded smoke run by default),
# one TAP line per target with the executions made; a crash, leak or timeout
# is "not ok" and leaves its reproducer in build/fuzz/.
# Usage: run.sh SECONDS TARGET...   Corpora persist in build/fuzz/corpus-NAME
# (seeded from tests/fuzz/seeds/NAME if that exists).
set -u
secs=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
echo "1..$#"
n=0 status=0
for t in "$@"; do
    n=$((n + 1))
    t=$(readlink -f "$t")
    name=$(basename "$t"); short=${name#fuzz_}
    dir=$(dirname "$t")
    corpus="$dir/corpus-$short"
    mkdir -p "$corpus"
    [ -d "$here/seeds/$short" ] && cp -n "$here/seeds/$short"/* "$corpus"/ 2>/dev/null
    log="$dir/$name.log"
    (cd "$dir" && "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 "$corpus") >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if (( rc == 0 )); then
        echo "ok $n - $name: ${execs:-?} executions in ${secs} s, no crash"
    else
        echo "not ok $n - $name: exit $rc after ${execs:-?} executions (see $log)"
        grep -m3 -E "ERROR|SUMMARY" "$log" | sed 's/^/# /'
        status=1
    fi
done
exit $status
