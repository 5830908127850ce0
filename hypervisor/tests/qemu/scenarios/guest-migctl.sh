#!/usr/bin/env bash
# guest-migctl.sh - the hypervisor side of save/restore and migration,
# driven by a privileged guest the way dom0's toolstack will drive it:
# GET/SET_VCPU_STATE and LOG_DIRTY (enable, read-and-clear, disable) on a
# counting child, with the exact dirty pages, a 2 MiB mapping split, a page
# first touched while logging, and malformed vCPU states refused.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 60 "exit_when_idle" "build/guests/migctl.elf name=migctl mem=4M priv"

guest_tap all "migctl"
expect_log '\(kiln\) WARN: d2 v0: vCPU state refused: cr0 NW without CD' "a refused state is logged with its reason"
expect_log '\(kiln\) d2 destroyed: destroyed by d1 \(domctl\)' "child destroyed by its creator"
expect_no_log 'PANIC' "the hypervisor never panicked"
expect_exit 1 "hypervisor exits cleanly at the end"
