#!/usr/bin/env bash
# 70-webhooks.sh: webhooks arrive, and a dead listener does not slow the
# farm (about 10 s: the dead listener's first attempt times out).  Two listeners: one records what it gets, one accepts connections
# and never answers (each attempt to it waits out webhook_timeout_s).
# Flights of a local suite (no nested hosts) finish; the recorder gets
# flight-finished for each and regression for the regressing one, and
# every flight is as fast as without webhooks.
. "$(dirname "$0")/lib.bash"

echo "1..8"
SUITES_DIR=$E2E_TMP/suites
local_suites "$SUITES_DIR"
R=$E2E_TMP/repo
GOOD=$(make_repo "$R")
python3 "$(dirname "$0")/helpers/listener.py" record "$E2E_TMP/rec.port" "$E2E_TMP/got.jsonl" &
REC=$!
python3 "$(dirname "$0")/helpers/listener.py" blackhole "$E2E_TMP/dead.port" &
DEAD=$!
trap 'kill $REC $DEAD 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$E2E_TMP/rec.port" && wait_for 10 test -s "$E2E_TMP/dead.port"
EXTRA_CONFIG='"webhooks": [{"url": "http://127.0.0.1:'$(cat "$E2E_TMP/dead.port")'/hook",
  "events": ["flight-finished", "regression"]},
 {"url": "http://127.0.0.1:'$(cat "$E2E_TMP/rec.port")'/hook", "events": ["flight-finished", "regression"]}],
 "webhook_timeout_s": 6, "webhook_retry_ms": 300, "webhook_max_attempts": 3, "steward_tick_ms": 100'
start_farm

# Three flights in a row, each timed from submission to its verdict.
slow=0
for i in 1 2 3; do
    t0=$(date +%s.%N)
    F=$(submit_to "$R" "$GOOD" branch check)
    [ "$(wait_flight "$F" 20)" = pass ] || slow=1
    t=$(echo "$(date +%s.%N) - $t0" | bc)
    diag "flight $F: $t s from submission to verdict"
    # One attempt to the dead listener takes 6 s: a flight that waited
    # for it would take longer than that.
    [ "$(echo "$t < 4" | bc)" = 1 ] || slow=1
done
is "every flight passed within 4 s despite the dead listener (6 s an attempt)" "$slow" 0
BAD=$(commit_value "$R" bad "break it")
B=$(submit_to "$R" "$BAD" nightly check "$F")
is "a regressing flight" "$(wait_flight "$B" 20)" fail
# got EVENT N: the recorder has at least N deliveries of EVENT.
got() { [ "$(jq -s --arg e "$1" '[.[] | select(.event == $e)] | length' "$E2E_TMP/got.jsonl" 2>/dev/null)" -ge "$2" ]; }
check "the recorder got flight-finished for all four flights" wait_for 10 got flight-finished 4
check "and regression for the regressing one" wait_for 10 got regression 1
is "the regression names its job and step" \
    "$(grep '"event": "regression"' "$E2E_TMP/got.jsonl" | jq -r '.body.regressions[0]')" check/value
is "the payload says which flight" \
    "$(grep '"event": "regression"' "$E2E_TMP/got.jsonl" | jq -r '.body.flight.id')" "$B"
# The dead listener's first delivery: its attempt timed out, is recorded,
# and a retry is scheduled after the back-off.
dead_retried() {
    [ "$(api /api/webhooks?limit=100 | jq --arg u "$(cat "$E2E_TMP/dead.port")" \
        '[.deliveries[] | select((.url | contains($u)) and .attempts >= 1 and
          .status == "pending" and (.last_error | test("imeout")) and .next_at > .created_at)]
         | length')" -ge 1 ]
}
check "a delivery to the dead listener timed out, is recorded and will be retried" \
    wait_for 20 dead_retried
is "deliveries to the live one are recorded as delivered" \
    "$(api /api/webhooks?limit=100 | jq --arg u "$(cat "$E2E_TMP/rec.port")" \
        '[.deliveries[] | select((.url | contains($u)) and .status == "delivered")] | length')" 5
