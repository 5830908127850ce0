#!/usr/bin/env bash
# domain-destroy-pages.sh - a privileged boot domain creates, loads (with
# write_mem), runs and destroys 100 domains and checks through sysctl
# physinfo that the free-page count returns to its starting value.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 120 "exit_when_idle" "build/guests/memtest.elf name=memtest mem=4M priv"

guest_tap all "memtest"
expect_count '\(d[0-9]+\) payload: hello from a domain built with write_mem' 50 "50 children ran to their own poweroff"
expect_count '\(kiln\) d[0-9]+ destroyed: destroyed by d1 \(domctl\)' 50 "50 spinning children destroyed by their creator"
expect_exit 1 "hypervisor exits cleanly at the end"
