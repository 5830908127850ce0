#!/usr/bin/env bash
# vmx-exits.sh - the exits guest under VT-x: CPUID, RDMSR/WRMSR, port and
# string I/O, VMMCALL (AMD's hypercall, #UD on Intel, emulated), EPT
# violations mapping memory on demand, HLT, a timed block and host
# interrupts during a spin (the guest proves each with its result and its
# exit counter); and a second guest whose triple fault destroys only it.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 120 "exit_when_idle" \
    "build/guests/exits.elf name=exits mem=4M" \
    "build/guests/triple.elf name=triple mem=4M"

guest_tap all "exits"
expect_log '\(d1\) port console works' "console output through port 0xe9"
expect_log '\(d1\) rep outsb works' "REP OUTSB to the console port"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "shutdown exit: clean poweroff"
expect_log '\(kiln\) .*d2 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes cc' "triple fault exit: domain destroyed, reason and rip logged"
expect_no_log 'PANIC|VM entry failed' "no panic, no failed VM entry"
expect_kiln_exit 0 "hypervisor exits cleanly when both are gone"
