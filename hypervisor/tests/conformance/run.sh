#!/usr/bin/env bash
# run.sh - the external conformance suite: kvm-unit-tests, run once under
# plain QEMU (the reference) and once as a Kiln domU, in one invocation
# (`make -C hypervisor conformance`).
#
# Source: ../shared/peers/kvm-unit-tests/kvm-unit-tests.tar.xz beside the
# repository (KILN_SHARED overrides ../shared).  When it is absent the run
# says so and prints TAP "# SKIP" results: skipped, never passed.
#
# 1. Build: the snapshot is unpacked into build/kvm-unit-tests and built
#    there (`./configure --arch=x86_64 && make -j2`, about 20 s), again only
#    when the tarball's sha256 differs from the one the build was made from.
# 2. Entries: conformance.py parses x86/unittests.cfg (file, smp,
#    qemu_params/extra_params with -cpu and -m, test_args = -append, arch,
#    groups, timeout, accel, check).  Entries matching excluded.txt (what
#    Kiln deliberately does not offer domUs, each with its reason) are not
#    run; an entry that cannot run here and is not listed there stops the run.
# 3. Reference: each entry as kvm-unit-tests' x86/run starts it, under TCG:
#      qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp N -nodefaults
#        -no-reboot -display none -global kvm-pit.lost_tick_policy=discard
#        -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
#        -device pci-testdev -serial stdio -kernel x86/FILE [-append ARGS]
#        QEMU_PARAMS
#    (a -cpu or -m in the entry's parameters overrides the defaults), killed
#    after the entry's timeout (90 s unless given).  Results are cached per
#    (QEMU version, snapshot sha256, entry) in reference-qemu-MAJOR.MINOR.tsv
#    here, committed: only missing entries run, or all of them with
#    CONFORMANCE_REFERENCE=refresh.  A cold cache costs about 5 minutes at
#    -j2 (four entries run to their 90 s timeout, sieve takes 90-110 s).
# 4. Kiln: each entry as the only boot module of Kiln under QEMU TCG
#    (tests/qemu/lib.sh kiln_boot: -cpu max, -smp N+1, -m 1G or the domU's
#    memory plus 768 MiB, Kiln's isa-debug-exit at 0x501):
#      kiln.elf "console=com1 exit_when_idle"
#        module "x86/FILE name=NAME mem=MEMM vcpus=N testdev [-- ARGS]"
#    The test passes when Kiln logs `(kiln) dN destroyed: exit code 0`; any
#    other reason, or Kiln never starting the domain, fails at once (Kiln
#    exits when no domain is left).  The timeout is the entry's, capped at
#    60 s for entries that fail on the reference, and all the Kiln runs
#    together get 600 s (CONFORMANCE_KILN_BUDGET): an entry that cannot
#    start in time fails, "not run", so the whole command stays inside 15
#    minutes with a warm cache even when Kiln hangs in every test.  The
#    entries that pass on the reference run first.  The entry's -cpu model and
#    other QEMU devices/machine options apply to the reference only: a domU
#    sees Kiln's CPUID policy and Kiln's PC platform.
# 5. Report (conformance.py report): a table (test, subtests passed/failed
#    and seconds on the reference and on Kiln, and why a run failed), the
#    tests that pass on Kiln but fail on the reference, TAP (one result per
#    non-excluded test that passes on the reference, and one for the
#    reference-passing subtests of each test that fails there as a whole),
#    and last:
#      conformance: tests K/N, subtests k/n pass on Kiln of those that pass
#      on plain QEMU (X tests excluded)
#    Subtests are the PASS:/FAIL: lines, matched by text with hexadecimal
#    numbers masked (xsave prints random values).  Exit status 0 only
#    when K == N and k == n.
#
# `run.sh payload DIR` (make conformance-payload) stops after step 3 and
# lays out in DIR what the farm's suite (testsuites/conformance.suite) runs
# in dom0: the x86/*.flat tests, the entries with their reference results
# and dom0-run.sh, which starts each with `kl create -c`.
#
# Environment: KILN_SHARED (default ../shared), KILN_ELF (the image to test,
# default build/kiln.elf, as in tests/qemu/lib.sh), CONFORMANCE_JOBS (parallel
# QEMU runs, default 2), CONFORMANCE_REFERENCE=refresh,
# CONFORMANCE_KILN_BUDGET (seconds, default 600), CONFORMANCE_ONLY
# (space-separated entry names: run just those; the summary then covers
# them alone).  Logs stay in build/conformance/{reference,kiln}/NAME/.
set -uo pipefail

