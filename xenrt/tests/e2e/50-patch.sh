#!/usr/bin/env bash
# 50-patch.sh: a developer's patch that does not compile.  Submitted through
# the REST API against this repository's HEAD, it is applied in the build's
# worktree, the tree's own make fails, and the flight fails at its first
# failed step (compile) with the compiler's output as that step's log; the
# test jobs are blocked and no host is touched.
. "$(dirname "$0")/lib.bash"

echo "1..7"
start_farm

# A new source file needs no context lines, so the patch applies to any HEAD.
patch=$'diff --git a/hypervisor/common/zz_farm_e2e.c b/hypervisor/common/zz_farm_e2e.c\nnew file mode 100644\n--- /dev/null\n+++ b/hypervisor/common/zz_farm_e2e.c\n@@ -0,0 +1 @@\n+#error deliberate compile error from the farm e2e test\n'
body=$(jq -n --arg repo "$TOP" --arg ref "$SUBMIT_REF" --arg patch "$patch" \
    '{kind: "patch", repo: $repo, ref: $ref, patch: $patch, suites: ["smoke"]}')
F=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" -d "$body" "$URL/api/flights" | jq -r .id)
check "patch flight submitted" test -n "$F" -a "$F" != null
require_started "$F"
is "the flight fails" "$(wait_flight "$F" 120)" fail
is "build steps up to the first failure" \
    "$(job_field "$F" build '[.steps[] | .name + "=" + .status] | join(" ")')" \
    "checkout=pass patch=pass compile=fail"
log=$(api "$(job_field "$F" build '[.steps[] | select(.name == "compile") | .log_url][0]')")
check "the compile step's log is the compiler output" \
    grep -q "zz_farm_e2e.c:1:2: error: #error deliberate compile error" <<<"$log"
is "the test job is blocked" "$(job_field "$F" smoke .status)" blocked
is "no host was provisioned" "$(flight "$F" | jq '[.jobs[].steps[] | select(.name | startswith("provision-"))] | length')" 0
check "the worktree is removed" test -z "$(ls -A "$E2E_TMP/work" 2>/dev/null)"
