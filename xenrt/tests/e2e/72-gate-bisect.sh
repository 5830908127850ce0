#!/usr/bin/env bash
# 72-gate-bisect.sh: the farm runs itself, with local suites in throwaway
# repositories (no nested hosts):
#  - a tolerable gate flight moves the tracked branch's tested ref, a
#    regressing one does not (and its gate names the first bad commit once
#    the farm bisected it); the last pushed flight is the next baseline;
#  - a step that fails one run in two is retested on the other host,
#    labelled flaky, shown with its flake rate, and does not block the gate;
#  - in a repository of 16 commits with a regression planted in one, a
#    nightly flight regresses and the farm, unattended, names the planted
#    commit (each revision's verdict repeated before it is trusted).
. "$(dirname "$0")/lib.bash"

echo "1..25"
SUITES_DIR=$E2E_TMP/suites
local_suites "$SUITES_DIR"
R=$E2E_TMP/repo
C1=$(make_repo "$R")
git -C "$R" branch flaky
git -C "$R" branch locked
# A lock git leaves behind makes every update of this tested ref fail.
mkdir -p "$R/.git/refs/heads/tested" && touch "$R/.git/refs/heads/tested/locked.lock"
B=$E2E_TMP/bisect
make_repo "$B" >/dev/null
PLANTED=11
for i in $(seq 2 16); do
    v=good; [ "$i" -ge $PLANTED ] && v=bad
    sha=$(commit_value "$B" "$v" "commit $i")
    [ "$i" = $PLANTED ] && PLANTED_SHA=$sha
done
B1=$(git -C "$B" rev-list --max-parents=0 HEAD)
python3 "$(dirname "$0")/helpers/listener.py" record "$E2E_TMP/rec.port" "$E2E_TMP/got.jsonl" &
REC=$!
trap 'kill $REC 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$E2E_TMP/rec.port"
EXTRA_CONFIG='"steward_tick_ms": 100, "bisect_repeats": 2, "webhook_retry_ms": 200,
 "webhooks": [{"url": "http://127.0.0.1:'$(cat "$E2E_TMP/rec.port")'/", "events": ["tested-ref-pushed"]}],
 "branches": [{"repo": "'$R'", "branch": "main"}, {"repo": "'$R'", "branch": "flaky"},
  {"repo": "'$R'", "branch": "locked"}]'
start_farm
tested() { git -C "$R" rev-parse -q --verify "refs/heads/tested/$1" 2>/dev/null || echo none; }
# Polled by wait_for, so each try reads the ref and the flight afresh: the
# push lands in git a moment before the flight records it.
tested_is() { [ "$(tested "$1")" = "$2" ]; }
push_recorded() { [ "$(flight "$1" | jq -r '.tested_pushes[0].ok')" != null ]; }

# --- tested refs -------------------------------------------------------------
G1=$(submit_to "$R" main gate check)
is "a passing gate flight" "$(wait_flight "$G1" 20)" pass
wait_for 5 tested_is main "$C1"
wait_for 5 push_recorded "$G1"
is "moves refs/heads/tested/main to its revision" "$(tested main)" "$C1"
is "and says so on the flight" "$(flight "$G1" | jq -r '.tested_pushes[0].ok')" 1
pushed_hook() { jq -e --arg c "$C1" 'select(.event == "tested-ref-pushed" and .body.revision == $c)' \
    "$E2E_TMP/got.jsonl" >/dev/null 2>&1; }
check "and a tested-ref-pushed webhook says so" wait_for 10 pushed_hook
C2=$(commit_value "$R" bad "break main")
G2=$(submit_to "$R" main gate check)
is "the branch's next flight takes the last pushed flight as its baseline" \
    "$(flight "$G2" | jq -r .baseline_id)" "$G1"
wait_flight "$G2" 20 >/dev/null
is "a regressing gate flight says do not push" "$(flight "$G2" | jq -r .gate.decision)" "no push"
sleep 0.5
is "and does not move the tested ref" "$(tested main)" "$C1"
found() { [ "$(flight "$1" | jq -r .bisection.status)" = found ]; }
check "the farm bisects the gate's regression" wait_for 20 found "$G2"
is "its gate reason names the first bad commit" \
    "$(flight "$G2" | jq -r .gate.reason | grep -o 'first bad commit [0-9a-f]*')" \
    "first bad commit ${C2:0:12}"

# A push that fails is reported on the flight, and not retried.
L=$(submit_to "$R" locked gate check)
wait_flight "$L" 20 >/dev/null
pushed() { [ "$(flight "$L" | jq '.tested_pushes | length')" -ge 1 ]; }
wait_for 5 pushed
is "a failed push is recorded with git's reason" \
    "$(flight "$L" | jq -r '.tested_pushes[0] | "\(.ok) \(.message | test("failed: git update-ref exited"))"')" "0 true"
check "and shown on the flight page" sh -c "curl -s '$URL/flights/$L' | grep -q 'tested ref NOT moved'"
sleep 0.5
is "and not retried" "$(flight "$L" | jq '.tested_pushes | length')" 1

# --- flaky ---------------------------------------------------------------------
G3=$(submit_to "$R" flaky gate flaky)
wait_flight "$G3" 30 >/dev/null
is "a step failing one run in two is flaky" "$(flight "$G3" | jq -c .verdict.flaky)" '["flaky/coin"]'
is "the verdict is tolerable" "$(flight "$G3" | jq -r .verdict.summary)" tolerable
is "it was retested once" "$(flight "$G3" | jq '[.jobs[] | select(.retest_of != null)] | length')" 1
host_of() { sqlite3 "$E2E_TMP/xenrt.db" "SELECT host_id FROM job_hosts WHERE job_id = $1"; }
J=$(flight "$G3" | jq '.jobs[] | select(.name == "flaky") | .id')
JR=$(flight "$G3" | jq '.jobs[] | select(.retest_of != null) | .id')
check "on another host" test "$(host_of "$J")" != "$(host_of "$JR")"
is "the gate pushes" "$(flight "$G3" | jq -r .gate.decision)" push
wait_for 5 tested_is flaky "$C1"
is "and the tested ref moves" "$(tested flaky)" "$C1"
is "the step's flake rate is kept" "$(flight "$G3" | jq -c '.jobs[] | select(.name == "flaky") | .flake_rates.coin')" \
    '{"runs":1,"flaky":1}'
check "and shown beside it on the flight page" sh -c "curl -s '$URL/flights/$G3' | grep -q 'flaky 1/1'"

# --- bisection of 16 commits ---------------------------------------------------
N1=$(submit_to "$B" "$B1" nightly check)
is "the baseline nightly passes" "$(wait_flight "$N1" 20)" pass
t0=$(date +%s.%N)
N16=$(submit_to "$B" main nightly check "$N1")
wait_flight "$N16" 20 >/dev/null
is "the nightly at commit 16 regresses" "$(flight "$N16" | jq -r .verdict.summary)" regression
check "the farm bisects it unattended" wait_for 60 found "$N16"
t=$(echo "$(date +%s.%N) - $t0" | bc)
BI=$(flight "$N16" | jq -r .bisection.id)
is "and names the planted commit" "$(api "/api/bisections/$BI" | jq -r .first_bad)" "$PLANTED_SHA"
probes=$(api "/api/flights?limit=500" | jq --arg s "bisect:$BI" '[.flights[] | select(.submitter == $s)] | length')
diag "bisection of 15 commits: $t s, $probes probe flights (each revision confirmed twice)"
check "its page shows the first bad commit" sh -c "curl -s '$URL/bisections/$BI' | grep -q 'first-bad'"
