#!/usr/bin/env bash
# banner.sh: time from submitting a flight to the first host's hypervisor
# banner on its serial console, through the real daemon: build (or reuse),
# reservation, QEMU start, iPXE DHCP + HTTP, Multiboot.  Two flights of the
# same revision: the first builds (cold), the second reuses the artifacts
# (the developer's fast path).  Baseline, measured in the same run: QEMU
# booting the same kiln.elf with -kernel (no firmware network boot, no farm).
. "$(dirname "$0")/../tests/e2e/lib.bash"
. "$(dirname "$0")/timing.bash"

# first_banner FLIGHT START: seconds from START until a console of the
# flight shows the banner.
first_banner() {
    for _ in $(seq 1500); do
        if grep -qs "(kiln) Kiln hypervisor starting" "$E2E_TMP"/logs/"$1"/*/*/console-*.log; then
            echo "$(now) - $2" | bc
            return 0
        fi
        sleep 0.05
    done
    echo "timeout"
    return 1
}

setup_farm
start_daemon || { echo "banner bench: daemon did not start" >&2; exit 1; }

t0=$(now); F1=$(submit smoke)
cold=$(first_banner "$F1" "$t0") || { echo "banner bench: no banner (cold)" >&2; exit 1; }
[ "$(wait_flight "$F1" 120)" = pass ] || echo "# warning: flight $F1 did not pass" >&2
t0=$(now); F2=$(submit smoke)
warm=$(first_banner "$F2" "$t0") || { echo "banner bench: no banner (warm)" >&2; exit 1; }
wait_flight "$F2" 120 >/dev/null

# Baseline: the artifact the flights booted, straight into QEMU.
sha=$(flight "$F2" | jq -r .artifacts.hypervisor)
log=$E2E_TMP/baseline.log
t0=$(now)
timeout -k 2 30 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nographic -monitor none \
    -no-reboot -serial "file:$log" -device isa-debug-exit,iobase=0x501 \
    -kernel "$E2E_TMP/artifacts/$sha" -append "loglvl=info exit_when_idle" </dev/null >/dev/null 2>&1 &
qpid=$!
base=$(seconds_until_log "$log" "(kiln) Kiln hypervisor starting" "$t0" 30)
wait "$qpid" 2>/dev/null

printf 'submission to first banner, cold (build + iPXE boot):  %6.2f s\n' "$cold"
printf 'submission to first banner, reused artifacts:          %6.2f s\n' "$warm"
printf 'baseline: qemu -kernel power-on to banner:             %6.2f s\n' "$base"
printf 'ratio reused / baseline: %.1fx   cold / reused: %.1fx\n' \
    "$(echo "$warm / $base" | bc -l)" "$(echo "$cold / $warm" | bc -l)"
