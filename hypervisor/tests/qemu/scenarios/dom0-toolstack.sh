#!/usr/bin/env bash
# dom0-toolstack.sh - Linux dom0 on Kiln and the toolstack on the real
# hypervisor, in one QEMU boot (1 GiB, 2 CPUs), driven over SSH the way the
# farm does it: dom0 boots from Multiboot modules, kiln.ko loads (it refuses
# off Kiln), dom0 sees only its CPU and its RAM, `kl` lists/creates/reads
# consoles/destroys, 100 create/destroy cycles leak no page, hostile
# hypercall arguments through /dev/kiln fail cleanly, an unprivileged
# process cannot make hypercalls, and domUs that touch dom0's or other
# domains' memory are destroyed with the reason logged.
# Uses toolstack/'s build (dom0 image, ssh-exec) and the test guests
# steady, peek and poke; builds the toolstack first if it is missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
GUESTS=${KILN_GUESTS:-$KILN_DIR/build/guests}
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"

CHECKS=(
    "dom0 reaches init under Kiln" "kiln.ko loads (Kiln's CPUID leaf seen)" "dom0 reachable over SSH"
    "hypervisor hid the other CPUs in the MADT" "dom0 sees exactly one CPU (online and possible)" "dom0's CPUID hides SVM, shows a hypervisor"
    "dom0's e820 RAM is exactly what Kiln gave it" "kl list shows dom0" "kl info reports 2 CPUs"
    "kl dmesg shows the hypervisor's log" "kl create -c: console output, shutdown reason; kl destroy" "kl console of a running guest"
    "kl destroy removes the running guest" "100 kl create/destroy cycles leave the free page count unchanged"
    "hostile hypercall arguments through /dev/kiln" "a domU reading dom0's memory is destroyed, reason logged"
    "a domU writing other domains' memory is destroyed, reason logged" "a domU sees only zeroed RAM of its own"
    "the hypervisor never panicked" "dom0 powers the machine off"
)

trap onkiln_stop EXIT
if ! onkiln_ready; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
if ! onkiln_ready || [ ! -f "$GUESTS/peek.elf" ]; then
    for c in "${CHECKS[@]}"; do tap_skip "$c" "toolstack or test guests not built"; done
    exit 0
fi
badcalls=$KILN_TMP/badcalls
if ! cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ONKILN_TOOLSTACK/include" \
        -I"$KILN_DIR/include/public" -static -s -o "$badcalls" \
        "$ONKILN_TOOLSTACK/tests/on-kiln/badcalls.c" 2>"$KILN_TMP/cc.log"; then
    echo "# cannot build badcalls: $(head -3 "$KILN_TMP/cc.log")"
fi

log() { tr -d '\r' < "$ONKILN_LOG"; }
check() {   # check NAME COMMAND...: ok when the command succeeds
    local name=$1
    shift
    if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}
has() { grep -Eq -- "$2" <<<"$1"; }

onkiln_start "$KILN_TMP/serial.log" 240 || { tap_fail "QEMU starts"; exit 0; }
check "${CHECKS[0]}" onkiln_wait_for 'kiln-dom0: init reached' 60
check "${CHECKS[1]}" onkiln_wait_for 'kiln-dom0: kiln.ko loaded' 20
if ! onkiln_wait_for 'kiln-dom0: sshd up' 30; then
    # Nothing over SSH can work: fail the rest at once, not one timeout each.
    echo "# last console lines:"; log | tail -15 | sed 's/^/#   /'
    for c in "${CHECKS[@]:2}"; do tap_fail "$c" "dom0's sshd never came up"; done
    exit 0
fi
uname=$(onkiln_ssh 'uname -r')
check "${CHECKS[2]}" test -n "$uname"
check "${CHECKS[3]}" has "$(log)" '\(kiln\) ACPI: MADT shows dom0 only APIC id 0 \(1 other'
# One CPU online and possible: no hot-pluggable CPU a dom0 could wake.
check "${CHECKS[4]}" test "$(onkiln_ssh 'grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/possible')" = $'1\n0'
flags=$(onkiln_ssh 'grep -m1 ^flags /proc/cpuinfo')
check "${CHECKS[5]}" bash -c '[[ " $1 " == *" hypervisor "* && " $1 " != *" svm "* ]]' _ "$flags"

