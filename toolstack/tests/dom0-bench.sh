#!/usr/bin/env bash
# dom0 boot benchmark.  Prints seconds from QEMU power-on to dom0's
# "kiln-dom0: init reached" (and to "sshd up") for (a) the kernel+initramfs
# booted directly by QEMU and (b) the same as Multiboot modules of Kiln, over
# several runs, with min, median and the ratio (b)/(a).  (b) is attempted
# once first: when the hypervisor cannot start dom0 it is reported as not
# measured, with what the hypervisor said.  The kl figures (kl list latency,
# kl create to the guest's first instruction) are taken in dom0 on Kiln.
# Usage: dom0-bench.sh DOM0_DIR KILN_ELF [RUNS]
set -uo pipefail
DOM0=$1
KILN=$2
runs=${3:-5}
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

# Like elapsed_until under Kiln, but gives up 10 s after the hypervisor has
# started its boot domains without dom0 reaching init (no need to wait 60 s
# for a dom0 that is not coming).
kiln_until() {
    local deadline=$(( ${EPOCHREALTIME%.*} + 60 )) started=""
    while (( ${EPOCHREALTIME%.*} < deadline )); do
        if grep -q -- "$1" "$SERIAL_LOG"; then
            awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
            return 0
        fi
        if [[ -z "$started" ]] && grep -q 'boot domain(s) started' "$SERIAL_LOG"; then
            started=1
            deadline=$(( ${EPOCHREALTIME%.*} + 10 ))
        fi
        kill -0 "$QEMU_PID" 2>/dev/null || break
        sleep 0.01
    done
    return 1
}

stats() {   # stats VALUES...: "min X median Y" (seconds)
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "min %.3f s, median %.3f s", v[1], m }'
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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
    echo "(a) run $i: init reached after $a s, sshd up after $s s"
done

# (b): the same image as Multiboot modules of Kiln (kernel command line in
# the module string, as the farm will pass it).
kiln_times=() kiln_why="" kl_list=""
# In dom0: microseconds per `kl list` and, as the baseline, per `true` run
# as a process (what any command costs), 50 calls each.  busybox date has no
# %N, so time comes from /proc/uptime (centiseconds).
kl_list_loop='cs() { tr -d . < /proc/uptime | cut -d" " -f1; }
per() { s=$(cs); i=0; while [ $i -lt 50 ]; do "$@" >/dev/null; i=$((i + 1)); done; echo $(( ($(cs) - s) * 200 )); }
echo "$(per kl list) $(per /bin/true)"'

# kl create to the new guest's first instruction, in ms: dom0 reads the TSC
# just before exec'ing kl (tests/on-kiln/tsc-exec.c), the hypervisor's bench
# guest logs the TSC at its entry (Kiln does not offset guests' TSCs), and
# the hypervisor's log gives the TSC rate.
kl_create_ms() {   # kl_create_ms SERIAL_LOG
    local bench tsc t0 t1="" mhz
    bench=$(dirname "$KILN")/guests/bench.elf
    tsc=$(mktemp)
    [[ -f "$bench" ]] && cc -static -O2 -o "$tsc" "$(dirname "$0")/on-kiln/tsc-exec.c" &&
        dom0_ssh 'cat > /tmp/tsc-exec && chmod +x /tmp/tsc-exec' < "$tsc" &&
        dom0_ssh 'cat > /tmp/bench.elf' < "$bench" &&
        dom0_ssh 'printf "name = bench\nkernel = bench.elf\nmemory = 4\nvcpus = 1\n" > /tmp/bench.cfg' ||
        { rm -f "$tsc"; return 1; }
    rm -f "$tsc"
    t0=$(dom0_ssh '/tmp/tsc-exec kl create /tmp/bench.cfg' | sed -n 's/^tsc=//p')
    for _ in $(seq 100); do
        t1=$(grep -a -o 'bench: first_insn_tsc=[0-9]*' "$1" | tail -n 1 | cut -d= -f2)
        [[ -n "$t1" ]] && break
        sleep 0.05
    done
    mhz=$(grep -a -o 'TSC: [0-9.]* MHz' "$1" | head -n 1 | cut -d' ' -f2)
    dom0_ssh 'kl destroy bench' >/dev/null 2>&1
    [[ -n "$t0" && -n "$t1" && -n "$mhz" ]] &&
        awk -v a="$t0" -v b="$t1" -v m="$mhz" 'BEGIN { printf "%.2f", (b - a) / m / 1000 }'
}
kl_create=""

