#!/usr/bin/env bash
# domain-control.sh - a privileged guest uses the control calls as dom0
# will: getinfo, sched get/set, vcpu_pin, a CPUID override, console and log
# reads, physinfo, pause/unpause of a running child, and a child started
# directly in long mode.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" "build/guests/ctl.elf name=ctl mem=4M priv"

guest_tap all "ctl"
expect_log '\(kiln\) d2 destroyed: destroyed by d1 \(domctl\)' "child destroyed by its creator"
expect_log '\(d3\) long-mode child: started in 64-bit mode' "long-mode child printed (its MOVABS decoded as 64-bit)"
expect_log '\(kiln\) d3 destroyed: shutdown \(poweroff\)' "long-mode child powered off"
expect_exit 1 "hypervisor exits cleanly at the end"
