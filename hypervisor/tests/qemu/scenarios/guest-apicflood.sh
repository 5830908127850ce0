#!/usr/bin/env bash
# guest-apicflood.sh - a hostile PC domain (guests/tests/apicflood.c: a 1 ns
# periodic LAPIC timer and an IPI flood for 3 s) shares CPU 1 with a
# well-behaved neighbour (pacer.c) of the same weight: the timer is clamped,
# the neighbour keeps a fair part of the CPU, the hypervisor stays up.
. "$(dirname "$0")/../lib.sh"

echo "# host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"
kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/apicflood.elf name=flood mem=4M pc cpus=1" \
    "build/guests/pacer.elf name=pacer mem=4M cpus=1"

guest_tap all "apicflood"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "the flooding domain ends normally"
expect_log '\(kiln\) d2 destroyed: shutdown \(poweroff\)' "its neighbour ends normally"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly"
