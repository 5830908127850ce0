#!/usr/bin/env bash
# vmx-nmi.sh - under VT-x on Bochs, NMIs a PC domain sends itself (guests/tests/nmi.c): one
# arrives at once with IF clear, one sent from the NMI handler waits for
# its IRET; the backend's NMI blocking (VT-x: virtual-NMI blocking and the NMI-window exit).
. "$(dirname "$0")/../lib.sh"

bochs_boot -cpu corei7_skylake_x -timeout 90 "exit_when_idle" "build/guests/nmi.elf name=nmi mem=4M pc"

guest_tap all "nmi"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "nmi guest powered off cleanly"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_kiln_exit 0 "hypervisor exits cleanly when the guest is gone"
