#!/usr/bin/env bash
# 60-dom0-ssh.sh: dom0 through the real daemon.  One flight builds this
# repository's HEAD with dom0's image (the suites ask for it) and runs, on
# both nested hosts:
#   dom0-smoke        Kiln boots dom0 through iPXE; kl over SSH: list,
#                     create/console/destroy a guest, credit parameters
#   dom0-plain        the same image booted without Kiln: SSH steps, TAP
#   dom0-fail         a command exits 3: the step and the job fail
#   dom0-hang         a command outlives its step timeout: fail
#   dom0-unreachable  dom0 without its network driver: broken, retried
#   dom0-panic        the hypervisor panics before dom0: fail, not broken
# and checks steps, verdicts, collected logs and the job page.
. "$(dirname "$0")/lib.bash"

echo "1..32"

# The shipped suites plus three that must not pass, for this test only.
SUITES_DIR=$E2E_TMP/suites
mkdir -p "$SUITES_DIR"
cp "$TOP"/testsuites/*.suite "$SUITES_DIR"/
cat > "$SUITES_DIR/dom0-fail.suite" <<'EOF'
dom0 = plain
job_timeout = 90
[step works]
kind = ssh
command = true
timeout = 20
[step breaks]
kind = ssh
command = echo about to fail; echo on stderr >&2; exit 3
timeout = 20
[step never]
kind = ssh
command = true
timeout = 20
EOF
# virtio_net refused by the kernel: dom0 boots, sshd runs, nothing reaches it.
cat > "$SUITES_DIR/dom0-unreachable.suite" <<'EOF'
dom0 = plain
dom0_cmdline = console=ttyS0 quiet module_blacklist=virtio_net
dom0_timeout = 10
job_timeout = 60
[step works]
kind = ssh
command = true
timeout = 20
EOF
cat > "$SUITES_DIR/dom0-hang.suite" <<'EOF'
dom0 = plain
job_timeout = 90
[step hang]
kind = ssh
command = echo started; sleep 600
timeout = 3
EOF
cat > "$SUITES_DIR/dom0-panic.suite" <<'EOF'
dom0 = kiln
cmdline = loglvl=info selftest=panic
dom0_timeout = 60
job_timeout = 90
[step works]
kind = ssh
command = true
timeout = 20
EOF

start_farm
ok "daemon serves the API on a free port"

start=$(date +%s)
# The unreachable dom0 first: its three attempts then overlap the rest.
F=$(submit dom0-unreachable dom0-smoke dom0-plain dom0-fail dom0-hang dom0-panic)
check "flight submitted" test -n "$F" -a "$F" != null
require_started "$F"
status=$(wait_flight "$F" 300)
diag "flight $F took $(( $(date +%s) - start )) s"
is "flight fails (two suites are made to)" "$status" fail
J=$(flight "$F")
[ "$status" = fail ] || diag "$(echo "$J" | jq -c '.jobs[] | {name, status, steps: [.steps[] | {name, status, message}]}')"

# Build: dom0's image from the tree's own toolstack, stored by content hash.
is "build steps" "$(job_field "$F" build '[.steps[] | .name + "=" + .status] | join(" ")')" \
    "checkout=pass compile=pass compile-dom0=pass store-artifacts=pass"
is "dom0 artifacts stored" "$(echo "$J" | jq -r '[.artifacts | ."dom0-kernel", ."dom0-initrd", ."dom0-hostkey" | select(test("^[0-9a-f]{64}$"))] | length')" 3
sha=$(echo "$J" | jq -r '.artifacts."dom0-hostkey"')
check "pinned host key is the one the build made" grep -q '^ssh-ed25519 ' "$E2E_TMP/artifacts/$sha"
check "Debian packages cached under the state directory" test -f "$E2E_TMP/dom0-cache/stamp"

# dom0-smoke: Kiln + dom0, the toolstack over SSH.
is "dom0-smoke passes" "$(job_field "$F" dom0-smoke .status)" pass
is "dom0-smoke steps" "$(job_field "$F" dom0-smoke '[.steps[] | (.name | sub("host[0-9]+"; "H")) + "=" + .status] | join(" ")')" \
    "provision-H=pass boot=pass dom0-H=pass dom0-on-kiln=pass kl-list=pass guest-create=pass sched-credit=pass guest-console=pass guest-destroy=pass collect-logs-H=pass"
sid=$(job_field "$F" dom0-smoke .id)
sj=$(api "/api/jobs/$sid")
dur=$(echo "$sj" | jq '.finished_at - .started_at | floor')
check "dom0-smoke job took under 90 s (${dur} s)" test "$dur" -lt 90
# Logs: the serial console (hypervisor and dom0 interleaved) and, collected
# over SSH at the end, the hypervisor's log (kl dmesg) and dom0's dmesg.
log_of() { echo "$sj" | jq -r --arg re "$1" '[.logs[] | select(.name | test($re)) | .url][0] // empty'; }
hv=$(api "$(log_of '^console-host[0-9]+-hypervisor[.]log$')")
d0=$(api "$(log_of '^console-host[0-9]+-dom0[.]log$')")
serial=$(api "$(log_of '^console-host[0-9]+[.]log$')")
check "hypervisor log collected (kl dmesg)" grep -q '(kiln) dom0: entering Linux' <<<"$hv"
check "dom0 dmesg collected (with kiln.ko's lines)" \
    bash -c 'grep -q "Linux version" <<<"$1" && grep -q "kiln: Kiln ABI" <<<"$1"' _ "$d0"
check "serial console holds the hypervisor's and dom0's lines" \
    bash -c 'grep -q "(kiln) Kiln hypervisor starting" <<<"$1" && grep -q "kiln-dom0: kiln.ko loaded" <<<"$1"' _ "$serial"
page=$(api "/jobs/$sid")
# The page shows each log's tail inline: its last line is there.
last() { grep -v '^$' <<<"$1" | tail -n1 | sed 's/^\[[ 0-9.]*\] //'; }
check "job page shows the hypervisor's and dom0's console logs" \
    bash -c 'grep -Eq "<h3>console-host[0-9]+-hypervisor.log \(tail\)</h3>" <<<"$1" &&
             grep -Eq "<h3>console-host[0-9]+-dom0.log \(tail\)</h3>" <<<"$1" &&
             grep -qF -- "$2" <<<"$1" && grep -qF -- "$3" <<<"$1"' _ "$page" "$(last "$hv")" "$(last "$d0")"
dom=$(chromium_dom "$URL/jobs/$sid")
check "job page in Chromium shows both logs' tails" \
    bash -c 'grep -Eq "<h3>console-host[0-9]+-hypervisor.log \(tail\)</h3>" <<<"$1" &&
             grep -Eq "<h3>console-host[0-9]+-dom0.log \(tail\)</h3>" <<<"$1"' _ "$dom"
ev=$(api "/api/hosts" | jq -r '.hosts[].id' | while read -r h; do api "/api/hosts/$h/events?limit=100"; done)
check "dom0's SSH port forward recorded with the host's events" grep -q 'dom0 SSH on 127.0.0.1:' <<<"$ev"
check "dom0's SSH port in the job's API hosts and on its page" \
    bash -c 'test "$(jq "[.hosts[] | .ssh_port | numbers] | length" <<<"$1")" = 1 &&
             grep -q "(dom0 SSH 127.0.0.1:[0-9]*)" <<<"$2"' _ "$sj" "$page"
is "dom0's SSH port recorded on the job's host row" \
    "$(sqlite3 "$E2E_TMP/xenrt.db" "SELECT count(*) FROM job_hosts WHERE job_id = $sid AND ssh_port BETWEEN 1 AND 65535")" 1

# dom0-plain: SSH machinery without Kiln; TAP on stdout becomes steps.
is "dom0-plain passes" "$(job_field "$F" dom0-plain .status)" pass
is "TAP from a command became steps" \
    "$(job_field "$F" dom0-plain '[.steps[] | select(.name | startswith("tap:")) | .status] | join(" ")')" "pass pass"
pid=$(job_field "$F" dom0-plain .id)
up=$(api "/api/jobs/$pid" | jq '[.steps[] | select(.name == "jsonl:uptime" and .status == "pass") | .metrics[] | select(.name == "uptime_s" and .unit == "s") | .value][0] // 0')
check "JSON lines from a command became a step with a metric (uptime ${up} s)" jq -en "$up > 1 and $up < 300"
check "a step's log holds its command and output" \
    bash -c 'grep -q "^\$ uname -sr" <<<"$1" && grep -q "^Linux " <<<"$1"' _ \
    "$(api "$(api "/api/jobs/$pid" | jq -r '[.logs[] | select(.name == "ssh-uname.log") | .url][0]')")"

# dom0-fail: exit status 3 fails the step and the job; later steps never run.
is "failing command: job fails" "$(job_field "$F" dom0-fail .status)" fail
is "failing command: steps" "$(job_field "$F" dom0-fail '[.steps[] | select(.name | test("^(works|breaks|never)$")) | .name + "=" + .status] | join(" ")')" \
    "works=pass breaks=fail"
fid=$(job_field "$F" dom0-fail .id)
check "failing command: message and log" \
    bash -c 'grep -q "exit status 3" <<<"$1" && grep -q "about to fail" <<<"$2" && grep -q "on stderr" <<<"$2"' _ \
    "$(job_field "$F" dom0-fail '[.steps[] | select(.name == "breaks") | .message][0]')" \
    "$(api "$(api "/api/jobs/$fid" | jq -r '[.logs[] | select(.name == "ssh-breaks.log") | .url][0]')")"

# dom0-hang: the step timeout ends the command; dom0 still gives its logs.
is "hanging command: step times out, logs still collected" \
    "$(job_field "$F" dom0-hang '[.status] + [.steps[] | select(.name | test("^(hang|collect-logs-host[0-9]+)$")) | .status + (if .status == "fail" then ":" + (.message | sub(".*timed out"; "timed out")) else "" end)] | join(" ")')" \
    "fail fail:timed out after 3s pass"

# dom0-unreachable: the farm's side failed: broken, retried to the limit.
is "unreachable dom0: broken after 3 attempts" "$(job_field "$F" dom0-unreachable '.status + " " + (.attempt | tostring)')" "broken 3"
check "unreachable dom0: the wait step says so" test -n \
    "$(job_field "$F" dom0-unreachable '[.steps[] | select((.name | startswith("dom0-host")) and .status == "broken" and (.message | contains("did not answer SSH")))][0] // empty')"

# dom0-panic: the code under test ended the host: fail, not broken.
is "hypervisor panic before dom0: fail, not retried" \
    "$(job_field "$F" dom0-panic '.status + " " + (.attempt | tostring)')" "fail 1"
check "hypervisor panic: the message blames the hypervisor" test -n \
    "$(job_field "$F" dom0-panic '[.steps[] | select(.status == "fail" and (.message | contains("the hypervisor panicked")))][0] // empty')"

check "hosts are idle again" hosts_all_idle
is "no QEMU left running" "$(our_qemus | wc -l)" 0
