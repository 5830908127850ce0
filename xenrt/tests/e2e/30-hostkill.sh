#!/usr/bin/env bash
# 30-hostkill.sh: a host's QEMU process dies in the middle of a job.  The
# job is broken (the farm failed, not the code), the host is quarantined,
# the job is retried on the other host and passes, and the quarantined host
# returns to the pool only after a health check boots Kiln on it (its
# console served through the event that ended the check).
. "$(dirname "$0")/lib.bash"

echo "1..12"
start_farm
F=$(submit smoke)
require_started "$F"

if wait_for 120 provisioning "$F" smoke; then ok "test job is provisioning its host"; else not_ok "test job is provisioning its host"; fi
host=$(job_field "$F" smoke '[.steps[] | select(.name | startswith("provision-")) | .name][0] | sub("provision-"; "")')
qemu_pid=$(cat "$E2E_TMP/hosts/$host.pid" 2>/dev/null)
check "the host's QEMU is killed" kill -9 "$qemu_pid"

status=$(wait_flight "$F" 120)
is "the flight still passes" "$status" pass
is "the job needed a second attempt" "$(job_field "$F" smoke .attempt)" 2
check "the first attempt is broken: the host died" grep -q "$host: QEMU killed by signal 9" \
    <<<"$(job_field "$F" smoke '[.steps[] | select(.status == "broken") | .message] | join(",")')"
other=$(job_field "$F" smoke '[.steps[] | select(.name | startswith("provision-")) | .name][1] | sub("provision-"; "")')
check "the retry ran on the other host" test -n "$other" -a "$other" != "$host"
hid=$(api /api/hosts | jq -r --arg h "$host" '.hosts[] | select(.name == $h) | .id')
check "the dead host was quarantined" grep -q '"new_state": *"broken"' <<<"$(api "/api/hosts/$hid/events")"
healthy() {
    api /api/hosts | jq -e --arg h "$host" '.hosts[] | select(.name == $h and .state == "idle" and .needs_health_check == 0)'
}
check "a health check returned it to the pool" wait_for 90 healthy
check "the health check booted Kiln" grep -q "health check passed" <<<"$(api "/api/hosts/$hid/events")"
# The check's console, linked from its event, is what shows why a host stays broken.
console_url=$(api "/api/hosts/$hid/events" | jq -r --arg c "console-$host.log" \
    '[.events[] | select(.reason == "health check passed") | .logs[] | select(.name == $c) | .url][0]')
check "the health check's console is served from its event" grep -q "(kiln)" <<<"$(api "$console_url")"
check "hosts idle at the end" hosts_all_idle
is "no QEMU left running" "$(our_qemus | wc -l)" 0
