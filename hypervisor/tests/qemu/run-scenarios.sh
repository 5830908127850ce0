#!/usr/bin/env bash
# run-scenarios.sh - runs every tests/qemu/scenarios/*.sh (or the ones
# named as arguments), renumbers their "ok"/"not ok" lines into one TAP
# stream and prints a single plan at the end.  A scenario that exits
# non-zero or prints no result at all adds a failure: a dead scenario can
# never look green.  Scenario output other than results becomes "#" lines.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then scenarios=("$@"); else scenarios=("$here"/scenarios/*.sh); fi

n=0
for s in "${scenarios[@]}"; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    tmp=$(mktemp -d /tmp/kiln-scn.XXXXXX)
    start=$(date +%s)
    # Each QEMU run has its own timeout; this one bounds a scenario as a whole.
    KILN_TMP=$tmp timeout -k 10 "${KILN_SCENARIO_TIMEOUT:-300}" bash "$s" > "$tmp/out" 2>&1
    rc=$?
    # Scenarios that start QEMU themselves (dom0's, through toolstack's
    # kiln-dom0.sh) have no kiln_boot to boot again when QEMU's TCG failed
    # (lib.sh): a failed run whose log shows that failure runs once more.
    fault=$(KILN_TMP=$tmp bash -c '. "$1"; emulator_fault_line "$2"' _ "$here/lib.sh" "$tmp/serial.log")
    if grep -q '^not ok' "$tmp/out" && ! grep -q "QEMU's TCG failed" "$tmp/out" && [ -n "$fault" ]; then
        echo "# $name: QEMU's TCG failed, not Kiln: $fault; running it once more"
        rm -rf "$tmp" && tmp=$(mktemp -d /tmp/kiln-scn.XXXXXX)
        KILN_TMP=$tmp timeout -k 10 "${KILN_SCENARIO_TIMEOUT:-300}" bash "$s" > "$tmp/out" 2>&1
        rc=$?
    fi
    results=0
    while IFS= read -r line; do
        case $line in
        "ok "*|"ok"|"not ok "*|"not ok")
            n=$((n + 1)); results=$((results + 1))
            status=${line%%ok*}ok
            rest=${line#"$status"}
            rest=${rest# }
            rest=${rest#[0-9]*[0-9 ]}
            rest=${rest#- }
            echo "$status $n - $name: ${rest#- }"
            ;;
        1..*) ;;
        *) echo "# $line" ;;
        esac
    done < "$tmp/out"
    if [ "$rc" -ne 0 ] || [ "$results" -eq 0 ]; then
        n=$((n + 1))
        echo "not ok $n - $name: scenario exited with status $rc after $results result(s)"
    fi
    echo "# $name: $(( $(date +%s) - start )) s"
    rm -rf "$tmp"
done
echo "1..$n"
