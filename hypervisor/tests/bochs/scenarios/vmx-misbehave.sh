#!/usr/bin/env bash
# vmx-misbehave.sh - under VT-x on Bochs, misbehaving guests are destroyed
# alone, each with a log line naming why: a triple fault, ud2 with no IDT
# (#UD is intercepted for VMMCALL and must reach the guest otherwise),
# garbage hypercalls (refused with error codes, reported by the guest
# itself, unprivileged and privileged), a read beyond its RAM and a write
# to the hypervisor's LAPIC.  The QEMU scenario's well-behaved witness
# (steady, 2 s of guest time) is left out: Bochs needs minutes for it.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 120 "exit_when_idle" \
    "build/guests/triple.elf name=triple" \
    "build/guests/ud2.elf name=ud2" \
    "build/guests/hostile.elf name=hostile" \
    "build/guests/hostile.elf name=hostilepriv priv" \
    "build/guests/badram.elf name=badram mem=4M" \
    "build/guests/badmmio.elf name=badmmio"

# d3/d4 are the hostile ones; the others print no TAP.
guest_tap all "guest"
expect_log '\(kiln\) .*d1 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes cc .*IDT limit 0\)' "triple-faulting guest destroyed, reason logged"
expect_log '\(kiln\) .*d2 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes 0f 0b .*IDT limit 0\)' "ud2 guest destroyed, the faulting ud2 logged"
expect_log '\(kiln\) .*d5 destroyed: access to GPA 0x410000 outside its RAM \(4096 KiB\)' "guest reading beyond its RAM destroyed, GPA logged"
expect_log '\(kiln\) .*d6 destroyed: access to GPA 0xfee000b0 outside its RAM' "guest writing the hypervisor's LAPIC destroyed, GPA logged"
expect_log '\(kiln\) d3 destroyed: shutdown \(poweroff\)' "hostile unprivileged guest survived its garbage and powered off"
expect_log '\(kiln\) d4 destroyed: shutdown \(poweroff\)' "hostile privileged guest survived its garbage and powered off"
expect_no_log 'PANIC|panic|Exception|VM entry failed' "hypervisor never faulted, no failed VM entry"
expect_kiln_exit 0 "hypervisor exits cleanly at the end"
