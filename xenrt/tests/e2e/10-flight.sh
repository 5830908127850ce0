#!/usr/bin/env bash
# 10-flight.sh: a real flight end to end.  The daemon builds this
# repository's HEAD commit, provisions BOTH nested QEMU hosts through iPXE from
# itself (two test jobs at once), reads TAP from their consoles, and the
# verdict is checked through the REST API and the status page in headless
# Chromium.
. "$(dirname "$0")/lib.bash"

echo "1..19"
start_farm
ok "daemon serves the API on a free port"

start=$(date +%s)
F=$(submit smoke hv-selftest)
check "flight submitted" test -n "$F" -a "$F" != null
require_started "$F"
status=$(wait_flight "$F" 150)
is "flight passes" "$status" pass
diag "flight $F took $(( $(date +%s) - start )) s"
[ "$status" = pass ] || { diag "$(flight "$F" | jq -c '.jobs[] | {name, status, steps: [.steps[] | {name, status, message}]}')"; tail -5 "$E2E_TMP/daemon.log" | sed 's/^/# /'; }

J=$(flight "$F")
is "every job passed" "$(echo "$J" | jq -r '[.jobs[].status] | join(" ")')" "pass pass pass"
is "build steps" "$(job_field "$F" build '[.steps[] | .name + "=" + .status] | join(" ")')" \
    "checkout=pass compile=pass store-artifacts=pass"
is "revision resolved" "$(echo "$J" | jq -r .revision)" "$SUBMIT_REF"
is "no test step failed" \
    "$(echo "$J" | jq -r '[.jobs[] | select(.name != "build") | .steps[] | select(.status != "pass" and .status != "skip")] | length')" 0
check "guest TAP points became steps" test \
    "$(job_field "$F" smoke '[.steps[] | select(.name | startswith("guests:d1:"))] | length')" -ge 1

# Both hosts were provisioned, one per job, and the jobs overlapped.
h1=$(job_field "$F" smoke '[.steps[] | select(.name | startswith("provision-")) | .name] | join(" ")')
h2=$(job_field "$F" hv-selftest '[.steps[] | select(.name | startswith("provision-")) | .name] | join(" ")')
is "both hosts provisioned" "$(echo "$h1 $h2" | tr ' ' '\n' | sort | tr '\n' ' ')" "provision-host0 provision-host1 "
overlap=$(echo "$J" | jq '[.jobs[] | select(.name != "build")] | (.[0].started_at < .[1].finished_at and .[1].started_at < .[0].finished_at)')
is "the two test jobs ran at the same time" "$overlap" true

# Provisioning time is recorded as a metric of the provision step.
sid=$(job_field "$F" smoke .id)
pt=$(api "/api/jobs/$sid" | jq '[.steps[] | select(.name | startswith("provision-")) | .metrics[] | select(.name == "provision_s" and .unit == "s") | .value][0]')
check "provision step has a provision_s metric (1..60 s)" jq -en "$pt > 1 and $pt < 60"

# Console logs through /logs, with the hypervisor's banner in each.
banners=0
for job in smoke hv-selftest; do
    url=$(job_field "$F" "$job" '[.steps[] | select(.name == "boot") | .log_url][0]')
    api "$url" | grep -q "(kiln) Kiln hypervisor starting" && banners=$((banners + 1))
done
is "console logs hold the banner" "$banners" 2

# The hypervisor artifact is served by hash and is what was built.
sha=$(echo "$J" | jq -r '.artifacts.hypervisor // empty')
is "served artifact matches its hash" "$(api "/artifacts/$sha" | sha256sum | cut -d' ' -f1)" "$sha"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/artifacts/..%2f..%2fxenrt.db")
check "artifact names are validated" test "$code" = 400 -o "$code" = 404

check "hosts are idle again" hosts_all_idle
is "no QEMU left running" "$(our_qemus | wc -l)" 0

# The grid as a browser renders it: a row per job, a pass cell per step.
dom=$(chromium_dom "$URL/flights/$F")
rows=$(grep -oE '<a href="/jobs/[0-9]+">(build|smoke|hv-selftest)</a>' <<<"$dom" | sort -u | wc -l)
is "status page grid has a row per job" "$rows" 3
is "status page grid has a pass cell per step" "$(grep -o 'class="cell st-pass"' <<<"$dom" | wc -l)" \
    "$(echo "$J" | jq '[.jobs[].steps[]] | length')"
is "status page grid has no failed cells" "$(grep -cE 'class="cell st-(fail|broken)"' <<<"$dom")" 0
