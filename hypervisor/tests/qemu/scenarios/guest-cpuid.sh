#!/usr/bin/env bash
# guest-cpuid.sh - the CPUID policy a guest sees (hypervisor bit, Kiln
# signature and version leaves, SVM/VMX hidden), reported by the guest.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 1 -timeout 60 "exit_when_idle" "build/guests/cpuid.elf name=cpuid mem=4M"

guest_tap all "cpuid"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "cpuid guest powered off cleanly"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
