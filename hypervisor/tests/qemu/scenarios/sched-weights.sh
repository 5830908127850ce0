#!/usr/bin/env bash
# sched-weights.sh - three CPU-bound guests pinned to CPU 1 with weights
# 256/512/1024 get CPU time within 10% of 1:2:4.  A privileged observer on
# CPU 0 measures each guest's CPU time (DOMCTL_GETINFO) over one 20 s
# window after a 1 s warm-up.
#
# Why one long window: on a loaded host QEMU delivers a CPU's timer
# interrupt now and then 50-500 ms late, and the guest running meanwhile
# gets all that time (its CPU time is TSC time).  The scheduler makes it
# repay that time within about a second, so shares over a long run are
# exact; only a window edge that splits an overrun from its repayment is
# off (for the weight-256 guest, ~2.9 s in 20 s, by up to ~17% of its
# share per edge in the worst case).  One window has two edges; summing
# several short windows (as this scenario once did) has two per window.
. "$(dirname "$0")/../lib.sh"

BOOTS=1

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

for boot in $(seq 1 $BOOTS); do
    kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
        "build/guests/schedobs.elf name=observer cpus=0 priv" \
        "build/guests/spin.elf name=w256 weight=256 cpus=1" \
        "build/guests/spin.elf name=w512 weight=512 cpus=1" \
        "build/guests/spin.elf name=w1024 weight=1024 cpus=1"
    guest_tap all "sched (boot $boot)"
    expect_exit 1 "hypervisor exits cleanly at the end of boot $boot"
done

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
