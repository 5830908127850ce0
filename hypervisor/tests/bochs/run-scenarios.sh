#!/usr/bin/env bash
# run-scenarios.sh - runs every tests/bochs/scenarios/*.sh (or the ones
# named as arguments) through the QEMU scenarios' runner, which numbers
# the results into one TAP stream and counts a dead scenario as a failure.
# Each Bochs run has its own timeout (bochs_boot -timeout); this one bounds
# a scenario as a whole.
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then set -- "$@"; else set -- "$here"/scenarios/*.sh; fi
KILN_SCENARIO_TIMEOUT=${KILN_SCENARIO_TIMEOUT:-180} exec bash "$here/../qemu/run-scenarios.sh" "$@"