# Sum of "System RAM" in dom0's /proc/iomem vs. the hypervisor's "dom0: N MiB".
given=$(log | sed -n 's/.*(kiln) dom0: \([0-9]*\) MiB of RAM.*/\1/p')
seen=$(onkiln_ssh 'cat /proc/iomem' | awk -F'[- :]+' '/System RAM/ && $1 != "" {
    cmd = "printf %d 0x" $1; cmd | getline s; close(cmd)
    cmd = "printf %d 0x" $2; cmd | getline e; close(cmd)
    t += e - s + 1 } END { printf "%d", t / 1048576 }')
echo "# dom0 RAM: hypervisor gave ${given:-?} MiB, Linux sees ${seen:-?} MiB"
check "${CHECKS[6]}" test -n "$given" -a "${seen:-0}" -ge $(( ${given:-1} - 1 )) -a "${seen:-0}" -le "${given:-0}"

list=$(onkiln_ssh 'kl list')
check "${CHECKS[7]}" has "$list" '^0 +dom0 +running +1 '
check "${CHECKS[8]}" has "$(onkiln_ssh 'kl info')" 'nr_cpus +: 2'
check "${CHECKS[9]}" has "$(onkiln_ssh 'kl dmesg')" '\(kiln\) dom0: entering Linux on CPU 0'

for g in steady peek poke; do
    onkiln_push "$GUESTS/$g.elf" "/tmp/$g.elf"
    onkiln_cfg "$g" | onkiln_ssh -s "cat > /tmp/$g.cfg"
done
# A domain that shut down stays until destroyed (its reason and last output
# readable): create -c, then destroy it.
out=$(onkiln_ssh 'kl create -c /usr/share/kiln/guests/hello.cfg 2>&1; kl destroy hello && kl list')
check "${CHECKS[10]}" bash -c 'grep -q "hello from a Kiln test guest" <<<"$1" &&
    grep -q "shut down: poweroff" <<<"$1" && ! grep -q "hello " <<<"$(grep -A9 "^ID" <<<"$1")"' _ "$out"
# steady runs for about 2 s: console and destroy happen while it runs.
out=$(onkiln_ssh 'kl create /tmp/steady.cfg >/dev/null && sleep 0.5 && kl console steady &&
                  echo "--- list before" && kl list && kl destroy steady && echo "--- destroyed" && kl list')
check "${CHECKS[11]}" has "$out" '^ok 1 - round 1'
check "${CHECKS[12]}" bash -c 'grep -q "^--- destroyed" <<<"$1" && ! sed -n "/^--- destroyed/,\$p" <<<"$1" | grep -q steady &&
    sed -n "/^--- list before/,/^--- destroyed/p" <<<"$1" | grep -Eq "steady +running"' _ "$out"

cycles=$(onkiln_ssh 'sh /usr/share/kiln/tests/create-destroy.sh /tmp/steady.cfg 100')
rc=$?
echo "# $cycles"
check "${CHECKS[13]}" test "$rc" = 0

if [ -x "$badcalls" ] && onkiln_push "$badcalls" /tmp/badcalls; then
    bad=$(onkiln_ssh /tmp/badcalls)
    echo "$bad" | grep '^#'
    nfail=$(grep -c '^FAIL' <<<"$bad")
    npass=$(grep -c '^PASS' <<<"$bad")
    grep '^FAIL' <<<"$bad" | sed 's/^/# /'
    check "${CHECKS[14]}" test "$nfail" = 0 -a "$npass" -ge 30
else
    tap_fail "${CHECKS[14]}" "badcalls not built or not copied"
fi

onkiln_ssh 'kl create /tmp/peek.cfg; kl create /tmp/poke.cfg' >/dev/null
onkiln_wait_for 'd[0-9]+ destroyed: access to GPA 0x20000000 outside its RAM' 10
check "${CHECKS[15]}" has "$(log)" '\(kiln\) WARN: d[0-9]+ destroyed: access to GPA 0x1000000 outside its RAM'
check "${CHECKS[16]}" has "$(log)" '\(kiln\) WARN: d[0-9]+ destroyed: access to GPA 0x20000000 outside its RAM'
check "${CHECKS[17]}" has "$(log)" '\(d[0-9]+\) peek: 0 non-zero words in my RAM'

alive=$(onkiln_ssh 'kl list')
check "${CHECKS[18]}" bash -c '! grep -Eq "PANIC on CPU|dom0 has ended" "$1" && grep -q dom0 <<<"$2"' _ \
    "$ONKILN_LOG" "$alive"
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
check "${CHECKS[19]}" bash -c '! kill -0 "$1" 2>/dev/null' _ "$ONKILN_PID"
