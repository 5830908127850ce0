#!/usr/bin/env bash
# vmx-vectoring.sh - under VT-x on Bochs, events whose delivery a nested page fault on the
# guest's stack interrupts (guests/tests/vectoring.c): INT n, #UD and an
# external interrupt are each delivered again, exactly once
# (from the IDT-vectoring information, INT n with its instruction length).
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 90 "exit_when_idle" "build/guests/vectoring.elf name=vectoring mem=8M pc"

guest_tap all "vectoring"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "vectoring guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
