#!/usr/bin/env bash
# vmx-boot.sh - Kiln boots on Bochs' Intel CPU (corei7_skylake_x), picks
# the VT-x backend from CPUID, runs the hello guest under VMX (EPT, VPID,
# unrestricted guest: it starts in protected mode with paging off and
# enables long mode itself) and exits cleanly.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 90 "exit_when_idle" \
    "build/guests/hello.elf name=hello mem=4M"

expect_log '\(kiln\) CPU: GenuineIntel .* svm=0' "the CPU is Intel's, without SVM"
expect_log '\(kiln\) vmx: VT-x with EPT.*VPID, unrestricted guest' "VT-x backend chosen from CPUID"
guest_tap all "hello"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "hello powered off cleanly"
expect_no_log 'PANIC|VM entry failed' "no panic, no failed VM entry"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
