#!/usr/bin/env bash
# dom0.sh - the dom0 benchmark (issue 4), printed from one run:
#   seconds from QEMU power-on to dom0's "kiln-dom0: init reached" marker,
#     (a) toolstack/'s kernel + initramfs booted directly by QEMU (1 GiB,
#     with 1 CPU as dom0 gets, and with 2 CPUs, the machine Kiln gets) and
#     (b) the same as Kiln's dom0 (1 GiB, 2 CPUs), best of 3 boots each,
#     and (b)/(a) against the faster (a) and the target 1.3;
#   `kl create` to the new guest's first instruction (dom0 reads the TSC
#     just before exec'ing kl, the bench guest reads it at its entry; Kiln
#     does not offset guests' TSCs), with the cost of starting a static
#     binary in dom0 as its baseline;
#   `kl list` latency (mean of 50, fork+exec included) against that same
#     baseline.
# Needs the toolstack's build (make -C toolstack); says so and stops if not.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ONKILN_TOOLSTACK=$(cd "$top/../toolstack" && pwd)
ONKILN_ELF=${KILN_ELF:-$top/build/kiln.elf}
GUESTS=${KILN_GUESTS:-$top/build/guests}
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
tmp=$(mktemp -d /tmp/kiln-dom0-bench.XXXXXX)
PLAIN_PID=
cleanup() {
    onkiln_stop
    [ -n "$PLAIN_PID" ] && kill "$PLAIN_PID" 2>/dev/null && wait "$PLAIN_PID" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

if ! onkiln_ready || [ ! -f "$GUESTS/bench.elf" ]; then
    echo "dom0 bench: not run: build the toolstack (make -C toolstack) and the hypervisor first"
    exit 0
fi
for prog in tsc-exec; do
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -s -o "$tmp/$prog" \
        "$ONKILN_TOOLSTACK/tests/on-kiln/$prog.c" || exit 1
done

MARKER='kiln-dom0: init reached'
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }   # calc FORMAT EXPRESSION
now() { date +%s.%N; }
# Seconds from starting QEMU until the log shows the marker, or "fail".
time_to_marker() {   # time_to_marker LOG PID T0
    local deadline=$(( $(date +%s) + 60 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if grep -q "$MARKER" "$1" 2>/dev/null; then
            calc %.3f "$(now) - $3"
            return 0
        fi
        kill -0 "$2" 2>/dev/null || break
        sleep 0.01
    done
    echo fail
}

best() { printf '%s\n' "$@" | grep -v fail | sort -n | head -1; }

plain_boot() {   # plain_boot NCPUS: one direct boot, prints its seconds
    local log=$tmp/plain.log
    : > "$log"
    t0=$(now)
    timeout --foreground -k 5 90 qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp "$1" -nographic -no-reboot \
        -monitor none -serial "file:$log" -kernel "$ONKILN_DOM0/vmlinuz" \
        -initrd "$ONKILN_DOM0/initramfs.cpio.xz" -append "console=ttyS0 quiet panic=-1" \
        -netdev user,id=n -device virtio-net-pci,netdev=n,romfile= </dev/null >/dev/null 2>&1 &
    PLAIN_PID=$!
    time_to_marker "$log" "$PLAIN_PID" "$t0"
    kill "$PLAIN_PID" 2>/dev/null
    wait "$PLAIN_PID" 2>/dev/null
    PLAIN_PID=
}

# Two baselines: one CPU (what dom0 is given) and the very machine Kiln
# runs on (2 CPUs, where Linux also brings up the second one).
plain1=() plain2=()
for i in 1 2 3; do
    plain1+=("$(plain_boot 1)")
    plain2+=("$(plain_boot 2)")
done

kiln=()
for i in 1 2 3; do
    t0=$(now)
    onkiln_start "$tmp/kiln$i.log" 240 || { kiln+=(fail); continue; }
    kiln+=("$(time_to_marker "$ONKILN_LOG" "$ONKILN_PID" "$t0")")
    [ "$i" -lt 3 ] && onkiln_stop
done
a1=$(best "${plain1[@]}")
a2=$(best "${plain2[@]}")
a=$(best "$a1" "$a2")
b=$(best "${kiln[@]}")
sec() { for x in "$@"; do [ "$x" = fail ] && printf ' fail' || printf ' %.2f' "$x"; done; }
echo "power-on to dom0 init, plain QEMU, 1 CPU  (a1):$(sec "${a1:-fail}") s   (runs:$(sec "${plain1[@]}"))"
echo "power-on to dom0 init, plain QEMU, 2 CPUs (a2):$(sec "${a2:-fail}") s   (runs:$(sec "${plain2[@]}"))"
echo "power-on to dom0 init, under Kiln, 2 CPUs (b): $(sec "${b:-fail}") s   (runs:$(sec "${kiln[@]}"))"
if [ -n "$a" ] && [ -n "$b" ]; then
    r=$(calc %.3f "$b / $a")
    echo "ratio (b)/(a) against the faster baseline: $r   (target <= 1.3: $( [ "$(calc %d "$r <= 1.3")" = 1 ] && echo met || echo MISSED))"
fi

# The last Kiln boot stays up for the toolstack figures.
if ! onkiln_wait_for 'kiln-dom0: sshd up' 60; then
    echo "kl figures: not measured (dom0's sshd did not come up)"
    exit 1
fi
khz=$(tr -d '\r' < "$ONKILN_LOG" | sed -n 's/.*(kiln) TSC: \([0-9.]*\) MHz.*/\1/p' | head -1)
khz=$(calc %.0f "$khz * 1000")
onkiln_push "$tmp/tsc-exec" /tmp/tsc-exec
onkiln_push "$GUESTS/bench.elf" /tmp/bench.elf
onkiln_cfg bench | onkiln_ssh -s 'cat > /tmp/bench.cfg'

create=()
for i in 1 2 3; do
    before=$(tr -d '\r' < "$ONKILN_LOG" | grep -c 'bench: first_insn_tsc=')
    t0=$(onkiln_ssh '/tmp/tsc-exec kl create /tmp/bench.cfg' | sed -n 's/^tsc=//p')
    onkiln_wait_for "bench: first_insn_tsc=" 10
    deadline=$(( $(date +%s) + 10 ))
    while [ "$(tr -d '\r' < "$ONKILN_LOG" | grep -c 'bench: first_insn_tsc=')" -le "$before" ] &&
          [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
    t1=$(tr -d '\r' < "$ONKILN_LOG" | sed -n 's/.*bench: first_insn_tsc=\([0-9]*\).*/\1/p' | tail -1)
    onkiln_ssh 'kl destroy bench' >/dev/null
    if [ -n "$t0" ] && [ -n "$t1" ] && [ "$t1" -gt "$t0" ]; then
        create+=("$(calc %.2f "($t1 - $t0) / $khz")")
    else
        create+=(fail)
    fi
done
# Baseline: starting a static binary in dom0 (what kl costs before any hypercall).
exec_ms=$(onkiln_ssh '/tmp/tsc-exec /tmp/tsc-exec' | sed -n 's/^tsc=//p' |
          { read -r x; read -r y; calc %.2f "($y - $x) / $khz"; })
c=$(best "${create[@]}")
echo "kl create to the guest's first instruction: ${c:-fail} ms   (runs: ${create[*]}; baseline: starting a static binary in dom0 ${exec_ms} ms, ratio $(calc %.1f "${c:-0} / $exec_ms"))"

N=50
lat=$(onkiln_ssh "/tmp/tsc-exec; i=0; while [ \$i -lt $N ]; do kl list >/dev/null; i=\$((i+1)); done; /tmp/tsc-exec;
                  i=0; while [ \$i -lt $N ]; do /tmp/tsc-exec >/dev/null; i=\$((i+1)); done; /tmp/tsc-exec" |
      sed -n 's/^tsc=//p' | { read -r x; read -r y; read -r z
          echo "$(calc %.3f "($y - $x) / $N / $khz") $(calc %.3f "($z - $y) / $N / $khz")"; })
read -r list_ms base_ms <<<"$lat"
echo "kl list latency: ${list_ms} ms per call (mean of $N, fork+exec included; baseline: a static no-op binary ${base_ms} ms, ratio $(calc %.1f "$list_ms / $base_ms"))"
# dom0 powering off drops the connection: that status is not the bench's.
onkiln_ssh 'poweroff -f' >/dev/null 2>&1 || true
