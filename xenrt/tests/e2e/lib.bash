# lib.bash: helpers for the farm's end-to-end tests (sourced by *.sh; not a
# test itself, hence not named *.sh).
#
# Each test runs a real `xenrt serve` on 127.0.0.1 with a free port and a
# temporary state directory, talks to it through the REST API only (curl +
# jq), and always cleans up: the trap stops the daemon and kills any QEMU
# host it left, found through the pid files and the temp dir in their
# command lines (never by a broad name).
set -u

TOP=${XENRT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${XENRT_BIN:-$TOP/xenrt/build/xenrt}
E2E_TMP=$(mktemp -d /tmp/xenrt-e2e.XXXXXX)
DAEMON_PID=""
PORT=""
URL=""
TOKEN=""
TESTNUM=0
# Others commit to this repository while tests run: every flight of a test
# builds the one commit that was HEAD when the test started.
SUBMIT_REF=${SUBMIT_REF:-$(git -C "$TOP" rev-parse HEAD)}

ok()     { TESTNUM=$((TESTNUM + 1)); echo "ok $TESTNUM - $1"; }
not_ok() { TESTNUM=$((TESTNUM + 1)); echo "not ok $TESTNUM - $1"; [ $# -gt 1 ] && echo "# $2" | head -c 2000; return 0; }
# check NAME COMMAND...: one result from a command's exit status.
check()  { local name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "failed: $*"; fi; }
# is NAME GOT WANT
is()     { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', wanted '$3'"; fi; }
diag()   { echo "# $*"; }

free_port() {
    local p
    for _ in $(seq 100); do
        # Below the kernel's ephemeral range (32768+), where outgoing
        # connections take their local ports.
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# Our QEMU processes: their serial file lives in our temp dir.
our_qemus() { pgrep -f -- "file:$E2E_TMP/" || true; }

kill_our_qemus() {
    local pid
    for pid in $(our_qemus); do kill -9 "$pid" 2>/dev/null || true; done
}

cleanup() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DAEMON_PID" 2>/dev/null || true
    fi
    kill_our_qemus
    if [ -n "${XENRT_E2E_KEEP:-}" ]; then echo "# kept $E2E_TMP" >&2; else rm -rf "$E2E_TMP"; fi
}
trap cleanup EXIT

setup_farm() {
    write_config
    TOKEN=$("$BIN" token create e2e --config "$E2E_TMP/cfg.json" 2>/dev/null)
}

# (Re)writes the daemon's configuration with a new free port.
write_config() {
    PORT=$(free_port) || { echo "Bail out! no free port"; exit 1; }
    URL=http://127.0.0.1:$PORT
    cat > "$E2E_TMP/cfg.json" <<JSON
{"db_path": "$E2E_TMP/xenrt.db", "state_dir": "$E2E_TMP", "log_dir": "$E2E_TMP/logs",
 "artifact_dir": "$E2E_TMP/artifacts", "work_dir": "$E2E_TMP/work",
 "suites_dir": "${SUITES_DIR:-$TOP/testsuites}", "pxe_dir": "$TOP/pxe", "web_dir": "$TOP/web-status",
 "http_port": $PORT${EXTRA_CONFIG:+, $EXTRA_CONFIG}}
JSON
}

# Starts the daemon; a port taken meanwhile means another port, not a
# failed test.
start_daemon() {
    for _ in 1 2 3; do
        (cd "$TOP" && exec "$BIN" serve --config "$E2E_TMP/cfg.json") >>"$E2E_TMP/daemon.log" 2>&1 &
        DAEMON_PID=$!
        for _ in $(seq 100); do
            curl -sf --max-time 1 "$URL/api/hosts" >/dev/null 2>&1 && return 0
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.1
        done
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=""
        grep -q "cannot listen" "$E2E_TMP/daemon.log" || return 1
        write_config
    done
    return 1
}

# A fresh farm and its daemon, or a bail-out saying why it did not start.
start_farm() {
    setup_farm
    start_daemon && return 0
    echo "Bail out! daemon did not start: $(tail -3 "$E2E_TMP/daemon.log" | tr '\n' ' ')"
    exit 1
}

kill9_daemon() {
    kill -9 "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=""
}

api() { curl -s --max-time 10 "$URL$1"; }

# submit SUITE...: a flight of this repository at SUBMIT_REF; prints its id.
submit() {
    local suites
    suites=$(printf '"%s",' "$@")
    curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" \
        -d "{\"kind\": \"branch\", \"repo\": \"$TOP\", \"ref\": \"$SUBMIT_REF\", \"suites\": [${suites%,}]}" \
        "$URL/api/flights" | jq -r .id
}

flight() { api "/api/flights/$1"; }

# The executor picks a submitted flight up within a second; if it does not,
# nothing later can pass, so stop at once instead of waiting out timeouts.
require_started() {
    local s
    for _ in $(seq 100); do
        s=$(flight "$1" | jq -r .status)
        [ "$s" != queued ] && return 0
        sleep 0.2
    done
    echo "Bail out! flight $1 still queued after 20 s: is the executor running in xenrt serve?"
    exit 1
}

# wait_flight ID TIMEOUT_S: prints the final status (or "timeout").
wait_flight() {
    local s
    for _ in $(seq $(($2 * 5))); do
        s=$(flight "$1" | jq -r .status)
        case $s in pass|fail|broken|cancelled) echo "$s"; return 0 ;; esac
        sleep 0.2
    done
    echo timeout
}

# wait_for TIMEOUT_S COMMAND...: until the command succeeds.
wait_for() {
    local t=$1; shift
    for _ in $(seq $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

# job_field FLIGHT JOBNAME JQ-EXPR
job_field() { flight "$1" | jq -r --arg n "$2" ".jobs[] | select(.name == \$n) | $3"; }

# provisioning FLIGHT JOBNAME: the job is provisioning one host right now.
provisioning() {
    [ "$(job_field "$1" "$2" '[.steps[] | select(.status == "running" and (.name | startswith("provision-")))] | length')" = 1 ]
}

hosts_all_idle() {
    [ "$(api /api/hosts | jq -r '[.hosts[] | select(.state != "idle" or .reserved_by != null)] | length')" = 0 ]
}

chromium_dom() {
    local profile
    profile=$(mktemp -d "$E2E_TMP/chromium.XXXXXX")
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --dump-dom "$1" 2>/dev/null
}

# --- The farm's own logic without nested hosts (70-*.sh) ---------------------
# A throwaway repository whose file `value` says good or bad, and suites of
# `provision = none` whose local steps read it at the flight's revision:
# real flights through the real executor, host pool and verdicts, each in
# well under a second.

# make_repo DIR: a git repository with branch main and one commit (good).
make_repo() {
    git init -q -b main "$1"
    git -C "$1" config user.name farm-test
    git -C "$1" config user.email farm-test@example.invalid
    commit_value "$1" good "commit 1"
}

# commit_value DIR VALUE SUBJECT: commits `value` = VALUE; prints the sha.
commit_value() {
    echo "$2" > "$1/value"
    git -C "$1" add value
    git -C "$1" commit -q --allow-empty -m "$3"
    git -C "$1" rev-parse HEAD
}

# local_suites DIR: check.suite (passes where value is good) and
# flaky.suite (fails every other run: a counter in $E2E_TMP).
local_suites() {
    mkdir -p "$1"
    cat > "$1/check.suite" <<'SUITE'
description = the revision's value file says good
hosts = 1
job_timeout = 30
provision = none
[step value]
kind = local
command = test "$(git -C "$XENRT_REPO" show "$XENRT_REVISION:value")" = good
timeout = 10
SUITE
    cat > "$1/flaky.suite" <<SUITE
description = fails one run in two
hosts = 1
job_timeout = 30
provision = none
[step coin]
kind = local
command = n=\$(cat $E2E_TMP/coin 2>/dev/null || echo 0); echo \$((n + 1)) > $E2E_TMP/coin; test \$((n % 2)) = 1
timeout = 10
SUITE
}

# submit_to REPO REF KIND SUITE [BASELINE]: prints the flight id.
submit_to() {
    local base=""
    [ -n "${5:-}" ] && base=", \"baseline\": $5"
    curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" \
        -d "{\"kind\": \"$3\", \"repo\": \"$1\", \"ref\": \"$2\", \"suites\": [\"$4\"]$base}" \
        "$URL/api/flights" | jq -r .id
}
