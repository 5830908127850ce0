#!/usr/bin/env bash
# dom0 boot benchmark.  Prints seconds from QEMU power-on to dom0's
# "kiln-dom0: init reached" (and to "sshd up") for the kernel+initramfs
# booted directly by QEMU, over several runs, with min and median.  The
# figures that need dom0 running on Kiln are printed as not measured.
# Usage: dom0-bench.sh DOM0_DIR [RUNS]
set -uo pipefail
DOM0=$1
runs=${2:-5}
. "$(dirname "$0")/dom0-qemu.sh"
trap dom0_stop EXIT

# Seconds (3 decimals) from $t0 until the console shows PATTERN, or "-".
elapsed_until() {
    local deadline=$(( ${EPOCHREALTIME%.*} + 60 ))
    while (( ${EPOCHREALTIME%.*} < deadline )); do
        if grep -q -- "$1" "$SERIAL_LOG"; then
            awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
            return 0
        fi
        kill -0 "$QEMU_PID" 2>/dev/null || break
        sleep 0.01
    done
    echo "-"
    return 1
}

stats() {   # stats VALUES...: "min X median Y" (seconds)
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "min %.3f s, median %.3f s", v[1], m }'
}

init_times=() sshd_times=()
log=$(mktemp)
for i in $(seq 1 "$runs"); do
    t0=$EPOCHREALTIME
    if ! dom0_start "$log"; then
        echo "bench: QEMU did not start" >&2
        exit 1
    fi
    # dom0_start sleeps briefly to catch a taken port; t0 is before it.
    a=$(elapsed_until 'kiln-dom0: init reached') || { echo "bench: run $i: no init marker" >&2; exit 1; }
    s=$(elapsed_until 'kiln-dom0: sshd up') || { echo "bench: run $i: no sshd marker" >&2; exit 1; }
    dom0_stop
    init_times+=("$a")
    sshd_times+=("$s")
    echo "run $i: init reached after $a s, sshd up after $s s"
done
rm -f "$log"

kver=$(cat "$DOM0/kver")
echo "dom0 boot, kernel $kver, initramfs $(( $(stat -c %s "$DOM0/initramfs.cpio.xz") / 1024 )) KiB xz, QEMU TCG -cpu max, $runs runs:"
echo "  (a) QEMU -kernel direct, power-on to init:       $(stats "${init_times[@]}")"
echo "      QEMU -kernel direct, power-on to sshd up:    $(stats "${sshd_times[@]}")"
med_a=$(printf '%s\n' "${init_times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
med_s=$(printf '%s\n' "${sshd_times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "      ratio sshd-up / init (medians):              $(awk -v s="$med_s" -v a="$med_a" 'BEGIN { printf "%.2f", s / a }')"
echo "  (b) under Kiln, power-on to init:                not measured: the hypervisor cannot boot dom0 yet (Multiboot dom0 boot of issue 4 is not implemented)"
echo "      ratio (b)/(a) (target <= 1.3):               not measured: needs (b)"
echo "  kl create to first guest instruction:            not measured: needs dom0 on Kiln"
echo "  kl list latency:                                 not measured: needs dom0 on Kiln"
