#!/usr/bin/env bash
# mmio-emulate.sh - emulated device memory end to end: a guest with the
# scratch MMIO registers (`mmiotest`) runs every emulated instruction form
# on RAM and on MMIO and reports that they agree, that each access exits,
# that a long REP comes back in slices and that a fault in the other
# operand reaches it as #PF (its own TAP).  A LOCK CMPXCHG on MMIO (not
# emulated) destroys that guest alone with the bytes logged, and the same
# guest without `mmiotest` finds nothing there: destroyed as for any
# address outside its RAM.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 90 "exit_when_idle" \
    "build/guests/mmio.elf name=mmio mem=4M mmiotest" \
    "build/guests/mmiobad.elf name=mmiobad mem=4M mmiotest" \
    "build/guests/mmiobad.elf name=nommio mem=4M"

guest_tap 1 "mmio"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "MMIO guest powered off cleanly"
expect_log '\(kiln\) .*d2 destroyed: cannot emulate \[f0 0f b1 [0-9a-f ]+\] at rip=0x[0-9a-f]+ touching GPA 0xfe000000' \
    "unsupported instruction on MMIO: domain destroyed, bytes logged"
expect_log '\(kiln\) .*d3 destroyed: access to GPA 0xfe000000 outside its RAM' \
    "scratch registers absent without mmiotest: domain destroyed"
expect_no_log '\(d[23]\) mmiobad: still alive' "no misbehaving guest went on"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly when all are gone"
