#!/usr/bin/env bash
# guest-apic.sh - a PC domain's local APIC in x2APIC mode (guests/tests/apic.c):
# CPUID, one-shot, periodic and TSC-deadline timer interrupts with the vCPU
# halted in between, self IPIs, ISR/EOI, TPR and CR8; then a clean poweroff.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" "build/guests/apic.elf name=apic mem=4M pc"

guest_tap all "apic"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "apic guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
