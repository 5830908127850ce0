#!/usr/bin/env bash
# vmx-platform.sh - under VT-x on Bochs, a PC domain's devices from the inside (guests/tests/platform.c):
# the xAPIC page, the PIT's interrupts through the IOAPIC and through the 8259
# and LINT0, COM1 as its console, RTC and PM timer, and its end through the
# isa-debug-exit port with the exact log line the conformance harness reads.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 150 "exit_when_idle" "build/guests/platform.elf name=platform mem=4M pc"

guest_tap all "platform"
expect_log '\(d1\) uart says hello$' "COM1's output is the domain's console, one line"
expect_log '\(kiln\) d1 destroyed: exit code 0$' "isa-debug-exit ends the domain with its exit code"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