if [[ ! -f "$KILN" ]]; then
    kiln_why="$KILN is not built"
fi
for i in $(seq 1 "$runs"); do
    [[ -n "$kiln_why" ]] && break
    t0=$EPOCHREALTIME
    if ! kiln_dom0_start "$log" "$KILN"; then
        kiln_why="QEMU did not start"
        break
    fi
    if b=$(kiln_until 'kiln-dom0: init reached'); then
        kiln_times+=("$b")
        echo "(b) run $i: init reached after $b s"
        if (( i == 1 )) && elapsed_until 'kiln-dom0: sshd up' >/dev/null &&
           grep -q 'kiln-dom0: kiln.ko loaded' "$log"; then
            kl_list=$(dom0_ssh "$kl_list_loop" 2>&1)
            kl_create=$(kl_create_ms "$log")
        fi
    else
        said=$(grep -a 'not started\|panic:\|PANIC' "$log" | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //' |
               head -n 3 | paste -sd ';' -)
        kiln_why="Kiln did not start dom0 (the hypervisor cannot boot dom0 yet; it said: ${said:-nothing about it})"
    fi
    dom0_stop
done
rm -f "$log"

kver=$(cat "$DOM0/kver")
echo "dom0 boot, kernel $kver, initramfs $(( $(stat -c %s "$DOM0/initramfs.cpio.xz") / 1024 )) KiB xz, QEMU TCG -cpu max, $runs runs:"
echo "  (a) QEMU -kernel direct, power-on to init:       $(stats "${init_times[@]}")"
echo "      QEMU -kernel direct, power-on to sshd up:    $(stats "${sshd_times[@]}")"
med_a=$(median "${init_times[@]}")
med_s=$(median "${sshd_times[@]}")
echo "      ratio sshd-up / init (medians):              $(awk -v s="$med_s" -v a="$med_a" 'BEGIN { printf "%.2f", s / a }')"
if [[ -z "$kiln_why" ]]; then
    med_b=$(median "${kiln_times[@]}")
    echo "  (b) under Kiln, power-on to init:                $(stats "${kiln_times[@]}")"
    echo "      ratio (b)/(a) (medians, target <= 1.3):      $(awk -v b="$med_b" -v a="$med_a" 'BEGIN { printf "%.2f", b / a }')"
else
    echo "  (b) under Kiln, power-on to init:                not measured: $kiln_why"
    echo "      ratio (b)/(a) (target <= 1.3):               not measured: needs (b)"
fi
if [[ -n "$kl_create" ]]; then
    echo "  kl create to first guest instruction:            $kl_create ms (one run; the hypervisor's bench guest, 4 MiB)"
else
    echo "  kl create to first guest instruction:            not measured: needs dom0 on Kiln and hypervisor/build/guests/bench.elf"
fi
if [[ "$kl_list" =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
    echo "  kl list latency (in dom0 on Kiln):               $(awk -v u="${BASH_REMATCH[1]}" 'BEGIN { printf "%.2f ms", u / 1000 }')" \
         "(a process that does nothing: $(awk -v u="${BASH_REMATCH[2]}" 'BEGIN { printf "%.2f ms", u / 1000 }'))"
elif [[ -n "$kl_list" ]]; then
    echo "  kl list latency:                                 not measured: the measurement failed: $kl_list"
else
    echo "  kl list latency:                                 not measured: needs dom0 on Kiln with kiln.ko loaded"
fi
