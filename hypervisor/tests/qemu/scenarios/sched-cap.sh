#!/usr/bin/env bash
# sched-cap.sh - a CPU-bound guest capped at 25% gets 25% +/- 5% of its
# CPU; then, in a second boot, an uncapped CPU-bound guest alone on its
# CPU gets more than 95%.  A privileged observer on CPU 0 measures each
# over 4 s.  Two boots with -smp 2 rather than one with -smp 3: fewer
# QEMU vCPU threads on this 2-core machine, less noise in the shares.
. "$(dirname "$0")/../lib.sh"

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=cap25 cap=25 cpus=1"
guest_tap all "sched (cap)"
expect_exit 1 "hypervisor exits cleanly after the cap test"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=alone cpus=1"
guest_tap all "sched (alone)"
expect_exit 1 "hypervisor exits cleanly after the alone test"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
