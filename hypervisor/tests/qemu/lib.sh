# lib.sh - helpers for QEMU scenarios: boot Kiln, then assert on its serial
# log, printing TAP results.  Sourced by tests/qemu/scenarios/*.sh, which
# run-scenarios.sh executes one by one (each prints its own results; the
# runner renumbers them and prints the single plan).
#
#   kiln_boot [-smp N] [-mem SIZE] [-timeout S] CMDLINE [MODULE-SPEC...]
#       boots build/kiln.elf (modules are "file args" strings, file paths
#       relative to hypervisor/), log in $KILN_LOG, QEMU status in $KILN_RC
#       (isa-debug-exit: 1 = clean exit 0, 3 = panic; 124 = timeout);
#       a run in which QEMU itself crashed is said and booted once more;
#       QEMU's -d log (KILN_QEMU_DEBUG, default cpu_reset) is $KILN_TMP/qemu-debug.log
#   expect_log REGEX NAME      ok if an extended regex matches a log line
#   expect_no_log REGEX NAME   ok if no log line matches
#   expect_count REGEX N NAME  ok if exactly N log lines match
#   expect_exit CODE NAME      ok if QEMU's status was CODE
#   guest_tap DOMID|all PREFIX re-emits guest TAP "(dN) ok ..." as results
#   tap_ok NAME / tap_fail NAME [DIAG] / tap_skip NAME REASON
#   fnv1a FILE                 the hash Kiln logs per module at loglvl=debug
#   emulator_fault_line LOG    Kiln's report of QEMU's walk failure in LOG, if any
set -u

KILN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KILN_ELF=${KILN_ELF:-$KILN_DIR/build/kiln.elf}
KILN_TMP=${KILN_TMP:-$(mktemp -d /tmp/kiln-test.XXXXXX)}
KILN_LOG=$KILN_TMP/serial.log
KILN_RC=0

tap_ok()   { echo "ok - $1"; }
tap_fail() { echo "not ok - $1"; [ $# -gt 1 ] && echo "# $2"; return 0; }
tap_skip() { echo "ok - $1 # SKIP $2"; }

# tap_keys OUTPUT: the verdicts of a program that prints "PASS KEY" or
# "FAIL KEY: why" per check: one TAP line per caller's KEYS[i] (NAMES[i]
# its description), a missing key a failure; other lines as comments.
tap_keys() {
    local i
    grep -v '^PASS' <<<"$1" | sed 's/^/# /'
    for i in "${!KEYS[@]}"; do
        if grep -q "^PASS ${KEYS[$i]}\$" <<<"$1"; then
            tap_ok "${NAMES[$i]}"
        else
            tap_fail "${NAMES[$i]}" "$(grep -m1 "^FAIL ${KEYS[$i]}:" <<<"$1" || echo "no result")"
        fi
    done
}

fnv1a() {
    python3 -c 'import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%08x" % h)' "$1"
}

# The log without carriage returns and firmware escape sequences.
kiln_log() { tr -d '\r' < "$KILN_LOG" 2>/dev/null; }

kiln_boot() {
    local smp=1 mem=1G tmo=60 extra=()
    while [ $# -gt 0 ]; do
        case $1 in
        -smp) smp=$2; shift 2 ;;
        -mem) mem=$2; shift 2 ;;
        -timeout) tmo=$2; shift 2 ;;
        -qemu) extra+=("$2"); shift 2 ;;
        *) break ;;
        esac
    done
    local cmdline=$1; shift
    local initrd=() mods=""
    for m in "$@"; do
        mods=${mods:+$mods,}$m
    done
    [ -n "$mods" ] && initrd=(-initrd "$mods")
    # QEMU 7.2 itself fails now and then, in two ways seen here: it dies
    # of SIGSEGV in memory_region_dispatch_write (a garbage MemoryRegion)
    # when a guest changes the memory map (dom0 sizing PCI BARs) while
    # another vCPU does MMIO, a TCG race fixed in QEMU 8.1 ("tcg_commit"
    # moved onto the vCPU's thread); and its TCG fails the hypervisor's own
    # page walk after a #VMEXIT, so a CPU triple-faults on addresses its
    # page tables map (qmp_monitor.py checks them in memory), or the walk
    # takes a nested page fault and the host's state lands in the guest's
    # VMCB (Kiln logs "came back holding the host's state"), or a guest's
    # own walk fails the same way (Kiln logs a triple fault whose #PF was
    # for an address "which its page tables map").  Either is
    # the emulator failing, not Kiln: such a run is said and booted once
    # more; a second failure counts.
    local try
    for try in 1 2; do
        kiln_boot_once "$smp" "$mem" "$tmo" "$cmdline" "${initrd[@]}" -- "${extra[@]}"
        if [ -s "$KILN_TMP/emulator-fault" ]; then
            echo "# QEMU's TCG failed, not Kiln (run $try): $(cat "$KILN_TMP/emulator-fault")"
        elif [ -n "$(emulator_fault_line "$KILN_LOG")" ]; then
            # The same walk failure seen from the other side, in Kiln's log.
            echo "# QEMU's TCG failed, not Kiln (run $try): $(emulator_fault_line "$KILN_LOG")"
        else
            case $KILN_RC in
            134|135|139) ;;
            *) return 0 ;;
            esac
            echo "# QEMU itself died of signal $((KILN_RC - 128)) (run $try)"
        fi
        echo "# its log kept as ${KILN_LOG}.qemu-crash$try"
        cp "$KILN_LOG" "$KILN_LOG.qemu-crash$try" 2>/dev/null
    done
    return 0
}

