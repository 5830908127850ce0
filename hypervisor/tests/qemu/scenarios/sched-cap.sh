#!/usr/bin/env bash
# sched-cap.sh - a CPU-bound guest capped at 25% gets 25% +/- 5% of its
# CPU; then, in another boot, an uncapped CPU-bound guest alone on its CPU
# gets more than 95%.  A privileged observer on CPU 0 measures the capped
# guest over one 20 s window (the lone one over 4 s) after a 1 s warm-up.
# On a loaded host a timer interrupt can come 100-500 ms late, and the
# capped guest repays the overrun by staying parked as long; a window edge
# that splits the two is off by up to 2.5 points per edge in 20 s, so one
# long window beats several short ones (see sched-weights.sh).  -smp 2
# rather than one boot with -smp 3: fewer QEMU vCPU threads on this 2-core
# machine, less noise in the shares.
. "$(dirname "$0")/../lib.sh"

CAP_BOOTS=1

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

for boot in $(seq 1 $CAP_BOOTS); do
    kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
        "build/guests/schedobs.elf name=observer cpus=0 priv" \
        "build/guests/spin.elf name=cap25 cap=25 cpus=1"
    guest_tap all "sched (cap, boot $boot)"
    expect_exit 1 "hypervisor exits cleanly after cap test $boot"
done

kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=alone cpus=1"
guest_tap all "sched (alone)"
expect_exit 1 "hypervisor exits cleanly after the alone test"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
