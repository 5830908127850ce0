#!/usr/bin/env bash
# guest-smpboot.sh - a PC domain with 4 vCPUs (guests/tests/smpboot.c): its APs
# wait until the guest sends INIT-SIPI-SIPI and start in real mode at the
# SIPI's page; repeated SIPIs are ignored, INIT-SIPI restarts one AP.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 4 -timeout 60 "exit_when_idle" \
    "build/guests/smpboot.elf name=smpboot mem=4M vcpus=4 pc"

guest_tap all "smpboot"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "smpboot guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
