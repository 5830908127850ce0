#!/usr/bin/env bash
# dom0-multiboot.sh - `kl create` in dom0 starts PC domains from Multiboot1
# kernels (KILN_DOMCTL_CREATE_F_PC + KILN_DOMCTL_PC_BOOT), as the farm's
# conformance suite does (tests/conformance/dom0-run.sh): kvm-unit-tests'
# tsc.flat and smptest.flat (2 vCPUs) with configs written as dom0-run.sh
# writes them (no type: found by the header; testdev = 1), run with `kl
# create -c`: their PASS lines come back on kl's stdout, kl exits 0 and the
# hypervisor logs `dN destroyed: exit code 0`.  Then the refusals: a file
# that is neither Multiboot nor ELF, a Multiboot kernel too large for its
# RAM (refused by the hypervisor's loader; the domain destroyed again),
# testdev for an ELF guest; hostile CREATE/PC_BOOT arguments and 300
# random Multiboot headers (toolstack/tests/on-kiln/pcboot.c); when dom0's
# image carries the conformance payload (toolstack's KUT_PAYLOAD), the
# suite's own dom0-run.sh on three entries; and dom0 and the hypervisor
# unharmed.
# kvm-unit-tests comes from build/kvm-unit-tests (`make conformance` builds
# it) or KUT_DIR; skipped when absent.  Builds the toolstack if missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
KUT=${KUT_DIR:-$KILN_DIR/build/kvm-unit-tests}/x86

NAMES=(
    "kl create -c tsc.flat (testdev, no type): its PASS lines on kl's stdout"
    "tsc: kl create -c exits 0 and the hypervisor logs exit code 0"
    "the Multiboot kernel was loaded by the boot-module loader, as a PC domain with testdev"
    "kl create -c smptest.flat with 2 vCPUs: both CPUs report, exit code 0"
    "a file neither Multiboot nor ELF is refused before any domain exists"
    "a Multiboot kernel too large for its RAM: refused by the hypervisor, domain destroyed"
    "testdev for an ELF guest is a config error"
    "hostile CREATE_F_PC / PC_BOOT arguments and 300 random Multiboot headers refused (pcboot.c)"
    "dom0-run.sh (conformance payload in dom0's image) passes tsc, smptest and setjmp"
    "only dom0 is left, the hypervisor never panicked"
    "dom0 powers the machine off"
)
skip_all() { for n in "${NAMES[@]}"; do tap_skip "$n" "$1"; done; exit 0; }
fail_all() { for n in "${NAMES[@]}"; do tap_fail "$n" "$1"; done; exit 0; }
check() {   # check N CONDITION-STATUS DIAG
    if [ "$2" = 0 ]; then tap_ok "${NAMES[$1]}"; else tap_fail "${NAMES[$1]}" "$3"; fi
}

trap onkiln_stop EXIT
[ -f "$KUT/tsc.flat" ] && [ -f "$KUT/smptest.flat" ] || skip_all "kvm-unit-tests not built ($KUT)"
if ! onkiln_ready; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
onkiln_ready || skip_all "toolstack not built"
prog=$KILN_TMP/pcboot
if ! cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ONKILN_TOOLSTACK/include" \
        -I"$KILN_DIR/include/public" -static -s -o "$prog" \
        "$ONKILN_TOOLSTACK/tests/on-kiln/pcboot.c" "$ONKILN_TOOLSTACK/build/lib/libkiln.a" \
        2>"$KILN_TMP/cc.log"; then
    fail_all "cannot build pcboot.c: $(head -3 "$KILN_TMP/cc.log")"
fi

log() { tr -d '\r' < "$ONKILN_LOG"; }
onkiln_start "$KILN_TMP/serial.log" 300 || fail_all "QEMU did not start"
if ! onkiln_wait_for 'kiln-dom0: sshd up' 90; then
    echo "# last console lines:"; log | tail -15 | sed 's/^/#   /'
    fail_all "dom0's sshd never came up"
fi
# The configs dom0-run.sh writes, kernel by absolute path.
kutcfg() {   # kutcfg NAME VCPUS
    printf 'name = %s\nkernel = /tmp/%s.flat\nmemory = 64\nvcpus = %s\ncmdline = ""\ntestdev = 1\n' \
        "$1" "$1" "$2"
}
onkiln_push "$KUT/tsc.flat" /tmp/tsc.flat && onkiln_push "$KUT/smptest.flat" /tmp/smptest.flat &&
    kutcfg tsc 1 | onkiln_ssh -s 'cat > /tmp/tsc.cfg' &&
    kutcfg smptest 2 | onkiln_ssh -s 'cat > /tmp/smptest.cfg' &&
    printf 'name = big\nkernel = /tmp/tsc.flat\nmemory = 1\n' | onkiln_ssh -s 'cat > /tmp/big.cfg' &&
    printf 'name = junk\nkernel = /tmp/junk\nmemory = 4\n' | onkiln_ssh -s 'cat > /tmp/junk.cfg' &&
    printf 'name = e\ntype = elf\nkernel = /tmp/tsc.flat\nmemory = 4\ntestdev = 1\n' |
        onkiln_ssh -s 'cat > /tmp/elf.cfg' || fail_all "cannot copy the tests into dom0"

