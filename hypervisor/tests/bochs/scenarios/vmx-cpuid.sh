#!/usr/bin/env bash
# vmx-cpuid.sh - the CPUID policy a guest sees on an Intel host (the
# hypervisor bit, Kiln's leaves, VMX hidden), reported by the guest.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 90 "exit_when_idle" \
    "build/guests/cpuid.elf name=cpuid mem=4M"

guest_tap all "cpuid"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "cpuid guest powered off cleanly"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
