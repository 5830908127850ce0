#!/usr/bin/env bash
# dom0-migrate.sh - live migration between two Kiln hosts: two QEMUs (1 GiB,
# 2 CPUs each) whose dom0s are joined by a second NIC on a QEMU socket
# network (host A listens, host B connects: a private L2 link on
# loopback), addresses 10.77.0.1 and .2.  The migration test guest goes
# A -> B -> A with `kl migrate` / `kl migrate-receive` while it counts and
# rewrites its pattern; migrations that fail (a destination short of
# memory, a receiver killed mid-stream, a port nobody listens on) leave it
# running on A.  At the end it reports on A: counter and pattern
# intact after two moves, and its largest heartbeat gap.  Then the
# dirtying guest goes A -> B, ended by the pre-copy round limit.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
GUESTS=${KILN_GUESTS:-$KILN_DIR/build/guests}
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"

CHECKS=(
    "both hosts' dom0s up, linked by their second NICs" "kl migrate A -> B: figures and JSON"
    "the guest runs on B only" "kl migrate B -> A" "the guest runs on A only"
    "a migration to a closed port fails, the guest still running on A"
    "a destination without the memory refuses, the guest still running on A"
    "a receiver killed mid-stream: the migration fails, the guest still running on A, nothing left on B"
    "moved guest: counter continuous" "moved guest: memory pattern intact" "moved guest: moved twice"
    "the dirtying guest migrates A -> B: 5 live rounds, then paused; it runs on B"
    "neither hypervisor panicked"
)

A_PID= B_PID=
stop_both() {
    for p in "$A_PID" "$B_PID"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill "$p"; wait "$p" 2>/dev/null; fi
    done
}
trap stop_both EXIT
if ! onkiln_ready; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
if ! onkiln_ready || [ ! -f "$GUESTS/migrate.elf" ]; then
    for c in "${CHECKS[@]}"; do tap_skip "$c" "toolstack or test guests not built"; done
    exit 0
fi

check() {   # check NAME COMMAND...: ok when the command succeeds
    local name=$1
    shift
    if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}
use() {   # use A|B: point the onkiln_* helpers at that host
    eval "ONKILN_PID=\$${1}_PID ONKILN_PORT=\$${1}_PORT ONKILN_LOG=\$${1}_LOG"
}
log() { tr -d '\r' < "$1"; }

LINK=$(( 40000 + (RANDOM % 20000) ))
onkiln_start "$KILN_TMP/serial-a.log" 600 -netdev "socket,id=m,listen=127.0.0.1:$LINK" \
    -device virtio-net-pci,netdev=m,romfile=,mac=52:54:00:77:00:01 || { tap_fail "QEMU A starts"; exit 0; }
A_PID=$ONKILN_PID A_PORT=$ONKILN_PORT A_LOG=$ONKILN_LOG
sleep 1
onkiln_start "$KILN_TMP/serial-b.log" 600 -netdev "socket,id=m,connect=127.0.0.1:$LINK" \
    -device virtio-net-pci,netdev=m,romfile=,mac=52:54:00:77:00:02 || { tap_fail "QEMU B starts"; exit 0; }
B_PID=$ONKILN_PID B_PORT=$ONKILN_PORT B_LOG=$ONKILN_LOG

# The link: the NIC with our MAC gets 10.77.0.N.
link_up() {   # link_up MAC ADDR
    onkiln_ssh "for i in /sys/class/net/*; do [ \"\$(cat \$i/address)\" = $1 ] && n=\${i##*/}; done;
                ifconfig \$n $2 netmask 255.255.255.0 up"
}
ok=1
for h in A B; do
    use $h
    onkiln_wait_for 'kiln-dom0: sshd up' 120 && log "$ONKILN_LOG" | grep -q 'kiln-dom0: kiln.ko loaded' || ok=0
done
use A; [ $ok = 1 ] && link_up 52:54:00:77:00:01 10.77.0.1 || ok=0
use B; [ $ok = 1 ] && link_up 52:54:00:77:00:02 10.77.0.2 || ok=0
use A; [ $ok = 1 ] && onkiln_ssh 'ping -c 1 -W 5 10.77.0.2' >/dev/null || ok=0
if [ $ok != 1 ]; then
    for f in "$A_LOG" "$B_LOG"; do echo "# $f:"; log "$f" | tail -8 | sed 's/^/#   /'; done
    for c in "${CHECKS[@]}"; do tap_fail "$c" "a dom0 or the link between them never came up"; done
    exit 0
