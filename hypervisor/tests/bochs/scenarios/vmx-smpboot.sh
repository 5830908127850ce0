#!/usr/bin/env bash
# vmx-smpboot.sh - under VT-x on Bochs: a PC domain with 4 vCPUs (guests/tests/smpboot.c): its APs
# wait until the guest sends INIT-SIPI-SIPI and start in real mode at the
# SIPI's page; repeated SIPIs are ignored, INIT-SIPI restarts one AP.
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -smp 2 -timeout 150 "exit_when_idle" \
    "build/guests/smpboot.elf name=smpboot mem=4M vcpus=4 pc"

guest_tap all "smpboot"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "smpboot guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
