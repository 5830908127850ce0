#!/usr/bin/env bash
# 40-verdicts.sh: who is blamed, and cancel.  A hypervisor that boots but
# never prints what a step waits for is the code's fault: the job fails at
# the step's timeout, is not retried, and its host is not quarantined.  A
# cancel through the REST API stops a running job at once: the flight is
# cancelled, its QEMU is gone and the host is free.
. "$(dirname "$0")/lib.bash"

echo "1..10"
SUITES_DIR=$E2E_TMP/suites
mkdir -p "$SUITES_DIR"
cp "$TOP"/testsuites/*.suite "$SUITES_DIR/"
cat > "$SUITES_DIR/hang.suite" <<'SUITE'
# Waits for a line Kiln never prints.
hosts = 1
job_timeout = 60
cmdline = loglvl=info
[step boot]
kind = console-match
expect = (kiln) Kiln hypervisor starting
timeout = 45
[step never]
kind = console-match
expect = this line is never printed
timeout = 3
SUITE
start_farm

F=$(submit hang)
require_started "$F"
is "a step that times out after boot fails the flight" "$(wait_flight "$F" 120)" fail
is "the hung job failed, it was not broken" "$(job_field "$F" hang .status)" fail
is "it was not retried" "$(job_field "$F" hang .attempt)" 1
is "the step says what it waited for" \
    "$(job_field "$F" hang '[.steps[] | select(.name == "never") | .status + ": " + .message][0]')" \
    "fail: timed out after 3s waiting for 'this line is never printed'"
is "no host quarantined" "$(api /api/hosts | jq '[.hosts[] | select(.needs_health_check != 0)] | length')" 0

# Cancel while the test job provisions its host (the build is reused).
G=$(submit smoke)
smoke_running() {
    [ "$(job_field "$G" smoke '[.steps[] | select(.status == "running")] | length')" -ge 1 ]
}
wait_for 60 smoke_running
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/flights/$G/cancel")
check "cancel accepted" test "$code" -ge 200 -a "$code" -lt 300
is "the flight is cancelled" "$(wait_flight "$G" 20)" cancelled
is "the running job is cancelled" "$(job_field "$G" smoke .status)" cancelled
check "hosts idle after the cancel" hosts_all_idle
is "no QEMU left running" "$(our_qemus | wc -l)" 0
