#!/usr/bin/env bash
# 71-schedules.sh: a schedule fires (its period shortened to 3 s by the
# config), its next run is on the status page, and a daemon that was down
# while runs were due starts the schedule once when it is back, not once
# per missed run.  `xenrt schedule add|list|remove` on the local database.
. "$(dirname "$0")/lib.bash"

echo "1..12"
SUITES_DIR=$E2E_TMP/suites
local_suites "$SUITES_DIR"
R=$E2E_TMP/repo
make_repo "$R" >/dev/null
EXTRA_CONFIG='"steward_tick_ms": 100, "schedules": [{"name": "tick", "repo": "'$R'", "ref": "main",
  "suites": ["check"], "every_s": 3, "runvars": {"why": "scheduled"}}]'
start_farm

runs() { api "/api/flights?limit=500" | jq '[.flights[] | select(.submitter == "schedule:tick")] | length'; }
at_least() { [ "$(runs)" -ge "$1" ]; }
check "the schedule started a flight within its period" wait_for 8 at_least 1
F=$(api "/api/flights?limit=500" | jq '[.flights[] | select(.submitter == "schedule:tick")][-1].id')
is "a nightly flight of the schedule's suites" "$(flight "$F" | jq -r '.kind + " " + .jobs[1].suite')" "nightly check"
is "with its runvars" "$(flight "$F" | jq -r '.jobs[1].runvars.why')" scheduled
is "and it passed" "$(wait_flight "$F" 20)" pass
next=$(api /api/schedules | jq '.schedules[0].next_run')
check "the next run is in the future" test "$(echo "$next > $(date +%s)" | bc)" = 1
check "the status page shows the next run" sh -c "curl -s '$URL/' | grep -q 'class=\"next-run\"'"

# Down for 7 s: two runs missed.  Back, it runs once at once, then every 3 s.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
before=$(sqlite3 "$E2E_TMP/xenrt.db" "SELECT count(*) FROM flights WHERE submitter = 'schedule:tick'")
sleep 7
start_daemon
check "back from the restart, the missed schedule fires" wait_for 3 at_least $((before + 1))
sleep 1
is "once, not once per missed run" "$(runs)" $((before + 1))

# The CLI, on the local database.
CFG="--config $E2E_TMP/cfg.json"
check "schedule add" "$BIN" schedule add weekly $CFG --repo "$R" --ref main --suite check --at 03:30 --kind gate
is "schedule list shows both, the new one daily at 03:30" \
    "$("$BIN" schedule list $CFG | awk 'NR > 1 {print $1 "/" $2 "/" $4 $5}' | tr '\n' ' ')" \
    "tick/config/every3s weekly/cli/daily03:30 "
check "schedule remove" "$BIN" schedule remove weekly $CFG
check "a schedule of the config is removed by the config only" \
    sh -c "! '$BIN' schedule remove tick $CFG 2>/dev/null"