# The first line of serial log FILE in which Kiln reports the emulator's
# walk failure (svm.c, svm_exit.c): the host's state in a guest's VMCB, or
# a guest's #PF for an address its own page tables map.  Empty if none.
emulator_fault_line() {
    tr -d '\r' < "$1" 2>/dev/null |
        grep -E -m1 "came back holding the host's state|which its page tables map"
}

# One QEMU run: SMP MEM TIMEOUT CMDLINE [-initrd MODULES] -- [QEMU ARGS].
kiln_boot_once() {
    local smp=$1 mem=$2 tmo=$3 cmdline=$4 initrd=() extra
    shift 4
    while [ "$1" != -- ]; do initrd+=("$1"); shift; done
    shift
    extra=("$@")
    rm -f "$KILN_LOG" "$KILN_TMP/qmp.sock" "$KILN_TMP/emulator-fault"
    # The monitor quits QEMU at a power-off or reset (-action shutdown=pause
    # lets it look first: was a triple fault the emulator's?) and, in a run
    # that reaches its timeout, has every CPU log where it is 3 s before
    # QEMU is killed (an NMI; traps.c).
    python3 "$KILN_DIR/tests/qemu/qmp_monitor.py" "$KILN_TMP/qmp.sock" \
        "$((tmo > 6 ? tmo - 3 : tmo / 2))" "$KILN_TMP/emulator-fault" >"$KILN_TMP/nmi.out" 2>&1 &
    local nmi=$!
    (cd "$KILN_DIR" && timeout --foreground -k 5 "$tmo" qemu-system-x86_64 -accel tcg -cpu max \
        -m "$mem" -smp "$smp" -nographic -no-reboot -action shutdown=pause -monitor none \
        -qmp "unix:$KILN_TMP/qmp.sock,server=on,wait=off" \
        -serial "file:$KILN_LOG" -device isa-debug-exit,iobase=0x501 \
        -d "${KILN_QEMU_DEBUG:-cpu_reset}" -D "$KILN_TMP/qemu-debug.log" \
        -kernel "$KILN_ELF" -append "$cmdline" "${initrd[@]}" "${extra[@]}" \
        </dev/null >"$KILN_TMP/qemu.out" 2>&1)
    KILN_RC=$?
    kill "$nmi" 2>/dev/null
    wait "$nmi" 2>/dev/null
    if [ "$KILN_RC" = 124 ] || [ "$KILN_RC" = 137 ]; then
        echo "# QEMU timed out after ${tmo}s; where the CPUs were (the NMI 3 s before), and the monitor:"
        kiln_log | grep -E 'NMI on CPU|ERROR: +(at|#[0-9])|PANIC|BUG' | tail -n 24 | sed 's/^/#   /'
        sed 's/^/#   monitor: /' "$KILN_TMP/nmi.out" 2>/dev/null
    elif [ "$KILN_RC" = 0 ]; then
        # Not Kiln's exit (isa-debug-exit gives odd codes): dom0 powered
        # off, or the machine reset itself.  QEMU's cpu_reset log says "Triple fault" when a CPU
        # went down too broken to log; KILN_QEMU_DEBUG=int,cpu_reset (QEMU
        # -d) also logs every exception before it, with the registers.
        echo "# QEMU stopped without Kiln's exit code (power-off or reset): $(grep -c 'Triple fault' "$KILN_TMP/qemu-debug.log" 2>/dev/null) triple fault(s) in its log"
        sed -n 's/^reset: /#   /p' "$KILN_TMP/nmi.out" 2>/dev/null
    fi
}

expect_log() {
    if kiln_log | grep -Eq -- "$1"; then tap_ok "$2"; else tap_fail "$2" "no log line matches /$1/"; fi
}

expect_no_log() {
    local hit
    hit=$(kiln_log | grep -E -m1 -- "$1")
    if [ -z "$hit" ]; then tap_ok "$2"; else tap_fail "$2" "unexpected: $hit"; fi
}

expect_count() {
    local n
    n=$(kiln_log | grep -Ec -- "$1")
    if [ "$n" = "$2" ]; then tap_ok "$3"; else tap_fail "$3" "/$1/ matched $n lines, wanted $2"; fi
}

expect_exit() {
    if [ "$KILN_RC" = "$1" ]; then tap_ok "$2"; else tap_fail "$2" "QEMU status $KILN_RC, wanted $1"; fi
}

# Guest TAP lines look like "[ts] (d3) ok 2 - name".  Each becomes a
# top-level result "ok - PREFIX d3: name"; a guest plan with results
# missing (or no TAP at all) is reported as a failure.
guest_tap() {
    local want=$1 prefix=$2
    kiln_log | awk -v want="$want" -v prefix="$prefix" '
        match($0, /\] \(d[0-9]+\) /) {
            dom = substr($0, RSTART + 4, RLENGTH - 6)
            if (want != "all" && dom != want) next
            line = substr($0, RSTART + RLENGTH)
            if (line ~ /^1\.\.[0-9]+/) { split(line, a, /\.\./); plan[dom] = a[2] + 0; next }
            if (line ~ /^(not )?ok /) {
                seen[dom]++
                status = (line ~ /^not ok/) ? "not ok" : "ok"
                sub(/^(not )?ok( [0-9]+)?( -)? ?/, "", line)   # mawk-safe
                print status " - " prefix " d" dom ": " line
            }
        }
        END {
            n = 0
            for (d in plan) {
                n++
                if (seen[d] < plan[d])
                    print "not ok - " prefix " d" d ": " plan[d] - seen[d] " planned result(s) missing"
            }
            for (d in seen) if (!(d in plan)) n++
            if (n == 0) print "not ok - " prefix ": no guest TAP output"
        }'
}