fi
tap_ok "${CHECKS[0]}"


# Failures first, while the guest has most of its run ahead; everything
# slow (copies, building a big domain) before the guest starts.  B short of
# memory: a paused domain takes all but 4 MiB of what it has free.
use B
onkiln_push "$GUESTS/migrate.elf" /tmp/migrate.elf
free_mib=$(onkiln_ssh 'kl info' | sed -n 's/^free_memory *: *\([0-9]*\) MiB.*/\1/p')
printf 'name = big\nkernel = migrate.elf\nmemory = %s\nvcpus = 1\n' $(( ${free_mib:-8} - 4 )) |
    onkiln_ssh -s 'cat > /tmp/big.cfg'
onkiln_ssh 'kl create -p /tmp/big.cfg >/dev/null'
use A
onkiln_push "$GUESTS/migrate.elf" /tmp/migrate.elf
onkiln_push "$GUESTS/migrate-dirty.elf" /tmp/migrate-dirty.elf
printf 'name = migrate\nkernel = migrate.elf\nmemory = 8\nvcpus = 1\n' | onkiln_ssh -s 'cat > /tmp/migrate.cfg'
printf 'name = dirty\nkernel = migrate-dirty.elf\nmemory = 8\nvcpus = 1\n' | onkiln_ssh -s 'cat > /tmp/dirty.cfg'
onkiln_ssh 'kl create /tmp/migrate.cfg' >/dev/null
sleep 2
use B
onkiln_ssh 'kl migrate-receive > /tmp/recv.log 2>&1 < /dev/null & sleep 0.5'
use A
out=$(onkiln_ssh 'kl migrate migrate 10.77.0.2 2>&1; echo rc=$?; kl list')
echo "$out" | grep '^kl:' | sed 's/^/# /'
check "${CHECKS[6]}" bash -c 'grep -q "^kl: migrate migrate: the destination refused: record HEADER at offset 16: not enough memory here" <<<"$1" &&
    grep -q "^rc=1" <<<"$1" && grep -Eq "migrate +running" <<<"$1"' _ "$out"
use B
onkiln_ssh 'kl destroy big'
# A receiver killed (SIGTERM) while the stream flows, once the HEADER made
# it create the domain: it destroys what it had built.
onkiln_ssh 'kl migrate-receive 8003 > /tmp/recv3.log 2>&1 < /dev/null & p=$!
            for i in $(seq 200); do kl list | grep -Eq "migrate +building" && break; sleep 0.05; done
            kill $p' &
killer=$!
use A
out=$(onkiln_ssh 'sleep 0.5; kl migrate migrate 10.77.0.2:8003 2>&1; echo rc=$?; kl list')
wait "$killer"
echo "$out" | grep '^kl:' | sed 's/^/# /'
use B
left=$(onkiln_ssh 'sleep 0.5; cat /tmp/recv3.log; kl list')
echo "$left" | grep '^kl:' | sed 's/^/# B: /'
check "${CHECKS[7]}" bash -c 'grep -q "^kl: migrate migrate: .*(the guest stays here)" <<<"$1" &&
    grep -q "^rc=1" <<<"$1" && grep -Eq "migrate +running" <<<"$1" &&
    grep -q "^kl: migrate-receive: .*Operation canceled" <<<"$2" && ! grep -q " migrate " <<<"$2"' _ "$out" "$left"
onkiln_ssh 'for d in $(kl list | awk "\$2 == \"migrate\" {print \$1}"); do kl destroy $d; done; true'

migrate() {   # migrate FROM TO TO_ADDR: prints kl migrate's output, then both lists
    use "$2"
    onkiln_ssh 'kl migrate-receive > /tmp/recv.log 2>&1 < /dev/null & sleep 0.5'
    use "$1"
    onkiln_ssh "kl migrate migrate $3 2>&1; echo rc=\$?; echo '--- from'; kl list"
    use "$2"
    onkiln_ssh "sleep 0.5; cat /tmp/recv.log; echo '--- to'; kl list"
}
out=$(migrate A B 10.77.0.2)
echo "$out" | grep -E '^(migrated|received|\{|kl:)' | sed 's/^/# /'
check "${CHECKS[1]}" bash -c 'grep -q "^migrated d[0-9]* .migrate. to 10.77.0.2 as d[0-9]*" <<<"$1" &&
    grep -q "^{\"op\":\"migrate\".*\"live\":true" <<<"$1" && grep -q "^rc=0" <<<"$1"' _ "$out"
