#!/usr/bin/env bash
# guest-misbehave.sh - misbehaving guests are destroyed alone, each with a
# log line naming why, while a well-behaved guest keeps running and
# finishes its TAP: a triple fault, ud2 with no IDT, garbage hypercalls
# (refused with error codes, reported by the guest itself, unprivileged and
# privileged), a read beyond its RAM and a write to the hypervisor's LAPIC.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 90 "exit_when_idle" \
    "build/guests/steady.elf name=steady mem=4M" \
    "build/guests/triple.elf name=triple" \
    "build/guests/ud2.elf name=ud2" \
    "build/guests/hostile.elf name=hostile" \
    "build/guests/hostile.elf name=hostilepriv priv" \
    "build/guests/badram.elf name=badram mem=4M" \
    "build/guests/badmmio.elf name=badmmio"

# d1 is well-behaved, d4/d5 the hostile ones; the others print no TAP.
guest_tap all "guest"
expect_log '\(kiln\) .*d2 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes cc .*IDT limit 0\)' "triple-faulting guest destroyed, reason logged"
expect_log '\(kiln\) .*d3 destroyed: triple fault at rip=0x[0-9a-f]+ \(bytes 0f 0b .*IDT limit 0\)' "ud2 guest destroyed, the faulting ud2 logged"
expect_log '\(kiln\) .*d6 destroyed: access to GPA 0x410000 outside its RAM \(4096 KiB\)' "guest reading beyond its RAM destroyed, GPA logged"
expect_log '\(kiln\) .*d7 destroyed: access to GPA 0xfee000b0 outside its RAM' "guest writing the hypervisor's LAPIC destroyed, GPA logged"
expect_log '\(kiln\) d4 destroyed: shutdown \(poweroff\)' "hostile unprivileged guest survived its garbage and powered off"
expect_log '\(kiln\) d5 destroyed: shutdown \(poweroff\)' "hostile privileged guest survived its garbage and powered off"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "well-behaved guest finished after all the others"
last=$(kiln_log | grep -E '\(kiln\) .*d[0-9]+ destroyed' | tail -1)
case $last in
*"d1 destroyed"*) tap_ok "the well-behaved guest outlived every misbehaving one" ;;
*) tap_fail "the well-behaved guest outlived every misbehaving one" "last: $last" ;;
esac
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly at the end"
