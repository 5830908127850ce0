#!/usr/bin/env bash
# domain-churn.sh - two privileged guests on CPUs 0 and 1 create and
# destroy small domains as fast as they can for 10 s (children of every
# kind: spinning, halted, yielding, paused, never started, powering off,
# triple-faulting; two vCPUs for some), while the children run wherever
# the scheduler puts them on 4 CPUs and a bystander on CPU 3 checks after
# every exit that its VMLOAD/VMSAVE state (segment bases, SYSCALL and
# SYSENTER MSRs) and R12-R15 came back intact.  The hypervisor panics if
# a vCPU is picked on one CPU while another still runs it, or freed while
# a CPU still runs it; DESTROY must return only once the domain is gone.
. "$(dirname "$0")/../lib.sh"

echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"
kiln_boot -smp 4 -timeout 30 "exit_when_idle" \
    "build/guests/churn.elf name=churn-a cpus=0 priv" \
    "build/guests/churn.elf name=churn-b cpus=1 priv" \
    "build/guests/canary.elf name=canary cpus=3"
echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"

guest_tap all "churn"
expect_log '\(kiln\) d3 destroyed: shutdown \(poweroff\)' "the bystander ran to its end"
expect_no_log 'still not freed|picked on CPU|freed while CPU|BUG_ON|PANIC|panic' \
    "no vCPU run twice or freed in use, every destroy completed"
expect_exit 1 "hypervisor exits cleanly at the end"
