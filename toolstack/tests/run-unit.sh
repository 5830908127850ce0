#!/usr/bin/env bash
# Runs cmocka test binaries with TAP output.  cmocka prints its own plan and
# results; a binary that dies (signal, or before its plan) would report
# nothing, so that is turned into a "not ok" line here.
# Usage: run-unit.sh BINARY...   Exit status 1 if anything failed.
status=0
for t in "$@"; do
    CMOCKA_MESSAGE_OUTPUT=TAP "$t"
    rc=$?
    if (( rc >= 128 )); then
        echo "not ok - $(basename "$t") died with status $rc"
    fi
    (( rc == 0 )) || status=1
done
exit $status