payload=""
if [ "${1:-}" = payload ] && [ $# -eq 2 ]; then
    payload=$2
elif [ $# -ne 0 ]; then
    echo "usage: run.sh [payload DIR]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hv=$(cd "$here/../.." && pwd)
top=$(cd "$hv/.." && pwd)
shared=${KILN_SHARED:-$top/../shared}
tarball=$shared/peers/kvm-unit-tests/kvm-unit-tests.tar.xz
kut=$hv/build/kvm-unit-tests
work=$hv/build/conformance
jobs=${CONFORMANCE_JOBS:-2}
py=$here/conformance.py
kiln_cap=60
budget=${CONFORMANCE_KILN_BUDGET:-600}

qemu_ver=$(qemu-system-x86_64 --version 2>/dev/null |
           sed -n '1s/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p')
if [ -z "$qemu_ver" ]; then
    echo "1..1"
    echo "not ok - conformance: qemu-system-x86_64 is missing"
    exit 1
fi
minor=${qemu_ver#*.*.}
cache=$here/reference-qemu-${qemu_ver%."$minor"}.tsv
[ "$minor" = "$qemu_ver" ] && cache=$here/reference-qemu-$qemu_ver.tsv

if [ ! -f "$tarball" ]; then
    why="../shared is absent ($tarball not found)"
    if [ -n "$payload" ]; then
        echo "conformance: no payload: $why" >&2
        exit 1
    fi
    echo "# conformance: $why: the run is skipped"
    python3 "$py" skipped "$cache" "$why"
    echo "conformance: skipped, $why"
    exit 0
fi
sha=$(sha256sum "$tarball" | cut -d' ' -f1)

# --- 1. build kvm-unit-tests (once per snapshot)
if [ "$(cat "$kut/.snapshot-sha256" 2>/dev/null)" != "$sha" ]; then
    echo "# conformance: building kvm-unit-tests ${sha:0:12} in $kut"
    rm -rf "$kut"
    mkdir -p "$kut"
    if ! (tar -xJf "$tarball" -C "$kut" &&
          cd "$kut" && ./configure --arch=x86_64 && make -j2) >"$kut.log" 2>&1; then
        tail -n 20 "$kut.log" | sed 's/^/#   /'
        echo "1..1"
        echo "not ok - conformance: building kvm-unit-tests failed (log: $kut.log)"
        exit 1
    fi
    echo "$sha" > "$kut/.snapshot-sha256"
fi

# --- 2. the entries
rm -rf "$work"
mkdir -p "$work/reference" "$work/kiln"
if ! python3 "$py" entries "$kut/x86/unittests.cfg" "$here/excluded.txt" >"$work/entries.all" \
        2>"$work/entries.err"; then
    sed 's/^/# /' "$work/entries.err"
    echo "1..1"
    echo "not ok - conformance: cannot read x86/unittests.cfg"
    exit 1
fi
sed 's/^/# /' "$work/entries.err"
if [ -n "${CONFORMANCE_ONLY:-}" ]; then
    awk -F"$(printf '\037')" -v only=" $CONFORMANCE_ONLY " 'index(only, " " $1 " ")' \
        "$work/entries.all" >"$work/entries"
else
    cp "$work/entries.all" "$work/entries"
fi

# At most $jobs QEMU runs at once.
pool_wait() {
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# The cached reference result of entry $1 (empty if none).
cached_result() {
    awk -F'\t' -v q="$qemu_ver" -v s="$sha" -v n="$1" \
        '$1 == "entry" && $2 == q && $3 == s && $4 == n { print $5 }' "$cache" 2>/dev/null
}

# --- 3. the reference: NAME FILE SMP TIMEOUT ARGS QEMU_PARAMS (shell-quoted)
run_reference() {
    local name=$1 file=$2 smp=$3 tmo=$4 args=$5 qparams=$6 dir=$work/reference/$1 start rc
    local -a qp cmd
    eval "qp=($qparams)"
    mkdir -p "$dir"
    # shellcheck disable=SC2054 # the commas are QEMU's, inside one option
    cmd=(qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp "$smp" -nodefaults -no-reboot
         -display none -global kvm-pit.lost_tick_policy=discard
         -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 -device pci-testdev
         -serial stdio -kernel "x86/$file")
    [ -n "$args" ] && cmd+=(-append "$args")
    cmd+=("${qp[@]}")
    start=$(date +%s.%N)
    (cd "$kut" && timeout -k 5 "$tmo" "${cmd[@]}" </dev/null >"$dir/serial.log" 2>"$dir/stderr")
    rc=$?
    flock "$work/cache.lock" python3 "$py" record "$cache" "$qemu_ver" "$sha" "$name" \
        "$dir/serial.log" "$dir/stderr" "$rc" "$(elapsed "$start")" "${cmd[*]}"
    echo "# reference $name: $(cached_result "$name") ($(elapsed "$start") s)"
}

# --- 4. Kiln: NAME FILE SMP MEM TIMEOUT ARGS
run_kiln() {
    local name=$1 file=$2 smp=$3 mem=$4 tmo=$5 args=$6 dir=$work/kiln/$1 start module
    mkdir -p "$dir"
    module="$kut/x86/$file name=$name mem=${mem}M vcpus=$smp testdev"
    [ -n "$args" ] && module+=" -- $args"
    start=$(date +%s.%N)
    (
        export KILN_TMP=$dir
        # shellcheck source=../qemu/lib.sh
        source "$hv/tests/qemu/lib.sh"
        # QEMU splits -initrd at commas; ",," is a literal one.
        kiln_boot -smp $((smp + 1)) -mem "$(( mem + 768 > 1024 ? mem + 768 : 1024 ))M" \
            -timeout "$tmo" "console=com1 exit_when_idle" "${module//,/,,}" >"$dir/harness.out"
        echo "$KILN_RC" >"$dir/rc"
        # What the harness said about QEMU itself failing, if anything.
        grep -m1 -E "^# QEMU (itself died|stopped|'s TCG failed)" "$dir/harness.out" \
            | sed 's/^# //' >"$dir/note"
    )
    elapsed "$start" >"$dir/seconds"
    echo "# Kiln $name: done ($(cat "$dir/seconds") s)"
}

if [ "${CONFORMANCE_REFERENCE:-}" = refresh ]; then
    echo "# conformance: CONFORMANCE_REFERENCE=refresh: every reference run again"
fi
todo=0
while IFS=$'\x1f' read -r name action file smp mem tmo args qparams _; do
    [ "$action" = run ] || continue
    if [ "${CONFORMANCE_REFERENCE:-}" = refresh ] || [ -z "$(cached_result "$name")" ]; then
        todo=$((todo + 1))
        pool_wait
        run_reference "$name" "$file" "$smp" "$tmo" "$args" "$qparams" </dev/null &
    fi
done <"$work/entries"
wait
echo "# conformance: QEMU $qemu_ver, kvm-unit-tests ${sha:0:12}: $todo reference run(s), the rest from $(basename "$cache")"

if [ -n "$payload" ]; then
    rm -rf "$payload"
    mkdir -p "$payload/x86"
    # Only the tests that run: the image carries no excluded entry.
    while IFS=$'\x1f' read -r name action file _; do
        [ "$action" = run ] && { cp "$kut/x86/$file" "$payload/x86/" || exit 1; }
    done <"$work/entries"
    cp "$here/dom0-run.sh" "$payload/" &&
        python3 "$py" dom0-data "$cache" "$qemu_ver" "$sha" "$work/entries" "$payload" || exit 1
    echo "# conformance: the farm's payload is in $payload (run it in dom0 with sh $payload/dom0-run.sh)"
    exit 0
fi

# The tests that pass on the reference first: they are what K/N counts.
# No run starts after the budget is spent, and none outlives it: a Kiln that
# hangs in every test still ends in time, each such test failing with the
# reason.
deadline=$(( $(date +%s) + budget ))
for first in yes no; do
    while IFS=$'\x1f' read -r name action file smp mem tmo args _; do
        [ "$action" = run ] || continue
        if [ "$(cached_result "$name")" = pass ]; then
            [ $first = yes ] || continue
        else
            [ $first = no ] || continue
            tmo=$(( tmo < kiln_cap ? tmo : kiln_cap ))
        fi
        pool_wait
        left=$(( deadline - $(date +%s) ))
        if [ "$left" -lt 10 ]; then
            mkdir -p "$work/kiln/$name"
            echo "not run: the Kiln runs' budget of ${budget} s was spent" >"$work/kiln/$name/note"
            continue
        fi
        run_kiln "$name" "$file" "$smp" "$mem" "$(( tmo < left ? tmo : left ))" "$args" </dev/null &
    done <"$work/entries"
done
wait

# --- 5. the report
python3 "$py" report "$cache" "$qemu_ver" "$sha" "$work/entries" "$work/kiln"
