#!/usr/bin/env bash
# sched-weights.sh - three CPU-bound guests pinned to CPU 1 with weights
# 256/512/1024 get CPU time within 10% of 1:2:4 over 4 s, measured by a
# privileged observer on CPU 0 through DOMCTL_GETINFO.
. "$(dirname "$0")/../lib.sh"

# Shares are wall-clock guest-mode time: an overloaded host (QEMU vCPU
# threads preempted inside exits) lowers them, so record the load.
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=w256 weight=256 cpus=1" \
    "build/guests/spin.elf name=w512 weight=512 cpus=1" \
    "build/guests/spin.elf name=w1024 weight=1024 cpus=1"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
guest_tap all "sched"
expect_exit 1 "hypervisor exits cleanly at the end"
