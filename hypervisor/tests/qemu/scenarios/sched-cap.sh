#!/usr/bin/env bash
# sched-cap.sh - a CPU-bound guest capped at 25% gets 25% +/- 5% of its
# CPU, and an uncapped CPU-bound guest alone on its CPU gets more than 95%;
# a privileged observer on CPU 0 measures both over 3 s.
. "$(dirname "$0")/../lib.sh"

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

kiln_boot -smp 3 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=cap25 cap=25 cpus=1" \
    "build/guests/spin.elf name=alone cpus=2"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
guest_tap all "sched"
expect_exit 1 "hypervisor exits cleanly at the end"
