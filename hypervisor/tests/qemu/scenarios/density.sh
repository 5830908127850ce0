#!/usr/bin/env bash
# density.sh - a hundred tiny guests alive at once: a privileged guest
# creates 100 domains of 2 MiB (one spinning vCPU each) on a 1 GiB
# machine, checks every one runs and keeps running while all are alive,
# destroys them and checks the free-page count is back at its start
# (guests/tests/density.c, figures in its test names).  The hypervisor
# logs its own memory for each domain at creation.
. "$(dirname "$0")/../lib.sh"

# The creator's weight keeps it ahead of the hundred spinners it starts
# (at weight 256 it would get 1/101 of the CPUs while it unpauses them).
kiln_boot -smp 2 -mem 1G -timeout 150 "exit_when_idle" \
    "build/guests/density.elf name=density mem=4M priv weight=65535"

guest_tap all "density"
expect_count '\(kiln\) d[0-9]+: [0-9]+ KiB of hypervisor memory, [0-9]+ pages free' 101 \
    "the hypervisor's memory logged for each of the 101 domains"
expect_count '\(kiln\) d[0-9]+ freed, [0-9]+ pages free' 101 "all 101 domains freed"
kiln_log | grep -E '\(kiln\) d(2|101): [0-9]+ KiB of hypervisor memory' | sed 's/^/# /'
expect_exit 1 "hypervisor exits cleanly at the end"