check "${CHECKS[2]}" bash -c '! sed -n "/^--- from/,/^--- to/p" <<<"$1" | grep -q " migrate " &&
    sed -n "/^--- to/,\$p" <<<"$1" | grep -Eq "migrate +running"' _ "$out"
sleep 2
out=$(migrate B A 10.77.0.1)
echo "$out" | grep -E '^(migrated|received|\{|kl:)' | sed 's/^/# /'
check "${CHECKS[3]}" bash -c 'grep -q "^migrated d[0-9]* .migrate. to 10.77.0.1" <<<"$1" && grep -q "^rc=0" <<<"$1"' _ "$out"
check "${CHECKS[4]}" bash -c '! sed -n "/^--- from/,/^--- to/p" <<<"$1" | grep -q " migrate " &&
    sed -n "/^--- to/,\$p" <<<"$1" | grep -Eq "migrate +running"' _ "$out"

use A
out=$(onkiln_ssh 'kl migrate migrate 10.77.0.2:9 2>&1; echo rc=$?; kl list')
echo "$out" | grep '^kl:' | sed 's/^/# /'
check "${CHECKS[5]}" bash -c 'grep -q "^kl: migrate migrate: connecting to 10.77.0.2 port 9: Connection refused (the guest stays here)" <<<"$1" &&
    grep -q "^rc=1" <<<"$1" && grep -Eq "migrate +running" <<<"$1"' _ "$out"

deadline=$(( $(date +%s) + 360 ))
while ! log "$A_LOG" | grep -q 'migrate-guest: beats=' && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
for f in "$A_LOG" "$B_LOG"; do
    log "$f" | grep -E '\(d[0-9]+\) (ok|not ok|# migrate: (started|moved)|migrate-guest)' | sed "s/^/# ${f##*/}: /"
done
final() { log "$A_LOG" | grep -E "\(d[0-9]+\) (not )?ok $1 - " | tail -1; }
check "${CHECKS[8]}" bash -c '[[ "$1" == *"ok 1 - counter continuous"* && "$1" != *"not ok"* ]]' _ "$(final 1)"
check "${CHECKS[9]}" bash -c '[[ "$1" == *"ok 2 - memory pattern intact (0 of"* && "$1" != *"not ok"* ]]' _ "$(final 2)"
check "${CHECKS[10]}" bash -c 'grep -q "migrate-guest: beats=[0-9]* moves=2 " <<<"$1"' _ "$(log "$A_LOG")"
# The dirtying guest: pre-copy cannot keep up, the round limit ends it.
use A
onkiln_ssh 'kl create /tmp/dirty.cfg' >/dev/null
use B
onkiln_ssh 'kl migrate-receive > /tmp/recv.log 2>&1 < /dev/null & sleep 0.5'
use A
out=$(onkiln_ssh 'sleep 2; kl migrate dirty 10.77.0.2 2>&1; echo rc=$?')
use B
out+=$'\n'$(onkiln_ssh 'sleep 0.5; kl list')
echo "$out" | grep -E '^(migrated|\{|kl:)' | sed 's/^/# /'
check "${CHECKS[11]}" bash -c 'grep -q "^{\"op\":\"migrate\",\"domid\":[0-9]*,\"name\":\"dirty\",\"live\":true,\"rounds\":5," <<<"$1" &&
    grep -q "^rc=0" <<<"$1" && grep -Eq "dirty +running" <<<"$1"' _ "$out"
onkiln_ssh 'kl destroy dirty' >/dev/null 2>&1
check "${CHECKS[12]}" bash -c '! grep -Eq "PANIC on CPU|dom0 has ended" "$1" "$2"' _ "$A_LOG" "$B_LOG"
# dom0 powering off drops the SSH connection (status 255): the checks
# above are the verdict, not how the last command ended.
for h in A B; do use $h; onkiln_ssh 'poweroff -f' >/dev/null 2>&1 || true; done
