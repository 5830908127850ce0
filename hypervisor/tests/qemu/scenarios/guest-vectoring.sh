#!/usr/bin/env bash
# guest-vectoring.sh - events whose delivery a nested page fault on the
# guest's stack interrupts (guests/tests/vectoring.c): INT n, #UD and an
# external interrupt are each delivered again, exactly once.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 1 -timeout 60 "exit_when_idle" "build/guests/vectoring.elf name=vectoring mem=8M pc"

guest_tap all "vectoring"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "vectoring guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
