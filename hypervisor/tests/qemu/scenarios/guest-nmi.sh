#!/usr/bin/env bash
# guest-nmi.sh - NMIs a PC domain sends itself (guests/tests/nmi.c): one
# arrives at once with IF clear, one sent from the NMI handler waits for
# its IRET; the backend's NMI blocking (SVM: the IRET intercept).
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 1 -timeout 60 "exit_when_idle" "build/guests/nmi.elf name=nmi mem=4M pc"

guest_tap all "nmi"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "nmi guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
