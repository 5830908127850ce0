#!/usr/bin/env bash
# guest-exits.sh - every exit type: CPUID, RDMSR/WRMSR, port I/O, VMMCALL,
# string port I/O, nested page faults, HLT, timed sched_block and physical interrupts (the
# guest proves each with its result and its exit counter), then a clean
# shutdown; and a second guest whose triple fault destroys only itself.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/exits.elf name=exits mem=4M" \
    "build/guests/triple.elf name=triple mem=4M"

guest_tap all "exits"
expect_log '\(d1\) port console works' "console output through port 0xe9"
expect_log '\(d1\) com1 stub works' "console output through the COM1 stub"
expect_log '\(d1\) rep outsb works' "REP OUTSB to the console port"
expect_log '\(d1\) outsb backwards' "REP OUTSB with DF set"
expect_log '\(d1\) fs outsb works' "REP OUTSB through an FS segment prefix"
expect_log '\(d1\) addr32 outsb works' "REP OUTSB with a 32-bit address size"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "shutdown exit: clean poweroff"
expect_log '\(kiln\) .*d2 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes cc' "triple fault exit: domain destroyed, reason and rip logged"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when both are gone"
