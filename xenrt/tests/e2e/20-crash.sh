#!/usr/bin/env bash
# 20-crash.sh: kill -9 of the daemon in the middle of a flight, then a
# restart.  The flight resumes, the running job is marked broken and retried
# (bounded by max_attempts), its hosts are reset, the QEMU the dead daemon
# left is killed, and no committed step is lost.
. "$(dirname "$0")/lib.bash"

echo "1..11"
start_farm
F=$(submit smoke)
require_started "$F"

# Mid-flight: the test job is provisioning its host (QEMU running).
if wait_for 120 provisioning "$F" smoke; then ok "test job is provisioning its host"; else not_ok "test job is provisioning its host"; fi
before=$(flight "$F" | jq -c '[.jobs[].steps[] | {id, name, started_at}] | sort_by(.id)')
before_done=$(flight "$F" | jq -c '[.jobs[].steps[] | select(.status != "running") | {id, name, status, finished_at}] | sort_by(.id)')
host=$(job_field "$F" smoke '[.steps[] | select(.name | startswith("provision-")) | .name][0] | sub("provision-"; "")')
qemu_pid=$(cat "$E2E_TMP/hosts/$host.pid" 2>/dev/null)
kill9_daemon
check "the dead daemon's QEMU outlived it" kill -0 "$qemu_pid"

start_daemon || { echo "Bail out! daemon did not restart"; exit 1; }
ok "daemon restarts on the same database"
gone() { ! kill -0 "$qemu_pid" 2>/dev/null; }
check "recovery killed the stray QEMU" wait_for 10 gone

status=$(wait_flight "$F" 120)
is "the flight resumes and passes" "$status" pass
is "the interrupted job was retried once" "$(job_field "$F" smoke .attempt)" 2
is "the interrupted step is broken, saying why" \
    "$(job_field "$F" smoke '[.steps[] | select(.status == "broken") | .message] | join(",")')" \
    "the daemon died during this step"
after=$(flight "$F" | jq -c '[.jobs[].steps[] | {id, name, started_at}] | sort_by(.id)')
lost=$(jq -n --argjson b "$before" --argjson a "$after" '$b - $a | length')
is "no committed step lost" "$lost" 0
after_done=$(flight "$F" | jq -c '[.jobs[].steps[] | select(.status != "running") | {id, name, status, finished_at}] | sort_by(.id)')
is "finished steps unchanged" "$(jq -n --argjson b "$before_done" --argjson a "$after_done" '$b - $a | length')" 0
hid=$(api /api/hosts | jq -r --arg h "$host" '.hosts[] | select(.name == $h) | .id')
check "host reset by crash recovery (host event)" \
    grep -q "reset by crash recovery" <<<"$(api "/api/hosts/$hid/events")"
check "hosts idle at the end" hosts_all_idle