# tsc: the console on stdout, "created domain N" on stderr, the status.
out=$(onkiln_ssh 'kl create -c /tmp/tsc.cfg 2>/tmp/tsc.err; echo "status=$?"; cat /tmp/tsc.err')
echo "$out" | sed 's/^/#   /' | head -30
passes=$(grep -c '^PASS: ' <<<"$out")
check 0 "$([ "$passes" -ge 1 ] && grep -q '^SUMMARY: ' <<<"$out"; echo $?)" "$passes PASS lines"
dom=$(sed -n 's/^created domain \([0-9]*\) .*/\1/p' <<<"$out" | head -n 1)
check 1 "$([ -n "$dom" ] && grep -q '^status=0$' <<<"$out" &&
           log | grep -Eq "\(kiln\) d$dom destroyed: exit code 0$"; echo $?)" \
    "domain '$dom', $(grep '^status=' <<<"$out"), $(log | grep -E -m1 "d$dom destroyed")"
check 2 "$(log | grep -Eq "\(kiln\) d$dom created: name=tsc mem=65536K vcpus=1 pc testdev$" &&
           log | grep -Eq '\(kiln\) tsc: Multiboot1 (a.out|ELF) kernel at'; echo $?)" \
    "$(log | grep -E -m1 "d$dom created")"
onkiln_ssh "kl destroy $dom" >/dev/null 2>&1

out=$(onkiln_ssh 'kl create -c /tmp/smptest.cfg 2>/tmp/smp.err; echo "status=$?"; cat /tmp/smp.err')
echo "$out" | sed 's/^/#   /' | head -12
dom=$(sed -n 's/^created domain \([0-9]*\) .*/\1/p' <<<"$out" | head -n 1)
check 3 "$(grep -q '^found 2 cpus' <<<"$out" && grep -q '^PASS: IPI to each CPU' <<<"$out" &&
           grep -q '^status=0$' <<<"$out" &&
           log | grep -Eq "\(kiln\) d$dom destroyed: exit code 0$"; echo $?)" \
    "$(grep -E -m1 '^(FAIL|status)' <<<"$out")"
onkiln_ssh "kl destroy $dom" >/dev/null 2>&1

out=$(onkiln_ssh 'head -c 5000 /dev/zero > /tmp/junk; kl create /tmp/junk.cfg 2>&1; echo "status=$?"; kl list')
check 4 "$(grep -q 'kl: create: /tmp/junk: not an ELF file' <<<"$out" && grep -q '^status=1$' <<<"$out" &&
           ! grep -q junk <<<"$(grep -v 'kl: create' <<<"$out")"; echo $?)" "$(head -n 1 <<<"$out")"
out=$(onkiln_ssh 'kl create /tmp/big.cfg 2>&1; echo "status=$?"; kl list')
check 5 "$(grep -q 'loading the kernel (the hypervisor.s log says why): Invalid argument' <<<"$out" &&
           grep -q '^status=1$' <<<"$out" && ! grep -q '^[0-9]* *big ' <<<"$out" &&
           log | grep -q 'big: not a Multiboot1 kernel Kiln can load in 1024 KiB'; echo $?)" \
    "$(head -n 1 <<<"$out")"
out=$(onkiln_ssh 'kl create /tmp/elf.cfg 2>&1; echo "status=$?"')
check 6 "$(grep -q 'testdev: only a type = "multiboot" guest has test devices' <<<"$out" &&
           grep -q '^status=1$' <<<"$out"; echo $?)" "$(head -n 1 <<<"$out")"

if onkiln_push "$prog" /tmp/pcboot; then
    out=$(onkiln_ssh '/tmp/pcboot /tmp/tsc.flat 2>&1')
    echo "$out" | grep -v '^PASS' | sed 's/^/#   /'
    check 7 "$([ "$(grep -c '^PASS' <<<"$out")" -ge 16 ] && ! grep -q '^FAIL' <<<"$out"; echo $?)" \
        "$(grep -c '^PASS' <<<"$out") PASS lines"
else
    tap_fail "${NAMES[7]}" "cannot copy pcboot into dom0"
fi

run=/usr/share/kiln/kvm-unit-tests/dom0-run.sh
if onkiln_ssh "test -f $run"; then
    out=$(onkiln_ssh "sh $run tsc smptest setjmp")
    echo "$out" | sed 's/^/#   /'
    check 8 "$(grep -q '^1\.\.3$' <<<"$out" && [ "$(grep -c '^ok [1-3] - ' <<<"$out")" = 3 ] &&
               grep -q '^# conformance: tests 3/3, subtests \([0-9]*\)/\1 pass' <<<"$out"; echo $?)" \
        "$(grep -m1 '^not ok' <<<"$out")"
else
    tap_skip "${NAMES[8]}" "dom0's image has no conformance payload"
fi

out=$(onkiln_ssh 'kl list')
check 9 "$([ "$(grep -c '^[0-9]' <<<"$out")" = 1 ] && grep -q dom0 <<<"$out" &&
           ! log | grep -Eq 'PANIC on CPU|dom0 has ended'; echo $?)" \
    "$(echo "$out" | tr '\n' '|') $(log | grep -E -m1 'PANIC on CPU|dom0 has ended')"
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
check 10 "$(kill -0 "$ONKILN_PID" 2>/dev/null; [ $? != 0 ]; echo $?)" "QEMU still running"
