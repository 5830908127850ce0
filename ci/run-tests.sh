#!/usr/bin/env bash
# Runs every test suite of Kiln and prints one total: "N passed, N failed[, N skipped]".
#
# Convention: a suite is a command that prints TAP on stdout (cmocka with
# CMOCKA_MESSAGE_OUTPUT=TAP, the hypervisor's serial console, the farm's
# end-to-end scripts).  Only top-level "ok"/"not ok" lines count; a "# SKIP"
# directive counts as skipped, never as passed.  A suite that dies early is not
# allowed to look green: results missing from its "1..N" plans, or a non-zero
# exit with no failure reported, each count as failures.
#
# Usage: ci/run-tests.sh NAME=COMMAND ...   (logs go to build/test-logs/NAME.log)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
logdir="$top/build/test-logs"
mkdir -p "$logdir"

total_pass=0 total_fail=0 total_skip=0
failed_suites=()

for spec in "$@"; do
    name=${spec%%=*}
    cmd=${spec#*=}
    log="$logdir/$name.log"
    echo "=== suite $name: $cmd"
    start=$(date +%s)
    bash -c "$cmd" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    read -r pass fail skip planned < <(awk '
        /^1\.\.[0-9]+/      { sub(/^1\.\./, ""); planned += $0 + 0; next }
        /^not ok([ \t]|$)/  { if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) skip++; else fail++; next }
        /^ok([ \t]|$)/      { if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) skip++; else pass++; next }
        END { printf "%d %d %d %d\n", pass, fail, skip, planned }' "$log")
    seen=$((pass + fail + skip))
    if (( planned > seen )); then
        echo "not ok - $name: $((planned - seen)) planned result(s) never reported"
        fail=$((fail + planned - seen))
    fi
    if (( rc != 0 && fail == 0 )); then
        echo "not ok - $name: exited with status $rc without reporting a failure"
        fail=$((fail + 1))
    fi
    echo "=== suite $name: $pass passed, $fail failed, $skip skipped ($(( $(date +%s) - start )) s)"
    (( fail > 0 )) && failed_suites+=("$name")
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    total_skip=$((total_skip + skip))
done

if (( ${#failed_suites[@]} > 0 )); then
    echo "failing suites: ${failed_suites[*]} (logs in $logdir)"
fi
line="$total_pass passed, $total_fail failed"
(( total_skip > 0 )) && line="$line, $total_skip skipped"
echo "$line"
(( total_fail == 0 ))
