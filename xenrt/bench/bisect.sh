#!/usr/bin/env bash
# bisect.sh: the wall time of the farm's automatic bisection over 16
# commits with a regression planted in one (the acceptance case of
# tests/e2e/72-gate-bisect.sh), beside one flight's time from submission
# to verdict, and the ratio in flights' worth (target: at most
# log2(16) + 1 = 5).  Local suites (provision = none), so what is measured
# is the farm's own scheduling and search, not nested boots.  Each
# revision's verdict is repeated (bisect_repeats 2) on the two hosts.
. "$(dirname "$0")/../tests/e2e/lib.bash"
. "$(dirname "$0")/timing.bash"

SUITES_DIR=$E2E_TMP/suites
local_suites "$SUITES_DIR"
B=$E2E_TMP/bisect
make_repo "$B" >/dev/null
for i in $(seq 2 16); do
    v=good; [ "$i" -ge 11 ] && v=bad
    commit_value "$B" "$v" "commit $i" >/dev/null
done
B1=$(git -C "$B" rev-list --max-parents=0 HEAD)
EXTRA_CONFIG='"steward_tick_ms": 100, "bisect_repeats": 2'
setup_farm
start_daemon || { echo "bisect bench: daemon did not start" >&2; exit 1; }

N1=$(submit_to "$B" "$B1" nightly check)
[ "$(wait_flight "$N1" 30)" = pass ] || { echo "bisect bench: baseline failed" >&2; exit 1; }
t0=$(now)
N16=$(submit_to "$B" main nightly check "$N1")
wait_flight "$N16" 30 >/dev/null
flight_s=$(echo "$(now) - $t0" | bc)
t1=$(now)
for _ in $(seq 1200); do
    [ "$(flight "$N16" | jq -r .bisection.status)" = found ] && break
    sleep 0.05
done
bisect_s=$(echo "$(now) - $t1" | bc)
BI=$(flight "$N16" | jq -r .bisection.id)
probes=$(api "/api/flights?limit=500" | jq --arg s "bisect:$BI" '[.flights[] | select(.submitter == $s)] | length')
probe_s=$(api "/api/flights?limit=500" | jq --arg s "bisect:$BI" \
    '[.flights[] | select(.submitter == $s) | .finished_at - .created_at] | add / length')
printf 'bisection of 15 commits (16 with the baseline): %.2f s, %d probe flights, found %s\n' \
    "$bisect_s" "$probes" "$(flight "$N16" | jq -r .bisection.first_bad | cut -c1-12)"
printf 'one flight, submission to verdict: %.2f s (the regressed nightly); a probe flight: %.2f s (mean)\n' \
    "$flight_s" "$probe_s"
printf 'bisection = %.1f flights worth of the nightly, %.1f of a probe (target <= 5)\n' \
    "$(echo "$bisect_s / $flight_s" | bc -l)" "$(echo "$bisect_s / $probe_s" | bc -l)"
