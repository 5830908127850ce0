#!/usr/bin/env bash
# sched-smp4.sh - with -smp 4, four unpinned CPU-bound guests end up on
# four CPUs: each gets more than 90% of a CPU over 4 s (after a 1 s warm-up).
. "$(dirname "$0")/../lib.sh"

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

kiln_boot -smp 4 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer priv" \
    "build/guests/spin.elf name=par0" \
    "build/guests/spin.elf name=par1" \
    "build/guests/spin.elf name=par2" \
    "build/guests/spin.elf name=par3"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
guest_tap all "sched"
expect_exit 1 "hypervisor exits cleanly at the end"
